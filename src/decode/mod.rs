//! Decoding untrusted image files: format sniffing and refusals, EXIF, the DC-only JPEG
//! decoder, reduced and full decodes, thumbnails, and the tasks worker processes run with
//! them. Used by import, the thumbnail job and the viewer; depends on no other capability.
//!
//! Thumbnail routes, fastest first:
//! - the embedded EXIF thumbnail, when it is at least the wanted size and shows the same
//!   frame (same aspect) as the main image: no main-image decode at all;
//! - JPEG decoded in the DCT domain: only DC coefficients (1/8 scale, `dc_jpeg`), or
//!   jpeg-decoder's reduced IDCT at 1/4 or 1/2 when 1/8 would be too small;
//! - a full decode (other formats), then a resize.
//!
//! Import uses `decode_reduced`, which decodes the whole image stream (so a truncated or
//! corrupt file is caught) but never the EXIF thumbnail. Thumbnails are cached as JPEG,
//! keyed by content hash, with the EXIF orientation applied (`store::thumbs`).

pub mod dc_jpeg;
pub mod exif;
pub mod format;
pub mod probe;
pub mod tasks;

pub use format::{Format, Refusal, RefusalCode};
use image::{DynamicImage, RgbImage, imageops::FilterType};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// Long side of a cached thumbnail, in pixels.
pub const THUMB_SIZE: u32 = 256;
const THUMB_QUALITY: u8 = 85;

/// Refuse images beyond these (absurd dimensions, decompression bombs).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Limits {
    pub max_pixels: u64,
    pub max_alloc: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_pixels: 200_000_000, max_alloc: 1 << 30 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// A JPEG already no bigger than a thumbnail and upright: its own image data, without
    /// its metadata.
    AsIs,
    ExifThumbnail,
    DcOnly,
    DctScaled,
    Full,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::AsIs => "as_is",
            Route::ExifThumbnail => "exif_thumbnail",
            Route::DcOnly => "dc_only",
            Route::DctScaled => "dct_scaled",
            Route::Full => "full",
        }
    }
}

/// A thumbnail, encoded as JPEG, and how it was made.
pub struct Thumb {
    pub jpeg: Vec<u8>,
    pub route: Route,
}

pub struct Decoded {
    /// The pixels at reduced size (long side at least the size asked for, when the image has it).
    pub image: RgbImage,
    /// The image's own size.
    pub width: u32,
    pub height: u32,
    pub route: Route,
}

fn check_size(w: u32, h: u32, limits: &Limits) -> Result<(), Refusal> {
    if w == 0 || h == 0 {
        return Err(Refusal::new(RefusalCode::Corrupt, format!("the image claims a size of {w}x{h}")));
    }
    let px = w as u64 * h as u64;
    if px > limits.max_pixels {
        return Err(Refusal::new(
            RefusalCode::TooLarge,
            format!(
                "{w}x{h} is {:.0} megapixels, over the limit of {:.0}",
                px as f64 / 1e6,
                limits.max_pixels as f64 / 1e6
            ),
        ));
    }
    Ok(())
}

/// Decodes every byte of the image stream, at the smallest size whose long side is at least
/// `min_long` (or the full size when smaller). Fails for damaged, truncated or absurd files.
pub fn decode_reduced(bytes: &[u8], format: Format, min_long: u32, limits: &Limits) -> Result<Decoded, Refusal> {
    if format == Format::Jpeg {
        return decode_jpeg_reduced(bytes, min_long, limits);
    }
    let img = decode_with_image(bytes, format, limits)?;
    let (width, height) = (img.width(), img.height());
    let image = shrink_to(img.to_rgb8(), min_long.saturating_mul(2));
    Ok(Decoded { image, width, height, route: Route::Full })
}

