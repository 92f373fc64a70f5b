//! The filter panel: modality, capture period, file dates, file status, path text, sort.

use super::app::App;
use super::command::{Command, modality_key};
use super::i18n::T;
use crate::modality::Modality;
use crate::store::{Period, PhotoFilter, SortKey, StatusFilter};
use std::time::{Duration, Instant};

/// What the panel holds between frames: the text typed in its fields (which may not be a
/// valid filter yet) and when the path text last changed.
#[derive(Default)]
pub struct FiltersPanel {
    pub from: String,
    pub to: String,
    pub path: String,
    path_edited: Option<Instant>,
    pub focus_search: bool,
    /// Registered classifiers, offered by the "model disagrees with chart" filter.
    pub classifiers: Vec<String>,
}

impl FiltersPanel {
    pub fn new(f: &PhotoFilter) -> FiltersPanel {
        FiltersPanel {
            from: f.from.clone().unwrap_or_default(),
            to: f.to.clone().unwrap_or_default(),
            path: f.path_contains.clone(),
            ..Default::default()
        }
    }

    /// Adds classifiers that have appeared (a model run names them), keeping the list sorted.
    pub fn add_classifiers<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        for n in names {
            if !self.classifiers.iter().any(|c| c == n) {
                self.classifiers.push(n.to_owned());
            }
        }
        self.classifiers.sort();
    }

    /// The path text, once typing has paused (a query per keystroke over a million paths
    /// would queue work nobody waits for).
    pub fn debounced_path(&mut self) -> Option<String> {
        let t = self.path_edited?;
        if t.elapsed() < Duration::from_millis(250) {
            return None;
        }
        self.path_edited = None;
        Some(self.path.clone())
    }
}

/// A date field's text as the filter reads it: empty (no bound), a period, or refused.
fn read_date(s: &str) -> Result<Option<String>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    Period::parse(s).map(|_| Some(s.to_owned())).map_err(|e| e.to_string())
}

pub fn ui(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::left("filters").resizable(true).default_size(210.0).show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            let lang = app.lang();
            ui.heading(lang.t(T::Filters));
            ui.add_space(4.0);
            let mut f = app.state.filter.clone();

            ui.label(egui::RichText::new(lang.t(T::Modality)).strong());
            for m in Modality::ALL {
                let mut on = f.modalities.contains(&m);
                let n = app.grid.counts.get(m.as_str()).copied().unwrap_or(0);
                let text = format!("{} ({n})", lang.t(modality_key(m)));
                if ui.checkbox(&mut on, text).changed() {
                    if on {
                        f.modalities.push(m);
                        f.modalities.sort();
                    } else {
                        f.modalities.retain(|x| *x != m);
                    }
                }
            }
            ui.add_space(8.0);

            // A date that is not one (2006-02-30, 2006-0) is refused where it is typed, and
            // the bound is then off: the grid never keeps a filter from an earlier keystroke.
            let panel = &mut app.filters;
            for (label, text, bound) in
                [(T::CapturedFrom, &mut panel.from, &mut f.from), (T::CapturedTo, &mut panel.to, &mut f.to)]
            {
                let l = ui.label(egui::RichText::new(lang.t(label)).strong());
                ui.add(egui::TextEdit::singleline(text).hint_text(lang.t(T::DateHint)).desired_width(120.0))
                    .labelled_by(l.id);
                match read_date(text) {
                    Ok(v) => *bound = v,
                    Err(_) => {
                        *bound = None;
                        ui.colored_label(ui.visuals().error_fg_color, lang.t(T::BadDate));
                    }
                }
            }
            ui.checkbox(&mut f.file_dates, lang.t(T::UseFileDates)).on_hover_text(lang.t(T::UseFileDatesHelp));
            ui.add_space(8.0);

            ui.label(egui::RichText::new(lang.t(T::Status)).strong());
            for (s, key) in [
                (StatusFilter::All, T::StatusAll),
                (StatusFilter::Present, T::StatusPresent),
                (StatusFilter::Missing, T::StatusMissing),
            ] {
                ui.radio_value(&mut f.status, s, lang.t(key));
            }
            ui.add_space(8.0);

            let search_label = ui.label(egui::RichText::new(lang.t(T::PathContains)).strong());
            let search = ui
                .add(egui::TextEdit::singleline(&mut app.filters.path).desired_width(f32::INFINITY))
                .labelled_by(search_label.id);
            if app.filters.focus_search {
                search.request_focus();
                app.filters.focus_search = false;
            }
            if search.changed() {
                app.filters.path_edited = Some(Instant::now());
            }
            ui.add_space(8.0);

            // The demo classifier first, or the first registered one; any other from the list.
            let mut disagree = f.disagrees_with.is_some();
            if ui.checkbox(&mut disagree, lang.t(T::ModelDisagreesFilter)).changed() {
                let first = app.filters.classifiers.iter().find(|n| *n == crate::models::DEMO_CLASSIFIER);
                let first = first.or(app.filters.classifiers.first());
                f.disagrees_with =
                    disagree.then(|| first.cloned().unwrap_or_else(|| crate::models::DEMO_CLASSIFIER.to_owned()));
            }
            if let Some(model) = &mut f.disagrees_with {
                egui::ComboBox::from_id_salt("disagrees_with")
                    .selected_text(model.as_str())
                    .width(ui.available_width())
                    .show_ui(ui, |ui| {
                        for name in &app.filters.classifiers {
                            ui.selectable_value(model, name.clone(), name.as_str());
                        }
                    })
                    .response
                    .on_hover_text(lang.t(T::ModelDisagreesFilterHelp));
            }
            // Set from the Models window's comparison; unticked here, it goes.
            if let Some(v) = &f.changed_between {
                let mut on = true;
                let text = lang.f(T::ChangedBetweenFilter, &[("m", &v.model), ("a", &v.from), ("b", &v.to)]);
                if ui.checkbox(&mut on, text).changed() && !on {
                    f.changed_between = None;
                }
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
            let current = sorts.iter().find(|(k, _)| *k == f.sort).map(|(_, t)| lang.t(*t)).unwrap_or("");
            egui::ComboBox::from_id_salt("sort")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for (k, t) in sorts {
                        ui.selectable_value(&mut f.sort, k, lang.t(t));
                    }
                })
                .response
                .on_hover_text(lang.t(T::SortBy));
            ui.checkbox(&mut f.descending, lang.t(T::Descending));
            ui.add_space(12.0);
            if ui.button(lang.t(T::ClearFilters)).clicked() {
                app.push(Command::ClearFilters);
            } else if f != app.state.filter {
                app.push(Command::SetFilter(Box::new(f)));
            }
        });
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_whole_periods_or_refused() {
        assert_eq!(super::read_date(""), Ok(None));
        assert_eq!(super::read_date(" 2012 "), Ok(Some("2012".into())));
        assert_eq!(super::read_date("2012-03"), Ok(Some("2012-03".into())));
        assert!(super::read_date("2012-3-4").is_err());
        assert!(super::read_date("2006-02-30").is_err(), "an impossible date is refused");
        assert!(super::read_date("soon").is_err());
    }
}
