//! Modality rules and VISIA frame sizes: the rule editor's list, and re-deciding the
//! modality of photos not set by hand when the rules change.

use super::{Store, audit};
use crate::error::{Error, Result};
use crate::modality::{Modality, Rule, format_sizes};
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
}
