//! The model card: a TOML file beside the ONNX file that says what the model is, how its
//! input is made from a photo, what its output means, and what it was trained on.
//!
//! ```toml
//! name = "ham7-lite0"            # [a-z0-9-]+
//! version = "1.0.0"
//! task = "classification"         # classification | segmentation | embedding
//! file = "model.onnx"             # relative to the card
//! not_for_clinical_use = true     # must be true, else refused
//! modalities = ["dermoscopy"]     # intended modalities (the store's names)
//! description = "..."
//! [input]
//! name = "input"
//! layout = "NCHW"                 # NCHW | NHWC
//! height = 160
//! width = 224
//! colour = "RGB"                  # RGB | BGR
//! resize = "stretch"              # stretch | shorter-side-crop
//! interpolation = "bilinear"      # optional: bilinear (default) | nearest | bicubic
//! mean = [127.0, 127.0, 127.0]    # x = (pixel 0..255 - mean) / std, per channel in colour order
//! std = [128.0, 128.0, 128.0]
//! colour_constancy = { method = "shades-of-gray", p = 6 }   # optional: after resizing, before mean/std
//! [output]
//! name = "logits"
//! kind = "logits"                 # logits | probabilities | mask-logits | mask-probabilities | embedding
//! threshold = 0.5                 # segmentation only (on the probability)
//! [[labels]]                      # classification: one per output index, in order
//! key = "akiec"
//! en = "Actinic keratosis / intraepithelial carcinoma"
//! ja = "日光角化症・表皮内癌"
//! code = "L57.0"                  # ICD-10 code; need not be in the taxonomy
//! group = "premalignant"          # as taxonomy::Group
//! [training]
//! data = "HAM10000 ..."
//! licence = "CC BY-NC 4.0"
//! [metrics]                       # free-form figures, shown as they are
//! ```
//!
//! `[input]`, `[output]` and `[[labels]]` decide what is computed, so a key there that this
//! build does not know is refused (a misspelt optional key must not be silently ignored);
//! elsewhere unknown keys are kept and ignored.

use super::ModelError;
use crate::modality::Modality;
use crate::taxonomy::Group;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelTask {
    Classification,
    Segmentation,
    Embedding,
}

