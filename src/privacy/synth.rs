//! Burned-in text for measuring and testing the screening: name cards, chart-number labels
//! and date stamps drawn onto real photos with real fonts (Debian's fonts-* packages, found at
//! run time), rotated, partly covered or small. Nothing made here is ever committed.

use crate::error::{Error, Result};
use ab_glyph::{Font, FontArc, PxScale, ScaleFont};
use image::{Rgb, RgbImage, Rgba, RgbaImage};
use std::path::Path;

/// Font files looked for, Japanese first. At least one Japanese font is needed.
pub const FONT_FILES: &[&str] = &[
    "/usr/share/fonts/truetype/bizud-gothic/BIZUDGothic-Regular.ttf",
    "/usr/share/fonts/truetype/bizud-gothic/BIZUDPGothic-Bold.ttf",
    "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
];

pub struct Fonts {
    pub fonts: Vec<(String, FontArc)>,
}

impl Fonts {
    /// The fonts of `FONT_FILES` that are installed (Debian: fonts-morisawa-bizud-gothic,
    /// fonts-ipafont-mincho, fonts-dejavu-core, fonts-liberation).
    pub fn system() -> Result<Fonts> {
        let mut fonts = Vec::new();
        for f in FONT_FILES {
            if let Ok(bytes) = std::fs::read(f)
                && let Ok(font) = FontArc::try_from_vec(bytes)
            {
                fonts.push((Path::new(f).file_name().unwrap_or_default().to_string_lossy().into_owned(), font));
            }
        }
        if !fonts.iter().any(|(_, f)| f.glyph_id('様').0 != 0) {
            return Err(Error::Invalid(
                "no Japanese font found (install fonts-morisawa-bizud-gothic or fonts-ipafont-mincho)".into(),
            ));
        }
        Ok(Fonts { fonts })
    }

    /// A font that has every character of `text`, chosen by `pick` among those that do.
    pub fn for_text(&self, text: &str, pick: usize) -> &FontArc {
        let ok: Vec<&FontArc> = self
            .fonts
            .iter()
            .map(|(_, f)| f)
            .filter(|f| text.chars().all(|c| c == ' ' || f.glyph_id(c).0 != 0))
            .collect();
        ok.get(pick % ok.len().max(1)).copied().unwrap_or(&self.fonts[0].1)
    }
}

/// How the text sits on the photo.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    /// Dark text on a white card with a border (a name card held in frame).
    Card,
    /// Dark text on a yellowish sticker (a chart-number label).
    Label,
    /// Orange digits with a dark edge (a camera's date stamp), straight on the photo.
    Stamp,
    /// White text with a dark outline, straight on the photo (an annotation or watermark).
    Overlay,
}

#[derive(Clone, Debug)]
pub struct Burn {
    pub lines: Vec<String>,
    pub style: Style,
    /// Text height as a fraction of the photo's short side.
    pub height: f32,
    /// Centre of the text block, as fractions of width and height.
    pub at: (f32, f32),
    pub angle_deg: f32,
    /// Cover this fraction of the block's width on its right with a skin-coloured band.
    pub covered: f32,
    pub font_pick: usize,
}

/// Draws `b` onto `img`; returns the box it covers.
pub fn burn(img: &mut RgbImage, fonts: &Fonts, b: &Burn) -> [f32; 4] {
    let short = img.width().min(img.height()) as f32;
    let px = (b.height * short).max(8.0);
    let font = fonts.for_text(&b.lines.concat(), b.font_pick);
    let scaled = font.as_scaled(PxScale::from(px));
    let line_h = (scaled.ascent() - scaled.descent() + scaled.line_gap()).ceil();
    let widths: Vec<f32> =
        b.lines.iter().map(|l| l.chars().map(|c| scaled.h_advance(font.glyph_id(c))).sum::<f32>()).collect();
    let pad = (px * 0.4).ceil();
    let bw = (widths.iter().copied().fold(0.0, f32::max) + 2.0 * pad).ceil() as u32;
    let bh = (line_h * b.lines.len() as f32 + 2.0 * pad).ceil() as u32;
    let mut layer = RgbaImage::new(bw.max(1), bh.max(1));
    let (bg, fg, edge) = match b.style {
        Style::Card => (Some(Rgba([246, 246, 240, 255])), [20, 20, 30], None),
        Style::Label => (Some(Rgba([250, 236, 150, 255])), [30, 30, 30], None),
        Style::Stamp => (None, [255, 150, 30], Some([60, 20, 0])),
        Style::Overlay => (None, [255, 255, 255], Some([0, 0, 0])),
    };
    if let Some(bg) = bg {
        for p in layer.pixels_mut() {
            *p = bg;
        }
        // A thin border.
        let t = (px / 12.0).max(1.0) as u32;
        for (x, y, p) in layer.enumerate_pixels_mut() {
            if x < t || y < t || x + t >= bw || y + t >= bh {
                *p = Rgba([90, 90, 90, 255]);
            }
        }
    }
    let mut coverage = vec![0f32; (bw * bh) as usize];
    for (i, line) in b.lines.iter().enumerate() {
        let mut x = pad;
        let baseline = pad + scaled.ascent() + line_h * i as f32;
        for c in line.chars() {
            let id = font.glyph_id(c);
            let glyph = id.with_scale_and_position(PxScale::from(px), ab_glyph::point(x, baseline));
            if let Some(g) = font.outline_glyph(glyph) {
                let bounds = g.px_bounds();
                g.draw(|gx, gy, v| {
                    let (px_x, px_y) = (bounds.min.x as i64 + gx as i64, bounds.min.y as i64 + gy as i64);
                    if px_x >= 0 && px_y >= 0 && (px_x as u32) < bw && (px_y as u32) < bh {
                        let k = (px_y as u32 * bw + px_x as u32) as usize;
                        coverage[k] = coverage[k].max(v);
                    }
                });
            }
            x += scaled.h_advance(id);
        }
    }
    // An edge: the coverage dilated by about a tenth of the text height.
    let edge_cov = edge.map(|_| dilate(&coverage, bw as usize, bh as usize, ((px / 14.0).round() as usize).max(1)));
    for (i, p) in layer.pixels_mut().enumerate() {
        let v = coverage[i];
        let under = match (&edge_cov, edge) {
            (Some(e), Some(ec)) if e[i] > 0.0 => Some((ec, e[i])),
            _ => None,
        };
        let base = match (under, bg) {
            (Some((ec, a)), _) => blend(*p, Rgba([ec[0], ec[1], ec[2], 255]), a),
            (None, Some(_)) => *p,
            (None, None) => Rgba([0, 0, 0, 0]),
        };
        *p = if v > 0.0 { blend(base, Rgba([fg[0], fg[1], fg[2], 255]), v) } else { base };
    }
    if b.covered > 0.0 {
        let from = (bw as f32 * (1.0 - b.covered)) as u32;
        for (x, _, p) in layer.enumerate_pixels_mut() {
            if x >= from {
                *p = Rgba([205, 160, 140, 255]);
            }
        }
    }
    composite_rotated(img, &layer, b.at, b.angle_deg)
}

