//! De-identified export: only what the gate (`Store::release`) lets out; every photo decoded,
//! turned upright (EXIF orientation applied), redactions burned in, cropped, and encoded anew
//! with no metadata of any kind (no EXIF or its thumbnail, XMP, IPTC, ICC, comments, text
//! chunks). Files are named by sequence number, never by original names or chart numbers.

use crate::decode::Format;
use crate::decode::Limits;
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::store::{Releasable, Store};
use image::{ImageEncoder as _, RgbImage};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, Serialize)]
pub struct ExportReport {
    pub out: PathBuf,
    pub exported: usize,
    /// Photos the gate held back, by reason.
    pub withheld: std::collections::BTreeMap<String, usize>,
    /// Photos that were allowed but could not be written: (photo id, reason).
    pub failed: Vec<(i64, String)>,
}

/// JPEG quality of exported photos (high: they are research data).
pub const QUALITY: u8 = 95;

/// Exports every releasable photo (or those of `ids`) into `out`, which must not exist or be
/// empty. Names are `000001.jpg`, `000002.png`, ... in photo order.
pub fn export_deid(store: &mut Store, out: &Path, ids: Option<&[i64]>, progress: &Progress) -> Result<ExportReport> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).map_err(|e| Error::io("cannot read the export folder", e, out))?;
        if entries.next().is_some() {
            return Err(Error::Invalid(format!(
                "the export folder is not empty (choose a new one): {}",
                out.display()
            )));
        }
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io("cannot create the export folder", e, out))?;
    let release = store.release(ids)?;
    let mut report = ExportReport { out: out.to_path_buf(), ..Default::default() };
    for (_, why) in &release.withheld {
        *report.withheld.entry(why.as_str().to_string()).or_default() += 1;
    }
    progress.set_total(release.allowed.len() as u64, true);
    let mut seq = 0usize;
    for r in &release.allowed {
        if progress.is_cancelled() {
            return Err(Error::Cancelled);
        }
        seq += 1;
        match export_one(r, out, seq) {
            Ok(path) => {
                report.exported += 1;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                store.audit("exported_deid", Some(r.photo_id), &format!("as {name}: {}", out.display()))?;
            }
            Err(e) => {
                seq -= 1;
                report.failed.push((r.photo_id, e.to_string()));
            }
        }
        progress.add_done(1);
    }
    Ok(report)
}

/// The de-identified pixels of one releasable photo: decoded, upright, redacted, cropped.
pub fn deidentified_pixels(r: &Releasable) -> Result<(RgbImage, Format)> {
    let path = Path::new(&r.path);
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read the photo", e, path))?;
    // What was screened and reviewed is the content the store holds: other bytes at the same
    // path were never looked at by anyone.
    if crate::decode::tasks::hash_bytes(&bytes) != r.hash {
        return Err(Error::Invalid(format!(
            "the file changed since it was imported and reviewed (import its folder again): {}",
            path.display()
        )));
    }
    let format = crate::decode::format::sniff(&bytes[..bytes.len().min(4096)], path)
        .map_err(|e| Error::Invalid(format!("cannot export this file ({e}): {}", path.display())))?;
    let img = crate::decode::decode_with_image(&bytes, format, &Limits::default())
        .map_err(|e| Error::Invalid(format!("cannot decode the photo ({e}): {}", path.display())))?;
    let upright = crate::decode::orient(img.to_rgb8(), r.orientation);
    let shapes: Vec<_> = r.redactions.iter().map(|x| x.shape.clone()).collect();
    Ok((super::redact::apply(upright, &shapes), format))
}

fn export_one(r: &Releasable, out: &Path, seq: usize) -> Result<PathBuf> {
    let (img, format) = deidentified_pixels(r)?;
    // Lossless sources stay lossless (histopathology tiles, screenshots); photos are JPEG.
    let lossless = matches!(format, Format::Png | Format::Tiff | Format::Bmp | Format::Gif);
    let (ext, bytes) = if lossless { ("png", encode_png(&img)?) } else { ("jpg", encode_jpeg(&img)?) };
    let dest = out.join(format!("{seq:06}.{ext}"));
    let tmp = out.join(format!(".{seq:06}.{ext}.part"));
    std::fs::write(&tmp, &bytes).map_err(|e| Error::io("cannot write the exported photo", e, &tmp))?;
    std::fs::rename(&tmp, &dest).map_err(|e| Error::io("cannot finish the exported photo", e, &dest))?;
    Ok(dest)
}

/// Baseline JPEG with nothing but the image: jpeg-encoder writes a JFIF header and tables only.
pub fn encode_jpeg(img: &RgbImage) -> Result<Vec<u8>> {
    let (w, h) = img.dimensions();
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        return Err(Error::Invalid(format!("{w}x{h} is too large for JPEG")));
    };
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, QUALITY)
        .encode(img.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| Error::Invalid(format!("JPEG encoding failed: {e}")))?;
    Ok(out)
}

/// PNG with the image chunks only (IHDR, IDAT, IEND).
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .map_err(|e| Error::Invalid(format!("PNG encoding failed: {e}")))?;
    Ok(out)
}
