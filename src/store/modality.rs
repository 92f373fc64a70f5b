//! Changing photos' modality: by hand, back to automatic, undone, or re-decided for every
//! photo not set by hand after the rules changed. Every change is audited with its old value.

use super::{Store, audit};
use crate::error::{Error, Result};
use crate::modality::model::Version;
use crate::modality::{Cues, Modality, ModalitySource, ModelGuess, decide};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

/// A photo's modality before a change: what undo puts back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorModality {
    pub id: i64,
    pub modality: Modality,
    pub source: ModalitySource,
    pub detail: Option<String>,
}

/// What is needed to decide a photo's modality automatically.
struct Facts {
    prior: PriorModality,
    cues: Cues,
    width: u32,
    height: u32,
    path: Option<String>,
}

fn facts(tx: &Transaction<'_>, id: i64) -> Result<Facts> {
    let found = tx
        .prepare_cached(concat!(
            "SELECT p.modality, p.modality_source, p.modality_detail, p.cues, p.width, p.height, ",
            super::first_path!(),
            " FROM photos p WHERE p.id = ?1"
        ))?
        .query_row([id], |r| {
            let (m, s): (String, String) = (r.get(0)?, r.get(1)?);
            let cues: Option<String> = r.get(3)?;
            Ok(Facts {
                prior: PriorModality {
                    id,
                    modality: Modality::parse(&m).unwrap_or(Modality::Other),
                    source: ModalitySource::parse(&s).unwrap_or(ModalitySource::Cue),
                    detail: r.get(2)?,
                },
                cues: cues.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default(),
                width: r.get(4)?,
                height: r.get(5)?,
                path: r.get(6)?,
            })
        })
        .optional()?;
    found.ok_or_else(|| Error::Invalid(format!("no photo with id {id}")))
}

fn write(tx: &Transaction<'_>, action: &str, from: &PriorModality, to: &PriorModality) -> Result<()> {
    tx.prepare_cached("UPDATE photos SET modality = ?2, modality_source = ?3, modality_detail = ?4 WHERE id = ?1")?
        .execute(params![to.id, to.modality.as_str(), to.source.as_str(), to.detail])?;
    audit(
        tx,
        action,
        Some(to.id),
        &format!(
            "{} ({}) -> {} ({})",
            from.modality.as_str(),
            from.source.as_str(),
            to.modality.as_str(),
            to.source.as_str()
        ),
    )
}

impl Store {
    /// Sets the modality of photos by hand. Returns what they were (for undo).
    pub fn set_modality(&mut self, ids: &[i64], modality: Modality) -> Result<Vec<PriorModality>> {
        let who = crate::util::current_user();
        let tx = self.conn.transaction()?;
        let mut prior = Vec::with_capacity(ids.len());
        for &id in ids {
            let f = facts(&tx, id)?;
            let to = PriorModality { id, modality, source: ModalitySource::Person, detail: Some(who.clone()) };
            write(&tx, "set_modality", &f.prior, &to)?;
            prior.push(f.prior);
        }
        tx.commit()?;
        Ok(prior)
    }

    /// Gives photos set by hand their automatic modality back (folder rules, then cues).
    pub fn reset_modality(&mut self, ids: &[i64]) -> Result<Vec<PriorModality>> {
        let rules = self.rules()?;
        let visia = self.visia_sizes()?;
        let tx = self.conn.transaction()?;
        let mut prior = Vec::with_capacity(ids.len());
        for &id in ids {
            let f = facts(&tx, id)?;
            let (modality, source, detail) =
                decide(&rules, &visia, f.path.as_deref().map(std::path::Path::new), &f.cues, f.width, f.height);
            let to = PriorModality { id, modality, source, detail: Some(detail) };
            write(&tx, "reset_modality", &f.prior, &to)?;
            prior.push(f.prior);
        }
        tx.commit()?;
        Ok(prior)
    }