fn dilate(c: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut out = vec![0f32; c.len()];
    for y in 0..h {
        for x in 0..w {
            let mut m = 0f32;
            for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                    m = m.max(c[yy * w + xx]);
                }
            }
            out[y * w + x] = m;
        }
    }
    out
}

fn blend(under: Rgba<u8>, over: Rgba<u8>, a: f32) -> Rgba<u8> {
    let a = a.clamp(0.0, 1.0);
    let ua = under.0[3] as f32 / 255.0;
    let out_a = a + ua * (1.0 - a);
    if out_a <= 0.0 {
        return Rgba([0, 0, 0, 0]);
    }
    let mix = |o: u8, u: u8| ((o as f32 * a + u as f32 * ua * (1.0 - a)) / out_a).round() as u8;
    Rgba([mix(over.0[0], under.0[0]), mix(over.0[1], under.0[1]), mix(over.0[2], under.0[2]), (out_a * 255.0) as u8])
}

/// Pastes `layer` turned by `angle` degrees with its centre at `at` (fractions of the photo).
fn composite_rotated(img: &mut RgbImage, layer: &RgbaImage, at: (f32, f32), angle: f32) -> [f32; 4] {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (cx, cy) = (at.0 * w, at.1 * h);
    let (lw, lh) = (layer.width() as f32, layer.height() as f32);
    let (s, c) = angle.to_radians().sin_cos();
    let corners = [(-lw / 2.0, -lh / 2.0), (lw / 2.0, -lh / 2.0), (lw / 2.0, lh / 2.0), (-lw / 2.0, lh / 2.0)]
        .map(|(x, y)| (cx + x * c - y * s, cy + x * s + y * c));
    let x0 = corners.iter().map(|p| p.0).fold(f32::MAX, f32::min).floor().max(0.0);
    let y0 = corners.iter().map(|p| p.1).fold(f32::MAX, f32::min).floor().max(0.0);
    let x1 = corners.iter().map(|p| p.0).fold(f32::MIN, f32::max).ceil().min(w);
    let y1 = corners.iter().map(|p| p.1).fold(f32::MIN, f32::max).ceil().min(h);
    for y in y0 as u32..y1.max(y0) as u32 {
        for x in x0 as u32..x1.max(x0) as u32 {
            // Inverse rotation into the layer, bilinear.
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let lx = dx * c + dy * s + lw / 2.0 - 0.5;
            let ly = -dx * s + dy * c + lh / 2.0 - 0.5;
            if lx < -0.5 || ly < -0.5 || lx > lw - 0.5 || ly > lh - 0.5 {
                continue;
            }
            let sample = |xx: i64, yy: i64| {
                let xx = xx.clamp(0, layer.width() as i64 - 1) as u32;
                let yy = yy.clamp(0, layer.height() as i64 - 1) as u32;
                layer.get_pixel(xx, yy).0.map(|v| v as f32)
            };
            let (fx, fy) = (lx - lx.floor(), ly - ly.floor());
            let (ix, iy) = (lx.floor() as i64, ly.floor() as i64);
            // Premultiplied, so transparent neighbours do not darken the edges.
            let mut v = [0f32; 4];
            for (ox, oy, wgt) in
                [(0, 0, (1.0 - fx) * (1.0 - fy)), (1, 0, fx * (1.0 - fy)), (0, 1, (1.0 - fx) * fy), (1, 1, fx * fy)]
            {
                let p = sample(ix + ox, iy + oy);
                let pa = p[3] / 255.0;
                for ch in 0..3 {
                    v[ch] += p[ch] * pa * wgt;
                }
                v[3] += pa * wgt;
            }
            let a = v[3];
            if a <= 0.0 {
                continue;
            }
            let under = img.get_pixel(x, y).0;
            let mix = |o: f32, u: u8| (o + u as f32 * (1.0 - a)).round().clamp(0.0, 255.0) as u8;
            img.put_pixel(x, y, Rgb([mix(v[0], under[0]), mix(v[1], under[1]), mix(v[2], under[2])]));
        }
    }
    [x0, y0, x1.max(x0), y1.max(y0)]
}
