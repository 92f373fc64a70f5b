//! The modality rule editor: folder-name patterns, in order, first match wins.

use super::app::App;
use super::command::modality_key;
use super::i18n::T;
use crate::modality::{Modality, Rule};

pub fn ui(app: &mut App, ctx: &egui::Context) {
    if !app.show_rules {
        return;
    }
    if app.rules_draft.is_none() {
        app.rules_draft = Some(app.store.rules().unwrap_or_default());
        app.visia_draft = crate::modality::format_sizes(&app.store.visia_sizes().unwrap_or_default());
    }
    let lang = app.lang();
    let mut open = true;
    let mut save = false;
    let mut cancel = false;
    egui::Window::new(lang.t(T::ModalityRules)).open(&mut open).default_width(600.0).min_width(560.0).show(ctx, |ui| {
        ui.label(egui::RichText::new(lang.t(T::RulesHelp)).small());
        ui.separator();
        let Some(rules) = app.rules_draft.as_mut() else { return };
        let mut remove = None;
        let mut up = None;
        egui::Grid::new("rules-grid").num_columns(5).striped(true).show(ui, |ui| {
            ui.label(lang.t(T::Enabled));
            ui.label(lang.t(T::Pattern));
            ui.label(lang.t(T::Modality));
            ui.label("");
            ui.label("");
            ui.end_row();
            for (i, r) in rules.iter_mut().enumerate() {
                ui.checkbox(&mut r.enabled, "").on_hover_text(lang.t(T::Enabled));
                ui.add(
                    egui::TextEdit::singleline(&mut r.pattern).desired_width(200.0).min_size(egui::vec2(200.0, 0.0)),
                )
                .on_hover_text(lang.t(T::Pattern));
                egui::ComboBox::from_id_salt(("rule-modality", i))
                    .selected_text(lang.t(modality_key(r.modality)))
                    .show_ui(ui, |ui| {
                        for m in Modality::ALL {
                            ui.selectable_value(&mut r.modality, m, lang.t(modality_key(m)));
                        }
                    })
                    .response
                    .on_hover_text(lang.t(T::Modality));
                if i > 0 && ui.small_button("↑").clicked() {
                    up = Some(i);
                }
                if i == 0 {
                    ui.label("");
                }
                if ui.small_button(lang.t(T::Remove)).clicked() {
                    remove = Some(i);
                }
                ui.end_row();
            }
        });
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            ui.label(lang.t(T::VisiaSizes));
            ui.add(egui::TextEdit::singleline(&mut app.visia_draft).hint_text("3456x5184, …").desired_width(220.0))
                .on_hover_text(lang.t(T::VisiaSizes));
        });
        let Some(rules) = app.rules_draft.as_mut() else { return };
        if let Some(i) = up {
            rules.swap(i, i - 1);
        }
        if let Some(i) = remove {
            rules.remove(i);
        }
        ui.horizontal(|ui| {
            if ui.button(lang.t(T::Add)).clicked() {
                rules.push(Rule { id: 0, pattern: "*".into(), modality: Modality::Clinical, enabled: true });
            }
            ui.separator();
            save = ui.button(lang.t(T::Save)).clicked();
            cancel = ui.button(lang.t(T::Cancel)).clicked();
        });
    });
    if save && let Some(rules) = app.rules_draft.clone() {
        let saved = crate::modality::parse_sizes(&app.visia_draft)
            .and_then(|sizes| app.store.set_visia_sizes(&sizes))
            .and_then(|_| app.store.set_rules(&rules))
            .and_then(|_| app.store.reapply_modality());
        match saved {
            Ok(n) => {
                app.notify(format!("{} ({n})", lang.t(T::RulesSaved)), false);
                app.show_rules = false;
                app.rules_draft = None;
                app.refresh();
            }
            Err(e) => app.notify(e.to_string(), true),
        }
    }
    if cancel || !open {
        app.show_rules = false;
        app.rules_draft = None;
    }
}
