//! A prediction against the chart, and what a prediction says in benign/malignant terms.
//!
//! **The chart's code** of a photo is the diagnosis its link holds (the pathology diagnosis
//! near the visit where there is one, else the visit's chart diagnosis: see
//! `store::links`), mapped to a taxonomy code as everywhere else (the record's own code, the
//! synonym table, the MEDIS names, the titles). Photos that are not linked, or whose
//! diagnosis does not map (a suspected diagnosis never does), have none.
//!
//! **The rule** (`agrees_with_chart`), for a classifier's most probable label:
//! - no chart code: `None` (nothing to compare with);
//! - the label's code and the chart's code share the ICD-10 category (the first three
//!   characters: `C43.5` ~ `C43.9`): `true`;
//! - the chart's category is some other label's category (the model could have said it and
//!   said something else): `false`;
//! - the chart's category is no label's (the model cannot name it, e.g. melanoma in situ
//!   `D03.9` for a seven-class model): the label's group (from the card) and the chart code's
//!   group (from the taxonomy) compared by `Group::benign_malignant` (malignant and in situ;
//!   benign and non-neoplastic; premalignant and uncertain as indeterminate): equal is `true`,
//!   anything else `false`.
//!
//! Agreement is never stored: it is worked out when read, from the links and synonyms as
//! they are then, so that relinking a photo, importing a pathology report or editing a
//! synonym can never leave a stale answer behind.

use super::card::Card;
use super::{ModelInfo, ModelTask, Prediction, compare_versions, registry};
use crate::error::Result;
use crate::store::Store;
use crate::taxonomy::{Group, Taxonomy};
use serde::Serialize;
use std::collections::HashMap;

/// The ICD-10 category of a code: its first three characters.
pub fn category(code: &str) -> &str {
    code.get(..3).unwrap_or(code)
}

/// One label of a prediction with its probability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ranked {
    pub label: String,
    pub code: Option<String>,
    pub p: f32,
}

/// Every label, most probable first.
pub fn ranked(card: &Card, probabilities: &[f32]) -> Vec<Ranked> {
    let mut v: Vec<Ranked> = card
        .labels
        .iter()
        .zip(probabilities)
        .map(|(l, &p)| Ranked { label: l.key.clone(), code: l.code.clone(), p })
        .collect();
    v.sort_by(|a, b| b.p.total_cmp(&a.p));
    v
}

/// The index of the most probable label.
pub fn top_index(probabilities: &[f32]) -> Option<usize> {
    probabilities.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i)
}

/// See the module notes for the rule.
pub fn agrees_with_chart(card: &Card, probabilities: &[f32], chart_code: Option<&str>) -> Option<bool> {
    let chart = chart_code?;
    let top = &card.labels[top_index(probabilities)?.min(card.labels.len().checked_sub(1)?)];
    let chart_cat = category(chart);
    if top.code.as_deref().is_some_and(|c| category(c) == chart_cat) {
        return Some(true);
    }
    if card.labels.iter().any(|l| l.code.as_deref().is_some_and(|c| category(c) == chart_cat)) {
        return Some(false);
    }
    let chart_group = Taxonomy::get().entry(chart).map(|e| e.group)?;
    let top_side = top.group.map(Group::benign_malignant).unwrap_or("indeterminate");
    Some(top_side == chart_group.benign_malignant())
}

/// A prediction's probability mass by group: malignant (malignant and in situ labels),
/// benign (benign and non-neoplastic), other (premalignant, uncertain).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub malignant: f32,
    pub benign: f32,
    pub other: f32,
}

pub fn summary(card: &Card, probabilities: &[f32]) -> Summary {
    let mut s = Summary::default();
    for (l, &p) in card.labels.iter().zip(probabilities) {
        match l.group {
            Some(Group::Malignant | Group::InSitu) => s.malignant += p,
            Some(Group::Benign | Group::NonNeoplastic) => s.benign += p,
            Some(Group::Premalignant | Group::Uncertain) | None => s.other += p,
        }
    }
    s
}

