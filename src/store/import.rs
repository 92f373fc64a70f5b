//! What an import run writes: the run row, photos, locations, refusals, and at the end the
//! files that vanished. `archive::import` decides; this file is the only one that writes.

use super::runs::RunStatus;
use super::{Store, audit, path_prefix_range};
use crate::decode::probe::Probe;
use crate::decode::{Refusal, RefusalCode};
use crate::error::Result;
use crate::modality::{self, Rule};
use crate::util;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use std::path::Path;

/// A file the scan found.
#[derive(Clone, Debug)]
pub struct ImportEntry {
    pub root_id: i64,
    pub path: String,
    pub size: u64,
    pub mtime_ns: i64,
}

/// What became of one file.
pub enum ImportOutcome {
    Unchanged {
        location_id: i64,
    },
    UnchangedRefusal {
        refusal_id: i64,
    },
    NewContent {
        entry: ImportEntry,
        hash: String,
        probe: Box<Probe>,
        thumb: Option<Vec<u8>>,
    },
    KnownContent {
        entry: ImportEntry,
        photo_id: i64,
    },
    Refused {
        entry: ImportEntry,
        hash: Option<String>,
        refusal: Refusal,
    },
    /// A lesion mask beside the photos, kept for the masks capability.
    Mask {
        entry: ImportEntry,
        stem: String,
    },
    /// Not an image and not meant to be one (a README, a spreadsheet): counted, not refused.
    Skipped,
}

/// What decides a new photo's modality: folder rules first, then cues.
pub struct Decider {
    pub rules: Vec<Rule>,
    pub visia: Vec<(u32, u32)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RefusedFile {
    pub path: String,
    pub reason_code: RefusalCode,
    pub reason: String,
}

/// How a run ended, for `finish_import_run`.
#[derive(Clone, Copy)]
pub struct RunEnd<'a> {
    /// The folders scanned whole (what vanished from them is marked missing).
    pub scanned_dirs: &'a [String],
    /// The scan was complete and every folder readable: marking missing files is safe.
    pub mark_missing: bool,
    pub status: RunStatus,
    pub message: Option<&'a str>,
    /// Folders that could not be read, with why.
    pub folder_errors: &'a [(String, String)],
}

/// A run's counters, as stored on its row.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportCounts {
    pub scanned: u64,
    pub unchanged: u64,
    pub new_photos: u64,
    /// Known content found at a new path (copies, moves, renames).
    pub new_locations: u64,
    /// Photos whose file moved or was renamed: a new path appeared and an old one vanished.
    pub moved: u64,
    pub refused: u64,
    pub missing: u64,
    /// Files that are not photos by their kind (documents, spreadsheets): passed over quietly.
    pub skipped: u64,
    /// Lesion masks found beside the photos.
    pub masks: u64,
    pub thumbnail_errors: u64,
}

/// Runs a statement through the connection's statement cache: the writer runs the same few
/// statements for every file, and parsing them each time was a visible part of import time.
fn exec(c: &Connection, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(p)
}

fn row<T>(
    c: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    c.prepare_cached(sql)?.query_row(p, f)
}

impl Store {
    /// Starts a run over `sources` (the folders or files asked for), each inside its root
    /// folder `roots[i]`. Returns the run's id and the roots' ids.
    pub fn begin_import_run(&mut self, sources: &[String], roots: &[String]) -> Result<(i64, Vec<i64>)> {
        let now = util::now_iso();
        let tx = self.conn.transaction()?;
        exec(
            &tx,
            "INSERT INTO import_runs (started_at, heartbeat_at, status, roots, actor, pid)
             VALUES (?1, ?1, 'running', ?2, ?3, ?4)",
            params![now, serde_json::to_string(sources).unwrap_or_default(), util::current_user(), std::process::id()],
        )?;
        let run_id = tx.last_insert_rowid();
        let mut ids = Vec::new();
        for root in roots {
            exec(
                &tx,
                "INSERT INTO roots (path, added_at) VALUES (?1, ?2) ON CONFLICT(path) DO NOTHING",
                params![root, now],
            )?;
            ids.push(row(&tx, "SELECT id FROM roots WHERE path = ?1", [root], |r| r.get(0))?);
        }
        let shown: Vec<&str> = sources.iter().take(5).map(String::as_str).collect();
        let more = if sources.len() > 5 { format!(" and {} more", sources.len() - 5) } else { String::new() };
        audit(&tx, "import_started", None, &format!("run {run_id}: {}{more}", shown.join(", ")))?;
        tx.commit()?;
        Ok((run_id, ids))
    }

