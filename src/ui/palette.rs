//! The command palette: every command, searchable in either language, with its shortcut.

use super::app::{App, Overlay};
use super::command::Command;
use super::i18n::{Lang, T};

#[derive(Default)]
pub struct PalettePanel {
    pub query: String,
}

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    let q = app.palette.query.to_lowercase();
    let matches: Vec<Command> = Command::palette()
        .into_iter()
        .filter(|c| {
            q.is_empty()
                || c.label(lang).to_lowercase().contains(&q)
                || c.label(Lang::En).to_lowercase().contains(&q)
                || c.label(Lang::Ja).contains(&q)
        })
        .collect();
    let mut run = None;
    let modal = egui::Modal::new(egui::Id::unique("palette")).show(ctx, |ui| {
        ui.set_width(420.0);
        let title = ui.strong(lang.t(T::CommandPalette));
        let edit = ui
            .add(
                egui::TextEdit::singleline(&mut app.palette.query)
                    .hint_text(lang.t(T::PaletteHint))
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(title.id);
        edit.request_focus();
        if ui.input(|i| i.key_pressed(egui::Key::Enter))
            && let Some(first) = matches.first()
        {
            run = Some(first.clone());
        }
        ui.separator();
        egui::ScrollArea::vertical().max_height(360.0).show(ui, |ui| {
            for c in &matches {
                // Every entry gets a shortcut column (empty when it has none), so the labels all
                // line up on the left instead of centring.
                let keys = c.shortcut().map(|sc| ui.ctx().format_shortcut(&sc)).unwrap_or_default();
                let b = egui::Button::new(c.label(lang)).frame(false).shortcut_text(keys);
                if ui.add_sized([ui.available_width(), 22.0], b).clicked() {
                    run = Some(c.clone());
                }
            }
        });
    });
    // Esc is the app's (it closes the topmost window); a click outside closes it too.
    if modal.should_close() {
        app.push(Command::CloseOverlay(Overlay::Palette));
    }
    if let Some(c) = run {
        app.push(Command::CloseOverlay(Overlay::Palette));
        if c != Command::ToggleCommandPalette {
            app.push(c);
        }
    }
}
