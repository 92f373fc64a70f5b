//! What a file is, from its first bytes (and, for TIFF-based RAW and whole-slide files, its
//! extension), and the reasons a file can be refused.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Formats dermdesk decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Jpeg,
    Png,
    Tiff,
    Bmp,
    Webp,
    Gif,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Tiff => "tiff",
            Format::Bmp => "bmp",
            Format::Webp => "webp",
            Format::Gif => "gif",
        }
    }

    pub fn image_format(self) -> image::ImageFormat {
        match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::Tiff => image::ImageFormat::Tiff,
            Format::Bmp => image::ImageFormat::Bmp,
            Format::Webp => image::ImageFormat::WebP,
            Format::Gif => image::ImageFormat::Gif,
        }
    }
}

/// Why a file was not imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum RefusalCode {
    /// Zero bytes.
    Empty,
    /// Not an image at all (a document, a text file, an ICC profile...).
    NotImage,
    /// An image format dermdesk does not read (HEIC, DICOM, camera RAW, whole-slide, PNM...).
    Unsupported,
    /// The file ends before the image does.
    Truncated,
    /// The image data is damaged.
    Corrupt,
    /// Absurd dimensions, or more pixels or memory than the limits allow (decompression bombs).
    TooLarge,
    /// The file could not be read (permissions, I/O error).
    Unreadable,
    /// Decoding took longer than the per-file limit.
    Timeout,
    /// The decoder process died on this file.
    Crashed,
}

impl RefusalCode {
    pub const ALL: [RefusalCode; 9] = [
        RefusalCode::Empty,
        RefusalCode::NotImage,
        RefusalCode::Unsupported,
        RefusalCode::Truncated,
        RefusalCode::Corrupt,
        RefusalCode::TooLarge,
        RefusalCode::Unreadable,
        RefusalCode::Timeout,
        RefusalCode::Crashed,
    ];

