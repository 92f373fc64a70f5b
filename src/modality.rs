//! Modality: clinical photo, dermoscopy, VISIA, histopathology or other.
//!
//! Decided in this order: a person's choice (never overridden), then the first enabled
//! folder-name rule that matches, then image cues measured at import. The source is stored
//! with the modality, so the browser can tell a guess from a decision.

use crate::error::{Error, Result};
use crate::store::Store;
use rusqlite::params;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Clinical,
    Dermoscopy,
    Visia,
    Histopathology,
    Other,
}

impl Modality {
    pub const ALL: [Modality; 5] =
        [Modality::Clinical, Modality::Dermoscopy, Modality::Visia, Modality::Histopathology, Modality::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Clinical => "clinical",
            Modality::Dermoscopy => "dermoscopy",
            Modality::Visia => "visia",
            Modality::Histopathology => "histopathology",
            Modality::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Modality> {
        Modality::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModalitySource {
    Rule,
    Cue,
    Person,
}

impl ModalitySource {
    pub fn as_str(self) -> &'static str {
        match self {
            ModalitySource::Rule => "rule",
            ModalitySource::Cue => "cue",
            ModalitySource::Person => "person",
        }
    }

    pub fn parse(s: &str) -> Option<ModalitySource> {
        [ModalitySource::Rule, ModalitySource::Cue, ModalitySource::Person].into_iter().find(|m| m.as_str() == s)
    }
}

/// A folder-name pattern: `*` matches any run of characters, case is ignored. It is tried
/// against each folder name on the file's path (not the file name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: i64,
    pub pattern: String,
    pub modality: Modality,
    pub enabled: bool,
}

pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Iterative wildcard match with backtracking to the last star: linear in practice.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The first enabled rule matching a folder on `path`, if any.
pub fn match_rules<'a>(rules: &'a [Rule], path: &std::path::Path) -> Option<&'a Rule> {
    let folders: Vec<String> = path
        .parent()
        .map(|p| p.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    rules.iter().filter(|r| r.enabled).find(|r| folders.iter().any(|f| glob_match(&r.pattern, f)))
}

impl Store {
    pub fn rules(&self) -> Result<Vec<Rule>> {
        let mut stmt =
            self.conn().prepare("SELECT id, pattern, modality, enabled FROM modality_rules ORDER BY position, id")?;
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
        let tx = self.conn_mut().transaction()?;
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
        crate::store::audit(&tx, "set_modality_rules", None, &summary.join("; "))?;
        tx.commit()?;
        Ok(())
    }
}

const VISIA_KEY: &str = "modality.visia_sizes";

/// Parses `3456x5184, 2592x3888` into sizes.
pub fn parse_sizes(text: &str) -> Result<Vec<(u32, u32)>> {
    text.split([',', ';', ' '])
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            let (a, b) =
                t.trim().split_once(['x', 'X', '×']).ok_or_else(|| Error::Invalid(format!("not a size WxH: {t}")))?;
            let parse = |v: &str| v.trim().parse::<u32>().ok().filter(|n| *n > 0);
            match (parse(a), parse(b)) {
                (Some(w), Some(h)) => Ok((w, h)),
                _ => Err(Error::Invalid(format!("not a size WxH: {t}"))),
            }
        })
        .collect()
}

pub fn format_sizes(sizes: &[(u32, u32)]) -> String {
    sizes.iter().map(|(w, h)| format!("{w}x{h}")).collect::<Vec<_>>().join(", ")
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
        let tx = self.conn_mut().transaction()?;
        // (id, modality, source, cues JSON, width, height, first path)
        type Row = (i64, String, String, Option<String>, u32, u32, Option<String>);
        let rows: Vec<Row> = {
            let mut stmt = tx.prepare(concat!(
                "SELECT p.id, p.modality, p.modality_source, p.cues, p.width, p.height, ",
                crate::store::first_path!(),
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
                crate::store::audit(
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

pub use crate::archive::cues::{Cues, classify};

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn globs() {
        assert!(glob_match("*dermoscop*", "2012_Dermoscopy_A"));
        assert!(glob_match("*ダーモ*", "ダーモスコピー"));
        assert!(glob_match("visia", "VISIA"));
        assert!(!glob_match("visia", "visia2"));
        assert!(glob_match("*a*b*c", "xaxxbxxc"));
        assert!(!glob_match("*a*b*c", "xaxxbxxcx"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_sizes("3456x5184, 2592×3888").unwrap(), vec![(3456, 5184), (2592, 3888)]);
        assert_eq!(parse_sizes("").unwrap(), vec![]);
        assert!(parse_sizes("3456 by 5184").is_err());
        assert!(parse_sizes("0x5").is_err());
    }

    #[test]
    fn rules_look_at_folders_not_file_names() {
        let rules = vec![
            Rule { id: 1, pattern: "*derm*".into(), modality: Modality::Dermoscopy, enabled: false },
            Rule { id: 2, pattern: "*病理*".into(), modality: Modality::Histopathology, enabled: true },
            Rule { id: 3, pattern: "*clinic*".into(), modality: Modality::Clinical, enabled: true },
        ];
        assert_eq!(match_rules(&rules, Path::new("/arc/病理/2010/a.jpg")).map(|r| r.id), Some(2));
        assert_eq!(match_rules(&rules, Path::new("/arc/derm/a.jpg")), None, "disabled rule");
        assert_eq!(match_rules(&rules, Path::new("/arc/x/clinic.jpg")), None, "file name is not a folder");
    }
}
