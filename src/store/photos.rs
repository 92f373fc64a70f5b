//! Photo queries: the browser's filtered grid, the CLI's list, one photo's detail, stats,
//! and setting a modality by hand.

use super::Store;
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

impl StatusFilter {
    pub const ALL: [StatusFilter; 3] = [StatusFilter::All, StatusFilter::Present, StatusFilter::Missing];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Present => "present",
            StatusFilter::Missing => "missing",
        }
    }
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

impl SortKey {
    pub const ALL: [SortKey; 5] =
        [SortKey::Captured, SortKey::Imported, SortKey::Name, SortKey::Pixels, SortKey::Modality];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Captured => "captured",
            SortKey::Imported => "imported",
            SortKey::Name => "name",
            SortKey::Pixels => "pixels",
            SortKey::Modality => "modality",
        }
    }
}

/// What the browser (and `dermdesk list`) shows. Empty fields mean "no restriction".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhotoFilter {
    pub modalities: Vec<Modality>,
    /// Inclusive periods: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a year or month means all of
    /// it). Photos with no capture time are left out when either is set.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Take a file's modification time as its capture time when it has none (off by default:
    /// a copied archive's file times are the copy's, not the photo's).
    pub file_dates: bool,
    pub status: StatusFilter,
    /// Case-insensitive text that one of the photo's paths must contain.
    pub path_contains: String,
    pub sort: SortKey,
    pub descending: bool,
    /// Only photos where this classifier's newest result disagrees with the chart's
    /// diagnosis (`models::agree`: worked out when read, never stale).
    pub disagrees_with: Option<String>,
    /// Only photos whose answer changed between two versions of a model (`models::compare`:
    /// a classifier's most probable class, a segmenter's mask by Dice below 0.8).
    pub changed_between: Option<VersionPair>,
}

/// Two versions of one model, as a filter names them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionPair {
    pub model: String,
    pub from: String,
    pub to: String,
}

impl std::str::FromStr for VersionPair {
    type Err = String;

    /// `MODEL:FROM:TO`, as `dermdesk list --changed-between` takes it.
    fn from_str(s: &str) -> std::result::Result<VersionPair, String> {
        match s.rsplitn(3, ':').collect::<Vec<_>>()[..] {
            [to, from, model] if !model.is_empty() && !from.is_empty() && !to.is_empty() => {
                Ok(VersionPair { model: model.to_owned(), from: from.to_owned(), to: to.to_owned() })
            }
            _ => Err(format!("expected MODEL:FROM:TO (for example ham7-lite0:1.0.0:1.1.0), got {s:?}")),
        }
    }
}

impl PhotoFilter {
    /// The capture time the filter and the capture sort use.
    fn when(&self) -> &'static str {
        if self.file_dates { "coalesce(p.captured_at, p.file_time)" } else { "p.captured_at" }
    }

    /// The WHERE clause (with a leading `WHERE`, or empty) and its parameters.
    fn sql(&self) -> Result<(String, Vec<Value>)> {
        let mut clauses: Vec<String> = Vec::new();
        let mut args: Vec<Value> = Vec::new();
        if !self.modalities.is_empty() {
            let marks = vec!["?"; self.modalities.len()].join(",");
            clauses.push(format!("p.modality IN ({marks})"));
            args.extend(self.modalities.iter().map(|m| Value::Text(m.as_str().to_owned())));
        }
        if let Some(from) = self.from.as_deref().filter(|s| !s.trim().is_empty()) {
            clauses.push(format!("{} >= ?", self.when()));
            args.push(Value::Text(Period::parse(from)?.start));
        }
        if let Some(to) = self.to.as_deref().filter(|s| !s.trim().is_empty()) {
            clauses.push(format!("{} < ?", self.when()));
            args.push(Value::Text(Period::parse(to)?.end));
        }
        match self.status {
            StatusFilter::All => {}
            StatusFilter::Present => clauses.push("p.present".into()),
            StatusFilter::Missing => clauses.push("NOT p.present".into()),
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

    /// The sort key's expression: each has an index, so that the first screen of a sorted
    /// million comes from an index walk, not a sort.
    fn key(&self) -> String {
        match self.sort {
            SortKey::Captured => self.when().to_owned(),
            SortKey::Imported => "p.id".into(),
            SortKey::Name => "p.display_name COLLATE NOCASE".into(),
            SortKey::Pixels => "p.width * p.height".into(),
            SortKey::Modality => "p.modality".into(),
        }
    }

    /// The ORDER BY clauses: photos with a key in order, then those without (undated), so
    /// that both halves walk an index whichever way the sort runs.
    fn orders(&self) -> Vec<(String, String)> {
        let dir = if self.descending { "DESC" } else { "ASC" };
        let key = self.key();
        if self.sort == SortKey::Captured {
            vec![
                (format!("{} IS NOT NULL", self.when()), format!("ORDER BY {key} {dir}, p.id {dir}")),
                (format!("{} IS NULL", self.when()), format!("ORDER BY p.id {dir}")),
            ]
        } else {
            vec![("1".into(), format!("ORDER BY {key} {dir}, p.id {dir}"))]
        }
    }
}

/// A date filter's period: `YYYY` (the year), `YYYY-MM` (the month) or `YYYY-MM-DD` (the
/// day), as a half-open range of local times `start <= t < end`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: String,
    pub end: String,
}

