//! The privacy review panel: the screened photos waiting for a person's decision, strongest
//! findings first; one photo large with the boxes found on it and the text and metadata read
//! from it, or a grid of thumbnails to clear many plain close-ups at once. Keyboard first:
//! every action is a `Command::Privacy` (command.rs). Nothing here touches SQLite or decodes:
//! the store thread answers, the photo decodes in a worker process, and this state keeps the
//! promises until they come. Drawing is in `privacy_review_ui.rs`.

use super::command::Pv;
use super::i18n::{Lang, T};
use super::viewer::{DecodeRequest, FullDecoder};
use crate::modality::Modality;
use crate::privacy::{Finding, FindingKind, Review, Verdict};
use crate::store::thread::{Pending, StoreThread};
use crate::store::{Fill, QueueFilter, QueueItem, Redaction, Shape, Store};
use egui::{Rect, TextureHandle, TextureOptions, Vec2};
use std::collections::BTreeSet;
use std::path::PathBuf;

pub use super::privacy_review_ui::{keys, ui};

/// Which photos the queue shows.
#[derive(Clone, Debug, PartialEq)]
pub struct PvFilter {
    pub verdict: Option<Verdict>,
    pub kind: Option<FindingKind>,
    pub modality: Option<Modality>,
    /// One review state (pending by default), or None for all.
    pub review: Option<Review>,
}

impl Default for PvFilter {
    fn default() -> Self {
        PvFilter { verdict: None, kind: None, modality: None, review: Some(Review::Pending) }
    }
}

impl PvFilter {
    fn query(&self) -> QueueFilter {
        QueueFilter {
            reviews: match self.review {
                Some(r) => vec![r],
                None => Review::ALL.to_vec(),
            },
            verdicts: self.verdict.into_iter().collect(),
            modalities: self.modality.into_iter().collect(),
            kind: self.kind,
            ..Default::default()
        }
    }
}

/// The current photo's findings, redactions and file.
pub struct Detail {
    pub photo_id: i64,
    pub findings: Vec<Finding>,
    pub redactions: Vec<Redaction>,
    pub reviewer: Option<String>,
    file: Option<DecodeRequest>,
}

pub(super) enum Image {
    Loading(u64),
    Ready { size: Vec2, tiles: Vec<(Rect, TextureHandle)> },
    Failed(String),
}

/// What a write did, so that Ctrl+Z can take it back: the photos it set and the shapes it added.
#[derive(Clone, Debug, Default)]
struct Decision {
    ids: Vec<i64>,
    added: Vec<i64>,
    set: Option<Review>,
}

enum Write {
    Decide,
    Rect,
    Undo,
    RemoveRect,
}

type Message = (String, bool);

pub struct PrivacyReview {
    pub filter: PvFilter,
    pub items: Vec<QueueItem>,
    /// Position in `items` of the photo shown.
    pub current: usize,
    pub grid: bool,
    /// Photos ticked in the grid.
    pub checked: BTreeSet<i64>,
    pub detail: Option<Detail>,
    pub error: Option<String>,
    queue: Option<Pending<Vec<QueueItem>>>,
    detail_ask: Option<(i64, Pending<Detail>)>,
    decoder: FullDecoder,
    pub(super) image: Option<(i64, Image)>,
    writes: Vec<(Write, Pending<Option<Decision>>)>,
    undo: Vec<Decision>,
    /// Ctrl+Z pressed while a decision was still being written: done once it is.
    undo_waiting: usize,
    /// A rectangle being dragged, in the upright photo's pixels.
    pub(super) drag: Option<(egui::Pos2, egui::Pos2)>,
    /// Where the photo was drawn last frame, and its upright size in pixels.
    pub view: Option<(Rect, Vec2)>,
    pub(super) scroll_to_current: bool,
}

