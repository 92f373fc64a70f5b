//! Help: every keyboard shortcut, from the same table the keys are read from.

use super::app::{App, Overlay};
use super::command::Command;
use super::i18n::T;

/// Keys that belong to the grid or the viewer rather than to one command.
const KEYS: &[(&str, T)] = &[
    ("← → ↑ ↓, Page Up/Down, Home/End", T::KeyMove),
    ("Shift + ←→↑↓", T::KeyExtend),
    ("Ctrl + ←→↑↓, Ctrl + Space", T::KeyCtrlMove),
    ("Space", T::KeyToggle),
    ("Enter", T::KeyOpen),
    ("Esc", T::KeyEsc),
    ("+ / −", T::KeyZoom),
    ("0 / 1", T::KeyFit),
    ("↑ ↓, ← →, Enter, U", T::KeyLinkQueue),
    ("→ ↓ / ↑", T::KeyPrivacyStep),
    ("Enter, Backspace, Esc", T::KeyPvPolygon),
    ("Drag, Esc, Backspace", T::KeyPvHandles),
];

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    let mut open = true;
    let height = ctx.content_rect().height() * 0.8;
    egui::Window::new(lang.t(T::Shortcuts)).open(&mut open).default_width(520.0).show(ctx, |ui| {
        // The list is longer than a laptop's screen: it scrolls.
        egui::ScrollArea::vertical().max_height(height).show(ui, |ui| {
            egui::Grid::new("shortcuts").num_columns(2).striped(true).show(ui, |ui| {
                for cmd in Command::palette() {
                    if let Some(sc) = cmd.shortcut() {
                        ui.label(egui::RichText::new(ctx.format_shortcut(&sc)).monospace());
                        ui.label(cmd.label(lang));
                        ui.end_row();
                    }
                }
                for (keys, what) in KEYS {
                    ui.label(egui::RichText::new(*keys).monospace());
                    ui.label(lang.t(*what));
                    ui.end_row();
                }
            });
        });
    });
    if !open {
        app.push(Command::CloseOverlay(Overlay::Help));
    }
}
