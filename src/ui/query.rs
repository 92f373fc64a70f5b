//! The grid's data, loaded on its own thread with its own connection: the ordered ids of
//! every photo that passes the filter (8 MB for a million), and the rows of the cells on
//! screen, fetched a page at a time. Changing a filter or jumping to the end never stalls
//! a frame; the old grid stays until the new one is in, and rows already loaded keep
//! showing (marked stale) until their fresh copies arrive, so a refresh does not flicker.

use crate::store::{GridItem, PhotoFilter, Store};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

/// Rows per page fetched at once.
pub const PAGE: usize = 128;
/// Rows kept at most; beyond that, those off screen are dropped.
const ROW_CAPACITY: usize = 20_000;

enum Request {
    Ids(u64, PhotoFilter),
    Rows(u64, usize, Vec<i64>),
}

enum Answer {
    Ids(u64, Result<(Vec<i64>, BTreeMap<String, u64>), String>),
    Rows(u64, usize, Result<Vec<GridItem>, String>),
}

pub struct Grid {
    requests: Sender<Request>,
    answers: Receiver<Answer>,
    /// The generation of the newest ids request, and of the ids held.
    asked: u64,
    held: u64,
    ids: Vec<i64>,
    /// Rows by photo id, with the generation they were read in.
    rows: HashMap<i64, (GridItem, u64)>,
    /// Pages asked for in the held generation.
    pages: HashSet<usize>,
    /// Photos per modality in the whole archive.
    pub counts: BTreeMap<String, u64>,
    pub error: Option<String>,
    /// The first ids have come in.
    pub loaded_once: bool,
}

impl Grid {
    pub fn new(db: PathBuf, ctx: egui::Context) -> Grid {
        let (requests, rx) = channel::<Request>();
        let (tx, answers) = channel();
        let _ = std::thread::Builder::new().name("grid-query".into()).spawn(move || serve(db, rx, tx, ctx));
        Grid {
            requests,
            answers,
            asked: 0,
            held: 0,
            ids: Vec::new(),
            rows: HashMap::new(),
            pages: HashSet::new(),
            counts: BTreeMap::new(),
            error: None,
            loaded_once: false,
        }
    }

    /// Asks for the photos that pass `filter` (the answer replaces the grid when it comes).
    pub fn request(&mut self, filter: PhotoFilter) {
        self.asked += 1;
        let _ = self.requests.send(Request::Ids(self.asked, filter));
    }

    /// Takes what the thread finished. Returns true when a new list of ids came in.
    pub fn poll(&mut self) -> bool {
        let mut new_ids = false;
        while let Ok(a) = self.answers.try_recv() {
            match a {
                Answer::Ids(g, result) if g == self.asked => {
                    match result {
                        Ok((ids, counts)) => {
                            self.ids = ids;
                            self.counts = counts;
                            self.error = None;
                            new_ids = true;
                        }
                        Err(e) => self.error = Some(e),
                    }
                    self.held = g;
                    self.pages.clear();
                    self.loaded_once = true;
                }
                Answer::Ids(..) => {}
                Answer::Rows(g, _, Ok(rows)) => {
                    for r in rows {
                        self.rows.insert(r.id, (r, g));
                    }
                }
                Answer::Rows(g, page, Err(e)) => {
                    if g == self.held {
                        self.pages.remove(&page);
                        self.error = Some(e);
                    }
                }
            }
        }
        new_ids
    }

    /// Asks for the rows of positions `range` that are not loaded fresh yet (the browser
    /// calls this with what is on screen, and a little around it).
    pub fn want(&mut self, range: Range<usize>) {
        let end = range.end.min(self.ids.len());
        if range.start >= end {
            return;
        }
        for page in range.start / PAGE..=(end - 1) / PAGE {
            if self.pages.contains(&page) {
                continue;
            }
            let ids = &self.ids[page * PAGE..((page + 1) * PAGE).min(self.ids.len())];
            if ids.iter().all(|id| self.rows.get(id).is_some_and(|(_, g)| *g == self.held)) {
                continue;
            }
            self.pages.insert(page);
            let _ = self.requests.send(Request::Rows(self.held, page, ids.to_vec()));
        }
        if self.rows.len() > ROW_CAPACITY {
            let keep: HashSet<i64> = self.ids
                [range.start.saturating_sub(PAGE * 4)..(end + PAGE * 4).min(self.ids.len())]
                .iter()
                .copied()
                .collect();
            self.rows.retain(|id, _| keep.contains(id));
            self.pages.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    pub fn id(&self, i: usize) -> Option<i64> {
        self.ids.get(i).copied()
    }

    /// The row at position `i`, when loaded (perhaps from before the latest refresh).
    pub fn row(&self, i: usize) -> Option<&GridItem> {
        self.ids.get(i).and_then(|id| self.rows.get(id)).map(|(r, _)| r)
    }

    pub fn row_by_id(&self, id: i64) -> Option<&GridItem> {
        self.rows.get(&id).map(|(r, _)| r)
    }

    /// Where a photo is in the grid (a scan: used when the grid changes, not per frame).
    pub fn position(&self, id: i64) -> Option<usize> {
        self.ids.iter().position(|&x| x == id)
    }

    /// Where a photo is, looking first at `hint` (where it was last seen).
    pub fn position_near(&self, id: i64, hint: Option<usize>) -> Option<usize> {
        match hint {
            Some(h) if self.ids.get(h) == Some(&id) => Some(h),
            _ => self.position(id),
        }
    }

    /// An ids query is on its way.
    pub fn is_pending(&self) -> bool {
        self.asked != self.held
    }

    /// Rows loaded and fresh for every position in `range`.
    pub fn is_loaded(&self, range: Range<usize>) -> bool {
        let end = range.end.min(self.ids.len());
        self.ids[range.start.min(end)..end].iter().all(|id| self.rows.get(id).is_some_and(|(_, g)| *g == self.held))
    }
}

fn serve(db: PathBuf, rx: Receiver<Request>, tx: Sender<Answer>, ctx: egui::Context) {
    let store = Store::open_reader(&db).map_err(|e| e.to_string());
    let mut backlog: Vec<Request> = Vec::new();
    loop {
        if backlog.is_empty() {
            match rx.recv() {
                Ok(r) => backlog.push(r),
                Err(_) => return,
            }
        }
        backlog.extend(rx.try_iter());
        // The newest ids request supersedes older ones and every row request before it;
        // rows are served newest first (what is on screen now).
        if let Some(last) = backlog.iter().rposition(|r| matches!(r, Request::Ids(..))) {
            backlog.drain(..last);
        }
        let next = match backlog.first() {
            Some(Request::Ids(..)) => backlog.remove(0),
            _ => backlog.pop().expect("not empty"),
        };
        let answer = match (&store, next) {
            (Err(e), Request::Ids(g, _)) => Answer::Ids(g, Err(e.clone())),
            (Err(e), Request::Rows(g, page, _)) => Answer::Rows(g, page, Err(e.clone())),
            (Ok(s), Request::Ids(g, filter)) => Answer::Ids(
                g,
                s.grid_ids(&filter).and_then(|ids| Ok((ids, s.modality_counts()?))).map_err(|e| e.to_string()),
            ),
            (Ok(s), Request::Rows(g, page, ids)) => Answer::Rows(g, page, s.grid_rows(&ids).map_err(|e| e.to_string())),
        };
        if tx.send(answer).is_err() {
            return;
        }
        ctx.request_repaint();
    }
}
