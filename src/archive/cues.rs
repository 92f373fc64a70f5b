//! Image cues for the modality, measured on a small copy (long side <= 256) of each photo.
//!
//! Each cue is a plain statistic so that a person can see why a photo was called what it was;
//! the measured values are stored with the photo. Precision and recall on the shared data are
//! reported by `dermdesk bench modality` (see the README).

use crate::modality::Modality;
use image::RgbImage;
use serde::{Deserialize, Serialize};

/// Long side of the image the cues are measured on.
pub const CUE_SIZE: u32 = 256;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cues {
    /// Fraction of pixels outside the inscribed ellipse that are near black (luma < 40):
    /// the round field of contact dermoscopy.
    pub corner_dark: f32,
    /// Fraction of pixels in the H&E band: pink to purple hues, with some saturation.
    pub he: f32,
    /// Fraction of pixels with skin chroma (YCbCr box rule).
    pub skin: f32,
    /// Fraction of bright, unsaturated pixels (slide background, paper, walls).
    pub white: f32,
    /// Mean absolute luma gradient (0..255): how busy the picture is.
    pub edges: f32,
    /// Mean luma of the centre third minus the mean luma of the outer ring (lesion darker
    /// than surrounding skin gives a negative value).
    pub centre_minus_ring: f32,
}

pub fn measure(img: &RgbImage) -> Cues {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Cues::default();
    }
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (rx, ry) = (w as f32 / 2.0, h as f32 / 2.0);
    let mut n_corner = 0u32;
    let mut dark_corner = 0u32;
    let (mut he, mut skin, mut white) = (0u32, 0u32, 0u32);
    let (mut centre_sum, mut centre_n, mut ring_sum, mut ring_n) = (0f64, 0u32, 0f64, 0u32);
    let mut luma = vec![0f32; (w * h) as usize];
    for (x, y, p) in img.enumerate_pixels() {
        let [r, g, b] = p.0.map(|v| v as f32);
        let yv = 0.299 * r + 0.587 * g + 0.114 * b;
        luma[(y * w + x) as usize] = yv;
        let dx = (x as f32 + 0.5 - cx) / rx;
        let dy = (y as f32 + 0.5 - cy) / ry;
        let d2 = dx * dx + dy * dy;
        if d2 > 1.0 {
            n_corner += 1;
            if yv < 40.0 {
                dark_corner += 1;
            }
        }
        if d2 < 1.0 / 9.0 {
            centre_sum += yv as f64;
            centre_n += 1;
        } else if d2 > 0.64 && d2 <= 1.0 {
            ring_sum += yv as f64;
            ring_n += 1;
        }
        let max = r.max(g).max(b);
        let min = r.min(g).min(b);
        let sat = if max > 0.0 { (max - min) / max } else { 0.0 };
        if max > 200.0 && sat < 0.12 {
            white += 1;
        }
        let hue = hue_degrees(r, g, b, max, min);
        if sat > 0.15 && max > 60.0 && (250.0..=345.0).contains(&hue) {
            he += 1;
        }
        let cb = 128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b;
        let cr = 128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b;
        if (77.0..=127.0).contains(&cb) && (133.0..=173.0).contains(&cr) {
            skin += 1;
        }
    }
    let mut grad = 0f64;
    let mut gn = 0u32;
    for y in 0..h.saturating_sub(1) {
        for x in 0..w.saturating_sub(1) {
            let i = (y * w + x) as usize;
            grad += ((luma[i + 1] - luma[i]).abs() + (luma[i + w as usize] - luma[i]).abs()) as f64 / 2.0;
            gn += 1;
        }
    }
    let total = (w * h) as f32;
    let mean = |s: f64, n: u32| if n == 0 { 0.0 } else { (s / n as f64) as f32 };
    Cues {
        corner_dark: if n_corner == 0 { 0.0 } else { dark_corner as f32 / n_corner as f32 },
        he: he as f32 / total,
        skin: skin as f32 / total,
        white: white as f32 / total,
        edges: mean(grad, gn),
        centre_minus_ring: mean(centre_sum, centre_n) - mean(ring_sum, ring_n),
    }
}

fn hue_degrees(r: f32, g: f32, b: f32, max: f32, min: f32) -> f32 {
    let d = max - min;
    if d <= 0.0 {
        return 0.0;
    }
    let h = if max == r {
        60.0 * (((g - b) / d) % 6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    if h < 0.0 { h + 360.0 } else { h }
}

/// VISIA (Canfield) systems write fixed frame sizes; a photo of exactly one of these sizes
/// (either orientation) is taken for VISIA. Unmeasured: there are no VISIA images in the
/// shared data.
pub const VISIA_FRAME_SIZES: &[(u32, u32)] = &[(3456, 5184), (2592, 3888), (2848, 4288), (3000, 4000)];

/// The modality the cues suggest, with a short reason a person can read.
pub fn classify(c: &Cues, width: u32, height: u32) -> (Modality, String) {
    if VISIA_FRAME_SIZES.iter().any(|&(a, b)| (width, height) == (a, b) || (width, height) == (b, a)) {
        return (Modality::Visia, format!("VISIA frame size {width}x{height}"));
    }
    if c.he > 0.35 && c.skin < 0.5 {
        return (Modality::Histopathology, format!("H&E palette {:.0}%", c.he * 100.0));
    }
    if c.corner_dark > 0.5 {
        return (Modality::Dermoscopy, format!("dark round field {:.0}%", c.corner_dark * 100.0));
    }
    if c.skin > 0.6 && c.edges < 6.0 {
        return (Modality::Dermoscopy, format!("skin {:.0}%, smooth close-up", c.skin * 100.0));
    }
    if c.skin > 0.4 {
        return (Modality::Clinical, format!("skin {:.0}%", c.skin * 100.0));
    }
    (Modality::Other, "no skin, slide or dermoscope cues".to_owned())
}
