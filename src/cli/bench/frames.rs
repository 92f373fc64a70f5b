//! The app's frames while it imports: the real `App`, headless, paced at 60 frames a second
//! as a window would be, importing a folder in the background while a person changes the
//! modality of a photo every second and saves the modality rules every three (writes that
//! wait for the import's batches on the store thread, never in a frame). Frame time is the
//! CPU time of logic, UI and tessellation.

use super::browser::frame;
use super::{median, percentile};
use crate::modality::Modality;
use crate::store::Store;
use crate::ui::command::{Command, Select};
use crate::ui::{App, AppConfig, Overlay};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

pub fn run(dir: &Path, as_json: bool) -> anyhow::Result<()> {
    let work = super::tempfile_dir("dermdesk-bench-frames")?;
    let db = work.join("frames.sqlite");
    let ctx = egui::Context::default();
    let mut cfg = AppConfig::new(db.clone());
    cfg.worker_exe = std::env::current_exe()?;
    cfg.import_on_start = vec![dir.to_path_buf()];
    let mut app = App::new(&ctx, Store::open(&db)?, cfg);
    let mut clock = 0.0;
    let tick = Duration::from_secs_f64(1.0 / 60.0);
    let mut times = Vec::new();
    let (mut modality_writes, mut rule_saves) = (0u32, 0u32);
    let started = Instant::now();
    let mut n = 0u64;
    // The first frame starts the import job; it also builds the font atlas (BIZ UDPGothic),
    // which a window pays once at start whatever it shows: it is not a frame "while importing".
    let first_ms = frame(&ctx, &mut app, &mut clock, Vec::new()).as_secs_f64() * 1000.0;
    while app.jobs.iter().any(|j| j.is_running()) {
        let next = Instant::now() + tick;
        n += 1;
        if n.is_multiple_of(60) && !app.grid.is_empty() {
            app.push(Command::Focus { index: 0, select: Select::Only });
            let m = if n.is_multiple_of(120) { Modality::Clinical } else { Modality::Dermoscopy };
            app.push(Command::SetModality(m));
            modality_writes += 1;
        }
        if n.is_multiple_of(180) {
            if !app.is_open(Overlay::Rules) {
                app.push(Command::ToggleRules);
            } else {
                app.push(Command::SaveRules);
                rule_saves += 1;
            }
        }
        times.push(frame(&ctx, &mut app, &mut clock, Vec::new()).as_secs_f64() * 1000.0);
        anyhow::ensure!(started.elapsed() < Duration::from_secs(1800), "the import never finished");
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let import_s = started.elapsed().as_secs_f64();
    let photos = Store::open(&db)?.stats()?.photos;
    drop(app);
    let v = json!({
        "folder": dir.display().to_string(),
        "photos": photos,
        "import_seconds": import_s,
        "first_frame_ms": first_ms,
        "frames": times.len(),
        "frame_p50_ms": median(&mut times.clone()),
        "frame_p95_ms": percentile(&mut times.clone(), 0.95),
        "frame_max_ms": percentile(&mut times, 1.0),
        "modality_writes": modality_writes,
        "rule_saves": rule_saves,
    });
    if as_json {
        return super::super::print_json(&v);
    }
    outln!("frames while importing {} photos from {} ({import_s:.1} s)", photos, dir.display());
    outln!("  {modality_writes} modality changes and {rule_saves} rule saves during the import");
    outln!(
        "  frame time p50 {:.2} ms, p95 {:.2} ms (goal < 16), max {:.2} ms (goal < 50), over {} frames",
        v["frame_p50_ms"].as_f64().unwrap_or(f64::NAN),
        v["frame_p95_ms"].as_f64().unwrap_or(f64::NAN),
        v["frame_max_ms"].as_f64().unwrap_or(f64::NAN),
        v["frames"]
    );
    Ok(())
}
