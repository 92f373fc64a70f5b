//! The annotation panel's figures, in the real `App` driven frame by frame without a window
//! (logic + UI + tessellation: the CPU's share of a frame; uploading textures to a GPU is not
//! timed, but the overlay pixels handed to egui for upload are counted):
//! - painting: a brush stroke dragged across a 24-MP photo, one pointer move a frame;
//! - a thousand lesions on one photo: opening it, panning, toggling lesions one at a time.
//!
//! The photo is an ISIC camera original scaled to 6000×4000 in a temporary folder; the
//! thousand lesions are PH2's lesion outlines, shrunk and laid out over it.

use super::{median, percentile};
use crate::masks::{Encoded, ReviewStatus, codec};
use crate::store::{NewLesion, Store};
use crate::ui::command::{Ann, Command, Tool};
use crate::ui::{App, AppConfig};
use anyhow::{Context as _, bail};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

const SIZE: (f32, f32) = (1280.0, 800.0);

#[derive(Serialize, Default)]
pub struct Frames {
    pub frames: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

impl Frames {
    fn of(mut t: Vec<f64>) -> Frames {
        Frames {
            frames: t.len(),
            p50_ms: median(&mut t.clone()),
            p95_ms: percentile(&mut t.clone(), 0.95),
            max_ms: percentile(&mut t, 1.0),
        }
    }
}

#[derive(Serialize, Default)]
pub struct PanelReport {
    pub photo: String,
    pub paint_fit: Frames,
    pub paint_100: Frames,
    /// Texture pixels sent for upload per painting frame (mean), against the photo's pixels.
    pub paint_overlay_px_per_frame: f64,
    /// A magic-wand click (tolerance 24) and a smart-tool click at the middle of the photo:
    /// the slowest frame while the region is computed on its thread, and the time until it
    /// shows.
    pub wand_frame_ms: f64,
    pub wand_ms: f64,
    pub smart_click_frame_ms: f64,
    pub smart_click_ms: f64,
    pub photo_px: u64,
    pub lesions: usize,
    pub open_ms_to_all_tiles: f64,
    pub open: Frames,
    pub pan: Frames,
    pub toggle: Frames,
}

fn frame(ctx: &egui::Context, app: &mut App, clock: &mut f64, events: Vec<egui::Event>) -> f64 {
    *clock += 1.0 / 60.0;
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(SIZE.0, SIZE.1))),
        time: Some(*clock),
        predicted_dt: 1.0 / 60.0,
        events,
        ..Default::default()
    };
    let t = Instant::now();
    let mut out = ctx.run_ui(input, |ui| {
        app.logic(ui.ctx());
        app.draw(ui);
    });
    let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
    let took = t.elapsed().as_secs_f64() * 1000.0;
    std::hint::black_box(prims);
    // What a GPU would be sent this frame (new textures and partial updates), then dropped.
    let px: usize =
        out.textures_delta.set.values().flat_map(|ds| ds.iter()).map(|d| d.image.width() * d.image.height()).sum();
    UPLOADED.with(|u| u.set(u.get() + px as u64));
    out.textures_delta.clear();
    took
}

