//! Identifying metadata in a file's bytes: EXIF text fields, serial numbers, GPS, maker notes
//! and the embedded thumbnail; XMP; IPTC and Photoshop resources; JPEG comments, vendor
//! segments, extra pictures and trailers after the image; PNG text chunks; WebP and GIF
//! metadata chunks. The de-identified export writes none of it; screening shows it to the
//! reviewer (a thumbnail often still shows the uncropped original).

use super::{Finding, FindingKind, Verdict};
use exif::{Context, In, Tag, Value};

pub const DETECTOR: &str = "metadata";

/// One metadata entry found: the field (`EXIF:Artist`, `PNG:tEXt:Comment`) and its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub field: String,
    pub text: String,
}

/// Every identifying metadata entry of a file, as findings.
pub fn scan(bytes: &[u8]) -> Vec<Finding> {
    entries(bytes)
        .into_iter()
        .map(|e| Finding {
            kind: FindingKind::Metadata,
            detector: DETECTOR.into(),
            score: 1.0,
            bbox: None,
            text: Some(shorten(&e.text, 200)),
            field: Some(e.field),
            // Export removes all of it; a person still looks (a thumbnail shows pixels).
            level: Verdict::Unsure,
        })
        .collect()
}

/// Every identifying metadata entry of a file.
pub fn entries(bytes: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    if bytes.starts_with(&[0xFF, 0xD8]) {
        jpeg(bytes, &mut out);
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(bytes, &mut out);
    } else if bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
        || bytes.starts_with(b"II+\0")
        || bytes.starts_with(b"MM\0+")
    {
        tiff(bytes, "EXIF", &mut out);
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        webp(bytes, &mut out);
    } else if bytes.starts_with(b"GIF8") {
        gif(bytes, &mut out);
    }
    out.retain(|e| !e.text.trim().is_empty());
    out
}

pub fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let cut = (0..=max).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    format!("{}…", &s[..cut])
}

fn push(out: &mut Vec<Entry>, field: impl Into<String>, text: impl Into<String>) {
    out.push(Entry { field: field.into(), text: text.into() });
}

/// Printable runs of at least 4 characters, joined: what a person could read in a blob.
fn printable(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let mut runs: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if !c.is_control() && c != '\u{FFFD}' {
            cur.push(c);
        } else {
            if cur.trim().chars().count() >= 4 {
                runs.push(cur.trim().to_string());
            }
            cur.clear();
        }
    }
    if cur.trim().chars().count() >= 4 {
        runs.push(cur.trim().to_string());
    }
    runs.join(" ")
}

// ---------- JPEG ----------

