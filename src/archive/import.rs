//! Import: scan folders, identify each file by content, decode new content in worker
//! processes, and record photos, locations and refusals.
//!
//! Shape of a run: one scanner thread streams file entries into a bounded channel; N
//! processor threads (one worker process each) turn entries into outcomes; this thread
//! writes outcomes in batched transactions. Memory stays flat (bounded channels, no list of
//! all files), every batch is atomic, and UNIQUE constraints on hash and path make a rerun
//! after a kill idempotent: what was committed is skipped as unchanged, the rest is redone.

use super::format::{Refusal, RefusalCode};
use super::hash::hash_file;
use super::probe::{self, Probe};
use super::worker::{self, Worker};
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::modality::{self, ModalitySource, Rule};
use crate::store::{self, Store, path_prefix_range};
use crate::thumbs::cache::ThumbDb;
use crate::thumbs::{self, Limits};
use crate::util;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Processor threads, each with one decoder worker process.
    pub threads: usize,
    /// No single file may take longer than this to decode.
    pub file_timeout: Duration,
    pub worker_exe: PathBuf,
    pub limits: Limits,
    /// Write thumbnails while decoding (they come almost free with the reduced decode).
    pub thumbnails: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            threads: crate::jobs::default_workers(),
            file_timeout: Duration::from_secs(60),
            worker_exe: worker::default_exe(),
            limits: Limits::default(),
            thumbnails: true,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RefusedFile {
    pub path: String,
    pub reason_code: RefusalCode,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub run_id: i64,
    /// finished, cancelled or failed.
    pub status: String,
    pub roots: Vec<String>,
    pub scanned: u64,
    pub unchanged: u64,
    pub new_photos: u64,
    /// Known content found at a new path (copies, moves, renames).
    pub new_locations: u64,
    /// Photos whose file moved or was renamed: a new path appeared and an old one vanished.
    pub moved: u64,
    pub refused: u64,
    pub missing: u64,
    /// Files refused in this run, with the reason.
    pub refusals: Vec<RefusedFile>,
    /// Folders that could not be read (their files are not marked missing).
    pub scan_errors: Vec<String>,
    pub thumbnail_errors: u64,
    pub seconds: f64,
    pub message: Option<String>,
    /// Peak resident memory of the importing process (Linux; decoder workers not included).
    pub peak_rss_bytes: Option<u64>,
    /// The run could not go on (its reason is in `message`).
    #[serde(skip)]
    fatal: bool,
}

/// What decides a new photo's modality: folder rules first, then cues.
struct Decider {
    rules: Vec<Rule>,
    visia: Vec<(u32, u32)>,
}

struct Entry {
    root_id: i64,
    path: String,
    size: u64,
    mtime_ns: i64,
}

enum Outcome {
    Unchanged {
        location_id: i64,
    },
    UnchangedRefusal {
        refusal_id: i64,
    },
    NewContent {
        entry: Entry,
        hash: String,
        probe: Box<Probe>,
        thumb: Option<Vec<u8>>,
    },
    KnownContent {
        entry: Entry,
        photo_id: i64,
    },
    Refused {
        entry: Entry,
        hash: Option<String>,
        refusal: Refusal,
    },
    /// The run cannot go on (no worker can start, the database fails).
    Fatal(String),
}

