//! The privacy review panel: the screened photos waiting for a person's decision, strongest
//! findings first; one photo large with the boxes found on it and the text and metadata read
//! from it, or a grid of thumbnails to clear many plain close-ups at once. Keyboard first:
//! every action is a `Command::Privacy` (command.rs). Nothing here touches SQLite or decodes:
//! the store thread answers, the photo decodes in a worker process, and this state keeps the
//! promises until they come. Drawing is in `privacy_review_ui.rs`.
//!
//! Redaction shapes: rectangles (drag), polygons (click points; Enter, a double-click or a
//! click on the first point closes; Esc cancels), the found boxes accepted in one key (A), and
//! one crop to the lesion (L, then drag). Each is stored as it is drawn, selected, and can be
//! moved or resized by its handles; F switches black and pixelate. Every write is undoable.

use super::command::Pv;
use super::i18n::{Lang, T};
use super::viewer::{DecodeRequest, FullDecoder};
use crate::modality::Modality;
use crate::privacy::{Finding, FindingKind, Review, Verdict};
use crate::store::thread::{Pending, StoreThread};
use crate::store::{Fill, QueueFilter, QueueItem, Redaction, Shape, Store};
use egui::{Pos2, Rect, TextureHandle, TextureOptions, Vec2};
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
    /// Only photos with a face or text (of `kind`, when set) scoring at least this.
    pub min_score: Option<f32>,
}

impl Default for PvFilter {
    fn default() -> Self {
        PvFilter { verdict: None, kind: None, modality: None, review: Some(Review::Pending), min_score: None }
    }
}

/// The scores the queue can be filtered by.
pub const MIN_SCORES: [f32; 4] = [0.3, 0.5, 0.7, 0.9];

/// What a drag or a click on the photo draws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DrawTool {
    /// A drag draws a rectangle.
    #[default]
    Rect,
    /// Clicks place a polygon's corners.
    Polygon,
    /// A drag draws the crop to the lesion (one per photo: a new one replaces it).
    Crop,
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
            min_score: self.min_score.unwrap_or(0.0),
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

/// What a write did, so that Ctrl+Z can take it back: the photos it set, the shapes it added,
/// removed or changed (with their old form).
#[derive(Clone, Debug, Default)]
struct Decision {
    ids: Vec<i64>,
    set: Option<Review>,
    /// The photo whose shapes changed.
    photo: Option<i64>,
    added: Vec<i64>,
    /// Shapes removed: (their id, the photo, the shape), added again by an undo.
    removed: Vec<(i64, i64, Shape)>,
    /// Shapes changed: (their id, the shape before).
    changed: Vec<(i64, Shape)>,
    /// Filled in by an undo: removed shapes come back under new ids (old id, new id).
    readded: Vec<(i64, i64)>,
}

