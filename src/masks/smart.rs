//! The smart tool: proposes a lesion from a click or a box, GrabCut-style, with imageproc.
//!
//! Box: colour models (k-means, five colours each) of the lesion (the box's centre to
//! start) and of the skin (a ring around the box) are fitted; every pixel in the box goes to
//! the nearer model; the result is smoothed (morphological open and close), reduced to the
//! connected region at the seed, its holes filled, and the models refitted from it, four
//! times. It works on a reduced copy (at most `WORK` px a side) so a 24-MP photo answers at
//! once, then classifies the pixels along the edge again at full resolution so the outline
//! is pixel-exact. Click: a box is found first by growing the region of colours like the
//! clicked spot (Otsu's threshold on colour distance), then the same.
//!
//! A trained segmenter replaces this once the models work ships one; the tool's contract
//! (photo + seed in, stamp out) stays.

use super::mask::{PixelRect, Stamp};
use image::{Rgb, RgbImage, imageops};
use imageproc::distance_transform::Norm;
use imageproc::region_labelling::{Connectivity, connected_components};

/// Longest side of the working copy.
const WORK: u32 = 384;
const ROUNDS: usize = 4;
const K: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Seed {
    Click(u32, u32),
    Box(PixelRect),
}

type Colour = [f32; 3];

fn dist2(a: &Colour, b: &Colour) -> f32 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// Deterministic k-means: farthest-point start, a few Lloyd rounds.
fn kmeans(samples: &[Colour]) -> Vec<Colour> {
    if samples.is_empty() {
        return Vec::new();
    }
    let step = (samples.len() / 3000).max(1);
    let s: Vec<Colour> = samples.iter().step_by(step).copied().collect();
    let mut c = vec![s[0]];
    while c.len() < K {
        let far = s.iter().max_by(|a, b| {
            let da = c.iter().map(|m| dist2(a, m)).fold(f32::MAX, f32::min);
            let db = c.iter().map(|m| dist2(b, m)).fold(f32::MAX, f32::min);
            da.total_cmp(&db)
        });
        match far {
            Some(f) if !c.contains(f) => c.push(*f),
            _ => break,
        }
    }
    for _ in 0..8 {
        let mut sum = vec![[0f32; 4]; c.len()];
        for p in &s {
            let i = nearest(&c, p).0;
            for k in 0..3 {
                sum[i][k] += p[k];
            }
            sum[i][3] += 1.0;
        }
        for (m, t) in c.iter_mut().zip(&sum) {
            if t[3] > 0.0 {
                *m = [t[0] / t[3], t[1] / t[3], t[2] / t[3]];
            }
        }
    }
    c
}

fn nearest(models: &[Colour], p: &Colour) -> (usize, f32) {
    models.iter().enumerate().map(|(i, m)| (i, dist2(m, p))).min_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or((0, f32::MAX))
}

fn colour(p: &Rgb<u8>) -> Colour {
    [p[0] as f32, p[1] as f32, p[2] as f32]
}

/// A reduced, blurred copy of `roi`, and its scale (full pixels per working pixel).
fn working_copy(img: &RgbImage, roi: PixelRect) -> (RgbImage, f32) {
    let view = imageops::crop_imm(img, roi.x, roi.y, roi.w, roi.h).to_image();
    let scale = (roi.w.max(roi.h) as f32 / WORK as f32).max(1.0);
    let (ww, wh) = (((roi.w as f32 / scale).round() as u32).max(1), ((roi.h as f32 / scale).round() as u32).max(1));
    let small = if scale > 1.0 { imageops::resize(&view, ww, wh, imageops::FilterType::Triangle) } else { view };
    (imageproc::filter::gaussian_blur_f32(&small, 1.0), scale)
}

