//! The full-resolution binary mask, the pixel rectangle that edits report as dirty, and the
//! stamp (a tool's footprint) that every edit is made of.

use serde::{Deserialize, Serialize};

/// A rectangle of pixels: `x..x+w`, `y..y+h`. Empty when `w` or `h` is 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl PixelRect {
    pub fn new(x: u32, y: u32, w: u32, h: u32) -> PixelRect {
        PixelRect { x, y, w, h }
    }

    /// The rectangle spanning `x0..x1`, `y0..y1` (half-open; empty when reversed).
    pub fn from_bounds(x0: u32, y0: u32, x1: u32, y1: u32) -> PixelRect {
        PixelRect { x: x0, y: y0, w: x1.saturating_sub(x0), h: y1.saturating_sub(y0) }
    }

    pub fn is_empty(&self) -> bool {
        self.w == 0 || self.h == 0
    }

    pub fn right(&self) -> u32 {
        self.x + self.w
    }

    pub fn bottom(&self) -> u32 {
        self.y + self.h
    }

    pub fn area(&self) -> u64 {
        self.w as u64 * self.h as u64
    }

    pub fn union(&self, o: &PixelRect) -> PixelRect {
        if self.is_empty() {
            return *o;
        }
        if o.is_empty() {
            return *self;
        }
        PixelRect::from_bounds(
            self.x.min(o.x),
            self.y.min(o.y),
            self.right().max(o.right()),
            self.bottom().max(o.bottom()),
        )
    }

    pub fn intersect(&self, o: &PixelRect) -> PixelRect {
        let r = PixelRect::from_bounds(
            self.x.max(o.x),
            self.y.max(o.y),
            self.right().min(o.right()),
            self.bottom().min(o.bottom()),
        );
        if r.is_empty() { PixelRect::default() } else { r }
    }

    pub fn contains(&self, x: u32, y: u32) -> bool {
        x >= self.x && y >= self.y && x < self.right() && y < self.bottom()
    }
}

/// A binary mask at full image resolution: one byte per pixel, 0 or 1, row-major. A byte
/// per pixel keeps painting a plain memory write; stored and undo copies are run-length
/// coded (`codec`), so only the masks being edited take this much memory.
#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mask({}x{}, {} set)", self.width, self.height, self.count())
    }
}

impl Mask {
    pub fn new(width: u32, height: u32) -> Mask {
        Mask { width, height, data: vec![0; width as usize * height as usize] }
    }

    /// A mask from bytes where any non-zero byte is "in". None when the length is wrong.
    pub fn from_bytes(width: u32, height: u32, mut data: Vec<u8>) -> Option<Mask> {
        if data.len() != width as usize * height as usize {
            return None;
        }
        for b in &mut data {
            *b = (*b != 0) as u8;
        }
        Some(Mask { width, height, data })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn bounds(&self) -> PixelRect {
        PixelRect::new(0, 0, self.width, self.height)
    }

    /// 0 or 1 per pixel, row-major.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn row(&self, y: u32) -> &[u8] {
        let w = self.width as usize;
        &self.data[y as usize * w..(y as usize + 1) * w]
    }

    pub(crate) fn row_mut(&mut self, y: u32) -> &mut [u8] {
        let w = self.width as usize;
        &mut self.data[y as usize * w..(y as usize + 1) * w]
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.data[(y * self.width + x) as usize] != 0
    }

    /// Sets one pixel (outside the mask: ignored).
    pub fn set(&mut self, x: u32, y: u32, on: bool) {
        if x < self.width && y < self.height {
            self.data[y as usize * self.width as usize + x as usize] = on as u8;
        }
    }

    /// Pixels set.
    pub fn count(&self) -> u64 {
        // Bytes are 0 or 1: summing in u32 chunks is exact and fast.
        self.data.chunks(1 << 20).map(|c| c.iter().map(|&b| b as u32).sum::<u32>() as u64).sum()
    }

    pub fn is_empty(&self) -> bool {
        !self.data.iter().any(|&b| b != 0)
    }

