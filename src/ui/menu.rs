//! The menu bar. Every entry is a `Command`.

use super::app::App;
use super::command::Command;
use super::i18n::{Lang, T};
use crate::modality::Modality;

fn item(app: &mut App, ui: &mut egui::Ui, cmd: Command) {
    let mut button = egui::Button::new(cmd.label(app.lang()));
    if let Some(sc) = cmd.shortcut() {
        button = button.shortcut_text(ui.ctx().format_shortcut(&sc));
    }
    if ui.add(button).clicked() {
        app.push(cmd);
    }
}

pub fn ui(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button(app.t(T::MenuFile), |ui| {
                item(app, ui, Command::AddFolder);
                item(app, ui, Command::ResumeImports);
                item(app, ui, Command::MakeThumbnails);
                ui.separator();
                item(app, ui, Command::ToggleImportLog);
                ui.separator();
                item(app, ui, Command::Quit);
            });
            ui.menu_button(app.t(T::MenuView), |ui| {
                item(app, ui, Command::ToggleFilters);
                item(app, ui, Command::ToggleDetails);
                item(app, ui, Command::LargerThumbs);
                item(app, ui, Command::SmallerThumbs);
                item(app, ui, Command::Refresh);
                ui.separator();
                ui.menu_button(app.t(T::Language), |ui| {
                    for (lang, name) in [(Lang::En, "English"), (Lang::Ja, "日本語")] {
                        if ui.radio(app.lang() == lang, name).clicked() {
                            app.push(Command::SetLanguage(lang));
                        }
                    }
                });
            });
            ui.menu_button(app.t(T::MenuPhoto), |ui| {
                item(app, ui, Command::OpenFocused);
                item(app, ui, Command::Annotate);
                item(app, ui, Command::ToggleReviewQueue);
                ui.separator();
                item(app, ui, Command::ScreenPhotos);
                item(app, ui, Command::TogglePrivacyReview);
                ui.separator();
                item(app, ui, Command::SelectAll);
                item(app, ui, Command::ClearSelection);
                ui.separator();
                for m in Modality::ALL {
                    item(app, ui, Command::SetModality(m));
                }
                item(app, ui, Command::ResetModality);
                item(app, ui, Command::RedetectModality);
                item(app, ui, Command::Undo);
                ui.separator();
                item(app, ui, Command::ToggleRules);
            });
            ui.menu_button(app.t(T::MenuCharts), |ui| {
                item(app, ui, Command::ToggleChartImport);
                item(app, ui, Command::RunLinking);
                ui.separator();
                item(app, ui, Command::ToggleLinkQueue);
                item(app, ui, Command::ToggleTimeline);
            });
            ui.menu_button(app.t(T::MenuModels), |ui| {
                item(app, ui, Command::RunModels);
                item(app, ui, Command::ToggleHeatmap);
                ui.separator();
                item(app, ui, Command::ToggleModels);
            });
            ui.menu_button(app.t(T::MenuHelp), |ui| {
                item(app, ui, Command::ToggleHelp);
                item(app, ui, Command::ToggleCommandPalette);
            });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let other = if app.lang() == Lang::En { "日本語" } else { "English" };
                if ui.button(other).on_hover_text(app.t(T::Language)).clicked() {
                    app.push(Command::ToggleLanguage);
                }
                if ui.button("⌘").on_hover_text(app.t(T::CommandPalette)).clicked() {
                    app.push(Command::ToggleCommandPalette);
                }
                if ui.button(app.t(T::AddFolder)).clicked() {
                    app.push(Command::AddFolder);
                }
            });
        });
    });
}
