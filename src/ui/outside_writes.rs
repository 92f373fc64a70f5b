//! Writes by another process reach the open app: the command line's `infer`, `review` or
//! `link`, a script, a second window. A thread with its own connection asks SQLite's
//! `data_version` once a second (a number that changes when another connection commits) and,
//! when it changed, raises a flag and wakes the window; the app reloads its panels when it next
//! runs no job of its own (its own jobs reload them when they end). The app's own writes on its
//! store thread are another connection to this one too: each costs one extra reload a second
//! later, nothing more. The window is woken only
//! for a change: an idle app draws no frames (a repaint a second cost 40 % of a core under
//! software rendering).

use crate::store::Store;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the thread asks.
const EVERY: Duration = Duration::from_secs(1);

pub struct OutsideWrites {
    changed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl OutsideWrites {
    /// Starts the watching thread on the database at `db`; `waker` runs after a change (a
    /// repaint). A database that cannot be opened is watched by nobody (the app says why
    /// through its own connection).
    pub fn start(db: &Path, waker: impl Fn() + Send + 'static) -> OutsideWrites {
        let changed = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, quit, db) = (changed.clone(), stop.clone(), db.to_path_buf());
        let _ = std::thread::Builder::new().name("outside-writes".into()).spawn(move || {
            let Ok(store) = Store::open_reader(&db) else { return };
            let mut seen = store.data_version().ok();
            while !quit.load(Ordering::Relaxed) {
                std::thread::sleep(EVERY);
                let now = store.data_version().ok();
                if seen.is_some() && now.is_some() && now != seen {
                    flag.store(true, Ordering::Release);
                    waker();
                }
                seen = now.or(seen);
            }
        });
        OutsideWrites { changed, stop }
    }

    /// True once after another connection committed, when the app is `idle` (the flag waits
    /// for it otherwise).
    pub fn take(&self, idle: bool) -> bool {
        idle && self.changed.swap(false, Ordering::AcqRel)
    }
}

impl Drop for OutsideWrites {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
