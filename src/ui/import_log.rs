//! The import log: runs with their folders and counts, the refused files counted per
//! reason, and every refused file (file first, the reason in plain words, the decoder's own
//! words on hover), virtualised so that a hundred thousand refusals scroll like ten.
//! Everything is read on the store thread; the list can be written out as CSV.

use super::app::{App, Overlay};
use super::command::Command;
use super::i18n::{Lang, T};
use crate::decode::RefusalCode;
use crate::store::thread::{Pending, StoreThread};
use crate::store::{ImportRunRow, RefusalRow};
use std::collections::HashMap;
use std::path::PathBuf;

/// Refused files read per page.
const PAGE: u64 = 200;
const ROW_H: f32 = 18.0;

struct Summary {
    runs: Vec<ImportRunRow>,
    by_reason: Vec<(RefusalCode, u64)>,
}

#[derive(Default)]
pub struct LogPanel {
    reading: Option<Pending<Summary>>,
    summary: Option<Summary>,
    error: Option<String>,
    pages: HashMap<u64, Vec<RefusalRow>>,
    page_reads: HashMap<u64, Pending<Vec<RefusalRow>>>,
    /// Where the CSV goes, as typed.
    export_path: String,
    exporting: Option<Pending<u64>>,
    stale: bool,
}

impl LogPanel {
    /// Reads everything again when next shown.
    pub fn reload(&mut self) {
        self.stale = true;
    }

    pub fn is_loading(&self) -> bool {
        self.reading.is_some() || !self.page_reads.is_empty() || self.exporting.is_some()
    }

    pub fn poll(&mut self) {
        if let Some(p) = &self.reading
            && p.ready().is_some()
        {
            match self.reading.take().expect("checked").block_and_take() {
                Ok(s) => {
                    self.summary = Some(s);
                    self.error = None;
                    self.pages.clear();
                }
                Err(e) => self.error = Some(e),
            }
        }
        let done: Vec<u64> = self.page_reads.iter().filter(|(_, p)| p.ready().is_some()).map(|(k, _)| *k).collect();
        for page in done {
            if let Some(p) = self.page_reads.remove(&page) {
                match p.block_and_take() {
                    Ok(rows) => {
                        self.pages.insert(page, rows);
                    }
                    Err(e) => self.error = Some(e),
                }
            }
        }
    }

    fn read(&mut self, store: &StoreThread) {
        if self.reading.is_none() && (self.summary.is_none() || self.stale) && self.error.is_none() {
            self.stale = false;
            self.reading =
                Some(store.ask(|s| Ok(Summary { runs: s.import_runs(100)?, by_reason: s.refusal_counts()? })));
        }
    }

    fn row(&mut self, i: u64, store: &StoreThread) -> Option<&RefusalRow> {
        let page = i / PAGE;
        if !self.pages.contains_key(&page) && !self.page_reads.contains_key(&page) {
            self.page_reads.insert(page, store.ask(move |s| s.refusals(page * PAGE, PAGE)));
        }
        self.pages.get(&page).and_then(|rows| rows.get((i % PAGE) as usize))
    }

    /// Writes every refused file to `path` as CSV, on the store thread.
    pub fn export(&mut self, path: PathBuf, store: &StoreThread, _lang: Lang) {
        if self.exporting.is_none() {
            self.exporting = Some(store.ask(move |s| s.write_refusals_csv(&path)));
        }
    }
}

/// A left-aligned column of fixed width.
fn cell(ui: &mut egui::Ui, width: f32, widget: impl egui::Widget) -> egui::Response {
    let layout = egui::Layout::left_to_right(egui::Align::Center);
    ui.allocate_ui_with_layout(egui::vec2(width, ROW_H), layout, |ui| {
        ui.set_width(width);
        ui.add(widget)
    })
    .inner
}