impl ModelTask {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelTask::Classification => "classification",
            ModelTask::Segmentation => "segmentation",
            ModelTask::Embedding => "embedding",
        }
    }

    pub fn parse(s: &str) -> Option<ModelTask> {
        [ModelTask::Classification, ModelTask::Segmentation, ModelTask::Embedding].into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layout {
    #[serde(rename = "NCHW")]
    Nchw,
    #[serde(rename = "NHWC")]
    Nhwc,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Nchw => "NCHW",
            Layout::Nhwc => "NHWC",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Colour {
    #[serde(rename = "RGB")]
    Rgb,
    #[serde(rename = "BGR")]
    Bgr,
}

impl Colour {
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Rgb => "RGB",
            Colour::Bgr => "BGR",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resize {
    /// The whole photo to width × height (the aspect ratio is not kept).
    Stretch,
    /// Scaled so that it covers width × height (the shorter side fits), then the centre cut out.
    ShorterSideCrop,
}

impl Resize {
    pub fn as_str(self) -> &'static str {
        match self {
            Resize::Stretch => "stretch",
            Resize::ShorterSideCrop => "shorter-side-crop",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interpolation {
    /// Bilinear, widened when shrinking (as PIL's and torchvision's bilinear resize).
    #[default]
    Bilinear,
    Nearest,
    Bicubic,
}

impl Interpolation {
    pub fn as_str(self) -> &'static str {
        match self {
            Interpolation::Bilinear => "bilinear",
            Interpolation::Nearest => "nearest",
            Interpolation::Bicubic => "bicubic",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputKind {
    /// Class scores: softmax is applied.
    Logits,
    /// Class probabilities as they are (they must sum to about 1).
    Probabilities,
    /// Per-pixel logits: sigmoid, then the threshold.
    MaskLogits,
    /// Per-pixel probabilities: the threshold.
    MaskProbabilities,
    Embedding,
}

impl OutputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputKind::Logits => "logits",
            OutputKind::Probabilities => "probabilities",
            OutputKind::MaskLogits => "mask-logits",
            OutputKind::MaskProbabilities => "mask-probabilities",
            OutputKind::Embedding => "embedding",
        }
    }

    /// The task this kind of output serves.
    pub fn task(self) -> ModelTask {
        match self {
            OutputKind::Logits | OutputKind::Probabilities => ModelTask::Classification,
            OutputKind::MaskLogits | OutputKind::MaskProbabilities => ModelTask::Segmentation,
            OutputKind::Embedding => ModelTask::Embedding,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub name: String,
    pub layout: Layout,
    pub height: u32,
    pub width: u32,
    pub colour: Colour,
    pub resize: Resize,
    #[serde(default)]
    pub interpolation: Interpolation,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// A correction of the light's colour made on the resized photo before `mean` and `std`,
    /// when the model was trained with one (models made for photos from many dermoscopes often are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour_constancy: Option<ColourConstancy>,
}

/// How the light's colour is taken out of a photo.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ColourConstancy {
    /// Shades of Gray (Finlayson and Trezzi, 2004): each channel's light estimated as the
    /// `p`-norm mean of its values (0..1), then one gain per channel that makes the three
    /// estimates equal to their mean; values above 255 are cut. p = 1 is grey world; large p
    /// approaches max-RGB; 6 is the usual choice for dermoscopy.
    ShadesOfGray { p: u32 },
}

impl ColourConstancy {
    /// Words for the card's summary.
    pub fn describe(self) -> String {
        match self {
            ColourConstancy::ShadesOfGray { p } => format!("shades of gray, p = {p}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    pub name: String,
    pub kind: OutputKind,
    /// Segmentation: a pixel is in the mask when its probability is at least this.
    #[serde(default)]
    pub threshold: Option<f32>,
    /// Segmentation: the mask's size when it differs from the input's.
    #[serde(default)]
    pub height: Option<u32>,
    #[serde(default)]
    pub width: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    pub key: String,
    pub en: String,
    #[serde(default)]
    pub ja: Option<String>,
    /// An ICD-10 code, normalised (`c439` reads as `C43.9`); need not be in the taxonomy.
    #[serde(default)]
    pub code: Option<String>,
    /// As `taxonomy::Group`; `other` or empty (a segmenter's "lesion") is none. A classifier's
    /// labels must each have one.
    #[serde(default, deserialize_with = "group_or_none")]
    pub group: Option<Group>,
}

fn group_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Group>, D::Error> {
    let s = String::deserialize(d)?;
    if matches!(s.trim(), "" | "other" | "none") {
        return Ok(None);
    }
    Group::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(s.trim())).map(Some)
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Training {
    pub data: String,
    pub licence: String,
    /// Anything else the card says about training, as written.
    #[serde(flatten)]
    pub other: BTreeMap<String, toml::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub name: String,
    pub version: String,
    pub task: ModelTask,
    pub file: String,
    pub not_for_clinical_use: bool,
    pub modalities: Vec<Modality>,
    #[serde(default)]
    pub description: String,
    pub input: Input,
    pub output: Output,
    #[serde(default)]
    pub labels: Vec<Label>,
    pub training: Training,
    /// Measured figures, free-form, shown as they are.
    #[serde(default)]
    pub metrics: BTreeMap<String, toml::Value>,
}

/// Inputs larger than this on a side are refused (a typo, or a model no workstation runs).
pub const MAX_SIDE: u32 = 4096;

fn bad(why: impl Into<String>) -> ModelError {
    ModelError::Card(why.into())
}

impl Card {
    /// Parses a card's text and checks that it is complete and consistent (not yet against
    /// the ONNX file: see `net::check`).
    pub fn parse(text: &str) -> Result<Card, ModelError> {
        let mut card: Card = toml::from_str(text).map_err(|e| bad(e.to_string().trim().replace('\n', " ")))?;
        card.validate()?;
        for l in &mut card.labels {
            l.code = l.code.as_deref().map(crate::taxonomy::normalize_code).filter(|c| !c.is_empty());
        }
        Ok(card)
    }

    fn validate(&self) -> Result<(), ModelError> {
        if self.name.is_empty() || !self.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(bad(format!("name {:?} must be lower-case letters, digits and '-' only", self.name)));
        }
        if self.version.is_empty()
            || self.version.len() > 64
            || self.version.starts_with('.')
            || !self.version.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
        {
            return Err(bad(format!("version {:?} must be letters, digits and . - + _ (e.g. 1.0.0)", self.version)));
        }
        if !self.not_for_clinical_use {
            return Err(ModelError::ClinicalUse);
        }
        if self.file.trim().is_empty() {
            return Err(bad("file (the ONNX file beside the card) is empty"));
        }
        if self.modalities.is_empty() {
            return Err(bad("modalities is empty: name the modalities the model is meant for"));
        }
        if self.training.data.trim().is_empty() || self.training.licence.trim().is_empty() {
            return Err(bad("[training] needs data and licence"));
        }
        let i = &self.input;
        if i.name.is_empty() {
            return Err(bad("[input] name is empty"));
        }
        if i.height == 0 || i.width == 0 || i.height > MAX_SIDE || i.width > MAX_SIDE {
            return Err(bad(format!("[input] size {}x{} must be 1..{MAX_SIDE} on each side", i.width, i.height)));
        }
        if i.std.iter().any(|s| !s.is_finite() || *s == 0.0) || i.mean.iter().any(|m| !m.is_finite()) {
            return Err(bad("[input] std must be finite and non-zero, mean finite"));
        }
        if let Some(ColourConstancy::ShadesOfGray { p }) = i.colour_constancy
            && !(1..=16).contains(&p)
        {
            return Err(bad(format!("[input] colour_constancy p = {p} must be 1..16")));
        }
        let o = &self.output;
        if o.name.is_empty() {
            return Err(bad("[output] name is empty"));
        }
        if o.kind.task() != self.task {
            return Err(bad(format!(
                "[output] kind {} does not fit task {} (classification: logits or probabilities; segmentation: \
                 mask-logits or mask-probabilities; embedding: embedding)",
                o.kind.as_str(),
                self.task.as_str()
            )));
        }
        match self.task {
            ModelTask::Classification => {
                if self.labels.len() < 2 {
                    return Err(bad(format!(
                        "a classification card lists one [[labels]] entry per output, at least 2 (found {})",
                        self.labels.len()
                    )));
                }
                let mut keys = std::collections::HashSet::new();
                for l in &self.labels {
                    if l.key.trim().is_empty() || !keys.insert(l.key.as_str()) {
                        return Err(bad(format!("label key {:?} is empty or listed twice", l.key)));
                    }
                    if l.group.is_none() {
                        return Err(bad(format!(
                            "label {:?} needs a group (malignant, in_situ, premalignant, benign, uncertain, \
                             non_neoplastic)",
                            l.key
                        )));
                    }
                }
            }
            ModelTask::Segmentation => {
                let t = o.threshold.unwrap_or(0.5);
                if !(0.0..=1.0).contains(&t) {
                    return Err(bad(format!("[output] threshold {t} must be between 0 and 1")));
                }
                if o.height.is_some() != o.width.is_some() {
                    return Err(bad("[output] height and width go together"));
                }
            }
            ModelTask::Embedding => {}
        }
        Ok(())
    }

    /// The mask's size (width, height) for a segmentation model.
    pub fn mask_size(&self) -> (u32, u32) {
        (self.output.width.unwrap_or(self.input.width), self.output.height.unwrap_or(self.input.height))
    }

    /// The segmentation threshold on the probability (default 0.5).
    pub fn threshold(&self) -> f32 {
        self.output.threshold.unwrap_or(0.5)
    }

    pub fn intended_for(&self, m: Modality) -> bool {
        self.modalities.contains(&m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const DEMO: &str = r#"
name = "ham7-lite0"
version = "1.0.0"
task = "classification"
file = "model.onnx"
not_for_clinical_use = true
modalities = ["dermoscopy"]
description = "demo"
[input]
name = "input"
layout = "NCHW"
height = 160
width = 224
colour = "RGB"
resize = "stretch"
mean = [127.0, 127.0, 127.0]
std = [128.0, 128.0, 128.0]
[output]
name = "logits"
kind = "logits"
[[labels]]
key = "akiec"
en = "Actinic keratosis"
code = "l570"
group = "premalignant"
[[labels]]
key = "vasc"
en = "Vascular"
code = "D18.0"
group = "benign"
[training]
data = "HAM10000"
licence = "CC BY-NC 4.0"
epochs = 12
[metrics]
balanced_accuracy = 0.71
split = "lesion-wise"
"#;

    #[test]
    fn a_segmenter_card_may_label_its_mask_with_no_group() {
        let seg = DEMO
            .replace("task = \"classification\"", "task = \"segmentation\"")
            .replace("kind = \"logits\"", "kind = \"mask-logits\"\nthreshold = 0.5")
            .replace("code = \"l570\"\ngroup = \"premalignant\"", "code = \"\"\ngroup = \"other\"");
        let c = Card::parse(&seg).unwrap();
        assert_eq!((c.labels[0].code.as_deref(), c.labels[0].group), (None, None));
        let err = Card::parse(&DEMO.replace("group = \"premalignant\"", "group = \"other\"")).unwrap_err();
        assert!(err.to_string().contains("needs a group"), "{err}");
        assert!(Card::parse(&DEMO.replace("group = \"premalignant\"", "group = \"evil\"")).is_err());
    }

    #[test]
    fn a_card_parses_and_refusals_say_what_is_wrong() {
        let c = Card::parse(DEMO).unwrap();
        assert_eq!(
            (c.name.as_str(), c.task, c.input.width, c.input.height),
            ("ham7-lite0", ModelTask::Classification, 224, 160)
        );
        assert_eq!(c.labels[0].code.as_deref(), Some("L57.0"));
        assert_eq!(c.input.interpolation, Interpolation::Bilinear);
        assert_eq!(c.metrics.len(), 2);
        assert!(c.training.other.contains_key("epochs"));
        let err = |from: &str, to: &str| Card::parse(&DEMO.replacen(from, to, 1)).unwrap_err().to_string();
        assert!(err("not_for_clinical_use = true", "not_for_clinical_use = false").contains("clinical"));
        assert!(err("name = \"ham7-lite0\"", "name = \"Ham 7\"").contains("name"));
        assert!(
            err("layout = \"NCHW\"", "layout = \"CHW\"").contains("layout"),
            "{}",
            err("layout = \"NCHW\"", "layout = \"CHW\"")
        );
        assert!(err("colour = \"RGB\"", "color = \"RGB\"").contains("colour"));
        assert!(err("kind = \"logits\"", "kind = \"embedding\"").contains("does not fit"));
        assert!(err("modalities = [\"dermoscopy\"]", "modalities = [\"xray\"]").contains("modalities"));
        assert!(err("height = 160", "height = 0").contains("size"));
        assert!(err("licence = \"CC BY-NC 4.0\"", "licence = \"\"").contains("licence"));
        // Colour constancy: named, checked, and a misspelt method or key is refused.
        assert_eq!(c.input.colour_constancy, None);
        let with =
            |cc: &str| DEMO.replacen("std = [128.0, 128.0, 128.0]", &format!("std = [128.0, 128.0, 128.0]\n{cc}"), 1);
        let c = Card::parse(&with("colour_constancy = { method = \"shades-of-gray\", p = 6 }")).unwrap();
        assert_eq!(c.input.colour_constancy, Some(ColourConstancy::ShadesOfGray { p: 6 }));
        let refused = |cc: &str| Card::parse(&with(cc)).unwrap_err().to_string();
        assert!(refused("colour_constancy = { method = \"shades-of-gray\", p = 0 }").contains("1..16"));
        assert!(refused("colour_constancy = { method = \"grey-world\" }").contains("grey-world"));
        let typo = refused("colour_constancy = { method = \"shades-of-gray\", p = 6, norm = 2 }");
        assert!(typo.contains("norm"), "{typo}");
    }
}
