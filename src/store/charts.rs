//! Chart data in the store: imports (one transaction per import, content hashes), patients
//! with their research IDs, chart records, and column-map profiles.

use super::{Store, audit};
use crate::charts::EncodingChoice;
use crate::charts::dates::{Date, IsoDate};
use crate::charts::mapping::MapSpec;
use crate::charts::records::{PatientFacts, Record, RecordKind, RowRecords, Sex};
use crate::error::{Error, Result};
use crate::util;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// What kind of file a chart import read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartFormat {
    Csv,
    Tsv,
    Xlsx,
    Hl7,
}

impl ChartFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ChartFormat::Csv => "csv",
            ChartFormat::Tsv => "tsv",
            ChartFormat::Xlsx => "xlsx",
            ChartFormat::Hl7 => "hl7",
        }
    }

    pub fn parse(s: &str) -> Option<ChartFormat> {
        [ChartFormat::Csv, ChartFormat::Tsv, ChartFormat::Xlsx, ChartFormat::Hl7].into_iter().find(|f| f.as_str() == s)
    }
}

/// One file's entry in the import log.
#[derive(Clone, Debug, Serialize)]
pub struct ChartImportRow {
    pub id: i64,
    pub path: String,
    pub hash: String,
    pub format: String,
    pub encoding: Option<String>,
    pub rows: u64,
    pub records: u64,
    pub duplicates: u64,
    pub bad_rows: u64,
    pub imported_at: String,
}

/// Counts one import run adds up.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ChartCounts {
    pub files: u64,
    /// Files whose content was imported before (nothing read from them).
    pub files_already_imported: u64,
    pub rows: u64,
    pub records_new: u64,
    /// Records already held (the same visit exported twice, or in two files).
    pub records_duplicate: u64,
    pub patients_new: u64,
    pub bad_rows: u64,
    /// New records per kind (visits, pathology reports, prescriptions ...).
    pub by_kind: std::collections::BTreeMap<RecordKind, u64>,
}

/// Writes one import (any number of files) in one transaction: all of it or none.
pub struct ChartWriter<'a> {
    tx: Transaction<'a>,
    key: [u8; 32],
    patients: HashMap<String, i64>,
    facts_done: HashSet<i64>,
    file: Option<(i64, ChartCounts)>,
    /// The patient of the row before (an export lists a patient's rows together): a row of
    /// the same patient skips the map look-ups. (chart number, patient id, facts filled in)
    last: Option<(String, i64, bool)>,
    pub counts: ChartCounts,
}

fn record_key(chart_no: &str, r: &Record) -> [u8; 16] {
    // The parts joined by 0x1f; written without allocating (a million rows pass here), byte
    // for byte what keys held in existing databases were made from.
    let mut h = blake3::Hasher::new();
    let (date, end) = (iso_bytes(&r.date), r.end_date.map(|d| iso_bytes(&d)));
    fn opt(d: &Option<String>) -> &[u8] {
        d.as_deref().unwrap_or("").as_bytes()
    }
    for part in [
        chart_no.as_bytes(),
        r.kind.as_str().as_bytes(),
        date.as_bytes(),
        end.as_ref().map_or(&b""[..], |e| e.as_bytes()),
        r.text.as_bytes(),
        opt(&r.code),
        opt(&r.specimen),
        opt(&r.site),
        opt(&r.dose),
    ] {
        h.update(part);
        h.update(&[0x1f]);
    }
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize().as_bytes()[..16]);
    out
}

/// `Date::iso` without a heap string: `YYYY-MM-DD` for the years a `Date` holds.
enum IsoBytes {
    Fixed([u8; 10]),
    Other(String),
}

impl IsoBytes {
    fn as_bytes(&self) -> &[u8] {
        match self {
            IsoBytes::Fixed(b) => b,
            IsoBytes::Other(s) => s.as_bytes(),
        }
    }
}

fn iso_bytes(d: &Date) -> IsoBytes {
    if !(0..=9999).contains(&d.y) || d.m > 99 || d.d > 99 {
        return IsoBytes::Other(d.iso());
    }
    let (y, m, day) = (d.y as u32, d.m, d.d);
    let digit = |v: u32| b'0' + (v % 10) as u8;
    IsoBytes::Fixed([
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
    ])
}