/// Refusals worth retrying on the next run even when the file is unchanged.
fn transient(code: &str) -> bool {
    matches!(code, "timeout" | "crashed" | "unreadable")
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
    let rules = Decider { rules: store.rules()?, visia: store.visia_sizes()? };
    // Thumbnails come back from the workers and are stored by the one writer.
    let mut thumb_db = if opts.thumbnails { Some(ThumbDb::open(&store.thumb_db_path())?) } else { None };
    let (run_id, root_ids) = begin_run(&mut store, &sources)?;
    let roots: Vec<String> = sources.iter().map(|s| s.path.clone()).collect();
    progress.set_message("scanning");

    let (entry_tx, entry_rx) = sync_channel::<Entry>(4096);
    let entry_rx = Arc::new(Mutex::new(entry_rx));
    let (out_tx, out_rx) = sync_channel::<Outcome>(1024);
    let threads = opts.threads.max(1);

    let (scan_errors, written) = std::thread::scope(|s| {
        let scanner = std::thread::Builder::new()
            .name("import-scan".into())
            .spawn_scoped(s, || scan(&sources, &root_ids, entry_tx, progress))
            .expect("spawn scanner");
        // Only the processors hold the receiver: when they stop (cancel, fatal error), the
        // scanner's next send fails and it stops too, instead of waiting on a full channel.
        let entry_rx = entry_rx;
        for i in 0..threads {
            let rx = entry_rx.clone();
            let tx = out_tx.clone();
            std::thread::Builder::new()
                .name(format!("import-{i}"))
                .spawn_scoped(s, move || process(db, rx, tx, opts, progress))
                .expect("spawn processor");
        }
        drop(out_tx);
        drop(entry_rx);
        let written = write(&mut store, thumb_db.as_mut(), run_id, &rules, out_rx, progress);
        if written.is_err() {
            // Stop the others; nothing more can be recorded.
            progress.cancel();
        }
        let scan_errors = scanner
            .join()
            .unwrap_or_else(|_| vec![(String::new(), "the folder scan stopped on an internal error".to_owned())]);
        (scan_errors, written)
    });
    let mut report = match written {
        Ok(r) => r,
        Err(e) => {
            fail_run(&mut store, run_id, &e.to_string());
            return Err(e);
        }
    };
    report.run_id = run_id;
    report.roots = roots;
    report.scan_errors = scan_errors.iter().map(|(path, why)| format!("{why}: {path}")).collect();
    let complete = !progress.is_cancelled() && !report.fatal;
    let scanned_dirs: Vec<String> = sources.iter().filter(|s| s.is_dir).map(|s| s.path.clone()).collect();
    finish_run(&mut store, run_id, &scanned_dirs, complete, &scan_errors, &mut report)?;
    report.seconds = started.elapsed().as_secs_f64();
    report.peak_rss_bytes = util::peak_rss_bytes();
    Ok(report)
}

fn begin_run(store: &mut Store, sources: &[Source]) -> Result<(i64, Vec<i64>)> {
    let now = util::now_iso();
    let tx = store.conn_mut().transaction()?;
    let paths: Vec<&str> = sources.iter().map(|s| s.path.as_str()).collect();
    exec(
        &tx,
        "INSERT INTO import_runs (started_at, heartbeat_at, status, roots, actor, pid)
         VALUES (?1, ?1, 'running', ?2, ?3, ?4)",
        params![now, serde_json::to_string(&paths).unwrap_or_default(), util::current_user(), std::process::id()],
    )?;
    let run_id = tx.last_insert_rowid();
    let mut ids = Vec::new();
    for s in sources {
        exec(
            &tx,
            "INSERT INTO roots (path, added_at) VALUES (?1, ?2) ON CONFLICT(path) DO NOTHING",
            params![s.root, now],
        )?;
        ids.push(row(&tx, "SELECT id FROM roots WHERE path = ?1", [&s.root], |row| row.get(0))?);
    }
    let shown: Vec<&str> = paths.iter().take(5).copied().collect();
    let more = if paths.len() > 5 { format!(" and {} more", paths.len() - 5) } else { String::new() };
    store::audit(&tx, "import_started", None, &format!("run {run_id}: {}{more}", shown.join(", ")))?;
    tx.commit()?;
    Ok((run_id, ids))
}

/// Walks the folders and streams regular files to the processors. Returns the folders it
/// could not read.
fn scan(sources: &[Source], root_ids: &[i64], tx: SyncSender<Entry>, progress: &Progress) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    for (src, &root_id) in sources.iter().zip(root_ids) {
        let root = &src.path;
        for item in walkdir::WalkDir::new(root).follow_links(false) {
            if progress.is_cancelled() {
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
            let entry = Entry {
                root_id,
                path: item.path().to_string_lossy().into_owned(),
                size: meta.len(),
                mtime_ns: util::mtime_ns(&meta),
            };
            progress.add_total(1);
            if tx.send(entry).is_err() {
                return errors;
            }
        }
    }
    progress.finish_total();
    errors
}

