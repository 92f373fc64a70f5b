//! Privacy screening in the store: which detector (and version) screened each photo, what it
//! found, the reviewers' decisions (audited) and redaction shapes; and the one gate every
//! export, dataset, model run and presentation goes through: `Store::release`.

use super::Store;
use super::gate::{Releasable, Release, Withheld};
use crate::error::{Error, Result};
use crate::modality::Modality;
use crate::privacy::{Detector, Finding, FindingKind, Review, Screening, Verdict, verdict_of};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A photo that needs screening by some detectors (not yet run, or an older version).
#[derive(Clone, Debug)]
pub struct ScreenTarget {
    pub photo_id: i64,
    /// The content hash the store holds: the worker screens only these bytes.
    pub hash: String,
    pub path: String,
    pub orientation: u8,
    pub modality: Modality,
    pub width: u32,
    pub height: u32,
    pub detectors: Vec<Detector>,
}

/// A photo's screening and review, as `list --json` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotoScreening {
    /// None until every detector has screened it.
    pub verdict: Option<Verdict>,
    pub review: Review,
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
}

/// How a redaction shape is filled in the exported pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    Black,
    Pixelate,
}

impl Fill {
    pub fn as_str(self) -> &'static str {
        match self {
            Fill::Black => "black",
            Fill::Pixelate => "pixelate",
        }
    }
    pub fn parse(s: &str) -> Option<Fill> {
        [Fill::Black, Fill::Pixelate].into_iter().find(|f| f.as_str() == s)
    }
}

/// A shape on the photo as shown (orientation applied, full-size pixels). A crop keeps only
/// what is inside it; the others are burned in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    Rect { rect: [f32; 4], fill: Fill },
    Polygon { points: Vec<[f32; 2]>, fill: Fill },
    Crop { rect: [f32; 4] },
}

impl Shape {
    fn kind(&self) -> &'static str {
        match self {
            Shape::Rect { .. } => "rect",
            Shape::Polygon { .. } => "polygon",
            Shape::Crop { .. } => "crop",
        }
    }

    fn check(&self) -> Result<()> {
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        let ok = match self {
            Shape::Rect { rect, .. } | Shape::Crop { rect } => finite(rect) && rect[2] > rect[0] && rect[3] > rect[1],
            Shape::Polygon { points, .. } => points.len() >= 3 && points.iter().all(|p| finite(p)),
        };
        if ok { Ok(()) } else { Err(Error::Invalid(format!("not a usable {} shape: {self:?}", self.kind()))) }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Redaction {
    pub id: i64,
    pub photo_id: i64,
    #[serde(flatten)]
    pub shape: Shape,
    pub author: String,
    pub created_at: String,
}

/// One entry of the review queue.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueItem {
    pub photo_id: i64,
    /// The content hash (the thumbnail cache's key).
    pub hash: String,
    pub name: String,
    pub modality: Modality,
    pub verdict: Verdict,
    pub review: Review,
    pub findings: usize,
    pub top_score: f32,
    pub width: u32,
    pub height: u32,
    pub orientation: u8,
}

/// Which photos the review queue shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueFilter {
    /// Only these reviews (empty: pending only).
    pub reviews: Vec<Review>,
    pub verdicts: Vec<Verdict>,
    pub modalities: Vec<Modality>,
    /// Only photos with a finding of this kind (each kind has one detector: faces CenterFace,
    /// text PP-OCRv5, metadata the file reader) at or above `min_score`.
    pub kind: Option<FindingKind>,
    /// With `kind`, that kind's findings count; without, only faces and text do (a metadata
    /// finding always scores 1).
    pub min_score: f32,
    pub limit: Option<usize>,
}

const SCREENED_BY_ALL: &str = "(SELECT count(*) FROM screenings s WHERE s.photo_id = p.id) = 3";

