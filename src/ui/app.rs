//! App state, the command queue, and the per-frame logic.

use super::command::Command;
use super::i18n::{Lang, T};
use super::query::{GridQuery, GridResult};
use super::thumb_cache::ThumbCache;
use super::viewer::{DecodeRequest, FullDecoder, Viewer};
use crate::archive::{self, ImportOptions};
use crate::jobs::{Job, JobOutput, Progress};
use crate::modality::Rule;
use crate::store::{AuditRow, GridItem, PhotoDetail, PhotoFilter, RunStatus, Store};
use crate::thumbs::{self as thumb_job, ThumbOptions};
use crate::work::PoolOptions;
use poll_promise::Promise;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What a person set up and expects to find again: saved in the database's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UiState {
    pub lang: Lang,
    pub filter: PhotoFilter,
    /// Grid cell size in points.
    pub thumb_px: f32,
    pub show_filters: bool,
    pub show_details: bool,
    /// The role this person reviews masks in (remembered).
    pub review_role: Option<crate::masks::Role>,
}

impl Default for UiState {
    fn default() -> Self {
        UiState {
            lang: Lang::En,
            filter: PhotoFilter::default(),
            thumb_px: 150.0,
            show_filters: true,
            show_details: true,
            review_role: None,
        }
    }
}

const SETTINGS_KEY: &str = "ui.state";
pub const THUMB_PX_RANGE: std::ops::RangeInclusive<f32> = 80.0..=320.0;

pub struct AppConfig {
    pub db: PathBuf,
    /// The executable that serves as decoder worker (this one, or the built binary in tests).
    pub worker_exe: PathBuf,
    /// Imported as soon as the app opens (the demo archive on first run).
    pub import_on_start: Vec<PathBuf>,
    pub thumb_loader_threads: usize,
    /// Who is at the keyboard: annotator and reviewer of the masks drawn here.
    pub user: String,
}

impl AppConfig {
    pub fn new(db: PathBuf) -> AppConfig {
        AppConfig {
            db,
            worker_exe: crate::work::default_exe(),
            import_on_start: Vec::new(),
            thumb_loader_threads: 2,
            user: crate::util::current_user(),
        }
    }
}

pub struct Notice {
    pub at: Instant,
    pub text: String,
    pub error: bool,
}

pub struct App {
    pub cfg: AppConfig,
    pub(super) store: Store,
    pub state: UiState,
    saved_state: UiState,
    pub items: Vec<GridItem>,
    pub(super) query: GridQuery,
    pub query_error: Option<String>,
    pub(super) thumbs: ThumbCache,
    pub selection: BTreeSet<i64>,
    /// Index into `items` of the photo with keyboard focus.
    pub focus: Option<usize>,
    pub(super) anchor: Option<usize>,
    pub viewer: Option<Viewer>,
    decoder: FullDecoder,
    /// The mask panel, over the viewer, while open.
    pub annotator: Option<super::annotator::Annotator>,
    pub review_queue: Option<super::review_queue::ReviewQueue>,
    pub(super) detail: Option<(PhotoDetail, Vec<AuditRow>)>,
    pub jobs: Vec<Job<JobOutput>>,
    commands: Vec<Command>,
    pub notices: Vec<Notice>,
    pub show_palette: bool,
    pub(super) palette_query: String,
    pub show_log: bool,
    pub show_rules: bool,
    pub(super) rules_draft: Option<Vec<Rule>>,
    pub(super) visia_draft: String,
    pub interrupted: usize,
    folder_dialog: Option<Promise<Option<Vec<PathBuf>>>>,
    /// The Add-folder window: open, and the path typed or picked in it.
    pub show_add: bool,
    pub(super) add_path: String,
    pub(super) add_focus: u8,
    pub(super) scroll_to_focus: bool,
    pub(super) focus_search: bool,
    last_refresh: Instant,
    pub(super) columns: usize,
    pub(super) date_text: (String, String),
    pub(super) path_edited: Option<Instant>,
    pub(super) path_text: String,
    pub loaded_once: bool,
    thumbs_healed: bool,
    pub modality_counts: std::collections::BTreeMap<String, u64>,
    pub(super) grid_scroll: (f32, f32),
    pub(super) log_cache: Option<(Instant, Vec<crate::store::ImportRunRow>, Vec<crate::store::RefusalRow>)>,
}