    /// What is already known of a scanned file without reading it: unchanged since it was
    /// recorded (as a photo's location, or as a refusal not worth retrying), or None when its
    /// content must be read.
    pub fn known_unchanged(&self, e: &ImportEntry) -> Result<Option<ImportOutcome>> {
        let location: Option<(i64, u64, i64, bool)> = row(
            &self.conn,
            "SELECT id, byte_size, mtime_ns, missing_since IS NOT NULL FROM locations WHERE path = ?1",
            [&e.path],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
        if let Some((id, size, mtime, missing)) = location
            && size == e.size
            && mtime == e.mtime_ns
            && !missing
        {
            return Ok(Some(ImportOutcome::Unchanged { location_id: id }));
        }
        let refusal: Option<(i64, u64, i64, String)> = row(
            &self.conn,
            "SELECT id, byte_size, mtime_ns, reason_code FROM refusals WHERE path = ?1",
            [&e.path],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
        if let Some((id, size, mtime, code)) = refusal
            && size == e.size
            && mtime == e.mtime_ns
            && !RefusalCode::parse(&code).is_some_and(RefusalCode::is_transient)
        {
            return Ok(Some(ImportOutcome::UnchangedRefusal { refusal_id: id }));
        }
        Ok(None)
    }

    pub fn photo_id_by_hash(&self, hash: &str) -> Result<Option<i64>> {
        Ok(row(&self.conn, "SELECT id FROM photos WHERE hash = ?1", [hash], |r| r.get(0)).optional()?)
    }

    /// Records a batch of outcomes and the run's counters in one transaction: a killed import
    /// leaves whole batches only. `counts` and `refused` move only once the batch is committed.
    pub fn record_import_batch(
        &mut self,
        run_id: i64,
        decider: &Decider,
        batch: &[ImportOutcome],
        counts: &mut ImportCounts,
        refused: &mut Vec<RefusedFile>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let mut pending = counts.clone();
        let mut new_refusals = Vec::new();
        for outcome in batch {
            apply(&tx, run_id, decider, outcome, &mut pending, &mut new_refusals)?;
        }
        exec(
            &tx,
            "UPDATE import_runs SET heartbeat_at = ?2, scanned = ?3, unchanged = ?4, new_photos = ?5,
                 new_locations = ?6, refused = ?7, skipped = ?8, masks = ?9 WHERE id = ?1",
            params![
                run_id,
                util::now_iso(),
                pending.scanned,
                pending.unchanged,
                pending.new_photos,
                pending.new_locations,
                pending.refused,
                pending.skipped,
                pending.masks
            ],
        )?;
        tx.commit()?;
        *counts = pending;
        refused.append(&mut new_refusals);
        Ok(())
    }

    /// Marks what vanished below the scanned folders (only after a complete scan; in bounded
    /// transactions), counts moves, and closes the run with its status.
    pub fn finish_import_run(&mut self, run_id: i64, end: &RunEnd<'_>, counts: &mut ImportCounts) -> Result<()> {
        let RunEnd { scanned_dirs, mark_missing, status, message, folder_errors } = *end;
        let now = util::now_iso();
        if mark_missing {
            for dir in scanned_dirs {
                counts.missing += self.mark_vanished(run_id, dir, &now)?;
            }
        }
        let tx = self.conn.transaction()?;
        counts.moved = row(
            &tx,
            "SELECT count(DISTINCT l.photo_id) FROM locations l
             WHERE l.first_seen_run = ?1 AND EXISTS
               (SELECT 1 FROM locations m WHERE m.photo_id = l.photo_id AND m.missing_run = ?1)",
            [run_id],
            |r| r.get(0),
        )?;
        let c = &*counts;
        exec(
            &tx,
            "UPDATE import_runs SET status = ?2, finished_at = ?3, heartbeat_at = ?3, missing = ?4, message = ?5,
                 scanned = ?6, unchanged = ?7, new_photos = ?8, new_locations = ?9, refused = ?10, skipped = ?11,
                 masks = ?12 WHERE id = ?1",
            params![
                run_id,
                status.as_str(),
                now,
                c.missing,
                message,
                c.scanned,
                c.unchanged,
                c.new_photos,
                c.new_locations,
                c.refused,
                c.skipped,
                c.masks
            ],
        )?;
        for (path, why) in folder_errors {
            exec(
                &tx,
                "INSERT INTO import_errors (run_id, path, reason_code, reason) VALUES (?1, ?2, 'unreadable', ?3)",
                params![run_id, path, why],
            )?;
        }
        audit(
            &tx,
            "import_finished",
            None,
            &format!(
                "run {run_id} {}: {} new, {} new locations, {} unchanged, {} refused, {} missing",
                status.as_str(),
                c.new_photos,
                c.new_locations,
                c.unchanged,
                c.refused,
                c.missing
            ),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Marks the locations below `dir` not seen by this run as missing, a page per
    /// transaction; forgets refusals of files that are gone (their history stays in
    /// import_errors) and masks that are gone. Returns how many locations were marked.
    fn mark_vanished(&mut self, run_id: i64, dir: &str, now: &str) -> Result<u64> {
        let (lo, hi) = path_prefix_range(dir);
        let mut marked = 0u64;
        loop {
            let tx = self.conn.transaction()?;
            let page: Vec<(i64, i64, String)> = {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, photo_id, path FROM locations
                     WHERE path >= ?1 AND path < ?2 AND last_seen_run != ?3 AND missing_since IS NULL LIMIT ?4",
                )?;
                stmt.query_map(params![lo, hi, run_id, super::photos::PAGE], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<_>>()?
            };
            for (id, photo, path) in &page {
                exec(
                    &tx,
                    "UPDATE locations SET missing_since = ?2, missing_run = ?3 WHERE id = ?1",
                    params![id, now, run_id],
                )?;
                audit(&tx, "location_missing", Some(*photo), path)?;
            }
            if page.is_empty() {
                for table in ["refusals", "mask_files"] {
                    exec(
                        &tx,
                        &format!("DELETE FROM {table} WHERE path >= ?1 AND path < ?2 AND last_seen_run != ?3"),
                        params![lo, hi, run_id],
                    )?;
                }
            }
            tx.commit()?;
            marked += page.len() as u64;
            if page.is_empty() {
                return Ok(marked);
            }
        }
    }

    /// Best effort: the database may be what failed. A run left 'running' is marked
    /// interrupted by the next import anyway.
    pub fn fail_import_run(&mut self, run_id: i64, message: &str) {
        let _ = self.conn.execute(
            "UPDATE import_runs SET status = 'failed', finished_at = ?2, message = ?3 WHERE id = ?1",
            params![run_id, util::now_iso(), message],
        );
    }
}

fn apply(
    tx: &Transaction<'_>,
    run_id: i64,
    decider: &Decider,
    outcome: &ImportOutcome,
    c: &mut ImportCounts,
    refused: &mut Vec<RefusedFile>,
) -> Result<()> {
    c.scanned += 1;
    match outcome {
        ImportOutcome::Unchanged { location_id } => {
            exec(tx, "UPDATE locations SET last_seen_run = ?1 WHERE id = ?2", params![run_id, location_id])?;
            c.unchanged += 1;
        }
        ImportOutcome::UnchangedRefusal { refusal_id } => {
            exec(tx, "UPDATE refusals SET last_seen_run = ?1 WHERE id = ?2", params![run_id, refusal_id])?;
            c.unchanged += 1;
        }
        ImportOutcome::NewContent { entry, hash, probe, .. } => {
            let inserted = insert_photo(tx, run_id, decider, entry, hash, probe)?;
            let photo_id: i64 = row(tx, "SELECT id FROM photos WHERE hash = ?1", [hash], |r| r.get(0))?;
            if inserted {
                c.new_photos += 1;
                audit(tx, "import", Some(photo_id), &entry.path)?;
            } else {
                // Two copies of new content decoded at once: the second is just a location.
                c.new_locations += 1;
                audit(tx, "location_added", Some(photo_id), &entry.path)?;
            }
            if probe.thumb_error.is_some() {
                c.thumbnail_errors += 1;
            }
            upsert_location(tx, run_id, entry, photo_id)?;
        }
        ImportOutcome::KnownContent { entry, photo_id } => {
            upsert_location(tx, run_id, entry, *photo_id)?;
            c.new_locations += 1;
            audit(tx, "location_added", Some(*photo_id), &entry.path)?;
        }
        ImportOutcome::Refused { entry, hash, refusal } => {
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
                audit(tx, "location_missing", Some(photo), &format!("replaced by a refused file: {}", entry.path))?;
            }
            c.refused += 1;
            refused.push(RefusedFile {
                path: entry.path.clone(),
                reason_code: refusal.code,
                reason: refusal.message.clone(),
            });
        }
        ImportOutcome::Mask { entry, stem } => {
            exec(
                tx,
                "INSERT INTO mask_files (root_id, path, stem, byte_size, mtime_ns, run_id, last_seen_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                 ON CONFLICT(path) DO UPDATE SET byte_size = excluded.byte_size, mtime_ns = excluded.mtime_ns,
                   stem = excluded.stem, last_seen_run = excluded.last_seen_run",
                params![entry.root_id, entry.path, stem, entry.size, entry.mtime_ns, run_id],
            )?;
            c.masks += 1;
        }
        ImportOutcome::Skipped => c.skipped += 1,
    }
    Ok(())
}

fn insert_photo(
    tx: &Transaction<'_>,
    run_id: i64,
    decider: &Decider,
    entry: &ImportEntry,
    hash: &str,
    p: &Probe,
) -> Result<bool> {
    let cues = p.cues.unwrap_or_default();
    let (modality, source, detail) =
        modality::decide(&decider.rules, &decider.visia, Some(Path::new(&entry.path)), &cues, p.width, p.height);
    // The capture time as the camera's wall clock, its offset (when EXIF gives one) apart:
    // all capture times then compare as local times, as file times do.
    let (captured_at, captured_offset, captured_source) = match (&p.exif.captured_at, &p.exif.captured_source) {
        (Some(at), Some(src)) if at.len() >= 19 => {
            let (wall, offset) = at.split_at(19);
            (Some(wall), (!offset.is_empty()).then_some(offset), Some(src.as_str()))
        }
        _ => (None, None, None),
    };
    let format = p.format.map(|f| f.as_str()).unwrap_or("unknown");
    let exif_json = (!p.exif.fields.is_empty()).then(|| serde_json::to_string(&p.exif.fields).unwrap_or_default());
    let cues_json = p.cues.map(|c| serde_json::to_string(&c).unwrap_or_default());
    let n = exec(
        tx,
        "INSERT INTO photos (hash, byte_size, width, height, format, captured_at, captured_source, camera_make,
             camera_model, orientation, modality, modality_source, modality_detail, exif, exif_thumb, cues,
             imported_at, import_run, captured_offset, file_time)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
                 strftime('%Y-%m-%dT%H:%M:%S', ?20, 'unixepoch', 'localtime'))
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
            run_id,
            captured_offset,
            entry.mtime_ns.div_euclid(1_000_000_000)
        ],
    )?;
    Ok(n == 1)
}

fn upsert_location(tx: &Transaction<'_>, run_id: i64, e: &ImportEntry, photo_id: i64) -> Result<()> {
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
                audit(
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
