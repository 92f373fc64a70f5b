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
    /// Make a thumbnail (it comes back beside the probe).
    pub thumb: bool,
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

/// Reads and examines one file. The thumbnail, when one was asked for, comes back beside the
/// probe for the caller to store.
pub fn probe(req: &Request) -> Result<(Probe, Option<thumbs::Thumb>), Refusal> {
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

pub fn probe_bytes(bytes: &[u8], req: &Request) -> Result<(Probe, Option<thumbs::Thumb>), Refusal> {
    let format = format::sniff(&bytes[..bytes.len().min(512)], &req.path)?;
    match req.mode {
        Mode::Thumbnail => {
            let thumb = thumbs::make_thumbnail(bytes, format, req.thumb_size, &req.limits)?;
            let probe = Probe { format: Some(format), thumb_route: Some(thumb.route), ..Default::default() };
            Ok((probe, Some(thumb)))
        }
        Mode::Import => {
            let parsed = exif::parse(bytes);
            let exif = parsed.as_ref().map(|p| p.info()).unwrap_or(ExifInfo { orientation: 1, ..Default::default() });
            let mut decoded = thumbs::decode_reduced(bytes, format, req.thumb_size.max(cues::CUE_SIZE), &req.limits)?;
            decoded.image = thumbs::shrink_to(decoded.image, req.thumb_size.max(cues::CUE_SIZE));
            let cues = cues::measure(&cue_image(&decoded.image));
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
            let mut thumb = None;
            if req.thumb {
                match thumbs::thumbnail_of(bytes, format, decoded, probe.exif.orientation, req.thumb_size) {
                    Ok(t) => {
                        probe.thumb_route = Some(t.route);
                        thumb = Some(t);
                    }
                    Err(e) => probe.thumb_error = Some(format!("cannot encode the thumbnail: {e}")),
                }
            }
            Ok((probe, thumb))
        }
    }
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