thread_local! {
    /// Texture pixels handed to egui for upload, summed over frames.
    static UPLOADED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn uploaded() -> u64 {
    UPLOADED.with(|u| u.get())
}

fn wait(ctx: &egui::Context, app: &mut App, clock: &mut f64, what: &str, done: impl Fn(&App) -> bool) -> Vec<f64> {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut times = Vec::new();
    loop {
        times.push(frame(ctx, app, clock, Vec::new()));
        if done(app) {
            return times;
        }
        if Instant::now() > deadline {
            eprintln!("dermdesk: bench: gave up waiting for {what}");
            return times;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn button(pos: egui::Pos2, pressed: bool) -> egui::Event {
    egui::Event::PointerButton { pos, button: egui::PointerButton::Primary, pressed, modifiers: egui::Modifiers::NONE }
}

/// Drags the brush around a circle on the photo, one pointer move a frame.
fn paint(ctx: &egui::Context, app: &mut App, clock: &mut f64, moves: usize) -> (Vec<f64>, f64) {
    let view = app.annotator.as_ref().map(|a| a.view).unwrap_or(egui::Rect::ZERO);
    // Around the middle of what is on screen.
    let c = view.center();
    let r = view.width().min(view.height()) * 0.3;
    let at = |i: usize| {
        let a = i as f32 / moves as f32 * std::f32::consts::TAU * 1.5;
        egui::pos2(c.x + r * a.cos(), c.y + r * a.sin())
    };
    frame(ctx, app, clock, vec![egui::Event::PointerMoved(at(0))]);
    frame(ctx, app, clock, vec![button(at(0), true)]);
    let up0 = uploaded();
    let mut times = Vec::with_capacity(moves);
    for i in 1..=moves {
        times.push(frame(ctx, app, clock, vec![egui::Event::PointerMoved(at(i))]));
    }
    let up = uploaded() - up0;
    frame(ctx, app, clock, vec![button(at(moves), false)]);
    (times, up as f64 / moves as f64)
}

/// A 6000×4000 JPEG made from the largest ISIC original (in `dir`).
fn big_photo(shared: &Path, dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let isic = shared.join("data/isic-cc0/images");
    let mut best: Option<(u64, std::path::PathBuf)> = None;
    for e in std::fs::read_dir(&isic).with_context(|| format!("cannot read {}", isic.display()))? {
        let p = e?.path();
        if let Ok((w, h)) = image::image_dimensions(&p) {
            let n = w as u64 * h as u64;
            if best.as_ref().is_none_or(|b| n > b.0) {
                best = Some((n, p));
            }
        }
    }
    let (_, src) = best.context("no ISIC photo found")?;
    let img = image::open(&src)?.into_rgb8();
    let big = image::imageops::resize(&img, super::masks::W, super::masks::H, image::imageops::FilterType::Triangle);
    std::fs::create_dir_all(dir)?;
    let out = dir.join("big-24mp.jpg");
    std::fs::write(&out, crate::decode::encode_jpeg(&big).context("encode")?)?;
    Ok(out)
}

/// A thousand lesions over the photo: PH2 outlines shrunk to 60–180 px on a 40 × 25 grid.
fn thousand(store: &mut Store, hash: &str, shared: &Path) -> anyhow::Result<usize> {
    let dir = shared.join("data/ph2/masks");
    let mut files: Vec<_> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let shapes: Vec<crate::masks::Mask> = files
        .iter()
        .take(50)
        .map(|f| codec::read_binary_image(&std::fs::read(f)?).map_err(anyhow::Error::from))
        .collect::<anyhow::Result<_>>()?;
    let (cols, rows) = (40u32, 25u32);
    let (cw, ch) = (super::masks::W / cols, super::masks::H / rows);
    let mut items = Vec::with_capacity(1000);
    for i in 0..(cols * rows) {
        let shape = &shapes[i as usize % shapes.len()];
        let side = 60 + (i * 37) % 120;
        let small = image::imageops::resize(
            &image::GrayImage::from_fn(shape.width(), shape.height(), |x, y| {
                image::Luma([if shape.get(x, y) { 255 } else { 0 }])
            }),
            side,
            side * 3 / 4,
            image::imageops::FilterType::Triangle,
        );
        let (x, y) = ((i % cols) * cw, (i / cols) * ch);
        let rect = crate::masks::PixelRect::new(x, y, small.width(), small.height());
        let stamp =
            crate::masks::Stamp { rect, bits: small.into_raw().into_iter().map(|v| (v >= 128) as u8).collect() };
        items.push(NewLesion {
            photo_hash: hash.to_owned(),
            label: "lesion".into(),
            mask: Encoded::of_stamp(super::masks::W, super::masks::H, &stamp),
            status: ReviewStatus::Draft,
            source_detail: format!("bench {i}"),
        });
    }
    let n = items.len();
    store.import_lesions(&items, "bench", "bench")?;
    Ok(n)
}

pub fn run(shared: &Path, work: &Path) -> anyhow::Result<PanelReport> {
    big_photo(shared, &work.join("photos"))?;
    let db = work.join("panel.sqlite");
    let exe = crate::work::default_exe();
    let opts = crate::archive::ImportOptions::with_exe(exe.clone());
    let r = crate::archive::import(&db, &[work.join("photos")], &opts, &crate::jobs::Progress::new())?;
    if r.counts.new_photos != 1 {
        bail!("the 24-MP photo was not imported: {:?}", r.refusals);
    }
    let mut store = Store::open(&db)?;
    let p = store.photos_for_masks()?.into_iter().next().context("no photo")?;
    let mut report = PanelReport {
        photo: format!("{}×{} JPEG made from an ISIC original", p.width, p.height),
        photo_px: p.width as u64 * p.height as u64,
        ..Default::default()
    };

    // Painting: a new lesion, the brush dragged at fit and at 100 %.
    let ctx = egui::Context::default();
    let mut cfg = AppConfig::new(db.clone());
    cfg.worker_exe = exe.clone();
    let mut app = App::new(&ctx, Store::open(&db)?, cfg);
    let mut clock = 0.0;
    app.push(Command::OpenLesion { photo_id: p.id, lesion_id: 0 });
    wait(&ctx, &mut app, &mut clock, "the photo", |a| a.annotator.as_ref().is_some_and(|x| !x.is_loading()));
    app.push(Command::Annotation(Ann::SetTool(Tool::Brush)));
    for _ in 0..10 {
        app.push(Command::Annotation(Ann::BrushBigger));
    }
    wait(&ctx, &mut app, &mut clock, "settled", |a| a.annotator.as_ref().is_some_and(|x| x.overlay_counts().1 == 0));
    let (fit, px_fit) = paint(&ctx, &mut app, &mut clock, 300);
    wait(&ctx, &mut app, &mut clock, "saved", |a| a.annotator.as_ref().is_some_and(|x| x.all_saved()));
    app.push(Command::ZoomActual);
    frame(&ctx, &mut app, &mut clock, Vec::new());
    let (hundred, px_100) = paint(&ctx, &mut app, &mut clock, 300);
    wait(&ctx, &mut app, &mut clock, "saved", |a| a.annotator.as_ref().is_some_and(|x| x.all_saved()));
    let (cx, cy) = (p.width as f32 / 2.0, p.height as f32 / 2.0);
    let computed = |a: &App| a.annotator.as_ref().is_some_and(|x| !x.is_computing());
    for (tool, frame_ms, total_ms) in [
        (Ann::Wand(egui::pos2(cx, cy), true), &mut report.wand_frame_ms, &mut report.wand_ms),
        (Ann::SmartClick(egui::pos2(cx, cy)), &mut report.smart_click_frame_ms, &mut report.smart_click_ms),
    ] {
        app.push(Command::Annotation(tool));
        let t = Instant::now();
        let frames = wait(&ctx, &mut app, &mut clock, "the tool", computed);
        *total_ms = t.elapsed().as_secs_f64() * 1000.0;
        *frame_ms = frames.iter().copied().fold(0.0, f64::max);
        wait(&ctx, &mut app, &mut clock, "saved", |a| a.annotator.as_ref().is_some_and(|x| x.all_saved()));
    }
    report.paint_fit = Frames::of(fit);
    report.paint_100 = Frames::of(hundred);
    report.paint_overlay_px_per_frame = px_fit.max(px_100);
    app.push(Command::CloseAnnotator);
    frame(&ctx, &mut app, &mut clock, Vec::new());
    drop(app);

    // A thousand lesions.
    report.lesions = thousand(&mut store, &p.hash, shared)?;
    let ctx = egui::Context::default();
    let mut cfg = AppConfig::new(db.clone());
    cfg.worker_exe = exe;
    let mut app = App::new(&ctx, Store::open(&db)?, cfg);
    let mut clock = 0.0;
    app.push(Command::OpenLesion { photo_id: p.id, lesion_id: 0 });
    wait(&ctx, &mut app, &mut clock, "the photo", |a| a.annotator.as_ref().is_some_and(|x| !x.is_loading()));
    let t = Instant::now();
    let open = wait(&ctx, &mut app, &mut clock, "every overlay tile", |a| {
        a.annotator.as_ref().is_some_and(|x| x.overlay_counts().1 == 0)
    });
    report.open_ms_to_all_tiles = t.elapsed().as_secs_f64() * 1000.0;
    report.open = Frames::of(open);
    // Pan at 100 %: the hand tool dragged across, one move a frame.
    app.push(Command::ZoomActual);
    app.push(Command::Annotation(Ann::SetTool(Tool::Pan)));
    frame(&ctx, &mut app, &mut clock, Vec::new());
    let c = app.annotator.as_ref().map(|a| a.view.center()).unwrap_or_default();
    frame(&ctx, &mut app, &mut clock, vec![egui::Event::PointerMoved(c), button(c, true)]);
    let mut pan = Vec::new();
    for i in 1..=240 {
        let p = c + egui::vec2(-(i as f32) * 4.0 % 400.0, (i as f32 * 0.05).sin() * 200.0);
        pan.push(frame(&ctx, &mut app, &mut clock, vec![egui::Event::PointerMoved(p)]));
    }
    frame(&ctx, &mut app, &mut clock, vec![button(c, false)]);
    report.pan = Frames::of(pan);
    // Toggle lesions one a frame, then all off and on.
    app.push(Command::ZoomFit);
    wait(&ctx, &mut app, &mut clock, "tiles", |a| a.annotator.as_ref().is_some_and(|x| x.overlay_counts().1 == 0));
    let keys: Vec<u64> = app.annotator.as_ref().map(|a| a.lesions.iter().map(|l| l.key).collect()).unwrap_or_default();
    let mut toggle = Vec::new();
    for k in keys.iter().step_by(10).take(100) {
        app.push(Command::Annotation(Ann::ToggleVisible(*k)));
        toggle.push(frame(&ctx, &mut app, &mut clock, Vec::new()));
    }
    report.toggle = Frames::of(toggle);
    Ok(report)
}
