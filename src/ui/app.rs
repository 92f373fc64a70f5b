//! App state, the command queue, and the per-frame logic.
//!
//! `logic()` drains the command queue, polls background work and routes keys; `draw()`
//! draws. Neither touches SQLite or a file: the store answers on its own thread
//! (`StoreThread`), the grid's data comes from its own thread (`Grid`), decodes run in
//! worker processes, and each panel keeps the promise of what it asked for.

use super::command::Command;
use super::details::DetailsPanel;
use super::i18n::{Lang, T};
use super::query::Grid;
use super::thumb_cache::ThumbCache;
use super::viewer::{DecodeRequest, FullDecoder, Viewer};
use super::{add_folder, chart_details, chart_import, filters, import_log, link_queue, palette, rules, timeline};
use crate::archive::{self, ImportOptions};
use crate::jobs::{Job, JobOutput, Progress};
use crate::modality::Modality;
use crate::store::thread::{Pending, StoreThread};
use crate::store::{PhotoFilter, PriorModality, RunStatus, Store};
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
    /// The executable that serves as worker (this one, or the built binary in tests).
    pub worker_exe: PathBuf,
    /// Imported as soon as the app opens (the demo archive on first run).
    pub import_on_start: Vec<PathBuf>,
    pub thumb_loader_threads: usize,
    /// Make missing thumbnails in the background when the grid finds some (off in the
    /// browser benchmark, whose synthetic photos have no files to make them from).
    pub heal_thumbnails: bool,
    /// Who is at the keyboard: annotator and reviewer of the masks drawn here.
    pub user: String,
    /// On first run: after the demo import, invent charts for the demo photos and link them.
    pub demo_charts: Option<DemoCharts>,
}

/// Where the demo's images come from and where its invented charts are written.
#[derive(Clone, Debug)]
pub struct DemoCharts {
    pub shared: PathBuf,
    pub out: PathBuf,
}

impl AppConfig {
    pub fn new(db: PathBuf) -> AppConfig {
        AppConfig {
            db,
            worker_exe: crate::work::default_exe(),
            import_on_start: Vec::new(),
            thumb_loader_threads: 2,
            heal_thumbnails: true,
            user: crate::util::current_user(),
            demo_charts: None,
        }
    }
}

pub struct Notice {
    pub at: Instant,
    pub text: String,
    pub error: bool,
}

/// Windows that sit above the grid. The topmost owns the keyboard; Esc closes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay {
    Palette,
    AddFolder,
    ImportLog,
    Rules,
    Help,
    ReviewQueue,
    LinkQueue,
    Timeline,
    ChartImport,
    PrivacyReview,
    Models,
}

/// A write sent to the store thread, and what its answer means.
enum Write {
    Modality { label: String, undo: bool },
    Settings,
}

pub struct App {
    pub cfg: AppConfig,
    pub state: UiState,
    saved_state: UiState,
    pub(super) store: StoreThread,
    pub grid: Grid,
    pub(super) thumbs: ThumbCache,
    pub selection: BTreeSet<i64>,
    /// Position in the grid of the photo with keyboard focus.
    pub focus: Option<usize>,
    pub(super) anchor: Option<usize>,
    pub viewer: Option<Viewer>,
    decoder: FullDecoder,
    /// The mask panel, over the viewer, while open.
    pub annotator: Option<super::annotator::Annotator>,
    pub review_queue: Option<super::review_queue::ReviewQueue>,
    /// The privacy review panel, while open.
    pub privacy_review: Option<super::privacy_review::PrivacyReview>,
    /// The screening job, while it runs (one at a time).
    screen_job: Option<u64>,
    /// The viewer's photo, while its file's path is being looked up.
    opening: Option<(i64, Pending<Option<DecodeRequest>>)>,
    pub(super) details: DetailsPanel,
    /// The chart section of the details panel.
    pub chart_facts: chart_details::ChartDetails,
    pub predictions: super::predictions::PredictionPanel,
    /// The classifier's occlusion heatmap over the viewer's photo.
    pub heatmap: super::occlusion::HeatmapView,
    pub link_queue: link_queue::LinkQueuePanel,
    pub timeline: timeline::TimelinePanel,
    pub chart_import: chart_import::ChartImportPanel,
    pub jobs: Vec<Job<JobOutput>>,
    commands: Vec<Command>,
    pub notices: Vec<Notice>,
    /// Open windows, topmost last.
    pub(super) overlays: Vec<Overlay>,
    pub(super) palette: palette::PalettePanel,
    pub(super) log: import_log::LogPanel,
    pub(super) rules: rules::RulesPanel,
    pub(super) add: add_folder::AddFolderPanel,
    pub(super) filters: filters::FiltersPanel,
    /// The Models window (registered models, adding one's own).
    pub models: super::models_page::ModelsPanel,
    writes: Vec<(Write, Pending<Vec<PriorModality>>)>,
    /// Modality edits that Ctrl+Z undoes, newest last.
    undo: Vec<Vec<PriorModality>>,
    pub interrupted: usize,
    interrupted_check: Option<Pending<usize>>,
    /// The database's integrity check, until it answers.
    integrity: Option<Pending<()>>,
    folder_dialog: Option<Promise<Option<Vec<PathBuf>>>>,
    pub(super) scroll_to_focus: bool,
    last_refresh: Instant,
    /// Another process's commits, noticed while idle (the command line's `infer`, say).
    outside: super::outside_writes::OutsideWrites,
    /// Panels reloaded for another process's write, this session (tests read it).
    pub outside_reloads: usize,
    pub(super) columns: usize,
    thumbs_healed: bool,
    pub(super) grid_scroll: (f32, f32),
    /// Grid positions of the cells drawn last frame.
    pub visible: std::ops::Range<usize>,
    /// A new filter or order shows from the top.
    pub(super) scroll_to_top: bool,
    /// A move past the head of a new order (End just after sorting), made once the whole
    /// list is in.
    pending_step: Option<(isize, StepSelect)>,
}