impl App {
    pub fn new(ctx: &egui::Context, mut store: Store, cfg: AppConfig) -> App {
        super::fonts::install(ctx);
        let state: UiState =
            store.setting(SETTINGS_KEY).ok().flatten().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
        let interrupted =
            store.mark_dead_runs_interrupted().and_then(|_| store.runs_to_resume()).map(|r| r.len()).unwrap_or(0);
        let mut query = GridQuery::new(cfg.db.clone(), ctx.clone());
        query.request(state.filter.clone());
        let thumbs = ThumbCache::new(store.thumb_db_path(), ctx, cfg.thumb_loader_threads);
        let mut commands = Vec::new();
        if !cfg.import_on_start.is_empty() {
            commands.push(Command::Import(cfg.import_on_start.clone()));
        }
        let date_text = (state.filter.from.clone().unwrap_or_default(), state.filter.to.clone().unwrap_or_default());
        let path_text = state.filter.path_contains.clone();
        let decoder = FullDecoder::new(cfg.worker_exe.clone(), ctx.clone());
        App {
            decoder,
            cfg,
            store,
            saved_state: state.clone(),
            state,
            items: Vec::new(),
            query,
            query_error: None,
            thumbs,
            selection: BTreeSet::new(),
            focus: None,
            anchor: None,
            viewer: None,
            annotator: None,
            review_queue: None,
            detail: None,
            jobs: Vec::new(),
            commands,
            notices: Vec::new(),
            show_palette: false,
            palette_query: String::new(),
            show_log: false,
            show_rules: false,
            rules_draft: None,
            visia_draft: String::new(),
            interrupted,
            folder_dialog: None,
            show_add: false,
            add_path: String::new(),
            add_focus: 0,
            scroll_to_focus: false,
            focus_search: false,
            last_refresh: Instant::now(),
            columns: 1,
            date_text,
            path_edited: None,
            path_text,
            loaded_once: false,
            thumbs_healed: false,
            modality_counts: Default::default(),
            grid_scroll: (0.0, 0.0),
            log_cache: None,
        }
    }

    pub fn lang(&self) -> Lang {
        self.state.lang
    }

