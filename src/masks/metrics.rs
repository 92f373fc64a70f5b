//! Agreement between masks: Dice and IoU, pairing the lesions two people drew on one photo,
//! and summaries over many photos.

use super::mask::Mask;
use serde::Serialize;

/// Pixels in both, in either, and in each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overlap {
    pub both: u64,
    pub a: u64,
    pub b: u64,
}

impl Overlap {
    pub fn of(a: &Mask, b: &Mask) -> Overlap {
        assert_eq!((a.width(), a.height()), (b.width(), b.height()), "masks of one photo have one size");
        let mut o = Overlap::default();
        for (x, y) in a.data().iter().zip(b.data()) {
            o.both += (x & y) as u64;
            o.a += *x as u64;
            o.b += *y as u64;
        }
        o
    }

    /// 2|A∩B| / (|A|+|B|); two empty masks agree fully (1).
    pub fn dice(&self) -> f64 {
        if self.a + self.b == 0 { 1.0 } else { 2.0 * self.both as f64 / (self.a + self.b) as f64 }
    }

    /// |A∩B| / |A∪B|; two empty masks agree fully (1).
    pub fn iou(&self) -> f64 {
        let union = self.a + self.b - self.both;
        if union == 0 { 1.0 } else { self.both as f64 / union as f64 }
    }
}

pub fn dice(a: &Mask, b: &Mask) -> f64 {
    Overlap::of(a, b).dice()
}

pub fn iou(a: &Mask, b: &Mask) -> f64 {
    Overlap::of(a, b).iou()
}

/// Two people's masks of what is taken to be the same lesion.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Pair {
    pub a: i64,
    pub b: i64,
    pub dice: f64,
    pub iou: f64,
}

/// Pairs the lesions of annotator A with those of annotator B on one photo: greedily by
/// highest IoU, each lesion used once, pairs that do not overlap at all left out (those are
/// different lesions, one person's miss). Inputs are (lesion id, mask).
pub fn pair_lesions(a: &[(i64, &Mask)], b: &[(i64, &Mask)]) -> Vec<Pair> {
    let mut cands: Vec<Pair> = Vec::new();
    for (ia, ma) in a {
        for (ib, mb) in b {
            let o = Overlap::of(ma, mb);
            if o.both > 0 {
                cands.push(Pair { a: *ia, b: *ib, dice: o.dice(), iou: o.iou() });
            }
        }
    }
    cands.sort_by(|p, q| q.iou.total_cmp(&p.iou).then(p.a.cmp(&q.a)).then(p.b.cmp(&q.b)));
    let mut out: Vec<Pair> = Vec::new();
    for c in cands {
        if !out.iter().any(|p| p.a == c.a || p.b == c.b) {
            out.push(c);
        }
    }
    out
}

/// Mean, median, minimum and count of a set of scores.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub median: f64,
    pub min: f64,
}

pub fn summarise(values: &[f64]) -> Summary {
    if values.is_empty() {
        return Summary::default();
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    Summary { n, mean: v.iter().sum::<f64>() / n as f64, median, min: v[0] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::masks::tools;

    fn rect_mask(x0: u32, y0: u32, x1: u32, y1: u32) -> Mask {
        let mut m = Mask::new(100, 100);
        let s = tools::polygon(
            &m.bounds(),
            &[(x0 as f32, y0 as f32), (x1 as f32, y0 as f32), (x1 as f32, y1 as f32), (x0 as f32, y1 as f32)],
        );
        tools::paint(&mut m, &s, true);
        m
    }

    #[test]
    fn dice_and_iou_by_hand() {
        let a = rect_mask(0, 0, 10, 10); // 100 px
        let b = rect_mask(5, 0, 15, 10); // 100 px, 50 shared
        assert_eq!(Overlap::of(&a, &b), Overlap { both: 50, a: 100, b: 100 });
        assert!((dice(&a, &b) - 0.5).abs() < 1e-12);
        assert!((iou(&a, &b) - 50.0 / 150.0).abs() < 1e-12);
        assert_eq!(dice(&a, &a), 1.0);
        assert_eq!(iou(&a, &rect_mask(50, 50, 60, 60)), 0.0);
        assert_eq!(dice(&Mask::new(100, 100), &Mask::new(100, 100)), 1.0);
    }

    #[test]
    fn pairing_is_one_to_one_by_best_overlap() {
        let a1 = rect_mask(0, 0, 20, 20);
        let a2 = rect_mask(50, 50, 70, 70);
        let b1 = rect_mask(52, 50, 72, 70); // matches a2 well
        let b2 = rect_mask(5, 0, 25, 20); // matches a1
        let b3 = rect_mask(90, 0, 95, 5); // nobody's
        let pairs = pair_lesions(&[(1, &a1), (2, &a2)], &[(11, &b1), (12, &b2), (13, &b3)]);
        assert_eq!(pairs.len(), 2);
        assert_eq!((pairs[0].a, pairs[0].b), (2, 11));
        assert_eq!((pairs[1].a, pairs[1].b), (1, 12));
        let s = summarise(&[0.5, 1.0, 0.75]);
        assert_eq!((s.n, s.median, s.min), (3, 0.75, 0.5));
    }
}
