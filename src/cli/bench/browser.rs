//! The browser over a large database: the real `App`, driven frame by frame without a window
//! (UI build + tessellation, which is what the CPU spends per frame; GPU upload is not timed).
//! Rows are synthetic (the figure is about the grid, not decoding); the thumbnails of the
//! rows that scroll into view are synthetic images written to the cache, so texture loading
//! is part of the frames measured.
//!
//! Per archive size: time to the first frame, and to the first frame showing a filled grid
//! (opening and checking the database included); frame times while scrolling; time from a
//! key press to a filled screen for End and for sorting by each key; peak RSS.

use super::{median, percentile};
use crate::store::{PhotoFilter, SortKey, Store};
use crate::ui::command::Command;
use crate::ui::{App, AppConfig};
use anyhow::Context as _;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

const SIZE: (f32, f32) = (1280.0, 800.0);

pub fn run(sizes: &[usize], frames: usize, keep: Option<&Path>, as_json: bool) -> anyhow::Result<()> {
    let temp;
    let work: &Path = match keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir
        }
        None => {
            temp = super::tempfile_dir("dermdesk-bench-browser")?;
            &temp
        }
    };
    let mut results = Vec::new();
    for &photos in sizes {
        let db = work.join(format!("big-{photos}.sqlite"));
        // A kept database of the right size is reused (building a million rows takes a while).
        let reuse = keep.is_some() && db.exists() && Store::open(&db)?.stats()?.photos == photos as u64;
        if !reuse {
            crate::store::thumbs::delete(&crate::store::thumbs::path_for(&db))?;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            let t = Instant::now();
            Store::open(&db)?.fill_synthetic(photos)?;
            let thumbs = write_thumbs(&db, 4000)?;
            eprintln!("built a {photos}-photo database with {thumbs} thumbnails in {:.1} s", t.elapsed().as_secs_f64());
        }
        results.push(measure(&db, photos, frames)?);
    }
    let rss = crate::util::peak_rss_bytes().map(|b| b as f64 / 1048576.0);
    if as_json {
        return super::super::print_json(&json!({ "sizes": results, "peak_rss_mib": rss }));
    }
    for r in &results {
        outln!("browser over {} photos, window {}x{}", r["photos"], SIZE.0, SIZE.1);
        outln!("  open the database          {:>8.1} ms", r["open_ms"].as_f64().unwrap_or(f64::NAN));
        outln!("  first frame                {:>8.1} ms", r["first_frame_ms"].as_f64().unwrap_or(f64::NAN));
        outln!(
            "  first frame with the grid  {:>8.1} ms (goal < 1000)",
            r["first_grid_ms"].as_f64().unwrap_or(f64::NAN)
        );
        outln!(
            "  scrolling frames           p50 {:.2} ms, p95 {:.2} ms (goal < 8), max {:.2} ms",
            r["scroll_p50_ms"].as_f64().unwrap_or(f64::NAN),
            r["scroll_p95_ms"].as_f64().unwrap_or(f64::NAN),
            r["scroll_max_ms"].as_f64().unwrap_or(f64::NAN)
        );
        outln!("  End to a filled screen     {:>8.1} ms (goal < 300)", r["jump_end_ms"].as_f64().unwrap_or(f64::NAN));
        for (k, v) in r["sort_ms"].as_object().into_iter().flatten() {
            outln!("  sort by {k:<10} filled in {:>8.1} ms (goal < 300)", v.as_f64().unwrap_or(f64::NAN));
        }
        outln!("  peak RSS so far            {:>8.1} MiB (goal < 300)", r["peak_rss_mib"].as_f64().unwrap_or(f64::NAN));
    }
    Ok(())
}

