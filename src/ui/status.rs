//! The status bar: counts, running jobs with progress and cancel, the latest notice.

use super::app::App;
use super::command::Command;
use super::i18n::T;
use std::time::Duration;

pub fn ui(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::bottom("status").show(ui, |ui| {
        ui.horizontal(|ui| {
            let lang = app.lang();
            // Running jobs first: what follows (counts, the grid's spinner while an import adds
            // photos, a selection) changes width between frames, and a Cancel button after it
            // moved under the pointer: a click pressed in one frame missed it in the next
            // (tests/gui.rs selects a photo between aiming and clicking).
            let mut cancel = None;
            for job in &app.jobs {
                let s = job.progress.snapshot();
                ui.label(&job.name);
                // While the scan is still counting, the total would grow under the person's
                // eyes: say how many were found and done instead, and show the bar once the
                // total is known.
                let bar = match s.fraction() {
                    Some(f) => egui::ProgressBar::new(f).text(format!("{}/{}", s.done, s.total)),
                    None => egui::ProgressBar::new(0.0)
                        .animate(true)
                        .text(lang.f(T::Scanning, &[("found", &s.total), ("done", &s.done)])),
                };
                ui.add(bar.desired_width(160.0));
                // Cancel before the message: the message (the file at hand) changes width every
                // frame, and a button after it moved under the pointer (a click could miss it).
                if !s.cancelled && ui.button(lang.t(T::Cancel)).clicked() {
                    cancel = Some(job.id);
                }
                if !s.message.is_empty() {
                    ui.label(egui::RichText::new(&s.message).small());
                }
                ui.separator();
            }
            if let Some(id) = cancel {
                app.push(Command::CancelJob(id));
            }
            ui.label(lang.count(T::PhotosShown, T::OnePhotoShown, app.grid.len()));
            if app.grid.is_pending() {
                ui.spinner();
            }
            if !app.selection.is_empty() {
                ui.separator();
                ui.label(lang.f(T::PhotosSelected, &[("n", &app.selection.len())]));
            }
            // A grid query that failed (the database is busy or damaged) is said, not swallowed.
            if let Some(e) = &app.grid.error {
                ui.separator();
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            if let Some(n) = app.notices.last()
                && n.at.elapsed() < Duration::from_secs(10)
            {
                ui.separator();
                let color = if n.error { ui.visuals().error_fg_color } else { ui.visuals().text_color() };
                ui.colored_label(color, &n.text);
            }
        });
    });
}
