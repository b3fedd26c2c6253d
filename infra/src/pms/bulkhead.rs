//! The bulkhead of one PMS: at most 5 calls at once, at most 50 waiting, and any call beyond
//! that fails at once (design.md §4).
//!
//! Without it a PMS that slows down takes every task of the process with it: each guest's turn
//! waits on a PMS call, the calls pile up, and guests whose messages need no PMS at all wait
//! behind them. With it, the overflow is answered at once (from the cache, or with the hotel's
//! contact) and the rest of the service keeps its pace.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

/// The bulkhead's sizes; the defaults are design.md §4's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkheadSettings {
    pub concurrent: usize,
    pub queue: usize,
}

impl Default for BulkheadSettings {
    fn default() -> Self {
        Self {
            concurrent: 5,
            queue: 50,
        }
    }
}

pub struct Bulkhead {
    permits: Semaphore,
    waiting: AtomicUsize,
    queue: usize,
}

/// The bulkhead is full: the call was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

impl Bulkhead {
    pub fn new(settings: BulkheadSettings) -> Self {
        Self {
            permits: Semaphore::new(settings.concurrent.max(1)),
            waiting: AtomicUsize::new(0),
            queue: settings.queue,
        }
    }

    /// A slot for one call, waiting in the queue when every slot is taken; `Full` at once when
    /// the queue is full too.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, Full> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        // Take a place in the queue only if one is free: the count never passes `queue`.
        let mut waiting = self.waiting.load(Ordering::Acquire);
        loop {
            if waiting >= self.queue {
                return Err(Full);
            }
            match self.waiting.compare_exchange_weak(
                waiting,
                waiting + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => waiting = now,
            }
        }
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        permit.map_err(|_| Full)
    }

    /// Calls in flight now.
    pub fn in_flight(&self, settings: &BulkheadSettings) -> usize {
        settings.concurrent.max(1) - self.permits.available_permits()
    }

    /// Calls waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn five_run_fifty_wait_and_the_next_fails_at_once() {
        let settings = BulkheadSettings::default();
        let bulkhead = Arc::new(Bulkhead::new(settings));
        let release = Arc::new(tokio::sync::Notify::new());
        let mut tasks = vec![];
        for _ in 0..55 {
            let (bulkhead, release) = (bulkhead.clone(), release.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = bulkhead.enter().await.expect("a place");
                release.notified().await;
            }));
        }
        // Let them all reach their place.
        for _ in 0..100 {
            if bulkhead.waiting() == 50 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(bulkhead.in_flight(&settings), 5);
        assert_eq!(bulkhead.waiting(), 50);
        assert_eq!(bulkhead.enter().await.err(), Some(Full));
        // As slots free up, the queue drains.
        for _ in 0..200 {
            release.notify_waiters();
            if tasks.iter().all(|t| t.is_finished()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(tasks.iter().all(|t| t.is_finished()));
        assert!(bulkhead.enter().await.is_ok());
    }
}
