//! The annotation panel's state: the photo at full resolution, its lesions, the mask being
//! edited with its undo history, and the overlay textures. Edits come in as `Ann` commands
//! (from `annotate.rs`, shortcuts and the palette) and are applied here; every change
//! reports a dirty rectangle and only the overlay tiles under it are redrawn and re-uploaded
//! (`TextureHandle::set_partial`). Loading and saving run on threads: the UI thread never
//! reads a file or touches SQLite.

use super::command::{Ann, Tool};
use crate::masks::layer::{self, Layer, Source};
use crate::masks::{Encoded, History, Mask, PixelRect, ReviewAction, ReviewStatus, Role, smart, tools};
use crate::store::{LesionRow, Saved, Store};
use egui::{Color32, ColorImage, Pos2, Rect, TextureHandle, TextureOptions, Vec2};
use poll_promise::Promise;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Instant;

/// Photo tiles: within every GPU's limit (as the viewer).
pub const PHOTO_TILE: usize = 2048;
/// Overlay tiles: small enough that building one fits in a frame's budget.
pub const OVERLAY_TILE: u32 = 512;
/// Time per frame spent building overlay tiles that are not yet built (opening, toggling).
const BUILD_BUDGET_MS: f64 = 6.0;

/// Okabe–Ito: distinguishable with any colour vision, on skin as on a white background.
pub const PALETTE: [Color32; 7] = [
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(86, 180, 233),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(240, 228, 66),
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(213, 94, 0),
    Color32::from_rgb(204, 121, 167),
];

/// One lesion in the panel.
pub struct Lesion {
    /// Local key (lesions drawn in this session have no database id until the writer says).
    pub key: u64,
    pub row: Option<LesionRow>,
    pub label: String,
    pub note: String,
    pub status: ReviewStatus,
    pub annotator: Option<String>,
    pub visible: bool,
    pub colour: usize,
    /// Compact form for display while not being edited.
    pub layer: Layer,
    /// The full mask while this lesion is the one being edited.
    pub mask: Option<Mask>,
    pub history: History,
    /// Pixels set, counted when an edit ends (counting a 24-MP mask every frame would not do).
    counted: Option<u64>,
}

impl Lesion {
    pub fn id(&self) -> Option<i64> {
        self.row.as_ref().map(|r| r.id)
    }

    pub fn pixels(&self) -> u64 {
        self.counted.unwrap_or_else(|| self.row.as_ref().and_then(|r| r.version.as_ref()).map_or(0, |v| v.pixels))
    }

    /// Where this lesion may have pixels (the edited mask grows with each change).
    fn extent(&self, edited: PixelRect) -> PixelRect {
        if self.mask.is_some() { self.layer.bbox.union(&edited) } else { self.layer.bbox }
    }
}

pub struct Loaded {
    pub hash: String,
    pub image: Arc<image::RgbImage>,
    pub tiles: Vec<(Rect, ColorImage)>,
    pub lesions: Vec<(LesionRow, Layer)>,
}

/// What the writer thread is asked to do, in order.
enum Write {
    /// A lesion already in the store, known by this key from now on.
    Known {
        key: u64,
        id: i64,
    },
    Create {
        key: u64,
        hash: String,
        label: String,
    },
    Save {
        key: u64,
        mask: Mask,
    },
    Label {
        key: u64,
        label: String,
        note: String,
    },
    Review {
        key: u64,
        action: ReviewAction,
        role: Option<Role>,
        comment: String,
    },
    Delete {
        key: u64,
    },
}

/// What it answers.
pub enum Written {
    Created { key: u64, row: Box<LesionRow> },
    Saved { key: u64, saved: Saved },
    Reviewed { key: u64, status: ReviewStatus },
    Failed { key: u64, error: String },
}

struct OverlayTile {
    rect: PixelRect,
    tex: Option<TextureHandle>,
    /// Needs building from scratch (never built, or everything in it changed).
    stale: bool,
    /// Known to show nothing (no texture needed).
    empty: bool,
}

pub enum State {
    Loading(Promise<Result<Loaded, String>>),
    Ready,
    Failed(String),
}

