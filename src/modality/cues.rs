//! Image cues for the modality, measured on a small copy (long side <= 256) of each photo.
//!
//! Each cue is a plain statistic so that a person can see why a photo was called what it was;
//! the values are stored with the photo. The design, its evidence and what it gets wrong are
//! written up in docs/modality-cues.md; `dermdesk bench modality` measures precision and
//! recall on the shared data. In short: the round, dark-cornered field of contact dermoscopy;
//! H&E's blue-over-green cast with eosin pink and nuclear-scale texture; and, between clinical
//! photos and dermoscopy without a vignette, a 3-weight score on lighting asymmetry and a dark
//! centred lesion.

use crate::modality::Modality;
use image::RgbImage;
use serde::{Deserialize, Serialize};

/// Long side of the image the cues are measured on.
pub const CUE_SIZE: u32 = 256;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cues {
    /// Fraction of nearly colourless pixels (max − min channel <= 12).
    pub grey: f32,
    /// Darkest of the four far-corner tips relative to the skin ring (1 = as bright as skin):
    /// the vignette of contact dermoscopy shows as a low value in all four corners.
    pub vig: f32,
    /// Fraction of skin-compatible pixels (red above green, not dark, not strongly blue).
    pub skin: f32,
    /// The same inside the inscribed ellipse.
    pub skin_in: f32,
    /// Mean of blue − green over non-white pixels (H&E's haematoxylin cast).
    pub bmg: f32,
    /// Fraction of eosin-pink pixels (red above blue, blue at least 15 above green).
    pub pink: f32,
    /// Mean absolute deviation of luma from its 3×3 mean, over non-white pixels.
    pub tex_nw: f32,
    /// Left-right plus top-bottom luma difference of the outer thirds, relative to mean luma:
    /// shading of curved body surfaces and off-centre content.
    pub asym: f32,
    /// How much darker the centre is than the frame border, relative to the border.
    pub centre_dark: f32,
    /// The modality model's guess, made beside the cues at import (none for photos imported
    /// before the model, until `dermdesk modality redetect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<super::model::ModelGuess>,
}

fn luma(r: u32, g: u32, b: u32) -> u32 {
    (299 * r + 587 * g + 114 * b + 500) / 1000
}