fn decode_jpeg_reduced(bytes: &[u8], min_long: u32, limits: &Limits) -> Result<Decoded, Refusal> {
    let (w, h, _progressive) = dc_jpeg::read_header(bytes).map_err(dc_refusal)?;
    check_size(w, h, limits)?;
    let long = w.max(h);
    if long / 8 >= min_long {
        match dc_jpeg::decode_dc(bytes, limits.max_pixels) {
            Ok(dc) => {
                let image = RgbImage::from_raw(dc.dc_width, dc.dc_height, dc.rgb)
                    .ok_or_else(|| Refusal::new(RefusalCode::Corrupt, "DC image has the wrong length"))?;
                return Ok(Decoded { image, width: dc.width, height: dc.height, route: Route::DcOnly });
            }
            Err(dc_jpeg::DcError::Unsupported(_)) => {} // arithmetic, 12-bit, CMYK...: the general decoder below
            Err(e) => return Err(dc_refusal(e)),
        }
    }
    let scaled = |bytes: &[u8]| -> Result<(u16, u16, Vec<u8>, jpeg_decoder::ImageInfo), Refusal> {
        let mut dec = jpeg_decoder::Decoder::new(Cursor::new(bytes));
        dec.read_info().map_err(jpeg_refusal)?;
        let (rw, rh) = scaled_request(w, h, min_long);
        let (ow, oh) = dec.scale(rw, rh).map_err(jpeg_refusal)?;
        let pixels = dec.decode().map_err(jpeg_refusal)?;
        let info = dec.info().ok_or_else(|| Refusal::new(RefusalCode::Corrupt, "JPEG has no frame header"))?;
        Ok((ow, oh, pixels, info))
    };
    let (ow, oh, pixels, info) = match scaled(bytes) {
        // jpeg-decoder wants the final EOI marker. When the DC decoder finds every block of
        // the image there and only EOI missing, the photo is whole: decode it with EOI added.
        Err(r) if r.code == RefusalCode::Truncated && dc_jpeg::decode_dc(bytes, limits.max_pixels).is_ok() => {
            let mut with_eoi = bytes.to_vec();
            with_eoi.extend_from_slice(&[0xFF, 0xD9]);
            scaled(&with_eoi)?
        }
        other => other?,
    };
    let (ow, oh) = (ow as u32, oh as u32);
    let n = (ow * oh) as usize;
    use jpeg_decoder::PixelFormat as P;
    let rgb: Vec<u8> = match info.pixel_format {
        P::RGB24 => pixels,
        P::L8 => pixels.iter().flat_map(|&v| [v, v, v]).collect(),
        P::L16 => pixels.chunks_exact(2).flat_map(|c| [c[0], c[0], c[0]]).collect(),
        P::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|c| {
                let k = 255 - c[3] as u32;
                let f = |v: u8| ((255 - v as u32) * k / 255) as u8;
                [f(c[0]), f(c[1]), f(c[2])]
            })
            .collect(),
    };
    if rgb.len() != n * 3 {
        return Err(Refusal::new(RefusalCode::Corrupt, "decoded JPEG has the wrong number of pixels"));
    }
    let image = RgbImage::from_raw(ow, oh, rgb).ok_or_else(|| Refusal::new(RefusalCode::Corrupt, "bad JPEG buffer"))?;
    let route = if (ow, oh) == (w, h) { Route::Full } else { Route::DctScaled };
    Ok(Decoded { image, width: w, height: h, route })
}

/// The size to ask jpeg-decoder for so that its reduced IDCT keeps the long side >= `min_long`.
fn scaled_request(w: u32, h: u32, min_long: u32) -> (u16, u16) {
    let long = w.max(h).max(1) as f64;
    let f = (min_long as f64 / long).min(1.0);
    (((w as f64 * f).ceil() as u32).clamp(1, 65535) as u16, ((h as f64 * f).ceil() as u32).clamp(1, 65535) as u16)
}

fn dc_refusal(e: dc_jpeg::DcError) -> Refusal {
    use dc_jpeg::DcError as D;
    match e {
        D::Unsupported(what) => Refusal::new(RefusalCode::Unsupported, format!("unsupported JPEG variant: {what}")),
        D::Truncated(s) => Refusal::new(RefusalCode::Truncated, format!("the JPEG ends early: {s}")),
        D::Corrupt(s) => Refusal::new(RefusalCode::Corrupt, format!("damaged JPEG: {s}")),
        D::TooLarge { width, height } => {
            Refusal::new(RefusalCode::TooLarge, format!("{width}x{height} is over the pixel limit"))
        }
    }
}

fn jpeg_refusal(e: jpeg_decoder::Error) -> Refusal {
    use jpeg_decoder::Error as E;
    match e {
        E::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Refusal::new(RefusalCode::Truncated, "the JPEG ends early")
        }
        E::Io(io) => Refusal::new(RefusalCode::Corrupt, format!("damaged JPEG: {io}")),
        E::Unsupported(f) => Refusal::new(RefusalCode::Unsupported, format!("unsupported JPEG variant: {f:?}")),
        E::Format(s) => Refusal::new(RefusalCode::Corrupt, format!("damaged JPEG: {s}")),
        E::Internal(e) => Refusal::new(RefusalCode::Corrupt, format!("damaged JPEG: {e}")),
    }
}

pub fn image_refusal(e: image::ImageError) -> Refusal {
    use image::ImageError as E;
    match e {
        E::Limits(l) => Refusal::new(RefusalCode::TooLarge, format!("over the decoding limits: {l}")),
        E::Unsupported(u) => Refusal::new(RefusalCode::Unsupported, format!("unsupported variant: {u}")),
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            Refusal::new(RefusalCode::Truncated, "the file ends before the image does")
        }
        E::Decoding(d) => {
            let msg = d.to_string();
            let lower = msg.to_lowercase();
            let code = if lower.contains("eof") || lower.contains("end of") || lower.contains("truncat") {
                RefusalCode::Truncated
            } else {
                RefusalCode::Corrupt
            };
            Refusal::new(code, format!("damaged image: {msg}"))
        }
        other => Refusal::new(RefusalCode::Corrupt, format!("damaged image: {other}")),
    }
}

