//! The Add-folder window: a path field (typed, pasted, or filled by the system's folder
//! picker) and an Import button. The field matters where no picker is available (a Linux
//! desktop without a portal) and for network shares people copy from elsewhere. Whether the
//! path is a folder is asked on a background thread: a stalled network share must not
//! freeze the window.

use super::app::{App, Overlay};
use super::command::Command;
use super::i18n::T;
use poll_promise::Promise;
use std::path::PathBuf;

#[derive(Default)]
pub struct AddFolderPanel {
    pub path: String,
    /// Frames left in which the field asks for the keyboard (see `ui`).
    focus_frames: u8,
    /// The path being checked, and the answer.
    checking: Option<(String, Promise<bool>)>,
    checked: Option<(String, bool)>,
}

impl AddFolderPanel {
    pub fn opened(&mut self) {
        self.focus_frames = 3;
    }

    pub fn set_path(&mut self, path: String) {
        self.path = path;
    }

    /// The answer for the text as it is now, if it has come.
    pub fn checked_now(&self) -> Option<bool> {
        self.checked.as_ref().filter(|(asked, _)| *asked == self.path.trim()).map(|(_, a)| *a)
    }

    /// Whether the typed path is a folder: Some once known for this very text.
    fn is_folder(&mut self) -> Option<bool> {
        let text = self.path.trim().to_owned();
        if let Some((asked, p)) = &self.checking
            && let Some(&answer) = p.ready()
        {
            self.checked = Some((asked.clone(), answer));
            self.checking = None;
        }
        match &self.checked {
            Some((asked, answer)) if *asked == text => return Some(*answer),
            _ => {}
        }
        if self.checking.as_ref().is_none_or(|(asked, _)| *asked != text) {
            let p = PathBuf::from(&text);
            self.checking = Some((text, Promise::spawn_thread("folder-check", move || p.is_dir())));
        }
        None
    }
}

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    let mut open = true;
    let mut import = None;
    let mut close = false;
    let mut browse = false;
    let panel = &mut app.add;
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
                    ui.add(egui::TextEdit::singleline(&mut panel.path).desired_width(340.0)).labelled_by(label.id);
                // Ready to type or paste as soon as the window opens. Asked for over the first few
                // frames: a new window is invisible on its first (measuring) frame, and focus given
                // to an invisible widget is dropped again.
                if panel.focus_frames > 0 {
                    field.request_focus();
                    panel.focus_frames -= 1;
                }
                enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                browse = ui.button(lang.t(T::Browse)).clicked();
            });
            let has_text = !panel.path.trim().is_empty();
            let folder = if has_text { panel.is_folder() } else { None };
            let path = PathBuf::from(panel.path.trim());
            if enter && folder == Some(true) {
                import = Some(path.clone());
            }
            match folder {
                Some(false) => {
                    ui.colored_label(ui.visuals().error_fg_color, lang.t(T::NotAFolder));
                }
                None if has_text => {
                    ui.spinner();
                }
                _ => {}
            }
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if ui.add_enabled(folder == Some(true), egui::Button::new(lang.t(T::Import))).clicked() {
                    import = Some(path.clone());
                }
                close = ui.button(lang.t(T::Cancel)).clicked();
            });
        });
    if app.add.checking.is_some() {
        ctx.request_repaint_after(std::time::Duration::from_millis(50));
    }
    if browse {
        app.push(Command::BrowseFolder);
    }
    if let Some(p) = import {
        app.push(Command::Import(vec![p]));
        app.add.path.clear();
        close = true;
    }
    if close || !open {
        app.push(Command::CloseOverlay(Overlay::AddFolder));
    }
}
