//! The one local SQLite file: schema, migrations, and the queries the rest of the app uses.
//!
//! Every connection runs in WAL mode with foreign keys on; every write happens inside a
//! transaction. Open several `Store`s on one file (the UI reads while an import writes).

/// SQL for the path a photo is shown by: its first present location, else its first one.
/// A macro so that queries can `concat!` it.
macro_rules! first_path {
    () => {
        "(SELECT path FROM locations l WHERE l.photo_id = p.id ORDER BY l.missing_since IS NOT NULL, l.id LIMIT 1)"
    };
}
pub(crate) use first_path;

mod charts;
mod diagnoses;
mod gate;
mod import;
mod links;
mod masks;
mod modality;
mod models;
mod optout;
mod photos;
mod privacy;
mod rules;
mod runs;
mod schema;
mod stand_in;
mod synthetic;
pub mod thread;
pub mod thumbs;

pub use charts::{ChartCounts, ChartFormat, ChartImportRow, ChartRecordRow, ChartWriter, PatientRow, research_id};
pub use diagnoses::DiagnosisPhotoCount;
pub use gate::{Releasable, Release, Withheld};
pub use import::{Decider, ImportCounts, ImportEntry, ImportOutcome, RefusedFile, RunEnd};
pub use links::{
    CandidateVisit, DEFAULT_WINDOW_DAYS, DiagnosisSource, LinkRow, LinkWriter, LinkedDiagnosis, PATHOLOGY_WINDOW_DAYS,
    PathRuleRow,
};
pub use masks::{LesionFilter, LesionRow, MaskSummary, NewLesion, PhotoForMasks, ReviewRow, Saved, VersionRow};
pub use modality::PriorModality;
pub use models::{ChartedResult, ModelResultRow, ModelRow, NewModel};
pub use optout::{DisclosedPhoto, Disclosure, OptOutKind, OptOutRegistry, OptOutRow};
pub use photos::{
    GridItem, LocationRow, Period, PhotoDetail, PhotoFilter, PhotoListRow, SortKey, Stats, StatusFilter, VersionPair,
    file_name,
};
pub use privacy::{Fill, PhotoScreening, QueueFilter, QueueItem, Redaction, ScreenTarget, Shape};
pub use runs::{ImportRunRow, RefusalRow, RunStatus};
pub use stand_in::StandIn;
pub use thumbs::ThumbDb;

