//! The chart import wizard: a file (typed, or picked with the system's dialog), its preview
//! (`charts preview`: the encoding detected, the columns recognised, the first rows, and the
//! bad rows with line and reason), the mapping chosen or overridden, then the import as a
//! background job, and linking offered once it is in. The preview reads the file on its own
//! thread; the import and the link run are jobs with progress and cancel.

use super::app::App;
use super::command::{ChartImportAct, Command};
use super::i18n::{Lang, T};
use crate::charts::encoding::{self, EncodingChoice, TextEncoding};
use crate::charts::import::BadRow;
use crate::charts::mapping::{ColumnRef, Field, MapSpec};
use crate::charts::table::{self, Item, Preview, TableFormat};
use crate::error::Error;
use poll_promise::Promise;
use std::path::PathBuf;

/// How many rows the preview shows, and how many it reads looking for bad ones.
const PREVIEW_ROWS: usize = 10;
const BAD_ROW_SCAN: u64 = 20_000;
const BAD_ROWS_SHOWN: usize = 50;

/// Where the person puts a field: back to what the headers say, in no column, or a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapTo {
    Auto,
    Nothing,
    /// 0-based.
    Column(usize),
}

/// What the preview found.
#[derive(Clone, Debug)]
pub struct PreviewOut {
    pub path: PathBuf,
    /// An SS-MIX2 folder: read on import, nothing to preview.
    pub folder: bool,
    pub encoding: Option<TextEncoding>,
    pub preview: Option<Preview>,
    pub bad: Vec<BadRow>,
}