    pub fn parse(s: &str) -> Option<RefusalCode> {
        RefusalCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Worth retrying on the next run even when the file is unchanged: the cause may have
    /// been the machine (a busy disk, a lost share), not the file.
    pub fn is_transient(self) -> bool {
        matches!(self, RefusalCode::Timeout | RefusalCode::Crashed | RefusalCode::Unreadable)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalCode::Empty => "empty",
            RefusalCode::NotImage => "not_image",
            RefusalCode::Unsupported => "unsupported",
            RefusalCode::Truncated => "truncated",
            RefusalCode::Corrupt => "corrupt",
            RefusalCode::TooLarge => "too_large",
            RefusalCode::Unreadable => "unreadable",
            RefusalCode::Timeout => "timeout",
            RefusalCode::Crashed => "crashed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: RefusalCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, message: impl Into<String>) -> Self {
        Refusal { code, message: message.into() }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

const RAW_EXTENSIONS: &[&str] = &[
    "nef", "nrw", "cr2", "cr3", "crw", "arw", "srf", "sr2", "dng", "orf", "rw2", "raf", "pef", "srw", "kdc", "dcr",
    "mrw", "3fr", "x3f", "erf", "mef", "mos", "iiq", "rwl",
];
const SLIDE_EXTENSIONS: &[&str] = &["ndpi", "svs", "scn", "mrxs", "vms", "vmu", "bif", "svslide", "qptiff", "czi"];

/// Decides what to do with a file from its first bytes (at least 132 when the file has them).
pub fn sniff(head: &[u8], path: &Path) -> Result<Format, Refusal> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let unsupported = |what: &str| Err(Refusal::new(RefusalCode::Unsupported, format!("unsupported format: {what}")));
    if head.is_empty() {
        return Err(Refusal::new(RefusalCode::Empty, "the file is empty (0 bytes)"));
    }
    // Extensions first for the TIFF-based containers that would otherwise pass as TIFF.
    if RAW_EXTENSIONS.contains(&ext.as_str()) {
        return unsupported(&format!("camera RAW (.{ext})"));
    }
    if SLIDE_EXTENSIONS.contains(&ext.as_str()) {
        return unsupported(&format!("whole-slide image (.{ext})"));
    }
    if head.len() >= 132 && &head[128..132] == b"DICM" || ext == "dcm" || ext == "dicom" {
        return unsupported("DICOM");
    }
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        return Ok(Format::Tiff);
    }
    if starts(b"BM") && head.len() >= 14 {
        return Ok(Format::Bmp);
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Ok(Format::Webp);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(Format::Gif);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brand = String::from_utf8_lossy(&head[8..12]).to_string();
        return match brand.as_str() {
            "heic" | "heix" | "hevc" | "hevx" | "heim" | "heis" | "mif1" | "msf1" => unsupported("HEIC/HEIF"),
            "avif" | "avis" => unsupported("AVIF"),
            "crx " => unsupported("camera RAW (CR3)"),
            _ => Err(Refusal::new(RefusalCode::NotImage, format!("not an image (a media container, brand {brand:?})"))),
        };
    }
    if starts(&[0, 0, 0, 0x0C, b'j', b'P', b' ', b' ']) || starts(&[0xFF, 0x4F, 0xFF, 0x51]) {
        return unsupported("JPEG 2000");
    }
    if starts(&[0xFF, 0x0A]) || starts(&[0, 0, 0, 0x0C, b'J', b'X', b'L', b' ']) {
        return unsupported("JPEG XL");
    }
    if head.len() >= 2
        && head[0] == b'P'
        && (b'1'..=b'7').contains(&head[1])
        && ["pbm", "pgm", "ppm", "pnm", "pam"].contains(&ext.as_str())
    {
        return unsupported("PNM/PAM");
    }
    if starts(b"8BPS") {
        return unsupported("Photoshop PSD");
    }
    if starts(&[0, 0, 1, 0]) && ext == "ico" {
        return unsupported("Windows icon");
    }
    if starts(b"qoif") {
        return unsupported("QOI");
    }
    if ext == "tga" {
        return unsupported("TGA");
    }
    if starts(b"%PDF") {
        return Err(Refusal::new(RefusalCode::NotImage, "not an image (a PDF document)"));
    }
    if head.len() >= 40 && &head[36..40] == b"acsp" {
        return Err(Refusal::new(RefusalCode::NotImage, "not an image (an ICC colour profile)"));
    }
    Err(Refusal::new(RefusalCode::NotImage, "not an image (unrecognised content)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(head: &[u8], name: &str) -> Result<Format, RefusalCode> {
        sniff(head, Path::new(name)).map_err(|r| r.code)
    }

    #[test]
    fn sniffs() {
        assert_eq!(s(&[0xFF, 0xD8, 0xFF, 0xE0], "a.bin"), Ok(Format::Jpeg));
        assert_eq!(s(b"II*\0\x08\0\0\0", "scan.tif"), Ok(Format::Tiff));
        assert_eq!(s(b"II*\0\x08\0\0\0", "slide.svs"), Err(RefusalCode::Unsupported));
        assert_eq!(s(b"II*\0\x08\0\0\0", "IMG_1.NEF"), Err(RefusalCode::Unsupported));
        assert_eq!(s(b"\0\0\0\x18ftypheic\0\0\0\0", "x.heic"), Err(RefusalCode::Unsupported));
        let mut dcm = vec![0u8; 140];
        dcm[128..132].copy_from_slice(b"DICM");
        assert_eq!(s(&dcm, "x"), Err(RefusalCode::Unsupported));
        assert_eq!(s(b"", "x.jpg"), Err(RefusalCode::Empty));
        assert_eq!(s(b"hello world", "x.jpg"), Err(RefusalCode::NotImage));
        assert_eq!(s(b"%PDF-1.4", "x.pdf"), Err(RefusalCode::NotImage));
    }
}