pub fn measure(img: &RgbImage) -> Cues {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Cues::default();
    }
    let (wu, hu) = (w as usize, h as usize);
    let (wi, hi) = (w as i64, h as i64);
    // The ellipse test `num <= den` etc., with num = dx²h² + dy²w²: the dx and dy parts are
    // per column and per row, so they are computed once.
    let den = wi * wi * hi * hi;
    let dx_term: Vec<i64> = (0..wi).map(|x| (2 * x + 1 - wi).pow(2) * hi * hi).collect();
    let n = (wu * hu) as u64;
    let (bw, bh) = ((w / 8).max(1) as usize, (h / 8).max(1) as usize);
    let (t3w, t3h) = ((w / 3).max(1) as usize, (h / 3).max(1) as usize);
    let (cx0, cx1, cy0, cy1) = (wu / 4, wu - wu / 4, hu / 4, hu - hu / 4);

    let mut y_img = vec![0u16; wu * hu];
    let mut nonwhite_px = vec![false; wu * hu];
    let mut grey = 0u64;
    let mut annulus_hist = [0u64; 256];
    let mut all_hist = [0u64; 256];
    let mut tip_sum = [0u64; 4];
    let mut tip_n = [0u64; 4];
    let (mut skin, mut skin_in, mut inside) = (0u64, 0u64, 0u64);
    let (mut bmg_sum, mut nonwhite) = (0i64, 0u64);
    let mut pink = 0u64;
    let (mut ring_sum, mut ring_n, mut centre_sum, mut centre_n) = (0u64, 0u64, 0u64, 0u64);
    let (mut left_sum, mut right_sum, mut top_sum, mut bottom_sum, mut all_sum) = (0u64, 0u64, 0u64, 0u64, 0u64);

    let raw = img.as_raw();
    for y in 0..hu {
        let dy = 2 * y as i64 + 1 - hi;
        let dy_term = dy * dy * wi * wi;
        let ring_row = y < bh || y >= hu - bh;
        let centre_row = y >= cy0 && y < cy1;
        let (top, bottom) = (y < t3h, y >= hu - t3h);
        let row = &raw[y * wu * 3..(y + 1) * wu * 3];
        for (x, px) in row.chunks_exact(3).enumerate() {
            let (r, g, b) = (px[0] as u32, px[1] as u32, px[2] as u32);
            let yv = luma(r, g, b);
            let i = y * wu + x;
            y_img[i] = yv as u16;
            all_hist[yv as usize] += 1;
            all_sum += yv as u64;
            let (mx, mn) = (r.max(g).max(b), r.min(g).min(b));
            if mx - mn <= 12 {
                grey += 1;
            }
            let num = dx_term[x] + dy_term;
            let skin_px = r > g && r >= 40 && b <= r + 48;
            if num <= den {
                inside += 1;
                skin_in += skin_px as u64;
            }
            skin += skin_px as u64;
            if 10 * num >= 17 * den {
                let dx = 2 * x as i64 + 1 - wi;
                // The centre row or column of an odd size belongs to no quadrant.
                let q = match (dx.signum(), dy.signum()) {
                    (-1, -1) => Some(0),
                    (1, -1) => Some(1),
                    (-1, 1) => Some(2),
                    (1, 1) => Some(3),
                    _ => None,
                };
                if let Some(q) = q {
                    tip_sum[q] += yv as u64;
                    tip_n[q] += 1;
                }
            }
            if 16 * den <= 100 * num && 100 * num <= 49 * den {
                annulus_hist[yv as usize] += 1;
            }
            if mn < 200 {
                nonwhite += 1;
                nonwhite_px[i] = true;
                bmg_sum += b as i64 - g as i64;
            }
            if r > b && b as i64 - g as i64 >= 15 {
                pink += 1;
            }
            if ring_row || x < bw || x >= wu - bw {
                ring_sum += yv as u64;
                ring_n += 1;
            }
            if centre_row && x >= cx0 && x < cx1 {
                centre_sum += yv as u64;
                centre_n += 1;
            }
            if x < t3w {
                left_sum += yv as u64;
            }
            if x >= wu - t3w {
                right_sum += yv as u64;
            }
            if top {
                top_sum += yv as u64;
            }
            if bottom {
                bottom_sum += yv as u64;
            }
        }
    }

    // Lower median of luma over the skin annulus (all pixels when it is empty).
    let hist = if annulus_hist.iter().sum::<u64>() > 0 { &annulus_hist } else { &all_hist };
    let k: u64 = hist.iter().sum();
    let target = (k - 1) / 2;
    let mut seen = 0u64;
    let mut yref = 0u32;
    for (v, c) in hist.iter().enumerate() {
        seen += c;
        if seen > target {
            yref = v as u32;
            break;
        }
    }
    let yref = yref.max(1) as f64;
    let vig = (0..4)
        .map(|q| if tip_n[q] == 0 { 1.0 } else { tip_sum[q] as f64 / tip_n[q] as f64 / yref })
        .fold(f64::MIN, f64::max);

    // Texture: |9·Y − Σ3×3 Y| / 9 over interior non-white pixels, with running 3-wide row sums.
    let (mut tex_sum, mut tex_n) = (0u64, 0u64);
    if wu >= 3 && hu >= 3 {
        let row3 = |y: usize| -> Vec<i64> {
            let r = &y_img[y * wu..(y + 1) * wu];
            (0..wu).map(|x| if x == 0 || x == wu - 1 { 0 } else { (r[x - 1] + r[x] + r[x + 1]) as i64 }).collect()
        };
        let (mut above, mut here) = (row3(0), row3(1));
        for y in 1..hu - 1 {
            let below = row3(y + 1);
            for x in 1..wu - 1 {
                let i = y * wu + x;
                if !nonwhite_px[i] {
                    continue;
                }
                let s = above[x] + here[x] + below[x];
                tex_sum += (9 * y_img[i] as i64 - s).unsigned_abs();
                tex_n += 1;
            }
            above = std::mem::replace(&mut here, below);
        }
    }
    let mean = |s: u64, n: u64| if n == 0 { 0.0 } else { s as f64 / n as f64 };
    let mean_all = mean(all_sum, n);
    let col_n = (t3w * hu) as u64;
    let row_n = (t3h * wu) as u64;
    let asym = ((mean(left_sum, col_n) - mean(right_sum, col_n)).abs()
        + (mean(top_sum, row_n) - mean(bottom_sum, row_n)).abs())
        / mean_all.max(1.0);
    let ring_mean = mean(ring_sum, ring_n);
    Cues {
        grey: (grey as f64 / n as f64) as f32,
        vig: vig as f32,
        skin: (skin as f64 / n as f64) as f32,
        skin_in: mean(skin_in, inside) as f32,
        bmg: if nonwhite == 0 { 0.0 } else { (bmg_sum as f64 / nonwhite as f64) as f32 },
        pink: (pink as f64 / n as f64) as f32,
        tex_nw: if tex_n == 0 { 0.0 } else { (tex_sum as f64 / tex_n as f64 / 9.0) as f32 },
        asym: asym as f32,
        centre_dark: ((ring_mean - mean(centre_sum, centre_n)) / ring_mean.max(1.0)) as f32,
        model: None,
    }
}

/// The clinical-versus-dermoscopy score (dermoscopy when >= 0), a logistic fit on the tuning
/// half of the shared data.
pub fn dermoscopy_score(c: &Cues) -> f32 {
    3.8637 - 5.9372 * c.asym + 20.3189 * c.centre_dark - 4.8799 * c.vig.min(2.0)
}

