//! Running the pipeline for a request: on a blocking thread, at most a few at once (the rest wait
//! in a short queue or are refused), each with a time limit and a cancel flag that a newer request
//! or a closed connection sets. The pipeline has no cancellation of its own: its progress callback,
//! called all through the layout search, the Monte Carlo and the mitigation solve, checks the flag
//! and the deadline and unwinds out of the computation, whose values are then dropped.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many computations run at once and how many may wait for one to finish.
pub struct Limits {
    sem: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_queued: usize,
    queue_wait: Duration,
}

/// The server is at its bound of computations (answered 503).
#[derive(Debug)]
pub struct Busy;

impl Limits {
    pub fn new(max_running: usize, max_queued: usize, queue_wait: Duration) -> Limits {
        Limits {
            sem: Arc::new(Semaphore::new(max_running.max(1))),
            waiting: AtomicUsize::new(0),
            max_queued,
            queue_wait,
        }
    }

    /// A slot to compute in: at once when one is free, else after waiting in the queue (at most
    /// `max_queued` wait, each at most `queue_wait`); `Busy` beyond that.
    pub async fn admit(&self) -> Result<OwnedSemaphorePermit, Busy> {
        if let Ok(p) = self.sem.clone().try_acquire_owned() {
            return Ok(p);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        let r = tokio::time::timeout(self.queue_wait, self.sem.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match r {
            Ok(Ok(p)) => Ok(p),
            _ => Err(Busy),
        }
    }
}

/// Set to stop a computation at its next progress event.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<(AtomicBool, tokio::sync::Notify)>);

impl Cancel {
    pub fn cancel(&self) {
        self.0 .0.store(true, Ordering::SeqCst);
        self.0 .1.notify_waiters();
    }
    pub fn is_cancelled(&self) -> bool {
        self.0 .0.load(Ordering::SeqCst)
    }
    /// Resolves once cancelled.
    pub async fn cancelled(&self) {
        loop {
            let n = self.0 .1.notified();
            if self.is_cancelled() {
                return;
            }
            n.await;
        }
    }
}

/// Cancels when dropped: a handler whose client went away drops its future, and with it this.
pub struct CancelOnDrop(pub Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// The unwinding payload of a stopped computation (not a panic: no hook runs for it).
struct Stop;

/// Why a computation gave no answer.
#[derive(Debug, PartialEq)]
pub enum Failure {
    Cancelled,
    TimedOut(Duration),
    /// A model panicked (a bug, logged on the server).
    Panicked(String),
}

/// The pipeline of `scenario`, its progress callback stopping it once `cancel` is set or
/// `deadline` has passed.
pub fn pipeline(
    scenario: spec::Scenario,
    options: pipeline::Options,
    cancel: &Cancel,
    deadline: Instant,
) -> pipeline::Pipeline {
    let c = cancel.clone();
    pipeline::Pipeline::with_options(scenario, options).with_progress(move |_| {
        if c.is_cancelled() || Instant::now() >= deadline {
            std::panic::resume_unwind(Box::new(Stop));
        }
    })
}

/// Run `f`, catching any unwinding out of it: a stop is `Cancelled` or `TimedOut`, anything
/// else a panic, logged.
pub fn catch<T>(
    cancel: &Cancel,
    deadline: Instant,
    limit: Duration,
    f: impl FnOnce() -> T,
) -> Result<T, Failure> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        if cancel.is_cancelled() {
            Failure::Cancelled
        } else if Instant::now() >= deadline {
            Failure::TimedOut(limit)
        } else if payload.is::<Stop>() {
            Failure::Cancelled
        } else {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            eprintln!("megacluster serve: a model panicked on a posted scenario: {msg}");
            Failure::Panicked(msg)
        }
    })
}

/// Run `f` on a blocking thread holding `permit` ([`catch`]). The permit is released when `f`
/// returns, not before, so a stopped computation still counts until it has stopped.
pub async fn run<T: Send + 'static>(
    permit: OwnedSemaphorePermit,
    cancel: Cancel,
    deadline: Instant,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Failure> {
    let task = tokio::task::spawn_blocking(move || {
        let r = catch(&cancel, deadline, limit, f);
        drop(permit);
        r
    });
    match task.await {
        Ok(r) => r,
        Err(e) => Err(Failure::Panicked(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_and_a_stop_is_a_cancel() {
        let far = Instant::now() + Duration::from_secs(60);
        let c = Cancel::default();
        let r = catch(&c, far, Duration::from_secs(60), || -> u8 {
            panic!("boom")
        });
        assert_eq!(r, Err(Failure::Panicked("boom".into())));
        let r = catch(&c, far, Duration::from_secs(60), || -> u8 {
            std::panic::resume_unwind(Box::new(Stop))
        });
        assert_eq!(r, Err(Failure::Cancelled));
        let past = Instant::now();
        let r = catch(&c, past, Duration::from_secs(1), || -> u8 {
            std::panic::resume_unwind(Box::new(Stop))
        });
        assert_eq!(r, Err(Failure::TimedOut(Duration::from_secs(1))));
        assert_eq!(catch(&c, far, Duration::from_secs(1), || 7u8), Ok(7));
    }
}