/// Reads how a file would be imported (on the wizard's thread); writes nothing.
pub fn preview(path: PathBuf, choice: EncodingChoice, spec: MapSpec) -> crate::Result<PreviewOut> {
    if path.is_dir() {
        return Ok(PreviewOut { path, folder: true, encoding: None, preview: None, bad: Vec::new() });
    }
    if !path.is_file() {
        return Err(Error::Invalid(format!("no such file: {}", path.display())));
    }
    let spreadsheet = TableFormat::is_spreadsheet(&path);
    let enc = if spreadsheet {
        None
    } else {
        let scan = encoding::scan_file(&path)?;
        Some(encoding::decide(choice, &scan, &path)?)
    };
    let p = table::preview(&path, enc.unwrap_or(TextEncoding::Utf8), &spec, PREVIEW_ROWS)?;
    let mut bad = Vec::new();
    if p.map.is_some() {
        let mut seen = 0u64;
        let mut each = |it: Item| -> crate::Result<()> {
            seen += 1;
            if let Item::Bad { at, reason } = it
                && bad.len() < BAD_ROWS_SHOWN
            {
                bad.push(BadRow { at, reason });
            }
            if seen >= BAD_ROW_SCAN { Err(Error::Cancelled) } else { Ok(()) }
        };
        let read = if spreadsheet {
            table::read_workbook(&path, &spec, &mut each).map(|_| ())
        } else {
            table::read_delimited(&path, enc.unwrap_or(TextEncoding::Utf8), &spec, &mut each).map(|_| ())
        };
        match read {
            Ok(()) | Err(Error::Cancelled) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(PreviewOut { path, folder: false, encoding: enc, preview: Some(p), bad })
}

#[derive(Default)]
pub struct ChartImportPanel {
    pub path: String,
    pub encoding: EncodingChoice,
    /// The person's column choices (over the recognised headers).
    pub spec: MapSpec,
    loading: Option<Promise<Result<PreviewOut, String>>>,
    pub shown: Option<PreviewOut>,
    pub error: Option<String>,
    dialog: Option<Promise<Option<PathBuf>>>,
    /// The last import's summary: linking is offered beside it.
    pub imported: Option<String>,
    /// The last import's report: its total is shown (records per kind, bad rows and why).
    pub total: Option<crate::charts::ImportReport>,
}

impl ChartImportPanel {
    pub fn opened(&mut self) {
        self.imported = None;
        self.total = None;
    }

    pub fn is_busy(&self) -> bool {
        self.loading.is_some() || self.dialog.is_some()
    }

    pub fn poll(&mut self) -> bool {
        let mut again = false;
        if self.dialog.as_ref().is_some_and(|d| d.ready().is_some())
            && let Some(d) = self.dialog.take()
            && let Some(p) = d.block_and_take()
        {
            self.path = p.display().to_string();
            again = true;
        }
        if self.loading.as_ref().is_some_and(|p| p.ready().is_some())
            && let Some(p) = self.loading.take()
        {
            match p.block_and_take() {
                Ok(out) => {
                    self.shown = Some(out);
                    self.error = None;
                }
                Err(e) => {
                    self.shown = None;
                    self.error = Some(e);
                }
            }
        }
        again
    }

    pub fn run(&mut self, act: ChartImportAct, lang: Lang, ctx: &egui::Context) {
        match act {
            ChartImportAct::Browse => {
                if self.dialog.is_none() {
                    let title = lang.t(T::ChartImport).to_owned();
                    self.dialog = Some(Promise::spawn_thread("chart-file-dialog", move || {
                        rfd::FileDialog::new()
                            .set_title(title)
                            .add_filter("CSV / TSV / xlsx", &["csv", "tsv", "txt", "xlsx", "xls"])
                            .pick_file()
                    }));
                }
            }
            ChartImportAct::Preview => self.start_preview(ctx),
            ChartImportAct::Map(field, to) => {
                match to {
                    MapTo::Column(c) => {
                        self.spec.columns.insert(field, ColumnRef::Position(c + 1));
                    }
                    MapTo::Nothing => {
                        self.spec.columns.insert(field, ColumnRef::Unmapped);
                    }
                    MapTo::Auto => {
                        self.spec.columns.remove(&field);
                    }
                }
                self.start_preview(ctx);
            }
            ChartImportAct::SetEncoding(e) => {
                self.encoding = e;
                self.start_preview(ctx);
            }
            // The job is started by the app (it owns the jobs).
            ChartImportAct::Import => {}
        }
    }

    fn start_preview(&mut self, ctx: &egui::Context) {
        let path = PathBuf::from(self.path.trim());
        let (choice, spec, c) = (self.encoding, self.spec.clone(), ctx.clone());
        self.loading = Some(Promise::spawn_thread("chart-preview", move || {
            let r = preview(path, choice, spec).map_err(|e| e.to_string());
            c.request_repaint();
            r
        }));
    }

    /// What the import job needs: the file and the options the preview used.
    pub fn import_request(&self) -> Option<(PathBuf, crate::charts::ImportOptions)> {
        let path = self.path.trim();
        (!path.is_empty()).then(|| {
            let opts =
                crate::charts::ImportOptions { encoding: self.encoding, map: self.spec.clone(), ..Default::default() };
            (PathBuf::from(path), opts)
        })
    }
}

fn encoding_name(lang: Lang, e: EncodingChoice) -> &'static str {
    match e {
        EncodingChoice::Auto => lang.t(T::EncodingAuto),
        EncodingChoice::Utf8 => "UTF-8",
        EncodingChoice::Cp932 => "CP932 (Shift_JIS)",
    }
}

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    let mut open = true;
    let mut push = Vec::new();
    let importing = app.jobs.iter().any(|j| j.is_running());
    let w = &mut app.chart_import;
    egui::Window::new(lang.t(T::ChartImport))
        .id(egui::Id::unique("chart_import"))
        .open(&mut open)
        .default_size([860.0, 560.0])
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(egui::RichText::new(lang.t(T::ChartImportHelp)).small());
            ui.horizontal(|ui| {
                let l = ui.label(lang.t(T::ChartFile));
                let field = ui.add(egui::TextEdit::singleline(&mut w.path).desired_width(440.0)).labelled_by(l.id);
                if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    push.push(Command::ChartImport(ChartImportAct::Preview));
                }
                if ui.button(lang.t(T::BrowseFile)).clicked() {
                    push.push(Command::ChartImport(ChartImportAct::Browse));
                }
                if ui.add_enabled(!w.path.trim().is_empty(), egui::Button::new(lang.t(T::PreviewFile))).clicked() {
                    push.push(Command::ChartImport(ChartImportAct::Preview));
                }
            });
            ui.horizontal(|ui| {
                let mut chosen = w.encoding;
                egui::ComboBox::new("chart_encoding", lang.t(T::Encoding))
                    .selected_text(encoding_name(lang, w.encoding))
                    .show_ui(ui, |ui| {
                        for e in EncodingChoice::ALL {
                            ui.selectable_value(&mut chosen, e, encoding_name(lang, e));
                        }
                    });
                if chosen != w.encoding {
                    push.push(Command::ChartImport(ChartImportAct::SetEncoding(chosen)));
                }
            });
            if let Some(e) = &w.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            if w.loading.is_some() {
                ui.spinner();
            }
            if let Some(s) = &w.imported {
                ui.separator();
                ui.label(s);
                if let Some(r) = &w.total {
                    total_ui(ui, lang, r);
                }
                ui.horizontal(|ui| {
                    ui.label(lang.t(T::OfferLinking));
                    if ui.add_enabled(!importing, egui::Button::new(lang.t(T::RunLinking))).clicked() {
                        push.push(Command::RunLinking);
                    }
                });
            }
            let Some(out) = &w.shown else { return };
            ui.separator();
            if out.folder {
                ui.label(lang.t(T::SsmixFolder));
            } else if let Some(p) = &out.preview {
                preview_ui(ui, lang, out, p, &w.spec, &mut push);
            }
            ui.separator();
            let can = !importing
                && w.loading.is_none()
                && (out.folder || out.preview.as_ref().is_some_and(|p| p.map.is_some()));
            if ui.add_enabled(can, egui::Button::new(lang.t(T::Import))).clicked() {
                push.push(Command::ChartImport(ChartImportAct::Import));
            }
        });
    if !open {
        push.push(Command::ToggleChartImport);
    }
    for c in push {
        app.push(c);
    }
}