pub struct Annotator {
    pub photo_id: i64,
    pub hash: String,
    pub state: State,
    pub width: u32,
    pub height: u32,
    image: Option<Arc<image::RgbImage>>,
    photo_tiles: Vec<(Rect, TextureHandle)>,
    overlay: Vec<OverlayTile>,
    pub lesions: Vec<Lesion>,
    /// Index into `lesions` of the one being edited.
    pub active: Option<usize>,
    /// Rectangle the edited mask may cover (its bbox at the start, grown by each change).
    edited_extent: PixelRect,
    pub tool: Tool,
    /// Brush diameter in image pixels.
    pub brush: f32,
    pub tolerance: u8,
    pub opacity: f32,
    pub outline: bool,
    /// Points of the polygon or lasso being drawn.
    pub polygon: Vec<Pos2>,
    /// The last point of the stroke in progress.
    stroke_at: Option<Pos2>,
    /// The smart tool's box being dragged (image coordinates).
    pub drag_box: Option<(Pos2, Pos2)>,
    // View: screen points per image pixel (None = fit), and the image point at the centre.
    zoom: Option<f32>,
    pub centre: Pos2,
    pub last_fit: f32,
    /// Where the canvas was on screen last frame (tests and the benchmark aim with it).
    pub view: Rect,
    writer: Option<mpsc::Sender<Write>>,
    written: mpsc::Receiver<Written>,
    writer_thread: Option<std::thread::JoinHandle<()>>,
    next_key: u64,
    pub session: String,
    pub me: String,
    pub errors: Vec<String>,
    /// The reviewer's comment being typed.
    pub comment: String,
    /// Overlay pixels redrawn, for tests and the benchmark.
    pub overlay_pixels_drawn: u64,
    /// The lesion to make active once loaded (opened from the review queue).
    want_active: Option<i64>,
    /// A wand or smart-tool region being computed on a thread (hundreds of milliseconds on a
    /// 24-MP photo: the panel keeps drawing meanwhile), and whether it adds or takes away.
    pending: Option<(Promise<crate::masks::Stamp>, bool)>,
    /// The database (the model registry is read from it when a proposal is asked for).
    db: PathBuf,
    /// A segmentation model's proposal being computed on a thread.
    proposing: Option<Promise<Result<Proposed, Notice>>>,
    /// What the last proposal said, for the panel's status line.
    pub notice: Option<Notice>,
}

/// A segmentation model's lesion, at the photo's full resolution.
pub struct Proposed {
    pub mask: Mask,
    pub model: String,
    pub version: String,
}

/// The status line's word on a model proposal.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    Proposing,
    /// Put in as an undoable edit of the lesion being edited.
    Proposed {
        model: String,
        version: String,
        pixels: u64,
    },
    /// The model ran but found nothing.
    NothingFound {
        model: String,
        version: String,
    },
    NoSegmenter,
    Failed(String),
}

/// Runs the newest registered segmentation model on the photo (on a thread).
fn propose(db: &std::path::Path, img: &image::RgbImage) -> Result<Proposed, Notice> {
    let fail = |e: &dyn std::fmt::Display| Notice::Failed(e.to_string());
    let mut store = Store::open_reader(db).map_err(|e| fail(&e))?;
    // The demo models, if this database has not registered them yet (problems with them
    // leave the others usable).
    let _ = crate::models::registry::open(&mut store);
    let models = crate::models::registry::list(&store).map_err(|e| fail(&e))?;
    drop(store);
    let info = crate::models::propose::pick(&models).ok_or(Notice::NoSegmenter)?;
    let mask = crate::models::propose::propose_with(info, img).map_err(|e| fail(&e))?;
    Ok(Proposed { mask, model: info.name().to_owned(), version: info.version().to_owned() })
}

fn photo_opts() -> TextureOptions {
    TextureOptions {
        magnification: egui::TextureFilter::Nearest,
        minification: egui::TextureFilter::Linear,
        mipmap_mode: Some(egui::TextureFilter::Linear),
        ..TextureOptions::LINEAR
    }
}

fn overlay_opts() -> TextureOptions {
    TextureOptions { magnification: egui::TextureFilter::Nearest, ..TextureOptions::LINEAR }
}

