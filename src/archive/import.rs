//! Import: scan folders, identify each file by content, decode new content in worker
//! processes, and record photos, locations and refusals.
//!
//! A run is a job on the worker pool (`crate::work`): the scan feeds file entries; each
//! processor asks the store whether a file is unchanged and otherwise has its worker read
//! and hash it (`ReadHash`), and decode the same bytes (`Probe`) only when the content is
//! new; the one writer records outcomes in batched transactions. UNIQUE constraints on hash
//! and path make a rerun after a kill idempotent: what was committed is skipped as
//! unchanged, the rest is redone.

use super::kind::{Kind, kind};
use crate::decode::tasks::{Probe, ProbeRequest, ReadHash};
use crate::decode::{Limits, Refusal, RefusalCode, THUMB_SIZE};
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::store::{Decider, ImportCounts, ImportEntry, ImportOutcome, RefusedFile, RunEnd, RunStatus, Store, ThumbDb};
use crate::util;
use crate::work::pool::Feeder;
use crate::work::{self, PoolOptions, Worker};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Worker processes, the per-file time limit, batch sizes.
    pub pool: PoolOptions,
    pub limits: Limits,
    /// Write thumbnails while decoding (they come almost free with the reduced decode).
    pub thumbnails: bool,
    /// Run the modality model on each new photo that no folder rule decides (before the cues).
    pub modality_model: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            pool: PoolOptions::default(),
            limits: Limits::default(),
            thumbnails: true,
            modality_model: true,
        }
    }
}

