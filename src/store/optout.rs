//! The study's promises in the store: the opt-out registry (chart numbers of patients who
//! refused, or asked to suspend, the use of their data), the one gate every export, dataset,
//! model run and presentation must pass photos through, the audited export of the chart
//! number to research ID table, and the disclosure report for one patient.

use super::gate::Withheld;
use super::{Store, audit};
use crate::charts::chart_no;
use crate::error::{Error, Result};
use crate::util;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::collections::HashSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptOutKind {
    /// The patient refused the use of their data.
    Refused,
    /// The patient asked to suspend its use.
    Suspended,
}

impl OptOutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OptOutKind::Refused => "refused",
            OptOutKind::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<OptOutKind> {
        [OptOutKind::Refused, OptOutKind::Suspended].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct OptOutRow {
    pub chart_no: String,
    pub kind: OptOutKind,
    pub added_at: String,
    pub actor: String,
    pub note: String,
    /// The patient's research ID when the charts know the number.
    pub research_id: Option<String>,
}

/// The opted-out chart numbers, loaded once (see [`Store::optout_registry`]).
pub struct OptOutRegistry(Registry);

/// The opted-out numbers, loaded once per gate call.
struct Registry {
    numbers: HashSet<String>,
}

impl Registry {
    fn load(conn: &rusqlite::Connection) -> Result<Registry> {
        let mut stmt = conn.prepare_cached("SELECT chart_no FROM optouts")?;
        let numbers = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(Registry { numbers })
    }

    /// Whether a path holds an opted-out number: every digit run (fullwidth too, hyphen
    /// pieces and their joins) and every letters-and-digits token is tried.
    fn path_holds_one(&self, path: &str) -> bool {
        if chart_no::digit_runs(path).iter().any(|r| self.numbers.contains(r)) {
            return true;
        }
        path.split(|c: char| !chart_no::halfwidth(c).is_ascii_alphanumeric() && c != '-')
            .filter(|t| !t.is_empty())
            .filter_map(|t| chart_no::normalize(t).ok())
            .any(|t| self.numbers.contains(&t))
    }
}

fn normalize_all(numbers: &[String]) -> Result<Vec<String>> {
    numbers.iter().map(|n| chart_no::normalize(n)).collect()
}

impl Store {
    /// Adds chart numbers to the opt-out registry (normalised; audited one by one).
    /// Returns how many were new.
    pub fn add_optouts(&mut self, numbers: &[String], kind: OptOutKind, note: &str) -> Result<usize> {
        let numbers = normalize_all(numbers)?;
        let tx = self.conn.transaction()?;
        let mut added = 0;
        for n in &numbers {
            let changed = tx.execute(
                "INSERT INTO optouts (chart_no, kind, added_at, actor, note) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(chart_no) DO UPDATE SET kind = excluded.kind, note = excluded.note
                 WHERE kind <> excluded.kind OR note <> excluded.note",
                params![n, kind.as_str(), util::now_iso(), util::current_user(), note],
            )?;
            if changed > 0 {
                added += 1;
                audit(&tx, "optout_added", None, &format!("{} {n} {note}", kind.as_str()))?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// Takes chart numbers off the registry (audited). Returns how many were there.
    pub fn remove_optouts(&mut self, numbers: &[String], note: &str) -> Result<usize> {
        let numbers = normalize_all(numbers)?;
        let tx = self.conn.transaction()?;
        let mut removed = 0;
        for n in &numbers {
            if tx.execute("DELETE FROM optouts WHERE chart_no = ?1", [n])? > 0 {
                removed += 1;
                audit(&tx, "optout_removed", None, &format!("{n} {note}"))?;
            }
        }
        tx.commit()?;
        Ok(removed)
    }

    pub fn optouts(&self) -> Result<Vec<OptOutRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT o.chart_no, o.kind, o.added_at, o.actor, o.note, p.research_id
             FROM optouts o LEFT JOIN patients p ON p.chart_no = o.chart_no ORDER BY o.added_at, o.chart_no",
        )?;
        let rows = stmt.query_map([], |r| {
            let kind: String = r.get(1)?;
            Ok(OptOutRow {
                chart_no: r.get(0)?,
                kind: OptOutKind::parse(&kind).unwrap_or(OptOutKind::Refused),
                added_at: r.get(2)?,
                actor: r.get(3)?,
                note: r.get(4)?,
                research_id: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The opt-out half of the gate (see [`Store::release`]), for the photos given: those
    /// kept back, with why. A photo is kept back when it is linked to an opted-out patient,
    /// or when any of its paths (present or missing) holds an opted-out chart number in any
    /// spelling, whatever the linker concluded. Exports never call this alone.
    pub fn opted_out_among(&self, candidates: &[i64]) -> Result<Vec<(i64, Withheld)>> {
        let reg = self.optout_registry()?;
        let mut out = Vec::new();
        for &id in candidates {
            if let Some(why) = self.withheld(&reg, id)? {
                out.push((id, why));
            }
        }
        Ok(out)
    }

    /// The registry loaded once, for callers that check photos one at a time (`list`).
    pub fn optout_registry(&self) -> Result<OptOutRegistry> {
        Registry::load(&self.conn).map(OptOutRegistry)
    }

    /// Why the gate keeps this photo back, or None when it may leave.
    pub fn withheld(&self, reg: &OptOutRegistry, id: i64) -> Result<Option<Withheld>> {
        let reg = &reg.0;
        let found =
            self.conn.prepare_cached("SELECT 1 FROM photos WHERE id = ?1")?.query_row([id], |_| Ok(())).optional()?;
        if found.is_none() {
            return Ok(Some(Withheld::NoSuchPhoto));
        }
        if reg.numbers.is_empty() {
            return Ok(None);
        }
        let linked: Option<(Option<String>, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT l.chart_no, p.chart_no FROM photo_links l LEFT JOIN patients p ON p.id = l.patient_id
                 WHERE l.photo_id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((from_path, of_patient)) = linked
            && [from_path, of_patient].iter().flatten().any(|c| reg.numbers.contains(c))
        {
            return Ok(Some(Withheld::OptedOutPatient));
        }
        let mut stmt = self.conn.prepare_cached("SELECT path FROM locations WHERE photo_id = ?1")?;
        let mut rows = stmt.query([id])?;
        while let Some(r) = rows.next()? {
            let p: String = r.get(0)?;
            if reg.path_holds_one(&p) {
                return Ok(Some(Withheld::OptedOutNumberInPath));
            }
        }
        Ok(None)
    }

    /// Whether one photo is kept back by the opt-out gate.
    pub fn photo_opted_out(&self, photo_id: i64) -> Result<bool> {
        Ok(self.opted_out_among(&[photo_id])?.iter().any(|(_, w)| *w != Withheld::NoSuchPhoto))
    }

    /// The chart number to research ID table, for the one person allowed to re-identify
    /// (e.g. the study's data manager). An explicit action: audited with who and why.
    pub fn export_research_key_table(&mut self, why: &str) -> Result<Vec<(String, String)>> {
        if why.trim().is_empty() {
            return Err(Error::Invalid(
                "say why the chart-number table is exported (it re-identifies patients)".into(),
            ));
        }
        let tx = self.conn.transaction()?;
        let rows: Vec<(String, String)> = {
            let mut stmt = tx.prepare("SELECT chart_no, research_id FROM patients ORDER BY research_id")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
        };
        audit(&tx, "research_key_exported", None, &format!("{} patients: {}", rows.len(), why.trim()))?;
        tx.commit()?;
        Ok(rows)
    }

    /// Everything held about one chart number, for the patient's request (audited).
    pub fn disclosure(&mut self, chart: &str) -> Result<Disclosure> {
        let n = chart_no::normalize(chart)?;
        let patient = self.patient_by_chart_no(&n)?;
        let records = match &patient {
            Some(p) => self.patient_records(p.id)?,
            None => Vec::new(),
        };
        let mut photo_ids: Vec<i64> = {
            let mut stmt = self.conn.prepare(
                "SELECT l.photo_id FROM photo_links l LEFT JOIN patients p ON p.id = l.patient_id
                 WHERE l.chart_no = ?1 OR p.chart_no = ?1 ORDER BY l.photo_id",
            )?;
            stmt.query_map([&n], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        // Photos whose paths hold the number though no link says so.
        let reg = Registry { numbers: [n.clone()].into_iter().collect() };
        {
            let mut stmt = self.conn.prepare("SELECT photo_id, path FROM locations ORDER BY photo_id")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let path: String = r.get(1)?;
                if !photo_ids.contains(&id) && reg.path_holds_one(&path) {
                    photo_ids.push(id);
                }
            }
        }
        photo_ids.sort_unstable();
        let mut photos = Vec::new();
        for id in &photo_ids {
            let paths: Vec<String> =
                self.photo(*id)?.map(|d| d.locations.into_iter().map(|l| l.path).collect()).unwrap_or_default();
            photos.push(DisclosedPhoto { photo_id: *id, paths, link: self.link_of(*id)? });
        }
        let optout = self.optouts()?.into_iter().find(|o| o.chart_no == n);
        self.audit("disclosure_report", None, &format!("{n}: {} records, {} photos", records.len(), photos.len()))?;
        Ok(Disclosure { chart_no: n, patient, records, photos, optout })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct DisclosedPhoto {
    pub photo_id: i64,
    pub paths: Vec<String>,
    pub link: Option<super::LinkRow>,
}

/// What the department holds about one patient (the patient's own request).
#[derive(Clone, Debug, Serialize)]
pub struct Disclosure {
    pub chart_no: String,
    pub patient: Option<super::PatientRow>,
    pub records: Vec<super::ChartRecordRow>,
    pub photos: Vec<DisclosedPhoto>,
    pub optout: Option<OptOutRow>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::dates::Date;
    use crate::charts::records::{PatientFacts, Record, RecordKind, RowRecords};
    use crate::store::{ChartFormat, StandIn};

    fn stand_in(path: &str) -> StandIn {
        StandIn { path: path.into(), captured_at: None, captured_source: None, file_time: None }
    }

    /// A store with one charted patient (chart 4455667, visit 2010-01-05) and photos at
    /// the given paths.
    fn setup(paths: &[&str]) -> (tempfile::TempDir, Store, Vec<i64>) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("t.sqlite")).unwrap();
        let mut w = s.begin_chart_import().unwrap();
        w.start_file("x.csv", "h", ChartFormat::Csv, None).unwrap();
        let record = Record {
            kind: RecordKind::Visit,
            date: Date::new(2010, 1, 5).unwrap(),
            end_date: None,
            text: "湿疹".into(),
            code: None,
            specimen: None,
            site: None,
            dose: None,
        };
        w.add(2, &RowRecords { chart_no: "4455667".into(), facts: PatientFacts::default(), records: vec![record] })
            .unwrap();
        w.commit("test").unwrap();
        let rows: Vec<StandIn> = paths.iter().map(|p| stand_in(p)).collect();
        let ids = s.add_stand_in_photos("/archive", &rows).unwrap();
        (dir, s, ids)
    }

    #[test]
    fn the_gate_withholds_every_spelling_and_every_link() {
        let (_d, mut s, ids) = setup(&[
            "/archive/clean/IMG_0001.jpg",
            "/archive/４４５５６６７_20100105/IMG_0002.jpg", // never linked, fullwidth digits
            "/archive/misc/0044-55667 face.jpg",             // hyphenated, leading zeros, in a file name
            "/archive/misc/IMG_0004.jpg",                    // linked by a person only
            "/archive/AB1234/IMG_0005.jpg",                  // a lettered chart number
        ]);
        let free = |s: &Store| -> Vec<i64> {
            let out = s.opted_out_among(&ids).unwrap();
            ids.iter().copied().filter(|i| !out.iter().any(|(x, _)| x == i)).collect()
        };
        assert_eq!(free(&s), ids, "no opt-outs: everything may leave");
        assert_eq!(s.opted_out_among(&[999_999]).unwrap(), vec![(999_999, Withheld::NoSuchPhoto)]);

        s.fix_link(ids[3], "4455667", "2010-01-05").unwrap();
        s.add_optouts(&["００４４５５６６７".into(), "ab-1234".into()], OptOutKind::Refused, "").unwrap();
        assert_eq!(free(&s), vec![ids[0]]);
        let why: std::collections::HashMap<i64, Withheld> = s.opted_out_among(&ids).unwrap().into_iter().collect();
        assert_eq!(why[&ids[1]], Withheld::OptedOutNumberInPath);
        assert_eq!(why[&ids[2]], Withheld::OptedOutNumberInPath);
        assert_eq!(why[&ids[3]], Withheld::OptedOutPatient);
        assert_eq!(why[&ids[4]], Withheld::OptedOutNumberInPath);
        assert!(s.photo_opted_out(ids[3]).unwrap() && !s.photo_opted_out(ids[0]).unwrap());

        // Every change to the registry is in the audit log; removing frees the photos again.
        assert_eq!(s.remove_optouts(&["4455667".into(), "AB1234".into()], "withdrew").unwrap(), 2);
        assert_eq!(free(&s), ids);
        let actions: Vec<String> = s.audit_recent(10).unwrap().into_iter().map(|a| a.action).collect();
        assert_eq!(actions.iter().filter(|a| *a == "optout_added").count(), 2, "{actions:?}");
        assert_eq!(actions.iter().filter(|a| *a == "optout_removed").count(), 2, "{actions:?}");
    }

    #[test]
    fn the_key_table_needs_a_reason_and_is_audited() {
        let (_d, mut s, _) = setup(&[]);
        assert!(s.export_research_key_table("  ").is_err());
        let rows = s.export_research_key_table("data manager re-identification, ethics ref 2026-16").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "4455667");
        assert!(rows[0].1.starts_with('R') && rows[0].1.len() == 13);
        assert_eq!(s.audit_recent(1).unwrap()[0].action, "research_key_exported");
        // Research IDs are stable: the same number gets the same ID in a later import.
        let again = s.patient_by_chart_no("0044-55667").unwrap().unwrap();
        assert_eq!(again.research_id, rows[0].1);
    }
}