fn preview_ui(ui: &mut egui::Ui, lang: Lang, out: &PreviewOut, p: &Preview, spec: &MapSpec, push: &mut Vec<Command>) {
    let enc = out.encoding.map(|e| e.as_str()).unwrap_or("xlsx");
    ui.label(lang.f(T::DetectedEncoding, &[("enc", &enc), ("format", &p.format.as_str())]));
    if let Some(e) = &p.map_error {
        ui.colored_label(ui.visuals().warn_fg_color, lang.f(T::NoMapping, &[("e", e)]));
    }
    let column_name = |i: usize| format!("{} {}", i + 1, p.headers.get(i).map(String::as_str).unwrap_or(""));
    egui::CollapsingHeader::new(lang.t(T::Columns)).default_open(true).show(ui, |ui| {
        egui::ScrollArea::vertical().id_salt("chart_columns").max_height(150.0).show(ui, |ui| {
            egui::Grid::new("chart_mapping").num_columns(2).striped(true).show(ui, |ui| {
                for (n, f) in Field::ALL.iter().enumerate() {
                    let now = p.map.as_ref().and_then(|m| m.get(*f));
                    let set = match spec.columns.get(f) {
                        None => MapTo::Auto,
                        Some(ColumnRef::Unmapped) => MapTo::Nothing,
                        Some(_) => now.map_or(MapTo::Nothing, MapTo::Column),
                    };
                    let mut chosen = set;
                    egui::ComboBox::new(("map", n), f.as_str())
                        .selected_text(now.map(column_name).unwrap_or_else(|| lang.t(T::NotMapped).to_owned()))
                        .width(180.0)
                        .show_ui(ui, |ui| {
                            // Back to what the headers say (the person's choice removed).
                            ui.selectable_value(&mut chosen, MapTo::Auto, lang.t(T::MapAuto));
                            // A recognised header that holds something else: read from no column.
                            ui.selectable_value(&mut chosen, MapTo::Nothing, lang.t(T::MapNone));
                            for i in 0..p.headers.len() {
                                ui.selectable_value(&mut chosen, MapTo::Column(i), column_name(i));
                            }
                        });
                    if chosen != set {
                        push.push(Command::ChartImport(ChartImportAct::Map(*f, chosen)));
                    }
                    if n % 2 == 1 {
                        ui.end_row();
                    }
                }
            });
        });
    });
    egui::CollapsingHeader::new(lang.t(T::FirstRows)).default_open(true).show(ui, |ui| {
        egui::ScrollArea::both().id_salt("chart_rows").max_height(160.0).show(ui, |ui| {
            egui::Grid::new("chart_first_rows").striped(true).show(ui, |ui| {
                for h in &p.headers {
                    ui.label(egui::RichText::new(h).strong().small());
                }
                ui.end_row();
                // Only what will be read is shown: columns mapped to nothing (names) are never
                // read, and chart numbers are never shown (their column is masked).
                let hidden = p.map.as_ref().and_then(|m| m.get(Field::ChartNo));
                let read = |i: usize| p.map.as_ref().is_some_and(|m| m.columns.values().any(|&c| c == i));
                for r in &p.rows {
                    for (i, c) in r.iter().enumerate() {
                        let c = if c.is_empty() {
                            ""
                        } else if Some(i) == hidden {
                            "••••"
                        } else if !read(i) {
                            "·"
                        } else {
                            c.as_str()
                        };
                        ui.label(egui::RichText::new(c).small());
                    }
                    ui.end_row();
                }
            });
        });
    });
    egui::CollapsingHeader::new(format!("{} ({})", lang.t(T::BadRows), out.bad.len())).default_open(true).show(
        ui,
        |ui| {
            if out.bad.is_empty() {
                ui.label(lang.t(T::NoBadRows));
            }
            egui::ScrollArea::vertical().id_salt("chart_bad").max_height(120.0).show(ui, |ui| {
                for b in &out.bad {
                    ui.label(egui::RichText::new(format!("{}: {}", b.at, b.reason)).small());
                }
            });
        },
    );
}

/// The import's total: new records per kind, duplicates, new patients, bad rows with why.
fn total_ui(ui: &mut egui::Ui, lang: Lang, r: &crate::charts::ImportReport) {
    let c = &r.counts;
    egui::CollapsingHeader::new(lang.t(T::ImportTotal)).id_salt("chart_total").default_open(true).show(ui, |ui| {
        egui::Grid::new("chart_total_grid").num_columns(2).striped(true).show(ui, |ui| {
            let mut row = |label: &str, n: u64| {
                ui.label(label);
                ui.label(n.to_string());
                ui.end_row();
            };
            row(lang.t(T::TotalRows), c.rows);
            for (kind, n) in &c.by_kind {
                row(lang.t(super::chart_details::kind_key(kind.as_str())), *n);
            }
            row(lang.t(T::TotalDuplicates), c.records_duplicate);
            row(lang.t(T::TotalPatients), c.patients_new);
            row(lang.t(T::BadRows), c.bad_rows);
        });
        for b in &r.bad {
            ui.label(egui::RichText::new(format!("{}: {}", b.at, b.reason)).small());
        }
    });
}