impl PrivacyReview {
    pub fn open(exe: PathBuf, ctx: &egui::Context, store: &StoreThread) -> PrivacyReview {
        let mut p = PrivacyReview {
            filter: PvFilter::default(),
            items: Vec::new(),
            current: 0,
            grid: false,
            checked: BTreeSet::new(),
            detail: None,
            error: None,
            queue: None,
            detail_ask: None,
            decoder: FullDecoder::new(exe, ctx.clone()),
            image: None,
            writes: Vec::new(),
            undo: Vec::new(),
            undo_waiting: 0,
            drag: None,
            view: None,
            scroll_to_current: false,
        };
        p.reload(store);
        p
    }

    /// Reads the queue again (after a filter change, or a screening finished).
    pub fn reload(&mut self, store: &StoreThread) {
        let q = self.filter.query();
        self.queue = Some(store.ask(move |s| s.privacy_queue(&q)));
    }

    pub fn current_item(&self) -> Option<&QueueItem> {
        self.items.get(self.current)
    }

    pub fn current_id(&self) -> Option<i64> {
        self.current_item().map(|i| i.photo_id)
    }

    pub fn is_loading(&self) -> bool {
        self.queue.is_some()
    }

    /// Something is on its way: the queue, a photo's details or pixels, a write.
    pub fn is_busy(&self) -> bool {
        self.queue.is_some()
            || self.detail_ask.is_some()
            || !self.writes.is_empty()
            || self.undo_waiting > 0
            || matches!(self.image, Some((_, Image::Loading(_))))
    }

    /// The photo's upright size in pixels (orientation applied), as the boxes are measured.
    pub fn upright_size(item: &QueueItem) -> Vec2 {
        let (w, h) =
            if (5..=8).contains(&item.orientation) { (item.height, item.width) } else { (item.width, item.height) };
        Vec2::new(w as f32, h as f32)
    }

    /// Where a point of the current photo (upright pixels) was drawn last frame.
    pub fn screen_pos(&self, x: f32, y: f32) -> Option<egui::Pos2> {
        let (rect, size) = self.view?;
        Some(rect.min + Vec2::new(x, y) * (rect.width() / size.x))
    }

    /// Asks for the current photo's details (when they are not shown or asked for already).
    fn show_current(&mut self, store: &StoreThread, force: bool) {
        self.scroll_to_current = true;
        let Some(id) = self.current_id() else {
            self.detail = None;
            return;
        };
        let shown = self.detail.as_ref().is_some_and(|d| d.photo_id == id);
        let asked = self.detail_ask.as_ref().is_some_and(|(a, _)| *a == id);
        if (shown || asked) && !force {
            return;
        }
        let p = store.ask(move |s| {
            let screening = s.screening(id)?;
            let redactions = s.redactions(id)?;
            let file = s.photo(id)?.and_then(|d| {
                let path = d.row.paths.into_iter().next()?;
                Some(DecodeRequest { path: PathBuf::from(path), orientation: d.row.orientation, hash: d.row.hash })
            });
            let (findings, reviewer) = screening.map(|s| (s.findings, s.reviewer)).unwrap_or_default();
            Ok(Detail { photo_id: id, findings, redactions, reviewer, file })
        });
        self.detail_ask = Some((id, p));
    }

