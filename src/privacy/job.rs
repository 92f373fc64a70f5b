//! The screening job: every photo that some detector has not screened at its current version
//! (or every photo with `all`), in parallel, resumable (each photo's result is committed as it
//! comes, so a stopped job picks up where it was), cancellable, with progress.

use super::{ScreenInput, Screener, Screening, Verdict};
use crate::archive::format;
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::store::{ScreenTarget, Store};
use crate::thumbs::{self, Limits};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct ScreenOptions {
    /// Screen every photo again, not only those missing a current screening.
    pub all: bool,
    pub threads: usize,
}

impl Default for ScreenOptions {
    fn default() -> Self {
        ScreenOptions {
            all: false,
            threads: crate::jobs::default_workers()
                .min(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ScreenReport {
    pub screened: usize,
    pub by_verdict: BTreeMap<String, usize>,
    /// Photos that could not be screened (they stay unscreened and can never leave).
    pub failed: Vec<(i64, String)>,
    pub cancelled: bool,
    pub seconds: f64,
    pub photos_per_second: f64,
}

/// Decodes one photo for screening: reduced so the long side is about 1000-2000 px, then
/// turned upright. Returns the pixels and the full upright size.
pub fn load_for_screening(bytes: &[u8], path: &Path, orientation: u8) -> Result<(image::RgbImage, (u32, u32))> {
    let fmt = format::sniff(&bytes[..bytes.len().min(4096)], path)
        .map_err(|e| Error::Invalid(format!("cannot screen this file ({e}): {}", path.display())))?;
    let d = thumbs::decode_reduced(bytes, fmt, 960, &Limits::default())
        .map_err(|e| Error::Invalid(format!("cannot decode the photo ({e}): {}", path.display())))?;
    let upright = thumbs::orient(d.image, orientation);
    let full = if (5..=8).contains(&orientation) { (d.height, d.width) } else { (d.width, d.height) };
    Ok((upright, full))
}

/// Screens one target (the work a worker does per photo).
pub fn screen_target(screener: &Screener, t: &ScreenTarget) -> Result<Screening> {
    let path = Path::new(&t.path);
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read the photo", e, path))?;
    let (image, full_size) = load_for_screening(&bytes, path, t.orientation)?;
    screener.screen(&ScreenInput { image: &image, full_size, file: &bytes, modality: t.modality }, &t.detectors)
}

/// Runs the job on the database at `db` with models loaded once for all threads.
pub fn run(db: &Path, opts: &ScreenOptions, screener: Arc<Screener>, progress: &Progress) -> Result<ScreenReport> {
    let started = Instant::now();
    let mut store = Store::open(db)?;
    let targets = store.screening_targets(opts.all)?;
    progress.set_total(targets.len() as u64, true);
    progress.set_message("screening");
    let queue = Arc::new(Mutex::new(targets.into_iter()));
    let (tx, rx) = mpsc::sync_channel::<(i64, Result<Screening>)>(64);
    let mut report = ScreenReport::default();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..opts.threads.max(1) {
            let (queue, tx, screener) = (queue.clone(), tx.clone(), screener.clone());
            scope.spawn(move || {
                loop {
                    if progress.is_cancelled() {
                        return;
                    }
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some(t) = next else { return };
                    let result = screen_target(&screener, &t);
                    if tx.send((t.photo_id, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        // One writer: each photo's result commits on its own, so a stop loses nothing done.
        for (id, result) in rx {
            match result {
                Ok(s) => {
                    store.save_screening(id, &s)?;
                    report.screened += 1;
                    let v = store.screening(id)?.and_then(|s| s.verdict).unwrap_or(s.verdict);
                    *report.by_verdict.entry(v.as_str().to_string()).or_default() += 1;
                }
                Err(e) => report.failed.push((id, e.to_string())),
            }
            progress.add_done(1);
        }
        Ok(())
    })?;
    report.cancelled = progress.is_cancelled();
    report.seconds = started.elapsed().as_secs_f64();
    report.photos_per_second = if report.seconds > 0.0 { report.screened as f64 / report.seconds } else { 0.0 };
    for v in Verdict::ALL {
        report.by_verdict.entry(v.as_str().to_string()).or_default();
    }
    Ok(report)
}
