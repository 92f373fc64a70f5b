//! EXIF, read with kamadak-exif: capture time, camera, orientation, the embedded thumbnail,
//! and every field as text for the viewer. A broken EXIF block never refuses a photo; it just
//! yields less.

use exif::{In, Tag, Value};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExifInfo {
    pub captured_at: Option<String>,
    pub captured_source: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    /// 1..=8 as in EXIF; 1 when absent or out of range.
    pub orientation: u8,
    /// Pixel size of an embedded JPEG thumbnail.
    pub thumb_size: Option<(u32, u32)>,
    /// `[ifd, tag, value]` for every field that reads as text.
    pub fields: Vec<(String, String, String)>,
}

/// Raw access to the parsed block, for the embedded thumbnail's bytes.
pub struct Parsed {
    exif: exif::Exif,
}

pub fn parse(bytes: &[u8]) -> Option<Parsed> {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    let result = reader.read_from_container(&mut std::io::Cursor::new(bytes));
    let exif = match result {
        Ok(e) => e,
        Err(e) => e.distill_partial_result(|_errors| {}).ok()?,
    };
    Some(Parsed { exif })
}

impl Parsed {
    /// The embedded thumbnail's JPEG bytes (IFD1), when present and inside the block.
    pub fn thumbnail(&self) -> Option<&[u8]> {
        let off = self.exif.get_field(Tag::JPEGInterchangeFormat, In::THUMBNAIL)?.value.get_uint(0)? as usize;
        let len = self.exif.get_field(Tag::JPEGInterchangeFormatLength, In::THUMBNAIL)?.value.get_uint(0)? as usize;
        let buf = self.exif.buf();
        let end = off.checked_add(len)?;
        (len > 4 && end <= buf.len()).then(|| &buf[off..end])
    }

    fn ascii(&self, tag: Tag) -> Option<String> {
        let field = self.exif.get_field(tag, In::PRIMARY)?;
        match &field.value {
            Value::Ascii(v) => {
                v.first().map(|b| String::from_utf8_lossy(b).trim().trim_end_matches('\0').trim().to_string())
            }
            _ => None,
        }
        .filter(|s| !s.is_empty())
    }

    pub fn orientation(&self) -> u8 {
        self.exif
            .get_field(Tag::Orientation, In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .filter(|o| (1..=8).contains(o))
            .map(|o| o as u8)
            .unwrap_or(1)
    }

    pub fn info(&self) -> ExifInfo {
        let mut info = ExifInfo { orientation: 1, ..Default::default() };
        for (tag, offset_tag, source) in [
            (Tag::DateTimeOriginal, Tag::OffsetTimeOriginal, "exif:DateTimeOriginal"),
            (Tag::DateTimeDigitized, Tag::OffsetTimeDigitized, "exif:DateTimeDigitized"),
            (Tag::DateTime, Tag::OffsetTime, "exif:DateTime"),
        ] {
            if let Some(dt) = self.ascii(tag) {
                let offset = self.ascii(offset_tag);
                if let Some(iso) = crate::util::iso_from_exif(&dt, offset.as_deref()) {
                    info.captured_at = Some(iso);
                    info.captured_source = Some(source.to_owned());
                    break;
                }
            }
        }
        info.make = self.ascii(Tag::Make);
        info.model = self.ascii(Tag::Model);
        info.orientation = self.orientation();
        if let Some(t) = self.thumbnail()
            && let Ok((w, h, _)) = crate::decode::dc_jpeg::read_header(t)
        {
            info.thumb_size = Some((w, h));
        }
        for f in self.exif.fields() {
            // Maker notes and other opaque blobs are long binary noise in a viewer.
            if matches!(f.tag, Tag::MakerNote | Tag::JPEGInterchangeFormat | Tag::JPEGInterchangeFormatLength) {
                continue;
            }
            if let Value::Undefined(b, _) = &f.value
                && b.len() > 64
            {
                continue;
            }
            let mut value = f.display_value().with_unit(&self.exif).to_string();
            if value.len() > 200 {
                let cut = (0..=200).rev().find(|&i| value.is_char_boundary(i)).unwrap_or(0);
                value.truncate(cut);
                value.push('…');
            }
            let ifd = if f.ifd_num == In::THUMBNAIL { "thumbnail" } else { "primary" };
            info.fields.push((ifd.to_owned(), f.tag.to_string(), value));
        }
        info
    }
}

/// A copy of a JPEG whose EXIF (APP1 `Exif`) segments are replaced by one holding `tiff`
/// (a TIFF-structured EXIF block), or removed when `tiff` is None. Other segments and the
/// image data are kept byte for byte. Used to make test and benchmark files; the
/// de-identified export will build on it.
pub fn splice_jpeg_exif(jpeg: &[u8], tiff: Option<&[u8]>) -> Result<Vec<u8>, String> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return Err("not a JPEG".into());
    }
    let mut out = jpeg[..2].to_vec();
    if let Some(tiff) = tiff {
        let len = 2 + 6 + tiff.len();
        if len > 0xFFFF {
            return Err(format!("an EXIF block of {} bytes does not fit in one segment", tiff.len()));
        }
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(b"Exif\0\0");
        out.extend_from_slice(tiff);
    }
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF && (0xE0..=0xEF).contains(&jpeg[i + 1]) {
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        let end = (i + 2 + len).min(jpeg.len());
        let is_exif = jpeg[i + 1] == 0xE1 && jpeg.get(i + 4..i + 10) == Some(b"Exif\0\0");
        if !is_exif {
            out.extend_from_slice(&jpeg[i..end]);
        }
        i = end;
    }
    out.extend_from_slice(&jpeg[i..]);
    Ok(out)
}

