//! Pixels and shapes for the detectors: resampling, model input tensors, connected regions,
//! minimum-area rectangles and crops of rotated boxes.

use image::RgbImage;

/// Resamples to `nw` x `nh`: an area average when shrinking (no aliasing of small text),
/// bilinear when enlarging.
pub(crate) fn resample(img: &RgbImage, nw: u32, nh: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    if (nw, nh) == (w, h) {
        return img.clone();
    }
    if nw > w || nh > h {
        return image::imageops::resize(img, nw, nh, image::imageops::FilterType::Triangle);
    }
    // Column spans once, then every output row sums its source rows per span.
    let spans = |n: u32, src: u32| -> Vec<(usize, usize)> {
        (0..n)
            .map(|i| {
                let a = (i as u64 * src as u64 / n as u64) as usize;
                let b = (((i + 1) as u64 * src as u64).div_ceil(n as u64) as usize).max(a + 1);
                (a, b.min(src as usize))
            })
            .collect()
    };
    let xs = spans(nw, w);
    let ys = spans(nh, h);
    let src = img.as_raw();
    let stride = w as usize * 3;
    let mut out = vec![0u8; nw as usize * nh as usize * 3];
    let mut acc = vec![0u32; nw as usize * 3];
    for (oy, &(y0, y1)) in ys.iter().enumerate() {
        acc.iter_mut().for_each(|a| *a = 0);
        for y in y0..y1 {
            let row = &src[y * stride..(y + 1) * stride];
            for (ox, &(x0, x1)) in xs.iter().enumerate() {
                let (mut r, mut g, mut b) = (0u32, 0u32, 0u32);
                for px in row[x0 * 3..x1 * 3].chunks_exact(3) {
                    r += px[0] as u32;
                    g += px[1] as u32;
                    b += px[2] as u32;
                }
                acc[ox * 3] += r;
                acc[ox * 3 + 1] += g;
                acc[ox * 3 + 2] += b;
            }
        }
        let o = &mut out[oy * nw as usize * 3..(oy + 1) * nw as usize * 3];
        for (ox, &(x0, x1)) in xs.iter().enumerate() {
            let n = ((x1 - x0) * (y1 - y0)) as u32;
            for c in 0..3 {
                o[ox * 3 + c] = ((acc[ox * 3 + c] + n / 2) / n) as u8;
            }
        }
    }
    RgbImage::from_raw(nw, nh, out).expect("sized buffer")
}

/// An NCHW (N = 1) tensor of `tw` x `th`, the image at the top left and `pad` elsewhere.
/// `norm(channel_index, value)` maps each 0..255 value; `bgr` puts blue first.
pub(crate) fn to_nchw(
    img: &RgbImage,
    tw: usize,
    th: usize,
    bgr: bool,
    pad: f32,
    norm: impl Fn(usize, u8) -> f32,
) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut t = vec![pad; 3 * tw * th];
    for (y, row) in img.as_raw().chunks_exact(w * 3).take(h.min(th)).enumerate() {
        for (x, px) in row.chunks_exact(3).take(w.min(tw)).enumerate() {
            for (c, &v) in px.iter().enumerate() {
                let plane = if bgr { 2 - c } else { c };
                t[plane * tw * th + y * tw + x] = norm(plane, v);
            }
        }
    }
    t
}

/// The size that scales `w` x `h` so its long side is `long` (never zero).
pub(crate) fn fit_long(w: u32, h: u32, long: u32) -> (u32, u32) {
    let f = long as f64 / w.max(h) as f64;
    (((w as f64 * f).round() as u32).max(1), ((h as f64 * f).round() as u32).max(1))
}