fn jpeg(b: &[u8], out: &mut Vec<Entry>) {
    let mut i = 2;
    let mut extended_xmp = Vec::new();
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            // Lost sync: look for the next marker.
            i += 1;
            continue;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if marker == 0xD9 {
            let rest = &b[i + 2..];
            if rest.iter().any(|&v| v != 0) {
                push(out, "JPEG:Trailer", format!("{} bytes after the image: {}", rest.len(), printable(rest)));
            }
            return;
        }
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        let end = (i + 2 + len).min(b.len());
        let data = &b[(i + 4).min(end)..end];
        match marker {
            0xE0 => {
                if data.starts_with(b"JFIF\0") && data.len() >= 14 && data[12] > 0 && data[13] > 0 {
                    push(out, "JFIF:Thumbnail", format!("{}x{}", data[12], data[13]));
                } else if data.starts_with(b"JFXX\0") {
                    push(out, "JFXX:Thumbnail", format!("{} bytes", data.len()));
                } else if !data.starts_with(b"JFIF\0") {
                    push(out, "JPEG:APP0", printable(data));
                }
            }
            0xE1 => {
                if let Some(tiff_data) = data.strip_prefix(b"Exif\0\0").or_else(|| data.strip_prefix(b"Exif\0\xFF")) {
                    tiff(tiff_data, "EXIF", out);
                } else if let Some(x) = data.strip_prefix(b"http://ns.adobe.com/xap/1.0/\0") {
                    xmp(x, "XMP", out);
                } else if let Some(x) = data.strip_prefix(b"http://ns.adobe.com/xmp/extension/\0") {
                    // GUID (32) + full length (4) + offset (4), then a piece of the packet.
                    extended_xmp.extend_from_slice(x.get(40..).unwrap_or_default());
                } else if data.windows(9).any(|w| w == b"<x:xmpmet") || data.windows(9).any(|w| w == b"x:xmpmeta") {
                    xmp(data, "XMP", out);
                } else {
                    push(out, "JPEG:APP1", printable(data));
                }
            }
            0xE2 => {
                if data.starts_with(b"ICC_PROFILE\0") {
                    // A colour profile: its description names a device, not a person.
                } else if data.starts_with(b"MPF\0") {
                    push(out, "MPF:Images", format!("more pictures in the file ({} bytes of index)", data.len()));
                } else {
                    push(out, "JPEG:APP2", printable(data));
                }
            }
            0xED => photoshop(data, out),
            0xEE if data.starts_with(b"Adobe") => {}
            0xE3..=0xEF => push(out, format!("JPEG:APP{}", marker - 0xE0), printable(data)),
            0xFE => push(out, "JPEG:Comment", String::from_utf8_lossy(data).into_owned()),
            0xDA => {
                // Entropy-coded data: skip to the next marker that is not stuffing or a restart.
                let mut j = end;
                while j + 1 < b.len() && !(b[j] == 0xFF && b[j + 1] != 0 && !(0xD0..=0xD7).contains(&b[j + 1])) {
                    j += 1;
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i = end;
    }
    if !extended_xmp.is_empty() {
        xmp(&extended_xmp, "XMP:Extended", out);
    }
}

/// Photoshop image resources: IPTC (0x0404), thumbnails (0x0409, 0x040C), captions, others.
fn photoshop(data: &[u8], out: &mut Vec<Entry>) {
    let Some(mut r) = data.strip_prefix(b"Photoshop 3.0\0") else {
        push(out, "JPEG:APP13", printable(data));
        return;
    };
    while r.len() >= 12 && &r[..4] == b"8BIM" {
        let id = u16::from_be_bytes([r[4], r[5]]);
        let name_len = r[6] as usize;
        let name_total = (1 + name_len).next_multiple_of(2);
        let Some(size_at) = 6usize.checked_add(name_total) else { return };
        let Some(size_bytes) = r.get(size_at..size_at + 4) else { return };
        let size = u32::from_be_bytes([size_bytes[0], size_bytes[1], size_bytes[2], size_bytes[3]]) as usize;
        let start = size_at + 4;
        let end = start.saturating_add(size).min(r.len());
        let body = &r[start.min(end)..end];
        match id {
            0x0404 => iptc(body, out),
            0x0409 | 0x040C => push(out, "Photoshop:Thumbnail", format!("{} bytes", body.len())),
            0x0424 => xmp(body, "XMP", out),
            // Resolution, print flags, colour halftoning...: layout, not people.
            0x03ED | 0x03F3 | 0x03F5 | 0x03F8 | 0x03FB | 0x03FD | 0x040A | 0x040B | 0x040D | 0x0414 | 0x0419
            | 0x041A | 0x041E | 0x0421 | 0x0425 | 0x0426 | 0x0428 | 0x03E9 | 0x03EE | 0x0402 | 0x0408 => {
                let text = printable(body);
                if id == 0x041A && !text.is_empty() {
                    push(out, "Photoshop:Slices", text);
                }
            }
            _ => {
                let text = printable(body);
                if !text.is_empty() {
                    push(out, format!("Photoshop:0x{id:04X}"), text);
                }
            }
        }
        r = &r[end.next_multiple_of(2).min(r.len())..];
    }
}

/// IPTC-IIM datasets: every record 2 text dataset (by-line, caption, keywords, city...).
fn iptc(mut b: &[u8], out: &mut Vec<Entry>) {
    while b.len() >= 5 && b[0] == 0x1C {
        let (record, dataset) = (b[1], b[2]);
        let len = u16::from_be_bytes([b[3], b[4]]) as usize;
        if len & 0x8000 != 0 {
            return; // extended length: not used for text
        }
        let end = (5 + len).min(b.len());
        let value = &b[5..end];
        if record == 2 && dataset != 0 {
            push(out, format!("IPTC:{}", iptc_name(dataset)), String::from_utf8_lossy(value).into_owned());
        }
        b = &b[end..];
    }
}

fn iptc_name(dataset: u8) -> String {
    match dataset {
        5 => "ObjectName".into(),
        25 => "Keywords".into(),
        40 => "SpecialInstructions".into(),
        55 => "DateCreated".into(),
        80 => "By-line".into(),
        85 => "By-lineTitle".into(),
        90 => "City".into(),
        95 => "Province-State".into(),
        101 => "Country".into(),
        103 => "OriginalTransmissionReference".into(),
        105 => "Headline".into(),
        110 => "Credit".into(),
        115 => "Source".into(),
        116 => "CopyrightNotice".into(),
        118 => "Contact".into(),
        120 => "Caption-Abstract".into(),
        122 => "Writer-Editor".into(),
        n => format!("2:{n}"),
    }
}

/// XMP: the text of every element and attribute value, with its name.
fn xmp(b: &[u8], prefix: &str, out: &mut Vec<Entry>) {
    let s = String::from_utf8_lossy(b);
    let mut values: Vec<String> = Vec::new();
    // Attribute values: name="value".
    let mut rest = s.as_ref();
    while let Some(eq) = rest.find("=\"") {
        let name_start = rest[..eq].rfind(|c: char| c.is_whitespace() || c == '<').map(|p| p + 1).unwrap_or(0);
        let name = &rest[name_start..eq];
        let after = &rest[eq + 2..];
        let Some(close) = after.find('"') else { break };
        let value = &after[..close];
        if !name.starts_with("xmlns")
            && !name.is_empty()
            && !value.trim().is_empty()
            && !matches!(name, "rdf:about" | "x:xmptk" | "id" | "begin" | "encoding")
        {
            values.push(format!("{name}={value}"));
        }
        rest = &after[close + 1..];
    }
    // Element text: >text<.
    let mut rest = s.as_ref();
    while let Some(gt) = rest.find('>') {
        let after = &rest[gt + 1..];
        let lt = after.find('<').unwrap_or(after.len());
        let text = after[..lt].trim();
        if !text.is_empty() {
            values.push(text.to_string());
        }
        rest = &after[lt..];
        if rest.is_empty() {
            break;
        }
    }
    if !values.is_empty() {
        push(out, prefix, values.join("; "));
    } else if !s.trim_matches(|c: char| c.is_whitespace() || c == '\0').is_empty() {
        push(out, prefix, format!("{} bytes", b.len()));
    }
}

// ---------- TIFF / EXIF ----------

/// Tags that name or number a person or a device, or carry free text.
fn identifying_tag(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::ImageDescription
            | Tag::Artist
            | Tag::Copyright
            | Tag::UserComment
            | Tag::ImageUniqueID
            | Tag::CameraOwnerName
            | Tag::BodySerialNumber
            | Tag::LensSerialNumber
            | Tag::MakerNote
    ) || matches!(
        (tag.context(), tag.number()),
        // DocumentName, PageName, HostComputer, XMP packet, IPTC, Photoshop, Windows XP fields,
        // ImageNumber, SecurityClassification, ImageHistory, CameraSerialNumber (EXIF 2.2 TIFF/EP).
        (
            Context::Tiff,
            0x010D | 0x011D | 0x013C | 0x02BC | 0x83BB | 0x8649 | 0x9C9B..=0x9C9F | 0x9211 | 0x9212 | 0x9213 | 0xC62F
        ) | (Context::Exif, 0xA431 | 0xA430)
    )
}

fn tiff(data: &[u8], prefix: &str, out: &mut Vec<Entry>) {
    let parsed = match exif::Reader::new().continue_on_error(true).read_raw(data.to_vec()) {
        Ok(e) => e,
        Err(e) => match e.distill_partial_result(|_| {}) {
            Ok(e) => e,
            Err(_) => {
                push(out, format!("{prefix}:Unreadable"), printable(data));
                return;
            }
        },
    };
    let mut gps: Vec<String> = Vec::new();
    for f in parsed.fields() {
        let tag = f.tag;
        if tag.context() == Context::Gps {
            if tag != Tag::GPSVersionID {
                gps.push(format!("{}={}", tag, f.display_value().with_unit(&parsed)));
            }
            continue;
        }
        if !identifying_tag(tag) && !unknown_text(&f.value, tag) {
            continue;
        }
        let name = match tag.number() {
            0x02BC if tag.context() == Context::Tiff => "XMP".to_string(),
            0x83BB if tag.context() == Context::Tiff => "IPTC".to_string(),
            0x9C9B..=0x9C9F if tag.context() == Context::Tiff => format!("XP{:04X}", tag.number()),
            _ => tag.to_string(),
        };
        let field =
            if f.ifd_num == In::THUMBNAIL { format!("{prefix}:IFD1:{name}") } else { format!("{prefix}:{name}") };
        let text = match (&f.value, tag.number()) {
            (Value::Byte(v) | Value::Undefined(v, _), 0x02BC) => {
                xmp(v, "XMP", out);
                continue;
            }
            (Value::Byte(v) | Value::Undefined(v, _), 0x83BB) => {
                iptc(v, out);
                continue;
            }
            (Value::Undefined(v, _) | Value::Byte(v), 0x9C9B..=0x9C9F) => {
                let u16s: Vec<u16> = v.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
                String::from_utf16_lossy(&u16s).trim_end_matches('\0').to_string()
            }
            (Value::Undefined(v, _), _) if tag == Tag::MakerNote => {
                format!("maker note, {} bytes: {}", v.len(), shorten(&printable(v), 160))
            }
            (Value::Undefined(v, _), _) if tag == Tag::UserComment => {
                let body = v.get(8..).unwrap_or_default();
                if body.iter().all(|&c| c == 0 || c == b' ') {
                    continue;
                }
                printable(v)
            }
            _ => f.display_value().to_string().trim_matches('"').to_string(),
        };
        push(out, field, text);
    }
    if !gps.is_empty() {
        push(out, format!("{prefix}:GPS"), gps.join("; "));
    }
    let thumb = parsed
        .get_field(Tag::JPEGInterchangeFormatLength, In::THUMBNAIL)
        .and_then(|f| f.value.get_uint(0))
        .filter(|&n| n > 0);
    if let Some(n) = thumb {
        push(out, format!("{prefix}:Thumbnail"), format!("an embedded picture of {n} bytes"));
    } else if parsed.get_field(Tag::StripOffsets, In::THUMBNAIL).is_some() {
        push(out, format!("{prefix}:Thumbnail"), "an embedded uncompressed picture");
    }
}

/// An ASCII value of a tag this reader does not know: vendors put serials and names there.
fn unknown_text(v: &Value, tag: Tag) -> bool {
    let known = tag.description().is_some();
    !known
        && matches!(v, Value::Ascii(a) if a.iter().any(|s| s.iter().filter(|c| c.is_ascii_alphanumeric()).count() >= 3))
}

// ---------- PNG ----------

fn inflate(b: &[u8]) -> Option<Vec<u8>> {
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(b, 16 << 20).ok()
}

fn png(b: &[u8], out: &mut Vec<Entry>) {
    let mut i = 8;
    while i + 12 <= b.len() {
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        let end = (i + 8).saturating_add(len).min(b.len());
        let data = &b[i + 8..end];
        let kind_s = String::from_utf8_lossy(kind).into_owned();
        match kind {
            b"tEXt" => {
                let (k, v) = split_nul(data);
                push(out, format!("PNG:tEXt:{}", latin1(k)), latin1(v));
            }
            b"zTXt" => {
                let (k, v) = split_nul(data);
                let text = v.get(1..).and_then(inflate).map(|t| latin1(&t)).unwrap_or_else(|| printable(v));
                push(out, format!("PNG:zTXt:{}", latin1(k)), text);
            }
            b"iTXt" => {
                let (k, rest) = split_nul(data);
                let compressed = rest.first().copied().unwrap_or(0) == 1;
                let rest = rest.get(2..).unwrap_or_default();
                let (lang, rest) = split_nul(rest);
                let (translated, text) = split_nul(rest);
                let text = if compressed { inflate(text).unwrap_or_default() } else { text.to_vec() };
                let key = String::from_utf8_lossy(k).into_owned();
                let mut body = String::from_utf8_lossy(&text).into_owned();
                if !lang.is_empty() || !translated.is_empty() {
                    body = format!("{} {} {body}", String::from_utf8_lossy(lang), String::from_utf8_lossy(translated));
                }
                if key == "XML:com.adobe.xmp" {
                    xmp(&text, "XMP", out);
                } else {
                    push(out, format!("PNG:iTXt:{key}"), body);
                }
            }
            b"eXIf" => tiff(data, "EXIF", out),
            b"iCCP" => {}
            b"IHDR" | b"PLTE" | b"IDAT" | b"IEND" | b"tRNS" | b"gAMA" | b"cHRM" | b"sRGB" | b"sBIT" | b"bKGD"
            | b"pHYs" | b"hIST" | b"sPLT" | b"acTL" | b"fcTL" | b"fdAT" | b"cICP" | b"mDCv" | b"cLLi" | b"tIME" => {}
            _ => push(out, format!("PNG:{kind_s}"), format!("{} bytes: {}", data.len(), printable(data))),
        }
        if kind == b"IEND" {
            let rest = &b[(end + 4).min(b.len())..];
            if rest.iter().any(|&v| v != 0) {
                push(out, "PNG:Trailer", format!("{} bytes after the image: {}", rest.len(), printable(rest)));
            }
            return;
        }
        i = end + 4;
    }
}

fn split_nul(b: &[u8]) -> (&[u8], &[u8]) {
    match b.iter().position(|&c| c == 0) {
        Some(p) => (&b[..p], &b[p + 1..]),
        None => (b, &[]),
    }
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

// ---------- WebP, GIF ----------

fn webp(b: &[u8], out: &mut Vec<Entry>) {
    let mut i = 12;
    while i + 8 <= b.len() {
        let kind = &b[i..i + 4];
        let len = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        let end = (i + 8).saturating_add(len).min(b.len());
        let data = &b[i + 8..end];
        match kind {
            b"EXIF" => tiff(data.strip_prefix(b"Exif\0\0").unwrap_or(data), "EXIF", out),
            b"XMP " => xmp(data, "XMP", out),
            b"VP8 " | b"VP8L" | b"VP8X" | b"ALPH" | b"ANIM" | b"ANMF" | b"ICCP" => {}
            _ => push(out, format!("WebP:{}", String::from_utf8_lossy(kind)), printable(data)),
        }
        i = end + (len & 1);
    }
}

fn gif(b: &[u8], out: &mut Vec<Entry>) {
    // Comment (0xFE) and application (0xFF) extensions hold text and XMP.
    let mut i = 0;
    while let Some(p) = b[i..].windows(2).position(|w| w[0] == 0x21 && (w[1] == 0xFE || w[1] == 0xFF)) {
        let start = i + p + 2;
        let mut j = start;
        let mut body = Vec::new();
        while j < b.len() && b[j] != 0 {
            let n = b[j] as usize;
            body.extend_from_slice(&b[(j + 1).min(b.len())..(j + 1 + n).min(b.len())]);
            j += 1 + n;
        }
        let field = if b[start - 1] == 0xFE { "GIF:Comment" } else { "GIF:Application" };
        let text = printable(&body);
        if !(field == "GIF:Application"
            && (text.starts_with("NETSCAPE2.0") || text.starts_with("ANIMEXTS1.0"))
            && text.len() <= 12)
        {
            push(out, field, text);
        }
        i = j.max(start);
        if i >= b.len() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_comment_and_trailer_are_found() {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x0C];
        j.extend_from_slice(b"YAMADA TARO");
        j.extend_from_slice(&[0xFF, 0xD9]);
        j.extend_from_slice(b"trailer-secret");
        let e = entries(&j);
        assert!(e.iter().any(|e| e.field == "JPEG:Comment" && e.text.contains("YAMADA")), "{e:?}");
        assert!(e.iter().any(|e| e.field == "JPEG:Trailer" && e.text.contains("trailer-secret")), "{e:?}");
    }

    #[test]
    fn iptc_datasets_are_read() {
        let mut b = vec![0x1C, 2, 80, 0, 5];
        b.extend_from_slice(b"Hanak");
        let mut out = Vec::new();
        iptc(&b, &mut out);
        assert_eq!(out, vec![Entry { field: "IPTC:By-line".into(), text: "Hanak".into() }]);
    }
}