use crate::error::{Error, Result};
use crate::util;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Check {
    Now,
    BeforeMigrating,
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = schema::MIGRATIONS.len() as i64;

/// How long a connection waits for another's lock before it reports the database busy.
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// `f`, tried again while SQLite answers "database is locked", for up to `wait`. Switching a
/// new file to WAL takes an exclusive lock, and where two connections climb to it together
/// SQLite answers one of them at once instead of calling its busy handler (its rule against
/// deadlock): two first opens of one new database (the app and a command beside it, or two
/// threads) then failed, seen under load in `concurrent_first_opens_migrate_once`.
fn when_not_busy<T>(wait: Duration, f: impl Fn() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let start = std::time::Instant::now();
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && start.elapsed() < wait =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            r => return r,
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database, checks it, and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_with(path, Check::Now)
    }

    /// Opens the database for the app: when its schema is current, the integrity check (a
    /// read of the whole file: seconds for a million photos) is left to `quick_check` on the
    /// store's own thread, so that the window opens at once. A database that needs migrating
    /// is checked first, as by `open`.
    pub fn open_for_app(path: &Path) -> Result<Store> {
        Store::open_with(path, Check::BeforeMigrating)
    }

    /// A number that changes whenever another connection (another process, or a job's own
    /// connection) commits to the database; this connection's own writes leave it alone
    /// (SQLite's `data_version`).
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// `PRAGMA quick_check`: Ok, or the damage found.
    pub fn quick_check(&self) -> Result<()> {
        let corrupt = |detail: String| Error::Corrupt { detail, path: self.path.clone() };
        let check: String =
            self.conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(|e| corrupt(e.to_string()))?;
        if check != "ok" {
            return Err(corrupt(check));
        }
        Ok(())
    }

    fn open_with(path: &Path, check: Check) -> Result<Store> {
        if path.is_dir() {
            let detail = "it is a folder; give the database file, e.g. dermdesk.sqlite inside it".to_owned();
            return Err(Error::NotADatabase { detail, path: path.to_path_buf() });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create the database folder", e, dir))?;
        }
        let corrupt = |detail: String| Error::Corrupt { detail, path: path.to_path_buf() };
        let conn = Connection::open(path)
            .map_err(|e| Error::NotADatabase { detail: e.to_string(), path: path.to_path_buf() })?;
        conn.busy_timeout(BUSY_WAIT)?;
        // A file that is not SQLite at all fails here, before any check could run.
        let not_db = |e: rusqlite::Error| Error::NotADatabase { detail: e.to_string(), path: path.to_path_buf() };
        let mode: String = when_not_busy(BUSY_WAIT, || conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)))
            .map_err(not_db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(corrupt(format!("it could not switch to WAL mode (got {mode})")));
        }
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
        let mut store = Store { conn, path: path.to_path_buf() };
        let current = store.schema_version().map_err(|e| corrupt(e.to_string()))? == SCHEMA_VERSION;
        if check == Check::Now || !current {
            store.quick_check()?;
        }
        store.migrate()?;
        Ok(store)
    }

    /// Another connection to a database this process has already opened with `open`: no
    /// integrity check and no migration (both are slow on a big file and were done once).
    pub fn open_reader(path: &Path) -> Result<Store> {
        let conn =
            Connection::open(path).map_err(|e| Error::Corrupt { detail: e.to_string(), path: path.to_path_buf() })?;
        conn.busy_timeout(BUSY_WAIT)?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
        Ok(Store { conn, path: path.to_path_buf() })
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(Error::TooNew { found: version, known: SCHEMA_VERSION, path: self.path.clone() });
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
            // IMMEDIATE takes the write lock first, and the version is read again under it:
            // two processes opening a new database at once migrate it once.
            let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Where thumbnails of this database are cached: a file beside the database file.
    pub fn thumb_db_path(&self) -> PathBuf {
        thumbs::path_for(&self.path)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Appends one line to the audit log, in its own transaction.
    pub fn audit(&mut self, action: &str, photo_id: Option<i64>, detail: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        audit(&tx, action, photo_id, detail)?;
        tx.commit()?;
        Ok(())
    }

    pub fn audit_for_photo(&self, photo_id: i64) -> Result<Vec<AuditRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, at, actor, action, photo_id, detail FROM audit WHERE photo_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([photo_id], AuditRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn audit_recent(&self, limit: usize) -> Result<Vec<AuditRow>> {
        let mut stmt =
            self.conn.prepare("SELECT id, at, actor, action, photo_id, detail FROM audit ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], AuditRow::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Runs the full `PRAGMA integrity_check` (slow on big files; the open uses quick_check).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// Appends to the audit log inside the caller's transaction.
pub fn audit(tx: &rusqlite::Transaction<'_>, action: &str, photo_id: Option<i64>, detail: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, action, photo_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![util::now_iso(), util::current_user(), action, photo_id, detail],
    )?;
    Ok(())
}

/// The default database: in the user's data folder (`directories`), e.g.
/// `~/.local/share/dermdesk/dermdesk.sqlite` or `%APPDATA%\dermdesk\data\dermdesk.sqlite`.
pub fn default_db_path() -> PathBuf {
    directories::ProjectDirs::from("jp.ac.hospital", "dermatology", "dermdesk")
        .map(|d| d.data_dir().join("dermdesk.sqlite"))
        .unwrap_or_else(|| PathBuf::from("dermdesk.sqlite"))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub photo_id: Option<i64>,
    pub detail: String,
}

impl AuditRow {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(AuditRow {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            photo_id: r.get(4)?,
            detail: r.get(5)?,
        })
    }
}

/// The upper bound for a range scan over every path below `dir`: paths `>= dir/` and
/// `< dir` + (separator + 1) are exactly those inside it, and the UNIQUE index on path serves it.
pub(crate) fn path_prefix_range(dir: &str) -> (String, String) {
    let sep = std::path::MAIN_SEPARATOR;
    let base = dir.trim_end_matches(sep);
    let lo = format!("{base}{sep}");
    let hi = format!("{base}{}", char::from_u32(sep as u32 + 1).unwrap_or('0'));
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another connection's commit changes the number; this connection's own writes do not.
    #[test]
    fn data_version_tells_another_connections_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("v.sqlite");
        let writer = Store::open(&db).unwrap();
        let reader = Store::open_reader(&db).unwrap();
        let before = reader.data_version().unwrap();
        reader
            .conn
            .execute("INSERT INTO modality_rules (position, pattern, modality) VALUES (98, 'x1', 'clinical')", [])
            .unwrap();
        assert_eq!(reader.data_version().unwrap(), before, "its own write");
        writer
            .conn
            .execute("INSERT INTO modality_rules (position, pattern, modality) VALUES (99, 'x2', 'clinical')", [])
            .unwrap();
        assert_ne!(reader.data_version().unwrap(), before, "another connection's commit");
    }

    #[test]
    fn migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let db = dir.join("t.sqlite");
        let s = Store::open(&db).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        drop(s);
        let s = Store::open(&db).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        let rules: i64 = s.conn.query_row("SELECT count(*) FROM modality_rules", [], |r| r.get(0)).unwrap();
        assert!(rules > 0);
    }

    /// A database from before the modality model (schema 6) with a photo in it: migration 7
    /// lets `modality_source` be 'model', keeps the row, and the file stays consistent.
    #[test]
    fn migration_7_widens_the_modality_source_check_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("six.sqlite");
        {
            let conn = Connection::open(&db).unwrap();
            for sql in &schema::MIGRATIONS[..6] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 6).unwrap();
            conn.execute_batch(
                "INSERT INTO photos (hash, byte_size, width, height, format, orientation, modality, modality_source,
                    imported_at, import_run) VALUES ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1, 2, 2, 'jpeg', 1, 'clinical', 'cue', '2026-01-01', NULL)",
            )
            .unwrap();
            let refused = conn.execute("UPDATE photos SET modality_source = 'model'", []);
            assert!(refused.is_err(), "schema 6 refuses 'model'");
        }
        let s = Store::open(&db).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        s.conn.execute("UPDATE photos SET modality_source = 'model' WHERE hash = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'", []).unwrap();
        assert!(s.conn.execute("UPDATE photos SET modality_source = 'guess'", []).is_err(), "still checked");
        let ok: String = s.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
        drop(s);
        let s = Store::open_reader(&db).unwrap();
        let src: String = s.conn.query_row("SELECT modality_source FROM photos", [], |r| r.get(0)).unwrap();
        assert_eq!(src, "model");
    }

    #[test]
    fn concurrent_first_opens_migrate_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("race.sqlite");
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || Store::open(&db).map(|s| s.schema_version().unwrap()))
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap().expect("every concurrent open succeeds"), SCHEMA_VERSION);
        }
        let s = Store::open(&db).unwrap();
        let rules: i64 = s.conn.query_row("SELECT count(*) FROM modality_rules", [], |r| r.get(0)).unwrap();
        assert_eq!(rules, 8, "the default rules were inserted once");
    }

    #[test]
    fn audit_rows_cannot_change() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let mut s = Store::open(&dir.join("t.sqlite")).unwrap();
        s.audit("test", None, "first").unwrap();
        let upd = s.conn.execute("UPDATE audit SET detail = 'changed'", []);
        assert!(upd.unwrap_err().to_string().contains("append-only"));
        let del = s.conn.execute("DELETE FROM audit", []);
        assert!(del.unwrap_err().to_string().contains("append-only"));
        assert_eq!(s.audit_recent(10).unwrap()[0].detail, "first");
    }

    #[test]
    fn refuses_newer_schema_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let db = dir.join("t.sqlite");
        let s = Store::open(&db).unwrap();
        s.conn.pragma_update(None, "user_version", SCHEMA_VERSION + 5).unwrap();
        drop(s);
        assert!(matches!(Store::open(&db), Err(Error::TooNew { .. })));

        let junk = dir.join("junk.sqlite");
        std::fs::write(&junk, vec![0x42u8; 8192]).unwrap();
        let err = Store::open(&junk).err().expect("garbage must not open");
        assert!(err.to_string().contains("junk.sqlite"), "{err}");
    }

    #[test]
    fn prefix_range_is_exact() {
        let (lo, hi) = path_prefix_range("/a/b");
        let sep = std::path::MAIN_SEPARATOR;
        let inside = format!("/a/b{sep}c.jpg");
        let sibling = "/a/bc/x.jpg".replace('/', &sep.to_string());
        assert!(inside.as_str() >= lo.as_str() && inside.as_str() < hi.as_str());
        if sep == '/' {
            assert!(!(sibling.as_str() >= lo.as_str() && sibling.as_str() < hi.as_str()));
        }
    }
}