    pub fn t(&self, key: T) -> &'static str {
        self.state.lang.t(key)
    }

    /// Queues a command; it runs at the start of the next frame.
    pub fn push(&mut self, c: Command) {
        self.commands.push(c);
    }

    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notices.push(Notice { at: Instant::now(), text: text.into(), error });
        if self.notices.len() > 50 {
            self.notices.remove(0);
        }
    }

    /// What the Add-folder window's path field holds.
    pub fn add_path_text(&self) -> &str {
        &self.add_path
    }

    /// How far the grid is scrolled, in points.
    pub fn grid_scroll_offset(&self) -> f32 {
        self.grid_scroll.0
    }

    /// Thumbnails textures loaded, and whether no thumbnail load is pending.
    pub fn thumb_status(&self) -> (usize, bool) {
        (self.thumbs.loaded(), self.thumbs.is_idle())
    }

    pub fn is_busy(&self) -> bool {
        self.jobs.iter().any(|j| j.is_running())
            || self.query.is_pending()
            || self.folder_dialog.is_some()
            || self.annotator.as_ref().is_some_and(|a| a.is_loading() || !a.all_saved())
            || self.review_queue.as_ref().is_some_and(|q| q.is_loading())
    }

    pub fn focused_id(&self) -> Option<i64> {
        self.focus.and_then(|i| self.items.get(i)).map(|it| it.id)
    }

    pub fn refresh(&mut self) {
        self.query.request(self.state.filter.clone());
        self.last_refresh = Instant::now();
    }

    /// Everything that is not drawing: commands, jobs, queries, keys, settings.
    pub fn logic(&mut self, ctx: &egui::Context) {
        if let Some(d) = &self.folder_dialog
            && let Some(picked) = d.ready()
        {
            // The system dialog's choice lands in the Add-folder window's field (several
            // folders at once are imported straight away).
            match picked.clone().unwrap_or_default().as_slice() {
                [] => {}
                [one] => self.add_path = one.display().to_string(),
                many => {
                    self.push(Command::Import(many.to_vec()));
                    self.show_add = false;
                }
            }
            self.folder_dialog = None;
        }
        self.keys(ctx);
        // Folders or files dropped on the window are imported.
        let dropped: Vec<PathBuf> = ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        if !dropped.is_empty() {
            self.push(Command::Import(dropped));
        }
        for cmd in std::mem::take(&mut self.commands) {
            self.run(cmd, ctx);
        }
        self.poll_jobs();
        if let Some(result) = self.query.poll() {
            self.take_items(result);
        }
        if let Some(t) = self.path_edited
            && t.elapsed() > Duration::from_millis(250)
        {
            self.path_edited = None;
            self.state.filter.path_contains = self.path_text.clone();
            self.refresh();
        }
        let importing = self.jobs.iter().any(|j| j.is_running());
        if importing && self.last_refresh.elapsed() > Duration::from_secs(2) {
            self.refresh();
            self.thumbs.retry_absent();
        }
        self.thumbs.poll(ctx);
        // Thumbnails missing from the cache (it was cleared, or moved with the database) are
        // made again in the background, once per session, when nothing else is running.
        if !self.thumbs_healed && self.thumbs.absent_count() > 0 && self.jobs.is_empty() {
            self.thumbs_healed = true;
            self.start_thumbnails(ctx);
        }
        if let Some(v) = &mut self.viewer {
            v.poll(ctx, &mut self.decoder);
        }
        if let Some(a) = &mut self.annotator {
            a.poll(ctx);
        }
        if let Some(q) = &mut self.review_queue {
            q.poll();
        }
        self.load_detail();
        if self.state != self.saved_state {
            if let Ok(json) = serde_json::to_string(&self.state)
                && let Err(e) = self.store.set_setting(SETTINGS_KEY, &json)
            {
                self.notify(e.to_string(), true);
            }
            self.saved_state = self.state.clone();
        }
        if self.is_busy() {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }

    fn take_items(&mut self, result: Result<GridResult, String>) {
        let keep = self.focused_id();
        match result {
            Ok(r) => {
                self.items = r.items;
                self.modality_counts = r.counts;
                self.query_error = None;
                self.loaded_once = true;
                self.focus = keep.and_then(|id| self.items.iter().position(|it| it.id == id));
                let present: BTreeSet<i64> = self.items.iter().map(|it| it.id).collect();
                self.selection.retain(|id| present.contains(id));
            }
            Err(e) => self.query_error = Some(e),
        }
    }

    fn load_detail(&mut self) {
        let want = self
            .annotator
            .as_ref()
            .map(|a| a.photo_id)
            .or_else(|| self.viewer.as_ref().map(|v| v.photo_id))
            .or_else(|| self.focused_id());
        if self.detail.as_ref().map(|(d, _)| d.row.id) == want {
            return;
        }
        self.detail = want.and_then(|id| {
            let d = self.store.photo(id).ok().flatten()?;
            let audit = self.store.audit_for_photo(id).unwrap_or_default();
            Some((d, audit))
        });
    }

    fn poll_jobs(&mut self) {
        let lang = self.lang();
        let mut finished = Vec::new();
        self.jobs.retain_mut(|job| match job.ready() {
            None => true,
            Some(r) => {
                finished.push(match r {
                    Ok(out) => summary(out, lang),
                    Err(e) => (lang.f(T::JobFailed, &[("name", &job.name), ("e", e)]), true),
                });
                false
            }
        });
        for (text, error) in finished {
            self.notify(text, error);
            self.interrupted = self.store.runs_to_resume().map(|r| r.len()).unwrap_or(0);
            self.thumbs.retry_absent();
            self.detail = None;
            self.refresh();
        }
    }

    /// Starts a background job that repaints the window as it progresses.
    fn spawn(
        &mut self,
        name: T,
        ctx: &egui::Context,
        work: impl FnOnce(&Progress) -> crate::Result<JobOutput> + Send + 'static,
    ) {
        let progress = Progress::new();
        let c = ctx.clone();
        progress.set_waker(move || c.request_repaint());
        self.jobs.push(Job::spawn(self.t(name), progress, work));
    }

    fn start_import(&mut self, paths: Vec<PathBuf>, ctx: &egui::Context) {
        let db = self.cfg.db.clone();
        let opts = ImportOptions::with_exe(self.cfg.worker_exe.clone());
        self.spawn(T::JobImport, ctx, move |p| archive::import(&db, &paths, &opts, p).map(JobOutput::Import));
    }

    fn start_thumbnails(&mut self, ctx: &egui::Context) {
        let db = self.cfg.db.clone();
        let opts = ThumbOptions { pool: PoolOptions::new(self.cfg.worker_exe.clone()), ..Default::default() };
        self.spawn(T::JobThumbs, ctx, move |p| thumb_job::run(&db, &opts, p).map(JobOutput::Thumbnails));
    }

    pub(super) fn open(&mut self, id: i64, ctx: &egui::Context) {
        let detail = self.store.photo(id).ok().flatten();
        let request = detail.and_then(|d| {
            let path = d.row.paths.into_iter().next()?;
            Some(DecodeRequest { path: PathBuf::from(path), orientation: d.row.orientation, hash: d.row.hash })
        });
        if let Some(i) = self.items.iter().position(|it| it.id == id) {
            self.focus = Some(i);
        }
        let _ = ctx;
        self.viewer = Some(Viewer::open(id, request, &mut self.decoder));
    }

    /// Moves the focus; the selection follows it (or, with `extend`, grows from the anchor),
    /// as in a file manager.
    fn step(&mut self, delta: isize, extend: bool, ctx: &egui::Context) {
        if self.items.is_empty() {
            return;
        }
        let last = self.items.len() as isize - 1;
        let i = match self.focus {
            Some(i) => (i as isize + delta).clamp(0, last),
            None => 0,
        } as usize;
        self.focus = Some(i);
        if extend {
            let from = self.anchor.unwrap_or(i);
            let (a, b) = (from.min(i), from.max(i));
            self.selection = self.items[a..=b].iter().map(|it| it.id).collect();
        } else {
            self.anchor = Some(i);
            self.selection = std::iter::once(self.items[i].id).collect();
        }
        self.scroll_to_focus = true;
        if self.viewer.is_some() {
            let id = self.items[i].id;
            self.open(id, ctx);
        }
    }

    fn run(&mut self, cmd: Command, ctx: &egui::Context) {
        let lang = self.lang();
        match cmd {
            Command::AddFolder => {
                self.show_add = true;
                self.add_focus = 3;
            }
            Command::BrowseFolder => {
                if self.folder_dialog.is_none() {
                    let title = self.t(T::AddFolder).to_owned();
                    self.folder_dialog = Some(Promise::spawn_thread("folder-dialog", move || {
                        rfd::FileDialog::new().set_title(title).pick_folders()
                    }));
                }
            }
            Command::Import(paths) => self.start_import(paths, ctx),
            Command::ResumeImports => {
                let mut paths: Vec<PathBuf> = Vec::new();
                for (_, roots) in self.store.runs_to_resume().unwrap_or_default() {
                    for r in roots {
                        let p = PathBuf::from(r);
                        if !paths.contains(&p) {
                            paths.push(p);
                        }
                    }
                }
                if !paths.is_empty() {
                    self.start_import(paths, ctx);
                }
            }
            Command::MakeThumbnails => self.start_thumbnails(ctx),
            Command::CancelJob(id) => {
                if let Some(j) = self.jobs.iter().find(|j| j.id == id) {
                    j.progress.cancel();
                }
            }
            Command::Refresh => {
                self.thumbs.retry_absent();
                self.refresh();
            }
            Command::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            Command::ToggleCommandPalette => {
                self.show_palette = !self.show_palette;
                self.palette_query.clear();
            }
            Command::ToggleImportLog => self.show_log = !self.show_log,
            Command::ToggleRules => {
                self.show_rules = !self.show_rules;
                self.rules_draft = None;
            }
            Command::ToggleDetails => self.state.show_details = !self.state.show_details,
            Command::ToggleFilters => self.state.show_filters = !self.state.show_filters,
            Command::ToggleLanguage => {
                self.state.lang = if lang == Lang::En { Lang::Ja } else { Lang::En };
            }
            Command::SetLanguage(l) => self.state.lang = l,
            Command::Open(id) => self.open(id, ctx),
            Command::OpenFocused => {
                if let Some(id) = self.focused_id() {
                    self.open(id, ctx);
                }
            }
            Command::CloseViewer => {
                self.viewer = None;
                self.scroll_to_focus = true;
            }
            Command::Next => self.step(1, false, ctx),
            Command::Prev => self.step(-1, false, ctx),
            Command::SelectAll => self.selection = self.items.iter().map(|it| it.id).collect(),
            Command::ClearSelection => self.selection.clear(),
            Command::SetModality(m) => {
                let viewed = self.viewer.as_ref().map(|v| v.photo_id);
                let ids: Vec<i64> = if let Some(id) = viewed {
                    vec![id]
                } else if self.selection.is_empty() {
                    self.focused_id().into_iter().collect()
                } else {
                    self.selection.iter().copied().collect()
                };
                if !ids.is_empty() {
                    match self.store.set_modality(&ids, m) {
                        Ok(n) => {
                            let label = Command::SetModality(m).label(lang);
                            self.notify(format!("{label} ({n})"), false);
                        }
                        Err(e) => self.notify(e.to_string(), true),
                    }
                    self.detail = None;
                    self.refresh();
                }
            }
            Command::ZoomIn | Command::ZoomOut => {
                let f = if cmd == Command::ZoomIn { 1.25 } else { 0.8 };
                if let Some(a) = &mut self.annotator {
                    a.zoom_by(f);
                    return;
                }
                match &mut self.viewer {
                    Some(v) => v.zoom_by(f),
                    None => {
                        self.state.thumb_px =
                            (self.state.thumb_px * f).clamp(*THUMB_PX_RANGE.start(), *THUMB_PX_RANGE.end())
                    }
                }
            }
            Command::LargerThumbs => self.state.thumb_px = (self.state.thumb_px * 1.25).min(*THUMB_PX_RANGE.end()),
            Command::SmallerThumbs => self.state.thumb_px = (self.state.thumb_px * 0.8).max(*THUMB_PX_RANGE.start()),
            Command::ZoomFit => {
                if let Some(a) = &mut self.annotator {
                    a.zoom_fit();
                } else if let Some(v) = &mut self.viewer {
                    v.zoom_fit();
                }
            }
            Command::ZoomActual => {
                if let Some(a) = &mut self.annotator {
                    a.zoom_actual(ctx.pixels_per_point());
                } else if let Some(v) = &mut self.viewer {
                    v.zoom_actual(ctx.pixels_per_point());
                }
            }
            Command::ClearFilters => {
                let sort = (self.state.filter.sort, self.state.filter.descending);
                self.state.filter = PhotoFilter { sort: sort.0, descending: sort.1, ..Default::default() };
                self.date_text = Default::default();
                self.path_text.clear();
                self.refresh();
            }
            Command::FocusSearch => {
                self.state.show_filters = true;
                self.focus_search = true;
            }
            Command::Annotate => {
                let id = self.viewer.as_ref().map(|v| v.photo_id).or_else(|| self.focused_id());
                if let Some(id) = id {
                    let (db, exe, me) = (self.cfg.db.clone(), self.cfg.worker_exe.clone(), self.cfg.user.clone());
                    self.annotator = Some(super::annotator::Annotator::open(db, exe, me, id, None, ctx));
                }
            }
            Command::OpenLesion { photo_id, lesion_id } => {
                let (db, exe, me) = (self.cfg.db.clone(), self.cfg.worker_exe.clone(), self.cfg.user.clone());
                self.annotator = Some(super::annotator::Annotator::open(db, exe, me, photo_id, Some(lesion_id), ctx));
            }
            Command::CloseAnnotator => {
                self.annotator = None;
                self.detail = None;
            }
            Command::Annotation(a) => {
                if let Some(an) = &mut self.annotator {
                    an.run(a);
                }
            }
            Command::ToggleReviewQueue => {
                self.review_queue = match self.review_queue {
                    Some(_) => None,
                    None => Some(super::review_queue::ReviewQueue::open(self.cfg.db.clone(), ctx)),
                };
            }
        }
    }

    /// Shortcuts. Keys that type into a text field (arrows, letters) are left to it.
    fn keys(&mut self, ctx: &egui::Context) {
        let typing = ctx.egui_wants_keyboard_input();
        let annotating = self.annotator.is_some();
        for cmd in Command::palette() {
            let Some(sc) = cmd.shortcut() else { continue };
            if typing && cmd != Command::ToggleCommandPalette {
                continue;
            }
            // Annotation keys only while the mask panel is open (Space pans while held
            // there, it does not pick a tool); M only when it is not.
            if (cmd.needs_annotator() && !annotating)
                || (annotating && cmd == Command::Annotate)
                || cmd == Command::Annotation(super::command::Ann::SetTool(super::command::Tool::Pan))
            {
                continue;
            }
            if ctx.input_mut(|i| i.consume_shortcut(&sc)) {
                self.push(cmd);
            }
        }
        if typing || self.show_palette {
            return;
        }
        use egui::Key;
        let pressed = |k: Key| ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, k));
        if let Some(an) = &self.annotator {
            let drawing = !an.polygon.is_empty();
            if pressed(Key::Escape) {
                self.push(if drawing {
                    Command::Annotation(super::command::Ann::PolygonCancel)
                } else {
                    Command::CloseAnnotator
                });
            }
            if drawing && pressed(Key::Enter) {
                self.push(Command::Annotation(super::command::Ann::PolygonClose));
            }
            if pressed(Key::Plus) || pressed(Key::Equals) {
                self.push(Command::ZoomIn);
            }
            if pressed(Key::Minus) {
                self.push(Command::ZoomOut);
            }
            if pressed(Key::Num0) {
                self.push(Command::ZoomFit);
            }
            if pressed(Key::Num1) {
                self.push(Command::ZoomActual);
            }
            return;
        }
        if self.viewer.is_some() {
            if pressed(Key::Escape) {
                self.push(Command::CloseViewer);
            }
            if pressed(Key::ArrowRight) || pressed(Key::PageDown) {
                self.push(Command::Next);
            }
            if pressed(Key::ArrowLeft) || pressed(Key::PageUp) {
                self.push(Command::Prev);
            }
            if pressed(Key::Plus) || pressed(Key::Equals) {
                self.push(Command::ZoomIn);
            }
            if pressed(Key::Minus) {
                self.push(Command::ZoomOut);
            }
            if pressed(Key::Num0) {
                self.push(Command::ZoomFit);
            }
            if pressed(Key::Num1) {
                self.push(Command::ZoomActual);
            }
            return;
        }
        let cols = self.columns.max(1) as isize;
        let n = self.items.len() as isize;
        for (key, delta) in [
            (Key::ArrowRight, 1),
            (Key::ArrowLeft, -1),
            (Key::ArrowDown, cols),
            (Key::ArrowUp, -cols),
            (Key::PageDown, cols * 4),
            (Key::PageUp, -cols * 4),
            (Key::Home, -n),
            (Key::End, n),
        ] {
            if pressed(key) {
                self.step(delta, false, ctx);
            }
            if ctx.input_mut(|i| i.consume_key(egui::Modifiers::SHIFT, key)) {
                self.step(delta, true, ctx);
            }
        }
        if pressed(Key::Enter) {
            self.push(Command::OpenFocused);
        }
        if pressed(Key::Space)
            && let Some(id) = self.focused_id()
            && !self.selection.remove(&id)
        {
            self.selection.insert(id);
        }
        if pressed(Key::Escape) {
            self.push(Command::ClearSelection);
        }
        if pressed(Key::Plus) || pressed(Key::Equals) {
            self.push(Command::LargerThumbs);
        }
        if pressed(Key::Minus) {
            self.push(Command::SmallerThumbs);
        }
    }

    /// The whole window.
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        super::menu::ui(self, ui);
        super::status::ui(self, ui);
        if self.state.show_filters && self.viewer.is_none() && self.annotator.is_none() {
            super::filters::ui(self, ui);
        }
        if self.state.show_details {
            super::details::ui(self, ui);
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if self.annotator.is_some() {
                super::annotate::ui(self, ui);
            } else if self.viewer.is_some() {
                let placeholder = self
                    .viewer
                    .as_ref()
                    .and_then(|v| self.items.iter().find(|it| it.id == v.photo_id).map(|it| it.hash.clone()));
                let tex = placeholder.and_then(|h| self.thumbs.get(&h));
                let lang = self.lang();
                if let Some(v) = &mut self.viewer {
                    v.ui(ui, lang, tex.as_ref());
                }
            } else {
                super::browser::ui(self, ui);
            }
        });
        let ctx = ui.ctx().clone();
        super::palette::ui(self, &ctx);
        super::import_log::ui(self, &ctx);
        super::rules::ui(self, &ctx);
        super::add_folder::ui(self, &ctx);
        super::review_queue::ui(self, &ctx);
    }
}

