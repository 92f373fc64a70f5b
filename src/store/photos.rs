//! Photo queries: the browser's filtered grid, the CLI's list, one photo's detail, stats,
//! and setting a modality by hand.

use super::{Store, audit};
use crate::error::{Error, Result};
use crate::modality::{Modality, ModalitySource};
use rusqlite::{OptionalExtension, params, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    #[default]
    All,
    /// At least one of the photo's files is where it was.
    Present,
    /// Every file of the photo has vanished.
    Missing,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Captured,
    Imported,
    Name,
    Pixels,
    Modality,
}

/// What the browser (and `dermdesk list`) shows. Empty fields mean "no restriction".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhotoFilter {
    pub modalities: Vec<Modality>,
    /// Inclusive dates, `YYYY-MM-DD`. Photos with no capture time are left out when either is set.
    pub from: Option<String>,
    pub to: Option<String>,
    pub status: StatusFilter,
    /// Case-insensitive text that one of the photo's paths must contain.
    pub path_contains: String,
    pub sort: SortKey,
    pub descending: bool,
}

impl PhotoFilter {
    /// The WHERE clause and its parameters.
    fn sql(&self) -> Result<(String, Vec<Value>)> {
        let mut clauses: Vec<String> = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        if !self.modalities.is_empty() {
            let marks = vec!["?"; self.modalities.len()].join(",");
            clauses.push(format!("p.modality IN ({marks})"));
            args.extend(self.modalities.iter().map(|m| Value::Text(m.as_str().to_owned())));
        }
        if let Some(from) = self.from.as_deref().filter(|s| !s.trim().is_empty()) {
            clauses.push("p.captured_at >= ?".into());
            args.push(Value::Text(check_date(from)?));
        }
        if let Some(to) = self.to.as_deref().filter(|s| !s.trim().is_empty()) {
            clauses.push("p.captured_at < date(?, '+1 day')".into());
            args.push(Value::Text(check_date(to)?));
        }
        let present = "EXISTS (SELECT 1 FROM locations l WHERE l.photo_id = p.id AND l.missing_since IS NULL)";
        match self.status {
            StatusFilter::All => {}
            StatusFilter::Present => clauses.push(present.into()),
            StatusFilter::Missing => clauses.push(format!("NOT {present}")),
        }
        let text = self.path_contains.trim();
        if !text.is_empty() {
            clauses.push(
                "EXISTS (SELECT 1 FROM locations l WHERE l.photo_id = p.id AND instr(lower(l.path), lower(?)) > 0)"
                    .into(),
            );
            args.push(Value::Text(text.to_owned()));
        }
        let where_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        Ok((where_sql, args))
    }

    fn order_sql(&self) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        let key = match self.sort {
            // Undated photos go last whichever way the dates run.
            SortKey::Captured => format!("p.captured_at IS NULL, p.captured_at {dir}"),
            SortKey::Imported => format!("p.id {dir}"),
            SortKey::Name => format!("name {dir}"),
            SortKey::Pixels => format!("p.width * p.height {dir}"),
            SortKey::Modality => format!("p.modality {dir}"),
        };
        format!("ORDER BY {key}, p.id {dir}")
    }
}

/// Accepts `YYYY-MM-DD` (and `YYYY-MM` or `YYYY`, meaning their first day).
pub fn check_date(s: &str) -> Result<String> {
    let s = s.trim();
    let ok = |n: usize, t: &str| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = s.split('-').collect();
    let full = match parts.as_slice() {
        [y] if ok(4, y) => format!("{y}-01-01"),
        [y, m] if ok(4, y) && ok(2, m) => format!("{y}-{m}-01"),
        [y, m, d] if ok(4, y) && ok(2, m) && ok(2, d) => s.to_owned(),
        _ => return Err(Error::Invalid(format!("not a date (use YYYY-MM-DD): {s}"))),
    };
    let month: u32 = full[5..7].parse().unwrap_or(0);
    let day: u32 = full[8..10].parse().unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(Error::Invalid(format!("not a date (use YYYY-MM-DD): {s}")));
    }
    Ok(full)
}