    /// Takes in what came back; returns what to tell the person.
    pub fn poll(&mut self, ctx: &egui::Context, store: &StoreThread, user: &str, lang: Lang) -> Vec<Message> {
        let mut said = Vec::new();
        if let Some(p) = self.queue.take_if(|p| p.ready().is_some()) {
            match p.block_and_take() {
                Ok(items) => {
                    let keep = self.current_id();
                    self.items = items;
                    self.current = keep.and_then(|id| self.items.iter().position(|i| i.photo_id == id)).unwrap_or(0);
                    let ids: BTreeSet<i64> = self.items.iter().map(|i| i.photo_id).collect();
                    self.checked.retain(|id| ids.contains(id));
                    self.error = None;
                    self.show_current(store, false);
                }
                Err(e) => self.error = Some(e),
            }
        }
        if let Some((id, p)) = self.detail_ask.take_if(|(_, p)| p.ready().is_some()) {
            match p.block_and_take() {
                Ok(d) => {
                    if self.image.as_ref().is_none_or(|(i, _)| *i != id) {
                        let image = match d.file.clone() {
                            Some(r) => Image::Loading(self.decoder.request(r)),
                            None => Image::Failed(String::new()),
                        };
                        self.image = Some((id, image));
                    }
                    self.detail = Some(d);
                }
                Err(e) => said.push((e, true)),
            }
        }
        if let Some((id, Image::Loading(generation))) = &self.image
            && let Some((g, result)) = self.decoder.poll()
            && g == *generation
        {
            let id = *id;
            let image = match result {
                Ok(d) => {
                    let tiles = d
                        .tiles
                        .into_iter()
                        .enumerate()
                        .map(|(i, (r, img))| {
                            (r, ctx.load_texture(format!("privacy-{id}-{i}"), img, TextureOptions::LINEAR))
                        })
                        .collect();
                    Image::Ready { size: Vec2::new(d.width as f32, d.height as f32), tiles }
                }
                Err(e) => Image::Failed(e),
            };
            self.image = Some((id, image));
        }
        let mut i = 0;
        while i < self.writes.len() {
            if self.writes[i].1.ready().is_none() {
                i += 1;
                continue;
            }
            let (kind, p) = self.writes.remove(i);
            match p.block_and_take() {
                Err(e) => said.push((e, true)),
                Ok(None) => said.push((lang.t(T::PvNothingToRedact).to_owned(), true)),
                Ok(Some(d)) => said.extend(self.written(kind, d, store, lang)),
            }
        }
        if self.writes.is_empty() && self.undo_waiting > 0 {
            self.undo_waiting -= 1;
            said.extend(self.undo(store, user, lang));
        }
        said
    }

    /// A write answered.
    fn written(&mut self, kind: Write, d: Decision, store: &StoreThread, lang: Lang) -> Option<Message> {
        let touches_current = self.current_id().is_some_and(|c| d.ids.contains(&c) || !d.added.is_empty());
        let said = match kind {
            Write::Decide => {
                let review = d.set.unwrap_or(Review::Pending);
                self.set_local(&d.ids, review);
                let what = lang.t(review_key(review));
                let text = lang.f(T::PvDecided, &[("what", &what), ("n", &d.ids.len())]);
                self.undo.push(d);
                Some((text, false))
            }
            Write::Rect => {
                self.undo.push(d);
                Some((lang.t(T::PvRectAdded).to_owned(), false))
            }
            Write::Undo => {
                self.set_local(&d.ids, Review::Pending);
                if let Some(pos) = d.ids.first().and_then(|id| self.items.iter().position(|i| i.photo_id == *id)) {
                    self.current = pos;
                }
                self.show_current(store, true);
                return Some((lang.f(T::PvUndone, &[("n", &d.ids.len())]), false));
            }
            Write::RemoveRect => None,
        };
        // The shapes or review of the photo shown changed: read them again.
        if touches_current || matches!(kind, Write::RemoveRect) {
            self.show_current(store, true);
        }
        said
    }

    fn set_local(&mut self, ids: &[i64], review: Review) {
        for item in self.items.iter_mut().filter(|i| ids.contains(&i.photo_id)) {
            item.review = review;
        }
    }

    /// The photos a decision acts on: the ticked ones in the grid, else the current one.
    fn targets(&self) -> Vec<i64> {
        if self.grid && !self.checked.is_empty() {
            self.items.iter().map(|i| i.photo_id).filter(|id| self.checked.contains(id)).collect()
        } else {
            self.current_id().into_iter().collect()
        }
    }

    fn step(&mut self, delta: isize, store: &StoreThread) {
        if self.items.is_empty() {
            return;
        }
        let last = self.items.len() as isize - 1;
        self.current = (self.current as isize + delta).clamp(0, last) as usize;
        self.show_current(store, false);
    }

