//! Research models: classifiers, segmenters and embedders in ONNX, each with a model card
//! (`card.toml`), run over the archive and compared with the charts. Never for clinical use:
//! a card must say `not_for_clinical_use = true` or it is refused.
//!
//! - [`card`]: the card format (TOML).
//! - [`registry`]: [`registry::open`] (registers the demo models under `assets/models/*/`,
//!   which ship inside the executable), [`registry::add`] (checks a model against its card
//!   and copies both into `<database folder>/models/<name>/<version>/`), [`registry::list`],
//!   [`registry::get`].
//! - [`preprocess`]: a photo into the model's input tensor, as the card says.
//! - [`net`]: loading in tract, the checks on add, one run.
//! - [`propose`]: a segmenter's mask at the photo's full resolution, for the mask panel.
//! - [`occlusion`]: which parts of a photo a classifier's answer rests on (a heatmap).
//! - [`task`] and [`job`]: inference on the per-photo worker job, only ever on photos the
//!   gate (`Store::release`) lets out; resumable; results kept per photo content and model
//!   version (a new version keeps the old one's results).
//! - [`agree`]: a prediction against the photo's linked chart diagnosis, and the
//!   benign/malignant summary of a prediction.
//! - [`compare`]: two versions of a classifier on the photos both looked at.
//!
//! The GUI's entry points: `registry::{open, list, get, add}`, `job::run`,
//! `agree::PredictionReader` (a photo's predictions with agreement) and
//! `agree::disagreeing_photos` (the browser filter).

/// The demo classifier shipped in `assets/models/ham7-lite0` (the GUI's default for the
/// "model disagrees with chart" filter).
pub const DEMO_CLASSIFIER: &str = "ham7-lite0";

pub mod agree;
pub mod card;
pub mod compare;
pub mod job;
pub mod net;
pub mod occlusion;
pub mod preprocess;
pub mod propose;
pub mod registry;
pub mod task;

pub use card::{Card, ModelTask};
pub use registry::ModelInfo;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Why a model or its card was refused, or a model could not be found or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the model card is not usable: {0}")]
    Card(String),

    #[error(
        "the model card does not say not_for_clinical_use = true: dermdesk runs research models only, never for \
         clinical use"
    )]
    ClinicalUse,

    #[error("{what} ({cause}): {}", path.display())]
    File { what: &'static str, cause: String, path: PathBuf },

    #[error("the model file is not an ONNX model tract can load ({0})")]
    NotOnnx(String),

    #[error("the model has no input named {name:?} (its inputs: {found})")]
    NoInput { name: String, found: String },

    #[error("the model has no output named {name:?} (its outputs: {found})")]
    NoOutput { name: String, found: String },

    #[error("the model's input {name:?} is {model}, but the card says {card}")]
    InputShape { name: String, model: String, card: String },

    #[error("the model's output {name:?} is {shape}: {why}")]
    OutputShape { name: String, shape: String, why: String },

    #[error("a test inference on a grey image failed: {0}")]
    TestRun(String),

    #[error(
        "{name} {version} is already registered with another model file or card (give the new one another \
         version: results are kept per version)"
    )]
    Conflict { name: String, version: String },

    #[error("no model named {0} (see `dermdesk models list`)")]
    Unknown(String),

    #[error(
        "{name} {version} is built into dermdesk and cannot be removed (it would come back the next time the app opens)"
    )]
    BuiltIn { name: String, version: String },

    /// Two versions cannot be compared (see `compare`).
    #[error("{0}")]
    Compare(String),

    #[error(transparent)]
    Store(#[from] crate::Error),
}

impl From<ModelError> for crate::Error {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::Store(e) => e,
            other => crate::Error::Invalid(other.to_string()),
        }
    }
}

/// What a model said about one photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    /// One probability per label, in the card's label order.
    Classes {
        probabilities: Vec<f32>,
    },
    /// The mask at the model's resolution, in `masks::codec` form (lossless, compact).
    Mask {
        width: u32,
        height: u32,
        pixels: u64,
        data: Vec<u8>,
    },
    Embedding {
        values: Vec<f32>,
    },
}

impl Prediction {
    pub fn task(&self) -> ModelTask {
        match self {
            Prediction::Classes { .. } => ModelTask::Classification,
            Prediction::Mask { .. } => ModelTask::Segmentation,
            Prediction::Embedding { .. } => ModelTask::Embedding,
        }
    }
}

/// Orders versions as people write them: numeric parts as numbers (`1.10.0` after `1.9.2`),
/// other parts as text.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<String> { s.split(['.', '-', '+', '_']).map(str::to_owned).collect() };
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
            (Err(_), Ok(_)) => std::cmp::Ordering::Less,
            _ => x.cmp(y),
        };
        if o.is_ne() {
            return o;
        }
    }
    pa.len().cmp(&pb.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_as_people_write_them() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("1.10.0", "1.9.2"), Greater);
        assert_eq!(compare_versions("1.0.0", "1.0.0"), Equal);
        assert_eq!(compare_versions("2", "1.9"), Greater);
        assert_eq!(compare_versions("1.0", "1.0.1"), Less);
    }
}