/// Loads a photo's pixels and lesions (on a background thread).
pub fn load(db: &std::path::Path, worker_exe: &std::path::Path, photo_id: i64) -> Result<Loaded, String> {
    let store = Store::open_reader(db).map_err(|e| e.to_string())?;
    let detail = store.photo(photo_id).map_err(|e| e.to_string())?.ok_or(format!("no photo with id {photo_id}"))?;
    let hash = detail.row.hash.clone();
    let path = detail.row.paths.first().ok_or_else(|| "none of this photo's files can be found".to_owned())?;
    let image = crate::masks::PixelReader::new(worker_exe)
        .read(std::path::Path::new(path), detail.row.orientation, &hash)
        .map_err(|e| e.to_string())?;
    let mut lesions = Vec::new();
    for row in store.lesions_of(&hash).map_err(|e| e.to_string())? {
        let layer = match store.lesion_mask(row.id).map_err(|e| e.to_string())? {
            Some(enc) => Layer::from_encoded(&enc).map_err(|e| e.to_string())?,
            None => Layer::default(),
        };
        lesions.push((row, layer));
    }
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut tiles = Vec::new();
    for ty in (0..h).step_by(PHOTO_TILE) {
        for tx in (0..w).step_by(PHOTO_TILE) {
            let (tw, th) = (PHOTO_TILE.min(w - tx), PHOTO_TILE.min(h - ty));
            let mut rgb = Vec::with_capacity(tw * th * 3);
            for y in ty..ty + th {
                let row = (y * w + tx) * 3;
                rgb.extend_from_slice(&image.as_raw()[row..row + tw * 3]);
            }
            let rect = Rect::from_min_size(Pos2::new(tx as f32, ty as f32), Vec2::new(tw as f32, th as f32));
            tiles.push((rect, ColorImage::from_rgb([tw, th], &rgb)));
        }
    }
    Ok(Loaded { hash, image: Arc::new(image), tiles, lesions })
}

fn writer_loop(
    db: PathBuf,
    me: String,
    session: String,
    rx: mpsc::Receiver<Write>,
    tx: mpsc::Sender<Written>,
    ctx: egui::Context,
) {
    let mut store = match Store::open_reader(&db) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Written::Failed { key: 0, error: e.to_string() });
            return;
        }
    };
    let mut ids: std::collections::HashMap<u64, i64> = std::collections::HashMap::new();
    for w in rx {
        let answer = match w {
            Write::Known { key, id } => {
                ids.insert(key, id);
                continue;
            }
            Write::Create { key, hash, label } => match store.create_lesion(&hash, &label, "", &me) {
                Ok(row) => {
                    ids.insert(key, row.id);
                    Written::Created { key, row: Box::new(row) }
                }
                Err(e) => Written::Failed { key, error: e.to_string() },
            },
            Write::Save { key, mask } => match ids.get(&key) {
                None => Written::Failed { key, error: "the lesion was not created".into() },
                Some(&id) => match store.save_mask(id, &Encoded::of(&mask), &me, &session) {
                    Ok(saved) => Written::Saved { key, saved },
                    Err(e) => Written::Failed { key, error: e.to_string() },
                },
            },
            Write::Label { key, label, note } => match ids.get(&key) {
                None => Written::Failed { key, error: "the lesion was not created".into() },
                Some(&id) => match store.set_lesion_label(id, &label, &note, &me) {
                    Ok(()) => continue,
                    Err(e) => Written::Failed { key, error: e.to_string() },
                },
            },
            Write::Review { key, action, role, comment } => match ids.get(&key) {
                None => Written::Failed { key, error: "the lesion was not created".into() },
                Some(&id) => match store.review_lesion(id, action, &me, role, &comment) {
                    Ok(status) => Written::Reviewed { key, status },
                    Err(e) => Written::Failed { key, error: e.to_string() },
                },
            },
            Write::Delete { key } => match ids.get(&key) {
                None => continue,
                Some(&id) => match store.delete_lesion(id, &me) {
                    Ok(()) => continue,
                    Err(e) => Written::Failed { key, error: e.to_string() },
                },
            },
        };
        if tx.send(answer).is_err() {
            return;
        }
        ctx.request_repaint();
    }
}

impl Annotator {
    pub fn open(
        db: PathBuf,
        worker_exe: PathBuf,
        me: String,
        photo_id: i64,
        want_active: Option<i64>,
        ctx: &egui::Context,
    ) -> Annotator {
        let session = format!("{me}-{}-{}-{photo_id}", crate::util::now_iso(), std::process::id());
        let (c, db2) = (ctx.clone(), db.clone());
        let state = State::Loading(Promise::spawn_thread("annotate-load", move || {
            let r = load(&db2, &worker_exe, photo_id);
            c.request_repaint();
            r
        }));
        let (wtx, wrx) = mpsc::channel();
        let (atx, arx) = mpsc::channel();
        let (c, me2, s2) = (ctx.clone(), me.clone(), session.clone());
        let thread = std::thread::Builder::new()
            .name("mask-writer".into())
            .spawn({
                let db = db.clone();
                move || writer_loop(db, me2, s2, wrx, atx, c)
            })
            .ok();
        Annotator {
            photo_id,
            hash: String::new(),
            state,
            width: 0,
            height: 0,
            image: None,
            photo_tiles: Vec::new(),
            overlay: Vec::new(),
            lesions: Vec::new(),
            active: None,
            edited_extent: PixelRect::default(),
            tool: Tool::Brush,
            brush: 24.0,
            tolerance: 24,
            opacity: 0.5,
            outline: false,
            polygon: Vec::new(),
            stroke_at: None,
            drag_box: None,
            zoom: None,
            centre: Pos2::ZERO,
            last_fit: 1.0,
            view: Rect::NOTHING,
            writer: Some(wtx),
            written: arx,
            writer_thread: thread,
            next_key: 1,
            session,
            me,
            errors: Vec::new(),
            comment: String::new(),
            overlay_pixels_drawn: 0,
            want_active,
            pending: None,
            db,
            proposing: None,
            notice: None,
        }
    }

