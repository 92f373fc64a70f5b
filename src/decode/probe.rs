//! What import learns of one file, inside a worker process: identify the format, read EXIF,
//! decode every byte of the image at reduced size (refusing damaged files), measure the
//! modality cues, and make the thumbnail.

use super::exif::{self, ExifInfo};
use super::format::{self, Format, Refusal};
use super::{Limits, Route, Thumb};
use crate::modality::cues::{self, Cues};
use crate::modality::model::ModalityNet;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub format: Option<Format>,
    pub width: u32,
    pub height: u32,
    pub exif: ExifInfo,
    pub cues: Option<Cues>,
    pub thumb_route: Option<Route>,
    /// Set when the thumbnail could not be written (the photo itself is fine).
    pub thumb_error: Option<String>,
}

/// Examines one file's bytes. The thumbnail, when one was asked for, comes back beside the
/// probe for the caller to store. With `model`, the modality model's guess is stored with the
/// cues (a model that fails on this photo leaves no guess: the cues decide).
pub fn probe_bytes(
    bytes: &[u8],
    path: &Path,
    thumb: bool,
    thumb_size: u32,
    limits: &Limits,
    model: Option<&ModalityNet>,
) -> Result<(Probe, Option<Thumb>), Refusal> {
    let format = format::sniff(&bytes[..bytes.len().min(512)], path)?;
    let parsed = exif::parse(bytes);
    let exif = parsed.as_ref().map(|p| p.info()).unwrap_or(ExifInfo { orientation: 1, ..Default::default() });
    let mut decoded = super::decode_reduced(bytes, format, thumb_size.max(cues::CUE_SIZE), limits)?;
    decoded.image = super::shrink_to(decoded.image, thumb_size.max(cues::CUE_SIZE));
    let mut cues = cues::measure(&cue_image(&decoded.image));
    cues.model = model.and_then(|m| m.guess(&decoded.image).ok());
    let (width, height) = (decoded.width, decoded.height);
    let mut probe = Probe {
        format: Some(format),
        width,
        height,
        exif,
        cues: Some(cues),
        thumb_route: Some(decoded.route),
        thumb_error: None,
    };
    let mut made = None;
    if thumb {
        match super::thumbnail_of(bytes, format, decoded, probe.exif.orientation, thumb_size) {
            Ok(t) => {
                probe.thumb_route = Some(t.route);
                made = Some(t);
            }
            Err(e) => probe.thumb_error = Some(format!("cannot encode the thumbnail: {e}")),
        }
    }
    Ok((probe, made))
}

/// The cue image: long side at most CUE_SIZE, reduced by area averaging (see cues.rs).
pub fn cue_image(img: &image::RgbImage) -> image::RgbImage {
    let (w, h) = img.dimensions();
    let long = w.max(h);
    if long <= cues::CUE_SIZE {
        return img.clone();
    }
    let tw = ((w as u64 * cues::CUE_SIZE as u64 + long as u64 / 2) / long as u64).max(1) as u32;
    let th = ((h as u64 * cues::CUE_SIZE as u64 + long as u64 / 2) / long as u64).max(1) as u32;
    image::imageops::thumbnail(img, tw, th)
}