fn measure(db: &Path, photos: usize, frames: usize) -> anyhow::Result<serde_json::Value> {
    // From nothing to the first frame, and to the first frame that shows a filled grid.
    let t0 = Instant::now();
    let ctx = egui::Context::default();
    let store = Store::open_for_app(db)?;
    let open_ms = ms(t0.elapsed());
    let cfg = AppConfig { heal_thumbnails: false, ..AppConfig::new(db.to_path_buf()) };
    let mut app = App::new(&ctx, store, cfg);
    let mut clock = 0.0f64;
    frame(&ctx, &mut app, &mut clock, Vec::new());
    let first_frame_ms = ms(t0.elapsed());
    until(&ctx, &mut app, &mut clock, "the grid", |a| a.screen_filled())?;
    let first_grid_ms = ms(t0.elapsed());
    // The whole list (End needs it; scrolling is measured over it).
    until(&ctx, &mut app, &mut clock, "the whole grid", |a| a.grid.len() == photos && !a.grid.is_pending())?;
    let whole_list_ms = ms(t0.elapsed());
    // Let the first screen of thumbnails load.
    for _ in 0..30 {
        frame(&ctx, &mut app, &mut clock, vec![egui::Event::PointerMoved(egui::pos2(640.0, 400.0))]);
        std::thread::sleep(Duration::from_millis(5));
    }
    // Scroll down the grid, one wheel notch a frame, then back up a little faster.
    let mut times = Vec::with_capacity(frames);
    for i in 0..frames {
        let dy = if i < frames * 2 / 3 { -60.0 } else { 90.0 };
        let ev = egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, dy),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
            modifiers: egui::Modifiers::NONE,
        };
        let events = vec![egui::Event::PointerMoved(egui::pos2(640.0, 400.0)), ev];
        times.push(ms(frame(&ctx, &mut app, &mut clock, events)));
    }
    // End: from the key press to a screen whose every cell has its row.
    let t = Instant::now();
    frame(&ctx, &mut app, &mut clock, vec![key(egui::Key::End)]);
    until(&ctx, &mut app, &mut clock, "the end of the grid", |a| {
        a.focus == Some(photos - 1) && a.visible.end == photos && a.screen_filled()
    })?;
    let jump_end_ms = ms(t.elapsed());
    // Sorting by each key, from the change to a filled screen.
    let mut sort_ms = serde_json::Map::new();
    for key in [SortKey::Name, SortKey::Pixels, SortKey::Modality, SortKey::Captured, SortKey::Imported] {
        let filter = PhotoFilter { sort: key, descending: true, ..Default::default() };
        let t = Instant::now();
        app.push(Command::SetFilter(Box::new(filter)));
        frame(&ctx, &mut app, &mut clock, Vec::new());
        until(&ctx, &mut app, &mut clock, "a sorted grid", |a| a.screen_filled())?;
        sort_ms.insert(key.as_str().to_owned(), json!(ms(t.elapsed())));
        // A person reads the first screen before sorting again: the whole list comes meanwhile.
        until(&ctx, &mut app, &mut clock, "the whole sorted list", |a| !a.grid.is_pending())?;
    }
    let rss = crate::util::peak_rss_bytes().map(|b| b as f64 / 1048576.0);
    let (textures, _) = app.thumb_status();
    Ok(json!({
        "photos": photos,
        "open_ms": open_ms,
        "first_frame_ms": first_frame_ms,
        "first_grid_ms": first_grid_ms,
        "whole_list_ms": whole_list_ms,
        "scroll_frames": frames,
        "scroll_p50_ms": median(&mut times.clone()),
        "scroll_p95_ms": percentile(&mut times.clone(), 0.95),
        "scroll_max_ms": percentile(&mut times, 1.0),
        "jump_end_ms": jump_end_ms,
        "sort_ms": sort_ms,
        "thumbnail_textures": textures,
        "peak_rss_mib": rss,
    }))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn key(k: egui::Key) -> egui::Event {
    egui::Event::Key { key: k, physical_key: None, pressed: true, repeat: false, modifiers: egui::Modifiers::NONE }
}

/// Runs frames (as a window would, at most every millisecond) until `done`.
fn until(
    ctx: &egui::Context,
    app: &mut App,
    clock: &mut f64,
    what: &str,
    done: impl Fn(&App) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        frame(ctx, app, clock, Vec::new());
        if done(app) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "{what} never came");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// One frame: logic, UI, tessellation. Returns how long it took.
pub(super) fn frame(ctx: &egui::Context, app: &mut App, clock: &mut f64, events: Vec<egui::Event>) -> Duration {
    *clock += 1.0 / 60.0;
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(SIZE.0, SIZE.1))),
        time: Some(*clock),
        predicted_dt: 1.0 / 60.0,
        events,
        ..Default::default()
    };
    let t = Instant::now();
    let out = ctx.run_ui(input, |ui| {
        app.logic(ui.ctx());
        app.draw(ui);
    });
    let mut out = out;
    let prims = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
    let took = t.elapsed();
    // No GPU here: the texture uploads are counted in the frame, then let go.
    out.textures_delta.clear();
    std::hint::black_box(prims);
    took
}

