//! The editing tools as pure functions: each turns its inputs (geometry, the photo, the mask)
//! into a `Stamp`, the pixels it touches. Nothing here changes a mask; `History::apply`
//! (or `paint` in tests and imports) does, and reports the dirty rectangle.

use super::mask::{Mask, PixelRect, Stamp};
use image::RgbImage;

/// A point in image pixel coordinates (pixel `(x, y)` covers `x..x+1`, `y..y+1`).
pub type Point = (f32, f32);

fn rect_around(bounds: &PixelRect, x0: f32, y0: f32, x1: f32, y1: f32) -> PixelRect {
    let clamp = |v: f32, hi: u32| v.max(0.0).min(hi as f32) as u32;
    PixelRect::from_bounds(
        clamp(x0.floor(), bounds.right()),
        clamp(y0.floor(), bounds.bottom()),
        clamp(x1.ceil() + 1.0, bounds.right()),
        clamp(y1.ceil() + 1.0, bounds.bottom()),
    )
    .intersect(bounds)
}

/// A round brush dab: pixels whose centre lies within `radius` of `c`.
pub fn disc(bounds: &PixelRect, c: Point, radius: f32) -> Stamp {
    stroke(bounds, c, c, radius)
}

/// A brush (or eraser) dragged from `a` to `b`: the capsule of pixels whose centre lies
/// within `radius` of the segment. Consecutive pointer positions join without gaps however
/// fast the drag.
pub fn stroke(bounds: &PixelRect, a: Point, b: Point, radius: f32) -> Stamp {
    let r = radius.max(0.5);
    let rect = rect_around(bounds, a.0.min(b.0) - r, a.1.min(b.1) - r, a.0.max(b.0) + r, a.1.max(b.1) + r);
    let mut s = Stamp::blank(rect);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let r2 = r * r;
    for y in rect.y..rect.bottom() {
        let py = y as f32 + 0.5;
        let row = (y - rect.y) as usize * rect.w as usize;
        for x in rect.x..rect.right() {
            let px = x as f32 + 0.5;
            let t = if len2 > 0.0 { (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
            let (qx, qy) = (a.0 + t * dx - px, a.1 + t * dy - py);
            if qx * qx + qy * qy <= r2 {
                s.bits[row + (x - rect.x) as usize] = 1;
            }
        }
    }
    s
}

/// A filled polygon or lasso (the points in order; it closes itself): pixels whose centre
/// is inside by the even-odd rule.
pub fn polygon(bounds: &PixelRect, points: &[Point]) -> Stamp {
    if points.len() < 3 {
        return Stamp::empty();
    }
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for &(x, y) in points {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let rect = rect_around(bounds, x0, y0, x1, y1);
    let mut s = Stamp::blank(rect);
    let mut xs: Vec<f32> = Vec::new();
    for y in rect.y..rect.bottom() {
        let py = y as f32 + 0.5;
        xs.clear();
        for i in 0..points.len() {
            let (a, b) = (points[i], points[(i + 1) % points.len()]);
            if (a.1 <= py) != (b.1 <= py) {
                xs.push(a.0 + (py - a.1) / (b.1 - a.1) * (b.0 - a.0));
            }
        }
        xs.sort_by(|p, q| p.total_cmp(q));
        let row = (y - rect.y) as usize * rect.w as usize;
        for pair in xs.chunks(2) {
            let [l, r] = pair else { break };
            // Pixel centres x + 0.5 in [l, r).
            let from = ((l - 0.5).ceil().max(rect.x as f32)) as u32;
            let to = ((r - 0.5).ceil().min(rect.right() as f32)).max(0.0) as u32;
            for x in from..to.max(from) {
                s.bits[row + (x - rect.x) as usize] = 1;
            }
        }
    }
    s
}

/// The magic wand: pixels 4-connected to `seed` whose colour differs from the seed's by at
/// most `tolerance` in every channel (as the ISIC archive's tool). Scanline flood fill, so
/// a 24-MP photo takes one pass.
pub fn wand(img: &RgbImage, seed: (u32, u32), tolerance: u8) -> Stamp {
    let (w, h) = (img.width(), img.height());
    if seed.0 >= w || seed.1 >= h {
        return Stamp::empty();
    }
    let raw = img.as_raw();
    let s = (seed.1 as usize * w as usize + seed.0 as usize) * 3;
    let target = [raw[s], raw[s + 1], raw[s + 2]];
    let tol = tolerance as i16;
    let ok = |x: u32, y: u32| {
        let i = (y as usize * w as usize + x as usize) * 3;
        (0..3).all(|c| (raw[i + c] as i16 - target[c] as i16).abs() <= tol)
    };
    flood(w, h, seed, ok)
}

/// 4-connected scanline flood fill from `seed` over pixels where `inside` holds; the result
/// is cropped to what it reached.
pub(crate) fn flood(w: u32, h: u32, seed: (u32, u32), inside: impl Fn(u32, u32) -> bool) -> Stamp {
    if seed.0 >= w || seed.1 >= h || !inside(seed.0, seed.1) {
        return Stamp::empty();
    }
    let mut seen = vec![0u8; w as usize * h as usize];
    let (mut x0, mut y0, mut x1, mut y1) = (seed.0, seed.1, seed.0 + 1, seed.1 + 1);
    let mut stack = vec![seed];
    while let Some((sx, y)) = stack.pop() {
        let row = y as usize * w as usize;
        if seen[row + sx as usize] != 0 {
            continue;
        }
        let mut l = sx;
        while l > 0 && seen[row + l as usize - 1] == 0 && inside(l - 1, y) {
            l -= 1;
        }
        let mut r = sx + 1;
        while r < w && seen[row + r as usize] == 0 && inside(r, y) {
            r += 1;
        }
        seen[row + l as usize..row + r as usize].fill(1);
        x0 = x0.min(l);
        x1 = x1.max(r);
        y0 = y0.min(y);
        y1 = y1.max(y + 1);
        for ny in [y.wrapping_sub(1), y + 1] {
            if ny >= h {
                continue;
            }
            let nrow = ny as usize * w as usize;
            let mut x = l;
            while x < r {
                // One seed per run of fillable, unseen pixels in the next row.
                if seen[nrow + x as usize] == 0 && inside(x, ny) {
                    stack.push((x, ny));
                    while x < r && seen[nrow + x as usize] == 0 && inside(x, ny) {
                        x += 1;
                    }
                } else {
                    x += 1;
                }
            }
        }
    }
    let rect = PixelRect::from_bounds(x0, y0, x1, y1);
    let mut out = Stamp::blank(rect);
    for y in rect.y..rect.bottom() {
        let src = y as usize * w as usize + rect.x as usize;
        let dst = (y - rect.y) as usize * rect.w as usize;
        out.bits[dst..dst + rect.w as usize].copy_from_slice(&seen[src..src + rect.w as usize]);
    }
    out
}

/// The holes of a mask: background pixels that background outside the lesion cannot reach
/// (4-connected). Paint the result to fill them.
pub fn holes(mask: &Mask) -> Stamp {
    let bb = mask.bbox();
    if bb.is_empty() {
        return Stamp::empty();
    }
    // Work on the bounding box with a one-pixel frame of background around it, so that the
    // outside is one connected region to flood from.
    let (fw, fh) = (bb.w + 2, bb.h + 2);
    let inside = |x: u32, y: u32| {
        if x == 0 || y == 0 || x == fw - 1 || y == fh - 1 {
            return true;
        }
        !mask.get(bb.x + x - 1, bb.y + y - 1)
    };
    let outside = flood(fw, fh, (0, 0), inside);
    let mut s = Stamp::blank(bb);
    for y in 0..bb.h {
        let row = y as usize * bb.w as usize;
        for x in 0..bb.w {
            if !mask.get(bb.x + x, bb.y + y) && !outside.get(x + 1, y + 1) {
                s.bits[row + x as usize] = 1;
            }
        }
    }
    s
}

/// Applies a stamp straight to a mask, with no history (imports, tests). Returns whether
/// any pixel changed.
pub fn paint(mask: &mut Mask, stamp: &Stamp, on: bool) -> bool {
    let r = stamp.rect.intersect(&mask.bounds());
    let mut changed = false;
    for y in r.y..r.bottom() {
        let src = (y - stamp.rect.y) as usize * stamp.rect.w as usize + (r.x - stamp.rect.x) as usize;
        let bits = &stamp.bits[src..src + r.w as usize];
        let row = &mut mask.row_mut(y)[r.x as usize..r.right() as usize];
        for (m, &b) in row.iter_mut().zip(bits) {
            if b != 0 && *m != on as u8 {
                *m = on as u8;
                changed = true;
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disc_area_is_about_pi_r_squared() {
        let b = PixelRect::new(0, 0, 200, 200);
        let s = disc(&b, (100.0, 100.0), 30.0);
        let n = s.bits.iter().filter(|&&v| v != 0).count() as f64;
        let want = std::f64::consts::PI * 900.0;
        assert!((n - want).abs() / want < 0.02, "{n} vs {want}");
        assert!(s.get(100, 100) && !s.get(100, 131) && !s.get(131, 100));
        // Clipped at the image edge.
        let edge = disc(&b, (0.0, 0.0), 10.0);
        assert_eq!(edge.rect.x, 0);
        assert!(edge.rect.w <= 11);
    }

    #[test]
    fn stroke_has_no_gaps() {
        let b = PixelRect::new(0, 0, 300, 100);
        let s = stroke(&b, (10.0, 50.0), (290.0, 50.0), 3.0);
        for x in 10..290 {
            assert!(s.get(x, 50), "gap at {x}");
        }
        assert!(!s.get(150, 55));
    }

    #[test]
    fn polygon_fills_inside_only() {
        let b = PixelRect::new(0, 0, 50, 50);
        let sq = polygon(&b, &[(10.0, 10.0), (20.0, 10.0), (20.0, 20.0), (10.0, 20.0)]);
        assert_eq!(sq.bits.iter().filter(|&&v| v != 0).count(), 100);
        assert!(sq.get(10, 10) && sq.get(19, 19) && !sq.get(20, 20));
        // A bow-tie: even-odd.
        let tri = polygon(&b, &[(0.0, 0.0), (40.0, 0.0), (0.0, 40.0)]);
        assert!(tri.get(5, 5) && !tri.get(30, 30));
        assert!(polygon(&b, &[(1.0, 1.0), (2.0, 2.0)]).is_empty());
    }

    #[test]
    fn wand_stays_inside_its_colour() {
        let mut img = RgbImage::from_pixel(60, 40, image::Rgb([200, 180, 170]));
        for y in 10..30 {
            for x in 20..45 {
                img.put_pixel(x, y, image::Rgb([90, 60, 50]));
            }
        }
        img.put_pixel(30, 20, image::Rgb([100, 65, 52])); // within tolerance
        let s = wand(&img, (25, 15), 16);
        assert_eq!(s.rect, PixelRect::new(20, 10, 25, 20));
        assert!(s.bits.iter().all(|&v| v == 1));
        let bg = wand(&img, (0, 0), 16);
        assert_eq!(bg.bits.iter().filter(|&&v| v != 0).count(), 60 * 40 - 25 * 20);
    }

    #[test]
    fn holes_are_found_and_outside_is_not() {
        let mut m = Mask::new(40, 40);
        let stamp = disc(&m.bounds(), (20.0, 20.0), 12.0);
        paint(&mut m, &stamp, true);
        let stamp = disc(&m.bounds(), (20.0, 20.0), 4.0);
        paint(&mut m, &stamp, false);
        // A notch open to the outside is not a hole.
        let stamp = polygon(&m.bounds(), &[(29.0, 19.0), (40.0, 19.0), (40.0, 21.0), (29.0, 21.0)]);
        paint(&mut m, &stamp, false);
        let h = holes(&m);
        let n = h.bits.iter().filter(|&&v| v != 0).count();
        let ring = disc(&m.bounds(), (20.0, 20.0), 4.0);
        assert_eq!(n, ring.bits.iter().filter(|&&v| v != 0).count());
        assert!(!h.get(35, 20));
        let before = m.count();
        assert!(paint(&mut m, &h, true));
        assert_eq!(m.count(), before + n as u64);
        assert!(holes(&m).is_empty());
    }
}
