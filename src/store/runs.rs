//! Import runs and refused files, as the UI's import log and `dermdesk runs` read them.

use super::Store;
use crate::decode::RefusalCode;
use crate::error::Result;
use crate::util;
use rusqlite::params;
use serde::{Deserialize, Serialize};

/// Where an import run stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    #[default]
    Running,
    Finished,
    Cancelled,
    /// Its process stopped before the run finished (killed, crashed, power cut).
    Interrupted,
    /// It could not go on (no worker could start, the database failed).
    Failed,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] =
        [RunStatus::Running, RunStatus::Finished, RunStatus::Cancelled, RunStatus::Interrupted, RunStatus::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ImportRunRow {
    pub id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RunStatus,
    pub roots: Vec<String>,
    pub actor: String,
    pub scanned: u64,
    pub unchanged: u64,
    pub new_photos: u64,
    pub new_locations: u64,
    pub refused: u64,
    pub missing: u64,
    pub message: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RefusalRow {
    pub path: String,
    pub reason_code: RefusalCode,
    pub reason: String,
    pub byte_size: u64,
    pub run_id: i64,
}

/// A run is taken for dead when its heartbeat is older than this.
pub const HEARTBEAT_TIMEOUT_S: i64 = 60;

impl Store {
    pub fn import_runs(&self, limit: usize) -> Result<Vec<ImportRunRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, started_at, finished_at, status, roots, actor, scanned, unchanged, new_photos,
                    new_locations, refused, missing, message
             FROM import_runs ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            let roots: String = r.get(4)?;
            Ok(ImportRunRow {
                id: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                status: RunStatus::parse(&r.get::<_, String>(3)?).unwrap_or(RunStatus::Failed),
                roots: serde_json::from_str(&roots).unwrap_or_default(),
                actor: r.get(5)?,
                scanned: r.get(6)?,
                unchanged: r.get(7)?,
                new_photos: r.get(8)?,
                new_locations: r.get(9)?,
                refused: r.get(10)?,
                missing: r.get(11)?,
                message: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Files refused as they are now, newest run first: `limit` rows from `offset` (the
    /// import log shows a window of them; an index serves the order).
    pub fn refusals(&self, offset: u64, limit: u64) -> Result<Vec<RefusalRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT path, reason_code, reason, byte_size, run_id FROM refusals
             ORDER BY run_id DESC, path LIMIT ?1 OFFSET ?2",
        )?;
        let rows = stmt.query_map(params![limit as i64, offset as i64], |r| {
            Ok(RefusalRow {
                path: r.get(0)?,
                reason_code: RefusalCode::parse(&r.get::<_, String>(1)?).unwrap_or(RefusalCode::Corrupt),
                reason: r.get(2)?,
                byte_size: r.get(3)?,
                run_id: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Files refused as they are now, per reason.
    pub fn refusal_counts(&self) -> Result<Vec<(RefusalCode, u64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT reason_code, count(*) FROM refusals GROUP BY reason_code ORDER BY count(*) DESC")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        let mut out = Vec::new();
        for row in rows {
            let (code, n) = row?;
            out.push((RefusalCode::parse(&code).unwrap_or(RefusalCode::Corrupt), n));
        }
        Ok(out)
    }

    /// Writes every refused file to a CSV file at `path` (path, reason code, reason, bytes,
    /// run), streaming. Returns how many rows it wrote.
    pub fn write_refusals_csv(&self, path: &std::path::Path) -> Result<u64> {
        use std::io::Write;
        let io = |e: std::io::Error| crate::Error::io("cannot write the list of refused files", e, path);
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
        writeln!(out, "path,reason_code,reason,byte_size,run_id").map_err(io)?;
        let mut stmt = self
            .conn
            .prepare("SELECT path, reason_code, reason, byte_size, run_id FROM refusals ORDER BY run_id DESC, path")?;
        let mut rows = stmt.query([])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            let (path, code, reason): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let (size, run): (i64, i64) = (r.get(3)?, r.get(4)?);
            writeln!(out, "{},{},{},{size},{run}", csv_field(&path), csv_field(&code), csv_field(&reason))
                .map_err(io)?;
            n += 1;
        }
        out.flush().map_err(io)?;
        Ok(n)
    }

    /// Marks runs whose process died (its process is gone, or no heartbeat for a minute) as
    /// interrupted, and returns their ids and folders so that they can be resumed.
    pub fn mark_dead_runs_interrupted(&mut self) -> Result<Vec<(i64, Vec<String>)>> {
        let cutoff = util::iso_from_unix(unix_now() - HEARTBEAT_TIMEOUT_S);
        let tx = self.conn.transaction()?;
        let dead: Vec<(i64, String)> = {
            let mut stmt =
                tx.prepare("SELECT id, roots, heartbeat_at, pid FROM import_runs WHERE status = 'running'")?;
            let running: Vec<(i64, String, String, i64)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            running
                .into_iter()
                .filter(|(_, _, heartbeat, pid)| *heartbeat < cutoff || !process_alive(*pid))
                .map(|(id, roots, _, _)| (id, roots))
                .collect()
        };
        for (id, _) in &dead {
            tx.execute(
                "UPDATE import_runs SET status = 'interrupted', message = ?2 WHERE id = ?1",
                params![id, "the importing process stopped before the run finished"],
            )?;
            super::audit(&tx, "import_interrupted", None, &format!("run {id}"))?;
        }
        tx.commit()?;
        Ok(dead.into_iter().map(|(id, roots)| (id, serde_json::from_str(&roots).unwrap_or_default())).collect())
    }

    /// Folders of interrupted runs not yet resumed by a later finished run over the same folders.
    pub fn runs_to_resume(&self) -> Result<Vec<(i64, Vec<String>)>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.roots FROM import_runs r WHERE r.status = 'interrupted'
             AND NOT EXISTS (SELECT 1 FROM import_runs later WHERE later.id > r.id
                             AND later.roots = r.roots AND later.status = 'finished')
             ORDER BY r.id",
        )?;
        let rows = stmt.query_map([], |r| {
            let roots: String = r.get(1)?;
            Ok((r.get(0)?, serde_json::from_str(&roots).unwrap_or_default()))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// Whether a process with this id still runs. Where the platform cannot tell cheaply, says
/// yes and leaves the decision to the heartbeat.
fn process_alive(pid: i64) -> bool {
    if pid == std::process::id() as i64 {
        return true;
    }
    if cfg!(target_os = "linux") {
        return std::path::Path::new(&format!("/proc/{pid}")).exists();
    }
    true
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