pub(crate) fn round_up(v: u32, m: u32) -> u32 {
    v.div_ceil(m).max(1) * m
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pt {
    pub x: f32,
    pub y: f32,
}

/// A connected region of a bitmap: its pixel rows `(y, x_first, x_last)` (8-connected).
pub(crate) struct Region {
    pub rows: Vec<(u32, u32, u32)>,
    pub pixels: u32,
}

impl Region {
    /// The outermost pixel centres of every row: enough for the convex hull.
    pub(crate) fn extreme_points(&self) -> Vec<Pt> {
        let mut pts = Vec::with_capacity(self.rows.len() * 2);
        for &(y, a, b) in &self.rows {
            pts.push(Pt { x: a as f32, y: y as f32 });
            if b != a {
                pts.push(Pt { x: b as f32, y: y as f32 });
            }
        }
        pts
    }
}

/// Connected regions of `mask` (`w` x `h`, true = set), 8-connected, by run-length labelling.
pub(crate) fn regions(mask: &[bool], w: usize, h: usize, max_regions: usize) -> Vec<Region> {
    // Runs per row, each with a union-find label.
    let mut runs: Vec<(u32, u32, u32)> = Vec::new(); // (y, x0, x1)
    let mut row_start = vec![0usize; h + 1];
    for y in 0..h {
        row_start[y] = runs.len();
        let row = &mask[y * w..(y + 1) * w];
        let mut x = 0;
        while x < w {
            if row[x] {
                let x0 = x;
                while x < w && row[x] {
                    x += 1;
                }
                runs.push((y as u32, x0 as u32, (x - 1) as u32));
            } else {
                x += 1;
            }
        }
    }
    row_start[h] = runs.len();
    let mut parent: Vec<usize> = (0..runs.len()).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for y in 1..h {
        let (prev, cur) = (row_start[y - 1]..row_start[y], row_start[y]..row_start[y + 1]);
        let mut j = prev.start;
        for i in cur {
            let (_, a0, a1) = runs[i];
            while j < prev.end && runs[j].2 + 1 < a0 {
                j += 1;
            }
            let mut k = j;
            while k < prev.end && runs[k].1 <= a1 + 1 {
                let (ri, rk) = (find(&mut parent, i), find(&mut parent, k));
                if ri != rk {
                    parent[ri.max(rk)] = ri.min(rk);
                }
                k += 1;
            }
        }
    }
    let mut index = std::collections::HashMap::new();
    let mut out: Vec<Region> = Vec::new();
    for (i, &(y, a, b)) in runs.iter().enumerate() {
        let root = find(&mut parent, i);
        let slot = *index.entry(root).or_insert_with(|| {
            out.push(Region { rows: Vec::new(), pixels: 0 });
            out.len() - 1
        });
        let r = &mut out[slot];
        r.pixels += b - a + 1;
        match r.rows.last_mut() {
            Some(last) if last.0 == y => {
                last.1 = last.1.min(a);
                last.2 = last.2.max(b);
            }
            _ => r.rows.push((y, a, b)),
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.pixels));
    out.truncate(max_regions);
    out
}

/// A rotated rectangle: centre, size along its own axes, and the direction of its `w` side.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RotRect {
    pub cx: f32,
    pub cy: f32,
    pub w: f32,
    pub h: f32,
    /// Unit vector along the `w` side.
    pub ux: f32,
    pub uy: f32,
}

impl RotRect {
    /// Corners ordered top-left, top-right, bottom-right, bottom-left (as read).
    pub(crate) fn corners(&self) -> [Pt; 4] {
        let (mut ux, mut uy, mut w, mut h) = (self.ux, self.uy, self.w, self.h);
        // Make the `w` axis the one closer to horizontal, pointing right.
        if ux.abs() < uy.abs() {
            (ux, uy) = (-uy, ux);
            std::mem::swap(&mut w, &mut h);
        }
        if ux < 0.0 {
            (ux, uy) = (-ux, -uy);
        }
        let (vx, vy) = (-uy, ux); // down
        let (hw, hh) = (w / 2.0, h / 2.0);
        let p = |a: f32, b: f32| Pt { x: self.cx + a * ux + b * vx, y: self.cy + a * uy + b * vy };
        [p(-hw, -hh), p(hw, -hh), p(hw, hh), p(-hw, hh)]
    }

