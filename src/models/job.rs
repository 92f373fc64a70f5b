//! The inference job: one model version over the photos that pass a filter, on the
//! per-photo worker job (`crate::work`). Only photos the gate (`Store::release`) lets out are
//! ever offered to a model: unscreened, unreviewed, excluded and opted-out photos are counted
//! as skipped with the gate's reason and never read. Photos whose modality the card does not
//! name are skipped unless forced; photos that already have a result from this version are
//! skipped unless `all` (that makes the job resumable: each finished batch is committed).

use super::task::{Infer, InferOutcome, InferRequest};
use super::{ModelError, Prediction, registry};
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::store::{PhotoFilter, Store};
use crate::work::{self, PoolOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct InferOptions {
    /// The model's name.
    pub model: String,
    /// Its version (default: the newest registered).
    pub version: Option<String>,
    /// Run on photos of modalities the card does not name too.
    pub force_modality: bool,
    /// Run again on photos that already have a result from this version.
    pub all: bool,
    /// Which photos (modality, dates, path text...); the default is every photo.
    pub filter: PhotoFilter,
    /// Worker processes, each with its own copy of the model, single-threaded.
    pub threads: usize,
    /// The executable workers run from (tests point at the built binary).
    pub exe: PathBuf,
    /// No single photo may take longer than this.
    pub timeout: Duration,
}

impl InferOptions {
    pub fn new(model: &str) -> InferOptions {
        InferOptions {
            model: model.to_owned(),
            version: None,
            force_modality: false,
            all: false,
            filter: PhotoFilter::default(),
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            exe: work::default_exe(),
            timeout: Duration::from_secs(120),
        }
    }
}

/// Why a photo was not offered to the model (the gate's reasons, as `Withheld::as_str`, and
/// these two).
pub const SKIP_MODALITY: &str = "modality_not_intended";
pub const SKIP_DONE: &str = "already_inferred";

#[derive(Clone, Debug, Default, Serialize)]
pub struct InferReport {
    pub model: String,
    pub version: String,
    /// The card's task: `classification` or `segmentation`.
    pub task: String,
    pub inferred: usize,
    /// Photos not offered to the model, by reason: the gate's (`unscreened`, `unreviewed`,
    /// `excluded`, `opted_out_patient`, `opted_out_number_in_path`, `no_file`),
    /// `modality_not_intended`, `already_inferred`.
    pub skipped: BTreeMap<String, usize>,
    /// Photos the model could not be run on: (photo id, why, with the path last).
    pub failed: Vec<(i64, String)>,
    pub cancelled: bool,
    pub seconds: f64,
    pub photos_per_second: f64,
}

enum Outcome {
    Done(String, Prediction),
    Failed(i64, String),
}

struct Target {
    photo_id: i64,
    req: InferRequest,
}

/// `e`, unless the model's registration is gone: then that it was removed while the job ran
/// (`dermdesk models remove` or the Models page, from another process), which is what the user
/// needs to know; what its absence broke (the stored results' reference to it, the workers'
/// load of its file) says less.
fn removed_or(store: &Store, model: &registry::ModelInfo, e: Error) -> Error {
    match store.model_row(model.name(), model.version()) {
        Ok(None) => Error::Invalid(format!(
            "the model {} {} was removed while this job ran, and its results with it ({e})",
            model.name(),
            model.version()
        )),
        _ => e,
    }
}

/// Runs the job on the database at `db`.
pub fn run(db: &Path, opts: &InferOptions, progress: &Progress) -> Result<InferReport> {
    let started = Instant::now();
    let mut store = Store::open(db)?;
    registry::open(&mut store)?; // the demo models, if this database has not seen them yet
    let model = registry::get(&store, &opts.model, opts.version.as_deref())?;
    let card_text = std::fs::read_to_string(model.dir.join("card.toml"))
        .map_err(|e| Error::io("cannot read the model card", e, &model.dir.join("card.toml")))?;
    if super::Card::parse(&card_text).map_err(Error::from)? != model.card {
        return Err(ModelError::File {
            what: "the model card in the registry folder is not the one registered (add the model again)",
            cause: "changed".into(),
            path: model.dir.join("card.toml"),
        }
        .into());
    }
    let mut report = InferReport {
        model: model.name().to_owned(),
        version: model.version().to_owned(),
        task: model.card.task.as_str().to_owned(),
        ..Default::default()
    };
    progress.set_message(format!("{} {}", model.name(), model.version()));
    let mut pool = PoolOptions::new(opts.exe.clone());
    pool.workers = opts.threads.max(1);
    pool.timeout = opts.timeout;
    pool.batch = 64;
    let skipped = std::sync::Mutex::new(BTreeMap::<String, usize>::new());
    let finished = work::run(
        &pool,
        progress,
        |f| -> Result<()> {
            let reader = Store::open_reader(db)?;
            let ids = reader.grid_ids(&opts.filter)?;
            progress.set_total(ids.len() as u64, true);
            for page in ids.chunks(512) {
                let mut skip = BTreeMap::<String, usize>::new();
                // THE GATE: only what it allows is ever read.
                let release = reader.release(Some(page))?;
                for (_, why) in &release.withheld {
                    *skip.entry(why.as_str().to_owned()).or_default() += 1;
                }
                let modality: std::collections::HashMap<i64, crate::modality::Modality> =
                    reader.grid_rows(&release.allowed_ids())?.into_iter().map(|g| (g.id, g.modality)).collect();
                let hashes: Vec<String> = release.allowed.iter().map(|r| r.hash.clone()).collect();
                let done = if opts.all { Default::default() } else { reader.model_results_done(model.id, &hashes)? };
                let mut due = Vec::new();
                for r in release.allowed {
                    let intended = modality.get(&r.photo_id).is_some_and(|m| model.card.intended_for(*m));
                    if !intended && !opts.force_modality {
                        *skip.entry(SKIP_MODALITY.to_owned()).or_default() += 1;
                    } else if done.contains(&r.hash) {
                        *skip.entry(SKIP_DONE.to_owned()).or_default() += 1;
                    } else {
                        due.push(r);
                    }
                }
                let n_skipped: usize = skip.values().sum();
                {
                    let mut all = skipped.lock().unwrap_or_else(|e| e.into_inner());
                    for (k, n) in skip {
                        *all.entry(k).or_default() += n;
                    }
                }
                // Skipped photos count as done for the progress bar (the writer adds the rest).
                progress.set_total(progress.snapshot().total.saturating_sub(n_skipped as u64), true);
                for r in due {
                    let req = InferRequest {
                        path: PathBuf::from(&r.path),
                        hash: r.hash,
                        orientation: r.orientation,
                        redactions: r.redactions.into_iter().map(|x| x.shape).collect(),
                        name: model.name().to_owned(),
                        version: model.version().to_owned(),
                        card: card_text.clone(),
                        model_path: model.model_path.clone(),
                        model_hash: model.model_hash.clone(),
                    };
                    if !f.send(Target { photo_id: r.photo_id, req }) {
                        return Ok(());
                    }
                }
            }
            Ok(())
        },
        || Ok(()),
        |_, worker, t: Target| {
            let path = t.req.path.display().to_string();
            let hash = t.req.hash.clone();
            Ok(match worker.call::<Infer>(&t.req)? {
                Ok((InferOutcome::Done(p), _)) => Outcome::Done(hash, p),
                Ok((InferOutcome::Changed, _)) => Outcome::Failed(
                    t.photo_id,
                    format!("the file changed since it was imported and reviewed (import its folder again): {path}"),
                ),
                Ok((InferOutcome::NoModel(why), _)) => {
                    return Err(Error::Invalid(format!("the model could not be loaded: {why}")));
                }
                Err(refusal) => Outcome::Failed(t.photo_id, format!("{refusal}: {path}")),
            })
        },
        |batch: &mut Vec<Outcome>| {
            let mut done = Vec::with_capacity(batch.len());
            for o in batch.drain(..) {
                match o {
                    Outcome::Done(hash, p) => done.push((hash, p)),
                    Outcome::Failed(id, why) => report.failed.push((id, why)),
                }
            }
            store.save_model_results(model.id, &done)?;
            report.inferred += done.len();
            Ok(())
        },
    )
    .map_err(|e| removed_or(&store, &model, e))?;
    report.skipped = skipped.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = finished.failed {
        return Err(removed_or(&store, &model, e));
    }
    finished.fed?;
    report.cancelled = progress.is_cancelled();
    report.seconds = started.elapsed().as_secs_f64();
    report.photos_per_second = if report.seconds > 0.0 { report.inferred as f64 / report.seconds } else { 0.0 };
    let skipped: Vec<String> = report.skipped.iter().map(|(k, n)| format!("{k} {n}")).collect();
    store.audit(
        "models_inferred",
        None,
        &format!(
            "{} {}: {} inferred, {} failed, skipped: {}{}",
            report.model,
            report.version,
            report.inferred,
            report.failed.len(),
            if skipped.is_empty() { "none".into() } else { skipped.join(", ") },
            if report.cancelled { " (cancelled)" } else { "" }
        ),
    )?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model removed while its job runs: the job's error says so, whatever its absence
    /// broke first; while the model is there, errors pass unchanged.
    #[test]
    fn a_model_removed_during_its_job_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = Store::open(&tmp.path().join("a.sqlite")).unwrap();
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/ham7-lite0");
        let dir = tmp.path().join("mine");
        std::fs::create_dir(&dir).unwrap();
        std::fs::copy(assets.join("model.onnx"), dir.join("model.onnx")).unwrap();
        let card = std::fs::read_to_string(assets.join("card.toml")).unwrap();
        std::fs::write(dir.join("card.toml"), card.replacen("name = \"ham7-lite0\"", "name = \"mine\"", 1)).unwrap();
        let info = registry::add(&mut store, &dir.join("card.toml"), None).unwrap();
        let broke = || Error::Invalid("FOREIGN KEY constraint failed".into());
        assert_eq!(removed_or(&store, &info, broke()).to_string(), broke().to_string());
        registry::remove(&mut store, "mine", "1.0.0").unwrap();
        let said = removed_or(&store, &info, broke()).to_string();
        assert!(said.contains("the model mine 1.0.0 was removed while this job ran"), "{said}");
        assert!(said.contains("FOREIGN KEY"), "{said}");
    }
}
