//! A lesion proposed by a segmentation model, for the mask panel: the model runs on the
//! upright photo, its mask (at the model's size) is brought back to the photo's full
//! resolution by bilinear interpolation of the probabilities (undoing the card's resize:
//! stretched, or scaled and centre-cropped, where the parts cut off stay out), thresholded
//! as the card says, reduced to its largest connected region (8-connected) and its holes
//! filled. The panel puts the result in as an ordinary, undoable edit.

use super::card::{ModelTask, OutputKind, Resize};
use super::net::Loaded;
use super::registry::ModelInfo;
use crate::masks::{Mask, tools};
use image::{GrayImage, Luma, RgbImage};
use imageproc::region_labelling::{Connectivity, connected_components};

/// The segmentation model the panel proposes with: the one added by hand last, else the
/// demo segmenter shipped in the executable.
pub fn pick(models: &[ModelInfo]) -> Option<&ModelInfo> {
    models.iter().filter(|m| m.card.task == ModelTask::Segmentation).max_by_key(|m| (!m.builtin, m.id))
}

/// Loads a registered segmenter (refusing a file changed since it was registered) and
/// proposes the lesion on `img`.
pub fn propose_with(info: &ModelInfo, img: &RgbImage) -> Result<Mask, String> {
    if info.card.task != ModelTask::Segmentation {
        return Err(format!("{} {} is not a segmentation model", info.name(), info.version()));
    }
    let bytes = std::fs::read(&info.model_path).map_err(|e| format!("{}: {e}", info.model_path.display()))?;
    if blake3::hash(&bytes).to_hex().as_str() != info.model_hash {
        return Err(format!("the model file changed since it was registered: {}", info.model_path.display()));
    }
    let loaded = super::net::load(&info.card, &bytes).map_err(|e| e.to_string())?;
    propose(&loaded, img)
}

/// The lesion `model` (a segmenter) sees on `img`, as a mask of the photo's size.
pub fn propose(model: &Loaded, img: &RgbImage) -> Result<Mask, String> {
    let card = model.card();
    let logits = match card.output.kind {
        OutputKind::MaskLogits => true,
        OutputKind::MaskProbabilities => false,
        _ => return Err(format!("{} {} does not output a mask", card.name, card.version)),
    };
    let raw = model.raw(img)?;
    let (mw, mh) = card.mask_size();
    if raw.len() != (mw * mh) as usize {
        return Err(format!("{} values came out, a {mw}x{mh} mask was expected", raw.len()));
    }
    let prob: Vec<f32> = raw.iter().map(|&v| if logits { 1.0 / (1.0 + (-v).exp()) } else { v }).collect();
    let mask = upsample(&prob, mw, mh, img.width(), img.height(), card.input.resize, card.threshold());
    Ok(tidy(mask))
}

/// For each photo column (or row) of `n` pixels: where it falls among the model's samples
/// (fractional, sample centres at integers) when the photo was scaled to `scaled` pixels and
/// cut at `offset`.
fn axis(n: u32, scaled: u32, offset: u32) -> Vec<f32> {
    let s = scaled as f32 / n.max(1) as f32;
    (0..n).map(|x| (x as f32 + 0.5) * s - 0.5 - offset as f32).collect()
}

