//! `conserje serve` as real processes: started from the binary the workspace built, stopped
//! with `kill -9` when a test wants a crash, restarted on the same data directory.
//!
//! A test that kills a process cannot run the service in its own process (a tokio task cannot
//! be killed mid-commit the way a process can), so these tests use the binary: `target/debug/
//! conserje`, beside the test executable's `deps/` directory. `scripts/test.sh` builds it before
//! the tests run; a missing binary fails the test with that advice.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// The `conserje` binary of this build (`<target>/debug/conserje`).
pub fn conserje_binary() -> PathBuf {
    let test_exe = std::env::current_exe().expect("the test executable's path");
    // <target>/debug/deps/<test>-<hash> -> <target>/debug/conserje
    let binary = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from <target>/<profile>/deps")
        .join("conserje");
    assert!(
        binary.exists(),
        "{} is missing: build it first (`cargo build --workspace --bins`; scripts/test.sh does)",
        binary.display()
    );
    binary
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// One `conserje serve` process and how to start it again.
pub struct ServeProcess {
    pub name: String,
    pub port: u16,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl ServeProcess {
    /// Starts `conserje serve --listen 127.0.0.1:<free port> <args>` with `env` on top of a
    /// clean environment (the test's own `CONSERJE_*` variables are not inherited), its output
    /// appended to `<log_dir>/<name>.log`; returns once `/health/ready` answers 200.
    pub async fn start(name: &str, args: &[&str], env: &[(&str, &str)], log_dir: &Path) -> Self {
        let mut process = Self {
            name: name.to_owned(),
            port: free_port(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            log: log_dir.join(format!("{name}.log")),
            child: None,
        };
        process.restart().await;
        process
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Starts the process again (same port, arguments and data directory) and waits for it.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "{} is still running", self.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("the process log opens");
        let mut command = Command::new(conserje_binary());
        command
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .args(&self.args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log handle"))
            .stderr(log)
            .kill_on_drop(true);
        self.child = Some(command.spawn().expect("conserje serve starts"));
        self.wait_until_ready().await;
    }

    async fn wait_until_ready(&mut self) {
        let client = reqwest::Client::new();
        let url = self.url("/health/ready");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten())
            {
                panic!(
                    "{} exited at start ({status}):\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if matches!(client.get(&url).send().await, Ok(r) if r.status() == 200) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} was not ready within 90 s:\n{}",
                self.name,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, as a supervisor stops a service: `serve` shuts down gracefully (connections
    /// drained, consumers stopped, buffered spans exported). Returns the exit status; fails the
    /// test when the process has not exited within 30 s.
    pub async fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("a running process");
        let pid = child.id().expect("a running process has a pid");
        // procps' kill(1): the test crate has no signal API of its own.
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(sent.success(), "SIGTERM was not delivered to {}", self.name);
        match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
            Ok(status) => status.expect("the exit status"),
            Err(_) => panic!(
                "{} did not stop within 30 s of SIGTERM:\n{}",
                self.name,
                self.log_tail()
            ),
        }
    }

    /// `kill -9`: no shutdown hook, no flush, no goodbye to the broker or the database.
    pub async fn kill_9(&mut self) {
        let mut child = self.child.take().expect("a running process");
        child.kill().await.expect("SIGKILL is delivered");
    }

    /// The last lines the process wrote, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}
