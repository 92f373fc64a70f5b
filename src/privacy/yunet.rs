//! YuNet-n (libfacedetection, Apache-2.0): a second, independent face detector for checks
//! and benchmarks. It may not be shipped in the product, so it is loaded from a path at run
//! time (the shared models folder) and never bundled. Input BGR 0..255, NCHW, multiples of 32;
//! decoding as OpenCV's `FaceDetectorYN`.

use super::face::Face;
use super::geometry::{fit_long, nms, resample, round_up, to_nchw};
use super::net::Net;
use crate::error::{Error, Result};
use image::RgbImage;
use std::path::Path;

pub struct YuNet {
    net: Net,
}

impl YuNet {
    pub fn load(path: &Path) -> Result<YuNet> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read the YuNet model", e, path))?;
        Ok(YuNet { net: Net::parse("YuNet", &bytes, 8)? })
    }

    /// The raw network on a ready `[1,3,h,w]` BGR tensor: its twelve outputs.
    pub fn raw(&self, input: Vec<f32>, h: usize, w: usize) -> Result<Vec<(Vec<usize>, Vec<f32>)>> {
        self.net.run(&[1, 3, h, w], input)
    }

    /// Faces with score (sqrt(cls * obj)) at or above `min_score`, long side scaled to `long`.
    pub fn detect(&self, img: &RgbImage, long: u32, min_score: f32) -> Result<Vec<Face>> {
        let (w, h) = img.dimensions();
        let (nw, nh) = if w.max(h) != long { fit_long(w, h, long) } else { (w, h) };
        let small = resample(img, nw, nh);
        let (tw, th) = (round_up(nw, 32) as usize, round_up(nh, 32) as usize);
        let out = self.net.run(&[1, 3, th, tw], to_nchw(&small, tw, th, true, 0.0, |_, v| v as f32))?;
        let (fx, fy) = (w as f32 / nw as f32, h as f32 / nh as f32);
        let mut faces = Vec::new();
        for (k, s) in [8usize, 16, 32].into_iter().enumerate() {
            let cols = tw / s;
            let (cls, obj, bbox) = (&out[k].1, &out[3 + k].1, &out[6 + k].1);
            for i in 0..cls.len() {
                let score = (cls[i].clamp(0.0, 1.0) * obj[i].clamp(0.0, 1.0)).sqrt();
                if score < min_score {
                    continue;
                }
                let (r, c) = ((i / cols) as f32, (i % cols) as f32);
                let cx = (c + bbox[i * 4]) * s as f32;
                let cy = (r + bbox[i * 4 + 1]) * s as f32;
                let bw = bbox[i * 4 + 2].exp() * s as f32;
                let bh = bbox[i * 4 + 3].exp() * s as f32;
                let b = [
                    (cx - bw / 2.0).clamp(0.0, nw as f32) * fx,
                    (cy - bh / 2.0).clamp(0.0, nh as f32) * fy,
                    (cx + bw / 2.0).clamp(0.0, nw as f32) * fx,
                    (cy + bh / 2.0).clamp(0.0, nh as f32) * fy,
                ];
                faces.push(Face { bbox: b, score });
            }
        }
        let boxes: Vec<[f32; 4]> = faces.iter().map(|f| f.bbox).collect();
        let scores: Vec<f32> = faces.iter().map(|f| f.score).collect();
        Ok(nms(&boxes, &scores, 0.3).into_iter().map(|i| faces[i]).collect())
    }
}
