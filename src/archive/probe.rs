//! What a decoder worker does with one file: read it (read-only), identify the format, read
//! EXIF, decode every byte of the image at reduced size (refusing damaged files), measure the
//! modality cues, and write the thumbnail. Runs inside `worker` processes.

use super::cues::{self, Cues};
use super::exif::{self, ExifInfo};
use super::format::{self, Format, Refusal, RefusalCode};
use crate::thumbs::{self, Limits, Route};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Validate, read EXIF, measure cues, write the thumbnail.
    Import,
    /// Only (re)make the thumbnail, by the fastest route.
    Thumbnail,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Request {
    pub mode: Mode,
    pub path: PathBuf,
    /// Where to write the thumbnail (None: do not write one).
    pub thumb: Option<PathBuf>,
    pub thumb_size: u32,
    pub limits: Limits,
}

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

/// Files above this are not read into memory by a worker (bigger than any photo we decode).
const MAX_FILE_BYTES: u64 = 2 << 30;

pub fn probe(req: &Request) -> Result<Probe, Refusal> {
    let meta = std::fs::metadata(&req.path)
        .map_err(|e| Refusal::new(RefusalCode::Unreadable, format!("cannot read the file: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Refusal::new(RefusalCode::TooLarge, format!("the file is {} bytes", meta.len())));
    }
    // std::fs::read opens read-only: originals are never written.
    let bytes = std::fs::read(&req.path)
        .map_err(|e| Refusal::new(RefusalCode::Unreadable, format!("cannot read the file: {e}")))?;
    probe_bytes(&bytes, req)
}

pub fn probe_bytes(bytes: &[u8], req: &Request) -> Result<Probe, Refusal> {
    let format = format::sniff(&bytes[..bytes.len().min(512)], &req.path)?;
    match req.mode {
        Mode::Thumbnail => {
            let (img, route, _) = thumbs::make_thumbnail(bytes, format, req.thumb_size, &req.limits)?;
            if let Some(out) = &req.thumb {
                write_thumb(&img, out).map_err(|e| Refusal::new(RefusalCode::Unreadable, e))?;
            }
            Ok(Probe { format: Some(format), width: 0, height: 0, thumb_route: Some(route), ..Default::default() })
        }
        Mode::Import => {
            let parsed = exif::parse(bytes);
            let exif = parsed.as_ref().map(|p| p.info()).unwrap_or(ExifInfo { orientation: 1, ..Default::default() });
            let decoded = thumbs::decode_reduced(bytes, format, req.thumb_size.max(cues::CUE_SIZE), &req.limits)?;
            let small = thumbs::shrink_to(decoded.image, req.thumb_size.max(cues::CUE_SIZE));
            let cue_img = cue_image(&small);
            let cues = cues::measure(&cue_img);
            let thumb_error = req.thumb.as_ref().and_then(|out| {
                let thumb = thumbs::finish_thumbnail(small, exif.orientation, req.thumb_size);
                write_thumb(&thumb, out).err()
            });
            Ok(Probe {
                thumb_error,
                format: Some(format),
                width: decoded.width,
                height: decoded.height,
                exif,
                cues: Some(cues),
                thumb_route: Some(decoded.route),
            })
        }
    }
}

/// A thumbnail that cannot be written is the cache's problem, not the photo's: on import the
/// photo is still taken and the error is reported beside it.
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

fn write_thumb(img: &image::RgbImage, out: &std::path::Path) -> Result<(), String> {
    let bytes = thumbs::encode_jpeg(img).map_err(|e| format!("cannot encode the thumbnail: {e}"))?;
    thumbs::write_atomic(out, &bytes).map_err(|e| format!("cannot write the thumbnail ({e}): {}", out.display()))
}
