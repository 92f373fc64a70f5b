//! The modality model: a linear probe on the ImageNet EfficientNet-Lite0's pooled head features
//! and its per-channel statistics after five stages, trained by
//! `training/train_modality.py` on clinical photos, dermoscopy, H&E tiles and other pictures,
//! shipped in `assets/models/modality-lite0/` (compiled in, never registered as a research
//! model). The import runs it in each decoder worker after folder rules and before the cues;
//! below [`FALLBACK_BELOW`] the cues decide. VISIA is not learnt: the VISIA size rule decides it.

use crate::modality::Modality;
use crate::models::{Card, ModelError, Prediction, net};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Its folder under `assets/models/` (and its name in the reasons shown).
pub const FOLDER: &str = "modality-lite0";

/// The model's guess counts only at this probability or above; below it the cues decide.
/// Chosen on the held-out figures of the training script (the card's `fallback_below`).
pub const FALLBACK_BELOW: f32 = 0.6;

/// What the model said of one photo: its most probable modality and that probability.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelGuess {
    pub modality: Modality,
    pub p: f32,
}

impl ModelGuess {
    pub fn sure(&self) -> bool {
        self.p >= FALLBACK_BELOW
    }
}

/// The loaded model: the optimised tract plan, and which output is which modality.
pub struct ModalityNet {
    loaded: net::Loaded,
    labels: Vec<Modality>,
}

impl ModalityNet {
    /// Loads the model compiled into the executable (checked against its card as `models add` does).
    pub fn builtin() -> Result<ModalityNet, ModelError> {
        let (card, model) = crate::models::registry::builtin_files(FOLDER).ok_or_else(|| ModelError::File {
            what: "the modality model was not there when dermdesk was built",
            cause: "no card.toml".into(),
            path: format!("assets/models/{FOLDER}").into(),
        })?;
        ModalityNet::load(card, model)
    }

    pub fn load(card_text: &str, model: &[u8]) -> Result<ModalityNet, ModelError> {
        let card = Card::parse(card_text)?;
        let labels = card
            .labels
            .iter()
            .map(|l| {
                Modality::parse(&l.key).ok_or_else(|| ModelError::Card(format!("label {:?} is not a modality", l.key)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ModalityNet { loaded: net::load(&card, model)?, labels })
    }

    pub fn card(&self) -> &Card {
        self.loaded.card()
    }

    /// Every modality's probability, in the card's label order.
    pub fn probabilities(&self, img: &image::RgbImage) -> Result<Vec<(Modality, f32)>, String> {
        match self.loaded.predict(img)? {
            Prediction::Classes { probabilities } => Ok(self.labels.iter().copied().zip(probabilities).collect()),
            _ => Err("the modality model gave no class probabilities".into()),
        }
    }

    pub fn guess(&self, img: &image::RgbImage) -> Result<ModelGuess, String> {
        let probs = self.probabilities(img)?;
        let (modality, p) =
            probs.into_iter().max_by(|a, b| a.1.total_cmp(&b.1)).ok_or("the modality model gave no output")?;
        Ok(ModelGuess { modality, p })
    }
}

/// The built-in model, loaded once per process (each decoder worker loads and optimises it
/// on its first photo). `None` when it cannot be loaded: the cues decide then, as before.
pub fn shared() -> Option<&'static ModalityNet> {
    static NET: OnceLock<Option<ModalityNet>> = OnceLock::new();
    NET.get_or_init(|| match ModalityNet::builtin() {
        Ok(n) => Some(n),
        Err(e) => {
            eprintln!("the modality model cannot be used, image cues decide instead: {e}");
            None
        }
    })
    .as_ref()
}

/// The stored reason of a photo the model decided: `{"model": "modality-lite0", "p": 0.97}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelWhy {
    pub model: String,
    pub p: f32,
}

impl ModelWhy {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Option<ModelWhy> {
        serde_json::from_str(s).ok()
    }
}

impl std::fmt::Display for ModelWhy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "model {} ({:.0}% sure)", self.model, self.p * 100.0)
    }
}