/// A photo's linked diagnosis as a taxonomy code (see the module notes), with the synonym
/// table read once by the caller (`store.diagnosis_synonyms()`).
pub fn chart_code(store: &Store, photo_id: i64, synonyms: &HashMap<String, String>) -> Result<Option<String>> {
    let link = store.link_of(photo_id)?;
    let Some(d) = link.as_ref().filter(|l| l.status.is_linked()).and_then(|l| l.diagnosis.as_ref()) else {
        return Ok(None);
    };
    Ok(Taxonomy::get().map(&d.text, d.code.as_deref(), synonyms).map(|(c, _)| c))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MaskInfo {
    pub width: u32,
    pub height: u32,
    pub pixels: u64,
}

/// What one model (its newest version with a result for the photo) says about a photo.
#[derive(Clone, Debug, Serialize)]
pub struct PhotoPrediction {
    pub model: String,
    pub version: String,
    pub task: ModelTask,
    pub inferred_at: String,
    /// Classification: every label, most probable first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<Vec<Ranked>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// Classification: see the module notes; None without a chart code.
    pub agrees_with_chart: Option<bool>,
    /// Segmentation: the mask's size (at the model's resolution) and pixels in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<MaskInfo>,
    /// Embedding: its length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_dim: Option<usize>,
    /// Classification: what the model's older versions said about the photo, newest first
    /// (results are kept per version for this comparison).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<Earlier>,
    /// The stored prediction itself.
    #[serde(skip)]
    pub prediction: Prediction,
}

/// An older version's answer for a photo: its most probable label, and agreement with the chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Earlier {
    pub version: String,
    pub top: Ranked,
    pub agrees_with_chart: Option<bool>,
}

/// Reads photos' predictions with agreement, with the registered cards loaded once (for
/// lists of many photos: `dermdesk list --json`, the GUI's panels).
pub struct PredictionReader {
    models: HashMap<i64, ModelInfo>,
    synonyms: HashMap<String, String>,
}

impl PredictionReader {
    pub fn new(store: &Store) -> Result<PredictionReader> {
        let models = registry::list(store)?.into_iter().map(|m| (m.id, m)).collect();
        Ok(PredictionReader { models, synonyms: store.diagnosis_synonyms()? })
    }

    /// The card of a registered model version (for its labels' names).
    pub fn card(&self, name: &str, version: &str) -> Option<&Card> {
        self.models.values().map(|m| &m.card).find(|c| c.name == name && c.version == version)
    }

    /// The photo's linked diagnosis as a taxonomy code, with the synonyms read once.
    pub fn chart_code(&self, store: &Store, photo_id: i64) -> Result<Option<String>> {
        chart_code(store, photo_id, &self.synonyms)
    }

    /// The photo's predictions, one per model name (its newest version that has a result
    /// for this photo, with the older versions' answers in `earlier`), by model name.
    pub fn of(&self, store: &Store, photo_id: i64, photo_hash: &str) -> Result<Vec<PhotoPrediction>> {
        let rows = store.model_results_of(photo_hash)?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // Per model name, its versions' results, newest first.
        let mut by_model: Vec<Vec<crate::store::ModelResultRow>> = Vec::new();
        for r in rows {
            match by_model.iter_mut().find(|n| n[0].name == r.name) {
                Some(n) => n.push(r),
                None => by_model.push(vec![r]),
            }
        }
        let chart = self.chart_code(store, photo_id)?;
        let mut out = Vec::new();
        for mut versions in by_model {
            versions.sort_by(|a, b| compare_versions(&b.version, &a.version));
            let mut versions = versions.into_iter();
            let r = versions.next().expect("each group has a result");
            let Some(m) = self.models.get(&r.model_id) else { continue };
            let earlier = versions
                .filter_map(|o| {
                    let card = &self.models.get(&o.model_id)?.card;
                    let Prediction::Classes { probabilities } = &o.prediction else { return None };
                    Some(Earlier {
                        top: ranked(card, probabilities).into_iter().next()?,
                        agrees_with_chart: agrees_with_chart(card, probabilities, chart.as_deref()),
                        version: o.version,
                    })
                })
                .collect();
            let mut p = PhotoPrediction {
                model: r.name,
                version: r.version,
                task: m.card.task,
                inferred_at: r.inferred_at,
                top: None,
                summary: None,
                agrees_with_chart: None,
                mask: None,
                embedding_dim: None,
                earlier,
                prediction: r.prediction,
            };
            match &p.prediction {
                Prediction::Classes { probabilities } => {
                    p.top = Some(ranked(&m.card, probabilities));
                    p.summary = Some(summary(&m.card, probabilities));
                    p.agrees_with_chart = agrees_with_chart(&m.card, probabilities, chart.as_deref());
                }
                Prediction::Mask { width, height, pixels, .. } => {
                    p.mask = Some(MaskInfo { width: *width, height: *height, pixels: *pixels });
                }
                Prediction::Embedding { values } => p.embedding_dim = Some(values.len()),
            }
            out.push(p);
        }
        Ok(out)
    }
}

