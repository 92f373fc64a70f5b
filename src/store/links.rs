//! Photo links in the store: path rules, the linker's inputs and results, the queue, and a
//! person's confirm / fix / unlink (each audited, never undone by the next automatic run).

use super::{Store, audit};
use crate::charts::dates::Date;
use crate::charts::link::{DateSource, Decision, Encounters, LinkReason, LinkStatus, PhotoFacts};
use crate::charts::path_rules::PathRule;
use crate::error::{Error, Result};
use crate::util;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use std::collections::HashMap;

/// The setting that holds the link window in days.
const WINDOW_SETTING: &str = "link_window_days";
pub const DEFAULT_WINDOW_DAYS: i64 = 7;
/// How far from the visit a biopsy may be and still give the visit's pathology diagnosis.
pub const PATHOLOGY_WINDOW_DAYS: i64 = 30;

#[derive(Clone, Debug, Serialize)]
pub struct PathRuleRow {
    pub id: i64,
    pub position: i64,
    pub pattern: String,
    pub enabled: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisSource {
    Pathology,
    Chart,
}

impl DiagnosisSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosisSource::Pathology => "pathology",
            DiagnosisSource::Chart => "chart",
        }
    }

    pub fn parse(s: &str) -> Option<DiagnosisSource> {
        [DiagnosisSource::Pathology, DiagnosisSource::Chart].into_iter().find(|x| x.as_str() == s)
    }
}

/// A photo's diagnosis: the pathology diagnosis near the visit where there is one, else the
/// chart diagnosis of the visit. `code` is the record's own ICD-10 code when it had one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkedDiagnosis {
    pub text: String,
    pub code: Option<String>,
    pub source: DiagnosisSource,
}

/// One photo's link as stored. `chart_no` stays local (never printed by `list`).
#[derive(Clone, Debug, Serialize)]
pub struct LinkRow {
    pub photo_id: i64,
    #[serde(skip)]
    pub chart_no: Option<String>,
    pub patient_id: Option<i64>,
    pub research_id: Option<String>,
    pub visit_date: Option<String>,
    pub status: LinkStatus,
    pub reason: LinkReason,
    pub confidence: f64,
    pub photo_date: Option<String>,
    pub date_source: Option<DateSource>,
    pub rule: Option<String>,
    pub candidates: Vec<String>,
    pub diagnosis: Option<LinkedDiagnosis>,
    pub by_person: bool,
    pub updated_at: String,
}

const LINK_COLUMNS: &str = "l.photo_id, l.chart_no, l.patient_id, pt.research_id, l.visit_date, l.status, l.reason,
    l.confidence, l.photo_date, l.date_source, l.rule, l.candidates, l.dx_text, l.dx_code, l.dx_source, l.by_person,
    l.updated_at";

fn link_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LinkRow> {
    let status: String = r.get(5)?;
    let reason: String = r.get(6)?;
    let source: Option<String> = r.get(9)?;
    let cands: String = r.get(11)?;
    let dx_text: Option<String> = r.get(12)?;
    let dx_source: Option<String> = r.get(14)?;
    Ok(LinkRow {
        photo_id: r.get(0)?,
        chart_no: r.get(1)?,
        patient_id: r.get(2)?,
        research_id: r.get(3)?,
        visit_date: r.get(4)?,
        status: LinkStatus::parse(&status).unwrap_or(LinkStatus::Missing),
        reason: LinkReason::parse(&reason).unwrap_or(LinkReason::NoChartNumber),
        confidence: r.get(7)?,
        photo_date: r.get(8)?,
        date_source: source.as_deref().and_then(DateSource::parse),
        rule: r.get(10)?,
        candidates: serde_json::from_str(&cands).unwrap_or_default(),
        diagnosis: match (dx_text, dx_source.as_deref().and_then(DiagnosisSource::parse)) {
            (Some(text), Some(source)) => Some(LinkedDiagnosis { text, code: r.get(13)?, source }),
            _ => None,
        },
        by_person: r.get(15)?,
        updated_at: r.get(16)?,
    })
}