/// A full decode with the image crate, within the limits.
pub fn decode_with_image(bytes: &[u8], format: Format, limits: &Limits) -> Result<DynamicImage, Refusal> {
    let reader = || {
        let mut r = image::ImageReader::with_format(Cursor::new(bytes), format.image_format());
        let mut l = image::Limits::default();
        l.max_alloc = Some(limits.max_alloc);
        r.limits(l);
        r
    };
    let (w, h) = reader().into_dimensions().map_err(image_refusal)?;
    check_size(w, h, limits)?;
    reader().decode().map_err(image_refusal)
}

/// Shrinks (never enlarges) so the long side is at most `max_long`, with a fast box-like filter.
pub fn shrink_to(img: RgbImage, max_long: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    if w.max(h) <= max_long || max_long == 0 {
        return img;
    }
    let f = max_long as f64 / w.max(h) as f64;
    let (nw, nh) = (((w as f64 * f).round() as u32).max(1), ((h as f64 * f).round() as u32).max(1));
    image::imageops::resize(&img, nw, nh, FilterType::Triangle)
}

/// The cached thumbnail's pixels: shrunk to `size` on the long side, EXIF orientation applied.
pub fn finish_thumbnail(img: RgbImage, orientation: u8, size: u32) -> RgbImage {
    let small = shrink_to(img, size);
    orient(small, orientation)
}

pub fn orient(img: RgbImage, orientation: u8) -> RgbImage {
    match image::metadata::Orientation::from_exif(orientation) {
        Some(o) if orientation != 1 => {
            let mut d = DynamicImage::ImageRgb8(img);
            d.apply_orientation(o);
            d.into_rgb8()
        }
        _ => img,
    }
}

/// The thumbnail by the fastest honest route (for regenerating; import uses `decode_reduced`
/// and then `thumbnail_of`).
pub fn make_thumbnail(bytes: &[u8], format: Format, size: u32, limits: &Limits) -> Result<Thumb, Refusal> {
    let exif = exif::parse(bytes);
    let orientation = exif.as_ref().map(|e| e.orientation()).unwrap_or(1);
    let encode = |img: RgbImage, route: Route| -> Result<Thumb, Refusal> {
        let jpeg = encode_jpeg(&finish_thumbnail(img, orientation, size))
            .map_err(|e| Refusal::new(RefusalCode::Corrupt, format!("cannot encode the thumbnail: {e}")))?;
        Ok(Thumb { jpeg, route })
    };
    if format == Format::Jpeg
        && let Some(parsed) = &exif
        && let Some(t) = parsed.thumbnail()
        && let Ok((tw, th, _)) = dc_jpeg::read_header(t)
        && tw.max(th) >= size
        && let Ok((w, h, _)) = dc_jpeg::read_header(bytes)
        && same_frame(tw, th, w, h)
        && let Ok(img) = decode_with_image(t, Format::Jpeg, limits)
    {
        return encode(img.to_rgb8(), Route::ExifThumbnail);
    }
    let d = decode_reduced(bytes, format, size, limits)?;
    thumbnail_of(bytes, format, d, orientation, size)
        .map_err(|e| Refusal::new(RefusalCode::Corrupt, format!("cannot encode the thumbnail: {e}")))
}

/// The thumbnail of a file already decoded at reduced size: a JPEG that is no bigger than a
/// thumbnail and upright is used as it is, minus its metadata (no re-encoding loss, no
/// encoding time); anything else is shrunk, turned upright and encoded.
pub fn thumbnail_of(bytes: &[u8], format: Format, d: Decoded, orientation: u8, size: u32) -> Result<Thumb, String> {
    if format == Format::Jpeg
        && d.width <= size
        && d.height <= size
        && orientation == 1
        && let Some(jpeg) = jpeg_without_metadata(bytes)
    {
        return Ok(Thumb { jpeg, route: Route::AsIs });
    }
    let jpeg = encode_jpeg(&finish_thumbnail(d.image, orientation, size)).map_err(|e| e.to_string())?;
    Ok(Thumb { jpeg, route: d.route })
}