/// The photos where the newest result of classifier `model` (per photo: the newest version
/// that has a result for it) disagrees with the chart (see the module notes), in id order:
/// the browser's "model disagrees with chart" filter. Photos with no chart code are not
/// among them.
pub fn disagreeing_photos(store: &Store, model: &str) -> Result<Vec<i64>> {
    Ok(agreement(store, model)?.into_iter().filter(|(_, a)| !a).map(|(id, _)| id).collect())
}

/// For each photo with a result of classifier `model` and a chart code: whether its newest
/// result agrees with the chart, in id order.
pub fn agreement(store: &Store, model: &str) -> Result<Vec<(i64, bool)>> {
    let cards: HashMap<i64, Card> =
        registry::list(store)?.into_iter().filter(|m| m.name() == model).map(|m| (m.id, m.card)).collect();
    let synonyms = store.diagnosis_synonyms()?;
    let rows = store.charted_results(model)?;
    let mut out: Vec<(i64, bool)> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        // Rows come in photo order; take the newest version among this photo's.
        let mut best = &rows[i];
        let mut j = i + 1;
        while j < rows.len() && rows[j].photo_id == best.photo_id {
            if compare_versions(&rows[j].version, &best.version).is_gt() {
                best = &rows[j];
            }
            j += 1;
        }
        i = j;
        let Some(card) = cards.get(&best.model_id) else { continue };
        let code = Taxonomy::get().map(&best.dx_text, best.dx_code.as_deref(), &synonyms).map(|(c, _)| c);
        if let Some(a) = agrees_with_chart(card, &best.probabilities, code.as_deref()) {
            out.push((best.photo_id, a));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> Card {
        let labels = [
            ("akiec", "L57.0", "premalignant"),
            ("bcc", "C44.9", "malignant"),
            ("bkl", "L82", "benign"),
            ("df", "D23.9", "benign"),
            ("mel", "C43.9", "malignant"),
            ("nv", "D22.9", "benign"),
            ("vasc", "D18.0", "benign"),
        ];
        let mut text = String::from(
            "name = \"t\"\nversion = \"1\"\ntask = \"classification\"\nfile = \"m.onnx\"\nnot_for_clinical_use = true\n\
             modalities = [\"dermoscopy\"]\n[input]\nname = \"input\"\nlayout = \"NCHW\"\nheight = 8\nwidth = 8\n\
             colour = \"RGB\"\nresize = \"stretch\"\nmean = [0.0, 0.0, 0.0]\nstd = [1.0, 1.0, 1.0]\n[output]\n\
             name = \"logits\"\nkind = \"logits\"\n[training]\ndata = \"x\"\nlicence = \"y\"\n",
        );
        for (k, c, g) in labels {
            text.push_str(&format!("[[labels]]\nkey = \"{k}\"\nen = \"{k}\"\ncode = \"{c}\"\ngroup = \"{g}\"\n"));
        }
        Card::parse(&text).unwrap()
    }

    fn one_hot(i: usize) -> Vec<f32> {
        (0..7).map(|j| if i == j { 0.9 } else { 0.1 / 6.0 }).collect()
    }

    #[test]
    fn agreement_follows_the_documented_rule() {
        let c = card();
        let mel = one_hot(4);
        let nv = one_hot(5);
        assert_eq!(agrees_with_chart(&c, &mel, None), None);
        assert_eq!(agrees_with_chart(&c, &mel, Some("C43.5")), Some(true), "same category");
        assert_eq!(agrees_with_chart(&c, &nv, Some("C43.5")), Some(false), "another label's category");
        // Melanoma in situ is no label's category: groups decide (in situ counts as malignant).
        assert_eq!(agrees_with_chart(&c, &mel, Some("D03.9")), Some(true));
        assert_eq!(agrees_with_chart(&c, &nv, Some("D03.9")), Some(false));
        // Premalignant on both sides is indeterminate on both sides.
        assert_eq!(agrees_with_chart(&c, &one_hot(0), Some("L57.0")), Some(true));
        let s = summary(&c, &mel);
        assert!((s.malignant - (0.9 + 0.1 / 6.0)).abs() < 1e-6, "{s:?}");
        assert!((s.malignant + s.benign + s.other - 1.0).abs() < 1e-5);
        let r = ranked(&c, &mel);
        assert_eq!((r[0].label.as_str(), r[0].code.as_deref(), r.len()), ("mel", Some("C43.9"), 7));
    }
}