/// The model's probabilities (`mw` x `mh`, row-major) at the photo's size (`w` x `h`),
/// bilinear, thresholded at `t`.
pub fn upsample(prob: &[f32], mw: u32, mh: u32, w: u32, h: u32, resize: Resize, t: f32) -> Mask {
    let (xs, ys) = match resize {
        Resize::Stretch => (axis(w, mw, 0), axis(h, mh, 0)),
        Resize::ShorterSideCrop => {
            // As preprocess::resized: scaled to cover, then the centre cut out.
            let s = (mw as f64 / w.max(1) as f64).max(mh as f64 / h.max(1) as f64);
            let nw = ((w as f64 * s).round() as u32).max(mw);
            let nh = ((h as f64 * s).round() as u32).max(mh);
            (axis(w, nw, (nw - mw) / 2), axis(h, nh, (nh - mh) / 2))
        }
    };
    // Per axis: the two samples and the weight of the second; None outside what the model saw.
    let taps = |c: f32, m: u32| -> Option<(usize, usize, f32)> {
        if c < -0.5 || c > m as f32 - 0.5 {
            return None;
        }
        let c = c.clamp(0.0, (m - 1) as f32);
        let i = c.floor() as usize;
        let j = (i + 1).min(m as usize - 1);
        Some((i, j, c - i as f32))
    };
    let xt: Vec<_> = xs.iter().map(|&c| taps(c, mw)).collect();
    let mut bits = vec![0u8; w as usize * h as usize];
    for (y, &cy) in ys.iter().enumerate() {
        let Some((y0, y1, fy)) = taps(cy, mh) else { continue };
        let (r0, r1) = (&prob[y0 * mw as usize..][..mw as usize], &prob[y1 * mw as usize..][..mw as usize]);
        let row = &mut bits[y * w as usize..][..w as usize];
        for (b, t_) in row.iter_mut().zip(&xt) {
            let Some((x0, x1, fx)) = *t_ else { continue };
            let top = r0[x0] + (r0[x1] - r0[x0]) * fx;
            let bottom = r1[x0] + (r1[x1] - r1[x0]) * fx;
            *b = u8::from(top + (bottom - top) * fy >= t);
        }
    }
    Mask::from_bytes(w, h, bits).unwrap_or_else(|| Mask::new(w, h))
}

/// Keeps the largest connected region (8-connected) and fills its holes.
pub fn tidy(mask: Mask) -> Mask {
    let bb = mask.bbox();
    if bb.is_empty() {
        return mask;
    }
    let mut g = GrayImage::new(bb.w, bb.h);
    for y in 0..bb.h {
        for x in 0..bb.w {
            if mask.get(bb.x + x, bb.y + y) {
                g.put_pixel(x, y, Luma([255]));
            }
        }
    }
    let labels = connected_components(&g, Connectivity::Eight, Luma([0u8]));
    let mut sizes: Vec<u64> = Vec::new();
    for p in labels.pixels() {
        let l = p[0] as usize;
        if l > 0 {
            if sizes.len() < l {
                sizes.resize(l, 0);
            }
            sizes[l - 1] += 1;
        }
    }
    let Some(best) = sizes.iter().enumerate().max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i))).map(|(i, _)| i + 1)
    else {
        return mask;
    };
    let mut out = Mask::new(mask.width(), mask.height());
    for (x, y, p) in labels.enumerate_pixels() {
        if p[0] as usize == best {
            out.set(bb.x + x, bb.y + y, true);
        }
    }
    let holes = tools::holes(&out);
    tools::paint(&mut out, &holes, true);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsampling_stretches_to_the_photo_and_interpolates() {
        // A 4x2 model mask: the right half in.
        let prob = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0];
        let m = upsample(&prob, 4, 2, 40, 10, Resize::Stretch, 0.5);
        assert_eq!((m.width(), m.height()), (40, 10));
        // The edge falls halfway, between model columns 1 and 2 (photo x = 20).
        assert!(!m.get(19, 5) && m.get(20, 5) && m.get(39, 0) && !m.get(0, 9));
        assert_eq!(m.count(), 20 * 10);
    }

    #[test]
    fn centre_crop_leaves_the_cut_off_sides_out() {
        // A square model on a photo twice as wide: the model saw the middle half only.
        let prob = [1.0; 4];
        let m = upsample(&prob, 2, 2, 40, 20, Resize::ShorterSideCrop, 0.5);
        assert!(!m.get(5, 10) && m.get(20, 10) && !m.get(35, 10));
        assert_eq!(m.count(), 20 * 20);
    }

    #[test]
    fn tidy_keeps_the_largest_region_and_fills_its_holes() {
        let mut m = Mask::new(30, 30);
        for y in 5..20 {
            for x in 5..20 {
                m.set(x, y, !(10..13).contains(&x) || !(10..13).contains(&y));
            }
        }
        m.set(27, 27, true);
        let t = tidy(m);
        assert_eq!(t.count(), 15 * 15);
        assert!(t.get(11, 11) && !t.get(27, 27));
    }
}