/// The diagnosis for a patient's visit (inside the caller's transaction or connection).
fn diagnosis_at(conn: &rusqlite::Connection, patient_id: i64, visit: &str) -> Result<Option<LinkedDiagnosis>> {
    let path: Option<(String, Option<String>)> = conn
        .prepare_cached(
            "SELECT text, code FROM chart_records
             WHERE patient_id = ?1 AND kind = 'pathology' AND text <> ''
               AND date BETWEEN date(?2, ?3) AND date(?2, ?4)
             ORDER BY abs(julianday(date) - julianday(?2)), id LIMIT 1",
        )?
        .query_row(
            params![
                patient_id,
                visit,
                format!("-{PATHOLOGY_WINDOW_DAYS} days"),
                format!("+{PATHOLOGY_WINDOW_DAYS} days")
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((text, code)) = path {
        return Ok(Some(LinkedDiagnosis { text, code, source: DiagnosisSource::Pathology }));
    }
    let chart: Option<(String, Option<String>)> = conn
        .prepare_cached(
            "SELECT text, code FROM chart_records
             WHERE patient_id = ?1 AND kind = 'visit' AND date = ?2 AND (text <> '' OR code IS NOT NULL)
             ORDER BY id LIMIT 1",
        )?
        .query_row(params![patient_id, visit], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(chart.map(|(text, code)| LinkedDiagnosis { text, code, source: DiagnosisSource::Chart }))
}

/// The facts the linker decides on (capture time and source, file time, every path), a page of
/// photos after `after_id`.
fn photo_facts_after(conn: &rusqlite::Connection, after_id: i64, limit: usize) -> Result<Vec<PhotoFacts>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, captured_at, captured_source, file_time FROM photos WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let mut photos: Vec<PhotoFacts> = stmt
        .query_map(params![after_id, limit as i64], |r| {
            Ok(PhotoFacts {
                id: r.get(0)?,
                captured_at: r.get(1)?,
                captured_source: r.get(2)?,
                file_time: r.get(3)?,
                paths: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let (Some(first), Some(last)) = (photos.first().map(|p| p.id), photos.last().map(|p| p.id)) else {
        return Ok(photos);
    };
    let index: HashMap<i64, usize> = photos.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    let mut stmt =
        conn.prepare_cached("SELECT photo_id, path FROM locations WHERE photo_id BETWEEN ?1 AND ?2 ORDER BY id")?;
    let mut rows = stmt.query(params![first, last])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if let Some(&i) = index.get(&id) {
            photos[i].paths.push(r.get(1)?);
        }
    }
    Ok(photos)
}

/// Writes one link run in one transaction.
pub struct LinkWriter<'a> {
    tx: Transaction<'a>,
    pub written: u64,
    pub kept_by_person: u64,
}

impl LinkWriter<'_> {
    /// The next page of photos after `after_id`, with all their paths (present or missing).
    pub fn photos_after(&self, after_id: i64, limit: usize) -> Result<Vec<PhotoFacts>> {
        photo_facts_after(&self.tx, after_id, limit)
    }

    /// Stores the linker's decision, unless a person has decided this photo already (then
    /// only its diagnosis is brought up to date with the charts, and false is returned).
    pub fn write(&mut self, d: &Decision) -> Result<bool> {
        let person: Option<(bool, Option<i64>, Option<String>)> = self
            .tx
            .prepare_cached("SELECT by_person, patient_id, visit_date FROM photo_links WHERE photo_id = ?1")?
            .query_row([d.photo_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        if let Some((true, pid, visit)) = person {
            self.kept_by_person += 1;
            let dx = match (pid, visit) {
                (Some(pid), Some(v)) => diagnosis_at(&self.tx, pid, &v)?,
                _ => None,
            };
            set_diagnosis(&self.tx, d.photo_id, dx.as_ref())?;
            return Ok(false);
        }
        let dx = match (d.patient_id, d.visit, d.status.is_linked()) {
            (Some(pid), Some(v), true) => diagnosis_at(&self.tx, pid, &v.iso())?,
            _ => None,
        };
        let cands: Vec<String> = d.candidates.iter().map(Date::iso).collect();
        self.tx
            .prepare_cached(
                "INSERT INTO photo_links (photo_id, chart_no, patient_id, visit_date, status, reason, confidence,
                    photo_date, date_source, rule, candidates, dx_text, dx_code, dx_source, by_person, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 0, ?15)
                 ON CONFLICT(photo_id) DO UPDATE SET chart_no = excluded.chart_no, patient_id = excluded.patient_id,
                    visit_date = excluded.visit_date, status = excluded.status, reason = excluded.reason,
                    confidence = excluded.confidence, photo_date = excluded.photo_date,
                    date_source = excluded.date_source, rule = excluded.rule, candidates = excluded.candidates,
                    dx_text = excluded.dx_text, dx_code = excluded.dx_code, dx_source = excluded.dx_source,
                    updated_at = excluded.updated_at",
            )?
            .execute(params![
                d.photo_id,
                d.chart_no,
                d.patient_id,
                d.visit.map(|v| v.iso()),
                d.status.as_str(),
                d.reason.as_str(),
                d.confidence,
                d.photo_date.map(|v| v.iso()),
                d.date_source.map(DateSource::as_str),
                d.rule,
                serde_json::to_string(&cands).unwrap_or_else(|_| "[]".into()),
                dx.as_ref().map(|x| x.text.clone()),
                dx.as_ref().and_then(|x| x.code.clone()),
                dx.as_ref().map(|x| x.source.as_str()),
                util::now_iso(),
            ])?;
        self.written += 1;
        Ok(true)
    }

    pub fn commit(self, summary: &str) -> Result<()> {
        audit(&self.tx, "link_run", None, summary)?;
        self.tx.commit()?;
        Ok(())
    }
}

fn set_diagnosis(tx: &rusqlite::Connection, photo_id: i64, dx: Option<&LinkedDiagnosis>) -> Result<()> {
    tx.prepare_cached("UPDATE photo_links SET dx_text = ?2, dx_code = ?3, dx_source = ?4 WHERE photo_id = ?1")?
        .execute(params![
            photo_id,
            dx.map(|x| x.text.clone()),
            dx.and_then(|x| x.code.clone()),
            dx.map(|x| x.source.as_str())
        ])?;
    Ok(())
}

/// A candidate visit shown beside a queued photo: the day and what the chart says on it.
#[derive(Clone, Debug, Serialize)]
pub struct CandidateVisit {
    pub date: String,
    pub records: Vec<super::ChartRecordRow>,
}

impl Store {
    pub fn path_rules(&self) -> Result<Vec<PathRuleRow>> {
        let mut stmt =
            self.conn.prepare("SELECT id, position, pattern, enabled FROM path_rules ORDER BY position, id")?;
        let rows = stmt.query_map([], |r| {
            Ok(PathRuleRow { id: r.get(0)?, position: r.get(1)?, pattern: r.get(2)?, enabled: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The enabled path rules, compiled, in order.
    pub fn compiled_path_rules(&self) -> Result<Vec<PathRule>> {
        self.path_rules()?.into_iter().filter(|r| r.enabled).map(|r| PathRule::new(r.id, &r.pattern)).collect()
    }

    /// Adds a rule after the others (checked first); audited.
    pub fn add_path_rule(&mut self, pattern: &str) -> Result<i64> {
        PathRule::new(0, pattern)?;
        let tx = self.conn.transaction()?;
        let exists: Option<i64> =
            tx.query_row("SELECT id FROM path_rules WHERE pattern = ?1", [pattern], |r| r.get(0)).optional()?;
        if exists.is_some() {
            return Err(Error::Invalid(format!("that path rule is there already: {pattern}")));
        }
        tx.execute(
            "INSERT INTO path_rules (position, pattern) VALUES ((SELECT coalesce(max(position), 0) + 1 FROM path_rules), ?1)",
            [pattern],
        )?;
        let id = tx.last_insert_rowid();
        audit(&tx, "path_rule_added", None, pattern)?;
        tx.commit()?;
        Ok(id)
    }

    pub fn remove_path_rule(&mut self, id: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        let pattern: Option<String> =
            tx.query_row("SELECT pattern FROM path_rules WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        let pattern = pattern.ok_or_else(|| Error::Invalid(format!("no path rule with id {id}")))?;
        tx.execute("DELETE FROM path_rules WHERE id = ?1", [id])?;
        audit(&tx, "path_rule_removed", None, &pattern)?;
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` paths of photos in the store (for previewing a rule on real paths).
    pub fn sample_paths(&self, limit: usize) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT path FROM locations ORDER BY id LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn link_window_days(&self) -> Result<i64> {
        Ok(self.setting(WINDOW_SETTING)?.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_WINDOW_DAYS))
    }

    pub fn set_link_window_days(&mut self, days: i64) -> Result<()> {
        if !(0..=365).contains(&days) {
            return Err(Error::Invalid(format!("the link window must be 0 to 365 days, not {days}")));
        }
        self.set_setting(WINDOW_SETTING, &days.to_string())
    }

    /// Every patient's encounter days (visits, biopsies, treatments), by chart number.
    pub fn encounters(&self) -> Result<HashMap<String, Encounters>> {
        let mut stmt = self.conn.prepare(
            "SELECT p.chart_no, p.id, r.date FROM patients p JOIN chart_records r ON r.patient_id = p.id
             WHERE r.kind IN ('visit','pathology','treatment') GROUP BY p.id, r.date ORDER BY p.id, r.date",
        )?;
        let mut out: HashMap<String, Encounters> = HashMap::new();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let chart: String = r.get(0)?;
            let date: String = r.get(2)?;
            let Some(d) = Date::from_iso(&date) else { continue };
            let e = out.entry(chart).or_insert_with(|| Encounters { patient_id: 0, days: Vec::new() });
            e.patient_id = r.get(1)?;
            e.days.push(d.days());
        }
        // Patients with no encounter still exist (a prescription-only chart): known, no visits.
        let mut stmt = self.conn.prepare("SELECT chart_no, id FROM patients")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let chart: String = r.get(0)?;
            let id: i64 = r.get(1)?;
            out.entry(chart).or_insert(Encounters { patient_id: id, days: Vec::new() });
        }
        Ok(out)
    }

    pub fn begin_link_run(&mut self) -> Result<LinkWriter<'_>> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        Ok(LinkWriter { tx, written: 0, kept_by_person: 0 })
    }

    pub fn link_of(&self, photo_id: i64) -> Result<Option<LinkRow>> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM photo_links l LEFT JOIN patients pt ON pt.id = l.patient_id WHERE l.photo_id = ?1"
        );
        Ok(self.conn.prepare_cached(&sql)?.query_row([photo_id], link_row).optional()?)
    }

    /// Links waiting for a person: ambiguous first, then missing ones that have a chart number
    /// (photos with no chart number at all are counted, not listed).
    pub fn link_queue(&self, limit: usize) -> Result<Vec<LinkRow>> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM photo_links l LEFT JOIN patients pt ON pt.id = l.patient_id
             WHERE l.status = 'ambiguous' OR (l.status = 'missing' AND l.reason <> 'no_chart_number')
             ORDER BY l.status = 'missing', l.photo_id LIMIT ?1"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([limit as i64], link_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The photos linked (by the linker or a person) to a patient.
    pub fn linked_photos_of_patient(&self, patient_id: i64) -> Result<Vec<LinkRow>> {
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM photo_links l LEFT JOIN patients pt ON pt.id = l.patient_id
             WHERE l.patient_id = ?1 AND l.status IN ('linked','confirmed') ORDER BY l.visit_date, l.photo_id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([patient_id], link_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Links per status and reason.
    pub fn link_counts(&self) -> Result<std::collections::BTreeMap<String, u64>> {
        let mut stmt = self.conn.prepare("SELECT status || ':' || reason, count(*) FROM photo_links GROUP BY 1")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The chart rows of a patient around a day (the link panel shows them beside the photo).
    pub fn visits_near(&self, patient_id: i64, day: &str, days: i64) -> Result<Vec<CandidateVisit>> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT date FROM chart_records WHERE patient_id = ?1
             AND kind IN ('visit','pathology','treatment') AND date BETWEEN date(?2, ?3) AND date(?2, ?4) ORDER BY date",
        )?;
        let dates: Vec<String> = stmt
            .query_map(params![patient_id, day, format!("-{days} days"), format!("+{days} days")], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let all = self.patient_records(patient_id)?;
        Ok(dates
            .into_iter()
            .map(|d| CandidateVisit { records: all.iter().filter(|r| r.date == d).cloned().collect(), date: d })
            .collect())
    }

    /// A person confirms the photo belongs to this patient's visit (by default the one
    /// suggested). Audited; the linker leaves it alone from then on.
    pub fn confirm_link(&mut self, photo_id: i64, visit: Option<&str>) -> Result<LinkRow> {
        let cur = self
            .link_of(photo_id)?
            .ok_or_else(|| Error::Invalid(format!("photo {photo_id} has not been linked yet (run link first)")))?;
        let pid = cur.patient_id.ok_or_else(|| {
            Error::Invalid(format!(
                "photo {photo_id} has no patient to confirm ({}); fix it with a chart number",
                cur.reason.as_str()
            ))
        })?;
        let visit = match visit {
            Some(v) => Some(
                Date::from_iso(v).ok_or_else(|| Error::Invalid(format!("not a date (use YYYY-MM-DD): {v}")))?.iso(),
            ),
            None => cur.visit_date.clone().or_else(|| (cur.candidates.len() == 1).then(|| cur.candidates[0].clone())),
        };
        let visit = visit.ok_or_else(|| {
            Error::Invalid(format!("photo {photo_id}: say which visit (candidates: {})", cur.candidates.join(", ")))
        })?;
        self.set_person_link(photo_id, cur.chart_no.as_deref(), Some(pid), Some(&visit), "link_confirmed")
    }

    /// A person links the photo to another patient (by chart number) and visit. Audited.
    pub fn fix_link(&mut self, photo_id: i64, chart_no: &str, visit: &str) -> Result<LinkRow> {
        let chart = crate::charts::chart_no::normalize(chart_no)?;
        let day =
            Date::from_iso(visit).ok_or_else(|| Error::Invalid(format!("not a date (use YYYY-MM-DD): {visit}")))?;
        let pid: Option<i64> =
            self.conn.query_row("SELECT id FROM patients WHERE chart_no = ?1", [&chart], |r| r.get(0)).optional()?;
        let pid =
            pid.ok_or_else(|| Error::Invalid("no patient with that chart number in the imported charts".into()))?;
        self.set_person_link(photo_id, Some(&chart), Some(pid), Some(&day.iso()), "link_fixed")
    }

    /// A person says the photo belongs to no patient. Audited.
    pub fn unlink(&mut self, photo_id: i64) -> Result<LinkRow> {
        let cur = self.link_of(photo_id)?;
        self.set_person_link(photo_id, cur.and_then(|c| c.chart_no).as_deref(), None, None, "link_unlinked")
    }

    fn set_person_link(
        &mut self,
        photo_id: i64,
        chart_no: Option<&str>,
        patient_id: Option<i64>,
        visit: Option<&str>,
        action: &str,
    ) -> Result<LinkRow> {
        let before = self.link_of(photo_id)?;
        let tx = self.conn.transaction()?;
        let exists: Option<i64> =
            tx.query_row("SELECT id FROM photos WHERE id = ?1", [photo_id], |r| r.get(0)).optional()?;
        if exists.is_none() {
            return Err(Error::Invalid(format!("no photo with id {photo_id}")));
        }
        let dx = match (patient_id, visit) {
            (Some(p), Some(v)) => diagnosis_at(&tx, p, v)?,
            _ => None,
        };
        let (status, reason, confidence) = match patient_id {
            Some(_) => (LinkStatus::Confirmed, LinkReason::Person, 1.0),
            None => (LinkStatus::Unlinked, LinkReason::Person, 1.0),
        };
        tx.execute(
            "INSERT INTO photo_links (photo_id, chart_no, patient_id, visit_date, status, reason, confidence, by_person, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8)
             ON CONFLICT(photo_id) DO UPDATE SET chart_no = coalesce(excluded.chart_no, chart_no),
                patient_id = excluded.patient_id, visit_date = excluded.visit_date, status = excluded.status,
                reason = excluded.reason, confidence = excluded.confidence, by_person = 1, updated_at = excluded.updated_at",
            params![photo_id, chart_no, patient_id, visit, status.as_str(), reason.as_str(), confidence, util::now_iso()],
        )?;
        set_diagnosis(&tx, photo_id, dx.as_ref())?;
        let rid = |pid: Option<i64>| -> Result<String> {
            Ok(match pid {
                Some(p) => tx.query_row("SELECT research_id FROM patients WHERE id = ?1", [p], |r| r.get(0))?,
                None => "-".into(),
            })
        };
        let was = before.as_ref().map(|b| {
            format!(
                "{} {} {}",
                b.status.as_str(),
                b.research_id.as_deref().unwrap_or("-"),
                b.visit_date.as_deref().unwrap_or("-")
            )
        });
        let detail = format!(
            "{} -> {} {} {}",
            was.unwrap_or_else(|| "none".into()),
            status.as_str(),
            rid(patient_id)?,
            visit.unwrap_or("-")
        );
        audit(&tx, action, Some(photo_id), &detail)?;
        tx.commit()?;
        self.link_of(photo_id)?.ok_or_else(|| Error::Invalid(format!("photo {photo_id}: the link was not stored")))
    }
}

impl Store {
    /// Every photo's linking facts, read without starting a link run (for small archives such
    /// as the demo; the linker itself reads pages).
    pub fn link_facts(&self) -> Result<Vec<PhotoFacts>> {
        let mut out = Vec::new();
        loop {
            let page = photo_facts_after(&self.conn, out.last().map_or(0, |p: &PhotoFacts| p.id), 10_000)?;
            if page.is_empty() {
                return Ok(out);
            }
            out.extend(page);
        }
    }
}