/// What one cell of the thumbnail grid needs.
#[derive(Clone, Debug, PartialEq)]
pub struct GridItem {
    pub id: i64,
    pub hash: String,
    pub modality: Modality,
    pub name: String,
    pub captured_at: Option<String>,
    pub width: u32,
    pub height: u32,
    pub missing: bool,
}

/// One row of `dermdesk list --json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PhotoListRow {
    pub id: i64,
    pub hash: String,
    /// Absolute paths where the file is now.
    pub paths: Vec<String>,
    /// Absolute paths where it was seen before and has since vanished.
    pub missing_paths: Vec<String>,
    pub width: u32,
    pub height: u32,
    pub format: String,
    pub byte_size: u64,
    pub modality: Modality,
    pub modality_source: ModalitySource,
    pub captured_at: Option<String>,
    pub captured_source: Option<String>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub orientation: u8,
    pub imported_at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LocationRow {
    pub path: String,
    pub byte_size: u64,
    pub mtime_ns: i64,
    pub missing_since: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PhotoDetail {
    #[serde(flatten)]
    pub row: PhotoListRow,
    pub modality_detail: Option<String>,
    pub locations: Vec<LocationRow>,
    /// `[ifd, tag, value]` triples as read at import.
    pub exif: Vec<(String, String, String)>,
    pub exif_thumb: Option<String>,
    pub cues: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// Distinct photos (by content).
    pub photos: u64,
    /// Known file locations, present or missing.
    pub locations: u64,
    /// Locations whose file has vanished.
    pub missing: u64,
    /// Photos none of whose files can be found.
    pub photos_missing: u64,
    /// Files refused as they are now (corrupt, unsupported, ...).
    pub errors: u64,
    pub by_modality: BTreeMap<String, u64>,
    pub by_modality_source: BTreeMap<String, u64>,
    pub by_format: BTreeMap<String, u64>,
    pub errors_by_reason: BTreeMap<String, u64>,
    pub roots: Vec<String>,
    pub import_runs: u64,
    pub interrupted_runs: u64,
}

const LIST_COLUMNS: &str = concat!(
    "p.id, p.hash, p.width, p.height, p.format, p.byte_size, p.modality, p.modality_source,
    p.captured_at, p.captured_source, p.camera_make, p.camera_model, p.orientation, p.imported_at,
    (SELECT json_group_array(path) FROM (SELECT path FROM locations WHERE photo_id = p.id AND missing_since IS NULL ORDER BY id)),
    (SELECT json_group_array(path) FROM (SELECT path FROM locations WHERE photo_id = p.id AND missing_since IS NOT NULL ORDER BY id)),
    ",
    first_path!(),
    " AS name"
);

fn list_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PhotoListRow> {
    let modality: String = r.get(6)?;
    let source: String = r.get(7)?;
    let paths: String = r.get(14)?;
    let missing: String = r.get(15)?;
    Ok(PhotoListRow {
        id: r.get(0)?,
        hash: r.get(1)?,
        width: r.get(2)?,
        height: r.get(3)?,
        format: r.get(4)?,
        byte_size: r.get(5)?,
        modality: Modality::parse(&modality).unwrap_or(Modality::Other),
        modality_source: ModalitySource::parse(&source).unwrap_or(ModalitySource::Cue),
        captured_at: r.get(8)?,
        captured_source: r.get(9)?,
        camera_make: r.get(10)?,
        camera_model: r.get(11)?,
        orientation: r.get(12)?,
        imported_at: r.get(13)?,
        paths: serde_json::from_str(&paths).unwrap_or_default(),
        missing_paths: serde_json::from_str(&missing).unwrap_or_default(),
    })
}

/// The file name of a path, for display (works for both separators).
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

impl Store {
    /// Every photo that passes the filter, in the filter's order, with just what a grid cell needs.
    pub fn grid(&self, filter: &PhotoFilter) -> Result<Vec<GridItem>> {
        let (where_sql, args) = filter.sql()?;
        let sql = format!(
            concat!(
                "SELECT p.id, p.hash, p.modality, p.captured_at, p.width, p.height, ",
                first_path!(),
                " AS name,
                NOT EXISTS (SELECT 1 FROM locations l WHERE l.photo_id = p.id AND l.missing_since IS NULL)
             FROM photos p {} {}"
            ),
            where_sql,
            filter.order_sql()
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| {
            let modality: String = r.get(2)?;
            let path: Option<String> = r.get(6)?;
            Ok(GridItem {
                id: r.get(0)?,
                hash: r.get(1)?,
                modality: Modality::parse(&modality).unwrap_or(Modality::Other),
                captured_at: r.get(3)?,
                width: r.get(4)?,
                height: r.get(5)?,
                name: path.as_deref().map(file_name).unwrap_or_default().to_owned(),
                missing: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Calls `each` for every photo that passes the filter, streaming (memory stays flat).
    pub fn for_each_photo(
        &self,
        filter: &PhotoFilter,
        limit: Option<u64>,
        mut each: impl FnMut(PhotoListRow) -> Result<()>,
    ) -> Result<()> {
        let (where_sql, mut args) = filter.sql()?;
        args.push(Value::Integer(limit.map(|l| l as i64).unwrap_or(-1)));
        let sql = format!("SELECT {LIST_COLUMNS} FROM photos p {where_sql} {} LIMIT ?", filter.order_sql());
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        while let Some(r) = rows.next()? {
            each(list_row(r)?)?;
        }
        Ok(())
    }

    pub fn photo(&self, id: i64) -> Result<Option<PhotoDetail>> {
        let sql = format!(
            "SELECT {LIST_COLUMNS}, p.modality_detail, p.exif, p.exif_thumb, p.cues FROM photos p WHERE p.id = ?1"
        );
        let found = self
            .conn
            .query_row(&sql, [id], |r| {
                // LIST_COLUMNS fill 0..=16.
                let exif: Option<String> = r.get(18)?;
                let cues: Option<String> = r.get(20)?;
                Ok(PhotoDetail {
                    row: list_row(r)?,
                    modality_detail: r.get(17)?,
                    locations: Vec::new(),
                    exif: exif.and_then(|e| serde_json::from_str(&e).ok()).unwrap_or_default(),
                    exif_thumb: r.get(19)?,
                    cues: cues.and_then(|c| serde_json::from_str(&c).ok()),
                })
            })
            .optional()?;
        let Some(mut detail) = found else { return Ok(None) };
        let mut stmt = self.conn.prepare(
            "SELECT path, byte_size, mtime_ns, missing_since FROM locations WHERE photo_id = ?1 ORDER BY id",
        )?;
        detail.locations = stmt
            .query_map([id], |r| {
                Ok(LocationRow { path: r.get(0)?, byte_size: r.get(1)?, mtime_ns: r.get(2)?, missing_since: r.get(3)? })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(detail))
    }

    pub fn stats(&self) -> Result<Stats> {
        let c = &self.conn;
        let count = |sql: &str| -> Result<u64> { Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
        let group = |sql: &str| -> Result<BTreeMap<String, u64>> {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        let by_modality = self.modality_counts()?;
        let mut stmt = c.prepare("SELECT path FROM roots ORDER BY path")?;
        let roots = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(Stats {
            photos: count("SELECT count(*) FROM photos")?,
            locations: count("SELECT count(*) FROM locations")?,
            missing: count("SELECT count(*) FROM locations WHERE missing_since IS NOT NULL")?,
            photos_missing: count(
                "SELECT count(*) FROM photos p WHERE NOT EXISTS
                 (SELECT 1 FROM locations l WHERE l.photo_id = p.id AND l.missing_since IS NULL)",
            )?,
            errors: count("SELECT count(*) FROM refusals")?,
            by_modality,
            by_modality_source: group("SELECT modality_source, count(*) FROM photos GROUP BY modality_source")?,
            by_format: group("SELECT format, count(*) FROM photos GROUP BY format")?,
            errors_by_reason: group("SELECT reason_code, count(*) FROM refusals GROUP BY reason_code")?,
            roots,
            import_runs: count("SELECT count(*) FROM import_runs")?,
            interrupted_runs: count("SELECT count(*) FROM import_runs WHERE status = 'interrupted'")?,
        })
    }

    /// Photos per modality (every modality present, zero when none).
    pub fn modality_counts(&self) -> Result<BTreeMap<String, u64>> {
        let mut out: BTreeMap<String, u64> = Modality::ALL.iter().map(|m| (m.as_str().to_owned(), 0)).collect();
        let mut stmt = self.conn.prepare("SELECT modality, count(*) FROM photos GROUP BY modality")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))? {
            let (m, n) = row?;
            out.insert(m, n);
        }
        Ok(out)
    }

    /// Sets the modality of photos by hand; each change is audited with its old value.
    pub fn set_modality(&mut self, ids: &[i64], modality: Modality) -> Result<usize> {
        let who = crate::util::current_user();
        let tx = self.conn.transaction()?;
        let mut changed = 0;
        for &id in ids {
            let old: Option<(String, String)> = tx
                .query_row("SELECT modality, modality_source FROM photos WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((old_modality, old_source)) = old else {
                return Err(Error::Invalid(format!("no photo with id {id}")));
            };
            tx.execute(
                "UPDATE photos SET modality = ?1, modality_source = 'person', modality_detail = ?2 WHERE id = ?3",
                params![modality.as_str(), who, id],
            )?;
            audit(
                &tx,
                "set_modality",
                Some(id),
                &format!("{old_modality} ({old_source}) -> {} (person)", modality.as_str()),
            )?;
            changed += 1;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Calls `each` with the hash and first present path of every photo that has a file (the
    /// thumbnail job's feed). Read in pages of short read transactions, so that a pass over a
    /// million photos neither holds memory nor keeps the log from being checkpointed. Stops
    /// early when `each` says false.
    pub fn for_each_present_photo(&self, mut each: impl FnMut(&str, &str) -> Result<bool>) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, p.hash, (SELECT path FROM locations WHERE photo_id = p.id AND missing_since IS NULL
                                   ORDER BY id LIMIT 1) AS path
             FROM photos p WHERE p.id > ?1 ORDER BY p.id LIMIT ?2",
        )?;
        let mut last = 0i64;
        loop {
            let page: Vec<(i64, String, Option<String>)> = stmt
                .query_map(params![last, PAGE], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (_, hash, path) in &page {
                if let Some(path) = path
                    && !each(hash, path)?
                {
                    return Ok(());
                }
            }
            match page.last() {
                Some((id, _, _)) if page.len() as i64 == PAGE => last = *id,
                _ => return Ok(()),
            }
        }
    }
}

/// Rows per page of a streaming pass.
pub(crate) const PAGE: i64 = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(check_date("2012-03-04").unwrap(), "2012-03-04");
        assert_eq!(check_date("2012-03").unwrap(), "2012-03-01");
        assert_eq!(check_date("2012").unwrap(), "2012-01-01");
        assert!(check_date("2012-13-01").is_err());
        assert!(check_date("12-03-04").is_err());
        assert!(check_date("yesterday").is_err());
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name("/a/b/c.jpg"), "c.jpg");
        assert_eq!(file_name(r"C:\a\患者\c.jpg"), "c.jpg");
    }
}
