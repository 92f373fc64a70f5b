//! The browser over a large database: the real `App`, driven frame by frame without a window
//! (UI build + tessellation, which is what the CPU spends per frame; GPU upload is not timed).
//! Rows are synthetic (the figure is about the grid, not decoding); the thumbnails of the
//! rows that scroll into view are synthetic images written to the cache, so texture loading
//! is part of the frames measured.

use super::{median, percentile};
use crate::store::{PhotoFilter, Store};
use crate::ui::{App, AppConfig};
use anyhow::Context as _;
use rusqlite::params;
use std::path::Path;
use std::time::{Duration, Instant};

const SIZE: (f32, f32) = (1280.0, 800.0);

pub fn run(photos: usize, frames: usize, keep: Option<&Path>) -> anyhow::Result<()> {
    let work = match keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.to_path_buf()
        }
        None => super::tempfile_dir("dermdesk-bench-browser")?,
    };
    let db = work.join("big.sqlite");
    let t = Instant::now();
    fill(&db, photos)?;
    let thumbs = write_thumbs(&db, 4000)?;
    outln!("built a {photos}-photo database with {thumbs} cached thumbnails in {:.1} s", t.elapsed().as_secs_f64());

    // From nothing to the first frame, and to the first frame that shows the grid.
    let t0 = Instant::now();
    let ctx = egui::Context::default();
    let store = Store::open(&db)?;
    let mut app = App::new(&ctx, store, AppConfig::new(db.clone()));
    let mut clock = 0.0f64;
    let first_frame = {
        frame(&ctx, &mut app, &mut clock, Vec::new());
        t0.elapsed()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.items.len() < photos {
        frame(&ctx, &mut app, &mut clock, Vec::new());
        anyhow::ensure!(Instant::now() < deadline, "the grid never filled");
        std::thread::sleep(Duration::from_millis(1));
    }
    frame(&ctx, &mut app, &mut clock, Vec::new());
    let first_grid = t0.elapsed();
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
        times.push(
            frame(&ctx, &mut app, &mut clock, vec![egui::Event::PointerMoved(egui::pos2(640.0, 400.0)), ev])
                .as_secs_f64()
                * 1000.0,
        );
    }
    let (textures, _) = app.thumb_status();
    let offset = app.grid_scroll_offset();
    let rss = crate::util::peak_rss_bytes().map(|b| b as f64 / 1048576.0).unwrap_or(f64::NAN);
    outln!("browser over {photos} photos, window {}x{}, {frames} scrolling frames", SIZE.0, SIZE.1);
    outln!("time to first frame            {:>8.1} ms", first_frame.as_secs_f64() * 1000.0);
    outln!("time to first frame with grid  {:>8.1} ms (goal < 1000)", first_grid.as_secs_f64() * 1000.0);
    outln!(
        "frame time while scrolling     p50 {:.2} ms, p95 {:.2} ms (goal < 8), max {:.2} ms",
        median(&mut times.clone()),
        percentile(&mut times.clone(), 0.95),
        percentile(&mut times, 1.0)
    );
    outln!("scrolled to                    {offset:.0} pt, {textures} thumbnail textures resident");
    outln!("peak RSS                       {rss:>8.1} MiB (goal < 500)");
    drop(app);
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(())
}

/// One frame: logic, UI, tessellation. Returns how long it took.
fn frame(ctx: &egui::Context, app: &mut App, clock: &mut f64, events: Vec<egui::Event>) -> Duration {
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
    let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
    let took = t.elapsed();
    std::hint::black_box(prims);
    took
}

/// Synthetic archive rows: 15 years, five modalities, realistic paths and sizes.
fn fill(db: &Path, photos: usize) -> anyhow::Result<()> {
    let mut store = Store::open(db)?;
    let tx = store.conn_mut().transaction()?;
    let now = crate::util::now_iso();
    tx.execute(
        "INSERT INTO import_runs (id, started_at, heartbeat_at, status, roots, actor, pid) VALUES (1, ?1, ?1, 'finished', '[\"/archive\"]', 'bench', 0)",
        [&now],
    )?;
    tx.execute("INSERT INTO roots (id, path, added_at) VALUES (1, '/archive', ?1)", [&now])?;
    {
        let mut photo = tx.prepare(
            "INSERT INTO photos (id, hash, byte_size, width, height, format, captured_at, captured_source, modality,
                modality_source, imported_at, import_run) VALUES (?1, ?2, ?3, ?4, ?5, 'jpeg', ?6, 'exif:DateTimeOriginal', ?7, 'cue', ?8, 1)",
        )?;
        let mut loc = tx.prepare(
            "INSERT INTO locations (photo_id, root_id, path, byte_size, mtime_ns, first_seen_run, last_seen_run)
             VALUES (?1, 1, ?2, ?3, 0, 1, 1)",
        )?;
        let modalities = ["dermoscopy", "clinical", "clinical", "dermoscopy", "visia", "histopathology", "other"];
        let sizes = [(4000u32, 3000u32), (3872, 2592), (1024, 768), (600, 450), (3456, 5184)];
        let mut s: u64 = 42;
        for i in 1..=photos as i64 {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = s >> 33;
            let year = 2003 + (r % 16);
            let (w, h) = sizes[(r % 5) as usize];
            let date = format!(
                "{year}-{:02}-{:02}T{:02}:{:02}:00",
                1 + (r >> 4) % 12,
                1 + (r >> 8) % 28,
                (r >> 12) % 24,
                (r >> 16) % 60
            );
            let hash = blake3::hash(&i.to_le_bytes()).to_hex().to_string();
            let size = 200_000 + (r % 5_000_000) as i64;
            photo.execute(params![i, hash, size, w, h, date, modalities[(r % 7) as usize], now])?;
            let path = format!("/archive/{year}/case-{:06}/IMG_{i:06}.JPG", (r >> 20) % 40_000);
            loc.execute(params![i, path, size])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Writes synthetic thumbnails for the first `n` photos in the grid's default order: drawn
/// here, one look per modality (no real photo is used, so screenshots of it can be shared).
fn write_thumbs(db: &Path, n: usize) -> anyhow::Result<usize> {
    let store = Store::open(db)?;
    let mut cache = crate::store::ThumbDb::open(&store.thumb_db_path())?;
    let items = store.grid(&PhotoFilter::default())?;
    let mut written = 0;
    for (i, it) in items.iter().take(n).enumerate() {
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