/// Proposes the lesion at `seed` on `img`.
pub fn grow(img: &RgbImage, seed: Seed) -> Stamp {
    let bounds = PixelRect::new(0, 0, img.width(), img.height());
    match seed {
        Seed::Box(r) => {
            let r = r.intersect(&bounds);
            if r.w < 3 || r.h < 3 {
                return Stamp::empty();
            }
            let centre = (r.x + r.w / 2, r.y + r.h / 2);
            from_box(img, r, centre)
        }
        Seed::Click(x, y) => {
            if !bounds.contains(x, y) {
                return Stamp::empty();
            }
            match box_from_click(img, (x, y)) {
                Some(r) => from_box(img, r, (x, y)),
                None => Stamp::empty(),
            }
        }
    }
}

/// Grows the region of colours like the clicked spot's and returns its box, with a margin.
fn box_from_click(img: &RgbImage, click: (u32, u32)) -> Option<PixelRect> {
    let bounds = PixelRect::new(0, 0, img.width(), img.height());
    let side = (img.width().min(img.height()) as f32 * 0.8) as u32;
    let half = side / 2;
    let roi = PixelRect::from_bounds(
        click.0.saturating_sub(half),
        click.1.saturating_sub(half),
        click.0 + half,
        click.1 + half,
    )
    .intersect(&bounds);
    let (work, scale) = working_copy(img, roi);
    let (ww, wh) = work.dimensions();
    let cx = (((click.0 - roi.x) as f32 / scale) as u32).min(ww - 1);
    let cy = (((click.1 - roi.y) as f32 / scale) as u32).min(wh - 1);
    // The clicked spot's colour: the mean of a small neighbourhood.
    let mut spot = [0f32; 3];
    let mut n = 0.0;
    for y in cy.saturating_sub(2)..(cy + 3).min(wh) {
        for x in cx.saturating_sub(2)..(cx + 3).min(ww) {
            let c = colour(work.get_pixel(x, y));
            for k in 0..3 {
                spot[k] += c[k];
            }
            n += 1.0;
        }
    }
    let spot = [spot[0] / n, spot[1] / n, spot[2] / n];
    let dist = image::GrayImage::from_fn(ww, wh, |x, y| {
        image::Luma([(dist2(&colour(work.get_pixel(x, y)), &spot).sqrt()).min(255.0) as u8])
    });
    let level = imageproc::contrast::otsu_level(&dist);
    let near = image::GrayImage::from_fn(ww, wh, |x, y| image::Luma([(dist.get_pixel(x, y)[0] <= level) as u8 * 255]));
    let near = imageproc::morphology::open(&near, Norm::LInf, 1);
    let labels = connected_components(&near, Connectivity::Four, image::Luma([0u8]));
    let id = labels.get_pixel(cx, cy)[0];
    if id == 0 {
        return None;
    }
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, l) in labels.enumerate_pixels() {
        if l[0] == id {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
        }
    }
    let to_full = |v: u32, o: u32| o + (v as f32 * scale) as u32;
    let (fx0, fy0, fx1, fy1) = (to_full(x0, roi.x), to_full(y0, roi.y), to_full(x1, roi.x), to_full(y1, roi.y));
    let m = ((fx1 - fx0).max(fy1 - fy0) as f32 * 0.1) as u32 + 2;
    let r = PixelRect::from_bounds(fx0.saturating_sub(m), fy0.saturating_sub(m), fx1 + m, fy1 + m).intersect(&bounds);
    (r.w >= 3 && r.h >= 3).then_some(r)
}

