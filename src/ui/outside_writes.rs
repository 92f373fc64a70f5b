//! Writes by another process reach the open app: the command line's `infer`, `review` or
//! `link`, a script, a second window. A thread with its own connection asks SQLite's
//! `data_version` once a second (a number that changes when another connection commits) and,
//! when it changed, raises a flag and wakes the window. The app's own writes on its store
//! thread are "another connection" to that thread too, so a raised flag is confirmed on the
//! store thread's connection, whose `data_version` its own commits leave alone: only another
//! process's commit (or one of the app's job workers') reloads the panels, when the app next
//! runs no job of its own (its jobs reload them when they end). A reload for the app's own
//! write would, for one, show the grid's loading mark a second after a settings save. The
//! window is woken only for a change: an idle app draws no frames (a repaint a second cost
//! 40 % of a core under software rendering).

use crate::store::Store;
use crate::store::thread::{Pending, StoreThread};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the thread asks.
const EVERY: Duration = Duration::from_secs(1);

pub struct OutsideWrites {
    changed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    /// The store thread's `data_version` when last asked (None until it first answers).
    seen: Option<i64>,
    asking: Option<Pending<i64>>,
}

impl OutsideWrites {
    /// Starts the watching thread on the database at `db` (the one `store` has open);
    /// `waker` runs after a change (a repaint). A database that cannot be opened is watched
    /// by nobody (the app says why through its own connection).
    pub fn start(db: &Path, store: &StoreThread, waker: impl Fn() + Send + 'static) -> OutsideWrites {
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
        OutsideWrites { changed, stop, seen: None, asking: Some(store.ask(|s| s.data_version())) }
    }

    /// True once after another process committed, when the app is `idle` (a raised flag
    /// waits for it otherwise). Asks `store` to confirm; the answer comes in a later frame
    /// (the store thread wakes the window).
    pub fn take(&mut self, idle: bool, store: &StoreThread) -> bool {
        if let Some(p) = &self.asking {
            let Some(answer) = p.ready() else { return false };
            let now = answer.as_ref().ok().copied();
            self.asking = None;
            let before = self.seen;
            self.seen = now.or(before);
            if before.is_some() && now.is_some() && before != now {
                return true;
            }
        }
        if idle && self.changed.swap(false, Ordering::AcqRel) {
            self.asking = Some(store.ask(|s| s.data_version()));
        }
        false
    }
}

impl Drop for OutsideWrites {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