/// Why the cues suggest a modality: stored with the photo (as JSON) and shown in the
/// person's language by the UI; `Display` is the English for the CLI and the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CueReason {
    VisiaSize { width: u32, height: u32 },
    TooSmall { width: u32, height: u32 },
    Colourless { percent: f32 },
    HAndE { blue_green: f32, pink_percent: f32, texture: f32 },
    RoundField { corners_percent: f32 },
    NoSkin,
    EvenLight { score: f32 },
    UnevenLight { score: f32 },
}

impl CueReason {
    /// The stored form (`modality_detail` of a photo decided by cues).
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }

    /// Reads a cue reason, also from the form stored when the model was unsure (`CueDetail`).
    pub fn from_json(s: &str) -> Option<CueReason> {
        serde_json::from_str(s).ok().or_else(|| serde_json::from_str::<CueDetail>(s).ok().map(|d| d.cue))
    }
}

/// The stored reason of a photo the cues decided because the model was unsure of its guess.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CueDetail {
    pub cue: CueReason,
    pub model_unsure: super::model::ModelGuess,
}

impl CueDetail {
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Option<CueDetail> {
        serde_json::from_str(s).ok()
    }
}

impl std::fmt::Display for CueReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            CueReason::VisiaSize { width, height } => write!(f, "VISIA frame size {width}×{height}"),
            CueReason::TooSmall { width, height } => write!(f, "too small for a clinical image ({width}×{height})"),
            CueReason::Colourless { percent } => write!(f, "{percent:.0}% colourless"),
            CueReason::HAndE { blue_green, pink_percent, texture } => {
                write!(f, "H&E: blue-green {blue_green:.0}, eosin pink {pink_percent:.0}%, texture {texture:.1}")
            }
            CueReason::RoundField { corners_percent } => {
                write!(f, "dark round field (corners at {corners_percent:.0}% of skin)")
            }
            CueReason::NoSkin => write!(f, "no skin-coloured pixels"),
            CueReason::EvenLight { score } => write!(f, "even light, dark centred lesion (score {score:.2})"),
            CueReason::UnevenLight { score } => write!(f, "uneven light or small lesion (score {score:.2})"),
        }
    }
}

/// The modality the cues suggest, with the reason. `visia_sizes` are the fixed frame sizes
/// of the department's VISIA system (none are known here; see the README).
pub fn classify(c: &Cues, width: u32, height: u32, visia_sizes: &[(u32, u32)]) -> (Modality, CueReason) {
    if visia_sizes.iter().any(|&(a, b)| (width, height) == (a, b) || (width, height) == (b, a)) {
        return (Modality::Visia, CueReason::VisiaSize { width, height });
    }
    if width.max(height) < 64 {
        return (Modality::Other, CueReason::TooSmall { width, height });
    }
    if c.grey >= 0.98 {
        return (Modality::Other, CueReason::Colourless { percent: c.grey * 100.0 });
    }
    if c.bmg >= 27.75 && c.tex_nw >= 4.75 && c.pink >= 0.265 {
        return (
            Modality::Histopathology,
            CueReason::HAndE { blue_green: c.bmg, pink_percent: c.pink * 100.0, texture: c.tex_nw },
        );
    }
    if c.vig <= 0.80 && c.skin_in >= 0.5 {
        return (Modality::Dermoscopy, CueReason::RoundField { corners_percent: c.vig * 100.0 });
    }
    if c.skin < 0.02 {
        return (Modality::Other, CueReason::NoSkin);
    }
    let score = dermoscopy_score(c);
    if score >= 0.0 {
        (Modality::Dermoscopy, CueReason::EvenLight { score })
    } else {
        (Modality::Clinical, CueReason::UnevenLight { score })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vignette_and_flat_frames() {
        // A skin-coloured disc on black: contact dermoscopy's round field.
        let mut img = RgbImage::from_pixel(200, 150, image::Rgb([0, 0, 0]));
        for (x, y, p) in img.enumerate_pixels_mut() {
            let dx = (x as f32 - 100.0) / 100.0;
            let dy = (y as f32 - 75.0) / 75.0;
            if dx * dx + dy * dy < 1.0 {
                *p = image::Rgb([200, 150, 130]);
            }
        }
        let c = measure(&img);
        assert!(c.vig < 0.1, "{c:?}");
        assert_eq!(classify(&c, 200, 150, &[]).0, Modality::Dermoscopy);

        let flat = RgbImage::from_pixel(300, 200, image::Rgb([128, 128, 128]));
        let c = measure(&flat);
        assert!(c.grey > 0.99);
        assert_eq!(classify(&c, 3000, 2000, &[]).0, Modality::Other);
        assert_eq!(classify(&c, 3000, 2000, &[(2000, 3000)]).0, Modality::Visia);
        assert_eq!(classify(&Cues::default(), 32, 32, &[]).0, Modality::Other);
    }
}