fn from_box(img: &RgbImage, bx: PixelRect, seed: (u32, u32)) -> Stamp {
    let bounds = PixelRect::new(0, 0, img.width(), img.height());
    let margin = (bx.w.max(bx.h) as f32 * 0.15) as u32 + 4;
    let roi = PixelRect::from_bounds(
        bx.x.saturating_sub(margin),
        bx.y.saturating_sub(margin),
        bx.right() + margin,
        bx.bottom() + margin,
    )
    .intersect(&bounds);
    let (work, scale) = working_copy(img, roi);
    let (ww, wh) = work.dimensions();
    let to_work = |v: u32, o: u32, lim: u32| (((v - o) as f32 / scale) as u32).min(lim - 1);
    let wb = PixelRect::from_bounds(
        to_work(bx.x, roi.x, ww),
        to_work(bx.y, roi.y, wh),
        to_work(bx.right() - 1, roi.x, ww) + 1,
        to_work(bx.bottom() - 1, roi.y, wh) + 1,
    );
    let ws = (to_work(seed.0, roi.x, ww), to_work(seed.1, roi.y, wh));
    let px = |x: u32, y: u32| colour(work.get_pixel(x, y));

    // Skin: the ring around the box (or the box's own edge when the box fills the photo).
    let mut ring: Vec<Colour> = Vec::new();
    for (x, y, p) in work.enumerate_pixels() {
        if !wb.contains(x, y) {
            ring.push(colour(p));
        }
    }
    if ring.len() < 16 {
        for x in wb.x..wb.right() {
            ring.push(px(x, wb.y));
            ring.push(px(x, wb.bottom() - 1));
        }
        for y in wb.y..wb.bottom() {
            ring.push(px(wb.x, y));
            ring.push(px(wb.right() - 1, y));
        }
    }
    // Lesion to start: the middle half of the box.
    let inner = PixelRect::from_bounds(
        wb.x + wb.w / 4,
        wb.y + wb.h / 4,
        (wb.x + wb.w * 3 / 4).max(wb.x + wb.w / 4 + 1),
        (wb.y + wb.h * 3 / 4).max(wb.y + wb.h / 4 + 1),
    );
    let mut fg: Vec<Colour> = Vec::new();
    for y in inner.y..inner.bottom() {
        for x in inner.x..inner.right() {
            fg.push(px(x, y));
        }
    }
    let mut bg = ring.clone();
    let mut label = image::GrayImage::new(ww, wh);
    let (mut fg_model, mut bg_model) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        fg_model = kmeans(&fg);
        bg_model = kmeans(&bg);
        if fg_model.is_empty() || bg_model.is_empty() {
            return Stamp::empty();
        }
        label = image::GrayImage::new(ww, wh);
        for y in wb.y..wb.bottom() {
            for x in wb.x..wb.right() {
                let c = px(x, y);
                if nearest(&fg_model, &c).1 < nearest(&bg_model, &c).1 {
                    label.put_pixel(x, y, image::Luma([255]));
                }
            }
        }
        imageproc::morphology::open_mut(&mut label, Norm::LInf, 1);
        imageproc::morphology::close_mut(&mut label, Norm::LInf, 1);
        label = keep_seed_component(&label, ws);
        fill_holes(&mut label);
        fg.clear();
        bg.clone_from(&ring);
        for y in wb.y..wb.bottom() {
            for x in wb.x..wb.right() {
                if label.get_pixel(x, y)[0] != 0 { fg.push(px(x, y)) } else { bg.push(px(x, y)) }
            }
        }
        if fg.is_empty() {
            return Stamp::empty();
        }
    }
    // Back to full resolution: inside or outside where the working pixel and its
    // neighbours agree; along the edge, each full-resolution pixel by the colour models.
    let mut out = Stamp::blank(bx);
    let at = |x: i64, y: i64| {
        let (x, y) = (x.clamp(0, ww as i64 - 1) as u32, y.clamp(0, wh as i64 - 1) as u32);
        label.get_pixel(x, y)[0] != 0
    };
    for y in bx.y..bx.bottom() {
        let wy = ((y - roi.y) as f32 / scale) as i64;
        for x in bx.x..bx.right() {
            let wx = ((x - roi.x) as f32 / scale) as i64;
            let here = at(wx, wy);
            let edge = [(-1, 0), (1, 0), (0, -1), (0, 1)].iter().any(|(dx, dy)| at(wx + dx, wy + dy) != here);
            let on = if edge && scale > 1.0 {
                let c = colour(img.get_pixel(x, y));
                nearest(&fg_model, &c).1 < nearest(&bg_model, &c).1
            } else {
                here
            };
            if on {
                out.set(x, y);
            }
        }
    }
    out.clip(bounds)
}

