//! Undo and redo for one mask while its photo is open: unlimited, and small. Each change is
//! kept as the pixels it flipped (run-length coded over its dirty rectangle), so undo and
//! redo are the same operation, flipping them back, and a stroke over a 24-MP photo costs a
//! few bytes per row it crossed.

use super::codec;
use super::mask::{Mask, PixelRect, Stamp};

/// The pixels one edit flipped.
#[derive(Clone, Debug)]
struct Change {
    rect: PixelRect,
    /// `codec` form of the flipped pixels over `rect`.
    flipped: Vec<u8>,
}

impl Change {
    fn toggle(&self, mask: &mut Mask) {
        let Ok(_) = codec::for_each_row(&self.flipped, |y, flips| {
            let row = mask.row_mut(self.rect.y + y);
            for (a, b) in codec::runs(flips, self.rect.w) {
                for v in &mut row[(self.rect.x + a) as usize..(self.rect.x + b) as usize] {
                    *v ^= 1;
                }
            }
        }) else {
            // Only this module writes these blobs; they cannot be damaged.
            unreachable!("an undo record is always well formed")
        };
    }
}

/// One undo step: a whole brush stroke, or one click of another tool.
#[derive(Clone, Debug, Default)]
struct Step {
    changes: Vec<Change>,
}

impl Step {
    fn dirty(&self) -> PixelRect {
        self.changes.iter().fold(PixelRect::default(), |r, c| r.union(&c.rect))
    }
}

#[derive(Clone, Debug, Default)]
pub struct History {
    undo: Vec<Step>,
    redo: Vec<Step>,
    /// The stroke being drawn; its dabs become one step when it ends.
    open: Option<Step>,
    /// Edits since the mask was last saved.
    unsaved: bool,
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// Applies a stamp (`on` paints, `!on` erases) and records it. Returns the rectangle of
    /// pixels that changed (None when nothing did), for the UI to re-upload.
    pub fn apply(&mut self, mask: &mut Mask, stamp: &Stamp, on: bool) -> Option<PixelRect> {
        let r = stamp.rect.intersect(&mask.bounds());
        if r.is_empty() {
            return None;
        }
        let target = on as u8;
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        let mut flipped = vec![0u8; r.area() as usize];
        for y in r.y..r.bottom() {
            let src = (y - stamp.rect.y) as usize * stamp.rect.w as usize + (r.x - stamp.rect.x) as usize;
            let bits = &stamp.bits[src..src + r.w as usize];
            let out = &mut flipped[(y - r.y) as usize * r.w as usize..(y - r.y + 1) as usize * r.w as usize];
            let row = &mut mask.row_mut(y)[r.x as usize..r.right() as usize];
            let mut any = false;
            for (i, (m, &b)) in row.iter_mut().zip(bits).enumerate() {
                if b != 0 && *m != target {
                    *m = target;
                    out[i] = 1;
                    x0 = x0.min(i as u32);
                    x1 = x1.max(i as u32 + 1);
                    any = true;
                }
            }
            if any {
                y0 = y0.min(y - r.y);
                y1 = y - r.y + 1;
            }
        }
        if y0 == u32::MAX {
            return None;
        }
        // Keep only the tight rectangle of what flipped.
        let tight = PixelRect::from_bounds(x0, y0, x1, y1);
        let crop = Stamp { rect: PixelRect::new(0, 0, r.w, r.h), bits: flipped }.clip(tight);
        let rect = PixelRect::new(r.x + tight.x, r.y + tight.y, tight.w, tight.h);
        let change = Change { rect, flipped: codec::encode_bits(rect.w, rect.h, &crop.bits) };
        self.redo.clear();
        self.unsaved = true;
        match &mut self.open {
            Some(step) => step.changes.push(change),
            None => self.undo.push(Step { changes: vec![change] }),
        }
        Some(rect)
    }

    /// Starts a stroke: the dabs applied until `end_stroke` undo as one.
    pub fn begin_stroke(&mut self) {
        self.end_stroke();
        self.open = Some(Step::default());
    }

    /// Ends the stroke in progress. Returns whether it changed anything (worth saving).
    pub fn end_stroke(&mut self) -> bool {
        match self.open.take() {
            Some(step) if !step.changes.is_empty() => {
                self.undo.push(step);
                true
            }
            _ => false,
        }
    }

    pub fn in_stroke(&self) -> bool {
        self.open.is_some()
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo_len(&self) -> usize {
        self.undo.len()
    }

    /// Undoes the last step; returns the dirty rectangle.
    pub fn undo(&mut self, mask: &mut Mask) -> Option<PixelRect> {
        self.end_stroke();
        let step = self.undo.pop()?;
        for c in step.changes.iter().rev() {
            c.toggle(mask);
        }
        let r = step.dirty();
        self.redo.push(step);
        self.unsaved = true;
        Some(r)
    }

    pub fn redo(&mut self, mask: &mut Mask) -> Option<PixelRect> {
        self.end_stroke();
        let step = self.redo.pop()?;
        for c in &step.changes {
            c.toggle(mask);
        }
        let r = step.dirty();
        self.undo.push(step);
        self.unsaved = true;
        Some(r)
    }

    /// Whether there are edits not yet saved (`mark_saved` clears it).
    pub fn unsaved(&self) -> bool {
        self.unsaved
    }

    pub fn mark_saved(&mut self) {
        self.unsaved = false;
    }

    /// Bytes the undo and redo records take.
    pub fn bytes(&self) -> usize {
        self.undo.iter().chain(&self.redo).chain(&self.open).flat_map(|s| &s.changes).map(|c| c.flipped.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::masks::tools;

    #[test]
    fn undo_redo_restore_exactly() {
        let mut m = Mask::new(120, 80);
        let b = m.bounds();
        let mut h = History::new();
        let s0 = m.clone();
        h.begin_stroke();
        let d1 = h.apply(&mut m, &tools::stroke(&b, (10.0, 10.0), (60.0, 40.0), 5.0), true).unwrap();
        h.apply(&mut m, &tools::stroke(&b, (60.0, 40.0), (100.0, 20.0), 5.0), true);
        assert!(h.end_stroke());
        let s1 = m.clone();
        assert!(d1.w > 0 && d1.right() <= 66);
        // The eraser over part of it, then a no-op (already erased) that records nothing.
        let d2 = h.apply(&mut m, &tools::disc(&b, (60.0, 40.0), 8.0), false).unwrap();
        assert!(h.apply(&mut m, &tools::disc(&b, (60.0, 40.0), 8.0), false).is_none());
        let s2 = m.clone();
        assert_eq!(h.undo_len(), 2);
        assert_eq!(h.undo(&mut m), Some(d2));
        assert_eq!(m, s1);
        h.undo(&mut m);
        assert_eq!(m, s0);
        assert!(h.undo(&mut m).is_none());
        h.redo(&mut m);
        assert_eq!(m, s1);
        h.redo(&mut m);
        assert_eq!(m, s2);
        // A new edit after an undo drops the redo branch.
        h.undo(&mut m);
        h.apply(&mut m, &tools::disc(&b, (5.0, 70.0), 3.0), true);
        assert!(!h.can_redo());
    }

    #[test]
    fn dirty_rect_is_tight() {
        let mut m = Mask::new(100, 100);
        let mut h = History::new();
        // A big stamp that changes only a small corner.
        let mut s = Stamp::blank(m.bounds());
        s.set(40, 41);
        s.set(42, 45);
        assert_eq!(h.apply(&mut m, &s, true), Some(PixelRect::new(40, 41, 3, 5)));
    }
}
