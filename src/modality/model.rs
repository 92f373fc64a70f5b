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
/// Chosen on the held-out figures of the training script (the card's `fallback_below`):
/// `dermdesk bench modality --heldout` sweeps it. 0.5 since model 1.2.0 (was 0.6): between
/// 0.5 and 0.6 the model was right more often than the cues, which call most photos clinical.
pub const FALLBACK_BELOW: f32 = 0.5;

/// What the model said of one photo: its most probable modality, that probability, and the
/// model's version (none in guesses stored before versions were: `modality redetect` takes
/// those, and those of any other version than the built-in one, again).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelGuess {
    pub modality: Modality,
    pub p: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
}

/// A built-in model's version, `major.minor.patch` (stored as that text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u16, pub u16, pub u16);

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let mut it = s.split('.').map(|n| n.parse::<u16>().ok());
        let v = Version(it.next()??, it.next()??, it.next()??);
        it.next().is_none().then_some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
        let s = String::deserialize(d)?;
        Version::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("version {s:?} is not major.minor.patch")))
    }
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
    version: Option<Version>,
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
        let version = Version::parse(&card.version);
        Ok(ModalityNet { loaded: net::load(&card, model)?, labels, version })
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
        Ok(ModelGuess { modality, p, version: self.version })
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

/// The built-in model's version, from its card (without loading the model); `None` when it
/// was not built in or its card's version is not `major.minor.patch`.
pub fn builtin_version() -> Option<Version> {
    let (card, _) = crate::models::registry::builtin_files(FOLDER)?;
    Version::parse(&Card::parse(card).ok()?.version)
}

/// The stored reason of a photo the model decided:
/// `{"model": "modality-lite0", "version": "1.2.0", "p": 0.97}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelWhy {
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    pub p: f32,
}

impl ModelWhy {
    /// The model's name with its version where one was stored: `modality-lite0 1.2.0`.
    pub fn label(&self) -> String {
        match self.version {
            Some(v) => format!("{} {v}", self.model),
            None => self.model.clone(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Option<ModelWhy> {
        serde_json::from_str(s).ok()
    }
}

impl std::fmt::Display for ModelWhy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "model {} ({:.0}% sure)", self.label(), self.p * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_stored_as_text_and_old_guesses_without_one_still_read() {
        assert_eq!(Version::parse("1.2.0"), Some(Version(1, 2, 0)));
        for bad in ["1.2", "1.2.0.1", "1.x.0", "", "1..0", "70000.0.0"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
        let g = ModelGuess { modality: Modality::Dermoscopy, p: 0.5, version: Some(Version(1, 2, 0)) };
        let text = serde_json::to_string(&g).unwrap();
        assert!(text.contains(r#""version":"1.2.0""#), "{text}");
        assert_eq!(serde_json::from_str::<ModelGuess>(&text).unwrap(), g);
        let old: ModelGuess = serde_json::from_str(r#"{"modality":"clinical","p":0.9}"#).unwrap();
        assert_eq!(old.version, None);
        assert!(serde_json::from_str::<ModelGuess>(r#"{"modality":"clinical","p":0.9,"version":"new"}"#).is_err());
        let why = ModelWhy { model: FOLDER.into(), version: Some(Version(1, 2, 0)), p: 0.97 };
        assert_eq!(why.to_string(), "model modality-lite0 1.2.0 (97% sure)");
        assert_eq!(ModelWhy::from_json(&why.to_json()), Some(why));
        let before: ModelWhy = ModelWhy::from_json(r#"{"model":"modality-lite0","p":0.5}"#).unwrap();
        assert_eq!(before.to_string(), "model modality-lite0 (50% sure)");
        assert_eq!(
            builtin_version().map(|v| v.to_string()),
            Some(Card::parse(crate::models::registry::builtin_files(FOLDER).unwrap().0).unwrap().version)
        );
    }
}