/// The research ID of a chart number under this database's key: `R` and 12 base-32
/// characters of a keyed BLAKE3 hash. Stable for the database's life; not reversible
/// without the key, which never leaves the database.
pub fn research_id(key: &[u8; 32], chart_no: &str) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let h = blake3::keyed_hash(key, chart_no.as_bytes());
    let mut bits: u64 = u64::from_le_bytes(h.as_bytes()[..8].try_into().unwrap_or([0; 8]));
    let mut s = String::from("R");
    for _ in 0..12 {
        s.push(ALPHABET[(bits & 31) as usize] as char);
        bits >>= 5;
    }
    s
}

const KEY_SETTING: &str = "research_id_key";

/// The database's research-ID key, made on first use (inside the caller's transaction).
fn research_key(tx: &Transaction<'_>) -> Result<[u8; 32]> {
    let hex: Option<String> =
        tx.query_row("SELECT value FROM settings WHERE key = ?1", [KEY_SETTING], |r| r.get(0)).optional()?;
    if let Some(hex) = hex {
        let bytes: Vec<u8> =
            (0..hex.len() / 2).filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()).collect();
        return bytes.try_into().map_err(|_| Error::Invalid("the research-ID key in the database is damaged".into()));
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| Error::Invalid(format!("no random numbers for the research-ID key: {e}")))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    tx.execute("INSERT INTO settings (key, value) VALUES (?1, ?2)", params![KEY_SETTING, hex])?;
    Ok(key)
}

/// Finds or adds a patient by normalised chart number; returns (id, newly added).
pub(crate) fn patient_id(
    tx: &Transaction<'_>,
    key: &[u8; 32],
    chart_no: &str,
    facts: &PatientFacts,
) -> Result<(i64, bool)> {
    let found: Option<i64> = tx
        .prepare_cached("SELECT id FROM patients WHERE chart_no = ?1")?
        .query_row([chart_no], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok((id, false));
    }
    tx.prepare_cached(
        "INSERT INTO patients (chart_no, research_id, sex, birth_date, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        chart_no,
        research_id(key, chart_no),
        facts.sex.map(Sex::as_str),
        facts.birth_date.map(|d| d.iso()),
        util::now_iso()
    ])?;
    Ok((tx.last_insert_rowid(), true))
}

