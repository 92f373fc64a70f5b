//! One background job system for the whole app: named jobs on their own threads, with
//! progress, a message, and cancellation. The GUI polls them each frame (never blocks on
//! them); the CLI runs the same work on its own thread and draws a progress bar.
//!
//! Jobs are resumable because the work they do is: an import skips what it already
//! recorded, the thumbnail job skips what is cached.

use poll_promise::Promise;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

type Waker = Box<dyn Fn() + Send + Sync>;

/// Shared between a job and whoever watches it.
#[derive(Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    total_final: AtomicBool,
    cancelled: AtomicBool,
    message: Mutex<String>,
    waker: Mutex<Option<Waker>>,
    last_wake: Mutex<Option<Instant>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProgressSnapshot {
    pub done: u64,
    pub total: u64,
    /// False while the total can still grow (a scan is running).
    pub total_final: bool,
    pub cancelled: bool,
    pub message: String,
}

impl ProgressSnapshot {
    pub fn fraction(&self) -> Option<f32> {
        (self.total_final && self.total > 0).then(|| (self.done as f32 / self.total as f32).min(1.0))
    }
}

impl Progress {
    pub fn new() -> Arc<Progress> {
        Arc::new(Progress::default())
    }

    /// Called (from the job's thread) whenever something changed; the GUI asks for a repaint.
    pub fn set_waker(&self, waker: impl Fn() + Send + Sync + 'static) {
        *self.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(waker));
    }

    /// Wakes the watcher at most every 30 ms (a scan adds thousands of files a second).
    fn wake(&self) {
        {
            let mut last = self.last_wake.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| t.elapsed() < std::time::Duration::from_millis(30)) {
                return;
            }
            *last = Some(Instant::now());
        }
        self.wake_now();
    }

    fn wake_now(&self) {
        if let Some(w) = self.waker.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            w();
        }
    }

    pub fn add_total(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
        self.wake();
    }

    pub fn set_total(&self, n: u64, is_final: bool) {
        self.total.store(n, Ordering::Relaxed);
        self.total_final.store(is_final, Ordering::Relaxed);
        self.wake();
    }

    pub fn finish_total(&self) {
        self.total_final.store(true, Ordering::Relaxed);
        self.wake();
    }

    pub fn add_done(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
        self.wake();
    }

    pub fn set_message(&self, msg: impl Into<String>) {
        *self.message.lock().unwrap_or_else(|e| e.into_inner()) = msg.into();
        self.wake();
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        self.wake();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
            total_final: self.total_final.load(Ordering::Relaxed),
            cancelled: self.is_cancelled(),
            message: self.message.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }
}

/// What a finished job hands back. Later capabilities add their variants.
#[derive(Debug)]
pub enum JobOutput {
    Import(crate::archive::ImportReport),
    Thumbnails(crate::thumbs::ThumbReport),
    /// A chart import (one file or an SS-MIX2 folder).
    Charts(crate::charts::ImportReport),
    /// A link run (`dermdesk link`).
    Link(crate::charts::link::LinkReport),
    Screen(crate::privacy::job::ScreenReport),
    /// One inference run per registered model (`dermdesk infer`).
    Infer(Vec<crate::models::job::InferReport>),
    /// The modality model over photos that have no guess from it yet (`modality redetect`).
    Modality(crate::modality::redetect::RedetectReport),
}

/// A named background job.
pub struct Job<T: Send + 'static> {
    pub id: u64,
    pub name: String,
    pub started: Instant,
    pub progress: Arc<Progress>,
    promise: Promise<Result<T, String>>,
}

impl<T: Send + 'static> Job<T> {
    /// Starts `work` on its own named thread. Errors come back as their message (the job
    /// boundary is an edge: the error has been handled once, by being reported).
    pub fn spawn(
        name: impl Into<String>,
        progress: Arc<Progress>,
        work: impl FnOnce(&Progress) -> crate::Result<T> + Send + 'static,
    ) -> Job<T> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let name = name.into();
        let p = progress.clone();
        let promise = Promise::spawn_thread(name.clone(), move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&p)));
            let out = match result {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err("the job stopped on an internal error (a bug): nothing it finished was lost".to_owned()),
            };
            p.wake_now();
            out
        });
        Job { id: NEXT.fetch_add(1, Ordering::Relaxed), name, started: Instant::now(), progress, promise }
    }

    /// The result, once the job has finished.
    pub fn ready(&self) -> Option<&Result<T, String>> {
        self.promise.ready()
    }

    pub fn is_running(&self) -> bool {
        self.promise.ready().is_none()
    }

    /// Blocks until the job finishes (CLI and tests only; never the GUI).
    pub fn wait(self) -> Result<T, String> {
        self.promise.block_and_take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_reports_and_cancels() {
        let p = Progress::new();
        let job = Job::spawn("count", p.clone(), |p| {
            p.set_total(1_000_000, true);
            for i in 0..1_000_000u64 {
                if p.is_cancelled() {
                    return Ok(i);
                }
                p.add_done(1);
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
            Ok(1_000_000)
        });
        // Cancel once it is under way (no timing: wait for progress, not for a clock).
        while p.snapshot().done < 20 {
            std::thread::yield_now();
        }
        job.progress.cancel();
        let n = job.wait().unwrap();
        assert!((20..1_000_000).contains(&n), "cancel must stop the job early, got {n}");
        assert_eq!(p.snapshot().done, n, "progress counts exactly what was done");
    }

    #[test]
    fn errors_and_panics_come_back_as_messages() {
        let j: Job<()> = Job::spawn("fail", Progress::new(), |_| Err(crate::Error::Invalid("nope".into())));
        assert_eq!(j.wait().unwrap_err(), "nope");
        let j: Job<()> = Job::spawn("panic", Progress::new(), |_| panic!("boom"));
        assert!(j.wait().unwrap_err().contains("internal error"));
    }
}