    /// Runs one of the panel's commands; returns what to tell the person.
    pub fn run(&mut self, cmd: Pv, store: &StoreThread, user: &str, lang: Lang) -> Vec<Message> {
        let user = user.to_owned();
        match cmd {
            Pv::Clear | Pv::Exclude => {
                let ids = self.targets();
                if ids.is_empty() {
                    return Vec::new();
                }
                let review = if cmd == Pv::Clear { Review::Cleared } else { Review::Excluded };
                let p = store.ask(move |s| {
                    s.set_review(&ids, review, &user)?;
                    Ok(Some(Decision { ids, added: Vec::new(), set: Some(review) }))
                });
                self.writes.push((Write::Decide, p));
                self.after_decision(store);
            }
            Pv::Redact => {
                let Some(item) = self.current_item() else { return Vec::new() };
                let (id, size) = (item.photo_id, Self::upright_size(item));
                // Nothing found to black out and nothing drawn: say so and stay on the photo
                // (a person may want to draw a rectangle), instead of moving on.
                if let Some(d) = self.detail.as_ref().filter(|d| d.photo_id == id)
                    && boxes_to_redact(&d.findings).is_empty()
                    && d.redactions.is_empty()
                {
                    return vec![(lang.t(T::PvNothingToRedact).to_owned(), true)];
                }
                let p = store.ask(move |s| redact(s, id, size, &user));
                self.writes.push((Write::Decide, p));
                self.after_decision(store);
            }
            Pv::Next => self.step(1, store),
            Pv::Prev => self.step(-1, store),
            Pv::Select(i) => {
                if i < self.items.len() {
                    self.current = i;
                    self.show_current(store, false);
                }
            }
            Pv::Undo => return self.undo(store, &user, lang),
            Pv::ToggleGrid => {
                self.grid = !self.grid;
                self.scroll_to_current = true;
            }
            Pv::ToggleCheck => {
                if let Some(id) = self.current_id() {
                    self.toggle(id);
                }
            }
            Pv::Check(id) => self.toggle(id),
            Pv::CheckAll => {
                if self.checked.len() == self.items.len() {
                    self.checked.clear();
                } else {
                    self.checked = self.items.iter().map(|i| i.photo_id).collect();
                }
            }
            Pv::Reload => self.reload(store),
            Pv::SetFilter(f) => {
                self.filter = f;
                self.reload(store);
            }
            Pv::AddRect(rect) => {
                let Some(id) = self.current_id() else { return Vec::new() };
                let p = store.ask(move |s| {
                    let rid = s.add_redaction(id, &Shape::Rect { rect, fill: Fill::Black }, &user)?;
                    Ok(Some(Decision { ids: Vec::new(), added: vec![rid], set: None }))
                });
                self.writes.push((Write::Rect, p));
            }
            Pv::RemoveRedaction(rid) => {
                let p = store.ask(move |s| {
                    s.remove_redaction(rid, &user)?;
                    Ok(Some(Decision::default()))
                });
                self.writes.push((Write::RemoveRect, p));
            }
        }
        Vec::new()
    }

    fn toggle(&mut self, id: i64) {
        if !self.checked.remove(&id) {
            self.checked.insert(id);
        }
    }

    /// After a decision the next photo shows (one at a time), or the ticks go (grid).
    fn after_decision(&mut self, store: &StoreThread) {
        if self.grid && !self.checked.is_empty() {
            self.checked.clear();
        } else {
            self.step(1, store);
        }
    }

