//! The Models window: every registered model version with its card (what it was trained on,
//! how a photo becomes its input, what it measured, "not for clinical use"), a way to add a
//! model of one's own from its card, and a way to remove one (after a question naming the
//! results that go with it). Adding goes through `registry::add`, the code behind `dermdesk
//! models add`: the card is parsed, the model loaded and test-run, and a refusal says why;
//! removing through `registry::remove` (`dermdesk models remove`). A classifier's version is
//! compared with an earlier one in `model_compare`. The reading, the adding and
//! the removing run on threads with their own connection: the registry loads models (seconds),
//! which must neither freeze the window nor hold up the store thread.

use super::app::{App, Overlay};
use super::command::{Command, modality_key};
use super::i18n::{Lang, T};
use crate::models::{ModelInfo, registry};
use crate::store::Store;
use poll_promise::Promise;
use std::path::{Path, PathBuf};

/// Every registered version, with how many photos have its results.
type Listed = Vec<(ModelInfo, u64)>;

/// A version's key in the window: (name, version).
fn key(m: &ModelInfo) -> (String, String) {
    (m.name().to_owned(), m.version().to_owned())
}

fn is(m: &ModelInfo, key: &(String, String)) -> bool {
    (m.name(), m.version()) == (key.0.as_str(), key.1.as_str())
}

#[derive(Default)]
pub struct ModelsPanel {
    reading: Option<Promise<Result<Listed, String>>>,
    list: Option<Result<Listed, String>>,
    /// The version shown: (name, version).
    pub selected: Option<(String, String)>,
    /// The card to add, typed or chosen with Browse.
    pub card_path: String,
    adding: Option<Promise<Result<ModelInfo, String>>>,
    dialog: Option<Promise<Option<PathBuf>>>,
    /// The version whose removal is being asked about: (name, version).
    pub confirm_remove: Option<(String, String)>,
    removing: Option<Promise<Result<registry::Removed, String>>>,
    /// The last add's or removal's outcome.
    pub outcome: Option<Outcome>,
    /// The chosen classifier version beside an earlier one.
    pub compare: super::model_compare::CompareView,
}

/// What became of the last model added or removed: kept as data, worded in the language on
/// screen.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Added { name: String, version: String },
    Refused(String),
    Removed { name: String, version: String, results: u64 },
    NotRemoved(String),
}

impl Outcome {
    pub fn text(&self, lang: Lang) -> String {
        match self {
            Outcome::Added { name, version } => lang.f(T::ModelAdded, &[("m", name), ("v", version)]),
            Outcome::Refused(e) => lang.f(T::ModelRefused, &[("e", e)]),
            Outcome::Removed { name, version, results } => {
                lang.f(T::ModelRemoved, &[("m", name), ("v", version), ("n", results)])
            }
            Outcome::NotRemoved(e) => lang.f(T::ModelNotRemoved, &[("e", e)]),
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Outcome::Refused(_) | Outcome::NotRemoved(_))
    }
}

/// What `ModelsPanel::poll` brings back for the app to act on.
enum Polled {
    Added(Box<ModelInfo>),
    /// A version removed, and whether it was its model's last.
    Removed(registry::Removed, bool),
}

impl ModelsPanel {
    /// Reads the registry again on the next frame (the selection and a typed path stay).
    pub fn reload(&mut self) {
        self.reading = None;
        self.list = None;
    }

    /// Reads the registry again while the list on screen stays (after a job, or another
    /// process's `models add` or `infer`).
    pub fn reread(&mut self, db: &Path) {
        if self.reading.is_none() {
            let db = db.to_path_buf();
            self.reading = Some(Promise::spawn_thread("models-read", move || read(&db)));
        }
    }

    /// The models as last read (None until read, or when reading failed).
    pub fn models(&self) -> Option<&[(ModelInfo, u64)]> {
        self.list.as_ref().and_then(|l| l.as_ref().ok()).map(|l| l.as_slice())
    }