impl Store {
    /// Photos that some detector has not screened at its current version (or every present
    /// photo with `all`), with the detectors each one needs.
    pub fn screening_targets(&self, all: bool) -> Result<Vec<ScreenTarget>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let (page, last) = self.screening_targets_page(all, after, 4096)?;
            out.extend(page);
            match last {
                Some(id) => after = id,
                None => return Ok(out),
            }
        }
    }

    /// One page of [`Store::screening_targets`]: among the `limit` present photos after id
    /// `after`, those due, and the last id looked at (None when there are no more), so that
    /// a job over a million photos holds one page at a time.
    pub fn screening_targets_page(
        &self,
        all: bool,
        after: i64,
        limit: usize,
    ) -> Result<(Vec<ScreenTarget>, Option<i64>)> {
        let mut stmt = self.conn.prepare_cached(concat!(
            "SELECT p.id, p.hash, ",
            first_path!(),
            ", p.orientation, p.modality, p.width, p.height,
               (SELECT json_group_object(detector, version) FROM screenings s WHERE s.photo_id = p.id)
             FROM photos p
             WHERE p.id > ?1 AND p.present = 1
             ORDER BY p.id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![after, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u8>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, u32>(5)?,
                r.get::<_, u32>(6)?,
                r.get::<_, String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        let mut last = None;
        for row in rows {
            let (photo_id, hash, path, orientation, modality, width, height, done) = row?;
            last = Some(photo_id);
            let done: HashMap<String, String> = serde_json::from_str(&done).unwrap_or_default();
            let detectors: Vec<Detector> = Detector::ALL
                .into_iter()
                .filter(|d| all || done.get(d.as_str()).map(String::as_str) != Some(d.version()))
                .collect();
            if detectors.is_empty() {
                continue;
            }
            let modality = Modality::parse(&modality).unwrap_or(Modality::Other);
            out.push(ScreenTarget { photo_id, hash, path, orientation, modality, width, height, detectors });
        }
        Ok((out, last))
    }

    /// Stores one photo's screening: the findings of the detectors that ran replace their
    /// earlier ones. A photo already cleared whose verdict rises goes back to pending.
    pub fn save_screening(&mut self, photo_id: i64, s: &Screening) -> Result<()> {
        let tx = self.conn.transaction()?;
        let modality: String = tx
            .query_row("SELECT modality FROM photos WHERE id = ?1", [photo_id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::Invalid(format!("no photo with id {photo_id}")))?;
        let now = crate::util::now_iso();
        for (d, version) in &s.ran {
            tx.execute(
                "DELETE FROM findings WHERE photo_id = ?1 AND detector_kind = ?2",
                params![photo_id, d.as_str()],
            )?;
            tx.execute(
                "INSERT INTO screenings (photo_id, detector, version, screened_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(photo_id, detector) DO UPDATE SET version = excluded.version, screened_at = excluded.screened_at",
                params![photo_id, d.as_str(), version, now],
            )?;
            let mut ins = tx.prepare_cached(
                "INSERT INTO findings (photo_id, detector_kind, kind, detector, version, score, x0, y0, x1, y1, text, field, level)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for f in s.findings.iter().filter(|f| f.kind == d.kind()) {
                let b = f.bbox.map(|b| b.map(|v| v as f64));
                ins.execute(params![
                    photo_id,
                    d.as_str(),
                    f.kind.as_str(),
                    f.detector,
                    version,
                    f.score as f64,
                    b.map(|b| b[0]),
                    b.map(|b| b[1]),
                    b.map(|b| b[2]),
                    b.map(|b| b[3]),
                    f.text,
                    f.field,
                    f.level.as_str()
                ])?;
            }
        }
        let findings = findings_in(&tx, photo_id)?;
        let verdict = verdict_of(&findings, Modality::parse(&modality).unwrap_or(Modality::Other));
        let old: Option<(String, Option<String>)> = tx
            .query_row("SELECT review, reviewed_verdict FROM privacy WHERE photo_id = ?1", [photo_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        tx.execute(
            "INSERT INTO privacy (photo_id, verdict, review, screened_at) VALUES (?1, ?2, 'pending', ?3)
             ON CONFLICT(photo_id) DO UPDATE SET verdict = excluded.verdict, screened_at = excluded.screened_at",
            params![photo_id, verdict.as_str(), now],
        )?;
        if let Some((review, Some(reviewed))) = old {
            let was = Verdict::parse(&reviewed).unwrap_or(Verdict::Identifiable);
            if matches!(Review::parse(&review), Some(Review::Cleared | Review::Redacted)) && verdict > was {
                tx.execute(
                    "UPDATE privacy SET review = 'pending', reviewer = NULL, reviewed_at = NULL WHERE photo_id = ?1",
                    [photo_id],
                )?;
                super::audit(
                    &tx,
                    "review_reopened",
                    Some(photo_id),
                    &format!("screened again: {} -> {} (was {review})", was.as_str(), verdict.as_str()),
                )?;
            }
        }
        super::audit(&tx, "screened", Some(photo_id), &screen_detail(s, verdict))?;
        tx.commit()?;
        Ok(())
    }

    /// A photo's screening and review (None when neither has happened).
    pub fn screening(&self, photo_id: i64) -> Result<Option<PhotoScreening>> {
        type Row = (Option<String>, String, Option<String>, Option<String>, String, i64);
        let row: Option<Row> = self
            .conn
            .prepare_cached(
                "SELECT pr.verdict, COALESCE(pr.review, 'pending'), pr.reviewer, pr.reviewed_at, p.modality,
                        (SELECT count(*) FROM screenings s WHERE s.photo_id = p.id)
                 FROM photos p LEFT JOIN privacy pr ON pr.photo_id = p.id WHERE p.id = ?1",
            )?
            .query_row([photo_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
            .optional()?;
        let Some((_verdict, review, reviewer, reviewed_at, modality, screened)) = row else { return Ok(None) };
        let findings = findings_in(&self.conn, photo_id)?;
        let modality = Modality::parse(&modality).unwrap_or(Modality::Other);
        let verdict = (screened as usize == Detector::ALL.len()).then(|| verdict_of(&findings, modality));
        Ok(Some(PhotoScreening {
            verdict,
            review: Review::parse(&review).unwrap_or(Review::Pending),
            findings,
            reviewer,
            reviewed_at,
        }))
    }

    /// Records reviewers' decisions: `Cleared`, `Excluded`, `Redacted` (needs shapes) or back
    /// to `Pending` (undo). Each one is audited with the reviewer's name. Clearing or redacting
    /// needs a finished screening; excluding never waits.
    pub fn set_review(&mut self, ids: &[i64], review: Review, reviewer: &str) -> Result<usize> {
        let reviewer = reviewer.trim();
        if reviewer.is_empty() {
            return Err(Error::Invalid("a review needs the reviewer's name".into()));
        }
        let tx = self.conn.transaction()?;
        let now = crate::util::now_iso();
        for &id in ids {
            let screened: Option<i64> = tx
                .query_row(
                    "SELECT (SELECT count(*) FROM screenings s WHERE s.photo_id = p.id) FROM photos p WHERE p.id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(screened) = screened else {
                return Err(Error::Invalid(format!("no photo with id {id}")));
            };
            if review.releasable() && screened as usize != Detector::ALL.len() {
                return Err(Error::Invalid(format!(
                    "photo {id} has not been screened yet; screen it before clearing it"
                )));
            }
            if review == Review::Redacted {
                let shapes: i64 =
                    tx.query_row("SELECT count(*) FROM redactions WHERE photo_id = ?1", [id], |r| r.get(0))?;
                if shapes == 0 {
                    return Err(Error::Invalid(format!(
                        "photo {id} has no redaction shapes; draw them before marking it redacted"
                    )));
                }
            }
            let old: Option<(String, Option<String>)> = tx
                .query_row("SELECT review, verdict FROM privacy WHERE photo_id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let (old_review, verdict) = old.unwrap_or_else(|| ("pending".into(), None));
            let (who, when) =
                if review == Review::Pending { (None, None) } else { (Some(reviewer), Some(now.as_str())) };
            tx.execute(
                "INSERT INTO privacy (photo_id, review, reviewer, reviewed_at, reviewed_verdict) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(photo_id) DO UPDATE SET review = excluded.review, reviewer = excluded.reviewer,
                   reviewed_at = excluded.reviewed_at, reviewed_verdict = excluded.reviewed_verdict",
                params![id, review.as_str(), who, when, verdict],
            )?;
            tx.execute(
                "INSERT INTO audit (at, actor, action, photo_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    now,
                    reviewer,
                    format!("review_{}", review.as_str()),
                    id,
                    format!("{old_review} -> {} (verdict {})", review.as_str(), verdict.as_deref().unwrap_or("none"))
                ],
            )?;
        }
        tx.commit()?;
        Ok(ids.len())
    }

    /// Adds a redaction shape (audited). Marking the photo redacted is a separate decision.
    pub fn add_redaction(&mut self, photo_id: i64, shape: &Shape, author: &str) -> Result<i64> {
        shape.check()?;
        let author = named(author)?;
        let tx = self.conn.transaction()?;
        let exists: Option<i64> =
            tx.query_row("SELECT id FROM photos WHERE id = ?1", [photo_id], |r| r.get(0)).optional()?;
        if exists.is_none() {
            return Err(Error::Invalid(format!("no photo with id {photo_id}")));
        }
        let json = serde_json::to_string(shape).map_err(|e| Error::Invalid(e.to_string()))?;
        let now = crate::util::now_iso();
        tx.execute(
            "INSERT INTO redactions (photo_id, kind, shape, author, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![photo_id, shape.kind(), json, author, now],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO audit (at, actor, action, photo_id, detail) VALUES (?1, ?2, 'redaction_added', ?3, ?4)",
            params![now, author, photo_id, format!("{id}: {json}")],
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Changes a redaction shape: moved, resized, or its fill (audited with the old and new
    /// shape). Returns the old shape, so that the change can be undone.
    pub fn replace_redaction(&mut self, id: i64, shape: &Shape, author: &str) -> Result<Shape> {
        shape.check()?;
        let author = named(author)?;
        let tx = self.conn.transaction()?;
        let row: Option<(i64, String)> = tx
            .query_row("SELECT photo_id, shape FROM redactions WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((photo_id, old_json)) = row else { return Err(Error::Invalid(format!("no redaction with id {id}"))) };
        let old: Shape = serde_json::from_str(&old_json)
            .map_err(|e| Error::Invalid(format!("redaction {id} of photo {photo_id} cannot be read ({e})")))?;
        let json = serde_json::to_string(shape).map_err(|e| Error::Invalid(e.to_string()))?;
        let now = crate::util::now_iso();
        tx.execute("UPDATE redactions SET kind = ?2, shape = ?3 WHERE id = ?1", params![id, shape.kind(), json])?;
        tx.execute(
            "INSERT INTO audit (at, actor, action, photo_id, detail) VALUES (?1, ?2, 'redaction_changed', ?3, ?4)",
            params![now, author, photo_id, format!("{id}: {old_json} -> {json}")],
        )?;
        tx.commit()?;
        Ok(old)
    }

    /// One redaction shape by its id (None when there is none).
    pub fn redaction(&self, id: i64) -> Result<Option<Redaction>> {
        let photo: Option<i64> =
            self.conn.query_row("SELECT photo_id FROM redactions WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        let Some(photo) = photo else { return Ok(None) };
        Ok(redactions_in(&self.conn, photo)?.into_iter().find(|r| r.id == id))
    }

    /// Removes a redaction shape (audited). A photo marked redacted whose last shape goes is
    /// back to pending: it would otherwise leave unredacted.
    pub fn remove_redaction(&mut self, id: i64, author: &str) -> Result<()> {
        let author = named(author)?;
        let tx = self.conn.transaction()?;
        let row: Option<(i64, String)> = tx
            .query_row("SELECT photo_id, shape FROM redactions WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((photo_id, json)) = row else { return Err(Error::Invalid(format!("no redaction with id {id}"))) };
        tx.execute("DELETE FROM redactions WHERE id = ?1", [id])?;
        let now = crate::util::now_iso();
        tx.execute(
            "INSERT INTO audit (at, actor, action, photo_id, detail) VALUES (?1, ?2, 'redaction_removed', ?3, ?4)",
            params![now, author, photo_id, format!("{id}: {json}")],
        )?;
        let left: i64 =
            tx.query_row("SELECT count(*) FROM redactions WHERE photo_id = ?1", [photo_id], |r| r.get(0))?;
        if left == 0 {
            let n = tx.execute(
                "UPDATE privacy SET review = 'pending', reviewer = NULL, reviewed_at = NULL WHERE photo_id = ?1 AND review = 'redacted'",
                [photo_id],
            )?;
            if n > 0 {
                tx.execute(
                    "INSERT INTO audit (at, actor, action, photo_id, detail) VALUES (?1, ?2, 'review_reopened', ?3, 'its last redaction was removed')",
                    params![now, author, photo_id],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn redactions(&self, photo_id: i64) -> Result<Vec<Redaction>> {
        redactions_in(&self.conn, photo_id)
    }

    /// Photos for the review queue, those with the strongest findings first.
    pub fn privacy_queue(&self, f: &QueueFilter) -> Result<Vec<QueueItem>> {
        let reviews: Vec<Review> = if f.reviews.is_empty() { vec![Review::Pending] } else { f.reviews.clone() };
        let list = |v: Vec<&str>| v.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(",");
        let mut clauses = vec![
            SCREENED_BY_ALL.to_string(),
            format!("COALESCE(pr.review, 'pending') IN ({})", list(reviews.iter().map(|r| r.as_str()).collect())),
        ];
        if !f.modalities.is_empty() {
            clauses.push(format!("p.modality IN ({})", list(f.modalities.iter().map(|m| m.as_str()).collect())));
        }
        if let Some(kind) = f.kind {
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM findings x WHERE x.photo_id = p.id AND x.kind = '{}' AND x.score >= {})",
                kind.as_str(),
                f.min_score
            ));
        } else if f.min_score > 0.0 {
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM findings x WHERE x.photo_id = p.id AND x.kind != 'metadata' AND x.score >= {})",
                f.min_score
            ));
        }
        let sql = format!(
            concat!(
                "SELECT p.id, ",
                first_path!(),
                ", p.modality, COALESCE(pr.review, 'pending'), p.width, p.height, p.orientation,
                   (SELECT count(*) FROM findings x WHERE x.photo_id = p.id),
                   (SELECT max(score) FROM findings x WHERE x.photo_id = p.id AND x.kind != 'metadata'),
                   (SELECT group_concat(level) FROM findings x WHERE x.photo_id = p.id), p.hash
                 FROM photos p LEFT JOIN privacy pr ON pr.photo_id = p.id
                 WHERE {} ORDER BY p.id"
            ),
            clauses.join(" AND ")
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, u32>(4)?,
                r.get::<_, u32>(5)?,
                r.get::<_, u8>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, Option<f64>>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, String>(10)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (photo_id, path, modality, review, width, height, orientation, n, top, levels, hash) = row?;
            let modality = Modality::parse(&modality).unwrap_or(Modality::Other);
            let mut verdict =
                levels.unwrap_or_default().split(',').filter_map(Verdict::parse).max().unwrap_or(Verdict::Clear);
            if modality == Modality::Visia {
                verdict = verdict.max(Verdict::Unsure);
            }
            if !f.verdicts.is_empty() && !f.verdicts.contains(&verdict) {
                continue;
            }
            out.push(QueueItem {
                photo_id,
                hash,
                name: super::file_name(&path).to_string(),
                modality,
                verdict,
                review: Review::parse(&review).unwrap_or(Review::Pending),
                findings: n as usize,
                top_score: top.unwrap_or(0.0) as f32,
                width,
                height,
                orientation,
            });
        }
        out.sort_by(|a, b| {
            b.verdict.cmp(&a.verdict).then(b.top_score.total_cmp(&a.top_score)).then(a.photo_id.cmp(&b.photo_id))
        });
        if let Some(l) = f.limit {
            out.truncate(l);
        }
        Ok(out)
    }

    /// The privacy half of the gate (see [`Store::release`]): only photos screened by every
    /// detector, reviewed by a person, and cleared or redacted (with their redaction shapes,
    /// to be burned in), that still have a file. `ids` None asks for every photo.
    pub(super) fn privacy_release(&self, ids: Option<&[i64]>) -> Result<Release> {
        let wanted: Vec<i64> = match ids {
            Some(ids) => ids.to_vec(),
            None => {
                let mut stmt = self.conn.prepare_cached("SELECT id FROM photos ORDER BY id")?;
                stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            }
        };
        let mut stmt = self.conn.prepare_cached("SELECT p.hash, p.format, p.orientation, COALESCE(pr.review, 'pending'), pr.reviewer,\n                    (SELECT count(*) FROM screenings s WHERE s.photo_id = p.id),\n                    (SELECT path FROM locations l WHERE l.photo_id = p.id AND l.missing_since IS NULL ORDER BY l.id LIMIT 1)\n             FROM photos p LEFT JOIN privacy pr ON pr.photo_id = p.id WHERE p.id = ?1")?;
        let mut release = Release::default();
        let mut seen = std::collections::HashSet::new();
        for id in wanted {
            if !seen.insert(id) {
                continue;
            }
            type Row = (String, String, u8, String, Option<String>, i64, Option<String>);
            let row: Option<Row> = stmt
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
                .optional()?;
            let Some((hash, format, orientation, review, reviewer, screened, path)) = row else {
                release.withheld.push((id, Withheld::NoSuchPhoto));
                continue;
            };
            let review = Review::parse(&review);
            let why = if screened as usize != Detector::ALL.len() {
                Some(Withheld::Unscreened)
            } else {
                match review {
                    Some(Review::Excluded) => Some(Withheld::Excluded),
                    Some(Review::Cleared | Review::Redacted)
                        if reviewer.as_deref().is_some_and(|r| !r.trim().is_empty()) =>
                    {
                        None
                    }
                    _ => Some(Withheld::Unreviewed),
                }
            };
            if let Some(why) = why {
                release.withheld.push((id, why));
                continue;
            }
            let Some(path) = path else {
                release.withheld.push((id, Withheld::NoFile));
                continue;
            };
            let redactions = redactions_in(&self.conn, id)?;
            let review = review.unwrap_or(Review::Pending);
            if review == Review::Redacted && redactions.is_empty() {
                // Cannot happen through this API; a hand-edited file must not leak through it.
                release.withheld.push((id, Withheld::Unreviewed));
                continue;
            }
            release.allowed.push(Releasable { photo_id: id, hash, path, format, orientation, review, redactions });
        }
        Ok(release)
    }
}

/// A person's name for the audit log: shapes, like decisions, are never anonymous.
fn named(author: &str) -> Result<&str> {
    let author = author.trim();
    if author.is_empty() {
        return Err(Error::Invalid("a redaction needs the reviewer's name".into()));
    }
    Ok(author)
}

fn screen_detail(s: &Screening, verdict: Verdict) -> String {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for f in &s.findings {
        *counts.entry(f.kind.as_str()).or_default() += 1;
    }
    let ran: Vec<String> = s.ran.iter().map(|(d, v)| format!("{}={v}", d.as_str())).collect();
    let mut c: Vec<String> = counts.into_iter().map(|(k, n)| format!("{k} {n}")).collect();
    c.sort();
    format!(
        "{}; findings: {}; {}",
        verdict.as_str(),
        if c.is_empty() { "none".into() } else { c.join(", ") },
        ran.join(" ")
    )
}

fn findings_in(conn: &rusqlite::Connection, photo_id: i64) -> Result<Vec<Finding>> {
    let mut stmt = conn.prepare_cached(
        "SELECT kind, detector, score, x0, y0, x1, y1, text, field, level FROM findings WHERE photo_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([photo_id], |r| {
        let kind: String = r.get(0)?;
        let level: String = r.get(9)?;
        let b: [Option<f64>; 4] = [r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?];
        Ok(Finding {
            kind: FindingKind::parse(&kind).unwrap_or(FindingKind::Metadata),
            detector: r.get(1)?,
            score: r.get::<_, f64>(2)? as f32,
            bbox: match b {
                [Some(a), Some(b), Some(c), Some(d)] => Some([a as f32, b as f32, c as f32, d as f32]),
                _ => None,
            },
            text: r.get(7)?,
            field: r.get(8)?,
            // An unknown level reads as the strongest: never weaken a finding by accident.
            level: Verdict::parse(&level).unwrap_or(Verdict::Identifiable),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn redactions_in(conn: &rusqlite::Connection, photo_id: i64) -> Result<Vec<Redaction>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, shape, author, created_at FROM redactions WHERE photo_id = ?1 ORDER BY id")?;
    let rows =
        stmt.query_map([photo_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, json, author, created_at) = row?;
        let shape: Shape = serde_json::from_str(&json)
            .map_err(|e| Error::Invalid(format!("redaction {id} of photo {photo_id} cannot be read ({e})")))?;
        out.push(Redaction { id, photo_id, shape, author, created_at });
    }
    Ok(out)
}