impl<'a> ChartWriter<'a> {
    /// Starts a file; false (and nothing to do) when a file with this content was imported before.
    pub fn start_file(&mut self, path: &str, hash: &str, format: ChartFormat, encoding: Option<&str>) -> Result<bool> {
        self.end_file()?;
        self.counts.files += 1;
        let known: Option<i64> = self
            .tx
            .prepare_cached("SELECT id FROM chart_imports WHERE hash = ?1")?
            .query_row([hash], |r| r.get(0))
            .optional()?;
        if known.is_some() {
            self.counts.files_already_imported += 1;
            return Ok(false);
        }
        self.tx
            .prepare_cached(
                "INSERT INTO chart_imports (path, hash, format, encoding, imported_at, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![path, hash, format.as_str(), encoding, util::now_iso(), util::current_user()])?;
        self.file = Some((self.tx.last_insert_rowid(), ChartCounts::default()));
        Ok(true)
    }

    fn file_mut(&mut self) -> Result<(i64, &mut ChartCounts)> {
        match &mut self.file {
            Some((id, c)) => Ok((*id, c)),
            None => Err(Error::Invalid("a chart row was written outside a file".into())),
        }
    }

    /// Adds one good row's records (duplicates of held records are counted, not added).
    pub fn add(&mut self, line: u64, row: &RowRecords) -> Result<()> {
        let (import_id, _) = self.file_mut()?;
        if self.last.as_ref().is_none_or(|(c, _, _)| *c != row.chart_no) {
            let pid = match self.patients.get(&row.chart_no) {
                Some(&id) => id,
                None => {
                    let (id, new) = patient_id(&self.tx, &self.key, &row.chart_no, &row.facts)?;
                    if new {
                        // Added with this row's facts: nothing to fill in later.
                        self.counts.patients_new += 1;
                        self.facts_done.insert(id);
                    }
                    self.patients.insert(row.chart_no.clone(), id);
                    id
                }
            };
            self.last = Some((row.chart_no.clone(), pid, self.facts_done.contains(&pid)));
        }
        let has_facts = row.facts.sex.is_some() || row.facts.birth_date.is_some();
        let (pid, need_facts) = match &mut self.last {
            Some((_, pid, filled)) => {
                let need = has_facts && !*filled;
                *filled |= need;
                (*pid, need)
            }
            None => return Err(Error::Invalid("a chart row without its patient".into())),
        };
        if need_facts && self.facts_done.insert(pid) {
            self.tx
                .prepare_cached(
                    "UPDATE patients SET sex = coalesce(sex, ?2), birth_date = coalesce(birth_date, ?3) WHERE id = ?1",
                )?
                .execute(params![pid, row.facts.sex.map(Sex::as_str), row.facts.birth_date.map(|d| d.iso())])?;
        }
        let (mut new, mut dup) = (0, 0);
        {
            let mut stmt = self.tx.prepare_cached(
                "INSERT OR IGNORE INTO chart_records
                 (patient_id, kind, date, end_date, text, code, specimen, site, dose, import_id, line, key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for r in &row.records {
                let n = stmt.execute(params![
                    pid,
                    r.kind.as_str(),
                    r.date.iso_text().as_str(),
                    r.end_date.map(|d| d.iso_text()).as_ref().map(IsoDate::as_str),
                    r.text,
                    r.code,
                    r.specimen,
                    r.site,
                    r.dose,
                    import_id,
                    line as i64,
                    &record_key(&row.chart_no, r)[..],
                ])?;
                if n == 1 {
                    new += 1;
                    *self.counts.by_kind.entry(r.kind).or_default() += 1;
                } else {
                    dup += 1;
                }
            }
        }
        let (_, c) = self.file_mut()?;
        c.rows += 1;
        c.records_new += new;
        c.records_duplicate += dup;
        Ok(())
    }

    /// Sets the format of the file being written (known only once it was opened).
    pub fn set_format(&mut self, format: ChartFormat) -> Result<()> {
        let (id, _) = self.file_mut()?;
        self.tx
            .prepare_cached("UPDATE chart_imports SET format = ?2 WHERE id = ?1")?
            .execute(params![id, format.as_str()])?;
        Ok(())
    }

    /// Records a row that could not be read.
    pub fn bad(&mut self, at: &str, reason: &str) -> Result<()> {
        let (import_id, c) = self.file_mut()?;
        c.bad_rows += 1;
        self.tx
            .prepare_cached("INSERT INTO chart_import_errors (import_id, at, reason) VALUES (?1, ?2, ?3)")?
            .execute(params![import_id, at, reason])?;
        Ok(())
    }

    /// The counts of the file being written (zero before any).
    pub fn file_counts(&self) -> ChartCounts {
        self.file.as_ref().map(|(_, c)| c.clone()).unwrap_or_default()
    }

    fn end_file(&mut self) -> Result<()> {
        if let Some((id, c)) = self.file.take() {
            self.tx
                .prepare_cached(
                    "UPDATE chart_imports SET rows = ?2, records = ?3, duplicates = ?4, bad_rows = ?5 WHERE id = ?1",
                )?
                .execute(params![
                    id,
                    c.rows as i64,
                    c.records_new as i64,
                    c.records_duplicate as i64,
                    c.bad_rows as i64
                ])?;
            self.counts.rows += c.rows;
            self.counts.records_new += c.records_new;
            self.counts.records_duplicate += c.records_duplicate;
            self.counts.bad_rows += c.bad_rows;
        }
        Ok(())
    }

    /// Commits everything, with one audit line naming what was read.
    pub fn commit(mut self, what: &str) -> Result<ChartCounts> {
        self.end_file()?;
        let c = self.counts.clone();
        audit(
            &self.tx,
            "charts_import",
            None,
            &format!(
                "{what}: {} file(s) ({} already imported), {} rows, {} new records ({}), {} duplicates, {} new patients, {} bad rows",
                c.files,
                c.files_already_imported,
                c.rows,
                c.records_new,
                c.by_kind.iter().map(|(k, n)| format!("{} {n}", k.as_str())).collect::<Vec<_>>().join(", "),
                c.records_duplicate,
                c.patients_new,
                c.bad_rows
            ),
        )?;
        self.tx.commit()?;
        Ok(c)
    }
}

/// A chart record as read back (for timelines, disclosure and the link panel).
#[derive(Clone, Debug, Serialize)]
pub struct ChartRecordRow {
    pub id: i64,
    pub kind: RecordKind,
    pub date: String,
    pub end_date: Option<String>,
    pub text: String,
    pub code: Option<String>,
    pub specimen: Option<String>,
    pub site: Option<String>,
    pub dose: Option<String>,
}

/// A patient as the app shows one: by research ID, never by chart number.
#[derive(Clone, Debug, Serialize)]
pub struct PatientRow {
    pub id: i64,
    pub research_id: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<String>,
}

impl PatientRow {
    /// The ten-year age band at a day (`40-49`), when the birth date is known.
    pub fn age_band(&self, at: &Date) -> Option<String> {
        let birth = Date::from_iso(self.birth_date.as_deref()?)?;
        let age = at.age_at(&birth);
        (age >= 0).then(|| {
            let lo = age / 10 * 10;
            format!("{lo}-{}", lo + 9)
        })
    }
}

impl Store {
    /// Starts writing a chart import; nothing is kept unless `commit` is reached.
    pub fn begin_chart_import(&mut self) -> Result<ChartWriter<'_>> {
        // A million-row export touches indexes all over: 64 MB of page cache keeps them in
        // memory instead of spilling pages to the WAL and reading them back (memory stays
        // bounded by it, however large the file).
        self.conn.execute_batch("PRAGMA cache_size = -65536")?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let key = research_key(&tx)?;
        Ok(ChartWriter {
            tx,
            key,
            patients: HashMap::new(),
            facts_done: HashSet::new(),
            file: None,
            last: None,
            counts: ChartCounts::default(),
        })
    }

    pub fn chart_imports(&self, limit: usize) -> Result<Vec<ChartImportRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, path, hash, format, encoding, rows, records, duplicates, bad_rows, imported_at
             FROM chart_imports ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(ChartImportRow {
                id: r.get(0)?,
                path: r.get(1)?,
                hash: r.get(2)?,
                format: r.get(3)?,
                encoding: r.get(4)?,
                rows: r.get::<_, i64>(5)? as u64,
                records: r.get::<_, i64>(6)? as u64,
                duplicates: r.get::<_, i64>(7)? as u64,
                bad_rows: r.get::<_, i64>(8)? as u64,
                imported_at: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The bad rows recorded for one import: (where, why).
    pub fn chart_import_errors(&self, import_id: i64, limit: usize) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, reason FROM chart_import_errors WHERE import_id = ?1 ORDER BY id LIMIT ?2")?;
        let rows = stmt.query_map(params![import_id, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Counts of what the charts hold: patients, and records per kind.
    pub fn chart_counts(&self) -> Result<(u64, std::collections::BTreeMap<String, u64>)> {
        let patients: i64 = self.conn.query_row("SELECT count(*) FROM patients", [], |r| r.get(0))?;
        let mut stmt = self.conn.prepare("SELECT kind, count(*) FROM chart_records GROUP BY kind")?;
        let kinds = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok((patients as u64, kinds))
    }

    /// The patient with this research ID.
    pub fn patient_by_research_id(&self, research_id: &str) -> Result<Option<PatientRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, research_id, sex, birth_date FROM patients WHERE research_id = ?1",
                [research_id.trim()],
                patient_row,
            )
            .optional()?)
    }

    pub fn patient(&self, id: i64) -> Result<Option<PatientRow>> {
        Ok(self
            .conn
            .query_row("SELECT id, research_id, sex, birth_date FROM patients WHERE id = ?1", [id], patient_row)
            .optional()?)
    }

    /// The patient with this chart number (normalised first).
    pub fn patient_by_chart_no(&self, chart_no: &str) -> Result<Option<PatientRow>> {
        let n = crate::charts::chart_no::normalize(chart_no)?;
        Ok(self
            .conn
            .query_row("SELECT id, research_id, sex, birth_date FROM patients WHERE chart_no = ?1", [n], patient_row)
            .optional()?)
    }

    /// Every record of a patient, by date.
    pub fn patient_records(&self, patient_id: i64) -> Result<Vec<ChartRecordRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, date, end_date, text, code, specimen, site, dose FROM chart_records
             WHERE patient_id = ?1 ORDER BY date, id",
        )?;
        let rows = stmt.query_map([patient_id], |r| {
            let kind: String = r.get(1)?;
            Ok(ChartRecordRow {
                id: r.get(0)?,
                kind: RecordKind::parse(&kind).unwrap_or(RecordKind::Note),
                date: r.get(2)?,
                end_date: r.get(3)?,
                text: r.get(4)?,
                code: r.get(5)?,
                specimen: r.get(6)?,
                site: r.get(7)?,
                dose: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn save_chart_profile(&mut self, name: &str, spec: &MapSpec, encoding: EncodingChoice) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Invalid("a profile needs a name".into()));
        }
        let json = serde_json::to_string(spec).map_err(|e| Error::Invalid(e.to_string()))?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO chart_profiles (name, spec, encoding) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, encoding = excluded.encoding",
            params![name, json, encoding.as_str()],
        )?;
        audit(&tx, "charts_profile_saved", None, &format!("{name}: {json}"))?;
        tx.commit()?;
        Ok(())
    }

    pub fn chart_profile(&self, name: &str) -> Result<Option<(MapSpec, EncodingChoice)>> {
        let row: Option<(String, Option<String>)> = self
            .conn
            .query_row("SELECT spec, encoding FROM chart_profiles WHERE name = ?1", [name.trim()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((spec, enc)) = row else { return Ok(None) };
        let spec: MapSpec =
            serde_json::from_str(&spec).map_err(|e| Error::Invalid(format!("profile {name:?} is damaged ({e})")))?;
        let enc = enc.as_deref().and_then(EncodingChoice::parse).unwrap_or_default();
        Ok(Some((spec, enc)))
    }

    pub fn chart_profiles(&self) -> Result<Vec<(String, MapSpec, EncodingChoice)>> {
        let mut stmt = self.conn.prepare("SELECT name, spec, encoding FROM chart_profiles ORDER BY name")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, spec, enc) = row?;
            let spec = serde_json::from_str(&spec)
                .map_err(|e| Error::Invalid(format!("profile {name:?} is damaged ({e})")))?;
            out.push((name, spec, enc.as_deref().and_then(EncodingChoice::parse).unwrap_or_default()));
        }
        Ok(out)
    }
}

fn patient_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PatientRow> {
    let sex: Option<String> = r.get(2)?;
    Ok(PatientRow {
        id: r.get(0)?,
        research_id: r.get(1)?,
        sex: sex.as_deref().and_then(Sex::parse),
        birth_date: r.get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key as it was first made (with heap strings): keys already stored must still match.
    fn key_as_first_made(chart_no: &str, r: &Record) -> [u8; 16] {
        let mut h = blake3::Hasher::new();
        let opt = |d: &Option<String>| d.clone().unwrap_or_default();
        for part in [
            chart_no,
            r.kind.as_str(),
            &r.date.iso(),
            &r.end_date.map(|d| d.iso()).unwrap_or_default(),
            &r.text,
            &opt(&r.code),
            &opt(&r.specimen),
            &opt(&r.site),
            &opt(&r.dose),
        ] {
            h.update(part.as_bytes());
            h.update(&[0x1f]);
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(&h.finalize().as_bytes()[..16]);
        out
    }

    #[test]
    fn record_keys_are_unchanged() {
        let mut r = Record {
            kind: RecordKind::Prescription,
            date: Date::new(2003, 1, 20).unwrap(),
            end_date: Some(Date::new(2003, 2, 3).unwrap()),
            text: "ロキソプロフェン".into(),
            code: None,
            specimen: None,
            site: Some("背部".into()),
            dose: Some("60mg 3T".into()),
        };
        assert_eq!(record_key("12345", &r), key_as_first_made("12345", &r));
        r.end_date = None;
        r.date = Date { y: 1801, m: 12, d: 9 };
        assert_eq!(record_key("A1", &r), key_as_first_made("A1", &r));
        r.date = Date { y: 12345, m: 1, d: 1 };
        assert_eq!(record_key("A1", &r), key_as_first_made("A1", &r));
    }
}
