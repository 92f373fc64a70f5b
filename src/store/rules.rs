//! Modality rules and VISIA frame sizes: the rule editor's list, and re-deciding the
//! modality of photos not set by hand when the rules change.

use super::{Store, audit};
use crate::error::{Error, Result};
use crate::modality::{Cues, Modality, ModalitySource, Rule, classify, format_sizes, match_rules};
use rusqlite::params;

const VISIA_KEY: &str = "modality.visia_sizes";

impl Store {
    pub fn rules(&self) -> Result<Vec<Rule>> {
        let mut stmt =
            self.conn.prepare("SELECT id, pattern, modality, enabled FROM modality_rules ORDER BY position, id")?;
        let rows = stmt.query_map([], |r| {
            let m: String = r.get(2)?;
            Ok(Rule {
                id: r.get(0)?,
                pattern: r.get(1)?,
                modality: Modality::parse(&m).unwrap_or(Modality::Other),
                enabled: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Replaces the rule list (the rule editor saves the whole list at once). Audited.
    pub fn set_rules(&mut self, rules: &[Rule]) -> Result<()> {
        for r in rules {
            if r.pattern.trim().is_empty() {
                return Err(Error::Invalid("a modality rule needs a pattern".into()));
            }
        }
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM modality_rules", [])?;
        for (i, r) in rules.iter().enumerate() {
            tx.execute(
                "INSERT INTO modality_rules (position, pattern, modality, enabled) VALUES (?1, ?2, ?3, ?4)",
                params![i as i64 + 1, r.pattern.trim(), r.modality.as_str(), r.enabled],
            )?;
        }
        let summary: Vec<String> = rules
            .iter()
            .map(|r| format!("{}{} -> {}", if r.enabled { "" } else { "(off) " }, r.pattern, r.modality.as_str()))
            .collect();
        audit(&tx, "set_modality_rules", None, &summary.join("; "))?;
        tx.commit()?;
        Ok(())
    }
}

impl Store {
    /// The VISIA system's frame sizes, as the department set them (empty until then).
    pub fn visia_sizes(&self) -> Result<Vec<(u32, u32)>> {
        Ok(self.setting(VISIA_KEY)?.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
    }

    pub fn set_visia_sizes(&mut self, sizes: &[(u32, u32)]) -> Result<()> {
        let json = serde_json::to_string(sizes).map_err(|e| Error::Invalid(e.to_string()))?;
        self.set_setting(VISIA_KEY, &json)?;
        self.audit("set_visia_sizes", None, &format_sizes(sizes))
    }

    /// Decides again the modality of every photo not set by hand, from the current rules and
    /// the stored cues (after the rules changed). Returns how many photos changed; each
    /// change is audited.
    pub fn reapply_modality(&mut self) -> Result<usize> {
        let rules = self.rules()?;
        let visia = self.visia_sizes()?;
        let tx = self.conn.transaction()?;
        // (id, modality, source, cues JSON, width, height, first path)
        type Row = (i64, String, String, Option<String>, u32, u32, Option<String>);
        let rows: Vec<Row> = {
            let mut stmt = tx.prepare(concat!(
                "SELECT p.id, p.modality, p.modality_source, p.cues, p.width, p.height, ",
                super::first_path!(),
                " FROM photos p WHERE p.modality_source != 'person'"
            ))?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut changed = 0;
        for (id, old, old_source, cues, w, h, path) in rows {
            let rule = path.as_deref().and_then(|p| match_rules(&rules, std::path::Path::new(p)));
            let (m, source, detail) = match rule {
                Some(r) => (r.modality, ModalitySource::Rule, r.pattern.clone()),
                None => {
                    let c: Cues = cues.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default();
                    let (m, why) = classify(&c, w, h, &visia);
                    (m, ModalitySource::Cue, why)
                }
            };
            if m.as_str() != old || source.as_str() != old_source {
                tx.execute(
                    "UPDATE photos SET modality = ?2, modality_source = ?3, modality_detail = ?4 WHERE id = ?1",
                    params![id, m.as_str(), source.as_str(), detail],
                )?;
                audit(
                    &tx,
                    "reapply_modality",
                    Some(id),
                    &format!("{old} ({old_source}) -> {} ({})", m.as_str(), source.as_str()),
                )?;
                changed += 1;
            }
        }
        tx.commit()?;
        Ok(changed)
    }
}