/// The connected region holding `seed`, or the largest one when the seed fell outside.
fn keep_seed_component(label: &image::GrayImage, seed: (u32, u32)) -> image::GrayImage {
    let cc = connected_components(label, Connectivity::Four, image::Luma([0u8]));
    let mut id = cc.get_pixel(seed.0, seed.1)[0];
    if id == 0 {
        let mut sizes = std::collections::HashMap::new();
        for p in cc.pixels() {
            if p[0] != 0 {
                *sizes.entry(p[0]).or_insert(0u64) += 1;
            }
        }
        id = sizes.into_iter().max_by_key(|&(l, n)| (n, std::cmp::Reverse(l))).map(|(l, _)| l).unwrap_or(0);
    }
    image::GrayImage::from_fn(label.width(), label.height(), |x, y| {
        image::Luma([if id != 0 && cc.get_pixel(x, y)[0] == id { 255 } else { 0 }])
    })
}

fn fill_holes(label: &mut image::GrayImage) {
    let (w, h) = label.dimensions();
    let Some(m) = super::Mask::from_bytes(w, h, label.as_raw().clone()) else { return };
    let holes = super::tools::holes(&m);
    for y in holes.rect.y..holes.rect.bottom() {
        for x in holes.rect.x..holes.rect.right() {
            if holes.get(x, y) {
                label.put_pixel(x, y, image::Luma([255]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::masks::{Mask, metrics, tools};

    /// A synthetic "lesion": a dark irregular blob with texture on noisy skin.
    fn scene(w: u32, h: u32) -> (RgbImage, Mask) {
        let mut truth = Mask::new(w, h);
        let (cx, cy) = (w as f32 * 0.45, h as f32 * 0.5);
        let pts: Vec<(f32, f32)> = (0..40)
            .map(|i| {
                let a = i as f32 / 40.0 * std::f32::consts::TAU;
                let r = h as f32 * (0.22 + 0.05 * (3.0 * a).sin());
                (cx + r * a.cos(), cy + r * a.sin())
            })
            .collect();
        let stamp = tools::polygon(&truth.bounds(), &pts);
        tools::paint(&mut truth, &stamp, true);
        let mut state = 12345u32;
        let img = RgbImage::from_fn(w, h, |x, y| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let n = ((state >> 16) % 21) as i32 - 10;
            let base = if truth.get(x, y) { [110, 70, 55] } else { [215, 170, 150] };
            Rgb(base.map(|c: i32| (c + n).clamp(0, 255) as u8))
        });
        (img, truth)
    }

    fn stamp_mask(s: &Stamp, w: u32, h: u32) -> Mask {
        let mut m = Mask::new(w, h);
        tools::paint(&mut m, s, true);
        m
    }

    #[test]
    fn box_and_click_find_the_blob() {
        let (img, truth) = scene(900, 600);
        let bb = truth.bbox();
        let boxed = PixelRect::from_bounds(bb.x - 20, bb.y - 20, bb.right() + 20, bb.bottom() + 20);
        let m = stamp_mask(&grow(&img, Seed::Box(boxed)), 900, 600);
        assert!(metrics::dice(&m, &truth) > 0.95, "box dice {}", metrics::dice(&m, &truth));
        let c = truth.bbox();
        let m = stamp_mask(&grow(&img, Seed::Click(c.x + c.w / 2, c.y + c.h / 2)), 900, 600);
        assert!(metrics::dice(&m, &truth) > 0.95, "click dice {}", metrics::dice(&m, &truth));
        assert!(grow(&img, Seed::Click(5000, 5)).is_empty());
    }
}