    pub fn is_busy(&self) -> bool {
        self.reading.is_some()
            || self.adding.is_some()
            || self.dialog.is_some()
            || self.removing.is_some()
            || self.compare.is_busy()
    }

    /// Removes a model version and its results, on a thread (asked for by the window's
    /// confirmation).
    pub fn remove(&mut self, db: &Path, name: String, version: String) {
        if self.removing.is_some() {
            return;
        }
        self.confirm_remove = None;
        self.outcome = None;
        let db = db.to_path_buf();
        self.removing = Some(Promise::spawn_thread("model-remove", move || {
            let mut store = Store::open(&db).map_err(|e| e.to_string())?;
            registry::remove(&mut store, &name, &version).map_err(|e| e.to_string())
        }));
    }

    /// Checks and adds the model whose card is in the path field, on a thread.
    pub fn add(&mut self, db: &Path) {
        let card = PathBuf::from(self.card_path.trim());
        if self.adding.is_some() || card.as_os_str().is_empty() {
            return;
        }
        self.outcome = None;
        let db = db.to_path_buf();
        self.adding = Some(Promise::spawn_thread("model-add", move || {
            let mut store = Store::open(&db).map_err(|e| e.to_string())?;
            registry::add(&mut store, &card, None).map_err(|e| e.to_string())
        }));
    }

    /// Opens the system's file picker for a card.
    pub fn browse(&mut self, title: String) {
        if self.dialog.is_none() {
            self.dialog = Some(Promise::spawn_thread("card-dialog", move || {
                rfd::FileDialog::new().set_title(title).add_filter("card.toml", &["toml"]).pick_file()
            }));
        }
    }

    /// Takes in answers that came: the list, an add, a removal, a chosen file. Returns a model
    /// just added or removed.
    fn poll(&mut self, db: &Path) -> Option<Polled> {
        if self.list.is_none() {
            self.reread(db);
        }
        self.compare.poll();
        if self.reading.as_ref().is_some_and(|p| p.ready().is_some()) {
            let list = self.reading.take().expect("checked").block_and_take();
            if let Ok(l) = &list
                && !self.selected.as_ref().is_some_and(|s| l.iter().any(|(m, _)| is(m, s)))
            {
                self.selected = l.first().map(|(m, _)| key(m));
            }
            self.list = Some(list);
        }
        if self.dialog.as_ref().is_some_and(|p| p.ready().is_some())
            && let Some(path) = self.dialog.take().expect("checked").block_and_take()
        {
            self.card_path = path.display().to_string();
        }
        if self.adding.as_ref().is_some_and(|p| p.ready().is_some()) {
            match self.adding.take().expect("checked").block_and_take() {
                Ok(m) => {
                    let (name, version) = key(&m);
                    self.outcome = Some(Outcome::Added { name: name.clone(), version: version.clone() });
                    self.selected = Some((name, version));
                    self.card_path.clear();
                    self.reload();
                    return Some(Polled::Added(Box::new(m)));
                }
                Err(e) => self.outcome = Some(Outcome::Refused(e)),
            }
        }
        if self.removing.as_ref().is_some_and(|p| p.ready().is_some()) {
            match self.removing.take().expect("checked").block_and_take() {
                Ok(r) => {
                    let (name, version, results) = (r.name.clone(), r.version.clone(), r.results);
                    let last = !self
                        .models()
                        .is_some_and(|l| l.iter().any(|(m, _)| m.name() == name && m.version() != version));
                    self.outcome = Some(Outcome::Removed { name, version, results });
                    self.selected = None;
                    self.reload();
                    return Some(Polled::Removed(r, last));
                }
                Err(e) => self.outcome = Some(Outcome::NotRemoved(e)),
            }
        }
        None
    }
}

