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
            Value::Ascii(v) => v.first().map(|b| {
                String::from_utf8_lossy(b).trim().trim_end_matches('\0').trim().to_string()
            }),
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
            && let Ok((w, h, _)) = crate::thumbs::dc_jpeg::read_header(t)
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
