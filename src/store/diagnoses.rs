//! Diagnosis data in the store: the editable synonym table and the raw counts that
//! `charts::stats` maps through the taxonomy.

use super::{Store, audit};
use crate::error::{Error, Result};
use crate::taxonomy::{Taxonomy, normalize_code, normalize_text};
use crate::util;
use rusqlite::params;
use std::collections::HashMap;

/// One linked photo with one of its diagnoses (a visit with two diagnoses gives two rows).
#[derive(Clone, Debug, PartialEq)]
pub struct DiagnosisPhotoCount {
    pub photo_id: i64,
    pub text: String,
    pub code: Option<String>,
    pub modality: String,
}

impl Store {
    /// The synonym table: normalised text to code.
    pub fn diagnosis_synonyms(&self) -> Result<HashMap<String, String>> {
        let mut stmt = self.conn.prepare("SELECT text, code FROM diagnosis_synonyms")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Maps a free text to a code (the code must be in the taxonomy). Audited.
    pub fn set_diagnosis_synonym(&mut self, text: &str, code: &str) -> Result<()> {
        let key = normalize_text(text);
        if key.is_empty() {
            return Err(Error::Invalid("a synonym needs a text".into()));
        }
        let code = normalize_code(code);
        let entry = Taxonomy::get().entry(&code).ok_or_else(|| {
            Error::Invalid(format!("{code} is not in the taxonomy (ICD-10 chapter XII and skin neoplasms)"))
        })?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO diagnosis_synonyms (text, code, added_by, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(text) DO UPDATE SET code = excluded.code, added_by = excluded.added_by, updated_at = excluded.updated_at",
            params![key, entry.code, util::current_user(), util::now_iso()],
        )?;
        audit(&tx, "synonym_set", None, &format!("{key} = {}", entry.code))?;
        tx.commit()?;
        Ok(())
    }

    pub fn remove_diagnosis_synonym(&mut self, text: &str) -> Result<bool> {
        let key = normalize_text(text);
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM diagnosis_synonyms WHERE text = ?1", [&key])?;
        if n > 0 {
            audit(&tx, "synonym_removed", None, &key)?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// Linked photos with their pathology diagnosis (the reference label) and modality, visits in
    /// [from, to). The caller passes them through the opt-out gate before counting.
    pub fn pathology_photo_counts(&self, from: &str, to: &str) -> Result<Vec<DiagnosisPhotoCount>> {
        let sql =
            "SELECT l.photo_id, l.dx_text, l.dx_code, p.modality FROM photo_links l JOIN photos p ON p.id = l.photo_id
             WHERE l.status IN ('linked','confirmed') AND l.dx_source = 'pathology'
               AND l.visit_date >= ?1 AND l.visit_date < ?2";
        self.dx_counts(sql, from, to)
    }

    /// Linked photos with each chart diagnosis of their visit and their modality, visits in
    /// [from, to). The caller passes them through the opt-out gate before counting.
    pub fn chart_photo_counts(&self, from: &str, to: &str) -> Result<Vec<DiagnosisPhotoCount>> {
        let sql = "SELECT DISTINCT l.photo_id, r.text, r.code, p.modality
             FROM photo_links l JOIN photos p ON p.id = l.photo_id
             JOIN chart_records r ON r.patient_id = l.patient_id AND r.kind = 'visit' AND r.date = l.visit_date
             WHERE l.status IN ('linked','confirmed') AND (r.text <> '' OR r.code IS NOT NULL)
               AND l.visit_date >= ?1 AND l.visit_date < ?2";
        self.dx_counts(sql, from, to)
    }

    fn dx_counts(&self, sql: &str, from: &str, to: &str) -> Result<Vec<DiagnosisPhotoCount>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(params![from, to], |r| {
            Ok(DiagnosisPhotoCount { photo_id: r.get(0)?, text: r.get(1)?, code: r.get(2)?, modality: r.get(3)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every distinct diagnosis text of the charts (visits and pathology) in [from, to) (to exclusive), with
    /// its code and how many records carry it: the curation list starts here.
    pub fn chart_diagnosis_texts(&self, from: &str, to: &str) -> Result<Vec<(String, Option<String>, u64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT text, code, count(*) FROM chart_records
             WHERE kind IN ('visit','pathology') AND text <> '' AND date >= ?1 AND date < ?2
             GROUP BY text, code ORDER BY count(*) DESC",
        )?;
        let rows = stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
