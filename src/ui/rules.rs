//! The modality rule editor: folder-name patterns, in order, first match wins. The rules are
//! read and saved on the store thread; a list that could not be read is never shown as an
//! empty one, and Save is only offered over the list that was read.

use super::app::{App, Overlay};
use super::command::{Command, modality_key};
use super::i18n::T;
use crate::modality::{Modality, Rule};
use crate::store::thread::{Pending, StoreThread};

type Read = (Vec<Rule>, Vec<(u32, u32)>);

#[derive(Default)]
pub struct RulesPanel {
    reading: Option<Pending<Read>>,
    /// The list being edited: present only once the stored list was read.
    draft: Option<Vec<Rule>>,
    visia: String,
    error: Option<String>,
    saving: Option<Pending<usize>>,
    /// Closes once the save is through.
    close_after_save: bool,
}

impl RulesPanel {
    /// Forgets the draft; the next frame reads the stored rules again.
    pub fn reset(&mut self) {
        *self = RulesPanel::default();
    }

    pub fn is_busy(&self) -> bool {
        self.reading.is_some() || self.saving.is_some()
    }

    /// Saves the rules being edited (and the VISIA sizes), then re-decides the modality of
    /// photos not set by hand; closes once that is through. Nothing is saved unless the
    /// stored list was read first (a list that failed to read is never saved over).
    pub fn save(&mut self, store: &StoreThread) -> Result<(), String> {
        let Some(rules) = self.draft.clone() else { return Ok(()) };
        if self.saving.is_some() {
            return Ok(());
        }
        // Empty patterns (a rule added and never written) are dropped, not saved.
        let rules: Vec<Rule> = rules.into_iter().filter(|r| !r.pattern.trim().is_empty()).collect();
        let sizes = crate::modality::parse_sizes(&self.visia).map_err(|e| e.to_string())?;
        self.saving = Some(store.ask(move |s| {
            s.set_visia_sizes(&sizes)?;
            s.set_rules(&rules)?;
            s.reapply_modality()
        }));
        self.close_after_save = true;
        Ok(())
    }

    pub fn poll(&mut self, _store: &StoreThread) {
        if let Some(p) = &self.reading
            && p.ready().is_some()
        {
            match self.reading.take().expect("checked").block_and_take() {
                Ok((rules, sizes)) => {
                    self.draft = Some(rules);
                    self.visia = crate::modality::format_sizes(&sizes);
                    self.error = None;
                }
                Err(e) => self.error = Some(e),
            }
        }
    }
}

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    let panel = &mut app.rules;
    if panel.draft.is_none() && panel.reading.is_none() && panel.error.is_none() {
        panel.reading = Some(app.store.ask(|s| Ok((s.rules()?, s.visia_sizes()?))));
    }
    let mut saved = None;
    if let Some(p) = &panel.saving
        && p.ready().is_some()
    {
        saved = Some(panel.saving.take().expect("checked").block_and_take());
    }
    let mut open = true;
    let mut save = false;
    let mut cancel = false;
    let mut retry = false;
    egui::Window::new(lang.t(T::ModalityRules)).open(&mut open).default_width(640.0).min_width(600.0).show(ctx, |ui| {
        ui.label(egui::RichText::new(lang.t(T::RulesHelp)).small());
        ui.separator();
        if let Some(e) = &panel.error {
            ui.colored_label(ui.visuals().error_fg_color, lang.f(T::RulesUnreadable, &[("e", e)]));
            retry = ui.button(lang.t(T::Retry)).clicked();
            return;
        }
        let Some(rules) = panel.draft.as_mut() else {
            ui.spinner();
            return;
        };
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
        if let Some(i) = up {
            rules.swap(i, i - 1);
        }
        if let Some(i) = remove {
            rules.remove(i);
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            ui.label(lang.t(T::VisiaSizes));
            ui.add(egui::TextEdit::singleline(&mut panel.visia).hint_text("3456x5184, …").desired_width(220.0))
                .on_hover_text(lang.t(T::VisiaSizes));
        });
        ui.add_space(6.0);
        ui.label(egui::RichText::new(lang.t(T::RulesSaveHelp)).small());
        ui.horizontal(|ui| {
            // A new rule starts switched off: it changes nothing until the person has
            // written its pattern and turned it on.
            if ui.button(lang.t(T::Add)).clicked() {
                rules.push(Rule { id: 0, pattern: String::new(), modality: Modality::Clinical, enabled: false });
            }
            ui.separator();
            if panel.saving.is_some() {
                ui.spinner();
            } else {
                save = ui.button(lang.t(T::Save)).clicked();
            }
            cancel = ui.button(lang.t(T::Cancel)).clicked();
        });
    });
    if retry {
        panel.reset();
    }
    if save {
        app.push(Command::SaveRules);
    }
    match saved {
        Some(Ok(n)) => {
            app.notify(lang.f(T::RulesSaved, &[("n", &n)]), false);
            if app.rules.close_after_save {
                app.rules.reset();
                app.push(Command::CloseOverlay(Overlay::Rules));
            }
            app.refresh();
        }
        Some(Err(e)) => app.notify(e, true),
        None => {}
    }
    if cancel || !open {
        app.rules.reset();
        app.push(Command::CloseOverlay(Overlay::Rules));
    }
}