    pub fn is_loading(&self) -> bool {
        matches!(self.state, State::Loading(_))
    }

    pub fn image(&self) -> Option<&Arc<image::RgbImage>> {
        self.image.as_ref()
    }

    pub fn photo_tiles(&self) -> &[(Rect, TextureHandle)] {
        &self.photo_tiles
    }

    /// Overlay textures to draw: (image rectangle, texture).
    pub fn overlay_tiles(&self) -> impl Iterator<Item = (PixelRect, &TextureHandle)> {
        self.overlay.iter().filter_map(|t| t.tex.as_ref().map(|x| (t.rect, x)))
    }

    fn send(&mut self, w: Write) {
        if let Some(tx) = &self.writer
            && tx.send(w).is_err()
        {
            self.errors.push("the mask writer stopped; changes are not being saved".into());
        }
    }

    /// Moves a finished load onto the GPU, applies a tool's finished region and takes the
    /// writer's answers (from `logic`).
    pub fn poll(&mut self, ctx: &egui::Context) {
        if self.pending.as_ref().is_some_and(|(p, _)| p.ready().is_some())
            && let Some((p, add)) = self.pending.take()
        {
            let stamp = p.block_and_take();
            self.step(&stamp, add);
        }
        if self.proposing.as_ref().is_some_and(|p| p.ready().is_some())
            && let Some(p) = self.proposing.take()
        {
            self.take_proposal(p.block_and_take());
        }
        if self.pending.is_some() || self.proposing.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(30));
        }
        while let Ok(w) = self.written.try_recv() {
            match w {
                Written::Created { key, row } => {
                    if let Some(l) = self.lesions.iter_mut().find(|l| l.key == key) {
                        l.status = row.status;
                        l.row = Some(*row);
                    }
                }
                Written::Saved { key, saved } => {
                    if let Some(l) = self.lesions.iter_mut().find(|l| l.key == key) {
                        l.status = saved.status;
                        l.history.mark_saved();
                        l.annotator = Some(self.me.clone());
                    }
                }
                Written::Reviewed { key, status } => {
                    if let Some(l) = self.lesions.iter_mut().find(|l| l.key == key) {
                        l.status = status;
                    }
                }
                Written::Failed { error, .. } => self.errors.push(error),
            }
        }
        let State::Loading(p) = &self.state else { return };
        if p.ready().is_none() {
            return;
        }
        let State::Loading(p) = std::mem::replace(&mut self.state, State::Ready) else { return };
        match p.block_and_take() {
            Ok(l) => self.take(l, ctx),
            Err(e) => self.state = State::Failed(e),
        }
    }

    fn take(&mut self, l: Loaded, ctx: &egui::Context) {
        self.hash = l.hash;
        self.width = l.image.width();
        self.height = l.image.height();
        self.image = Some(l.image);
        self.photo_tiles = l
            .tiles
            .into_iter()
            .enumerate()
            .map(|(i, (r, img))| (r, ctx.load_texture(format!("annotate-{}-{i}", self.photo_id), img, photo_opts())))
            .collect();
        self.centre = Pos2::new(self.width as f32 / 2.0, self.height as f32 / 2.0);
        for (row, layer) in l.lesions {
            let key = self.next_key;
            self.next_key += 1;
            let colour = self.lesions.len() % PALETTE.len();
            self.lesions.push(Lesion {
                key,
                label: row.label.clone(),
                note: row.note.clone(),
                status: row.status,
                annotator: row.version.as_ref().map(|v| v.annotator.clone()),
                row: Some(row),
                visible: true,
                colour,
                layer,
                mask: None,
                history: History::new(),
                counted: None,
            });
        }
        // The writer knows lesions by key: tell it the ids of those already stored.
        let known: Vec<(u64, i64)> = self.lesions.iter().filter_map(|l| l.id().map(|id| (l.key, id))).collect();
        for (key, id) in known {
            self.send(Write::Known { key, id });
        }
        self.overlay.clear();
        for ty in (0..self.height).step_by(OVERLAY_TILE as usize) {
            for tx in (0..self.width).step_by(OVERLAY_TILE as usize) {
                let rect = PixelRect::from_bounds(
                    tx,
                    ty,
                    (tx + OVERLAY_TILE).min(self.width),
                    (ty + OVERLAY_TILE).min(self.height),
                );
                self.overlay.push(OverlayTile { rect, tex: None, stale: true, empty: false });
            }
        }
        let want = self.want_active.take();
        let idx = want.and_then(|id| self.lesions.iter().position(|l| l.id() == Some(id)));
        if let Some(i) = idx.or(if self.lesions.is_empty() { None } else { Some(0) }) {
            self.activate(i);
        }
    }

    /// The mask being edited.
    pub fn active_mask(&self) -> Option<&Mask> {
        self.active_lesion().and_then(|l| l.mask.as_ref())
    }

    /// Where an image point is on screen (as last drawn).
    pub fn screen_pos(&self, x: f32, y: f32) -> Pos2 {
        self.to_screen(Pos2::new(x, y), self.view)
    }

    /// Overlay tiles on the GPU, and those not built yet.
    pub fn overlay_counts(&self) -> (usize, usize) {
        (self.overlay.iter().filter(|t| t.tex.is_some()).count(), self.overlay.iter().filter(|t| t.stale).count())
    }

    pub fn active_lesion(&self) -> Option<&Lesion> {
        self.active.and_then(|i| self.lesions.get(i))
    }

    /// Makes lesion `i` the one being edited (its mask is decoded from its layer).
    pub fn activate(&mut self, i: usize) {
        if self.active == Some(i) || i >= self.lesions.len() {
            return;
        }
        self.end_stroke();
        if let Some(prev) = self.active.and_then(|p| self.lesions.get_mut(p))
            && let Some(m) = prev.mask.take()
        {
            prev.layer = Layer::from_mask(&m);
        }
        let (w, h) = (self.width, self.height);
        let l = &mut self.lesions[i];
        let mut m = Mask::new(w, h);
        let bb = l.layer.bbox;
        if !bb.is_empty() {
            let mut buf = vec![0u16; bb.area() as usize];
            l.layer.cover(bb, &mut buf, 1);
            let stamp = crate::masks::Stamp { rect: bb, bits: buf.iter().map(|&v| v as u8).collect() };
            tools::paint(&mut m, &stamp, true);
        }
        l.mask = Some(m);
        self.edited_extent = bb;
        self.active = Some(i);
    }

    /// A new, empty lesion, made active. The store gets it at once (through the writer).
    pub fn new_lesion(&mut self) {
        let key = self.next_key;
        self.next_key += 1;
        let colour = self.lesions.iter().map(|l| l.colour + 1).max().unwrap_or(0) % PALETTE.len();
        self.lesions.push(Lesion {
            key,
            row: None,
            label: crate::masks::DEFAULT_LABEL.to_owned(),
            note: String::new(),
            status: ReviewStatus::Draft,
            annotator: Some(self.me.clone()),
            visible: true,
            colour,
            layer: Layer::default(),
            mask: None,
            history: History::new(),
            counted: Some(0),
        });
        self.send(Write::Create { key, hash: self.hash.clone(), label: crate::masks::DEFAULT_LABEL.to_owned() });
        self.activate(self.lesions.len() - 1);
    }

    fn ensure_active(&mut self) -> Option<usize> {
        if self.active.is_none() {
            self.new_lesion();
        }
        self.active
    }

    // ---- View ----

    pub fn zoom(&self) -> f32 {
        self.zoom.unwrap_or(self.last_fit)
    }

    pub fn zoom_by(&mut self, f: f32) {
        self.zoom = Some((self.zoom() * f).clamp(0.01, super::viewer::MAX_ZOOM));
    }

    pub fn zoom_fit(&mut self) {
        self.zoom = None;
        self.centre = Pos2::new(self.width as f32 / 2.0, self.height as f32 / 2.0);
    }

    pub fn zoom_actual(&mut self, ppp: f32) {
        self.zoom = Some(1.0 / ppp);
    }

    pub fn is_fit(&self) -> bool {
        self.zoom.is_none()
    }

    pub fn to_screen(&self, p: Pos2, view: Rect) -> Pos2 {
        view.center() + (p - self.centre) * self.zoom()
    }

    pub fn to_image(&self, p: Pos2, view: Rect) -> Pos2 {
        self.centre + (p - view.center()) / self.zoom()
    }

    // ---- Edits ----

    /// Runs one annotation command.
    pub fn run(&mut self, a: Ann) {
        match a {
            Ann::SetTool(t) => {
                self.end_stroke();
                self.polygon.clear();
                self.tool = t;
            }
            Ann::BrushBigger => self.brush = (self.brush * 1.25).clamp(1.0, 2000.0),
            Ann::BrushSmaller => self.brush = (self.brush / 1.25).clamp(1.0, 2000.0),
            Ann::Undo => {
                self.end_stroke();
                if let Some(i) = self.active {
                    let l = &mut self.lesions[i];
                    let dirty = l.mask.as_mut().and_then(|m| l.history.undo(m));
                    self.changed(dirty);
                    self.save_active();
                }
            }
            Ann::Redo => {
                self.end_stroke();
                if let Some(i) = self.active {
                    let l = &mut self.lesions[i];
                    let dirty = l.mask.as_mut().and_then(|m| l.history.redo(m));
                    self.changed(dirty);
                    self.save_active();
                }
            }
            Ann::NewLesion => self.new_lesion(),
            Ann::Select(key) => {
                if let Some(i) = self.lesions.iter().position(|l| l.key == key) {
                    self.activate(i);
                }
            }
            Ann::ToggleVisible(key) => {
                if let Some(l) = self.lesions.iter_mut().find(|l| l.key == key) {
                    l.visible = !l.visible;
                    let r = if self.active.is_some_and(|i| self.lesions[i].key == key) {
                        self.lesions[self.active.unwrap_or(0)].extent(self.edited_extent)
                    } else {
                        self.lesions.iter().find(|l| l.key == key).map(|l| l.layer.bbox).unwrap_or_default()
                    };
                    self.mark_stale(r);
                }
            }
            Ann::ShowAll(on) => {
                for l in &mut self.lesions {
                    l.visible = on;
                }
                self.mark_stale(PixelRect::new(0, 0, self.width, self.height));
            }
            Ann::ToggleOutline => {
                self.outline = !self.outline;
                self.mark_stale(PixelRect::new(0, 0, self.width, self.height));
            }
            Ann::Opacity(o) => self.opacity = o.clamp(0.05, 1.0),
            Ann::Tolerance(t) => self.tolerance = t,
            Ann::StrokeBegin(p) => {
                self.end_stroke();
                if let Some(i) = self.ensure_active() {
                    self.lesions[i].history.begin_stroke();
                    self.stroke_at = Some(p);
                    self.dab(p, p);
                }
            }
            Ann::StrokeTo(p) => {
                if let Some(from) = self.stroke_at {
                    self.dab(from, p);
                    self.stroke_at = Some(p);
                }
            }
            Ann::StrokeEnd => self.end_stroke(),
            Ann::PolygonPoint(p) => self.polygon.push(p),
            Ann::PolygonClose => {
                let pts: Vec<(f32, f32)> = self.polygon.drain(..).map(|p| (p.x, p.y)).collect();
                let stamp = tools::polygon(&self.bounds(), &pts);
                let on = self.tool != Tool::Eraser;
                self.step(&stamp, on);
            }
            Ann::PolygonCancel => self.polygon.clear(),
            Ann::Wand(p, add) => {
                let tolerance = self.tolerance;
                self.compute(add, move |img| tools::wand(img, (p.x.max(0.0) as u32, p.y.max(0.0) as u32), tolerance));
            }
            Ann::SmartClick(p) => {
                self.compute(true, move |img| {
                    smart::grow(img, smart::Seed::Click(p.x.max(0.0) as u32, p.y.max(0.0) as u32))
                });
            }
            Ann::SmartBox(a, b) => {
                let r = PixelRect::from_bounds(
                    a.x.min(b.x).max(0.0) as u32,
                    a.y.min(b.y).max(0.0) as u32,
                    a.x.max(b.x).max(0.0) as u32,
                    a.y.max(b.y).max(0.0) as u32,
                );
                self.compute(true, move |img| smart::grow(img, smart::Seed::Box(r)));
            }
            Ann::Propose => self.start_proposal(),
            Ann::FillHoles => {
                if let Some(m) = self.active.and_then(|i| self.lesions[i].mask.as_ref()) {
                    let stamp = tools::holes(m);
                    self.step(&stamp, true);
                }
            }
            Ann::SetLabel(key, label, note) => {
                if let Some(l) = self.lesions.iter_mut().find(|l| l.key == key) {
                    l.label = label.clone();
                    l.note = note.clone();
                }
                self.send(Write::Label { key, label, note });
            }
            Ann::Review(key, action, role, comment) => self.send(Write::Review { key, action, role, comment }),
            Ann::Delete(key) => {
                if let Some(i) = self.lesions.iter().position(|l| l.key == key) {
                    self.end_stroke();
                    let r = self.lesions[i].extent(self.edited_extent);
                    self.lesions.remove(i);
                    self.active = None;
                    self.send(Write::Delete { key });
                    self.mark_stale(r);
                    if !self.lesions.is_empty() {
                        self.activate(i.min(self.lesions.len() - 1));
                    }
                }
            }
        }
    }

    /// Runs a tool that reads the photo on a thread; its region is applied when it arrives
    /// (`poll`). A click while one is running is ignored.
    fn compute(&mut self, add: bool, f: impl FnOnce(&image::RgbImage) -> crate::masks::Stamp + Send + 'static) {
        if self.pending.is_some() {
            return;
        }
        let Some(img) = self.image.clone() else { return };
        self.end_stroke();
        self.pending = Some((Promise::spawn_thread("mask-tool", move || f(&img)), add));
    }

    /// Whether a wand or smart-tool region, or a model's proposal, is being computed.
    pub fn is_computing(&self) -> bool {
        self.pending.is_some() || self.proposing.is_some()
    }

    /// Asks the newest segmentation model for the lesion (on a thread; `poll` puts it in).
    fn start_proposal(&mut self) {
        if self.proposing.is_some() {
            return;
        }
        let Some(img) = self.image.clone() else { return };
        self.end_stroke();
        let db = self.db.clone();
        self.notice = Some(Notice::Proposing);
        self.proposing = Some(Promise::spawn_thread("mask-propose", move || propose(&db, &img)));
    }

    /// Puts a proposal in as one undoable edit: into the lesion being edited when it is
    /// still empty, else into a new lesion (nobody's pixels are replaced).
    fn take_proposal(&mut self, r: Result<Proposed, Notice>) {
        let p = match r {
            Ok(p) => p,
            Err(n) => {
                self.notice = Some(n);
                return;
            }
        };
        let bb = p.mask.bbox();
        if bb.is_empty() {
            self.notice = Some(Notice::NothingFound { model: p.model, version: p.version });
            return;
        }
        if (p.mask.width(), p.mask.height()) != (self.width, self.height) {
            self.notice = Some(Notice::Failed("the proposal does not match the photo's size".into()));
            return;
        }
        let busy = self.active_mask().is_some_and(|m| !m.bbox().is_empty());
        if busy {
            self.new_lesion();
        }
        self.step(&p.mask.crop(bb), true);
        self.notice = Some(Notice::Proposed { model: p.model, version: p.version, pixels: p.mask.count() });
    }

    fn bounds(&self) -> PixelRect {
        PixelRect::new(0, 0, self.width, self.height)
    }

    fn dab(&mut self, from: Pos2, to: Pos2) {
        let stamp = tools::stroke(&self.bounds(), (from.x, from.y), (to.x, to.y), self.brush / 2.0);
        let on = self.tool != Tool::Eraser;
        if let Some(i) = self.active {
            let l = &mut self.lesions[i];
            let dirty = l.mask.as_mut().and_then(|m| l.history.apply(m, &stamp, on));
            self.changed(dirty);
        }
    }

    /// One click's edit: its own undo step, saved at once.
    fn step(&mut self, stamp: &crate::masks::Stamp, on: bool) {
        self.end_stroke();
        if stamp.is_empty() {
            return;
        }
        let Some(i) = self.ensure_active() else { return };
        let l = &mut self.lesions[i];
        let dirty = l.mask.as_mut().and_then(|m| l.history.apply(m, stamp, on));
        self.changed(dirty);
        self.save_active();
    }

    fn end_stroke(&mut self) {
        self.stroke_at = None;
        if let Some(i) = self.active
            && self.lesions[i].history.end_stroke()
        {
            self.save_active();
        }
    }

    /// Hands the edited mask to the writer (after every stroke: a crash loses at most the
    /// stroke in progress).
    fn save_active(&mut self) {
        let Some(i) = self.active else { return };
        let l = &mut self.lesions[i];
        if !l.history.unsaved() {
            return;
        }
        if let Some(m) = &l.mask {
            l.counted = Some(m.count());
            let w = Write::Save { key: l.key, mask: m.clone() };
            self.send(w);
        }
    }

    fn changed(&mut self, dirty: Option<PixelRect>) {
        let Some(d) = dirty else { return };
        self.edited_extent = self.edited_extent.union(&d);
        // An edge moves with its neighbours: one more pixel around it for outlines.
        let grown = PixelRect::from_bounds(d.x.saturating_sub(1), d.y.saturating_sub(1), d.right() + 1, d.bottom() + 1)
            .intersect(&self.bounds());
        self.redraw(grown);
    }

    fn mark_stale(&mut self, r: PixelRect) {
        for t in &mut self.overlay {
            if !t.rect.intersect(&r).is_empty() {
                t.stale = true;
                t.empty = false;
            }
        }
    }

    fn sources(&self) -> Vec<(Source<'_>, usize)> {
        self.lesions
            .iter()
            .filter(|l| l.visible)
            .map(|l| match &l.mask {
                Some(m) => (Source::Mask(m), l.colour),
                None => (Source::Layer(&l.layer), l.colour),
            })
            .collect()
    }

    fn colours(&self, rect: PixelRect) -> ColorImage {
        let visible = self.sources();
        let colours: Vec<usize> = visible.iter().map(|(_, c)| *c).collect();
        let srcs: Vec<Source<'_>> = visible.into_iter().map(|(s, _)| s).collect();
        let labels = layer::paint_labels(rect, &srcs, self.outline);
        let pixels = labels
            .iter()
            .map(|&v| if v == 0 { Color32::TRANSPARENT } else { PALETTE[colours[v as usize - 1]] })
            .collect();
        ColorImage {
            size: [rect.w as usize, rect.h as usize],
            source_size: Vec2::new(rect.w as f32, rect.h as f32),
            pixels,
        }
    }

    /// Redraws the part `r` of the overlay: tiles already on the GPU get just that part
    /// (`set_partial`); tiles not built yet are built whole when their turn comes.
    fn redraw(&mut self, r: PixelRect) {
        // A change bigger than a few tiles (a wand or smart region) is rebuilt tile by tile
        // over the next frames, those on screen first, rather than all in this one.
        if r.area() > 4 * (OVERLAY_TILE as u64 * OVERLAY_TILE as u64) {
            self.mark_stale(r);
            return;
        }
        for i in 0..self.overlay.len() {
            let part = self.overlay[i].rect.intersect(&r);
            if part.is_empty() {
                continue;
            }
            if self.overlay[i].tex.is_none() {
                self.overlay[i].stale = true;
                self.overlay[i].empty = false;
                continue;
            }
            let img = self.colours(part);
            self.overlay_pixels_drawn += part.area();
            let t = &mut self.overlay[i];
            let pos = [(part.x - t.rect.x) as usize, (part.y - t.rect.y) as usize];
            if let Some(tex) = &mut t.tex {
                tex.set_partial(pos, img, overlay_opts());
            }
        }
    }

    /// Builds stale overlay tiles, those on screen first, within a time budget per frame.
    /// Returns whether some are left for the next frame.
    pub fn build_overlay(&mut self, ctx: &egui::Context, visible: PixelRect) -> bool {
        let start = Instant::now();
        let mut order: Vec<usize> = (0..self.overlay.len()).filter(|&i| self.overlay[i].stale).collect();
        order.sort_by_key(|&i| self.overlay[i].rect.intersect(&visible).is_empty());
        for i in order {
            if start.elapsed().as_secs_f64() * 1000.0 > BUILD_BUDGET_MS {
                return true;
            }
            let rect = self.overlay[i].rect;
            let any =
                self.lesions.iter().any(|l| l.visible && !l.extent(self.edited_extent).intersect(&rect).is_empty());
            let t = &mut self.overlay[i];
            t.stale = false;
            if !any {
                t.empty = true;
                t.tex = None;
                continue;
            }
            let img = self.colours(rect);
            self.overlay_pixels_drawn += rect.area();
            let name = format!("overlay-{}-{i}", self.photo_id);
            let t = &mut self.overlay[i];
            match &mut t.tex {
                Some(tex) => tex.set(img, overlay_opts()),
                None => t.tex = Some(ctx.load_texture(name, img, overlay_opts())),
            }
        }
        false
    }

    /// Whether every change has reached the writer and been stored.
    pub fn all_saved(&self) -> bool {
        self.lesions.iter().all(|l| !l.history.unsaved())
            && self.stroke_at.is_none()
            && self.pending.is_none()
            && self.proposing.is_none()
    }
}

impl Drop for Annotator {
    fn drop(&mut self) {
        // Close the queue and let the writer store what is in it before the panel goes.
        self.end_stroke();
        self.writer = None;
        if let Some(t) = self.writer_thread.take() {
            let _ = t.join();
        }
    }
}