/// The registry as `dermdesk models list` shows it (the demo models registered first).
fn read(db: &Path) -> Result<Listed, String> {
    let mut store = Store::open(db).map_err(|e| e.to_string())?;
    // A demo model that cannot be registered leaves the others listed.
    let _ = registry::open(&mut store);
    let counts: std::collections::HashMap<i64, u64> =
        store.model_result_counts().map_err(|e| e.to_string())?.into_iter().collect();
    let list = registry::list(&store).map_err(|e| e.to_string())?;
    Ok(list
        .into_iter()
        .map(|m| {
            let n = counts.get(&m.id).copied().unwrap_or(0);
            (m, n)
        })
        .collect())
}

pub fn ui(app: &mut App, ctx: &egui::Context) {
    let lang = app.lang();
    if let Some(polled) = app.models.poll(&app.cfg.db) {
        match polled {
            Polled::Added(m) if m.card.task == crate::models::ModelTask::Classification => {
                app.filters.add_classifiers([m.name()]);
            }
            // Its results leave the photo panels, and a classifier with no version left leaves
            // the disagreement filter.
            Polled::Removed(r, last) => app.model_removed(&r.name, last),
            Polled::Added(_) => {}
        }
        if let Some(outcome) = &app.models.outcome {
            app.notify(outcome.text(lang), false);
        }
    }
    // A job may be running a model: its results would have nowhere to go.
    let job_running = app.jobs.iter().any(|j| j.is_running());
    let panel = &mut app.models;
    let mut open = true;
    let (mut add, mut browse, mut retry) = (false, false, false);
    let mut open_photo = None;
    let db = app.cfg.db.clone();
    let mut remove = RemoveAct::None;
    egui::Window::new(lang.t(T::MenuModels))
        .id(egui::Id::unique("models"))
        .open(&mut open)
        .default_size([820.0, 580.0])
        .show(ctx, |ui| {
            ui.label(egui::RichText::new(lang.t(T::ModelsHelp)).small());
            // Adding at the bottom, the list on the left, the chosen card in the rest.
            egui::Panel::bottom("models-add").show(ui, |ui| {
                ui.add_space(4.0);
                ui.strong(lang.t(T::AddModelTitle));
                ui.label(egui::RichText::new(lang.t(T::AddModelHelp)).small());
                ui.horizontal(|ui| {
                    let label = ui.label(lang.t(T::ModelCardPath));
                    ui.add(
                        egui::TextEdit::singleline(&mut panel.card_path).hint_text("…/card.toml").desired_width(420.0),
                    )
                    .labelled_by(label.id);
                    browse = ui.button(lang.t(T::Browse)).clicked();
                    let can = panel.adding.is_none() && !panel.card_path.trim().is_empty();
                    add = ui.add_enabled(can, egui::Button::new(lang.t(T::Add))).clicked();
                });
                // One status line, always there: the field and Add stay where a person aims.
                ui.horizontal(|ui| {
                    if panel.adding.is_some() {
                        ui.spinner();
                        ui.label(lang.t(T::CheckingModel));
                    } else if panel.removing.is_some() {
                        ui.spinner();
                        ui.label(lang.t(T::RemovingModel));
                    } else if let Some(outcome) = &panel.outcome {
                        let error = outcome.is_error();
                        let colour = if error { ui.visuals().error_fg_color } else { ui.visuals().text_color() };
                        ui.colored_label(colour, outcome.text(lang));
                    } else {
                        ui.label(" ");
                    }
                });
            });
            let models = match &panel.list {
                None => {
                    ui.spinner();
                    return;
                }
                Some(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, lang.f(T::ModelsUnreadable, &[("e", e)]));
                    retry = ui.button(lang.t(T::Retry)).clicked();
                    return;
                }
                Some(Ok(models)) => models,
            };
            egui::Panel::left("models-list").resizable(false).exact_size(230.0).show(ui, |ui| {
                egui::ScrollArea::vertical().id_salt("models-list").show(ui, |ui| {
                    for (m, n) in models {
                        let on = panel.selected.as_ref().is_some_and(|s| is(m, s));
                        if ui.selectable_label(on, format!("{} {}", m.name(), m.version())).clicked() {
                            panel.selected = Some(key(m));
                        }
                        let mut line = format!("{} · {}", m.card.task.as_str(), lang.f(T::ModelResults, &[("n", n)]));
                        if m.builtin {
                            line = format!("{line} · {}", lang.t(T::ModelBuiltIn));
                        }
                        ui.label(egui::RichText::new(line).small().weak());
                        ui.add_space(4.0);
                    }
                });
            });
            let shown = models.iter().find(|(m, _)| panel.selected.as_ref().is_some_and(|s| is(m, s)));
            egui::CentralPanel::default().show(ui, |ui| {
                if let Some((m, n)) = shown {
                    if !m.builtin {
                        let busy = panel.removing.is_some() || job_running;
                        remove_row(ui, lang, panel.confirm_remove.as_ref(), m, *n, busy, &mut remove);
                    }
                    // Each card scrolled on its own (another starts at its top), the
                    // comparison with an earlier version above it.
                    egui::ScrollArea::vertical().id_salt(("model-card", m.name(), m.version())).show(ui, |ui| {
                        open_photo = super::model_compare::section(ui, lang, &mut panel.compare, &db, m, models);
                        card_ui(ui, lang, m, *n);
                    });
                }
            });
        });
    if panel.is_busy() {
        ctx.request_repaint_after(std::time::Duration::from_millis(50));
    }
    if retry {
        panel.reload();
    }
    if browse {
        panel.browse(lang.t(T::ModelCardPath).to_owned());
    }
    if add {
        app.push(Command::AddModel);
    }
    match open_photo {
        Some(super::model_compare::Act::Open(id)) => app.push(Command::Open(id)),
        // The browser narrowed to those photos (the rest of its filter kept) and shown: the
        // window and any photo in the viewer closed, the filter panel open to say why.
        Some(super::model_compare::Act::Show(v)) => {
            let mut f = app.state.filter.clone();
            f.changed_between = Some(v);
            app.state.show_filters = true;
            app.push(Command::SetFilter(Box::new(f)));
            app.push(Command::CloseOverlay(Overlay::Models));
            app.push(Command::CloseViewer);
        }
        None => {}
    }
    match remove {
        RemoveAct::None => {}
        RemoveAct::Ask(k) => app.models.confirm_remove = Some(k),
        RemoveAct::Cancel => app.models.confirm_remove = None,
        RemoveAct::Confirm(name, version) => app.push(Command::RemoveModel { name, version }),
    }
    if !open {
        app.push(Command::CloseOverlay(Overlay::Models));
    }
}

