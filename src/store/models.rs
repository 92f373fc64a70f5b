//! Research models in the store: the registered versions and what each said about each
//! photo's content (see `crate::models`).

use super::{Store, audit};
use crate::error::{Error, Result};
use crate::models::Prediction;
use crate::util;
use rusqlite::{OptionalExtension, params, params_from_iter};
use serde::Serialize;
use std::collections::HashSet;

/// A registered model version as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelRow {
    pub id: i64,
    pub name: String,
    pub version: String,
    pub task: String,
    /// The card's TOML as added.
    pub card: String,
    pub dir: String,
    pub file: String,
    pub model_hash: String,
    pub builtin: bool,
    pub added_at: String,
    pub added_by: String,
}

/// A model version to record.
pub struct NewModel<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub task: &'a str,
    pub card: &'a str,
    pub dir: &'a str,
    pub file: &'a str,
    pub model_hash: &'a str,
    pub builtin: bool,
}

/// One stored result with its model's name and version.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelResultRow {
    pub model_id: i64,
    pub name: String,
    pub version: String,
    pub inferred_at: String,
    pub prediction: Prediction,
}

/// A photo's results from two model versions: (photo id, the first's, the second's).
pub type PairedResult = (i64, Prediction, Prediction);

/// A classification result of a linked photo with its diagnosis, for agreement.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartedResult {
    pub photo_id: i64,
    pub model_id: i64,
    pub version: String,
    pub probabilities: Vec<f32>,
    pub dx_text: String,
    pub dx_code: Option<String>,
}

const MODEL_COLUMNS: &str = "id, name, version, task, card, dir, file, model_hash, builtin, added_at, added_by";

fn model_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ModelRow> {
    Ok(ModelRow {
        id: r.get(0)?,
        name: r.get(1)?,
        version: r.get(2)?,
        task: r.get(3)?,
        card: r.get(4)?,
        dir: r.get(5)?,
        file: r.get(6)?,
        model_hash: r.get(7)?,
        builtin: r.get(8)?,
        added_at: r.get(9)?,
        added_by: r.get(10)?,
    })
}

fn f32s_to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn bytes_to_f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

type ResultColumns = (String, Option<String>, Option<u32>, Option<u32>, Option<i64>, Option<Vec<u8>>);

fn prediction_of(id: i64, (kind, probs, width, height, pixels, data): ResultColumns) -> Result<Prediction> {
    let broken = |what: &str| Error::Invalid(format!("model result {id} cannot be read ({what})"));
    Ok(match kind.as_str() {
        "classes" => Prediction::Classes {
            probabilities: serde_json::from_str(probs.as_deref().unwrap_or("null"))
                .map_err(|e| broken(&e.to_string()))?,
        },
        "mask" => Prediction::Mask {
            width: width.ok_or_else(|| broken("no width"))?,
            height: height.ok_or_else(|| broken("no height"))?,
            pixels: pixels.unwrap_or(0) as u64,
            data: data.unwrap_or_default(),
        },
        "embedding" => Prediction::Embedding { values: bytes_to_f32s(&data.unwrap_or_default()) },
        other => return Err(broken(other)),
    })
}

