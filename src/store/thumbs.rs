//! The thumbnail cache: one SQLite file beside the database (`<name>-thumbs.sqlite`), JPEG
//! blobs keyed by content hash. Its own file, not a table of the main database: it is a
//! cache (deleting it loses nothing), and its bulk would slow the main file's checks.
//!
//! One file rather than one small file per photo: creating 100,000 files was the largest
//! single cost of importing small images (the file system's work, and on Windows each new
//! file is also scanned by the antivirus), and one file moves, backs up and clears as one.
//! It is a cache: deleting it loses nothing (the app makes the thumbnails again).

use crate::error::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct ThumbDb {
    conn: Connection,
}

/// Where the thumbnails of the database at `db` are cached.
pub fn path_for(db: &Path) -> PathBuf {
    let stem = db.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "dermdesk".into());
    db.with_file_name(format!("{stem}-thumbs.sqlite"))
}

impl ThumbDb {
    /// Opens (creating if needed) the cache. Several processes may have it open at once.
    pub fn open(path: &Path) -> Result<ThumbDb> {
        let broken = |e: rusqlite::Error| Error::Corrupt {
            detail: format!("the thumbnail cache cannot be used ({e}); delete it and it is made again"),
            path: path.to_path_buf(),
        };
        let conn = Connection::open(path).map_err(broken)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(broken)?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS thumbs (
                 hash  TEXT PRIMARY KEY,
                 jpeg  BLOB NOT NULL,
                 route TEXT NOT NULL,
                 made_at TEXT NOT NULL
             );",
        )
        .map_err(broken)?;
        Ok(ThumbDb { conn })
    }

    pub fn put(&mut self, hash: &str, jpeg: &[u8], route: &str) -> Result<()> {
        self.put_many([(hash, jpeg, route)])
    }

    /// Stores several thumbnails in one transaction.
    pub fn put_many<'a>(&mut self, thumbs: impl IntoIterator<Item = (&'a str, &'a [u8], &'a str)>) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO thumbs (hash, jpeg, route, made_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(hash) DO UPDATE SET jpeg = excluded.jpeg, route = excluded.route, made_at = excluded.made_at",
            )?;
            let now = crate::util::now_iso();
            for (hash, jpeg, route) in thumbs {
                stmt.execute(params![hash, jpeg, route, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn get(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.conn.query_row("SELECT jpeg FROM thumbs WHERE hash = ?1", [hash], |r| r.get(0)).optional()?)
    }

    pub fn has(&self, hash: &str) -> Result<bool> {
        Ok(self.conn.query_row("SELECT 1 FROM thumbs WHERE hash = ?1", [hash], |_| Ok(())).optional()?.is_some())
    }

    pub fn count(&self) -> Result<u64> {
        Ok(self.conn.query_row("SELECT count(*) FROM thumbs", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Calls `each` with every cached thumbnail (tests and checks).
    pub fn for_each(&self, mut each: impl FnMut(&str, &[u8])) -> Result<()> {
        let mut stmt = self.conn.prepare("SELECT hash, jpeg FROM thumbs ORDER BY hash")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let hash: String = r.get(0)?;
            let jpeg: Vec<u8> = r.get(1)?;
            each(&hash, &jpeg);
        }
        Ok(())
    }
}

/// Removes the cache file and its WAL companions (the app makes it again).
pub fn delete(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