impl Period {
    /// Refuses anything else, and dates that do not exist (2006-02-30, 2007-02-29).
    pub fn parse(s: &str) -> Result<Period> {
        let s = s.trim();
        let bad = || Error::Invalid(format!("not a date (use YYYY, YYYY-MM or YYYY-MM-DD): {s}"));
        let num = |t: &str, n: usize| -> Option<u32> {
            (t.len() == n && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok()).flatten()
        };
        let parts: Vec<&str> = s.split('-').collect();
        let (y, m, d) = match parts.as_slice() {
            [y] => (num(y, 4).ok_or_else(bad)?, None, None),
            [y, m] => (num(y, 4).ok_or_else(bad)?, Some(num(m, 2).ok_or_else(bad)?), None),
            [y, m, d] => {
                (num(y, 4).ok_or_else(bad)?, Some(num(m, 2).ok_or_else(bad)?), Some(num(d, 2).ok_or_else(bad)?))
            }
            _ => return Err(bad()),
        };
        if y < 1800 || m.is_some_and(|m| !(1..=12).contains(&m)) {
            return Err(bad());
        }
        if let (Some(m), Some(d)) = (m, d)
            && !(1..=days_in_month(y, m)).contains(&d)
        {
            return Err(Error::Invalid(format!("no such date: {s}")));
        }
        let day = |y: u32, m: u32, d: u32| format!("{y:04}-{m:02}-{d:02}");
        Ok(match (m, d) {
            (None, _) => Period { start: day(y, 1, 1), end: day(y + 1, 1, 1) },
            (Some(m), None) => {
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                Period { start: day(y, m, 1), end: day(ny, nm, 1) }
            }
            (Some(m), Some(d)) => {
                let (ny, nm, nd) = if d < days_in_month(y, m) {
                    (y, m, d + 1)
                } else if m < 12 {
                    (y, m + 1, 1)
                } else {
                    (y + 1, 1, 1)
                };
                Period { start: day(y, m, d), end: day(ny, nm, nd) }
            }
        })
    }
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// What one cell of the thumbnail grid needs.
#[derive(Clone, Debug, PartialEq)]
pub struct GridItem {
    pub id: i64,
    pub hash: String,
    pub modality: Modality,
    pub name: String,
    /// When it was taken (EXIF), if known.
    pub captured_at: Option<String>,
    /// The file's modification time (local), shown, marked, where no capture time is known.
    pub file_time: Option<String>,
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
    /// When it was taken, or (with `captured_source` `file:mtime`) the file's time when that
    /// is all there is.
    pub captured_at: Option<String>,
    pub captured_source: Option<String>,
    /// The file's modification time in this computer's local time.
    pub file_time: Option<String>,
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

const LIST_COLUMNS: &str = "p.id, p.hash, p.width, p.height, p.format, p.byte_size, p.modality, p.modality_source,
    p.captured_at, p.captured_source, p.camera_make, p.camera_model, p.orientation, p.imported_at,
    (SELECT json_group_array(path) FROM (SELECT path FROM locations WHERE photo_id = p.id AND missing_since IS NULL ORDER BY id)),
    (SELECT json_group_array(path) FROM (SELECT path FROM locations WHERE photo_id = p.id AND missing_since IS NOT NULL ORDER BY id)),
    p.captured_offset, p.file_time";

fn list_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PhotoListRow> {
    let modality: String = r.get(6)?;
    let source: String = r.get(7)?;
    let paths: String = r.get(14)?;
    let missing: String = r.get(15)?;
    let captured: Option<String> = r.get(8)?;
    let offset: Option<String> = r.get(16)?;
    let file_time: Option<String> = r.get(17)?;
    let (captured_at, captured_source) = match captured {
        Some(at) => (Some(at + offset.as_deref().unwrap_or("")), r.get(9)?),
        None => (file_time.clone(), file_time.as_ref().map(|_| "file:mtime".to_owned())),
    };
    Ok(PhotoListRow {
        id: r.get(0)?,
        hash: r.get(1)?,
        width: r.get(2)?,
        height: r.get(3)?,
        format: r.get(4)?,
        byte_size: r.get(5)?,
        modality: Modality::parse(&modality).unwrap_or(Modality::Other),
        modality_source: ModalitySource::parse(&source).unwrap_or(ModalitySource::Cue),
        captured_at,
        captured_source,
        file_time,
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
    /// The ids of every photo that passes the filter, in the filter's order: all the grid
    /// holds of a million photos (8 MB); the rows on screen come from `grid_rows`.
    /// The filter's WHERE clause; the model-disagreement and version-change parts are worked
    /// out here, where the store can read the links and results they depend on.
    fn filter_sql(&self, filter: &PhotoFilter) -> Result<(String, Vec<Value>)> {
        let (mut where_sql, mut args) = filter.sql()?;
        let mut only = |ids: Vec<i64>| -> Result<()> {
            let clause = "p.id IN (SELECT value FROM json_each(?))";
            where_sql =
                if where_sql.is_empty() { format!("WHERE {clause}") } else { format!("{where_sql} AND {clause}") };
            args.push(Value::Text(serde_json::to_string(&ids).map_err(|e| Error::Invalid(e.to_string()))?));
            Ok(())
        };
        if let Some(model) = filter.disagrees_with.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            only(crate::models::agree::disagreeing_photos(self, model)?)?;
        }
        if let Some(v) = &filter.changed_between {
            only(crate::models::compare::changed_photos(self, &v.model, &v.from, &v.to)?)?;
        }
        Ok((where_sql, args))
    }

    pub fn grid_ids(&self, filter: &PhotoFilter) -> Result<Vec<i64>> {
        Ok(self.grid_ids_while(filter, || true)?.unwrap_or_default())
    }

    /// `grid_ids`, asking `keep_going` every few thousand rows: None when it said no (the
    /// person sorted again before the whole list was read).
    pub fn grid_ids_while(&self, filter: &PhotoFilter, keep_going: impl Fn() -> bool) -> Result<Option<Vec<i64>>> {
        let (where_sql, args) = self.filter_sql(filter)?;
        let mut ids = Vec::new();
        for (part, order) in filter.orders() {
            let joiner = if where_sql.is_empty() { "WHERE" } else { "AND" };
            let sql = format!("SELECT p.id FROM photos p {where_sql} {joiner} {part} {order}");
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params_from_iter(args.iter()))?;
            while let Some(r) = rows.next()? {
                ids.push(r.get(0)?);
                if ids.len() % 8192 == 0 && !keep_going() {
                    return Ok(None);
                }
            }
        }
        Ok(Some(ids))
    }

    /// The first `limit` ids in the filter's order: an index walk that stops early, so the
    /// first screen of a newly sorted million comes in milliseconds while the whole list is
    /// still being read.
    pub fn grid_ids_upto(&self, filter: &PhotoFilter, limit: u64) -> Result<Vec<i64>> {
        let (where_sql, args) = self.filter_sql(filter)?;
        let mut ids = Vec::new();
        for (part, order) in filter.orders() {
            let left = limit.saturating_sub(ids.len() as u64);
            if left == 0 {
                break;
            }
            let joiner = if where_sql.is_empty() { "WHERE" } else { "AND" };
            let sql = format!("SELECT p.id FROM photos p {where_sql} {joiner} {part} {order} LIMIT ?");
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let mut all = args.clone();
            all.push(Value::Integer(left.min(i64::MAX as u64) as i64));
            let mut rows = stmt.query(params_from_iter(all.iter()))?;
            while let Some(r) = rows.next()? {
                ids.push(r.get(0)?);
            }
        }
        Ok(ids)
    }

    /// What grid cells need for these photos, in the order given (ids no longer in the
    /// store are left out).
    pub fn grid_rows(&self, ids: &[i64]) -> Result<Vec<GridItem>> {
        let mut found: std::collections::HashMap<i64, GridItem> = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!(
                "SELECT p.id, p.hash, p.modality, p.captured_at, p.width, p.height, p.display_name, p.present, p.file_time
                 FROM photos p WHERE p.id IN ({marks})"
            );
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map(params_from_iter(chunk), |r| {
                let modality: String = r.get(2)?;
                Ok(GridItem {
                    id: r.get(0)?,
                    hash: r.get(1)?,
                    modality: Modality::parse(&modality).unwrap_or(Modality::Other),
                    captured_at: r.get(3)?,
                    width: r.get(4)?,
                    height: r.get(5)?,
                    name: r.get(6)?,
                    missing: !r.get::<_, bool>(7)?,
                    file_time: r.get(8)?,
                })
            })?;
            for item in rows {
                let item = item?;
                found.insert(item.id, item);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Calls `each` for every photo that passes the filter, in order, streaming (memory
    /// stays flat).
    pub fn for_each_photo(
        &self,
        filter: &PhotoFilter,
        limit: Option<u64>,
        mut each: impl FnMut(PhotoListRow) -> Result<()>,
    ) -> Result<()> {
        let (where_sql, args) = self.filter_sql(filter)?;
        let mut left = limit.unwrap_or(u64::MAX);
        for (part, order) in filter.orders() {
            if left == 0 {
                break;
            }
            let joiner = if where_sql.is_empty() { "WHERE" } else { "AND" };
            let sql = format!("SELECT {LIST_COLUMNS} FROM photos p {where_sql} {joiner} {part} {order}");
            let mut stmt = self.conn.prepare(&sql)?;
            let mut rows = stmt.query(params_from_iter(args.iter()))?;
            while let Some(r) = rows.next()? {
                each(list_row(r)?)?;
                left -= 1;
                if left == 0 {
                    break;
                }
            }
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
                // LIST_COLUMNS fill 0..=17.
                let exif: Option<String> = r.get(19)?;
                let cues: Option<String> = r.get(21)?;
                Ok(PhotoDetail {
                    row: list_row(r)?,
                    modality_detail: r.get(18)?,
                    locations: Vec::new(),
                    exif: exif.and_then(|e| serde_json::from_str(&e).ok()).unwrap_or_default(),
                    exif_thumb: r.get(20)?,
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
            photos_missing: count("SELECT count(*) FROM photos WHERE NOT present")?,
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
    fn periods_are_whole_and_real() {
        let p = |s: &str| Period::parse(s).map(|p| (p.start, p.end));
        let ok = |a: &str, b: &str| Ok::<_, ()>((a.to_owned(), b.to_owned()));
        assert_eq!(p("2012-03-04").map_err(|_| ()), ok("2012-03-04", "2012-03-05"));
        assert_eq!(p("2012-03").map_err(|_| ()), ok("2012-03-01", "2012-04-01"));
        assert_eq!(p("2012").map_err(|_| ()), ok("2012-01-01", "2013-01-01"));
        assert_eq!(p("2012-12").map_err(|_| ()), ok("2012-12-01", "2013-01-01"));
        assert_eq!(p("2012-12-31").map_err(|_| ()), ok("2012-12-31", "2013-01-01"));
        assert_eq!(p("2012-02-29").map_err(|_| ()), ok("2012-02-29", "2012-03-01"), "a leap day");
        assert_eq!(p(" 2006-02-28 ").map_err(|_| ()), ok("2006-02-28", "2006-03-01"));
        for bad in
            ["2006-02-30", "2007-02-29", "2012-13-01", "2012-00", "2012-04-31", "12-03-04", "2012-3-4", "yesterday", ""]
        {
            assert!(Period::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name("/a/b/c.jpg"), "c.jpg");
        assert_eq!(file_name(r"C:\a\患者\c.jpg"), "c.jpg");
    }
}
