//! The full-resolution viewer: decodes in a worker process (a hostile file can crash the
//! worker, never the app), checks that the file is still the content the store knows, cuts
//! the image into tiles no larger than the GPU allows (so a 100-megapixel scan still shows),
//! and zooms and pans down to single pixels.

use super::i18n::{Lang, T};
use crate::decode::Limits;
use crate::decode::tasks::{FullDecode, FullRequest};
use crate::work::{Killer, Worker};
use egui::{Color32, ColorImage, Pos2, Rect, Sense, TextureHandle, TextureOptions, Vec2};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Tile side: within every GPU's limit and small enough that uploads do not stall a frame.
pub const TILE: usize = 2048;
pub const MAX_ZOOM: f32 = 64.0;

pub struct Decoded {
    pub width: usize,
    pub height: usize,
    pub tiles: Vec<(Rect, ColorImage)>,
}

enum State {
    /// Its file is being looked up.
    Waiting,
    Loading(u64),
    Ready {
        width: usize,
        height: usize,
        tiles: Vec<(Rect, TextureHandle)>,
    },
    Failed(String),
}

pub struct Viewer {
    pub photo_id: i64,
    state: State,
    /// Screen points per image pixel; None = fit to the window.
    zoom: Option<f32>,
    /// The image point shown at the centre of the view.
    centre: Pos2,
    /// Where to centre once the image's size is known, as a fraction of it (kept from the
    /// photo shown before, to compare two photos at the same place and zoom).
    centre_frac: Option<Vec2>,
    last_fit: f32,
    /// A texture drawn over the whole photo (the occlusion heatmap), set by the app each frame.
    pub overlay: Option<egui::TextureId>,
}

/// One photo to decode: where its file is, how to turn it, and the content it must be.
#[derive(Clone, Debug)]
pub struct DecodeRequest {
    pub path: PathBuf,
    pub orientation: u8,
    pub hash: String,
}

pub type Answer = (u64, Result<Decoded, String>);

/// The viewer's decoder: one worker process on its own thread, kept between photos. Asking
/// for a new photo abandons the one in flight (its worker is killed and started again), so
/// stepping quickly through large photos never queues decodes nobody will look at.
pub struct FullDecoder {
    requests: Sender<(u64, DecodeRequest)>,
    answers: Receiver<Answer>,
    /// The generation being decoded now (0: none), shared with the decode thread.
    in_flight: Arc<Mutex<u64>>,
    killer: Killer,
    latest: u64,
}

impl FullDecoder {
    pub fn new(exe: PathBuf, ctx: egui::Context) -> FullDecoder {
        let limits = Limits::default();
        let worker = Worker::new(&exe, Duration::from_secs(120)).with_max_blob(limits.max_pixels * 3);
        let killer = worker.killer();
        let in_flight = Arc::new(Mutex::new(0u64));
        let (requests, rx) = channel::<(u64, DecodeRequest)>();
        let (tx, answers) = channel::<Answer>();
        let flight = in_flight.clone();
        let _ = std::thread::Builder::new().name("viewer-decode".into()).spawn(move || {
            let mut worker = worker;
            while let Ok(mut req) = rx.recv() {
                // Only the newest photo matters.
                while let Ok(newer) = rx.try_recv() {
                    req = newer;
                }
                let (generation, r) = req;
                *flight.lock().unwrap_or_else(|e| e.into_inner()) = generation;
                let result = decode(&mut worker, &r, limits);
                *flight.lock().unwrap_or_else(|e| e.into_inner()) = 0;
                if tx.send((generation, result)).is_err() {
                    return;
                }
                ctx.request_repaint();
            }
        });
        FullDecoder { requests, answers, in_flight, killer, latest: 0 }
    }

    /// Starts decoding a photo; returns its generation, which `poll` hands back with it.
    pub fn request(&mut self, req: DecodeRequest) -> u64 {
        self.latest += 1;
        {
            let busy = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            if *busy != 0 && *busy != self.latest {
                self.killer.kill();
            }
        }
        let _ = self.requests.send((self.latest, req));
        self.latest
    }

    /// The newest finished decode, if one came in.
    pub fn poll(&self) -> Option<Answer> {
        let mut out = None;
        while let Ok(a) = self.answers.try_recv() {
            if a.0 == self.latest {
                out = Some(a);
            }
        }
        out
    }
}

/// Decodes one photo in the worker and cuts it into tiles.
fn decode(worker: &mut Worker, r: &DecodeRequest, limits: Limits) -> Result<Decoded, String> {
    let req = FullRequest { path: r.path.clone(), orientation: r.orientation, limits };
    let (img, rgb) = match worker.call::<FullDecode>(&req) {
        Ok(Ok(answer)) => answer,
        Ok(Err(refusal)) => return Err(format!("{}: {}", refusal.message, r.path.display())),
        Err(e) => return Err(e.to_string()),
    };
    if img.hash != r.hash {
        return Err(format!(
            "the file has changed since it was imported (import its folder again): {}",
            r.path.display()
        ));
    }
    let (w, h) = (img.width as usize, img.height as usize);
    if rgb.len() != w * h * 3 {
        return Err(format!("the worker sent a damaged image: {}", r.path.display()));
    }
    Ok(tiles(&rgb, w, h, TILE))
}