    /// Puts modalities back as they were before a change (undo). Returns what they were
    /// just before (so that the undo itself could be undone).
    pub fn restore_modality(&mut self, before: &[PriorModality]) -> Result<Vec<PriorModality>> {
        let tx = self.conn.transaction()?;
        let mut prior = Vec::with_capacity(before.len());
        for to in before {
            let f = facts(&tx, to.id)?;
            write(&tx, "undo_modality", &f.prior, to)?;
            prior.push(f.prior);
        }
        tx.commit()?;
        Ok(prior)
    }

    /// Decides again the modality of every photo not set by hand, from the current rules and
    /// the stored cues (after the rules changed). A page of photos per transaction, so that
    /// a million photos neither fill memory nor hold the write lock for long. Returns how
    /// many photos changed.
    pub fn reapply_modality(&mut self) -> Result<usize> {
        let rules = self.rules()?;
        let visia = self.visia_sizes()?;
        let mut changed = 0;
        let mut last = 0i64;
        loop {
            let tx = self.conn.transaction()?;
            let ids: Vec<i64> = tx
                .prepare_cached(
                    "SELECT id FROM photos WHERE id > ?1 AND modality_source != 'person' ORDER BY id LIMIT ?2",
                )?
                .query_map(params![last, super::photos::PAGE], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for &id in &ids {
                let f = facts(&tx, id)?;
                let (modality, source, detail) =
                    decide(&rules, &visia, f.path.as_deref().map(std::path::Path::new), &f.cues, f.width, f.height);
                if modality != f.prior.modality || source != f.prior.source {
                    let to = PriorModality { id, modality, source, detail: Some(detail) };
                    write(&tx, "reapply_modality", &f.prior, &to)?;
                    changed += 1;
                }
            }
            tx.commit()?;
            match ids.last() {
                Some(&id) if ids.len() as i64 == super::photos::PAGE => last = id,
                _ => return Ok(changed),
            }
        }
    }

    /// Photos whose modality the model may re-sort: not set by hand, with a file present,
    /// and (unless `all`) no model guess stored yet, or one from another version than
    /// `current` (the built-in model's). `(id, hash, path)`, by id.
    pub fn modality_redetect_targets(&self, all: bool, current: Option<Version>) -> Result<Vec<(i64, String, String)>> {
        let sql = concat!(
            "SELECT id, hash, path FROM (SELECT p.id, p.hash, p.cues, ",
            super::first_path!(),
            " AS path FROM photos p WHERE p.modality_source NOT IN ('person', 'rule')) ",
            "WHERE path IS NOT NULL AND (?1 OR cues IS NULL OR json_extract(cues, '$.model') IS NULL ",
            "OR json_extract(cues, '$.model.version') IS NOT ?2) ORDER BY id"
        );
        let mut stmt = self.conn.prepare(sql)?;
        let rows =
            stmt.query_map(params![all, current.map(|v| v.to_string())], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Stores the modality model's guesses with the photos' cues and decides their modality
    /// again (a rule still wins; a photo set by hand is left as it is). Returns how many
    /// photos changed modality or source.
    pub fn save_model_guesses(&mut self, guesses: &[(i64, ModelGuess)]) -> Result<usize> {
        let rules = self.rules()?;
        let visia = self.visia_sizes()?;
        let tx = self.conn.transaction()?;
        let mut changed = 0;
        for &(id, guess) in guesses {
            let mut f = facts(&tx, id)?;
            if f.prior.source == ModalitySource::Person {
                continue;
            }
            f.cues.model = Some(guess);
            tx.prepare_cached("UPDATE photos SET cues = ?2 WHERE id = ?1")?
                .execute(params![id, serde_json::to_string(&f.cues).map_err(|e| Error::Invalid(e.to_string()))?])?;
            let (modality, source, detail) =
                decide(&rules, &visia, f.path.as_deref().map(std::path::Path::new), &f.cues, f.width, f.height);
            if modality != f.prior.modality || source != f.prior.source {
                let to = PriorModality { id, modality, source, detail: Some(detail) };
                write(&tx, "redetect_modality", &f.prior, &to)?;
                changed += 1;
            } else {
                tx.prepare_cached("UPDATE photos SET modality_detail = ?2 WHERE id = ?1")?
                    .execute(params![id, detail])?;
            }
        }
        tx.commit()?;
        Ok(changed)
    }
}
