//! Re-sorting photos imported before the modality model, or guessed by another version of it
//! (an earlier dermdesk's), or all of them (`all`): each
//! photo's file is probed again in the decoder workers, as at import, the model's guess is
//! stored with its cues, and its modality decided again. A person's choice is never touched
//! and a folder rule still wins (`decide`).

use crate::decode::tasks::{Probe, ProbeRequest};
use crate::decode::{Limits, THUMB_SIZE};
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::modality::ModelGuess;
use crate::store::Store;
use crate::work::{self, PoolOptions};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Debug, Default)]
pub struct RedetectOptions {
    pub pool: PoolOptions,
    pub limits: Limits,
    /// Also photos that already have a guess from the built-in model's version.
    pub all: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RedetectReport {
    /// Photos whose file was probed.
    pub examined: usize,
    /// Photos that now have a model guess.
    pub guessed: usize,
    /// Photos whose modality or its source changed.
    pub changed: usize,
    /// (photo id, why) for files that could not be read, changed since import, or no guess.
    pub failed: Vec<(i64, String)>,
    pub cancelled: bool,
    pub seconds: f64,
}

enum Outcome {
    Guess(i64, ModelGuess),
    Failed(i64, String),
}

pub fn redetect(db: &Path, opts: &RedetectOptions, progress: &Progress) -> Result<RedetectReport> {
    let started = Instant::now();
    let mut store = Store::open(db)?;
    // The decoder workers load and run the model; here only that it was built in (loading it
    // here as well would optimise a plan this process never runs, and keep it for life).
    if crate::models::registry::builtin_files(crate::modality::model::FOLDER).is_none() {
        return Err(Error::Invalid("the modality model was not there when dermdesk was built".into()));
    }
    let targets = store.modality_redetect_targets(opts.all, crate::modality::model::builtin_version())?;
    progress.set_total(targets.len() as u64, true);
    progress.set_message("modality model");
    let mut report = RedetectReport { examined: targets.len(), ..Default::default() };
    let finished = work::run(
        &opts.pool,
        progress,
        |f| {
            for t in targets {
                if !f.send(t) {
                    return;
                }
            }
        },
        || Ok(()),
        |_, worker, (id, hash, path): (i64, String, String)| {
            let req = ProbeRequest {
                path: PathBuf::from(&path),
                thumb: false,
                thumb_size: THUMB_SIZE,
                limits: opts.limits,
                modality_model: true,
            };
            Ok(match worker.call::<Probe>(&req)? {
                Ok((p, _)) if p.hash != hash => Outcome::Failed(
                    id,
                    format!("the file changed since it was imported (import its folder again): {path}"),
                ),
                Ok((p, _)) => match p.probe.cues.and_then(|c| c.model) {
                    Some(g) => Outcome::Guess(id, g),
                    None => Outcome::Failed(id, format!("the modality model gave no guess: {path}")),
                },
                Err(refusal) => Outcome::Failed(id, format!("{refusal}: {path}")),
            })
        },
        |batch: &mut Vec<Outcome>| {
            let mut guesses = Vec::with_capacity(batch.len());
            for o in batch.drain(..) {
                match o {
                    Outcome::Guess(id, g) => guesses.push((id, g)),
                    Outcome::Failed(id, why) => report.failed.push((id, why)),
                }
            }
            report.changed += store.save_model_guesses(&guesses)?;
            report.guessed += guesses.len();
            Ok(())
        },
    )?;
    if let Some(e) = finished.failed {
        return Err(e);
    }
    report.cancelled = progress.is_cancelled();
    report.seconds = started.elapsed().as_secs_f64();
    store.audit(
        "modality_redetected",
        None,
        &format!(
            "{} examined, {} guessed by the modality model, {} changed, {} failed{}",
            report.examined,
            report.guessed,
            report.changed,
            report.failed.len(),
            if report.cancelled { " (cancelled)" } else { "" }
        ),
    )?;
    Ok(report)
}