    /// The smallest rectangle holding every set pixel (empty for an empty mask).
    pub fn bbox(&self) -> PixelRect {
        let (w, h) = (self.width as usize, self.height as usize);
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for y in 0..h {
            let row = &self.data[y * w..(y + 1) * w];
            let Some(first) = row.iter().position(|&b| b != 0) else { continue };
            let last = row.iter().rposition(|&b| b != 0).unwrap_or(first);
            x0 = x0.min(first);
            x1 = x1.max(last + 1);
            y0 = y0.min(y);
            y1 = y + 1;
        }
        if y0 == usize::MAX {
            return PixelRect::default();
        }
        PixelRect::from_bounds(x0 as u32, y0 as u32, x1 as u32, y1 as u32)
    }

    /// The part of the mask inside `rect` as a stamp (for copies and undo).
    pub fn crop(&self, rect: PixelRect) -> Stamp {
        let rect = rect.intersect(&self.bounds());
        let mut bits = Vec::with_capacity(rect.area() as usize);
        for y in rect.y..rect.bottom() {
            bits.extend_from_slice(&self.row(y)[rect.x as usize..rect.right() as usize]);
        }
        Stamp { rect, bits }
    }
}

/// The footprint of one edit: which pixels inside `rect` the tool touches (1) or leaves (0).
/// Tools make stamps from their inputs alone; `History::apply` turns a stamp into a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub rect: PixelRect,
    /// `rect.w * rect.h` bytes, 0 or 1, row-major.
    pub bits: Vec<u8>,
}

impl Stamp {
    pub fn empty() -> Stamp {
        Stamp { rect: PixelRect::default(), bits: Vec::new() }
    }

    pub fn blank(rect: PixelRect) -> Stamp {
        Stamp { rect, bits: vec![0; rect.area() as usize] }
    }

    pub fn is_empty(&self) -> bool {
        self.rect.is_empty() || !self.bits.iter().any(|&b| b != 0)
    }

    /// Sets a pixel given in image coordinates (outside the rectangle: ignored).
    pub fn set(&mut self, x: u32, y: u32) {
        if self.rect.contains(x, y) {
            let i = (y - self.rect.y) as usize * self.rect.w as usize + (x - self.rect.x) as usize;
            self.bits[i] = 1;
        }
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        self.rect.contains(x, y)
            && self.bits[(y - self.rect.y) as usize * self.rect.w as usize + (x - self.rect.x) as usize] != 0
    }

    /// A stamp covering a whole mask: every set pixel of `m`.
    pub fn from_mask(m: &Mask) -> Stamp {
        m.crop(m.bounds())
    }

    /// Restricts the stamp to `bounds` (an image), dropping what falls outside.
    pub fn clip(self, bounds: PixelRect) -> Stamp {
        let r = self.rect.intersect(&bounds);
        if r == self.rect {
            return self;
        }
        let mut out = Stamp::blank(r);
        for y in r.y..r.bottom() {
            let src = (y - self.rect.y) as usize * self.rect.w as usize + (r.x - self.rect.x) as usize;
            let dst = (y - r.y) as usize * r.w as usize;
            out.bits[dst..dst + r.w as usize].copy_from_slice(&self.bits[src..src + r.w as usize]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_algebra() {
        let a = PixelRect::new(0, 0, 10, 10);
        let b = PixelRect::new(5, 5, 10, 10);
        assert_eq!(a.union(&b), PixelRect::new(0, 0, 15, 15));
        assert_eq!(a.intersect(&b), PixelRect::new(5, 5, 5, 5));
        assert!(a.intersect(&PixelRect::new(20, 20, 1, 1)).is_empty());
        assert_eq!(PixelRect::default().union(&b), b);
    }

    #[test]
    fn bbox_count_crop() {
        let mut m = Mask::new(20, 10);
        assert!(m.is_empty());
        assert!(m.bbox().is_empty());
        m.set(3, 2, true);
        m.set(7, 5, true);
        m.set(99, 99, true); // outside: ignored
        assert_eq!(m.count(), 2);
        assert_eq!(m.bbox(), PixelRect::new(3, 2, 5, 4));
        let s = m.crop(PixelRect::new(2, 2, 3, 1));
        assert_eq!(s.bits, vec![0, 1, 0]);
        let clipped = Stamp { rect: PixelRect::new(18, 8, 4, 4), bits: vec![1; 16] }.clip(m.bounds());
        assert_eq!(clipped.rect, PixelRect::new(18, 8, 2, 2));
        assert_eq!(clipped.bits.len(), 4);
    }
}