/// Cuts RGB8 pixels into tiles of at most `tile` × `tile`.
pub fn tiles(rgb: &[u8], w: usize, h: usize, tile: usize) -> Decoded {
    let mut tiles = Vec::new();
    for ty in (0..h).step_by(tile) {
        for tx in (0..w).step_by(tile) {
            let (tw, th) = (tile.min(w - tx), tile.min(h - ty));
            let mut part = Vec::with_capacity(tw * th * 3);
            for y in ty..ty + th {
                let row = (y * w + tx) * 3;
                part.extend_from_slice(&rgb[row..row + tw * 3]);
            }
            let rect = Rect::from_min_size(Pos2::new(tx as f32, ty as f32), Vec2::new(tw as f32, th as f32));
            tiles.push((rect, ColorImage::from_rgb([tw, th], &part)));
        }
    }
    Decoded { width: w, height: h, tiles }
}

impl Viewer {
    /// A viewer for a photo whose file is being looked up. It keeps the zoom and position of
    /// the photo shown before (`previous`), so that stepping through photos at 100 % compares
    /// the same region.
    pub fn waiting(photo_id: i64, previous: Option<&Viewer>) -> Viewer {
        let (zoom, centre_frac) = match previous {
            Some(p) if p.zoom.is_some() => {
                (p.zoom, p.image_size().map(|(w, h)| p.centre.to_vec2() / Vec2::new(w as f32, h as f32)))
            }
            _ => (None, None),
        };
        Viewer { photo_id, state: State::Waiting, zoom, centre: Pos2::ZERO, centre_frac, last_fit: 1.0, overlay: None }
    }

    /// Starts the decode once the file is known; without a file (all its copies vanished)
    /// the viewer says so (over the cached thumbnail).
    pub fn start(&mut self, request: Option<DecodeRequest>, decoder: &mut FullDecoder) {
        self.state = match request {
            None => State::Failed(String::new()),
            Some(r) => State::Loading(decoder.request(r)),
        };
    }

    pub fn fail(&mut self, e: String) {
        self.state = State::Failed(e);
    }

    /// Moves a finished decode onto the GPU (called from `logic`).
    pub fn poll(&mut self, ctx: &egui::Context, decoder: &mut FullDecoder) {
        let State::Loading(generation) = self.state else { return };
        let Some((g, result)) = decoder.poll() else { return };
        if g != generation {
            return;
        }
        self.state = match result {
            Ok(d) => {
                let opts = TextureOptions {
                    magnification: egui::TextureFilter::Nearest,
                    minification: egui::TextureFilter::Linear,
                    mipmap_mode: Some(egui::TextureFilter::Linear),
                    ..TextureOptions::LINEAR
                };
                let tiles = d
                    .tiles
                    .into_iter()
                    .enumerate()
                    .map(|(i, (r, img))| (r, ctx.load_texture(format!("full-{}-{i}", self.photo_id), img, opts)))
                    .collect();
                let size = Vec2::new(d.width as f32, d.height as f32);
                self.centre = (self.centre_frac.take().unwrap_or(Vec2::splat(0.5)) * size).to_pos2();
                State::Ready { width: d.width, height: d.height, tiles }
            }
            Err(e) => State::Failed(e),
        };
    }

    pub fn is_loading(&self) -> bool {
        matches!(self.state, State::Loading(_) | State::Waiting)
    }