/// What the remove row asked for this frame.
enum RemoveAct {
    None,
    Ask((String, String)),
    Cancel,
    Confirm(String, String),
}

/// Above a model of one's own: "Remove this version…", then the question naming what goes
/// with it, and Remove / Cancel.
fn remove_row(
    ui: &mut egui::Ui,
    lang: Lang,
    asking: Option<&(String, String)>,
    m: &ModelInfo,
    results: u64,
    busy: bool,
    act: &mut RemoveAct,
) {
    ui.horizontal_wrapped(|ui| {
        if asking.is_some_and(|k| is(m, k)) {
            let question = lang.f(T::RemoveModelQuestion, &[("m", &m.name()), ("v", &m.version()), ("n", &results)]);
            ui.colored_label(ui.visuals().warn_fg_color, question);
            let button = ui.add_enabled(!busy, egui::Button::new(lang.t(T::Remove)));
            if button.on_disabled_hover_text(lang.t(T::RemoveModelWait)).clicked() {
                *act = RemoveAct::Confirm(m.name().to_owned(), m.version().to_owned());
            }
            if ui.button(lang.t(T::Cancel)).clicked() {
                *act = RemoveAct::Cancel;
            }
        } else if ui
            .add_enabled(!busy, egui::Button::new(lang.t(T::RemoveModel)))
            .on_disabled_hover_text(lang.t(T::RemoveModelWait))
            .clicked()
        {
            *act = RemoveAct::Ask(key(m));
        }
    });
    ui.separator();
}

