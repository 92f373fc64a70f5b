//! The store's own thread, for a GUI that must never wait on SQLite: a panel sends a
//! closure, gets a promise, and draws the answer when it comes (a spinner meanwhile). Reads
//! and writes run in the order sent, on one connection; a write that waits for an import's
//! batch to commit waits here, not in a frame.

use super::Store;
use crate::error::Result;
use poll_promise::Promise;
use std::path::Path;
use std::sync::mpsc::{Sender, channel};

type Call = Box<dyn FnOnce(Result<&mut Store, &str>) + Send>;

pub struct StoreThread {
    calls: Sender<Call>,
}

/// An answer on its way: the value, or the error's message (it has been handled by being
/// shown; the store thread keeps no error of its own).
pub type Pending<T> = Promise<std::result::Result<T, String>>;

impl StoreThread {
    /// Starts the thread with its own connection to the database at `db` (opened and
    /// migrated before by `Store::open`). `waker` runs after each answer (a repaint).
    pub fn start(db: &Path, waker: impl Fn() + Send + 'static) -> StoreThread {
        StoreThread::spawn(db, false, waker)
    }

    /// The same, but the thread first runs the integrity check the app's open left for later
    /// (`Store::open_for_app`). Every call waits behind it; if the file is damaged, every call
    /// answers with that (nothing is written to a damaged file).
    pub fn start_checked(db: &Path, waker: impl Fn() + Send + 'static) -> StoreThread {
        StoreThread::spawn(db, true, waker)
    }

    fn spawn(db: &Path, check: bool, waker: impl Fn() + Send + 'static) -> StoreThread {
        let (calls, rx) = channel::<Call>();
        let db = db.to_path_buf();
        let _ = std::thread::Builder::new().name("store".into()).spawn(move || {
            let mut store = Store::open_reader(&db).map_err(|e| e.to_string());
            if check
                && let Ok(s) = &store
                && let Err(e) = s.quick_check()
            {
                store = Err(e.to_string());
            }
            while let Ok(call) = rx.recv() {
                match &mut store {
                    Ok(s) => call(Ok(s)),
                    Err(e) => call(Err(e)),
                }
                waker();
            }
        });
        StoreThread { calls }
    }

    /// Runs `f` on the store's thread; the promise holds its answer.
    pub fn ask<T: Send + 'static>(&self, f: impl FnOnce(&mut Store) -> Result<T> + Send + 'static) -> Pending<T> {
        let (sender, promise) = Promise::new();
        let call: Call = Box::new(move |store| {
            let answer = match store {
                Ok(s) => f(s).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_owned()),
            };
            sender.send(answer);
        });
        if let Err(lost) = self.calls.send(call) {
            // The thread is gone (it cannot be, short of a bug): answer here so that nobody
            // waits forever.
            (lost.0)(Err("the database thread has stopped"));
        }
        promise
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_order_and_reports_errors() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.sqlite");
        drop(Store::open(&db).unwrap());
        let t = StoreThread::start(&db, || {});
        let write = t.ask(|s| s.set_setting("k", "v"));
        let read = t.ask(|s| s.setting("k"));
        let bad = t.ask(|s| s.set_modality(&[424242], crate::modality::Modality::Other));
        assert_eq!(write.block_and_take(), Ok(()));
        assert_eq!(read.block_and_take(), Ok(Some("v".to_owned())));
        assert!(bad.block_and_take().unwrap_err().contains("424242"));

        let nowhere = StoreThread::start(&dir.path().join("no/such/dir/x.sqlite"), || {});
        assert!(nowhere.ask(|s| s.setting("k")).block_and_take().is_err(), "a store that cannot open says so");
    }
}
