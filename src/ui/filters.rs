//! The filter panel: modality, capture date range, file status, path text, sort.

use super::app::App;
use super::command::{Command, modality_key};
use super::i18n::T;
use crate::modality::Modality;
use crate::store::{SortKey, StatusFilter};
use std::time::Instant;

/// Empty, or a date the store's filter accepts (the same check, so a date shown as valid
/// never fails the query).
fn valid_date(s: &str) -> bool {
    s.trim().is_empty() || crate::store::check_date(s).is_ok()
}

pub fn ui(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::left("filters").resizable(true).default_size(210.0).show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            let lang = app.lang();
            ui.heading(lang.t(T::Filters));
            ui.add_space(4.0);
            let mut changed = false;

            ui.label(egui::RichText::new(lang.t(T::Modality)).strong());
            for m in Modality::ALL {
                let mut on = app.state.filter.modalities.contains(&m);
                let n = app.modality_counts.get(m.as_str()).copied().unwrap_or(0);
                let text = format!("{} ({n})", lang.t(modality_key(m)));
                if ui.checkbox(&mut on, text).changed() {
                    if on {
                        app.state.filter.modalities.push(m);
                        app.state.filter.modalities.sort();
                    } else {
                        app.state.filter.modalities.retain(|x| *x != m);
                    }
                    changed = true;
                }
            }
            ui.add_space(8.0);

            let from_label = ui.label(egui::RichText::new(lang.t(T::CapturedFrom)).strong());
            let from = ui
                .add(
                    egui::TextEdit::singleline(&mut app.date_text.0)
                        .hint_text(lang.t(T::DateHint))
                        .desired_width(120.0),
                )
                .labelled_by(from_label.id);
            let to_label = ui.label(lang.t(T::CapturedTo));
            let to = ui
                .add(
                    egui::TextEdit::singleline(&mut app.date_text.1)
                        .hint_text(lang.t(T::DateHint))
                        .desired_width(120.0),
                )
                .labelled_by(to_label.id);
            let ok = valid_date(&app.date_text.0) && valid_date(&app.date_text.1);
            if !ok {
                ui.colored_label(ui.visuals().error_fg_color, lang.t(T::BadDate));
            }
            if (from.changed() || to.changed()) && ok {
                let norm = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
                app.state.filter.from = norm(&app.date_text.0);
                app.state.filter.to = norm(&app.date_text.1);
                changed = true;
            }
            ui.add_space(8.0);

            ui.label(egui::RichText::new(lang.t(T::Status)).strong());
            for (s, key) in [
                (StatusFilter::All, T::StatusAll),
                (StatusFilter::Present, T::StatusPresent),
                (StatusFilter::Missing, T::StatusMissing),
            ] {
                if ui.radio_value(&mut app.state.filter.status, s, lang.t(key)).changed() {
                    changed = true;
                }
            }
            ui.add_space(8.0);

            let search_label = ui.label(egui::RichText::new(lang.t(T::PathContains)).strong());
            let search = ui
                .add(egui::TextEdit::singleline(&mut app.path_text).desired_width(f32::INFINITY))
                .labelled_by(search_label.id);
            if app.focus_search {
                search.request_focus();
                app.focus_search = false;
            }
            if search.changed() {
                app.path_edited = Some(Instant::now());
            }
            ui.add_space(8.0);

            ui.label(egui::RichText::new(lang.t(T::SortBy)).strong());
            let sorts = [
                (SortKey::Captured, T::SortCaptured),
                (SortKey::Imported, T::SortImported),
                (SortKey::Name, T::SortName),
                (SortKey::Pixels, T::SortPixels),
                (SortKey::Modality, T::SortModality),
            ];
            let current =
                sorts.iter().find(|(k, _)| *k == app.state.filter.sort).map(|(_, t)| lang.t(*t)).unwrap_or("");
            egui::ComboBox::from_id_salt("sort")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for (k, t) in sorts {
                        if ui.selectable_value(&mut app.state.filter.sort, k, lang.t(t)).changed() {
                            changed = true;
                        }
                    }
                })
                .response
                .on_hover_text(lang.t(T::SortBy));
            if ui.checkbox(&mut app.state.filter.descending, lang.t(T::Descending)).changed() {
                changed = true;
            }
            ui.add_space(12.0);
            if ui.button(lang.t(T::ClearFilters)).clicked() {
                app.push(Command::ClearFilters);
            }
            if changed {
                app.refresh();
            }
        });
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert!(super::valid_date(""));
        assert!(super::valid_date("2012"));
        assert!(super::valid_date("2012-03"));
        assert!(super::valid_date("2012-03-04"));
        assert!(!super::valid_date("2012-3-4"));
        assert!(!super::valid_date("soon"));
        assert!(!super::valid_date("2012-13-01"), "the store's own check: the query would refuse it");
    }
}