/// Writes synthetic thumbnails for the first `n` photos in the grid's default order: drawn
/// here, one look per modality (no real photo is used, so screenshots of it can be shared).
fn write_thumbs(db: &Path, n: usize) -> anyhow::Result<usize> {
    let store = Store::open(db)?;
    let mut cache = crate::store::ThumbDb::open(&store.thumb_db_path())?;
    let ids = store.grid_ids(&PhotoFilter::default())?;
    let items = store.grid_rows(&ids[..n.min(ids.len())])?;
    let mut written = 0;
    for (i, it) in items.iter().enumerate() {
        let img = synthetic(it.modality, i as u32);
        let bytes = crate::decode::encode_jpeg(&img).context("encode")?;
        cache.put(&it.hash, &bytes, "synthetic")?;
        written += 1;
    }
    Ok(written)
}

/// A drawn stand-in for a photo of the modality: skin with a lesion, a dermoscope's round
/// field, an H&E-like field, a face-like oval, or plain grey.
pub fn synthetic(m: crate::modality::Modality, seed: u32) -> image::RgbImage {
    use crate::modality::Modality as M;
    let (w, h) = (256u32, 192u32);
    let noise = |x: u32, y: u32, k: u32| -> f32 {
        let mut v = x.wrapping_mul(374_761_393)
            ^ y.wrapping_mul(668_265_263)
            ^ k.wrapping_mul(2_246_822_519)
            ^ seed.wrapping_mul(3_266_489_917);
        v = (v ^ (v >> 13)).wrapping_mul(1_274_126_177);
        ((v ^ (v >> 16)) & 0xffff) as f32 / 65535.0
    };
    let r0 = 0.18 + 0.12 * noise(1, 2, 3);
    let (lx, ly) = (0.45 + 0.1 * noise(4, 5, 6), 0.45 + 0.1 * noise(7, 8, 9));
    image::RgbImage::from_fn(w, h, |x, y| {
        let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
        let grain = noise(x, y, 11) * 14.0 - 7.0;
        let skin = [222.0 - 30.0 * u, 182.0 - 25.0 * u, 160.0 - 20.0 * u];
        let d = (((u - lx) / 1.2).powi(2) + (v - ly).powi(2)).sqrt() + 0.04 * (noise(x / 9, y / 9, 12) - 0.5);
        let lesion = ((r0 - d) / 0.05).clamp(0.0, 1.0);
        let brown = [120.0, 70.0, 45.0];
        let mix = |a: [f32; 3], b: [f32; 3], t: f32| {
            [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
        };
        let px = match m {
            M::Dermoscopy => {
                let edge = (((u - 0.5) / 0.55).powi(2) + ((v - 0.5) / 0.55).powi(2)).sqrt();
                let c = mix(skin, brown, lesion);
                if edge > 1.0 { [8.0, 8.0, 8.0] } else { c }
            }
            M::Clinical => {
                let spot = ((r0 * 0.4 - d) / 0.03).clamp(0.0, 1.0);
                let lit = 0.8 + 0.3 * (1.0 - v);
                let c = mix(skin, brown, spot).map(|c| c * lit);
                if u > 0.85 { [90.0, 110.0, 130.0] } else { c }
            }
            M::Histopathology => {
                let nuclei = if noise(x / 4, y / 4, 13) > 0.8 { 1.0 } else { 0.0 };
                mix([235.0, 170.0, 205.0], [95.0, 60.0, 150.0], nuclei * 0.8)
            }
            M::Visia => {
                let face = (((u - 0.5) / 0.28).powi(2) + ((v - 0.5) / 0.42).powi(2)).sqrt();
                if face < 1.0 { [150.0, 150.0, 150.0].map(|c| c - 40.0 * face) } else { [10.0, 10.0, 10.0] }
            }
            M::Other => [120.0 + 60.0 * u, 120.0 + 60.0 * u, 125.0 + 60.0 * v],
        };
        image::Rgb(px.map(|c| (c + grain).clamp(0.0, 255.0) as u8))
    })
}
