//! The target's resident memory while the load runs, read from `/proc/<pid>/status` (Linux, the
//! target on this machine): the goal is RSS ≤ 200 MB with 10,000 conversations active, so the
//! report prints the RSS before the load, its peak, after the drain, and its growth per
//! conversation.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the RSS is read during the load.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// The target's RSS over a run, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub before: u64,
    pub peak: u64,
    pub after: u64,
}

/// `VmRSS` of `pid`, in bytes.
pub fn rss_bytes(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    parse_vm_rss(&status).ok_or_else(|| format!("{path} has no VmRSS line"))
}

/// The `VmRSS:   123456 kB` line of a `/proc/<pid>/status`, in bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Samples the target's RSS in the background until [`MemoryWatch::finish`].
pub struct MemoryWatch {
    pid: u32,
    before: u64,
    stop: watch::Sender<bool>,
    task: JoinHandle<u64>,
}

impl MemoryWatch {
    /// Starts sampling `pid`; fails when its RSS cannot be read at all.
    pub fn start(pid: u32) -> Result<Self, String> {
        let before = rss_bytes(pid)?;
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut peak = before;
            loop {
                if let Ok(now) = rss_bytes(pid) {
                    peak = peak.max(now);
                }
                tokio::select! {
                    _ = tokio::time::sleep(SAMPLE_EVERY) => {}
                    _ = stopped.changed() => return peak,
                }
            }
        });
        Ok(Self {
            pid,
            before,
            stop,
            task,
        })
    }

    /// The RSS before, at its peak and now.
    pub async fn finish(self) -> Result<Memory, String> {
        let after = rss_bytes(self.pid)?;
        self.stop.send_replace(true);
        let peak = self.task.await.map_err(|e| e.to_string())?;
        Ok(Memory {
            before: self.before,
            peak: peak.max(after),
            after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rss_line_is_read_in_bytes() {
        let status = "Name:\tconserje\nVmPeak:\t  900000 kB\nVmRSS:\t  156000 kB\nThreads:\t9\n";
        assert_eq!(parse_vm_rss(status), Some(156_000 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_has_an_rss() {
        let rss = rss_bytes(std::process::id()).unwrap();
        assert!(rss > 1024 * 1024, "{rss}");
    }
}