/// What to tell the person when a job ends, and whether it is bad news.
fn summary(out: &JobOutput, lang: Lang) -> (String, bool) {
    match out {
        JobOutput::Import(r) if r.status == RunStatus::Cancelled => (lang.t(T::ImportCancelled).to_owned(), false),
        JobOutput::Import(r) => {
            let text = lang.f(
                T::ImportSummary,
                &[
                    ("new", &r.counts.new_photos),
                    ("loc", &r.counts.new_locations),
                    ("refused", &r.counts.refused),
                    ("missing", &r.counts.missing),
                ],
            );
            match &r.message {
                Some(m) => (format!("{text} — {m}"), r.status == RunStatus::Failed),
                None => (text, false),
            }
        }
        JobOutput::Thumbnails(r) => {
            (lang.f(T::ThumbSummary, &[("made", &r.made), ("failed", &r.failed)]), r.failed > 0)
        }
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        App::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }
}

/// Shown instead of the app when the database cannot be opened: what is wrong and where.
pub struct ErrorApp {
    message: String,
}

impl ErrorApp {
    pub fn new(ctx: &egui::Context, message: String) -> ErrorApp {
        super::fonts::install(ctx);
        ErrorApp { message }
    }
}

impl eframe::App for ErrorApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default_margins().show(ui, |ui| {
            ui.heading(format!("{} / {}", T::DatabaseError.en(), T::DatabaseError.ja()));
            ui.add_space(8.0);
            ui.label(&self.message);
        });
    }
}
