//! The screening job: every photo that some detector has not screened at its current version
//! (or every photo with `all`), on the per-photo worker job (`crate::work`): worker
//! processes load the models once each and screen one photo per request, under a time limit;
//! the calling thread is the one writer. Resumable (each finished batch is committed, and
//! the feeder offers only what is still due), cancellable, with progress.

use super::Verdict;
use super::task::{Screen, ScreenOutcome, ScreenRequest};
use crate::decode::format;
use crate::decode::{Limits, decode_reduced, orient};
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::store::{ScreenTarget, Store};
use crate::work::{self, PoolOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct ScreenOptions {
    /// Screen every photo again, not only those missing a current screening.
    pub all: bool,
    /// Worker processes, each with its own copy of the models (about 150 MB each).
    pub threads: usize,
    /// The executable workers run from (tests point at the built binary).
    pub exe: PathBuf,
    /// No single photo may take longer than this.
    pub timeout: Duration,
}

impl Default for ScreenOptions {
    fn default() -> Self {
        ScreenOptions {
            all: false,
            // Screening is all arithmetic: one worker per core (the decode jobs' extra two
            // would only contend).
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            exe: work::default_exe(),
            timeout: Duration::from_secs(120),
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
    let d = decode_reduced(bytes, fmt, 960, &Limits::default())
        .map_err(|e| Error::Invalid(format!("cannot decode the photo ({e}): {}", path.display())))?;
    let upright = orient(d.image, orientation);
    let full = if (5..=8).contains(&orientation) { (d.height, d.width) } else { (d.width, d.height) };
    Ok((upright, full))
}

enum Outcome {
    Screened(i64, super::Screening),
    Failed(i64, String),
}

/// Runs the job on the database at `db`.
pub fn run(db: &Path, opts: &ScreenOptions, progress: &Progress) -> Result<ScreenReport> {
    let started = Instant::now();
    let mut store = Store::open(db)?;
    let mut report = ScreenReport::default();
    progress.set_message("screening");
    let mut pool = PoolOptions::new(opts.exe.clone());
    pool.workers = opts.threads.max(1);
    pool.timeout = opts.timeout;
    // A photo takes about a second: commit often so that progress and a stop lose little.
    pool.batch = 8;
    let finished = work::run(
        &pool,
        progress,
        |f| -> Result<()> {
            // Pages of due photos, so that a million-photo archive is never held at once.
            let reader = Store::open(db)?;
            let mut after = 0;
            loop {
                let (page, last) = reader.screening_targets_page(opts.all, after, 1024)?;
                for t in page {
                    progress.add_total(1);
                    if !f.send(t) {
                        return Ok(());
                    }
                }
                match last {
                    Some(id) => after = id,
                    None => break,
                }
            }
            progress.finish_total();
            Ok(())
        },
        || Ok(()),
        |_, worker, t: ScreenTarget| {
            let req = ScreenRequest {
                path: PathBuf::from(&t.path),
                hash: t.hash,
                orientation: t.orientation,
                modality: t.modality,
                detectors: t.detectors,
            };
            Ok(match worker.call::<Screen>(&req)? {
                Ok((ScreenOutcome::Screened(s), _)) => Outcome::Screened(t.photo_id, s),
                Ok((ScreenOutcome::Changed, _)) => Outcome::Failed(
                    t.photo_id,
                    format!("the file changed since it was imported (import its folder again): {}", t.path),
                ),
                Ok((ScreenOutcome::NoModels(why), _)) => {
                    return Err(Error::Invalid(format!("the screening models could not be loaded: {why}")));
                }
                Err(refusal) => Outcome::Failed(t.photo_id, format!("{refusal}: {}", t.path)),
            })
        },
        |batch: &mut Vec<Outcome>| {
            for o in batch.drain(..) {
                match o {
                    Outcome::Screened(id, s) => {
                        store.save_screening(id, &s)?;
                        report.screened += 1;
                        let v = store.screening(id)?.and_then(|s| s.verdict).unwrap_or(s.verdict);
                        *report.by_verdict.entry(v.as_str().to_string()).or_default() += 1;
                    }
                    Outcome::Failed(id, why) => report.failed.push((id, why)),
                }
            }
            Ok(())
        },
    )?;
    if let Some(e) = finished.failed {
        return Err(e);
    }
    finished.fed?;
    report.cancelled = progress.is_cancelled();
    report.seconds = started.elapsed().as_secs_f64();
    report.photos_per_second = if report.seconds > 0.0 { report.screened as f64 / report.seconds } else { 0.0 };
    for v in Verdict::ALL {
        report.by_verdict.entry(v.as_str().to_string()).or_default();
    }
    Ok(report)
}
