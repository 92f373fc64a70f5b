//! The grid's photo query runs on its own thread with its own connection, so changing a
//! filter over 100,000 photos never stalls a frame: the old grid stays until the new one is in.

use crate::store::{GridItem, PhotoFilter, Store};
use std::collections::BTreeMap;

/// A grid's worth of photos, and how many photos of each modality the archive holds.
pub struct GridResult {
    pub items: Vec<GridItem>,
    pub counts: BTreeMap<String, u64>,
}
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

pub struct GridQuery {
    requests: Sender<(u64, PhotoFilter)>,
    results: Receiver<(u64, Result<GridResult, String>)>,
    latest: u64,
    pending: bool,
}

impl GridQuery {
    pub fn new(db: PathBuf, ctx: egui::Context) -> GridQuery {
        let (requests, rx) = channel::<(u64, PhotoFilter)>();
        let (tx, results) = channel();
        let _ = std::thread::Builder::new().name("grid-query".into()).spawn(move || {
            let store = Store::open_reader(&db);
            while let Ok(mut req) = rx.recv() {
                // Only the newest filter matters.
                while let Ok(newer) = rx.try_recv() {
                    req = newer;
                }
                let (generation, filter) = req;
                let result = match &store {
                    Ok(s) => s
                        .grid(&filter)
                        .and_then(|items| Ok(GridResult { items, counts: s.modality_counts()? }))
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                if tx.send((generation, result)).is_err() {
                    return;
                }
                ctx.request_repaint();
            }
        });
        GridQuery { requests, results, latest: 0, pending: false }
    }

    pub fn request(&mut self, filter: PhotoFilter) {
        self.latest += 1;
        self.pending = true;
        let _ = self.requests.send((self.latest, filter));
    }

    /// The newest finished result, if one came in since the last call.
    pub fn poll(&mut self) -> Option<Result<GridResult, String>> {
        let mut out = None;
        while let Ok((generation, result)) = self.results.try_recv() {
            if generation == self.latest {
                self.pending = false;
                out = Some(result);
            }
        }
        out
    }

    pub fn is_pending(&self) -> bool {
        self.pending
    }
}