/// One model version's card, as a person reads it.
fn card_ui(ui: &mut egui::Ui, lang: Lang, m: &ModelInfo, results: u64) {
    let c = &m.card;
    ui.heading(format!("{} {}", c.name, c.version));
    ui.colored_label(ui.visuals().warn_fg_color, lang.t(T::NotForClinicalUse));
    if !c.description.is_empty() {
        ui.label(&c.description);
    }
    let modalities: Vec<&str> = c.modalities.iter().map(|&x| lang.t(modality_key(x))).collect();
    let by = if m.builtin { "dermdesk" } else { m.added_by.as_str() };
    ui.label(lang.f(
        T::ModelTaskLine,
        &[("task", &c.task.as_str()), ("modalities", &modalities.join(", ")), ("at", &m.added_at), ("by", &by)],
    ));
    ui.label(lang.f(T::ModelResults, &[("n", &results)]));
    let i = &c.input;
    ui.label(lang.f(
        T::ModelInputLine,
        &[
            ("name", &i.name),
            ("w", &i.width),
            ("h", &i.height),
            ("layout", &i.layout.as_str()),
            ("colour", &i.colour.as_str()),
            ("resize", &i.resize.as_str()),
            ("interp", &i.interpolation.as_str()),
            ("mean", &format!("{:?}", i.mean)),
            ("std", &format!("{:?}", i.std)),
        ],
    ));
    if let Some(cc) = i.colour_constancy {
        ui.label(lang.f(T::ModelColourConstancy, &[("cc", &cc.describe())]));
    }
    ui.label(lang.f(T::ModelOutputLine, &[("name", &c.output.name), ("kind", &c.output.kind.as_str())]));
    if !c.labels.is_empty() {
        egui::CollapsingHeader::new(format!("{} ({})", lang.t(T::ModelLabels), c.labels.len()))
            .id_salt(("model-labels", &c.name, &c.version))
            .default_open(true)
            .show(ui, |ui| {
                egui::Grid::new(("model-labels-grid", &c.name, &c.version)).striped(true).show(ui, |ui| {
                    for l in &c.labels {
                        ui.label(&l.key);
                        ui.label(l.code.as_deref().unwrap_or("–"));
                        ui.label(l.group.map(|g| g.as_str()).unwrap_or("–"));
                        let name = match lang {
                            Lang::Ja => l.ja.as_deref().unwrap_or(&l.en),
                            Lang::En => &l.en,
                        };
                        ui.label(name);
                        ui.end_row();
                    }
                });
            });
    }
    ui.label(format!("{}: {}", lang.t(T::ModelTrainingData), c.training.data));
    ui.label(format!("{}: {}", lang.t(T::ModelLicence), c.training.licence));
    for (k, v) in &c.training.other {
        ui.label(egui::RichText::new(format!("{k}: {}", value_text(v))).small());
    }
    if !c.metrics.is_empty() {
        egui::CollapsingHeader::new(lang.t(T::ModelFigures))
            .id_salt(("model-figures", &c.name, &c.version))
            .default_open(true)
            .show(ui, |ui| {
                egui::Grid::new(("model-figures-grid", &c.name, &c.version)).striped(true).show(ui, |ui| {
                    for (k, v) in &c.metrics {
                        ui.label(k);
                        ui.label(value_text(v));
                        ui.end_row();
                    }
                });
            });
    }
    ui.label(egui::RichText::new(m.dir.display().to_string()).small().weak());
}

/// A card value as written: strings without their quotes.
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}
