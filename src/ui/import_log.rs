//! The import log: runs with their counts, and every file refused as it is now, with why.

use super::app::App;
use super::command::Command;
use super::i18n::T;
use std::time::{Duration, Instant};

pub fn ui(app: &mut App, ctx: &egui::Context) {
    if !app.show_log {
        app.log_cache = None;
        return;
    }
    let stale = app.log_cache.as_ref().is_none_or(|(t, _, _)| t.elapsed() > Duration::from_secs(2));
    if stale {
        let runs = app.store.import_runs(100).unwrap_or_default();
        let refusals = app.store.refusals(5000).unwrap_or_default();
        app.log_cache = Some((Instant::now(), runs, refusals));
    }
    let lang = app.lang();
    let mut open = app.show_log;
    let mut resume = false;
    egui::Window::new(lang.t(T::ImportLog)).open(&mut open).default_size([760.0, 480.0]).show(ctx, |ui| {
        let Some((_, runs, refusals)) = &app.log_cache else { return };
        if app.interrupted > 0 {
            ui.horizontal(|ui| {
                ui.label(lang.f(T::InterruptedRuns, &[("n", &app.interrupted)]));
                resume = ui.button(lang.t(T::Resume)).clicked();
            });
        }
        ui.label(egui::RichText::new(lang.t(T::Runs)).strong());
        egui::ScrollArea::vertical().id_salt("runs").max_height(180.0).show(ui, |ui| {
            egui::Grid::new("runs-grid").striped(true).num_columns(4).show(ui, |ui| {
                ui.label(lang.t(T::Started));
                ui.label(lang.t(T::RunStatus));
                ui.label(lang.t(T::Counts));
                ui.label("");
                ui.end_row();
                for r in runs {
                    ui.label(&r.started_at);
                    ui.label(lang.t(super::i18n::run_status(r.status)));
                    ui.label(format!(
                        "{} / {} / {} / {} / {}",
                        r.new_photos, r.new_locations, r.unchanged, r.refused, r.missing
                    ));
                    ui.label(egui::RichText::new(r.message.as_deref().unwrap_or("")).small());
                    ui.end_row();
                }
            });
        });
        ui.separator();
        ui.label(egui::RichText::new(format!("{} ({})", lang.t(T::Refused), refusals.len())).strong());
        egui::ScrollArea::vertical().id_salt("refusals").show(ui, |ui| {
            egui::Grid::new("refusals-grid").striped(true).num_columns(3).show(ui, |ui| {
                ui.label(lang.t(T::Reason));
                ui.label("");
                ui.label(lang.t(T::File));
                ui.end_row();
                for r in refusals {
                    ui.label(lang.t(super::i18n::reason(r.reason_code)));
                    ui.label(egui::RichText::new(&r.reason).small());
                    ui.label(egui::RichText::new(&r.path).small());
                    ui.end_row();
                }
            });
        });
    });
    app.show_log = open;
    if resume {
        app.push(Command::ResumeImports);
        app.interrupted = 0;
    }
}
