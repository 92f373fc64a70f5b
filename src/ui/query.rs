//! The grid's data, loaded on its own thread with its own connection: the ordered ids of
//! every photo that passes the filter (8 MB for a million), and the rows of the cells on
//! screen, fetched a page at a time. Changing a filter or jumping to the end never stalls
//! a frame; the old grid stays until the new one is in, and rows already loaded keep
//! showing (marked stale) until their fresh copies arrive, so a refresh does not flicker.

use crate::store::{GridItem, PhotoFilter, Store};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

/// Rows per page fetched at once.
pub const PAGE: usize = 128;
/// Rows kept at most; beyond that, those off screen are dropped.
const ROW_CAPACITY: usize = 20_000;

/// Ids read first, ahead of the whole list, when the filter or order changed...
const HEAD: u64 = 1000;
/// ...with the rows of the first screen (the grid shows a new order from its top).
const FIRST_SCREEN: usize = 400;

enum Request {
    /// The generation, the filter, and whether to send the head first.
    Ids(u64, PhotoFilter, bool),
    Rows(u64, usize, Vec<i64>),
}

enum Answer {
    /// The first ids of a new order, and the rows of the first screen, before the whole list.
    Head(u64, Vec<i64>, Vec<GridItem>),
    Ids(u64, Result<(Vec<i64>, BTreeMap<String, u64>), String>),
    Rows(u64, usize, Result<Vec<GridItem>, String>),
}

pub struct Grid {
    requests: Sender<Request>,
    /// The newest generation asked for, shared with the thread so that it can drop a list it
    /// is still reading when a newer one is wanted.
    newest: Arc<AtomicU64>,
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
    /// The ids held are only the head of a new order; the whole list is on its way.
    partial: bool,
    /// The filter of the last request: a refresh of the same filter needs no head.
    last_filter: Option<PhotoFilter>,
}

impl Grid {
    pub fn new(db: PathBuf, ctx: egui::Context) -> Grid {
        let (requests, rx) = channel::<Request>();
        let (tx, answers) = channel();
        let newest = Arc::new(AtomicU64::new(0));
        let shared = newest.clone();
        let _ = std::thread::Builder::new().name("grid-query".into()).spawn(move || serve(db, rx, tx, ctx, shared));
        Grid {
            requests,
            newest,
            answers,
            asked: 0,
            held: 0,
            ids: Vec::new(),
            rows: HashMap::new(),
            pages: HashSet::new(),
            counts: BTreeMap::new(),
            error: None,
            loaded_once: false,
            partial: false,
            last_filter: None,
        }
    }

    /// Asks for the photos that pass `filter` (the answer replaces the grid when it comes).
    pub fn request(&mut self, filter: PhotoFilter) {
        self.asked += 1;
        let head = self.last_filter.as_ref() != Some(&filter);
        self.last_filter = Some(filter.clone());
        self.newest.store(self.asked, Ordering::Relaxed);
        let _ = self.requests.send(Request::Ids(self.asked, filter, head));
    }

    /// Only the head of a new order is in (the whole list follows within a second).
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// Takes what the thread finished. Returns true when a new list of ids came in.
    pub fn poll(&mut self) -> bool {
        let mut new_ids = false;
        while let Ok(a) = self.answers.try_recv() {
            match a {
                Answer::Head(g, ids, rows) if g == self.asked => {
                    self.ids = ids;
                    self.partial = true;
                    self.pages.clear();
                    for r in rows {
                        self.rows.insert(r.id, (r, g));
                    }
                    new_ids = true;
                }
                Answer::Head(..) => {}
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
                    self.partial = false;
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
            let generation = self.rows_generation();
            if ids.iter().all(|id| self.rows.get(id).is_some_and(|(_, g)| *g == generation)) {
                continue;
            }
            self.pages.insert(page);
            let _ = self.requests.send(Request::Rows(self.rows_generation(), page, ids.to_vec()));
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

    /// The generation rows are read for: the one asked for while its head is shown.
    fn rows_generation(&self) -> u64 {
        if self.partial { self.asked } else { self.held }
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
        let generation = self.rows_generation();
        self.ids[range.start.min(end)..end].iter().all(|id| self.rows.get(id).is_some_and(|(_, g)| *g == generation))
    }
}

fn serve(db: PathBuf, rx: Receiver<Request>, tx: Sender<Answer>, ctx: egui::Context, newest: Arc<AtomicU64>) {
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
            // A head is still wanted if any request dropped here wanted one.
            let head = backlog[..=last].iter().any(|r| matches!(r, Request::Ids(_, _, true)));
            if let Request::Ids(_, _, h) = &mut backlog[last] {
                *h = head;
            }
            backlog.drain(..last);
        }
        let next = match backlog.first() {
            Some(Request::Ids(..)) => backlog.remove(0),
            _ => backlog.pop().expect("not empty"),
        };
        if let (Ok(s), Request::Ids(g, filter, true)) = (&store, &next)
            && let Ok(head) = s.grid_ids_upto(filter, HEAD)
            && let Ok(rows) = s.grid_rows(&head[..head.len().min(FIRST_SCREEN)])
        {
            if tx.send(Answer::Head(*g, head, rows)).is_err() {
                return;
            }
            ctx.request_repaint();
        }
        let answer = match (&store, next) {
            (Err(e), Request::Ids(g, ..)) => Answer::Ids(g, Err(e.clone())),
            (Err(e), Request::Rows(g, page, _)) => Answer::Rows(g, page, Err(e.clone())),
            (Ok(s), Request::Ids(g, filter, _)) => {
                match s.grid_ids_while(&filter, || newest.load(Ordering::Relaxed) == g) {
                    Ok(None) => continue, // a newer list is wanted: this one is dropped
                    Ok(Some(ids)) => Answer::Ids(g, s.modality_counts().map(|c| (ids, c)).map_err(|e| e.to_string())),
                    Err(e) => Answer::Ids(g, Err(e.to_string())),
                }
            }
            (Ok(s), Request::Rows(g, page, ids)) => Answer::Rows(g, page, s.grid_rows(&ids).map_err(|e| e.to_string())),
        };
        if tx.send(answer).is_err() {
            return;
        }
        ctx.request_repaint();
    }
}