    /// Takes back the last decision: its shapes go and its photos are pending again.
    fn undo(&mut self, store: &StoreThread, user: &str, lang: Lang) -> Vec<Message> {
        let Some(d) = self.undo.pop() else {
            if self.writes.is_empty() {
                return vec![(lang.t(T::NothingToUndo).to_owned(), false)];
            }
            self.undo_waiting += 1;
            return Vec::new();
        };
        let user = user.to_owned();
        let p = store.ask(move |s| {
            for &rid in d.added.iter().rev() {
                s.remove_redaction(rid, &user)?;
            }
            if d.set.is_some() {
                s.set_review(&d.ids, Review::Pending, &user)?;
            }
            Ok(Some(d))
        });
        self.writes.push((Write::Undo, p));
        Vec::new()
    }
}

/// How much a found box grows on each side when it is blacked out (detector boxes are tight).
const PAD: f32 = 0.08;

/// The black rectangle that covers a found box, a little larger, within the photo.
pub fn cover(b: [f32; 4], size: Vec2) -> [f32; 4] {
    let (dx, dy) = ((b[2] - b[0]) * PAD, (b[3] - b[1]) * PAD);
    [(b[0] - dx).max(0.0), (b[1] - dy).max(0.0), (b[2] + dx).min(size.x), (b[3] + dy).min(size.y)]
}

/// The boxes R blacks out: every face, and every text that could identify (a name, an ID, a
/// date, or unsure); only when no text could, every text box (ruler marks, unreadable marks).
pub fn boxes_to_redact(findings: &[Finding]) -> Vec<[f32; 4]> {
    let texts = findings.iter().filter(|f| f.kind == FindingKind::Text && f.bbox.is_some());
    let strong = texts.clone().any(|f| f.level > Verdict::Clear);
    findings
        .iter()
        .filter(|f| {
            f.kind == FindingKind::Face || (f.kind == FindingKind::Text && (!strong || f.level > Verdict::Clear))
        })
        .filter_map(|f| f.bbox)
        .collect()
}

/// Blacks out the boxes found on a photo (`boxes_to_redact`; once: a box already covered is
/// not added again) and marks it redacted. None when there is nothing to black out.
fn redact(s: &mut Store, id: i64, size: Vec2, user: &str) -> crate::Result<Option<Decision>> {
    let findings = s.screening(id)?.map(|s| s.findings).unwrap_or_default();
    let existing: Vec<Shape> = s.redactions(id)?.into_iter().map(|r| r.shape).collect();
    let mut added = Vec::new();
    for b in boxes_to_redact(&findings) {
        let shape = Shape::Rect { rect: cover(b, size), fill: Fill::Black };
        if !existing.contains(&shape) && shape_ok(&shape) {
            added.push(s.add_redaction(id, &shape, user)?);
        }
    }
    if added.is_empty() && existing.is_empty() {
        return Ok(None);
    }
    s.set_review(&[id], Review::Redacted, user)?;
    Ok(Some(Decision { ids: vec![id], added, set: Some(Review::Redacted) }))
}

fn shape_ok(s: &Shape) -> bool {
    matches!(s, Shape::Rect { rect, .. } if rect[2] > rect[0] && rect[3] > rect[1])
}

pub fn review_key(r: Review) -> T {
    match r {
        Review::Pending => T::ReviewPending,
        Review::Cleared => T::ReviewCleared,
        Review::Excluded => T::ReviewExcluded,
        Review::Redacted => T::ReviewRedacted,
    }
}

/// How much one finding says (a photo's verdict reads differently).
pub fn level_key(v: Verdict) -> T {
    match v {
        Verdict::Identifiable => T::LevelIdentifying,
        Verdict::Unsure => T::VerdictUnsure,
        Verdict::Clear => T::LevelClear,
    }
}

pub fn verdict_key(v: Verdict) -> T {
    match v {
        Verdict::Identifiable => T::VerdictIdentifiable,
        Verdict::Unsure => T::VerdictUnsure,
        Verdict::Clear => T::VerdictClear,
    }
}

pub fn kind_key(k: FindingKind) -> T {
    match k {
        FindingKind::Face => T::KindFace,
        FindingKind::Text => T::KindText,
        FindingKind::Metadata => T::KindMetadata,
    }
}