/// The JPEG with its APPn (but Adobe's APP14, which says how to read the colours) and COM
/// segments removed: no EXIF, GPS, XMP, IPTC, maker notes or comments. None when the file
/// is anything but a plain sequence of segments ending in EOI (trailers after EOI are where
/// some tools hide metadata, so such files are re-encoded instead).
pub fn jpeg_without_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(&[0xFF, 0xD8]) || !bytes.ends_with(&[0xFF, 0xD9]) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..2]);
    let mut i = 2;
    loop {
        if bytes.get(i) != Some(&0xFF) {
            return None;
        }
        let marker = *bytes.get(i + 1)?;
        if marker == 0xDA {
            out.extend_from_slice(&bytes[i..]);
            return Some(out);
        }
        let len = u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]) as usize;
        let end = i.checked_add(2 + len).filter(|&e| e <= bytes.len() && len >= 2)?;
        let metadata = ((0xE0..=0xEF).contains(&marker) && marker != 0xEE) || marker == 0xFE;
        if !metadata {
            out.extend_from_slice(&bytes[i..end]);
        }
        i = end;
    }
}

/// An embedded thumbnail is only trusted when it has the main image's aspect (within 2%):
/// cropped or edited photos often keep the camera's thumbnail of the uncropped frame.
pub fn same_frame(tw: u32, th: u32, w: u32, h: u32) -> bool {
    if th == 0 || h == 0 {
        return false;
    }
    let a = tw as f64 / th as f64;
    let b = w as f64 / h as f64;
    (a / b - 1.0).abs() < 0.02
}

/// Baseline JPEG at the thumbnail quality. jpeg-encoder (SIMD) rather than the image
/// crate's encoder: encoding was a third of import time on small files.
pub fn encode_jpeg(img: &RgbImage) -> Result<Vec<u8>, jpeg_encoder::EncodingError> {
    let (w, h) = img.dimensions();
    let (w16, h16) = (u16::try_from(w), u16::try_from(h));
    let (Ok(w16), Ok(h16)) = (w16, h16) else {
        return Err(jpeg_encoder::EncodingError::BadImageData { length: img.as_raw().len(), required: 0 });
    };
    let mut out = Vec::with_capacity(32 * 1024);
    let enc = jpeg_encoder::Encoder::new(&mut out, THUMB_QUALITY);
    enc.encode(img.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        assert!(same_frame(160, 120, 2272, 1704));
        assert!(!same_frame(160, 120, 2530, 2122), "a cropped photo keeps the old thumbnail");
    }

    #[test]
    fn metadata_is_stripped_and_pixels_kept() {
        let img = RgbImage::from_fn(40, 24, |x, y| image::Rgb([(x * 6) as u8, (y * 10) as u8, 90]));
        let plain = encode_jpeg(&img).unwrap();
        let tiff = exif::minimal_tiff(&[(0x0112, 1)], None);
        let mut with = exif::splice_jpeg_exif(&plain, Some(&tiff)).unwrap();
        // A comment segment after the EXIF one.
        let com = [0xFF, 0xFE, 0x00, 0x0A, b'p', b'a', b't', b'i', b'e', b'n', b't', b'!'];
        with.splice(2..2, com);
        let stripped = jpeg_without_metadata(&with).expect("a plain JPEG strips");
        assert!(exif::parse(&stripped).is_none());
        assert!(!stripped.windows(7).any(|w| w == b"patient"), "the comment is gone");
        let a = image::load_from_memory(&with).unwrap().to_rgb8();
        let b = image::load_from_memory(&stripped).unwrap().to_rgb8();
        assert_eq!(a, b, "the image data is the same");
        let mut trailer = with.clone();
        trailer.extend_from_slice(b"trailer after EOI");
        assert!(jpeg_without_metadata(&trailer).is_none(), "files with trailers are re-encoded instead");
    }

    #[test]
    fn a_jpeg_missing_only_its_eoi_is_whole_but_one_cut_short_is_not() {
        let img = RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 128]));
        let full = encode_jpeg(&img).unwrap();
        assert!(full.ends_with(&[0xFF, 0xD9]));
        let a = dc_jpeg::decode_dc(&full, 1 << 20).unwrap();
        let no_eoi = &full[..full.len() - 2];
        let b = dc_jpeg::decode_dc(no_eoi, 1 << 20).expect("only the EOI marker is missing");
        assert_eq!(a.rgb, b.rgb);
        let cut = &full[..full.len() - 40];
        assert!(matches!(dc_jpeg::decode_dc(cut, 1 << 20), Err(dc_jpeg::DcError::Truncated(_))));
        // The general path agrees on both.
        assert!(decode_reduced(no_eoi, Format::Jpeg, 64, &Limits::default()).is_ok());
        assert_eq!(
            decode_reduced(cut, Format::Jpeg, 64, &Limits::default()).err().map(|r| r.code),
            Some(RefusalCode::Truncated)
        );
    }

    #[test]
    fn requests() {
        assert_eq!(scaled_request(2048, 1536, 256), (256, 192));
        assert_eq!(scaled_request(200, 150, 256), (200, 150));
    }
}
