//! Lesions kept for display: each as the runs of its rows within its bounding box, so a
//! photo with a thousand lesions holds a few bytes per row of each rather than a full mask,
//! and drawing a tile only visits lesions whose box meets it. `paint_labels` composes the
//! visible lesions of a rectangle into one label buffer that the panel colours.

use super::codec::{self, Encoded};
use super::mask::{Mask, PixelRect};
use crate::error::Result;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layer {
    pub bbox: PixelRect,
    /// Flip positions (absolute x) of each row from `bbox.y`.
    rows: Vec<Vec<u32>>,
    width: u32,
}

impl Layer {
    pub fn from_encoded(e: &Encoded) -> Result<Layer> {
        let mut rows: Vec<Vec<u32>> = Vec::new();
        let bb = e.bbox;
        codec::for_each_row(&e.data, |y, flips| {
            if y >= bb.y && y < bb.bottom() {
                rows.push(flips.to_vec());
            }
        })?;
        Ok(Layer { bbox: bb, rows, width: e.width })
    }

    pub fn from_mask(m: &Mask) -> Layer {
        let bb = m.bbox();
        let mut rows = Vec::with_capacity(bb.h as usize);
        for y in bb.y..bb.bottom() {
            let row = m.row(y);
            let mut flips = Vec::new();
            let mut cur = 0u8;
            for x in bb.x..bb.right() {
                if row[x as usize] != cur {
                    flips.push(x);
                    cur = row[x as usize];
                }
            }
            // A run that reaches the box's right edge ends there (unless the row does).
            if cur == 1 && bb.right() < m.width() {
                flips.push(bb.right());
            }
            rows.push(flips);
        }
        Layer { bbox: bb, rows, width: m.width() }
    }

    pub fn is_empty(&self) -> bool {
        self.bbox.is_empty()
    }

    /// Writes `value` into `out` (`rect.w * rect.h`, row-major) wherever the lesion covers.
    pub fn cover(&self, rect: PixelRect, out: &mut [u16], value: u16) {
        let r = rect.intersect(&self.bbox);
        if r.is_empty() {
            return;
        }
        for y in r.y..r.bottom() {
            let flips = &self.rows[(y - self.bbox.y) as usize];
            let line = &mut out[(y - rect.y) as usize * rect.w as usize..(y - rect.y + 1) as usize * rect.w as usize];
            for (a, b) in codec::runs(flips, self.width) {
                let (a, b) = (a.max(r.x), b.min(r.right()));
                if a < b {
                    line[(a - rect.x) as usize..(b - rect.x) as usize].fill(value);
                }
            }
        }
    }
}

/// Something that can say which pixels of a rectangle it covers: a stored layer, or the
/// mask being edited.
pub enum Source<'a> {
    Layer(&'a Layer),
    Mask(&'a Mask),
}

impl Source<'_> {
    fn cover(&self, rect: PixelRect, out: &mut [u16], value: u16) {
        match self {
            Source::Layer(l) => l.cover(rect, out, value),
            Source::Mask(m) => {
                let r = rect.intersect(&m.bounds());
                for y in r.y..r.bottom() {
                    let src = &m.row(y)[r.x as usize..r.right() as usize];
                    let off = (y - rect.y) as usize * rect.w as usize + (r.x - rect.x) as usize;
                    for (o, &b) in out[off..off + r.w as usize].iter_mut().zip(src) {
                        if b != 0 {
                            *o = value;
                        }
                    }
                }
            }
        }
    }

    fn bbox(&self) -> PixelRect {
        match self {
            Source::Layer(l) => l.bbox,
            // The mask being edited changes under the brush: always consulted.
            Source::Mask(m) => m.bounds(),
        }
    }
}