/// A minimal big-endian TIFF/EXIF block: IFD0 with the given SHORT entries, and optionally
/// IFD1 carrying a JPEG thumbnail.
pub fn minimal_tiff(ifd0_shorts: &[(u16, u16)], thumbnail: Option<&[u8]>) -> Vec<u8> {
    let mut t: Vec<u8> = b"MM\0*".to_vec();
    t.extend_from_slice(&8u32.to_be_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, value: u32| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&typ.to_be_bytes());
        t.extend_from_slice(&1u32.to_be_bytes());
        if typ == 3 {
            t.extend_from_slice(&(value as u16).to_be_bytes());
            t.extend_from_slice(&[0, 0]);
        } else {
            t.extend_from_slice(&value.to_be_bytes());
        }
    };
    let ifd1_at = 8 + 2 + 12 * ifd0_shorts.len() + 4;
    t.extend_from_slice(&(ifd0_shorts.len() as u16).to_be_bytes());
    for &(tag, v) in ifd0_shorts {
        entry(&mut t, tag, 3, v as u32);
    }
    match thumbnail {
        None => t.extend_from_slice(&0u32.to_be_bytes()),
        Some(thumb) => {
            t.extend_from_slice(&(ifd1_at as u32).to_be_bytes());
            let data_at = ifd1_at + 2 + 3 * 12 + 4;
            t.extend_from_slice(&3u16.to_be_bytes());
            entry(&mut t, 0x0103, 3, 6); // Compression: JPEG
            entry(&mut t, 0x0201, 4, data_at as u32);
            entry(&mut t, 0x0202, 4, thumb.len() as u32);
            t.extend_from_slice(&0u32.to_be_bytes());
            t.extend_from_slice(thumb);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spliced_blocks_read_back() {
        // A tiny valid JPEG made here, then an orientation and a thumbnail spliced in.
        let img = image::RgbImage::from_pixel(16, 8, image::Rgb([200, 100, 50]));
        let jpeg = crate::decode::encode_jpeg(&img).unwrap();
        let thumb = crate::decode::encode_jpeg(&image::RgbImage::from_pixel(8, 4, image::Rgb([1, 2, 3]))).unwrap();
        let with = splice_jpeg_exif(&jpeg, Some(&minimal_tiff(&[(0x0112, 6)], Some(&thumb)))).unwrap();
        let parsed = parse(&with).expect("EXIF reads back");
        assert_eq!(parsed.orientation(), 6);
        assert_eq!(parsed.thumbnail(), Some(&thumb[..]));
        assert_eq!(parsed.info().thumb_size, Some((8, 4)));
        let without = splice_jpeg_exif(&with, None).unwrap();
        assert!(parse(&without).is_none());
        assert!(image::load_from_memory(&without).is_ok(), "the image data is untouched");
    }
}