    /// Why the photo cannot be shown ("" when none of its files can be found).
    pub fn error(&self) -> Option<&str> {
        match &self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    pub fn tile_count(&self) -> usize {
        match &self.state {
            State::Ready { tiles, .. } => tiles.len(),
            _ => 0,
        }
    }

    pub fn image_size(&self) -> Option<(usize, usize)> {
        match &self.state {
            State::Ready { width, height, .. } => Some((*width, *height)),
            _ => None,
        }
    }

    /// Current zoom in screen points per image pixel.
    pub fn zoom(&self) -> f32 {
        self.zoom.unwrap_or(self.last_fit)
    }

    pub fn zoom_by(&mut self, factor: f32) {
        self.zoom = Some((self.zoom() * factor).clamp(0.01, MAX_ZOOM));
    }

    pub fn zoom_fit(&mut self) {
        self.zoom = None;
        if let Some((w, h)) = self.image_size() {
            self.centre = Pos2::new(w as f32 / 2.0, h as f32 / 2.0);
        }
    }

    pub fn zoom_actual(&mut self, pixels_per_point: f32) {
        self.zoom = Some(1.0 / pixels_per_point);
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, lang: Lang, placeholder: Option<&TextureHandle>) {
        let avail = ui.available_rect_before_wrap();
        let response = ui.allocate_rect(avail, Sense::click_and_drag());
        let painter = ui.painter_at(avail);
        painter.rect_filled(avail, 0.0, Color32::from_gray(24));
        let (width, height, tiles): (f32, f32, Vec<(Rect, egui::TextureId)>) = match &self.state {
            State::Ready { width, height, tiles } => {
                (*width as f32, *height as f32, tiles.iter().map(|(r, t)| (*r, t.id())).collect())
            }
            State::Loading(_) | State::Waiting => {
                if let Some(tex) = placeholder {
                    let size = tex.size_vec2();
                    let scale = (avail.width() / size.x).min(avail.height() / size.y);
                    let rect = Rect::from_center_size(avail.center(), size * scale);
                    painter.image(tex.id(), rect, Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)), Color32::WHITE);
                }
                painter.text(
                    avail.left_bottom() + Vec2::new(8.0, -8.0),
                    egui::Align2::LEFT_BOTTOM,
                    lang.t(T::DecodingFull),
                    egui::FontId::proportional(14.0),
                    Color32::LIGHT_GRAY,
                );
                return;
            }
            State::Failed(e) => {
                // A photo whose files all vanished still shows its cached thumbnail.
                if let Some(tex) = placeholder.filter(|_| e.is_empty()) {
                    let size = tex.size_vec2();
                    let scale = (avail.width() / size.x).min(avail.height() / size.y);
                    let rect = Rect::from_center_size(avail.center(), size * scale);
                    painter.image(
                        tex.id(),
                        rect,
                        Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
                        Color32::from_gray(110),
                    );
                }
                let msg =
                    if e.is_empty() { lang.t(T::FileMissing).to_owned() } else { lang.f(T::ViewerError, &[("e", e)]) };
                painter.text(
                    avail.center(),
                    egui::Align2::CENTER_CENTER,
                    msg,
                    egui::FontId::proportional(16.0),
                    Color32::LIGHT_RED,
                );
                return;
            }
        };
        self.last_fit = (avail.width() / width).min(avail.height() / height);
        if self.zoom.is_none() {
            self.centre = Pos2::new(width / 2.0, height / 2.0);
        }
        // Wheel zooms about the pointer; dragging pans.
        if response.hovered() {
            let (scroll, pinch) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
            let factor = pinch * (scroll / 300.0).exp();
            if (factor - 1.0).abs() > 1e-4
                && let Some(pointer) = response.hover_pos()
            {
                let before = self.to_image(pointer, avail);
                self.zoom_by(factor);
                let after = self.to_image(pointer, avail);
                self.centre += before - after;
            }
        }
        if response.dragged() {
            self.centre -= response.drag_delta() / self.zoom();
        }
        if response.double_clicked() {
            if self.zoom.is_none() {
                self.zoom_actual(ui.ctx().pixels_per_point());
            } else {
                self.zoom_fit();
            }
        }
        let z = self.zoom();
        for (rect, tex) in tiles {
            let screen = Rect::from_min_max(self.to_screen(rect.min, avail), self.to_screen(rect.max, avail));
            if screen.intersects(avail) {
                painter.image(tex, screen, Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)), Color32::WHITE);
            }
        }
        if let Some(tex) = self.overlay {
            let screen =
                Rect::from_min_max(self.to_screen(Pos2::ZERO, avail), self.to_screen(Pos2::new(width, height), avail));
            painter.image(tex, screen, Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)), Color32::WHITE);
        }
        let pointer = response.hover_pos().map(|p| self.to_image(p, avail));
        status_line(ui, lang, avail, z, (width, height), None, pointer);
    }

    fn to_screen(&self, p: Pos2, view: Rect) -> Pos2 {
        view.center() + (p - self.centre) * self.zoom()
    }

    fn to_image(&self, p: Pos2, view: Rect) -> Pos2 {
        self.centre + (p - view.center()) / self.zoom()
    }
}

/// The line along the bottom of a photo (the viewer's and the annotator's): zoom, size, a hint
/// for the tool in hand, and the pixel under the pointer (`pointer`, in image coordinates) when
/// it is on the photo. A real label (not painted text), so screen readers and tests can read it.
pub(super) fn status_line(
    ui: &mut egui::Ui,
    lang: Lang,
    avail: Rect,
    zoom: f32,
    (width, height): (f32, f32),
    hint: Option<&str>,
    pointer: Option<Pos2>,
) {
    let z = format!("{:.0}", zoom * ui.ctx().pixels_per_point() * 100.0);
    let mut status = format!("{}  ·  {width}×{height}", lang.f(T::Zoom, &[("z", &z)]));
    if let Some(hint) = hint {
        status.push_str("  ·  ");
        status.push_str(hint);
    }
    if let Some(ip) = pointer.filter(|ip| ip.x >= 0.0 && ip.y >= 0.0 && ip.x < width && ip.y < height) {
        status.push_str(&format!("  ·  x {} y {}", ip.x as u32, ip.y as u32));
    }
    let bar = Rect::from_min_max(avail.left_bottom() + Vec2::new(8.0, -24.0), avail.right_bottom());
    ui.scope_builder(
        egui::UiBuilder::new().max_rect(bar).layout(egui::Layout::left_to_right(egui::Align::Center)),
        |ui| {
            ui.add(egui::Label::new(egui::RichText::new(status).color(Color32::LIGHT_GRAY).size(13.0)).truncate());
        },
    );
}
