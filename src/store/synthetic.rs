//! Synthetic rows for benchmarks and scale tests (`dermdesk bench browser`): photos with no
//! files behind them, written straight into an empty database.

use super::Store;
use crate::error::Result;
use rusqlite::params;

impl Store {
    /// Fills an empty database with `photos` synthetic rows (no files behind them): 15 years,
    /// five modalities, realistic paths and sizes, 2% of them with file times only. For the
    /// browser benchmark and scale tests.
    pub fn fill_synthetic(&mut self, photos: usize) -> Result<()> {
        let tx = self.conn.transaction()?;
        let now = crate::util::now_iso();
        tx.execute(
        "INSERT INTO import_runs (id, started_at, heartbeat_at, status, roots, actor, pid) VALUES (1, ?1, ?1, 'finished', '[\"/archive\"]', 'bench', 0)",
        [&now],
    )?;
        tx.execute("INSERT INTO roots (id, path, added_at) VALUES (1, '/archive', ?1)", [&now])?;
        {
            let mut photo = tx.prepare(
            "INSERT INTO photos (id, hash, byte_size, width, height, format, captured_at, captured_source, modality,
                modality_source, imported_at, import_run, file_time)
             VALUES (?1, ?2, ?3, ?4, ?5, 'jpeg', ?6, ?7, ?8, 'cue', ?9, 1, ?10)",
        )?;
            let mut loc = tx.prepare(
                "INSERT INTO locations (photo_id, root_id, path, byte_size, mtime_ns, first_seen_run, last_seen_run)
             VALUES (?1, 1, ?2, ?3, 0, 1, 1)",
            )?;
            let modalities = ["dermoscopy", "clinical", "clinical", "dermoscopy", "visia", "histopathology", "other"];
            let sizes = [(4000u32, 3000u32), (3872, 2592), (1024, 768), (600, 450), (3456, 5184)];
            let mut s: u64 = 42;
            for i in 1..=photos as i64 {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let r = s >> 33;
                let year = 2003 + (r % 16);
                let (w, h) = sizes[(r % 5) as usize];
                let date = format!(
                    "{year}-{:02}-{:02}T{:02}:{:02}:00",
                    1 + (r >> 4) % 12,
                    1 + (r >> 8) % 28,
                    (r >> 12) % 24,
                    (r >> 16) % 60
                );
                let hash = blake3::hash(&i.to_le_bytes()).to_hex().to_string();
                let size = 200_000 + (r % 5_000_000) as i64;
                // One photo in fifty has no EXIF date: only its file's time.
                let (captured, source) = if r.is_multiple_of(50) {
                    (None, None)
                } else {
                    (Some(date.as_str()), Some("exif:DateTimeOriginal"))
                };
                let file_time = "2019-04-01T09:00:00";
                photo.execute(params![
                    i,
                    hash,
                    size,
                    w,
                    h,
                    captured,
                    source,
                    modalities[(r % 7) as usize],
                    now,
                    file_time
                ])?;
                let path = format!("/archive/{year}/case-{:06}/IMG_{i:06}.JPG", (r >> 20) % 40_000);
                loc.execute(params![i, path, size])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