fn default_export_path() -> String {
    let home = directories::UserDirs::new()
        .and_then(|d| d.document_dir().map(|p| p.to_path_buf()).or_else(|| Some(d.home_dir().to_path_buf())))
        .unwrap_or_default();
    home.join("dermdesk-refused-files.csv").display().to_string()
}

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    app.log.read(&app.store);
    let mut exported = None;
    if let Some(p) = &app.log.exporting
        && p.ready().is_some()
    {
        exported = app.log.exporting.take().map(|p| p.block_and_take());
    }
    if app.log.export_path.is_empty() {
        app.log.export_path = default_export_path();
    }
    let mut open = true;
    let mut resume = false;
    let mut export = None;
    let interrupted = app.interrupted;
    let store = &app.store;
    let log = &mut app.log;
    egui::Window::new(lang.t(T::ImportLog)).open(&mut open).default_size([820.0, 520.0]).show(ctx, |ui| {
        if let Some(e) = &log.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let Some(summary) = &log.summary else {
            ui.spinner();
            return;
        };
        if interrupted > 0 {
            ui.horizontal(|ui| {
                ui.label(lang.f(T::InterruptedRuns, &[("n", &interrupted)]));
                resume = ui.button(lang.t(T::Resume)).clicked();
            });
        }
        ui.label(egui::RichText::new(lang.t(T::Runs)).strong());
        egui::ScrollArea::vertical().id_salt("runs").max_height(150.0).show(ui, |ui| {
            egui::Grid::new("runs-grid").striped(true).num_columns(4).show(ui, |ui| {
                ui.label(lang.t(T::Started));
                ui.label(lang.t(T::RunStatus));
                ui.label(lang.t(T::Counts));
                ui.label(lang.t(T::Folders));
                ui.end_row();
                for r in &summary.runs {
                    ui.label(&r.started_at);
                    ui.label(lang.t(super::i18n::run_status(r.status)));
                    ui.label(format!(
                        "{} / {} / {} / {} / {}",
                        r.new_photos, r.new_locations, r.unchanged, r.refused, r.missing
                    ));
                    let folders = r.roots.join("; ");
                    let mut hover = folders.clone();
                    if let Some(m) = &r.message {
                        hover.push('\n');
                        hover.push_str(m);
                    }
                    ui.add(egui::Label::new(egui::RichText::new(folders).small()).truncate()).on_hover_text(hover);
                    ui.end_row();
                }
            });
        });
        ui.separator();
        let total: u64 = summary.by_reason.iter().map(|(_, n)| n).sum();
        ui.horizontal_wrapped(|ui| {
            ui.label(egui::RichText::new(format!("{} ({total})", lang.t(T::Refused))).strong());
            for (code, n) in &summary.by_reason {
                ui.label(format!("{} {n}", lang.t(super::i18n::reason(*code))));
            }
        });
        ui.horizontal(|ui| {
            let label = ui.label(lang.t(T::ExportTo));
            ui.add(egui::TextEdit::singleline(&mut log.export_path).desired_width(360.0)).labelled_by(label.id);
            let ready = !log.export_path.trim().is_empty() && log.exporting.is_none();
            if ui.add_enabled(ready, egui::Button::new(lang.t(T::ExportCsv))).clicked() {
                export = Some(PathBuf::from(log.export_path.trim()));
            }
            if log.exporting.is_some() {
                ui.spinner();
            }
        });
        let width = ui.available_width();
        let file_w = (width * 0.42).max(160.0);
        let reason_w = (width * 0.2).max(110.0);
        ui.horizontal(|ui| {
            cell(ui, file_w, egui::Label::new(egui::RichText::new(lang.t(T::File)).strong()));
            cell(ui, reason_w, egui::Label::new(egui::RichText::new(lang.t(T::Reason)).strong()));
            ui.label(egui::RichText::new(lang.t(T::ReasonDetail)).strong());
        });
        egui::ScrollArea::vertical().id_salt("refusals").auto_shrink(false).show_rows(
            ui,
            ROW_H,
            total as usize,
            |ui, rows| {
                for i in rows {
                    ui.horizontal(|ui| match log.row(i as u64, store).cloned() {
                        Some(r) => {
                            let name = crate::store::file_name(&r.path).to_owned();
                            cell(ui, file_w, egui::Label::new(name).truncate()).on_hover_text(&r.path);
                            cell(ui, reason_w, egui::Label::new(lang.t(super::i18n::reason(r.reason_code))).truncate());
                            ui.add(egui::Label::new(egui::RichText::new(&r.reason).small().weak()).truncate())
                                .on_hover_text(&r.reason);
                        }
                        None => {
                            cell(ui, file_w, egui::Spinner::new());
                        }
                    });
                }
            },
        );
    });
    match exported {
        Some(Ok(n)) => {
            let path = app.log.export_path.clone();
            app.notify(lang.f(T::Exported, &[("n", &n), ("path", &path)]), false);
        }
        Some(Err(e)) => app.notify(e, true),
        None => {}
    }
    if let Some(path) = export {
        app.push(Command::ExportImportLog(path));
    }
    if resume {
        app.push(Command::ResumeImports);
    }
    if !open {
        app.push(Command::CloseOverlay(Overlay::ImportLog));
    }
}