impl App {
    /// The app over `store` (opened, checked and migrated by the caller). Reads the saved
    /// state once, here, before the first frame.
    pub fn new(ctx: &egui::Context, mut store: Store, cfg: AppConfig) -> App {
        super::fonts::install(ctx);
        let state: UiState =
            store.setting(SETTINGS_KEY).ok().flatten().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
        let interrupted =
            store.mark_dead_runs_interrupted().and_then(|_| store.runs_to_resume()).map(|r| r.len()).unwrap_or(0);
        let thumb_db = store.thumb_db_path();
        let classifiers: Vec<String> = store
            .model_rows()
            .map(|rows| rows.into_iter().filter(|r| r.task == "classification").map(|r| r.name).collect())
            .unwrap_or_default();
        drop(store);
        let waker = ctx.clone();
        let store = StoreThread::start_checked(&cfg.db, move || waker.request_repaint());
        let waker = ctx.clone();
        let outside = super::outside_writes::OutsideWrites::start(&cfg.db, &store, move || waker.request_repaint());
        // The check runs first on the store thread; its answer (ok, or the damage) is shown.
        let integrity = store.ask(|_| Ok(()));
        let mut grid = Grid::new(cfg.db.clone(), ctx.clone());
        grid.request(state.filter.clone());
        let thumbs = ThumbCache::new(thumb_db, ctx, cfg.thumb_loader_threads);
        let mut commands = Vec::new();
        if !cfg.import_on_start.is_empty() {
            commands.push(Command::Import(cfg.import_on_start.clone()));
        }
        let mut filters = filters::FiltersPanel::new(&state.filter);
        filters.add_classifiers(classifiers.iter().map(String::as_str));
        let decoder = FullDecoder::new(cfg.worker_exe.clone(), ctx.clone());
        App {
            cfg,
            saved_state: state.clone(),
            state,
            store,
            grid,
            thumbs,
            selection: BTreeSet::new(),
            focus: None,
            anchor: None,
            viewer: None,
            annotator: None,
            review_queue: None,
            privacy_review: None,
            screen_job: None,
            decoder,
            opening: None,
            details: DetailsPanel::default(),
            chart_facts: Default::default(),
            predictions: Default::default(),
            heatmap: Default::default(),
            link_queue: Default::default(),
            timeline: Default::default(),
            chart_import: Default::default(),
            jobs: Vec::new(),
            commands,
            notices: Vec::new(),
            overlays: Vec::new(),
            palette: Default::default(),
            log: Default::default(),
            rules: Default::default(),
            add: Default::default(),
            filters,
            models: Default::default(),
            writes: Vec::new(),
            undo: Vec::new(),
            interrupted,
            interrupted_check: None,
            integrity: Some(integrity),
            folder_dialog: None,
            scroll_to_focus: false,
            last_refresh: Instant::now(),
            outside,
            outside_reloads: 0,
            columns: 1,
            thumbs_healed: false,
            grid_scroll: (0.0, 0.0),
            visible: 0..0,
            scroll_to_top: false,
            pending_step: None,
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

    pub fn is_open(&self, o: Overlay) -> bool {
        self.overlays.contains(&o)
    }

    pub(super) fn open_overlay(&mut self, o: Overlay) {
        self.overlays.retain(|x| *x != o);
        self.overlays.push(o);
    }

    pub(super) fn close_overlay(&mut self, o: Overlay) {
        self.overlays.retain(|x| *x != o);
        if o == Overlay::PrivacyReview {
            self.privacy_review = None;
        }
    }

    fn toggle_overlay(&mut self, o: Overlay) {
        if self.is_open(o) { self.close_overlay(o) } else { self.open_overlay(o) }
    }

    /// What the Add-folder window's path field holds.
    pub fn add_path_text(&self) -> &str {
        &self.add.path
    }

    /// Whether the Add-folder window's path is a folder, once the background check answered.
    pub fn add_path_is_folder(&self) -> Option<bool> {
        self.add.checked_now()
    }

    /// How far the grid is scrolled, in points.
    pub fn grid_scroll_offset(&self) -> f32 {
        self.grid_scroll.0
    }

    /// Thumbnails textures loaded, and whether no thumbnail load is pending.
    pub fn thumb_status(&self) -> (usize, bool) {
        (self.thumbs.loaded(), self.thumbs.is_idle())
    }

    /// Something is still on its way: a job, the grid, a store answer, a decode.
    pub fn is_busy(&self) -> bool {
        self.jobs.iter().any(|j| j.is_running())
            || !self.commands.is_empty()
            || self.grid.is_pending()
            || self.folder_dialog.is_some()
            || !self.writes.is_empty()
            || self.opening.is_some()
            || self.details.is_loading()
            || self.rules.is_busy()
            || self.log.is_loading()
            || self.annotator.as_ref().is_some_and(|a| a.is_loading() || !a.all_saved())
            || self.review_queue.as_ref().is_some_and(|q| q.is_loading())
            || self.chart_facts.is_loading()
            || self.predictions.is_loading()
            || self.heatmap.is_running()
            || (self.is_open(Overlay::LinkQueue) && self.link_queue.is_loading())
            || (self.is_open(Overlay::Timeline) && self.timeline.is_loading())
            || self.chart_import.is_busy()
            || self.privacy_review.as_ref().is_some_and(|p| p.is_busy())
    }

    /// The grid's list is in and every cell on screen has its row: what a person sees is
    /// complete (thumbnails aside, which fill in on their own).
    pub fn screen_filled(&self) -> bool {
        let list = self.grid.is_partial() || (self.grid.loaded_once && !self.grid.is_pending());
        list && self.grid.is_loaded(self.visible.clone())
    }

    pub fn focused_id(&self) -> Option<i64> {
        self.focus.and_then(|i| self.grid.id(i))
    }

    pub fn refresh(&mut self) {
        self.grid.request(self.state.filter.clone());
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
                [one] => self.add.set_path(one.display().to_string()),
                many => {
                    self.push(Command::Import(many.to_vec()));
                    self.close_overlay(Overlay::AddFolder);
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
        self.poll_jobs(ctx);
        self.poll_writes();
        // The photo under the focus in the list as it was: a refresh that lands in the frame
        // a photo was focused (a job's end, another process's write) keeps it.
        let focused_before = self.focused_id();
        if self.grid.poll() {
            self.grid_changed(focused_before);
        }
        if let Some(text) = self.filters.debounced_path() {
            self.state.filter.path_contains = text;
            self.scroll_to_top = true;
            self.refresh();
        }
        let importing = self.jobs.iter().any(|j| j.is_running());
        if self.outside.take(!importing && self.writes.is_empty(), &self.store) {
            self.outside_reloads += 1;
            self.reload_panels(false);
        }
        if importing && self.last_refresh.elapsed() > Duration::from_secs(2) {
            self.refresh();
            self.thumbs.retry_absent();
        }
        self.thumbs.poll(ctx);
        // Thumbnails missing from the cache (it was cleared, or moved with the database) are
        // made again in the background, once per session, when nothing else is running.
        if self.cfg.heal_thumbnails && !self.thumbs_healed && self.thumbs.absent_count() > 0 && self.jobs.is_empty() {
            self.thumbs_healed = true;
            self.start_thumbnails(ctx);
        }
        self.poll_viewer(ctx);
        let want = self
            .annotator
            .as_ref()
            .map(|a| a.photo_id)
            .or_else(|| self.viewer.as_ref().map(|v| v.photo_id))
            .or_else(|| self.focused_id());
        self.details.show(want, &self.store);
        self.chart_facts.show(want, &self.store);
        self.predictions.show(want, &self.store);
        self.heatmap.poll(self.viewer.as_ref().map(|v| v.photo_id));
        let overlay = self.heatmap.texture(ctx);
        if let Some(v) = &mut self.viewer {
            v.overlay = overlay;
        }
        if self.is_open(Overlay::Timeline) {
            self.timeline.show(want, &self.store);
        }
        if self.is_open(Overlay::LinkQueue)
            && let Some(done) = self.link_queue.poll(&self.store)
        {
            match done {
                Ok(l) => {
                    let status = self.t(chart_details::status_key(l.status));
                    let text = self.lang().f(T::LinkSaved, &[("id", &l.photo_id), ("status", &status)]);
                    self.notify(text, false);
                    self.chart_facts.reload();
                    self.timeline.reload();
                    self.details.reload();
                }
                Err(e) => self.notify(e, true),
            }
        }
        if self.chart_import.poll() {
            self.push(Command::ChartImport(super::command::ChartImportAct::Preview));
        }
        if let Some(p) = &self.interrupted_check
            && let Some(r) = p.ready()
        {
            self.interrupted = r.as_ref().map(|n| *n).unwrap_or(0);
            self.interrupted_check = None;
        }
        if let Some(p) = &self.integrity
            && let Some(r) = p.ready()
        {
            if let Err(e) = r {
                let text = self.lang().f(T::DatabaseDamaged, &[("e", e)]);
                self.notify(text, true);
            }
            self.integrity = None;
        }
        self.rules.poll(&self.store);
        self.log.poll();
        if let Some(a) = &mut self.annotator {
            a.poll(ctx);
        }
        if let Some(q) = &mut self.review_queue {
            q.poll();
        }
        if let Some(p) = &mut self.privacy_review {
            let lang = self.state.lang;
            for (text, error) in p.poll(ctx, &self.store, &self.cfg.user, lang) {
                self.notify(text, error);
            }
        }
        if self.state != self.saved_state {
            if let Ok(json) = serde_json::to_string(&self.state) {
                let p = self.store.ask(move |s| s.set_setting(SETTINGS_KEY, &json).map(|_| Vec::new()));
                self.writes.push((Write::Settings, p));
            }
            self.saved_state = self.state.clone();
        }
        if self.is_busy() {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }

    /// A new list of ids came in: keep the focus and selection on the same photos.
    fn grid_changed(&mut self, focused_before: Option<i64>) {
        if !self.grid.is_partial()
            && let Some((delta, how)) = self.pending_step.take()
        {
            self.step(delta, how);
        }
        let focused = focused_before.or(self.details.want()).or(self.viewer.as_ref().map(|v| v.photo_id));
        let keep = self.focus.and(focused);
        self.focus = keep.and_then(|id| self.grid.position(id));
        self.anchor = self.anchor.filter(|_| self.focus.is_some());
        if !self.selection.is_empty() {
            let present: std::collections::HashSet<i64> = self.grid.ids().iter().copied().collect();
            self.selection.retain(|id| present.contains(id));
        }
    }

    fn poll_jobs(&mut self, ctx: &egui::Context) {
        let lang = self.lang();
        let mut finished = Vec::new();
        let mut imported = false;
        let mut total = None;
        let screen_job = &mut self.screen_job;
        let filters = &mut self.filters;
        self.jobs.retain_mut(|job| match job.ready() {
            None => true,
            Some(r) => {
                if *screen_job == Some(job.id) {
                    *screen_job = None;
                }
                if let Ok(JobOutput::Infer(reports)) = r {
                    filters.add_classifiers(
                        reports.iter().filter(|r| r.task == "classification").map(|r| r.model.as_str()),
                    );
                }
                // Whether it was a chart import (true) or a link run (false): both change links.
                let charts = match r {
                    Ok(JobOutput::Charts(_)) => Some(true),
                    Ok(JobOutput::Link(_)) | Ok(JobOutput::Infer(_)) => Some(false),
                    _ => None,
                };
                if let Ok(JobOutput::Charts(report)) = r {
                    total = Some(report.clone());
                }
                imported |= matches!(r, Ok(JobOutput::Import(_)));
                let (text, error) = match r {
                    Ok(out) => summary(out, lang),
                    Err(e) => (lang.f(T::JobFailed, &[("name", &job.name), ("e", e)]), true),
                };
                finished.push((text, error, charts));
                false
            }
        });
        if imported && let Some(demo) = self.cfg.demo_charts.take() {
            let db = self.cfg.db.clone();
            self.spawn(T::JobLinking, ctx, move |_| {
                let mut store = Store::open(&db)?;
                crate::charts::demo_archive::setup(&mut store, &demo.shared, &demo.out).map(|r| JobOutput::Link(r.link))
            });
        }
        for (text, error, charts) in finished {
            if charts == Some(true) {
                self.chart_import.imported = Some(text.clone());
                self.chart_import.total = total.take();
            }
            if charts.is_some() && self.is_open(Overlay::LinkQueue) {
                self.link_queue.open(&self.store);
            }
            self.notify(text, error);
            self.interrupted_check = Some(self.store.ask(|s| Ok(s.runs_to_resume()?.len())));
            self.thumbs.retry_absent();
            self.reload_panels(true);
        }
    }

    /// After the last version of model `name` was removed (`gone`) or another version of it:
    /// the photo panels read their results again, a classifier with no version left leaves
    /// the disagreement filter (and the filter, if it was on it), and a filter on the change
    /// between two of its versions goes (one of them may be the one removed).
    pub(super) fn model_removed(&mut self, name: &str, gone: bool) {
        let mut f = self.state.filter.clone();
        if gone {
            self.filters.classifiers.retain(|c| c != name);
            if f.disagrees_with.as_deref() == Some(name) {
                f.disagrees_with = None;
            }
        }
        if f.changed_between.as_ref().is_some_and(|v| v.model == name) {
            f.changed_between = None;
        }
        if f != self.state.filter {
            self.push(Command::SetFilter(Box::new(f)));
        }
        self.reload_panels(false);
    }

    /// What the panels show, read again: the details, the photo log, the grid, the Models
    /// window when open, and (after a job) the review queue when open. Not the queue after
    /// another process's write: reading the queue again moves the reviewer off their photo.
    fn reload_panels(&mut self, review_queue: bool) {
        self.details.reload();
        self.predictions.reload();
        self.chart_facts.reload();
        self.timeline.reload();
        self.log.reload();
        self.refresh();
        if self.is_open(Overlay::Models) {
            self.models.reread(&self.cfg.db);
        }
        if review_queue && let Some(p) = &mut self.privacy_review {
            p.reload(&self.store);
        }
    }

    fn poll_writes(&mut self) {
        let mut i = 0;
        while i < self.writes.len() {
            if self.writes[i].1.ready().is_none() {
                i += 1;
                continue;
            }
            let (kind, p) = self.writes.remove(i);
            let result = p.block_and_take();
            match (kind, result) {
                (Write::Settings, Ok(_)) => {}
                (Write::Modality { label, undo }, Ok(prior)) => {
                    self.notify(format!("{label} ({})", prior.len()), false);
                    if !undo && !prior.is_empty() {
                        self.undo.push(prior);
                    }
                    self.details.reload();
                    self.refresh();
                }
                (_, Err(e)) => self.notify(e, true),
            }
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

    /// Starts screening the photos not yet screened by every detector (one job at a time).
    fn start_screening(&mut self, ctx: &egui::Context) {
        if self.screen_job.is_some() {
            self.notify(self.t(T::ScreenRunning), false);
            return;
        }
        let db = self.cfg.db.clone();
        let opts = crate::privacy::job::ScreenOptions { exe: self.cfg.worker_exe.clone(), ..Default::default() };
        self.spawn(T::JobScreen, ctx, move |p| crate::privacy::job::run(&db, &opts, p).map(JobOutput::Screen));
        self.screen_job = self.jobs.last().map(|j| j.id);
    }

    /// Opens the viewer on a photo: its file's path is looked up on the store thread, then
    /// the decode starts in a worker. The zoom of the photo shown before is kept, so that
    /// stepping through photos at 100 % compares like with like.
    pub(super) fn open(&mut self, id: i64) {
        if let Some(i) = self.grid.position_near(id, self.focus) {
            self.focus = Some(i);
        }
        let previous = self.viewer.take();
        self.viewer = Some(Viewer::waiting(id, previous.as_ref()));
        let lookup = self.store.ask(move |s| {
            Ok(s.photo(id)?.and_then(|d| {
                let path = d.row.paths.into_iter().next()?;
                Some(DecodeRequest { path: PathBuf::from(path), orientation: d.row.orientation, hash: d.row.hash })
            }))
        });
        self.opening = Some((id, lookup));
    }

    fn poll_viewer(&mut self, ctx: &egui::Context) {
        if let Some((id, p)) = &self.opening
            && let Some(found) = p.ready()
        {
            let id = *id;
            let found = found.clone();
            self.opening = None;
            if let Some(v) = self.viewer.as_mut().filter(|v| v.photo_id == id) {
                match found {
                    Ok(request) => v.start(request, &mut self.decoder),
                    Err(e) => v.fail(e),
                }
            }
        }
        if let Some(v) = &mut self.viewer {
            v.poll(ctx, &mut self.decoder);
        }
    }

    /// Moves the focus; the selection follows it (or, with `extend`, grows from the anchor;
    /// with `keep`, stays as it is), as in a file manager.
    fn step(&mut self, delta: isize, how: StepSelect) {
        if self.grid.is_empty() {
            return;
        }
        let last = self.grid.len() as isize - 1;
        if self.grid.is_partial() && self.focus.map_or(delta, |f| f as isize + delta) > last {
            self.pending_step = Some((delta, how));
            return;
        }
        let i = match self.focus {
            Some(i) => (i as isize + delta).clamp(0, last),
            // Nothing focused yet: End goes to the end, every other key to the start.
            None if delta > last => last,
            None => 0,
        } as usize;
        self.focus = Some(i);
        match how {
            StepSelect::Extend => {
                let from = self.anchor.unwrap_or(i);
                let (a, b) = (from.min(i), from.max(i));
                self.selection = self.grid.ids()[a..=b].iter().copied().collect();
            }
            StepSelect::Keep => {}
            StepSelect::Move => {
                self.anchor = Some(i);
                self.selection = self.grid.id(i).into_iter().collect();
            }
        }
        self.scroll_to_focus = true;
        if self.viewer.is_some()
            && let Some(id) = self.grid.id(i)
        {
            self.open(id);
        }
    }

    /// The photos a photo command acts on: the one in the viewer, else the selection, else
    /// the focused one.
    fn targets(&self) -> Vec<i64> {
        if let Some(v) = &self.viewer {
            vec![v.photo_id]
        } else if self.selection.is_empty() {
            self.focused_id().into_iter().collect()
        } else {
            self.selection.iter().copied().collect()
        }
    }

    fn run(&mut self, cmd: Command, ctx: &egui::Context) {
        let lang = self.lang();
        match cmd {
            Command::AddFolder => {
                self.open_overlay(Overlay::AddFolder);
                self.add.opened();
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
                let db = self.cfg.db.clone();
                let opts = ImportOptions::with_exe(self.cfg.worker_exe.clone());
                self.interrupted = 0;
                // The folders to resume are read by the job itself, off the UI thread.
                self.spawn(T::JobImport, ctx, move |p| {
                    let mut paths: Vec<PathBuf> = Vec::new();
                    for (_, roots) in Store::open(&db)?.runs_to_resume()? {
                        for r in roots.into_iter().map(PathBuf::from) {
                            if !paths.contains(&r) {
                                paths.push(r);
                            }
                        }
                    }
                    archive::import(&db, &paths, &opts, p).map(JobOutput::Import)
                });
            }
            Command::MakeThumbnails => self.start_thumbnails(ctx),
            Command::CancelJob(id) => {
                if let Some(j) = self.jobs.iter().find(|j| j.id == id) {
                    j.progress.cancel();
                }
            }
            Command::Refresh => {
                self.thumbs.retry_absent();
                self.details.reload();
                self.refresh();
            }
            Command::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            Command::ToggleCommandPalette => {
                self.toggle_overlay(Overlay::Palette);
                self.palette.query.clear();
            }
            Command::ToggleImportLog => {
                self.toggle_overlay(Overlay::ImportLog);
                self.log.reload();
            }
            Command::ToggleRules => {
                self.toggle_overlay(Overlay::Rules);
                self.rules.reset();
            }
            Command::SaveRules => {
                if let Err(e) = self.rules.save(&self.store) {
                    self.notify(e, true);
                }
            }
            Command::ToggleHelp => self.toggle_overlay(Overlay::Help),
            Command::CloseOverlay(o) => self.close_overlay(o),
            Command::ToggleDetails => self.state.show_details = !self.state.show_details,
            Command::ToggleFilters => self.state.show_filters = !self.state.show_filters,
            Command::ToggleLanguage => {
                self.state.lang = if lang == Lang::En { Lang::Ja } else { Lang::En };
            }
            Command::SetLanguage(l) => self.state.lang = l,
            Command::Open(id) => self.open(id),
            Command::OpenFocused => {
                if let Some(id) = self.focused_id() {
                    self.open(id);
                }
            }
            Command::CloseViewer => {
                self.viewer = None;
                self.opening = None;
                self.scroll_to_focus = true;
            }
            Command::Next => self.step(1, StepSelect::Move),
            Command::Prev => self.step(-1, StepSelect::Move),
            Command::Focus { index, select } => self.click(index, select),
            Command::SelectAll => self.selection = self.grid.ids().iter().copied().collect(),
            Command::ClearSelection => self.selection.clear(),
            Command::SetModality(m) => self.write_modality(Some(m), Command::SetModality(m).label(lang)),
            Command::ResetModality => self.write_modality(None, Command::ResetModality.label(lang)),
            Command::Undo => match self.undo.pop() {
                Some(prior) => {
                    let p = self.store.ask(move |s| s.restore_modality(&prior));
                    self.writes.push((Write::Modality { label: lang.t(T::Undone).to_owned(), undo: true }, p));
                }
                None => self.notify(lang.t(T::NothingToUndo), false),
            },
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
                            (self.state.thumb_px * f).clamp(*THUMB_PX_RANGE.start(), *THUMB_PX_RANGE.end());
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
                let f = &self.state.filter;
                self.state.filter = PhotoFilter {
                    sort: f.sort,
                    descending: f.descending,
                    file_dates: f.file_dates,
                    ..Default::default()
                };
                self.filters = filters::FiltersPanel::new(&self.state.filter);
                self.scroll_to_top = true;
                self.refresh();
            }
            Command::SetFilter(f) => {
                self.state.filter = *f;
                self.scroll_to_top = true;
                self.refresh();
            }
            Command::FocusSearch => {
                self.state.show_filters = true;
                self.filters.focus_search = true;
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
            Command::CloseAnnotator => self.annotator = None,
            Command::Annotation(a) => {
                if let Some(an) = &mut self.annotator {
                    an.run(a);
                }
            }
            Command::ToggleReviewQueue => {
                if self.is_open(Overlay::ReviewQueue) {
                    self.close_overlay(Overlay::ReviewQueue);
                    self.review_queue = None;
                } else {
                    self.review_queue = Some(super::review_queue::ReviewQueue::open(self.cfg.db.clone(), ctx));
                    self.open_overlay(Overlay::ReviewQueue);
                }
            }
            Command::ExportImportLog(path) => self.log.export(path, &self.store, lang),
            Command::ToggleLinkQueue => {
                if self.is_open(Overlay::LinkQueue) {
                    self.close_overlay(Overlay::LinkQueue);
                } else {
                    self.link_queue.open(&self.store);
                    self.open_overlay(Overlay::LinkQueue);
                }
            }
            Command::LinkQueue(act) => self.link_queue.run(act, &self.store),
            Command::ToggleTimeline => {
                self.timeline.reload();
                self.toggle_overlay(Overlay::Timeline);
            }
            Command::ToggleModels => {
                self.models.reload();
                self.toggle_overlay(Overlay::Models);
            }
            Command::AddModel => self.models.add(&self.cfg.db),
            Command::RemoveModel { name, version } => self.models.remove(&self.cfg.db, name, version),
            Command::ToggleChartImport => {
                self.chart_import.opened();
                self.toggle_overlay(Overlay::ChartImport);
            }
            Command::ChartImport(super::command::ChartImportAct::Import) => {
                if let Some((path, opts)) = self.chart_import.import_request() {
                    let db = self.cfg.db.clone();
                    self.chart_import.imported = None;
                    self.spawn(T::JobChartImport, ctx, move |p| {
                        let mut store = Store::open(&db)?;
                        crate::charts::import_with_progress(&mut store, &path, &opts, Some(p)).map(JobOutput::Charts)
                    });
                }
            }
            Command::ChartImport(act) => self.chart_import.run(act, lang, ctx),
            Command::RunLinking => {
                let db = self.cfg.db.clone();
                self.chart_import.imported = None;
                self.spawn(T::JobLinking, ctx, move |_| {
                    let mut store = Store::open(&db)?;
                    crate::charts::link::run(&mut store, None).map(JobOutput::Link)
                });
            }
            Command::RunModels => {
                let db = self.cfg.db.clone();
                let exe = self.cfg.worker_exe.clone();
                self.spawn(T::JobInfer, ctx, move |p| {
                    let mut store = Store::open(&db)?;
                    crate::models::registry::open(&mut store)?;
                    let models = crate::models::registry::list(&store)?;
                    drop(store);
                    let mut reports = Vec::new();
                    for m in models.iter().filter(|m| m.card.task != crate::models::ModelTask::Embedding) {
                        if p.is_cancelled() {
                            break;
                        }
                        let mut opts = crate::models::job::InferOptions::new(&m.card.name);
                        opts.version = Some(m.card.version.clone());
                        opts.exe = exe.clone();
                        reports.push(crate::models::job::run(&db, &opts, p)?);
                    }
                    Ok(JobOutput::Infer(reports))
                });
            }
            Command::ToggleHeatmap => {
                // Drawn over the viewer only, not the mask panel.
                if self.annotator.is_some() {
                    return;
                }
                let Some(id) = self.viewer.as_ref().map(|v| v.photo_id).or_else(|| self.focused_id()) else { return };
                if self.viewer.is_none() {
                    self.open(id);
                }
                let model = super::occlusion::panel_classifier(&self.predictions, id);
                let (db, exe) = (self.cfg.db.clone(), self.cfg.worker_exe.clone());
                self.heatmap.toggle(id, model, db, exe, ctx, lang.t(T::JobHeatmap));
            }
            Command::ScreenPhotos => self.start_screening(ctx),
            Command::RedetectModality => {
                let db = self.cfg.db.clone();
                let opts = crate::modality::redetect::RedetectOptions {
                    pool: PoolOptions::new(self.cfg.worker_exe.clone()),
                    ..Default::default()
                };
                self.spawn(T::JobRedetect, ctx, move |p| {
                    crate::modality::redetect::redetect(&db, &opts, p).map(JobOutput::Modality)
                });
            }
            Command::TogglePrivacyReview => {
                if self.is_open(Overlay::PrivacyReview) {
                    self.close_overlay(Overlay::PrivacyReview);
                } else {
                    let exe = self.cfg.worker_exe.clone();
                    self.privacy_review = Some(super::privacy_review::PrivacyReview::open(exe, ctx, &self.store));
                    self.open_overlay(Overlay::PrivacyReview);
                }
            }
            Command::Privacy(p) => {
                if let Some(pr) = &mut self.privacy_review {
                    for (text, error) in pr.run(p, &self.store, &self.cfg.user, lang) {
                        self.notify(text, error);
                    }
                }
            }
        }
    }

    /// A click on a grid cell (or a right-click, which selects the cell it opens a menu for):
    /// focus, selection and details all move to it.
    fn click(&mut self, index: usize, select: super::command::Select) {
        use super::command::Select;
        let Some(id) = self.grid.id(index) else { return };
        match select {
            Select::Toggle => {
                if !self.selection.remove(&id) {
                    self.selection.insert(id);
                }
            }
            Select::Range => {
                let from = self.anchor.or(self.focus).unwrap_or(index);
                let (a, b) = (from.min(index), from.max(index));
                self.selection.extend(self.grid.ids()[a..=b].iter().copied());
            }
            Select::Only => {
                self.selection.clear();
                self.selection.insert(id);
                self.anchor = Some(index);
            }
            Select::KeepIfSelected => {
                if !self.selection.contains(&id) {
                    self.selection.clear();
                    self.selection.insert(id);
                    self.anchor = Some(index);
                }
            }
        }
        self.focus = Some(index);
    }

    fn write_modality(&mut self, m: Option<Modality>, label: String) {
        let ids = self.targets();
        if ids.is_empty() {
            return;
        }
        let p = self.store.ask(move |s| match m {
            Some(m) => s.set_modality(&ids, m),
            None => s.reset_modality(&ids),
        });
        self.writes.push((Write::Modality { label, undo: false }, p));
    }

    /// Keys. The topmost window owns the keyboard: while one is open, Esc closes it and keys
    /// never reach the grid behind it; an open menu takes Esc itself. Shortcuts with Ctrl that
    /// a text field has no use for (Ctrl+O, Ctrl+Shift+P, ...) work while typing.
    fn keys(&mut self, ctx: &egui::Context) {
        if egui::Popup::is_any_open(ctx) {
            return;
        }
        let typing = ctx.egui_wants_keyboard_input();
        let annotating = self.annotator.is_some();
        let covered = !self.overlays.is_empty();
        let reviewing = self.overlays.last() == Some(&Overlay::PrivacyReview);
        for cmd in Command::palette() {
            let Some(sc) = cmd.shortcut() else { continue };
            if (typing && !cmd.works_while_typing()) || (covered && cmd.acts_on_photos()) {
                continue;
            }
            // The privacy panel's keys only while it is the topmost window; the mask panel's
            // never while a window covers it.
            if (cmd.needs_privacy_review() && !reviewing) || (covered && cmd.needs_annotator()) {
                continue;
            }
            // Annotation keys only while the mask panel is open (Space pans while held
            // there, it does not pick a tool); M only when it is not.
            // Ctrl+Z there undoes the mask, not a modality change.
            if (cmd.needs_annotator() && !annotating)
                || (annotating && matches!(cmd, Command::Annotate | Command::Undo))
                || cmd == Command::Annotation(super::command::Ann::SetTool(super::command::Tool::Pan))
            {
                continue;
            }
            if ctx.input_mut(|i| i.consume_shortcut(&sc)) {
                self.push(cmd);
            }
        }
        if let Some(&top) = self.overlays.last() {
            // The link queue's own keys, unless a text field (the fix form) has the keyboard.
            if top == Overlay::LinkQueue && !typing {
                let pressed = |k: Key| ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, k));
                use super::command::LinkAct;
                for (key, act) in [
                    (Key::ArrowDown, LinkAct::Move(1)),
                    (Key::ArrowUp, LinkAct::Move(-1)),
                    (Key::ArrowRight, LinkAct::PickStep(1)),
                    (Key::ArrowLeft, LinkAct::PickStep(-1)),
                ] {
                    if pressed(key) {
                        self.push(Command::LinkQueue(act));
                    }
                }
                if pressed(Key::Enter)
                    && let Some(c) = self.link_queue.confirm_command()
                {
                    self.push(c);
                }
                if pressed(Key::U)
                    && let Some(c) = self.link_queue.unlink_command()
                {
                    self.push(c);
                }
            }
            if reviewing && !typing {
                super::privacy_review::keys(self, ctx);
            }
            if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, Key::Escape)) {
                self.close_overlay(top);
            }
            return;
        }
        if typing {
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
            for (key, cmd) in [
                (Key::Escape, Command::CloseViewer),
                (Key::ArrowRight, Command::Next),
                (Key::PageDown, Command::Next),
                (Key::ArrowLeft, Command::Prev),
                (Key::PageUp, Command::Prev),
                (Key::Plus, Command::ZoomIn),
                (Key::Equals, Command::ZoomIn),
                (Key::Minus, Command::ZoomOut),
                (Key::Num0, Command::ZoomFit),
                (Key::Num1, Command::ZoomActual),
            ] {
                if pressed(key) {
                    self.push(cmd);
                }
            }
            return;
        }
        let cols = self.columns.max(1) as isize;
        let n = self.grid.len() as isize;
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
            // Most specific first: egui matches a key with fewer modifiers than were held
            // (Shift+Home would otherwise be taken as a plain Home).
            for (mods, how) in [
                (egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, StepSelect::Extend),
                (egui::Modifiers::SHIFT, StepSelect::Extend),
                (egui::Modifiers::COMMAND, StepSelect::Keep),
                (egui::Modifiers::NONE, StepSelect::Move),
            ] {
                if ctx.input_mut(|i| i.consume_key(mods, key)) {
                    self.step(delta, how);
                }
            }
        }
        if pressed(Key::Enter) {
            self.push(Command::OpenFocused);
        }
        let space = |m| ctx.input_mut(|i| i.consume_key(m, Key::Space));
        if (space(egui::Modifiers::COMMAND) || space(egui::Modifiers::NONE))
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
            filters::ui(self, ui);
        }
        if self.state.show_details {
            super::details::ui(self, ui);
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if self.annotator.is_some() {
                super::annotate::ui(self, ui);
            } else if self.viewer.is_some() {
                let placeholder =
                    self.viewer.as_ref().and_then(|v| self.grid.row_by_id(v.photo_id)).map(|r| r.hash.clone());
                let tex = placeholder.and_then(|h| self.thumbs.get(&h));
                let lang = self.lang();
                let area = ui.max_rect();
                if let Some(v) = &mut self.viewer {
                    v.ui(ui, lang, tex.as_ref());
                }
                if let Some(c) = super::occlusion::legend(ui, lang, &self.heatmap, &self.predictions, area) {
                    self.push(c);
                }
            } else {
                super::browser::ui(self, ui);
            }
        });
        let ctx = ui.ctx().clone();
        // Drawn bottom to top, so that the topmost window is drawn last.
        for o in self.overlays.clone() {
            match o {
                Overlay::Palette => palette::ui(self, &ctx),
                Overlay::ImportLog => import_log::ui(self, &ctx),
                Overlay::Rules => rules::ui(self, &ctx),
                Overlay::AddFolder => add_folder::ui(self, &ctx),
                Overlay::Help => super::help::ui(self, &ctx),
                Overlay::ReviewQueue => super::review_queue::ui(self, &ctx),
                Overlay::LinkQueue => link_queue::ui(self, &ctx),
                Overlay::Timeline => timeline::ui(self, &ctx),
                Overlay::ChartImport => chart_import::ui(self, &ctx),
                Overlay::PrivacyReview => super::privacy_review::ui(self, &ctx),
                Overlay::Models => super::models_page::ui(self, &ctx),
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StepSelect {
    /// The selection becomes the focused photo.
    Move,
    /// The selection grows from the anchor to the focused photo.
    Extend,
    /// The focus moves and the selection stays (Ctrl+arrows; Ctrl+Space then toggles).
    Keep,
}

/// What to tell the person when a job ends, and whether it is bad news.
fn summary(out: &JobOutput, lang: Lang) -> (String, bool) {
    match out {
        JobOutput::Import(r) if r.status == RunStatus::Cancelled => (lang.t(T::ImportCancelled).to_owned(), false),
        JobOutput::Import(r) if r.counts.scanned == 0 && r.status == RunStatus::Finished => {
            (lang.f(T::NoPhotosFound, &[("path", &r.roots.join(", "))]), false)
        }
        JobOutput::Import(r) => {
            let c = &r.counts;
            let text = lang.f(
                T::ImportSummary,
                &[
                    ("new", &c.new_photos),
                    ("loc", &c.new_locations),
                    ("moved", &c.moved),
                    ("refused", &c.refused),
                    ("missing", &c.missing),
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
        JobOutput::Charts(r) => {
            let c = &r.counts;
            if c.files > 0 && c.files == c.files_already_imported {
                return (lang.t(T::ChartAlreadyImported).to_owned(), false);
            }
            let text = lang.f(
                T::ChartImportSummary,
                &[
                    ("rows", &c.rows),
                    ("new", &c.records_new),
                    ("dup", &c.records_duplicate),
                    ("patients", &c.patients_new),
                    ("bad", &c.bad_rows),
                ],
            );
            (text, false)
        }
        JobOutput::Infer(reports) => {
            let lines: Vec<String> = reports
                .iter()
                .map(|r| {
                    let why: Vec<String> = r.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
                    lang.f(
                        T::InferSummary,
                        &[
                            ("model", &r.model),
                            ("version", &r.version),
                            ("inferred", &r.inferred),
                            ("skipped", &r.skipped.values().sum::<usize>()),
                            // The reasons in brackets, only when some photos were not offered.
                            ("why", &if why.is_empty() { String::new() } else { format!(" ({})", why.join(", ")) }),
                            ("failed", &r.failed.len()),
                        ],
                    )
                })
                .collect();
            let failed = reports.iter().any(|r| !r.failed.is_empty());
            (lines.join("\n"), failed)
        }
        JobOutput::Link(r) => {
            let n = |k: &str| r.by_status.get(k).copied().unwrap_or(0);
            let text = lang.f(
                T::LinkSummary,
                &[
                    ("photos", &r.photos),
                    ("linked", &n("linked")),
                    ("queued", &(n("ambiguous") + n("missing"))),
                    ("kept", &r.kept_by_person),
                ],
            );
            (text, false)
        }
        JobOutput::Modality(r) if r.cancelled => (lang.f(T::RedetectCancelled, &[("n", &r.guessed)]), false),
        JobOutput::Modality(r) => {
            let text = lang.f(T::RedetectSummary, &[("n", &r.examined), ("c", &r.changed), ("f", &r.failed.len())]);
            (text, !r.failed.is_empty())
        }
        JobOutput::Screen(r) if r.cancelled => (lang.f(T::ScreenCancelled, &[("n", &r.screened)]), false),
        JobOutput::Screen(r) => {
            let v = |k: &str| r.by_verdict.get(k).copied().unwrap_or(0);
            let text = lang.f(
                T::ScreenSummary,
                &[
                    ("n", &r.screened),
                    ("i", &v("identifiable")),
                    ("u", &v("unsure")),
                    ("c", &v("clear")),
                    ("f", &r.failed.len()),
                ],
            );
            (text, !r.failed.is_empty())
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
