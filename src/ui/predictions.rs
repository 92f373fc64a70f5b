//! The model section of the details panel, beside the chart section: for each model that has
//! looked at the photo (its newest version), the classes with probability bars, the
//! benign/malignant split, and whether the model agrees with the chart's (or pathology's)
//! diagnosis by taxonomy group, then a line for each older version's answer; a segmenter's
//! mask size. Read on the store thread.

use super::i18n::{Lang, T};
use super::photo_answer::PhotoAnswer;
use crate::models::ModelTask;
use crate::models::agree::{PhotoPrediction, PredictionReader};
use crate::store::Store;
use crate::store::thread::StoreThread;
use std::collections::HashMap;

/// How many classes the panel lists (the rest are one click away in `list --json`).
pub const TOP_K: usize = 3;

/// One model's answer for the photo, with its labels' names for display.
#[derive(Clone, Debug)]
pub struct ModelAnswer {
    pub p: PhotoPrediction,
    /// label key -> (English, Japanese) from the model's card.
    pub names: HashMap<String, (String, Option<String>)>,
    pub not_for_clinical_use: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Predictions {
    pub answers: Vec<ModelAnswer>,
    /// Whether the photo has a chart diagnosis to compare with.
    pub charted: bool,
}

/// Reads what the registered models said about a photo (on the store thread).
pub fn load(s: &Store, photo_id: i64) -> crate::Result<Option<Predictions>> {
    let Some(photo) = s.photo(photo_id)? else { return Ok(None) };
    let reader = PredictionReader::new(s)?;
    let found = reader.of(s, photo_id, &photo.row.hash)?;
    let charted = reader.chart_code(s, photo_id)?.is_some();
    let answers = found
        .into_iter()
        .map(|p| {
            let card = reader.card(&p.model, &p.version);
            ModelAnswer {
                names: card
                    .map(|c| c.labels.iter().map(|l| (l.key.clone(), (l.en.clone(), l.ja.clone()))).collect())
                    .unwrap_or_default(),
                not_for_clinical_use: card.is_some_and(|c| c.not_for_clinical_use),
                p,
            }
        })
        .collect();
    Ok(Some(Predictions { answers, charted }))
}

pub type PredictionPanel = PhotoAnswer<Predictions>;

impl PredictionPanel {
    pub fn show(&mut self, want: Option<i64>, store: &StoreThread) {
        self.follow(want, |id| store.ask(move |s| load(s, id)));
    }
}

fn label_name(a: &ModelAnswer, key: &str, lang: Lang) -> String {
    match (a.names.get(key), lang) {
        (Some((_, Some(ja))), Lang::Ja) => ja.clone(),
        (Some((en, _)), _) => en.clone(),
        (None, _) => key.to_owned(),
    }
}

/// The model section, inside the details panel's scroll area, under the chart section.
pub fn section(ui: &mut egui::Ui, lang: Lang, panel: &PredictionPanel, width: f32) {
    egui::CollapsingHeader::new(lang.t(T::ModelPredictions)).default_open(true).show(ui, |ui| {
        if let Some(e) = &panel.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let Some(v) = panel.value() else {
            if panel.is_loading() {
                ui.spinner();
            }
            return;
        };
        if v.answers.is_empty() {
            ui.label(lang.t(T::NoPredictionsYet));
            return;
        }
        for a in &v.answers {
            let p = &a.p;
            ui.label(egui::RichText::new(format!("{} {}", p.model, p.version)).strong());
            match p.task {
                ModelTask::Classification => classifier(ui, lang, a, v.charted, width),
                ModelTask::Segmentation => {
                    if let Some(m) = &p.mask {
                        let share = m.pixels as f64 / (m.width as f64 * m.height as f64).max(1.0);
                        ui.label(lang.f(T::ModelMaskShare, &[("p", &format!("{:.0}", share * 100.0))]));
                    }
                }
                ModelTask::Embedding => {
                    ui.label(lang.f(T::ModelEmbedding, &[("n", &p.embedding_dim.unwrap_or(0).to_string())]));
                }
            }
            if a.not_for_clinical_use {
                ui.label(egui::RichText::new(lang.t(T::NotForClinicalUse)).small().weak());
            }
            ui.add_space(4.0);
        }
    });
}

fn classifier(ui: &mut egui::Ui, lang: Lang, a: &ModelAnswer, charted: bool, width: f32) {
    let p = &a.p;
    for r in p.top.iter().flatten().take(TOP_K) {
        ui.horizontal(|ui| {
            let bar = egui::ProgressBar::new(r.p.clamp(0.0, 1.0))
                .desired_width((width * 0.35).max(60.0))
                .text(format!("{:.0}%", r.p * 100.0));
            ui.add(bar);
            let code = r.code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
            ui.add(egui::Label::new(format!("{}{code}", label_name(a, &r.label, lang))).wrap());
        });
    }
    if let Some(s) = &p.summary {
        ui.label(lang.f(
            T::ModelBenignMalignant,
            &[
                ("m", &format!("{:.0}", s.malignant * 100.0)),
                ("b", &format!("{:.0}", s.benign * 100.0)),
                ("o", &format!("{:.0}", s.other * 100.0)),
            ],
        ));
    }
    match (p.agrees_with_chart, charted) {
        (Some(true), _) => {
            ui.colored_label(egui::Color32::from_rgb(0, 114, 178), lang.t(T::ModelAgrees));
        }
        (Some(false), _) => {
            ui.colored_label(egui::Color32::from_rgb(213, 94, 0), lang.t(T::ModelDisagrees));
        }
        (None, true) => {
            ui.label(lang.t(T::ModelCannotCompare));
        }
        (None, false) => {
            ui.label(lang.t(T::NoLinkedDiagnosis));
        }
    }
    // Older versions' answers (kept per version), named with this version's label names.
    for e in &p.earlier {
        let key = match e.agrees_with_chart {
            Some(true) => T::ModelEarlierAgreed,
            Some(false) => T::ModelEarlierDisagreed,
            None => T::ModelEarlier,
        };
        let text = lang.f(
            key,
            &[("v", &e.version), ("l", &label_name(a, &e.top.label, lang)), ("p", &format!("{:.0}", e.top.p * 100.0))],
        );
        ui.add(egui::Label::new(egui::RichText::new(text).weak()).wrap());
    }
}