fn process(
    db: &Path,
    rx: Arc<Mutex<Receiver<Entry>>>,
    tx: SyncSender<Outcome>,
    opts: &ImportOptions,
    progress: &Progress,
) {
    let reader = match Store::open_reader(db) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Outcome::Fatal(e.to_string()));
            return;
        }
    };
    let mut worker = Worker::new(&opts.worker_exe, opts.file_timeout);
    loop {
        if progress.is_cancelled() {
            return;
        }
        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(entry) = next else { return };
        let outcome = match classify(&reader, &mut worker, entry, opts) {
            Ok(o) => o,
            Err(e) => Outcome::Fatal(e.to_string()),
        };
        let fatal = matches!(outcome, Outcome::Fatal(_));
        if tx.send(outcome).is_err() || fatal {
            return;
        }
    }
}

fn classify(reader: &Store, worker: &mut Worker, entry: Entry, opts: &ImportOptions) -> Result<Outcome> {
    let conn = reader.conn();
    let location: Option<(i64, u64, i64, bool)> = row(
        conn,
        "SELECT id, byte_size, mtime_ns, missing_since IS NOT NULL FROM locations WHERE path = ?1",
        [&entry.path],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .optional()?;
    if let Some((id, size, mtime, missing)) = location
        && size == entry.size
        && mtime == entry.mtime_ns
        && !missing
    {
        return Ok(Outcome::Unchanged { location_id: id });
    }
    let refusal: Option<(i64, u64, i64, String)> =
        row(conn, "SELECT id, byte_size, mtime_ns, reason_code FROM refusals WHERE path = ?1", [&entry.path], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    if let Some((id, size, mtime, code)) = refusal
        && size == entry.size
        && mtime == entry.mtime_ns
        && !transient(&code)
    {
        return Ok(Outcome::UnchangedRefusal { refusal_id: id });
    }
    let path = PathBuf::from(&entry.path);
    let (hash, len) = match hash_file(&path) {
        Ok(h) => h,
        Err(e) => {
            let refusal = Refusal::new(RefusalCode::Unreadable, format!("cannot read the file: {e}"));
            return Ok(Outcome::Refused { entry, hash: None, refusal });
        }
    };
    if len == 0 {
        let refusal = Refusal::new(RefusalCode::Empty, "the file is empty (0 bytes)");
        return Ok(Outcome::Refused { entry, hash: Some(hash), refusal });
    }
    let known: Option<i64> = row(conn, "SELECT id FROM photos WHERE hash = ?1", [&hash], |r| r.get(0)).optional()?;
    if let Some(photo_id) = known {
        return Ok(Outcome::KnownContent { entry, photo_id });
    }
    let req = probe::Request {
        mode: probe::Mode::Import,
        path,
        thumb: opts.thumbnails,
        thumb_size: thumbs::THUMB_SIZE,
        limits: opts.limits,
    };
    Ok(match worker.call(&req)? {
        Ok((probe, thumb)) => Outcome::NewContent { entry, hash, probe: Box::new(probe), thumb },
        Err(refusal) => Outcome::Refused { entry, hash: Some(hash), refusal },
    })
}

/// Runs a statement through the connection's statement cache: the writer runs the same few
/// statements for every file, and parsing them each time was a visible part of import time.
fn exec(c: &rusqlite::Connection, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(p)
}

fn row<T>(
    c: &rusqlite::Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.prepare_cached(sql)?.query_row(p, f)
}

const BATCH: usize = 256;
const BATCH_AGE: Duration = Duration::from_millis(400);

fn write(
    store: &mut Store,
    mut thumbs: Option<&mut ThumbDb>,
    run_id: i64,
    rules: &Decider,
    rx: Receiver<Outcome>,
    progress: &Progress,
) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut batch: Vec<Outcome> = Vec::with_capacity(BATCH);
    let mut last_flush = Instant::now();
    loop {
        let next = rx.recv_timeout(Duration::from_millis(200));
        let done = match next {
            Ok(Outcome::Fatal(msg)) => {
                progress.cancel();
                report.fatal = true;
                report.message = Some(msg);
                false
            }
            Ok(o) => {
                batch.push(o);
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        if done || batch.len() >= BATCH || last_flush.elapsed() >= BATCH_AGE {
            let n = batch.len() as u64;
            flush(store, thumbs.as_deref_mut(), run_id, rules, &mut batch, &mut report)?;
            progress.add_done(n);
            progress.set_message(format!(
                "{} new, {} unchanged, {} refused",
                report.new_photos, report.unchanged, report.refused
            ));
            last_flush = Instant::now();
        }
        if done {
            return Ok(report);
        }
    }
}

/// Applies a batch of outcomes and the run's counters in one transaction. The batch's
/// thumbnails are stored first, so that no committed photo lacks its thumbnail.
fn flush(
    store: &mut Store,
    thumbs: Option<&mut ThumbDb>,
    run_id: i64,
    rules: &Decider,
    batch: &mut Vec<Outcome>,
    report: &mut ImportReport,
) -> Result<()> {
    let mut thumb_failed: Option<String> = None;
    if let Some(db) = thumbs {
        let made = batch.iter().filter_map(|o| match o {
            Outcome::NewContent { hash, probe, thumb: Some(jpeg), .. } => {
                Some((hash.as_str(), jpeg.as_slice(), probe.thumb_route.map(|r| r.as_str()).unwrap_or("full")))
            }
            _ => None,
        });
        // A cache that cannot be written costs thumbnails, not photos: the photos are still
        // recorded and the error is reported beside them.
        if let Err(e) = db.put_many(made) {
            thumb_failed = Some(e.to_string());
        }
    }
    let tx = store.conn_mut().transaction()?;
    // Work on a copy of the counters: they move only once their rows are committed. The
    // growing refusal list (the only list filled during the writing) is set aside so that the
    // copy stays cheap.
    let earlier = std::mem::take(&mut report.refusals);
    let mut pending = report.clone();
    report.refusals = earlier;
    for outcome in batch.iter() {
        apply(&tx, run_id, rules, outcome, &mut pending)?;
        if let (Some(_), Outcome::NewContent { thumb: Some(_), .. }) = (&thumb_failed, outcome) {
            pending.thumbnail_errors += 1;
        }
    }
    if let Some(e) = thumb_failed {
        pending.message.get_or_insert(format!("thumbnails could not be stored: {e}"));
    }
    exec(
        &tx,
        "UPDATE import_runs SET heartbeat_at = ?2, scanned = ?3, unchanged = ?4, new_photos = ?5,
             new_locations = ?6, refused = ?7 WHERE id = ?1",
        params![
            run_id,
            util::now_iso(),
            pending.scanned,
            pending.unchanged,
            pending.new_photos,
            pending.new_locations,
            pending.refused
        ],
    )?;
    tx.commit()?;
    let mut refusals = std::mem::take(&mut report.refusals);
    refusals.append(&mut pending.refusals);
    *report = ImportReport { refusals, ..pending };
    batch.clear();
    Ok(())
}

fn apply(
    tx: &Transaction<'_>,
    run_id: i64,
    rules: &Decider,
    outcome: &Outcome,
    report: &mut ImportReport,
) -> Result<()> {
    report.scanned += 1;
    match outcome {
        Outcome::Unchanged { location_id } => {
            exec(tx, "UPDATE locations SET last_seen_run = ?1 WHERE id = ?2", params![run_id, location_id])?;
            report.unchanged += 1;
        }
        Outcome::UnchangedRefusal { refusal_id } => {
            exec(tx, "UPDATE refusals SET last_seen_run = ?1 WHERE id = ?2", params![run_id, refusal_id])?;
            report.unchanged += 1;
        }
        Outcome::NewContent { entry, hash, probe, .. } => {
            let inserted = insert_photo(tx, run_id, rules, entry, hash, probe)?;
            let photo_id: i64 = row(tx, "SELECT id FROM photos WHERE hash = ?1", [hash], |r| r.get(0))?;
            if inserted {
                report.new_photos += 1;
                store::audit(tx, "import", Some(photo_id), &entry.path)?;
            } else {
                // Two copies of new content decoded at once: the second is just a location.
                report.new_locations += 1;
                store::audit(tx, "location_added", Some(photo_id), &entry.path)?;
            }
            if probe.thumb_error.is_some() {
                report.thumbnail_errors += 1;
            }
            upsert_location(tx, run_id, entry, photo_id)?;
        }
        Outcome::KnownContent { entry, photo_id } => {
            upsert_location(tx, run_id, entry, *photo_id)?;
            report.new_locations += 1;
            store::audit(tx, "location_added", Some(*photo_id), &entry.path)?;
        }
        Outcome::Refused { entry, hash, refusal } => {
            let code = refusal.code.as_str();
            exec(tx,
                "INSERT INTO refusals (root_id, path, byte_size, mtime_ns, hash, reason_code, reason, run_id, last_seen_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                 ON CONFLICT(path) DO UPDATE SET root_id = excluded.root_id, byte_size = excluded.byte_size,
                   mtime_ns = excluded.mtime_ns, hash = excluded.hash, reason_code = excluded.reason_code,
                   reason = excluded.reason, run_id = excluded.run_id, last_seen_run = excluded.last_seen_run",
                params![entry.root_id, entry.path, entry.size, entry.mtime_ns, hash, code, refusal.message, run_id],
            )?;
            exec(
                tx,
                "INSERT INTO import_errors (run_id, path, reason_code, reason) VALUES (?1, ?2, ?3, ?4)",
                params![run_id, entry.path, code, refusal.message],
            )?;
            // A photo's file that turned into something unreadable: its photo is no longer there.
            let was: Option<(i64, i64)> = row(
                tx,
                "SELECT id, photo_id FROM locations WHERE path = ?1 AND missing_since IS NULL",
                [&entry.path],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
            if let Some((loc, photo)) = was {
                exec(
                    tx,
                    "UPDATE locations SET missing_since = ?2, missing_run = ?3 WHERE id = ?1",
                    params![loc, util::now_iso(), run_id],
                )?;
                store::audit(
                    tx,
                    "location_missing",
                    Some(photo),
                    &format!("replaced by a refused file: {}", entry.path),
                )?;
            }
            report.refused += 1;
            report.refusals.push(RefusedFile {
                path: entry.path.clone(),
                reason_code: refusal.code,
                reason: refusal.message.clone(),
            });
        }
        Outcome::Fatal(_) => {}
    }
    Ok(())
}

fn insert_photo(
    tx: &Transaction<'_>,
    run_id: i64,
    rules: &Decider,
    entry: &Entry,
    hash: &str,
    p: &Probe,
) -> Result<bool> {
    let (modality, source, detail) = match modality::match_rules(&rules.rules, Path::new(&entry.path)) {
        Some(rule) => (rule.modality, ModalitySource::Rule, rule.pattern.clone()),
        None => {
            let cues = p.cues.unwrap_or_default();
            let (m, why) = modality::classify(&cues, p.width, p.height, &rules.visia);
            (m, ModalitySource::Cue, why)
        }
    };
    let (captured_at, captured_source) = match (&p.exif.captured_at, &p.exif.captured_source) {
        (Some(at), Some(src)) => (Some(at.clone()), Some(src.clone())),
        _ => {
            let secs = entry.mtime_ns.div_euclid(1_000_000_000);
            (Some(util::iso_from_unix(secs)), Some("file:mtime".to_owned()))
        }
    };
    let format = p.format.map(|f| f.as_str()).unwrap_or("unknown");
    let exif_json = (!p.exif.fields.is_empty()).then(|| serde_json::to_string(&p.exif.fields).unwrap_or_default());
    let cues_json = p.cues.map(|c| serde_json::to_string(&c).unwrap_or_default());
    let n = exec(
        tx,
        "INSERT INTO photos (hash, byte_size, width, height, format, captured_at, captured_source, camera_make,
             camera_model, orientation, modality, modality_source, modality_detail, exif, exif_thumb, cues,
             imported_at, import_run)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
         ON CONFLICT(hash) DO NOTHING",
        params![
            hash,
            entry.size,
            p.width,
            p.height,
            format,
            captured_at,
            captured_source,
            p.exif.make,
            p.exif.model,
            p.exif.orientation.clamp(1, 8),
            modality.as_str(),
            source.as_str(),
            detail,
            exif_json,
            p.exif.thumb_size.map(|(w, h)| format!("{w}x{h}")),
            cues_json,
            util::now_iso(),
            run_id
        ],
    )?;
    Ok(n == 1)
}

fn upsert_location(tx: &Transaction<'_>, run_id: i64, e: &Entry, photo_id: i64) -> Result<()> {
    let existing: Option<(i64, i64)> =
        row(tx, "SELECT id, photo_id FROM locations WHERE path = ?1", [&e.path], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
    match existing {
        Some((id, old_photo)) => {
            exec(
                tx,
                "UPDATE locations SET photo_id = ?2, byte_size = ?3, mtime_ns = ?4, last_seen_run = ?5,
                     missing_since = NULL, missing_run = NULL WHERE id = ?1",
                params![id, photo_id, e.size, e.mtime_ns, run_id],
            )?;
            if old_photo != photo_id {
                store::audit(
                    tx,
                    "location_repointed",
                    Some(photo_id),
                    &format!("the file's content changed (was photo {old_photo}): {}", e.path),
                )?;
            }
        }
        None => {
            exec(
                tx,
                "INSERT INTO locations (photo_id, root_id, path, byte_size, mtime_ns, first_seen_run, last_seen_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![photo_id, e.root_id, e.path, e.size, e.mtime_ns, run_id],
            )?;
        }
    }
    exec(tx, "DELETE FROM refusals WHERE path = ?1", [&e.path])?;
    Ok(())
}

/// Marks what vanished (only after a complete scan), counts moves, and closes the run.
fn finish_run(
    store: &mut Store,
    run_id: i64,
    roots: &[String],
    complete: bool,
    scan_errors: &[(String, String)],
    report: &mut ImportReport,
) -> Result<()> {
    let now = util::now_iso();
    let tx = store.conn_mut().transaction()?;
    let mut missing = 0u64;
    if complete && report.scan_errors.is_empty() {
        for root in roots {
            let (lo, hi) = path_prefix_range(root);
            let vanished: Vec<(i64, i64, String)> = {
                let mut stmt = tx.prepare(
                    "SELECT id, photo_id, path FROM locations
                     WHERE path >= ?1 AND path < ?2 AND last_seen_run != ?3 AND missing_since IS NULL",
                )?;
                stmt.query_map(params![lo, hi, run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<_>>()?
            };
            for (id, photo, path) in vanished {
                exec(
                    &tx,
                    "UPDATE locations SET missing_since = ?2, missing_run = ?3 WHERE id = ?1",
                    params![id, now, run_id],
                )?;
                store::audit(&tx, "location_missing", Some(photo), &path)?;
                missing += 1;
            }
            // Refused files that are gone: the history stays in import_errors.
            exec(
                &tx,
                "DELETE FROM refusals WHERE path >= ?1 AND path < ?2 AND last_seen_run != ?3",
                params![lo, hi, run_id],
            )?;
        }
    }
    report.missing = missing;
    report.moved = row(
        &tx,
        "SELECT count(DISTINCT l.photo_id) FROM locations l
         WHERE l.first_seen_run = ?1 AND EXISTS
           (SELECT 1 FROM locations m WHERE m.photo_id = l.photo_id AND m.missing_run = ?1)",
        [run_id],
        |r| r.get(0),
    )?;
    let status = if report.fatal {
        "failed"
    } else if complete {
        "finished"
    } else {
        "cancelled"
    };
    if complete && !report.scan_errors.is_empty() {
        report.message =
            Some(format!("{} folder(s) could not be read, so no file was marked missing", report.scan_errors.len()));
    }
    report.status = status.to_owned();
    exec(
        &tx,
        "UPDATE import_runs SET status = ?2, finished_at = ?3, heartbeat_at = ?3, missing = ?4, message = ?5,
             scanned = ?6, unchanged = ?7, new_photos = ?8, new_locations = ?9, refused = ?10 WHERE id = ?1",
        params![
            run_id,
            status,
            now,
            missing,
            report.message,
            report.scanned,
            report.unchanged,
            report.new_photos,
            report.new_locations,
            report.refused
        ],
    )?;
    for (path, why) in scan_errors {
        exec(
            &tx,
            "INSERT INTO import_errors (run_id, path, reason_code, reason) VALUES (?1, ?2, 'unreadable', ?3)",
            params![run_id, path, why],
        )?;
    }
    store::audit(
        &tx,
        "import_finished",
        None,
        &format!(
            "run {run_id} {status}: {} new, {} new locations, {} unchanged, {} refused, {missing} missing",
            report.new_photos, report.new_locations, report.unchanged, report.refused
        ),
    )?;
    tx.commit()?;
    Ok(())
}

fn fail_run(store: &mut Store, run_id: i64, message: &str) {
    // Best effort: the database may be what failed. A run left 'running' is marked
    // interrupted by the next import anyway.
    let _ = store.conn().execute(
        "UPDATE import_runs SET status = 'failed', finished_at = ?2, message = ?3 WHERE id = ?1",
        params![run_id, util::now_iso(), message],
    );
}
