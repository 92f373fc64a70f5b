//! The details panel: what is known of the focused photo: size, capture, camera, modality and
//! where it came from, every file location, EXIF, the cue measurements, and its audit trail.

use super::app::App;
use super::command::{Command, modality_key};
use super::i18n::T;
use crate::modality::{Modality, ModalitySource};

pub fn ui(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::right("details").resizable(true).default_size(320.0).min_size(220.0).max_size(480.0).show(ui, |ui| {
        let lang = app.lang();
        let Some((d, audit)) = &app.detail else {
            ui.add_space(12.0);
            ui.label(lang.t(T::NothingSelected));
            return;
        };
        let r = &d.row;
        let mut push = None;
        egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| {
            let name = r.paths.first().or(r.missing_paths.first()).map(|p| crate::store::file_name(p)).unwrap_or("");
            ui.heading(name);
            egui::Grid::new("facts").num_columns(2).striped(true).show(ui, |ui| {
                ui.label(lang.t(T::Size));
                ui.label(format!("{} × {} px, {:.1} MB", r.width, r.height, r.byte_size as f64 / 1e6));
                ui.end_row();
                ui.label(lang.t(T::Format));
                ui.label(r.format.to_uppercase());
                ui.end_row();
                ui.label(lang.t(T::Captured));
                ui.label(match (&r.captured_at, &r.captured_source) {
                    (Some(at), Some(src)) => format!("{at} ({src})"),
                    _ => lang.t(T::Undated).to_owned(),
                });
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
                        push = Some(chosen);
                    }
                });
                ui.end_row();
                ui.label("");
                let source = match r.modality_source {
                    ModalitySource::Rule => T::SourceRule,
                    ModalitySource::Cue => T::SourceCue,
                    ModalitySource::Person => T::SourcePerson,
                };
                let detail = d.modality_detail.as_deref().map(|s| format!(": {s}")).unwrap_or_default();
                ui.label(egui::RichText::new(format!("{}{detail}", lang.t(source))).small());
                ui.end_row();
                ui.label(lang.t(T::Hash));
                ui.label(egui::RichText::new(&r.hash[..16]).monospace()).on_hover_text(&r.hash);
                ui.end_row();
            });
            ui.add_space(6.0);
            ui.label(egui::RichText::new(lang.t(T::Locations)).strong());
            for l in &d.locations {
                match &l.missing_since {
                    None => {
                        ui.label(egui::RichText::new(&l.path).small());
                    }
                    Some(t) => {
                        ui.colored_label(
                            ui.visuals().error_fg_color,
                            egui::RichText::new(format!("{} — {}", l.path, lang.f(T::MissingSince, &[("t", t)])))
                                .small(),
                        );
                    }
                }
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
                        ui.label(egui::RichText::new(value).small());
                        ui.end_row();
                    }
                });
            });
            if let Some(serde_json::Value::Object(cues)) = &d.cues {
                egui::CollapsingHeader::new(lang.t(T::Cues)).show(ui, |ui| {
                    egui::Grid::new("cues").num_columns(2).show(ui, |ui| {
                        for (k, v) in cues {
                            ui.label(egui::RichText::new(k).small());
                            let v = v.as_f64().map(|f| format!("{f:.3}")).unwrap_or_else(|| v.to_string());
                            ui.label(egui::RichText::new(v).small().monospace());
                            ui.end_row();
                        }
                    });
                });
            }
            egui::CollapsingHeader::new(lang.t(T::History)).show(ui, |ui| {
                for a in audit {
                    ui.label(egui::RichText::new(format!("{} {} {}: {}", a.at, a.actor, a.action, a.detail)).small());
                }
            });
        });
        if let Some(m) = push {
            let id = r.id;
            app.selection.clear();
            app.selection.insert(id);
            app.push(Command::SetModality(m));
        }
    });
}