enum Write {
    Decide,
    /// A shape added, changed or removed; what to say when it is done.
    Shape(T),
    Undo,
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
    /// A rectangle (or crop) being dragged, in the upright photo's pixels.
    pub(super) drag: Option<(Pos2, Pos2)>,
    pub tool: DrawTool,
    /// The fill of the shapes drawn next (and of R and A).
    pub fill: Fill,
    /// The corners of the polygon being drawn (upright pixels).
    pub polygon: Vec<[f32; 2]>,
    /// The redaction shown with handles (moved, resized, refilled, removed by Delete).
    pub selected: Option<i64>,
    /// A selected shape being dragged by a handle or its inside.
    pub(super) edit: Option<Edit>,
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
            tool: DrawTool::Rect,
            fill: Fill::Black,
            polygon: Vec::new(),
            selected: None,
            edit: None,
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
    pub fn screen_pos(&self, x: f32, y: f32) -> Option<Pos2> {
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
        if !shown && !asked {
            // Another photo: what was being drawn on the last one goes.
            self.polygon.clear();
            self.drag = None;
            self.edit = None;
            self.selected = None;
        }
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
        let current = self.current_id();
        let touches_current = current.is_some_and(|c| d.ids.contains(&c) || d.photo == Some(c));
        let said = match kind {
            Write::Decide => {
                let review = d.set.unwrap_or(Review::Pending);
                self.set_local(&d.ids, review);
                let what = lang.t(review_key(review));
                let text = lang.f(T::PvDecided, &[("what", &what), ("n", &d.ids.len())]);
                self.undo.push(d);
                Some((text, false))
            }
            Write::Shape(_) if d.added.is_empty() && d.changed.is_empty() && d.removed.is_empty() => {
                return Some((lang.t(T::PvAllCovered).to_owned(), false));
            }
            Write::Shape(said) => {
                // A shape just drawn is selected: its handles show, F and Delete act on it.
                if let [id] = d.added[..]
                    && touches_current
                {
                    self.selected = Some(id);
                }
                if self.selected.is_some_and(|s| d.removed.iter().any(|r| r.0 == s)) {
                    self.selected = None;
                }
                self.undo.push(d);
                Some((lang.t(said).to_owned(), false))
            }
            Write::Undo => {
                self.set_local(&d.ids, Review::Pending);
                // Removed shapes came back under new ids: older entries name them by those.
                for (old, new) in &d.readded {
                    for u in &mut self.undo {
                        u.added.iter_mut().filter(|a| *a == old).for_each(|a| *a = *new);
                        u.changed.iter_mut().filter(|c| c.0 == *old).for_each(|c| c.0 = *new);
                        u.removed.iter_mut().filter(|r| r.0 == *old).for_each(|r| r.0 = *new);
                    }
                }
                if self.selected.is_some_and(|s| d.added.contains(&s)) {
                    self.selected = None;
                }
                let photo = d.ids.first().copied().or(d.photo);
                if let Some(pos) = photo.and_then(|id| self.items.iter().position(|i| i.photo_id == id)) {
                    self.current = pos;
                }
                self.show_current(store, true);
                if d.ids.is_empty() {
                    return Some((lang.t(T::PvShapeUndone).to_owned(), false));
                }
                return Some((lang.f(T::PvUndone, &[("n", &d.ids.len())]), false));
            }
        };
        // The shapes or review of the photo shown changed: read them again.
        if touches_current {
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

    /// The current photo's details, once they are in.
    pub fn current_detail(&self) -> Option<&Detail> {
        self.detail.as_ref().filter(|d| Some(d.photo_id) == self.current_id())
    }

    /// The selected redaction of the current photo.
    pub fn selected_redaction(&self) -> Option<&Redaction> {
        let id = self.selected?;
        self.current_detail()?.redactions.iter().find(|r| r.id == id)
    }

    /// A write of shapes on the current photo, undoable.
    fn write_shape(
        &mut self,
        store: &StoreThread,
        said: T,
        f: impl FnOnce(&mut Store, i64) -> crate::Result<Option<Decision>> + Send + 'static,
    ) {
        let Some(id) = self.current_id() else { return };
        let p = store.ask(move |s| f(s, id));
        self.writes.push((Write::Shape(said), p));
    }

    /// Runs one of the panel's commands; returns what to tell the person.
    pub fn run(&mut self, cmd: Pv, store: &StoreThread, user: &str, lang: Lang) -> Vec<Message> {
        let user = user.to_owned();
        let fill = self.fill;
        match cmd {
            Pv::Clear | Pv::Exclude => {
                let ids = self.targets();
                if ids.is_empty() {
                    return Vec::new();
                }
                let review = if cmd == Pv::Clear { Review::Cleared } else { Review::Excluded };
                let p = store.ask(move |s| {
                    s.set_review(&ids, review, &user)?;
                    Ok(Some(Decision { ids, set: Some(review), ..Default::default() }))
                });
                self.writes.push((Write::Decide, p));
                self.after_decision(store);
            }
            Pv::Redact => {
                let Some(item) = self.current_item() else { return Vec::new() };
                let (id, size) = (item.photo_id, Self::upright_size(item));
                // Nothing found to black out and nothing drawn: say so and stay on the photo
                // (a person may want to draw a rectangle), instead of moving on.
                if let Some(d) = self.current_detail()
                    && boxes_to_redact(&d.findings).is_empty()
                    && d.redactions.is_empty()
                {
                    return vec![(lang.t(T::PvNothingToRedact).to_owned(), true)];
                }
                let p = store.ask(move |s| {
                    let mut d = accept_found(s, id, size, fill, None, &user)?.unwrap_or_default();
                    if d.added.is_empty() && s.redactions(id)?.is_empty() {
                        return Ok(None);
                    }
                    s.set_review(&[id], Review::Redacted, &user)?;
                    d.ids = vec![id];
                    d.set = Some(Review::Redacted);
                    Ok(Some(d))
                });
                self.writes.push((Write::Decide, p));
                self.after_decision(store);
            }
            Pv::RedactAsDrawn => {
                let Some(id) = self.current_id() else { return Vec::new() };
                if self.current_detail().is_some_and(|d| d.redactions.is_empty()) {
                    return vec![(lang.t(T::PvNothingDrawn).to_owned(), true)];
                }
                let p = store.ask(move |s| {
                    s.set_review(&[id], Review::Redacted, &user)?;
                    Ok(Some(Decision { ids: vec![id], set: Some(Review::Redacted), ..Default::default() }))
                });
                self.writes.push((Write::Decide, p));
                self.after_decision(store);
            }
            Pv::AcceptFound | Pv::AcceptBox(_) => {
                let Some(item) = self.current_item() else { return Vec::new() };
                let size = Self::upright_size(item);
                let only = if let Pv::AcceptBox(b) = cmd { Some(b) } else { None };
                self.write_shape(store, T::PvAccepted, move |s, id| accept_found(s, id, size, fill, only, &user));
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
            Pv::SetTool(t) => {
                self.tool = t;
                self.polygon.clear();
                self.drag = None;
                self.selected = None;
            }
            Pv::ToggleFill => {
                self.fill = match self.fill {
                    Fill::Black => Fill::Pixelate,
                    Fill::Pixelate => Fill::Black,
                };
                // The selected shape takes the new fill too.
                if let Some(r) = self.selected_redaction() {
                    let shape = match r.shape.clone() {
                        Shape::Rect { rect, .. } => Some(Shape::Rect { rect, fill: self.fill }),
                        Shape::Polygon { points, .. } => Some(Shape::Polygon { points, fill: self.fill }),
                        Shape::Crop { .. } => None,
                    };
                    if let Some(shape) = shape {
                        return self.run(Pv::ChangeShape(r.id, shape), store, &user, lang);
                    }
                }
            }
            Pv::AddShape(shape) => {
                // One crop per photo: a new one replaces it.
                let crop = self
                    .current_detail()
                    .and_then(|d| d.redactions.iter().find(|r| matches!(r.shape, Shape::Crop { .. })))
                    .map(|r| r.id);
                if let (Shape::Crop { .. }, Some(rid)) = (&shape, crop) {
                    self.tool = DrawTool::Rect;
                    return self.run(Pv::ChangeShape(rid, shape), store, &user, lang);
                }
                let said = match shape {
                    Shape::Rect { .. } => T::PvRectAdded,
                    Shape::Polygon { .. } => T::PvPolygonAdded,
                    Shape::Crop { .. } => {
                        self.tool = DrawTool::Rect;
                        T::PvCropSet
                    }
                };
                self.write_shape(store, said, move |s, id| {
                    let rid = s.add_redaction(id, &shape, &user)?;
                    Ok(Some(Decision { photo: Some(id), added: vec![rid], ..Default::default() }))
                });
            }
            Pv::ChangeShape(rid, shape) => {
                self.write_shape(store, T::PvShapeChanged, move |s, id| {
                    let old = s.replace_redaction(rid, &shape, &user)?;
                    Ok(Some(Decision { photo: Some(id), changed: vec![(rid, old)], ..Default::default() }))
                });
            }
            Pv::SelectShape(id) => self.selected = id,
            Pv::RemoveSelected => {
                if let Some(id) = self.selected {
                    return self.run(Pv::RemoveRedaction(id), store, &user, lang);
                }
            }
            Pv::RemoveRedaction(rid) => {
                self.write_shape(store, T::PvShapeRemoved, move |s, id| {
                    let r = s
                        .redaction(rid)?
                        .ok_or_else(|| crate::Error::Invalid(format!("no redaction with id {rid}")))?;
                    s.remove_redaction(rid, &user)?;
                    Ok(Some(Decision {
                        photo: Some(id),
                        removed: vec![(rid, r.photo_id, r.shape)],
                        ..Default::default()
                    }))
                });
            }
            Pv::PolygonPoint(p) => {
                if self.current_id().is_some() {
                    self.polygon.push(p);
                }
            }
            Pv::PolygonBack => {
                self.polygon.pop();
            }
            Pv::PolygonCancel => self.polygon.clear(),
            Pv::PolygonClose => {
                let points = std::mem::take(&mut self.polygon);
                if points.len() < 3 {
                    return vec![(lang.t(T::PvPolygonShort).to_owned(), true)];
                }
                return self.run(Pv::AddShape(Shape::Polygon { points, fill }), store, &user, lang);
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

    /// Takes back the last write: a decision (its photos pending again, the shapes it added
    /// gone) or a shape added, changed or removed.
    fn undo(&mut self, store: &StoreThread, user: &str, lang: Lang) -> Vec<Message> {
        let Some(mut d) = self.undo.pop() else {
            if self.writes.is_empty() {
                return vec![(lang.t(T::NothingToUndo).to_owned(), false)];
            }
            self.undo_waiting += 1;
            return Vec::new();
        };
        let user = user.to_owned();
        let p = store.ask(move |s| {
            // Shapes removed since by hand are gone already.
            for (rid, old) in d.changed.iter().rev() {
                if s.redaction(*rid)?.is_some() {
                    s.replace_redaction(*rid, old, &user)?;
                }
            }
            for &rid in d.added.iter().rev() {
                if s.redaction(rid)?.is_some() {
                    s.remove_redaction(rid, &user)?;
                }
            }
            for (old, photo, shape) in &d.removed {
                let new = s.add_redaction(*photo, shape, &user)?;
                d.readded.push((*old, new));
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

/// Whether the shapes already cover a found box: at least 90 % of it under rectangles and
/// polygons, or all of it outside the crop (the crop takes it away). R and A add only the
/// boxes not covered, so that a box accepted and then moved or resized is not added again.
pub fn covered(b: [f32; 4], shapes: &[Shape]) -> bool {
    const N: usize = 10;
    let mut inside = 0;
    let mut cropped_away = 0;
    for i in 0..N {
        for j in 0..N {
            let x = b[0] + (b[2] - b[0]) * (i as f32 + 0.5) / N as f32;
            let y = b[1] + (b[3] - b[1]) * (j as f32 + 0.5) / N as f32;
            if shapes.iter().any(|s| shape_contains(s, [x, y])) {
                inside += 1;
            }
            let outside_crop = |s: &Shape| matches!(s, Shape::Crop { rect } if !in_rect(rect, [x, y]));
            if shapes.iter().any(outside_crop) {
                cropped_away += 1;
            }
        }
    }
    inside * 10 >= N * N * 9 || cropped_away == N * N
}

fn in_rect(r: &[f32; 4], p: [f32; 2]) -> bool {
    p[0] >= r[0] && p[0] <= r[2] && p[1] >= r[1] && p[1] <= r[3]
}

/// Whether a redaction covers a point (a crop covers nothing: it keeps).
pub fn shape_contains(s: &Shape, p: [f32; 2]) -> bool {
    match s {
        Shape::Rect { rect, .. } => in_rect(rect, p),
        Shape::Polygon { points, .. } => in_polygon(points, p),
        Shape::Crop { .. } => false,
    }
}

/// Even-odd, as the export burns polygons in.
pub fn in_polygon(poly: &[[f32; 2]], p: [f32; 2]) -> bool {
    let mut c = false;
    let n = poly.len();
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + n - 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0] {
            c = !c;
        }
    }
    c
}

/// Accepts the boxes found on a photo as redactions (`boxes_to_redact`, or just `only`), each
/// a little larger, filled with `fill`; a box the photo's shapes already cover is not added
/// again. Decides nothing. None when nothing was found to cover.
fn accept_found(
    s: &mut Store,
    id: i64,
    size: Vec2,
    fill: Fill,
    only: Option<[f32; 4]>,
    user: &str,
) -> crate::Result<Option<Decision>> {
    let findings = s.screening(id)?.map(|s| s.findings).unwrap_or_default();
    let existing: Vec<Shape> = s.redactions(id)?.into_iter().map(|r| r.shape).collect();
    let boxes = match only {
        Some(b) => vec![b],
        None => boxes_to_redact(&findings),
    };
    if boxes.is_empty() {
        return Ok(None);
    }
    let mut added = Vec::new();
    for b in boxes {
        let shape = Shape::Rect { rect: cover(b, size), fill };
        if !covered(b, &existing) && shape_ok(&shape) {
            added.push(s.add_redaction(id, &shape, user)?);
        }
    }
    Ok(Some(Decision { photo: Some(id), added, ..Default::default() }))
}

fn shape_ok(s: &Shape) -> bool {
    matches!(s, Shape::Rect { rect, .. } if rect[2] > rect[0] && rect[3] > rect[1])
}

/// A part of a selected shape that a drag takes: its inside (moves it), a rectangle's edge or
/// corner (`x`, `y`: -1 the left/top edge, 1 the right/bottom one, 0 neither), or a polygon's
/// corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Grip {
    Move,
    Edge { x: i8, y: i8 },
    Vertex(usize),
}

/// A selected shape being dragged: where the drag began (upright pixels) and the shape then.
#[derive(Clone, Debug)]
pub struct Edit {
    pub id: i64,
    pub grip: Grip,
    pub from: Pos2,
    pub original: Shape,
    pub shape: Shape,
}

/// A shape's handles in upright pixels: a rectangle's four corners and four edge middles, a
/// polygon's corners.
pub fn grips(s: &Shape) -> Vec<(Grip, [f32; 2])> {
    match s {
        Shape::Rect { rect: r, .. } | Shape::Crop { rect: r } => {
            let mut out = Vec::new();
            for y in -1i8..=1 {
                for x in -1i8..=1 {
                    if (x, y) == (0, 0) {
                        continue;
                    }
                    let px = [r[0], (r[0] + r[2]) / 2.0, r[2]][(x + 1) as usize];
                    let py = [r[1], (r[1] + r[3]) / 2.0, r[3]][(y + 1) as usize];
                    out.push((Grip::Edge { x, y }, [px, py]));
                }
            }
            out
        }
        Shape::Polygon { points, .. } => points.iter().enumerate().map(|(i, p)| (Grip::Vertex(i), *p)).collect(),
    }
}

/// The grip of a shape at `p` (within `tol` upright pixels of a handle, else inside it; a
/// crop has no inside to take).
pub fn grip_at(s: &Shape, p: Pos2, tol: f32) -> Option<Grip> {
    let near = grips(s)
        .into_iter()
        .map(|(g, q)| (g, (q[0] - p.x).hypot(q[1] - p.y)))
        .filter(|(_, d)| *d <= tol)
        .min_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((g, _)) = near {
        return Some(g);
    }
    // A crop is taken by its handles only: inside it is the lesion, where shapes are drawn.
    shape_contains(s, [p.x, p.y]).then_some(Grip::Move)
}

/// A shape dragged by a grip by `delta` (upright pixels), kept within the photo (`size`).
pub fn dragged(s: &Shape, grip: Grip, delta: Vec2, size: Vec2) -> Shape {
    let clamp = |p: [f32; 2]| [p[0].clamp(0.0, size.x), p[1].clamp(0.0, size.y)];
    let moved_rect = |r: &[f32; 4]| -> [f32; 4] {
        match grip {
            Grip::Move => {
                let dx = delta.x.clamp(-r[0], size.x - r[2]);
                let dy = delta.y.clamp(-r[1], size.y - r[3]);
                [r[0] + dx, r[1] + dy, r[2] + dx, r[3] + dy]
            }
            Grip::Edge { x, y } => {
                let mut r = *r;
                match x {
                    -1 => r[0] = (r[0] + delta.x).clamp(0.0, size.x),
                    1 => r[2] = (r[2] + delta.x).clamp(0.0, size.x),
                    _ => {}
                }
                match y {
                    -1 => r[1] = (r[1] + delta.y).clamp(0.0, size.y),
                    1 => r[3] = (r[3] + delta.y).clamp(0.0, size.y),
                    _ => {}
                }
                [r[0].min(r[2]), r[1].min(r[3]), r[0].max(r[2]), r[1].max(r[3])]
            }
            Grip::Vertex(_) => *r,
        }
    };
    match s {
        Shape::Rect { rect, fill } => Shape::Rect { rect: moved_rect(rect), fill: *fill },
        Shape::Crop { rect } => Shape::Crop { rect: moved_rect(rect) },
        Shape::Polygon { points, fill } => {
            let points = match grip {
                Grip::Vertex(i) => points
                    .iter()
                    .enumerate()
                    .map(|(j, p)| if i == j { clamp([p[0] + delta.x, p[1] + delta.y]) } else { *p })
                    .collect(),
                _ => {
                    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
                    for p in points {
                        (x0, y0, x1, y1) = (x0.min(p[0]), y0.min(p[1]), x1.max(p[0]), y1.max(p[1]));
                    }
                    let dx = delta.x.clamp(-x0, size.x - x1);
                    let dy = delta.y.clamp(-y0, size.y - y1);
                    points.iter().map(|p| [p[0] + dx, p[1] + dy]).collect()
                }
            };
            Shape::Polygon { points, fill: *fill }
        }
    }
}

/// Whether a shape is still worth keeping after a drag (a rectangle of at least 2 x 2 pixels).
pub fn usable(s: &Shape) -> bool {
    match s {
        Shape::Rect { rect, .. } | Shape::Crop { rect } => rect[2] - rect[0] >= 2.0 && rect[3] - rect[1] >= 2.0,
        Shape::Polygon { points, .. } => points.len() >= 3,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_found_box_is_covered_by_shapes_over_most_of_it_or_a_crop_that_leaves_it_out() {
        let b = [10.0, 10.0, 30.0, 30.0];
        let rect = |r: [f32; 4]| Shape::Rect { rect: r, fill: Fill::Black };
        assert!(covered(b, &[rect([8.0, 8.0, 32.0, 32.0])]), "the accepted box, a little larger");
        assert!(covered(b, &[rect([10.0, 10.0, 30.0, 29.0])]), "resized by a pixel");
        assert!(!covered(b, &[rect([10.0, 10.0, 20.0, 30.0])]), "half of it");
        assert!(covered(b, &[rect([10.0, 10.0, 20.0, 30.0]), rect([20.0, 10.0, 30.0, 30.0])]), "two halves");
        let tri = Shape::Polygon { points: vec![[0.0, 0.0], [60.0, 0.0], [0.0, 60.0]], fill: Fill::Pixelate };
        assert!(covered(b, &[tri]));
        assert!(covered(b, &[Shape::Crop { rect: [40.0, 40.0, 90.0, 90.0] }]), "cropped away");
        assert!(!covered(b, &[Shape::Crop { rect: [20.0, 20.0, 90.0, 90.0] }]), "partly kept");
    }

    #[test]
    fn handles_resize_and_move_within_the_photo() {
        let size = Vec2::new(100.0, 80.0);
        let r = Shape::Rect { rect: [10.0, 10.0, 40.0, 30.0], fill: Fill::Black };
        assert_eq!(grip_at(&r, Pos2::new(40.5, 30.5), 2.0), Some(Grip::Edge { x: 1, y: 1 }));
        assert_eq!(grip_at(&r, Pos2::new(25.0, 10.0), 2.0), Some(Grip::Edge { x: 0, y: -1 }));
        assert_eq!(grip_at(&r, Pos2::new(20.0, 20.0), 2.0), Some(Grip::Move));
        assert_eq!(grip_at(&r, Pos2::new(60.0, 60.0), 2.0), None);
        let grown = dragged(&r, Grip::Edge { x: 1, y: 1 }, Vec2::new(10.0, 5.0), size);
        assert_eq!(grown, Shape::Rect { rect: [10.0, 10.0, 50.0, 35.0], fill: Fill::Black });
        // Dragged past the other edge: still a rectangle, the edges swapped.
        let flipped = dragged(&r, Grip::Edge { x: -1, y: 0 }, Vec2::new(40.0, 0.0), size);
        assert_eq!(flipped, Shape::Rect { rect: [40.0, 10.0, 50.0, 30.0], fill: Fill::Black });
        let moved = dragged(&r, Grip::Move, Vec2::new(100.0, -100.0), size);
        assert_eq!(moved, Shape::Rect { rect: [70.0, 0.0, 100.0, 20.0], fill: Fill::Black }, "kept inside");
        let crop = Shape::Crop { rect: [10.0, 10.0, 40.0, 30.0] };
        assert_eq!(grip_at(&crop, Pos2::new(20.0, 20.0), 2.0), None, "a crop's inside is for drawing");
        let poly = Shape::Polygon { points: vec![[10.0, 10.0], [50.0, 10.0], [30.0, 40.0]], fill: Fill::Black };
        assert_eq!(grip_at(&poly, Pos2::new(49.0, 11.0), 2.0), Some(Grip::Vertex(1)));
        let bent = dragged(&poly, Grip::Vertex(2), Vec2::new(0.0, 100.0), size);
        assert_eq!(bent, Shape::Polygon { points: vec![[10.0, 10.0], [50.0, 10.0], [30.0, 80.0]], fill: Fill::Black });
    }
}
