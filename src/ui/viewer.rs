//! The full-resolution viewer: decodes in the background, cuts the image into tiles no
//! larger than the GPU allows (so a 100-megapixel scan still shows), and zooms and pans down
//! to single pixels.

use super::i18n::{Lang, T};
use crate::archive::format;
use crate::thumbs::{self, Limits};
use egui::{Color32, ColorImage, Pos2, Rect, Sense, TextureHandle, TextureOptions, Vec2};
use poll_promise::Promise;

/// Tile side: within every GPU's limit and small enough that uploads do not stall a frame.
pub const TILE: usize = 2048;
pub const MAX_ZOOM: f32 = 64.0;

pub struct Decoded {
    pub width: usize,
    pub height: usize,
    pub tiles: Vec<(Rect, ColorImage)>,
}

enum State {
    Loading(Promise<Result<Decoded, String>>),
    Ready { width: usize, height: usize, tiles: Vec<(Rect, TextureHandle)> },
    Failed(String),
}

pub struct Viewer {
    pub photo_id: i64,
    state: State,
    /// Screen points per image pixel; None = fit to the window.
    zoom: Option<f32>,
    /// The image point shown at the centre of the view.
    centre: Pos2,
    last_fit: f32,
}

/// Decodes a photo at full resolution, orientation applied, cut into tiles.
pub fn decode_tiled(path: &std::path::Path, orientation: u8, tile: usize) -> Result<Decoded, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file ({e}): {}", path.display()))?;
    let fmt = format::sniff(&bytes[..bytes.len().min(512)], path).map_err(|r| r.message)?;
    let img = thumbs::decode_with_image(&bytes, fmt, &Limits::default()).map_err(|r| r.message)?;
    let img = thumbs::orient(img.into_rgb8(), orientation);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut tiles = Vec::new();
    for ty in (0..h).step_by(tile) {
        for tx in (0..w).step_by(tile) {
            let (tw, th) = (tile.min(w - tx), tile.min(h - ty));
            let mut rgb = Vec::with_capacity(tw * th * 3);
            for y in ty..ty + th {
                let row = (y * w + tx) * 3;
                rgb.extend_from_slice(&img.as_raw()[row..row + tw * 3]);
            }
            let rect = Rect::from_min_size(Pos2::new(tx as f32, ty as f32), Vec2::new(tw as f32, th as f32));
            tiles.push((rect, ColorImage::from_rgb([tw, th], &rgb)));
        }
    }
    Ok(Decoded { width: w, height: h, tiles })
}

impl Viewer {
    pub fn open(photo_id: i64, path: Option<String>, orientation: u8, ctx: &egui::Context) -> Viewer {
        let state = match path {
            None => State::Failed(String::new()),
            Some(p) => {
                let ctx = ctx.clone();
                State::Loading(Promise::spawn_thread("viewer-decode", move || {
                    let r = decode_tiled(std::path::Path::new(&p), orientation, TILE);
                    ctx.request_repaint();
                    r
                }))
            }
        };
        Viewer { photo_id, state, zoom: None, centre: Pos2::ZERO, last_fit: 1.0 }
    }

    /// Moves finished decodes onto the GPU (called from `logic`).
    pub fn poll(&mut self, ctx: &egui::Context) {
        let State::Loading(promise) = &mut self.state else { return };
        if promise.ready().is_none() {
            return;
        }
        let State::Loading(promise) = std::mem::replace(&mut self.state, State::Failed(String::new())) else {
            return;
        };
        self.state = match promise.block_and_take() {
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
                self.centre = Pos2::new(d.width as f32 / 2.0, d.height as f32 / 2.0);
                State::Ready { width: d.width, height: d.height, tiles }
            }
            Err(e) => State::Failed(e),
        };
    }

    pub fn is_loading(&self) -> bool {
        matches!(self.state, State::Loading(_))
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
            State::Loading(_) => {
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
        let mut status = format!(
            "{}  ·  {}×{}",
            lang.f(T::Zoom, &[("z", &format!("{:.0}", z * ui.ctx().pixels_per_point() * 100.0))]),
            width,
            height
        );
        if let Some(p) = response.hover_pos() {
            let ip = self.to_image(p, avail);
            if ip.x >= 0.0 && ip.y >= 0.0 && ip.x < width && ip.y < height {
                status.push_str(&format!("  ·  x {} y {}", ip.x as u32, ip.y as u32));
            }
        }
        // A real label (not painted text), so screen readers and tests can read it.
        let bar = Rect::from_min_max(avail.left_bottom() + Vec2::new(8.0, -24.0), avail.right_bottom());
        ui.scope_builder(
            egui::UiBuilder::new().max_rect(bar).layout(egui::Layout::left_to_right(egui::Align::Center)),
            |ui| {
                ui.add(egui::Label::new(egui::RichText::new(status).color(Color32::LIGHT_GRAY).size(13.0)).truncate());
            },
        );
    }

    fn to_screen(&self, p: Pos2, view: Rect) -> Pos2 {
        view.center() + (p - self.centre) * self.zoom()
    }

    fn to_image(&self, p: Pos2, view: Rect) -> Pos2 {
        self.centre + (p - view.center()) / self.zoom()
    }
}
