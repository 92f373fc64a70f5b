//! The Add-folder window: a path field (typed, pasted, or filled by the system's folder
//! picker) and an Import button. The field matters where no picker is available (a Linux
//! desktop without a portal) and for network shares people copy from elsewhere.

use super::app::App;
use super::command::Command;
use super::i18n::T;
use std::path::PathBuf;

pub fn ui(app: &mut App, ctx: &egui::Context) {
    if !app.show_add {
        return;
    }
    let lang = app.lang();
    let mut open = true;
    let mut import = None;
    egui::Window::new(lang.t(T::AddFolder).trim_end_matches('…'))
        .open(&mut open)
        .collapsible(false)
        .default_width(520.0)
        .show(ctx, |ui| {
            ui.label(egui::RichText::new(lang.t(T::AddFolderHelp)).small());
            ui.add_space(6.0);
            let mut enter = false;
            ui.horizontal(|ui| {
                let label = ui.label(lang.t(T::FolderPath));
                let field =
                    ui.add(egui::TextEdit::singleline(&mut app.add_path).desired_width(340.0)).labelled_by(label.id);
                // Ready to type or paste as soon as the window opens. Asked for over the first few
                // frames: a new window is invisible on its first (measuring) frame, and focus given
                // to an invisible widget is dropped again.
                if app.add_focus > 0 {
                    field.request_focus();
                    app.add_focus -= 1;
                }
                enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if ui.button(lang.t(T::Browse)).clicked() {
                    app.push(Command::BrowseFolder);
                }
            });
            // Checked after the field took this frame's typing, so the button is never a frame behind.
            let path = PathBuf::from(app.add_path.trim());
            let valid = !app.add_path.trim().is_empty() && path.is_dir();
            if enter && valid {
                import = Some(path.clone());
            }
            if !app.add_path.trim().is_empty() && !valid {
                ui.colored_label(ui.visuals().error_fg_color, lang.t(T::NotAFolder));
            }
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui.add_enabled(valid, egui::Button::new(lang.t(T::Import))).clicked() {
                    import = Some(path.clone());
                }
                if ui.button(lang.t(T::Cancel)).clicked() {
                    app.show_add = false;
                }
            });
        });
    if let Some(p) = import {
        app.push(Command::Import(vec![p]));
        app.show_add = false;
        app.add_path.clear();
    }
    if !open {
        app.show_add = false;
    }
}