impl ImportOptions {
    /// The defaults, with workers started from `exe`.
    pub fn with_exe(exe: PathBuf) -> ImportOptions {
        ImportOptions { pool: PoolOptions::new(exe), ..Default::default() }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub run_id: i64,
    /// finished, cancelled or failed.
    pub status: RunStatus,
    pub roots: Vec<String>,
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// Files refused in this run, with the reason.
    pub refusals: Vec<RefusedFile>,
    /// Folders that could not be read (their files are not marked missing).
    pub scan_errors: Vec<String>,
    pub seconds: f64,
    pub message: Option<String>,
    /// Peak resident memory of the importing process (Linux; worker processes not included).
    pub peak_rss_bytes: Option<u64>,
}

/// Names that are never photos and only clutter the refusal list.
fn is_junk(name: &str) -> bool {
    name.eq_ignore_ascii_case("thumbs.db")
        || name.eq_ignore_ascii_case("desktop.ini")
        || name == ".DS_Store"
        || name.starts_with("._")
}

/// What to import: a folder (scanned recursively; what vanished from it is marked missing)
/// or a single file (its folder becomes the root; nothing is marked missing).
struct Source {
    /// Canonical absolute path of the folder or file.
    path: String,
    /// The folder it belongs to.
    root: String,
    is_dir: bool,
}

fn text(p: &Path) -> String {
    let s = p.to_string_lossy().into_owned();
    // Windows' canonical form starts with \\?\; the plain form is what people and tools use.
    s.strip_prefix(r"\\?\").map(str::to_owned).unwrap_or(s)
}

fn source(p: &Path) -> Result<Source> {
    let canon = std::fs::canonicalize(p).map_err(|e| Error::io("cannot open", e, p))?;
    if canon.is_dir() {
        let t = text(&canon);
        Ok(Source { path: t.clone(), root: t, is_dir: true })
    } else if canon.is_file() {
        let parent = canon.parent().map(text).unwrap_or_default();
        Ok(Source { path: text(&canon), root: parent, is_dir: false })
    } else {
        Err(Error::NotADirectory(p.to_path_buf()))
    }
}

/// Imports folders (recursively) and files into the database at `db`. Returns when the run
/// has finished, was cancelled through `progress`, or could not go on; everything committed
/// before stays.
pub fn import(db: &Path, paths: &[PathBuf], opts: &ImportOptions, progress: &Progress) -> Result<ImportReport> {
    let started = Instant::now();
    if paths.is_empty() {
        return Err(Error::Invalid("nothing to import: give folders or files".into()));
    }
    let sources: Vec<Source> = paths.iter().map(|p| source(p)).collect::<Result<_>>()?;
    let mut store = Store::open(db)?;
    store.mark_dead_runs_interrupted()?;
    let decider = Decider { rules: store.rules()?, visia: store.visia_sizes()? };
    // Thumbnails come back from the workers and are stored by the one writer.
    let mut thumb_db = if opts.thumbnails { Some(ThumbDb::open(&store.thumb_db_path())?) } else { None };
    let roots: Vec<String> = sources.iter().map(|s| s.path.clone()).collect();
    let root_dirs: Vec<String> = sources.iter().map(|s| s.root.clone()).collect();
    let (run_id, root_ids) = store.begin_import_run(&roots, &root_dirs)?;
    // What each scan root is, by id: a file's kind is judged from the folders below its root.
    let scanned_roots: Vec<(i64, String)> = root_ids
        .iter()
        .copied()
        .zip(sources.iter().map(|s| if s.is_dir { s.path.clone() } else { s.root.clone() }))
        .collect();
    progress.set_message("scanning");

    let mut counts = ImportCounts::default();
    let mut refused: Vec<RefusedFile> = Vec::new();
    let mut thumb_failure: Option<String> = None;
    let ran = work::run(
        &opts.pool,
        progress,
        |feed| scan(&sources, &root_ids, feed, progress),
        || Store::open_reader(db),
        |reader, worker, entry| classify(reader, worker, entry, &scanned_roots, opts, &decider.rules),
        |batch: &mut Vec<ImportOutcome>| {
            // The batch's thumbnails are stored first, so that no committed photo lacks its
            // thumbnail. A cache that cannot be written costs thumbnails, not photos: the
            // photos are still recorded and the error is reported beside them.
            if let Some(cache) = thumb_db.as_mut() {
                let made = batch.iter().filter_map(|o| match o {
                    ImportOutcome::NewContent { hash, probe, thumb: Some(jpeg), .. } => {
                        Some((hash.as_str(), jpeg.as_slice(), probe.thumb_route.map(|r| r.as_str()).unwrap_or("full")))
                    }
                    _ => None,
                });
                if let Err(e) = cache.put_many(made) {
                    counts.thumbnail_errors +=
                        batch.iter().filter(|o| matches!(o, ImportOutcome::NewContent { thumb: Some(_), .. })).count()
                            as u64;
                    thumb_failure.get_or_insert(e.to_string());
                }
            }
            store.record_import_batch(run_id, &decider, batch, &mut counts, &mut refused)?;
            progress.set_message(format!(
                "{} new, {} unchanged, {} refused",
                counts.new_photos, counts.unchanged, counts.refused
            ));
            Ok(())
        },
    );
    let finished = match ran {
        Ok(f) => f,
        Err(e) => {
            store.fail_import_run(run_id, &e.to_string());
            return Err(e);
        }
    };
    let folder_errors = finished.fed;
    let failed = finished.failed.map(|e| e.to_string());
    let complete = !progress.is_cancelled() && failed.is_none();
    let status = match (&failed, complete) {
        (Some(_), _) => RunStatus::Failed,
        (None, true) => RunStatus::Finished,
        (None, false) => RunStatus::Cancelled,
    };
    // Files are marked missing only after a complete scan of readable folders.
    let mark_missing = complete && folder_errors.is_empty();
    let message = failed.or(thumb_failure.map(|e| format!("thumbnails could not be stored: {e}"))).or_else(|| {
        (complete && !folder_errors.is_empty())
            .then(|| format!("{} folder(s) could not be read, so no file was marked missing", folder_errors.len()))
    });
    let scanned_dirs: Vec<String> = sources.iter().filter(|s| s.is_dir).map(|s| s.path.clone()).collect();
    let end = RunEnd {
        scanned_dirs: &scanned_dirs,
        mark_missing,
        status,
        message: message.as_deref(),
        folder_errors: &folder_errors,
    };
    store.finish_import_run(run_id, &end, &mut counts)?;
    Ok(ImportReport {
        run_id,
        status,
        roots,
        counts,
        refusals: refused,
        scan_errors: folder_errors.iter().map(|(path, why)| format!("{why}: {path}")).collect(),
        seconds: started.elapsed().as_secs_f64(),
        message,
        peak_rss_bytes: util::peak_rss_bytes(),
    })
}

/// Walks the folders and streams regular files to the processors. Returns the folders it
/// could not read.
fn scan(
    sources: &[Source],
    root_ids: &[i64],
    feed: &Feeder<'_, ImportEntry>,
    progress: &Progress,
) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    for (src, &root_id) in sources.iter().zip(root_ids) {
        let root = &src.path;
        for item in walkdir::WalkDir::new(root).follow_links(false) {
            if feed.is_cancelled() {
                return errors;
            }
            let item = match item {
                Ok(i) => i,
                Err(e) => {
                    let at = e.path().map(|p| p.display().to_string()).unwrap_or_else(|| root.clone());
                    let why = e.io_error().map(|i| i.to_string()).unwrap_or_else(|| e.to_string());
                    errors.push((at, format!("the folder could not be read ({why})")));
                    continue;
                }
            };
            // Regular files only: symlinks could loop, pipes and devices would block.
            if !item.file_type().is_file() || is_junk(&item.file_name().to_string_lossy()) {
                continue;
            }
            let meta = match item.metadata() {
                Ok(m) => m,
                Err(e) => {
                    errors.push((item.path().display().to_string(), format!("could not be read ({e})")));
                    continue;
                }
            };
            let entry = ImportEntry {
                root_id,
                path: item.path().to_string_lossy().into_owned(),
                size: meta.len(),
                mtime_ns: util::mtime_ns(&meta),
            };
            progress.add_total(1);
            if !feed.send(entry) {
                return errors;
            }
        }
    }
    progress.finish_total();
    errors
}

/// The folder a scanned entry was found below.
fn root_of(entry: &ImportEntry, roots: &[(i64, String)]) -> String {
    roots
        .iter()
        .filter(|(id, r)| *id == entry.root_id && entry.path.starts_with(r.as_str()))
        .map(|(_, r)| r.clone())
        .max_by_key(|r| r.len())
        .unwrap_or_default()
}

/// Decides one file: unchanged (no read at all), known content at a new path (read and
/// hashed), new content (decoded from the same bytes), or refused.
fn classify(
    reader: &Store,
    worker: &mut Worker,
    entry: ImportEntry,
    roots: &[(i64, String)],
    opts: &ImportOptions,
    rules: &[crate::modality::Rule],
) -> Result<ImportOutcome> {
    let path = PathBuf::from(&entry.path);
    match kind(&path, Path::new(&root_of(&entry, roots))) {
        Kind::Other => return Ok(ImportOutcome::Skipped),
        Kind::Mask { stem } => return Ok(ImportOutcome::Mask { entry, stem }),
        Kind::Photo => {}
    }
    if let Some(known) = reader.known_unchanged(&entry)? {
        return Ok(known);
    }
    let hashed = match worker.call::<ReadHash>(&path)? {
        Ok((h, _)) => h,
        Err(refusal) => return Ok(ImportOutcome::Refused { entry, hash: None, refusal }),
    };
    if hashed.len == 0 {
        let refusal = Refusal::new(RefusalCode::Empty, "the file is empty (0 bytes)");
        return Ok(ImportOutcome::Refused { entry, hash: Some(hashed.hash), refusal });
    }
    if let Some(photo_id) = reader.photo_id_by_hash(&hashed.hash)? {
        return Ok(ImportOutcome::KnownContent { entry, photo_id });
    }
    let ruled = crate::modality::match_rules(rules, &path).is_some();
    let req = ProbeRequest {
        path,
        thumb: opts.thumbnails,
        thumb_size: THUMB_SIZE,
        limits: opts.limits,
        // A folder rule decides before the model: where one matches, the model's time is
        // saved (an archive sorted into modality folders imports at the speed of rules).
        modality_model: opts.modality_model && !ruled,
    };
    Ok(match worker.call::<Probe>(&req)? {
        Ok((p, thumb)) => ImportOutcome::NewContent {
            entry,
            hash: p.hash,
            probe: Box::new(p.probe),
            thumb: (!thumb.is_empty()).then_some(thumb),
        },
        Err(refusal) => ImportOutcome::Refused { entry, hash: Some(hashed.hash), refusal },
    })
}
