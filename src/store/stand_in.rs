//! Stand-in photo rows for benchmarks: a photo row and a location with no file behind them,
//! so the linker can be measured on 100,000 photos without 100,000 files.

use super::Store;
use crate::error::Result;
use crate::util;
use rusqlite::params;

/// One stand-in: its path, capture time and its source (`exif:DateTimeOriginal`), file time.
#[derive(Clone, Debug)]
pub struct StandIn {
    pub path: String,
    pub captured_at: Option<String>,
    pub captured_source: Option<String>,
    pub file_time: Option<String>,
}

impl Store {
    /// Records invented capture times (the demo archive's, `source` naming them as such) on
    /// photos that have no capture time of their own; a camera's time is never replaced.
    pub fn set_invented_capture_times(&mut self, rows: &[(i64, String)], source: &str) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare(
                "UPDATE photos SET captured_at = ?2, captured_offset = NULL, captured_source = ?3
                 WHERE id = ?1 AND (captured_at IS NULL OR captured_source IS NULL OR captured_source NOT LIKE 'exif%')",
            )?;
            for (id, at) in rows {
                n += stmt.execute(params![id, at, source])?;
            }
        }
        super::audit(
            &tx,
            "capture_times_invented",
            None,
            &format!("{n} photos given an invented capture time ({source})"),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Adds stand-in photos under one root, in one transaction; returns their ids in order.
    pub fn add_stand_in_photos(&mut self, root: &str, rows: &[StandIn]) -> Result<Vec<i64>> {
        let now = util::now_iso();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO import_runs (started_at, heartbeat_at, status, roots, actor, pid) VALUES (?1, ?1, 'finished', ?2, 'stand-in', 0)",
            params![now, serde_json::json!([root]).to_string()],
        )?;
        let run = tx.last_insert_rowid();
        tx.execute("INSERT OR IGNORE INTO roots (path, added_at) VALUES (?1, ?2)", params![root, now])?;
        let root_id: i64 = tx.query_row("SELECT id FROM roots WHERE path = ?1", [root], |r| r.get(0))?;
        let mut ids = Vec::with_capacity(rows.len());
        {
            let mut photo = tx.prepare(
                "INSERT INTO photos (hash, byte_size, width, height, format, captured_at, captured_source, modality,
                    modality_source, imported_at, import_run, file_time)
                 VALUES (?1, 1000, 600, 450, 'jpeg', ?2, ?3, 'clinical', 'cue', ?4, ?5, ?6)",
            )?;
            let mut loc = tx.prepare(
                "INSERT INTO locations (photo_id, root_id, path, byte_size, mtime_ns, first_seen_run, last_seen_run)
                 VALUES (?1, ?2, ?3, 1000, 0, ?4, ?4)",
            )?;
            for r in rows {
                let hash = blake3::hash(r.path.as_bytes()).to_hex().to_string();
                photo.execute(params![hash, r.captured_at, r.captured_source, now, run, r.file_time])?;
                let id = tx.last_insert_rowid();
                loc.execute(params![id, root_id, r.path, run])?;
                ids.push(id);
            }
        }
        tx.commit()?;
        Ok(ids)
    }
}
