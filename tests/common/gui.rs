//! Helpers for the whole-app tests: the real `App` on a real database, driven through
//! egui frames with egui_kittest.

use super::*;
use dermdesk::ui::{App, AppConfig};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub fn import(db: &Path, dirs: &[PathBuf]) {
    let progress = dermdesk::jobs::Progress::new();
    let r = dermdesk::archive::import(db, dirs, &import_opts(), &progress).expect("import");
    assert_eq!(r.status, dermdesk::store::RunStatus::Finished);
}

/// The app over a store the test opened itself.
pub fn harness_opened(db: &Path, store: dermdesk::Store) -> Harness<'static, App> {
    let db = db.to_path_buf();
    let mut store = Some(store);
    Harness::builder().with_size([1280.0, 800.0]).build_eframe(move |cc| {
        let mut cfg = AppConfig::new(db.clone());
        cfg.worker_exe = bin();
        App::new(&cc.egui_ctx, store.take().expect("built once"), cfg)
    })
}

pub fn harness(db: &Path, import_on_start: Vec<PathBuf>) -> Harness<'static, App> {
    let db = db.to_path_buf();
    Harness::builder().with_size([1280.0, 800.0]).build_eframe(move |cc| {
        let store = dermdesk::Store::open(&db).expect("open");
        let mut cfg = AppConfig::new(db.clone());
        cfg.worker_exe = bin();
        cfg.import_on_start = import_on_start;
        App::new(&cc.egui_ctx, store, cfg)
    })
}

/// The app over the database at `db`, with `user` at the keyboard (the annotator or
/// reviewer its decisions are recorded under).
pub fn harness_as(db: &Path, user: &str) -> Harness<'static, App> {
    let (db, user) = (db.to_path_buf(), user.to_owned());
    Harness::builder().with_size([1280.0, 800.0]).build_eframe(move |cc| {
        let store = dermdesk::Store::open(&db).expect("open");
        let mut cfg = AppConfig::new(db.clone());
        cfg.worker_exe = bin();
        cfg.user = user.clone();
        App::new(&cc.egui_ctx, store, cfg)
    })
}

/// The rows of every photo in the grid (the tests' sets fit on one screen, so all are loaded).
pub fn rows(app: &App) -> Vec<dermdesk::store::GridItem> {
    (0..app.grid.len()).map(|i| app.grid.row(i).expect("every row on screen is loaded").clone()).collect()
}

/// Steps frames until a widget with this label shows (answers from background threads take
/// a few frames).
pub fn wait_for_label(h: &mut Harness<'static, App>, label: &str) {
    let start = Instant::now();
    while h.query_by_label(label).is_none() {
        assert!(start.elapsed() < Duration::from_secs(30), "no {label:?} shown");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Frames only, as an idle window gets them (nothing pushed or clicked), until `done` holds;
/// fails naming `what` after `limit`. For what another thread or process brings.
pub fn frames_until(
    h: &mut Harness<'static, App>,
    what: &str,
    limit: Duration,
    done: impl Fn(&Harness<'static, App>) -> bool,
) {
    let start = Instant::now();
    while !done(h) {
        assert!(start.elapsed() < limit, "{what}");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Steps frames until the app is idle and `done` holds (background jobs run on real threads).
pub fn settle(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        let app = h.state();
        if !app.is_busy() && app.thumb_status().1 && done(app) {
            h.step();
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(180), "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(15));
    }
}

pub fn save_screen(h: &mut Harness<'static, App>, name: &str) -> image::RgbaImage {
    let img = h.render().expect("render");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screens");
    std::fs::create_dir_all(&dir).unwrap();
    img.save(dir.join(format!("{name}.png"))).unwrap();
    img
}

/// How many distinct colours a region holds: a photo has many, a blank area one or two.
pub fn colours(img: &image::RgbaImage, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
    let mut set = std::collections::HashSet::new();
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            let p = img.get_pixel(x, y).0;
            set.insert((p[0] / 8, p[1] / 8, p[2] / 8));
        }
    }
    set.len()
}