    /// Grown by `d` on every side.
    pub(crate) fn grown(&self, d: f32) -> RotRect {
        RotRect { w: self.w + 2.0 * d, h: self.h + 2.0 * d, ..*self }
    }

    pub(crate) fn bounds(&self) -> [f32; 4] {
        let c = self.corners();
        let xs = c.iter().map(|p| p.x);
        let ys = c.iter().map(|p| p.y);
        [
            xs.clone().fold(f32::MAX, f32::min),
            ys.clone().fold(f32::MAX, f32::min),
            xs.fold(f32::MIN, f32::max),
            ys.fold(f32::MIN, f32::max),
        ]
    }
}

fn cross(o: Pt, a: Pt, b: Pt) -> f32 {
    (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
}

pub(crate) fn convex_hull(mut pts: Vec<Pt>) -> Vec<Pt> {
    pts.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut hull: Vec<Pt> = Vec::with_capacity(pts.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &Pt>> =
            if pass == 0 { Box::new(pts.iter()) } else { Box::new(pts.iter().rev()) };
        for &p in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// The minimum-area rectangle around points (rotating each hull edge onto an axis).
pub(crate) fn min_area_rect(pts: Vec<Pt>) -> RotRect {
    let hull = convex_hull(pts);
    if hull.len() < 3 {
        let (a, b) = (hull[0], *hull.last().unwrap_or(&hull[0]));
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len = (dx * dx + dy * dy).sqrt();
        let (ux, uy) = if len > 0.0 { (dx / len, dy / len) } else { (1.0, 0.0) };
        return RotRect { cx: (a.x + b.x) / 2.0, cy: (a.y + b.y) / 2.0, w: len, h: 0.0, ux, uy };
    }
    let mut best: Option<(f32, RotRect)> = None;
    for i in 0..hull.len() {
        let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len = (dx * dx + dy * dy).sqrt();
        if len == 0.0 {
            continue;
        }
        let (ux, uy) = (dx / len, dy / len);
        let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &hull {
            let u = p.x * ux + p.y * uy;
            let v = -p.x * uy + p.y * ux;
            u0 = u0.min(u);
            u1 = u1.max(u);
            v0 = v0.min(v);
            v1 = v1.max(v);
        }
        let area = (u1 - u0) * (v1 - v0);
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let (cu, cv) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
            let rect = RotRect { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, w: u1 - u0, h: v1 - v0, ux, uy };
            best = Some((area, rect));
        }
    }
    best.map(|(_, r)| r).expect("a hull of three points has an edge")
}

/// Whether `p` lies inside the convex quadrilateral `q` (corners in order).
pub(crate) fn inside_quad(q: &[Pt; 4], p: Pt) -> bool {
    let mut sign = 0.0f32;
    for i in 0..4 {
        let c = cross(q[i], q[(i + 1) % 4], p);
        if c != 0.0 {
            if sign != 0.0 && c.signum() != sign {
                return false;
            }
            sign = c.signum();
        }
    }
    true
}

/// Samples the quadrilateral `q` (tl, tr, br, bl) of `img` into an `ow` x `oh` image, bilinear,
/// borders replicated.
pub(crate) fn crop_quad(img: &RgbImage, q: &[Pt; 4], ow: u32, oh: u32) -> RgbImage {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let src = img.as_raw();
    let px = |x: i64, y: i64, c: usize| src[((y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) * 3) as usize + c] as f32;
    let mut out = RgbImage::new(ow.max(1), oh.max(1));
    for oy in 0..oh.max(1) {
        let t = (oy as f32 + 0.5) / oh.max(1) as f32;
        // Left and right edges at this height.
        let l = Pt { x: q[0].x + (q[3].x - q[0].x) * t, y: q[0].y + (q[3].y - q[0].y) * t };
        let r = Pt { x: q[1].x + (q[2].x - q[1].x) * t, y: q[1].y + (q[2].y - q[1].y) * t };
        for ox in 0..ow.max(1) {
            let s = (ox as f32 + 0.5) / ow.max(1) as f32;
            let x = l.x + (r.x - l.x) * s - 0.5;
            let y = l.y + (r.y - l.y) * s - 0.5;
            let (x0, y0) = (x.floor() as i64, y.floor() as i64);
            let (fx, fy) = (x - x0 as f32, y - y0 as f32);
            let mut v = [0u8; 3];
            for (c, out_c) in v.iter_mut().enumerate() {
                let top = px(x0, y0, c) * (1.0 - fx) + px(x0 + 1, y0, c) * fx;
                let bottom = px(x0, y0 + 1, c) * (1.0 - fx) + px(x0 + 1, y0 + 1, c) * fx;
                *out_c = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
            }
            out.put_pixel(ox, oy, image::Rgb(v));
        }
    }
    out
}

/// Greedy non-maximum suppression: indices kept, highest score first.
pub(crate) fn nms(boxes: &[[f32; 4]], scores: &[f32], iou_max: f32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let area = |b: &[f32; 4]| (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0);
    let mut keep: Vec<usize> = Vec::new();
    for i in order {
        let b = &boxes[i];
        let suppressed = keep.iter().any(|&k| {
            let a = &boxes[k];
            let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
            let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
            let inter = iw * ih;
            inter / (area(a) + area(b) - inter).max(1e-6) > iou_max
        });
        if !suppressed {
            keep.push(i);
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_join_diagonal_neighbours_and_keep_others_apart() {
        #[rustfmt::skip]
        let m = [
            1, 1, 0, 0, 0, 1,
            0, 0, 1, 0, 0, 1,
            0, 0, 0, 0, 0, 0,
            1, 0, 0, 0, 1, 1,
        ];
        let mask: Vec<bool> = m.iter().map(|&v| v == 1).collect();
        let mut r = regions(&mask, 6, 4, 10);
        r.sort_by_key(|r| (r.rows[0].0, r.rows[0].1));
        let sizes: Vec<u32> = r.iter().map(|r| r.pixels).collect();
        assert_eq!(sizes, vec![3, 2, 1, 2]);
    }

    #[test]
    fn min_area_rect_of_a_tilted_bar() {
        // Points along a bar 40 long and 6 wide, tilted 30 degrees.
        let (c, s) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
        let mut pts = Vec::new();
        for i in 0..=40 {
            for j in 0..=6 {
                let (u, v) = (i as f32 - 20.0, j as f32 - 3.0);
                pts.push(Pt { x: 100.0 + u * c - v * s, y: 50.0 + u * s + v * c });
            }
        }
        let r = min_area_rect(pts);
        let (long, short) = (r.w.max(r.h), r.w.min(r.h));
        assert!((long - 40.0).abs() < 0.01 && (short - 6.0).abs() < 0.01, "{r:?}");
        assert!((r.cx - 100.0).abs() < 0.01 && (r.cy - 50.0).abs() < 0.01);
        let q = r.corners();
        assert!(q[0].x < q[1].x && q[0].y < q[3].y, "reading order: {q:?}");
        assert!(inside_quad(&q, Pt { x: 100.0, y: 50.0 }) && !inside_quad(&q, Pt { x: 100.0, y: 60.0 }));
    }

    #[test]
    fn area_resample_averages() {
        let img =
            RgbImage::from_fn(
                4,
                2,
                |x, _| if x % 2 == 0 { image::Rgb([0, 100, 200]) } else { image::Rgb([100, 100, 0]) },
            );
        let small = resample(&img, 2, 1);
        assert_eq!(small.get_pixel(0, 0).0, [50, 100, 100]);
    }
}