/// The label of each pixel of `rect`: 0 for none, else 1 + the index in `sources` of the
/// last (topmost) source covering it. With `outline`, only pixels on a lesion's edge keep
/// their label (a pixel whose four neighbours all share it is cleared).
pub fn paint_labels(rect: PixelRect, sources: &[Source<'_>], outline: bool) -> Vec<u16> {
    if !outline {
        let mut out = vec![0u16; rect.area() as usize];
        for (i, s) in sources.iter().enumerate() {
            if s.bbox().intersect(&rect).is_empty() {
                continue;
            }
            s.cover(rect, &mut out, (i + 1).min(u16::MAX as usize) as u16);
        }
        return out;
    }
    // Label a one-pixel frame around the rectangle too, so edges along tile borders are right.
    let big =
        PixelRect::from_bounds(rect.x.saturating_sub(1), rect.y.saturating_sub(1), rect.right() + 1, rect.bottom() + 1);
    let full = paint_labels(big, sources, false);
    let (bw, bh) = (big.w as i64, big.h as i64);
    let at = |x: i64, y: i64| if x < 0 || y < 0 || x >= bw || y >= bh { 0 } else { full[(y * bw + x) as usize] };
    let mut out = vec![0u16; rect.area() as usize];
    for y in 0..rect.h as i64 {
        for x in 0..rect.w as i64 {
            let (bx, by) = (x + (rect.x - big.x) as i64, y + (rect.y - big.y) as i64);
            let v = at(bx, by);
            if v != 0 && (at(bx - 1, by) != v || at(bx + 1, by) != v || at(bx, by - 1) != v || at(bx, by + 1) != v) {
                out[(y * rect.w as i64 + x) as usize] = v;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::masks::tools;

    #[test]
    fn layers_cover_like_their_masks() {
        let mut m = Mask::new(300, 200);
        let stamp = tools::disc(&m.bounds(), (150.0, 100.0), 60.0);
        tools::paint(&mut m, &stamp, true);
        let stamp = tools::disc(&m.bounds(), (150.0, 100.0), 10.0);
        tools::paint(&mut m, &stamp, false);
        let from_enc = Layer::from_encoded(&Encoded::of(&m)).unwrap();
        let from_mask = Layer::from_mask(&m);
        assert_eq!(from_enc, from_mask);
        let rect = PixelRect::new(100, 50, 64, 64);
        let a = paint_labels(rect, &[Source::Layer(&from_enc)], false);
        let b = paint_labels(rect, &[Source::Mask(&m)], false);
        assert_eq!(a, b);
        for y in 0..64 {
            for x in 0..64 {
                assert_eq!(a[y * 64 + x] == 1, m.get(100 + x as u32, 50 + y as u32));
            }
        }
        // Outline: the disc's edge is kept, its inside cleared, the hole's rim kept.
        let o = paint_labels(m.bounds(), &[Source::Layer(&from_mask)], true);
        assert_eq!(o[100 * 300 + 150 - 30], 0, "inside");
        assert_eq!(o[100 * 300 + 90], 1, "outer edge");
        assert_eq!(o[100 * 300 + 89], 0, "outside");
        assert!(o.iter().filter(|&&v| v != 0).count() < 1000);
    }

    #[test]
    fn topmost_wins() {
        let mut a = Mask::new(10, 10);
        let mut b = Mask::new(10, 10);
        let stamp = tools::polygon(&a.bounds(), &[(0.0, 0.0), (6.0, 0.0), (6.0, 6.0), (0.0, 6.0)]);
        tools::paint(&mut a, &stamp, true);
        let stamp = tools::polygon(&b.bounds(), &[(4.0, 4.0), (10.0, 4.0), (10.0, 10.0), (4.0, 10.0)]);
        tools::paint(&mut b, &stamp, true);
        let (la, lb) = (Layer::from_mask(&a), Layer::from_mask(&b));
        let l = paint_labels(a.bounds(), &[Source::Layer(&la), Source::Layer(&lb)], false);
        assert_eq!((l[0], l[5 * 10 + 5], l[9 * 10 + 9], l[9]), (1, 2, 2, 0));
    }
}
