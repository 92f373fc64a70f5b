//! One photo through every detector: the library API the screening job calls per photo.

use super::face::FaceDetector;
use super::ocr::{DetParams, TextReader};
use super::text::classify;
use super::{Detector, Finding, FindingKind, Verdict, metadata, verdict_of};
use crate::error::Result;
use crate::modality::Modality;
use image::RgbImage;
use serde::{Deserialize, Serialize};

/// What screening looks at.
pub struct ScreenInput<'a> {
    /// The photo as shown (EXIF orientation applied), at any size: reduced is fine, detectors
    /// work at 640 (faces) and 960 (text) px.
    pub image: &'a RgbImage,
    /// The photo's full size as shown: boxes are given in these pixels.
    pub full_size: (u32, u32),
    /// The file's bytes, for metadata.
    pub file: &'a [u8],
    pub modality: Modality,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// The detectors that ran, with their versions.
    pub ran: Vec<(Detector, String)>,
    /// Milliseconds each detector took (for benchmarks).
    #[serde(skip)]
    pub ms: Vec<(Detector, f64)>,
}

/// Thresholds, chosen for sensitivity (a miss is a breach, a false alarm a keystroke).
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Long side for the upright face pass, and for the three turned passes (0 = none).
    pub face_long: u32,
    pub face_turned_long: u32,
    /// A face at or above this score makes the photo identifiable; above `face_unsure`, unsure.
    pub face_identifiable: f32,
    pub face_unsure: f32,
    pub text_long: u32,
    pub text: DetParams,
    pub max_lines: usize,
    /// A line read with less confidence than this is shown as unreadable text (unsure).
    pub min_confidence: f32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            face_long: 640,
            face_turned_long: 320,
            face_identifiable: 0.5,
            face_unsure: 0.3,
            text_long: 960,
            text: DetParams::default(),
            max_lines: 40,
            min_confidence: 0.5,
        }
    }
}

pub struct Screener {
    pub faces: FaceDetector,
    pub text: TextReader,
    pub settings: Settings,
}

impl Screener {
    /// Builds every model (once per process; plans for new sizes are added as they come).
    pub fn load() -> Result<Screener> {
        Ok(Screener { faces: FaceDetector::load()?, text: TextReader::load()?, settings: Settings::default() })
    }

    /// Runs the detectors named in `which` on one photo.
    pub fn screen(&self, input: &ScreenInput<'_>, which: &[Detector]) -> Result<Screening> {
        let mut findings = Vec::new();
        let (iw, ih) = input.image.dimensions();
        let (sx, sy) = (input.full_size.0 as f32 / iw as f32, input.full_size.1 as f32 / ih as f32);
        let to_full = |b: [f32; 4]| [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy];
        let s = &self.settings;
        let mut ms = Vec::new();
        for &d in which {
            let started = std::time::Instant::now();
            match d {
                Detector::Face => {
                    let faces =
                        self.faces.detect_all_turns(input.image, s.face_long, s.face_turned_long, s.face_unsure)?;
                    for f in faces {
                        let level =
                            if f.score >= s.face_identifiable { Verdict::Identifiable } else { Verdict::Unsure };
                        findings.push(Finding {
                            kind: FindingKind::Face,
                            detector: "centerface".into(),
                            score: f.score,
                            bbox: Some(to_full(f.bbox)),
                            text: None,
                            field: None,
                            level,
                        });
                    }
                }
                Detector::Text => {
                    for line in self.text.read(input.image, s.text_long, &s.text, s.max_lines)? {
                        let (class, level) = text_level(&line.text, line.confidence, s.min_confidence);
                        findings.push(Finding {
                            kind: FindingKind::Text,
                            detector: "ppocrv5".into(),
                            score: line.det_score,
                            bbox: Some(to_full(line.bbox)),
                            text: Some(line.text),
                            field: Some(class.to_string()),
                            level,
                        });
                    }
                }
                Detector::Metadata => findings.extend(metadata::scan(input.file)),
            }
            ms.push((d, started.elapsed().as_secs_f64() * 1000.0));
        }
        let verdict = verdict_of(&findings, input.modality);
        let ran = which.iter().map(|d| (*d, d.version().to_string())).collect();
        Ok(Screening { findings, verdict, ran, ms })
    }
}

/// How much one line of read text says. Read with confidence: its class decides (a single
/// letter or mark says nothing). Read poorly: real text partly covered or turned still shows
/// several characters, while skin, hair and ruler ticks give one or none; so three
/// characters (or two kana/kanji) make it unsure, or more when they look like a name, ID or date.
pub fn text_level(text: &str, confidence: f32, min_confidence: f32) -> (&'static str, Verdict) {
    use super::text::TextClass;
    let significant: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    let cjk = significant.iter().filter(|c| !c.is_ascii()).count();
    let class = classify(text);
    if confidence >= min_confidence {
        if class == TextClass::Words && significant.len() < 2 {
            return ("ruler", Verdict::Clear);
        }
        return (class.as_str(), class.level());
    }
    if significant.len() >= 3 || cjk >= 2 {
        let level = if class.level() == Verdict::Identifiable { Verdict::Identifiable } else { Verdict::Unsure };
        if class != TextClass::Ruler || level == Verdict::Identifiable {
            return ("unreadable", level);
        }
    }
    ("unreadable", Verdict::Clear)
}
