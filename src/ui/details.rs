//! The details panel: what is known of the focused photo: size, capture, camera, modality and
//! where it came from, every file location, EXIF, the cue measurements, and its audit trail.
//! Read on the store thread; the panel shows a spinner until the answer is in.

use super::app::App;
use super::command::{Command, Select, modality_key};
use super::i18n::{Lang, T};
use super::photo_answer::PhotoAnswer;
use crate::modality::model::ModelWhy;
use crate::modality::{CueDetail, CueReason, Modality, ModalitySource};
use crate::store::thread::StoreThread;
use crate::store::{AuditRow, PhotoDetail};

type Loaded = (PhotoDetail, Vec<AuditRow>);

/// The photo shown, and the answer on its way.
pub type DetailsPanel = PhotoAnswer<Loaded>;

impl DetailsPanel {
    /// Shows photo `want` (asking the store when it changed).
    pub fn show(&mut self, want: Option<i64>, store: &StoreThread) {
        self.follow(want, |id| {
            store.ask(move |s| Ok(s.photo(id)?.map(|d| (d, s.audit_for_photo(id).unwrap_or_default()))))
        });
    }
}

/// Bytes as people read them: KB below a megabyte.
pub fn size_text(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{:.0} KB", (bytes as f64 / 1000.0).max(1.0))
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

/// Why the modality is what it is, in the person's language.
fn modality_reason(lang: Lang, source: ModalitySource, detail: Option<&str>) -> String {
    let detail = detail.unwrap_or("");
    match source {
        ModalitySource::Rule => lang.f(T::WhyRule, &[("p", &detail)]),
        ModalitySource::Person => lang.f(T::WhyPerson, &[("who", &detail)]),
        ModalitySource::Cue => match (CueReason::from_json(detail), CueDetail::from_json(detail)) {
            (Some(r), Some(d)) => lang.f(
                T::ModelUnsure,
                &[
                    ("why", &cue_reason(lang, r)),
                    ("m", &lang.t(modality_key(d.model_unsure.modality))),
                    ("p", &format!("{:.0}", d.model_unsure.p * 100.0)),
                ],
            ),
            (Some(r), None) => cue_reason(lang, r),
            _ => format!("{}: {detail}", lang.t(T::SourceCue)),
        },
        ModalitySource::Model => match ModelWhy::from_json(detail) {
            Some(w) => lang.f(T::WhyModel, &[("m", &w.label()), ("p", &format!("{:.0}", w.p * 100.0))]),
            None => format!("{}: {detail}", lang.t(T::SourceModel)),
        },
    }
}

pub fn cue_reason(lang: Lang, r: CueReason) -> String {
    let n = |v: f32, d: usize| format!("{v:.d$}");
    match r {
        CueReason::VisiaSize { width, height } => lang.f(T::CueVisia, &[("w", &width), ("h", &height)]),
        CueReason::TooSmall { width, height } => lang.f(T::CueTooSmall, &[("w", &width), ("h", &height)]),
        CueReason::Colourless { percent } => lang.f(T::CueColourless, &[("p", &n(percent, 0))]),
        CueReason::HAndE { blue_green, pink_percent, texture } => {
            lang.f(T::CueHAndE, &[("bg", &n(blue_green, 0)), ("pink", &n(pink_percent, 0)), ("tex", &n(texture, 1))])
        }
        CueReason::RoundField { corners_percent } => lang.f(T::CueRoundField, &[("p", &n(corners_percent, 0))]),
        CueReason::NoSkin => lang.t(T::CueNoSkin).to_owned(),
        CueReason::EvenLight { score } => lang.f(T::CueEvenLight, &[("s", &n(score, 2))]),
        CueReason::UnevenLight { score } => lang.f(T::CueUnevenLight, &[("s", &n(score, 2))]),
    }
}

/// The plain-words name of a cue measurement.
fn cue_name(key: &str) -> Option<T> {
    Some(match key {
        "grey" => T::CueGrey,
        "vig" => T::CueVig,
        "skin" => T::CueSkin,
        "skin_in" => T::CueSkinIn,
        "bmg" => T::CueBmg,
        "pink" => T::CuePink,
        "tex_nw" => T::CueTexture,
        "asym" => T::CueAsym,
        "centre_dark" => T::CueCentreDark,
        "model" => T::CueModel,
        _ => return None,
    })
}

/// The plain-words name of an audit action.
fn action_name(action: &str) -> Option<T> {
    Some(match action {
        "import" => T::ActImport,
        "location_added" => T::ActLocationAdded,
        "location_missing" => T::ActLocationMissing,
        "location_repointed" => T::ActLocationRepointed,
        "set_modality" => T::ActSetModality,
        "reset_modality" => T::ActResetModality,
        "undo_modality" => T::ActUndoModality,
        "reapply_modality" => T::ActReapplyModality,
        _ => return None,
    })
}

pub fn ui(app: &mut App, ui: &mut egui::Ui) {
    // A fixed width unless the person drags it: long paths wrap instead of widening the
    // panel and re-flowing the grid.
    egui::Panel::right("details").resizable(true).default_size(320.0).min_size(240.0).max_size(520.0).show(ui, |ui| {
        let lang = app.lang();
        let width = ui.available_width();
        ui.set_max_width(width);
        if let Some(e) = &app.details.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let Some((d, audit)) = app.details.value() else {
            ui.add_space(12.0);
            if app.details.is_loading() {
                ui.spinner();
            } else {
                ui.label(lang.t(T::NothingSelected));
            }
            return;
        };
        let r = &d.row;
        let mut push = None;
        let mut heat = None;
        egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| {
            let name = r.paths.first().or(r.missing_paths.first()).map(|p| crate::store::file_name(p)).unwrap_or("");
            ui.add(egui::Label::new(egui::RichText::new(name).heading()).truncate()).on_hover_text(name);
            egui::Grid::new("facts").num_columns(2).striped(true).max_col_width(width * 0.62).show(ui, |ui| {
                ui.label(lang.t(T::Size));
                ui.label(format!("{} × {} px, {}", r.width, r.height, size_text(r.byte_size)));
                ui.end_row();
                ui.label(lang.t(T::Format));
                ui.label(r.format.to_uppercase());
                ui.end_row();
                ui.label(lang.t(T::Captured));
                match (&r.captured_at, r.captured_source.as_deref()) {
                    (Some(at), Some("file:mtime")) => {
                        ui.colored_label(ui.visuals().warn_fg_color, lang.f(T::FileTimeOnly, &[("t", at)]))
                            .on_hover_text(lang.t(T::FileTimeHelp));
                    }
                    (Some(at), Some(src)) => {
                        ui.label(format!("{at} ({src})"));
                    }
                    _ => {
                        ui.label(lang.t(T::Undated));
                    }
                }
                ui.end_row();
                ui.label(lang.t(T::Camera));
                ui.label(
                    [r.camera_make.as_deref(), r.camera_model.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                ui.end_row();
                ui.label(lang.t(T::Orientation));
                ui.label(r.orientation.to_string());
                ui.end_row();
                ui.label(lang.t(T::Modality));
                ui.horizontal(|ui| {
                    let mut chosen = r.modality;
                    egui::ComboBox::from_id_salt("modality")
                        .selected_text(lang.t(modality_key(r.modality)))
                        .show_ui(ui, |ui| {
                            for m in Modality::ALL {
                                ui.selectable_value(&mut chosen, m, lang.t(modality_key(m)));
                            }
                        })
                        .response
                        .on_hover_text(lang.t(T::Modality));
                    if chosen != r.modality {
                        push = Some(Command::SetModality(chosen));
                    }
                    if r.modality_source == ModalitySource::Person
                        && ui.small_button(lang.t(T::ResetShort)).on_hover_text(lang.t(T::ResetModality)).clicked()
                    {
                        push = Some(Command::ResetModality);
                    }
                });
                ui.end_row();
                ui.label("");
                ui.add(
                    egui::Label::new(
                        egui::RichText::new(modality_reason(lang, r.modality_source, d.modality_detail.as_deref()))
                            .small(),
                    )
                    .wrap(),
                );
                ui.end_row();
                ui.label(lang.t(T::Hash));
                ui.label(egui::RichText::new(&r.hash[..16]).monospace()).on_hover_text(&r.hash);
                ui.end_row();
            });
            ui.add_space(6.0);
            super::chart_details::section(ui, lang, &app.chart_facts, width);
            ui.add_space(6.0);
            super::predictions::section(ui, lang, &app.predictions, width);
            heat = super::occlusion::controls(ui, lang, &app.heatmap);
            ui.add_space(6.0);
            ui.label(egui::RichText::new(lang.t(T::Locations)).strong());
            for l in &d.locations {
                let text = match &l.missing_since {
                    None => egui::RichText::new(&l.path).small(),
                    Some(t) => egui::RichText::new(format!("{} — {}", l.path, lang.f(T::MissingSince, &[("t", t)])))
                        .small()
                        .color(ui.visuals().error_fg_color),
                };
                ui.add(egui::Label::new(text).wrap());
            }
            ui.add_space(6.0);
            egui::CollapsingHeader::new(lang.t(T::Exif)).default_open(false).show(ui, |ui| {
                if d.exif.is_empty() {
                    ui.label(lang.t(T::NoExif));
                }
                egui::Grid::new("exif").num_columns(2).striped(true).show(ui, |ui| {
                    for (ifd, tag, value) in &d.exif {
                        let tag = if ifd == "thumbnail" {
                            format!("{tag} ({})", lang.t(T::ExifThumbnailIfd))
                        } else {
                            tag.clone()
                        };
                        ui.label(egui::RichText::new(tag).small());
                        ui.add(egui::Label::new(egui::RichText::new(value).small()).truncate()).on_hover_text(value);
                        ui.end_row();
                    }
                });
            });
            if let Some(serde_json::Value::Object(cues)) = &d.cues {
                egui::CollapsingHeader::new(lang.t(T::Cues)).show(ui, |ui| {
                    egui::Grid::new("cues").num_columns(2).show(ui, |ui| {
                        for (k, v) in cues {
                            let name = cue_name(k).map(|t| lang.t(t)).unwrap_or(k);
                            ui.label(egui::RichText::new(name).small()).on_hover_text(k);
                            let guess = serde_json::from_value::<crate::modality::ModelGuess>(v.clone()).ok();
                            let v = match (v.as_f64(), guess) {
                                (Some(f), _) => format!("{f:.3}"),
                                (None, Some(g)) => format!("{} {:.0}%", lang.t(modality_key(g.modality)), g.p * 100.0),
                                _ => v.to_string(),
                            };
                            ui.label(egui::RichText::new(v).small().monospace());
                            ui.end_row();
                        }
                    });
                });
            }
            egui::CollapsingHeader::new(lang.t(T::History)).show(ui, |ui| {
                for a in audit {
                    let action = action_name(&a.action).map(|t| lang.t(t)).unwrap_or(&a.action);
                    let line = format!("{} {} {action}: {}", a.at, a.actor, a.detail);
                    ui.add(egui::Label::new(egui::RichText::new(line).small()).wrap());
                }
            });
        });
        if let Some(cmd) = push {
            // The change is made to the photo shown here: focus and selection move to it.
            if let Some(i) = app.grid.position_near(r.id, app.focus) {
                app.push(Command::Focus { index: i, select: Select::Only });
            }
            app.push(cmd);
        }
        if let Some(cmd) = heat {
            app.push(cmd);
        }
    });
}