impl Store {
    /// Records a model version (audited). Fails when that name and version exist.
    pub fn insert_model(&mut self, m: &NewModel<'_>) -> Result<ModelRow> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO models (name, version, task, card, dir, file, model_hash, builtin, added_at, added_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                m.name,
                m.version,
                m.task,
                m.card,
                m.dir,
                m.file,
                m.model_hash,
                m.builtin,
                util::now_iso(),
                util::current_user()
            ],
        )?;
        let id = tx.last_insert_rowid();
        audit(
            &tx,
            "model_added",
            None,
            &format!("{} {} ({}{}) in {}", m.name, m.version, m.task, if m.builtin { ", built in" } else { "" }, m.dir),
        )?;
        let row = tx.query_row(&format!("SELECT {MODEL_COLUMNS} FROM models WHERE id = ?1"), [id], model_row)?;
        tx.commit()?;
        Ok(row)
    }

    /// Deletes a model version and every result it stored (audited, in one transaction);
    /// returns how many results went with it.
    pub fn delete_model(&mut self, id: i64) -> Result<u64> {
        let tx = self.conn.transaction()?;
        let (name, version): (String, String) =
            tx.query_row("SELECT name, version FROM models WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let results = tx.execute("DELETE FROM model_results WHERE model_id = ?1", [id])? as u64;
        tx.execute("DELETE FROM models WHERE id = ?1", [id])?;
        audit(&tx, "model_removed", None, &format!("{name} {version}, with its {results} stored results"))?;
        tx.commit()?;
        Ok(results)
    }

    /// Every registered model version, by name, then in the order added.
    pub fn model_rows(&self) -> Result<Vec<ModelRow>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {MODEL_COLUMNS} FROM models ORDER BY name, id"))?;
        let rows = stmt.query_map([], model_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn model_row(&self, name: &str, version: &str) -> Result<Option<ModelRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {MODEL_COLUMNS} FROM models WHERE name = ?1 AND version = ?2"))?;
        Ok(stmt.query_row(params![name, version], model_row).optional()?)
    }

    /// Which of these photo contents already have a result from model version `model_id`.
    pub fn model_results_done(&self, model_id: i64, hashes: &[String]) -> Result<HashSet<String>> {
        let mut done = HashSet::new();
        for chunk in hashes.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!("SELECT photo_hash FROM model_results WHERE model_id = ? AND photo_hash IN ({marks})");
            let mut stmt = self.conn.prepare(&sql)?;
            let args = std::iter::once(rusqlite::types::Value::Integer(model_id))
                .chain(chunk.iter().map(|h| rusqlite::types::Value::Text(h.clone())));
            let rows = stmt.query_map(params_from_iter(args), |r| r.get::<_, String>(0))?;
            for h in rows {
                done.insert(h?);
            }
        }
        Ok(done)
    }

    /// Stores results of model version `model_id` (photo content hash, prediction), in one
    /// transaction; a result for the same content and version is replaced (`infer --all`).
    pub fn save_model_results(&mut self, model_id: i64, results: &[(String, Prediction)]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO model_results (photo_hash, model_id, inferred_at, kind, probabilities, top_index, width,
                    height, pixels, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(photo_hash, model_id) DO UPDATE SET inferred_at = excluded.inferred_at,
                    kind = excluded.kind, probabilities = excluded.probabilities, top_index = excluded.top_index,
                    width = excluded.width, height = excluded.height, pixels = excluded.pixels, data = excluded.data",
            )?;
            let now = util::now_iso();
            for (hash, p) in results {
                match p {
                    Prediction::Classes { probabilities } => {
                        let json = serde_json::to_string(probabilities)
                            .map_err(|e| Error::Invalid(format!("cannot store probabilities: {e}")))?;
                        let top =
                            probabilities.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i as i64);
                        stmt.execute(params![
                            hash,
                            model_id,
                            now,
                            "classes",
                            json,
                            top,
                            None::<u32>,
                            None::<u32>,
                            None::<i64>,
                            None::<Vec<u8>>
                        ])?;
                    }
                    Prediction::Mask { width, height, pixels, data } => {
                        stmt.execute(params![
                            hash,
                            model_id,
                            now,
                            "mask",
                            None::<String>,
                            None::<i64>,
                            width,
                            height,
                            *pixels as i64,
                            data
                        ])?;
                    }
                    Prediction::Embedding { values } => {
                        stmt.execute(params![
                            hash,
                            model_id,
                            now,
                            "embedding",
                            None::<String>,
                            None::<i64>,
                            None::<u32>,
                            None::<u32>,
                            None::<i64>,
                            f32s_to_bytes(values)
                        ])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every result for a photo's content, every model and version.
    pub fn model_results_of(&self, photo_hash: &str) -> Result<Vec<ModelResultRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, r.model_id, m.name, m.version, r.inferred_at, r.kind, r.probabilities, r.width, r.height,
                    r.pixels, r.data
             FROM model_results r JOIN models m ON m.id = r.model_id WHERE r.photo_hash = ?1 ORDER BY m.name, m.id",
        )?;
        let rows = stmt.query_map([photo_hash], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                (r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?),
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, model_id, name, version, inferred_at, cols) = row?;
            out.push(ModelResultRow { model_id, name, version, inferred_at, prediction: prediction_of(id, cols)? });
        }
        Ok(out)
    }

    /// Classification results of model `name` (every version) on photos linked to a visit
    /// that has a diagnosis, with that diagnosis as the link holds it now.
    pub fn charted_results(&self, name: &str) -> Result<Vec<ChartedResult>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, m.id, m.version, r.probabilities, l.dx_text, l.dx_code
             FROM model_results r JOIN models m ON m.id = r.model_id
             JOIN photos p ON p.hash = r.photo_hash
             JOIN photo_links l ON l.photo_id = p.id
             WHERE m.name = ?1 AND r.kind = 'classes' AND l.status IN ('linked','confirmed') AND l.dx_text IS NOT NULL
             ORDER BY p.id",
        )?;
        let rows = stmt.query_map([name], |r| {
            Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?, r.get(4)?, r.get(5)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (photo_id, model_id, version, probs, dx_text, dx_code) = row?;
            let probabilities = serde_json::from_str(&probs)
                .map_err(|e| Error::Invalid(format!("a result of photo {photo_id} cannot be read ({e})")))?;
            out.push(ChartedResult { photo_id, model_id, version, probabilities, dx_text, dx_code });
        }
        Ok(out)
    }

    /// What two model versions said about the same photos, in photo order: (photo id, `a`'s
    /// prediction, `b`'s), each read as `model_results_of` reads it. For comparing versions
    /// (`models::compare`).
    pub fn paired_results(&self, a: i64, b: i64) -> Result<Vec<PairedResult>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, ra.id, ra.kind, ra.probabilities, ra.width, ra.height, ra.pixels, ra.data,
                    rb.id, rb.kind, rb.probabilities, rb.width, rb.height, rb.pixels, rb.data
             FROM model_results ra JOIN model_results rb ON rb.photo_hash = ra.photo_hash
             JOIN photos p ON p.hash = ra.photo_hash
             WHERE ra.model_id = ?1 AND rb.model_id = ?2
             ORDER BY p.id",
        )?;
        let rows = stmt.query_map([a, b], |r| {
            let side = |at: usize| -> rusqlite::Result<(i64, ResultColumns)> {
                Ok((
                    r.get(at)?,
                    (r.get(at + 1)?, r.get(at + 2)?, r.get(at + 3)?, r.get(at + 4)?, r.get(at + 5)?, r.get(at + 6)?),
                ))
            };
            Ok((r.get::<_, i64>(0)?, side(1)?, side(8)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (photo_id, (ia, ca), (ib, cb)) = row?;
            out.push((photo_id, prediction_of(ia, ca)?, prediction_of(ib, cb)?));
        }
        Ok(out)
    }

    /// Results per model version: (model id, photos with a result).
    pub fn model_result_counts(&self) -> Result<Vec<(i64, u64)>> {
        let mut stmt = self.conn.prepare_cached("SELECT model_id, count(*) FROM model_results GROUP BY model_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
