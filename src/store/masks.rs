//! Lesions, their mask versions and their reviews.
//!
//! A lesion belongs to a photo's content hash. Every save of its mask goes through
//! `save_mask`: the first save of an editing session starts a new version (its parent the
//! last one); later saves of the same session (the UI saves after every stroke) update that
//! version in place, so a crash loses at most the stroke in progress while the version
//! history stays one entry per session. The database refuses to change any older version.

use super::Store;
use crate::error::{Error, Result};
use crate::masks::{
    Encoded, MaskSource, PixelRect, ReviewAction, ReviewEvent, ReviewStatus, Role, check_label, displayed_size,
};
use crate::util;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

/// A lesion with its latest mask version (no pixels).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LesionRow {
    pub id: i64,
    pub photo_hash: String,
    pub photo_id: Option<i64>,
    /// 1, 2, ... within the photo.
    pub number: i64,
    pub label: String,
    pub note: String,
    pub status: ReviewStatus,
    pub created_at: String,
    pub created_by: String,
    pub deleted: bool,
    pub version: Option<VersionRow>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct VersionRow {
    pub id: i64,
    pub lesion_id: i64,
    pub parent_id: Option<i64>,
    pub annotator: String,
    pub session: String,
    pub started_at: String,
    pub saved_at: String,
    /// Saves folded into this version (one per stroke while drawing).
    pub saves: i64,
    pub source: MaskSource,
    pub source_detail: Option<String>,
    pub width: u32,
    pub height: u32,
    pub pixels: u64,
    pub bbox: PixelRect,
    pub bytes: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReviewRow {
    pub id: i64,
    pub lesion_id: i64,
    pub version_id: Option<i64>,
    pub at: String,
    pub actor: String,
    pub role: Option<Role>,
    pub action: ReviewEvent,
    pub from_status: Option<ReviewStatus>,
    pub to_status: ReviewStatus,
    pub comment: String,
}

/// What `list --json` shows of each mask of a photo.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MaskSummary {
    pub id: i64,
    pub label: String,
    pub status: ReviewStatus,
    pub annotator: Option<String>,
    pub pixels: u64,
}

/// What became of one save.
#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    pub version_id: i64,
    /// A new version was started (else the session's own version was updated).
    pub new_version: bool,
    /// Nothing changed: the mask equals the latest version.
    pub unchanged: bool,
    pub status: ReviewStatus,
}

/// A photo as masks see it: its content, shown size and the file names it goes by.
#[derive(Clone, Debug, PartialEq)]
pub struct PhotoForMasks {
    pub id: i64,
    pub hash: String,
    /// Width and height as shown (orientation applied): the size of its masks.
    pub width: u32,
    pub height: u32,
    pub orientation: u8,
    /// Every path it was seen at (present first).
    pub paths: Vec<String>,
    pub missing: bool,
}

/// A mask made elsewhere, to import as a new lesion.
#[derive(Clone, Debug, PartialEq)]
pub struct NewLesion {
    pub photo_hash: String,
    pub label: String,
    pub mask: Encoded,
    /// Draft or approved.
    pub status: ReviewStatus,
    /// The file (and shape) it came from.
    pub source_detail: String,
}

/// Which lesions a listing wants.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LesionFilter {
    pub status: Option<ReviewStatus>,
    pub photo_hash: Option<String>,
    pub include_deleted: bool,
}

const LESION_COLUMNS: &str = "l.id, l.photo_hash, (SELECT id FROM photos WHERE hash = l.photo_hash), l.number, l.label,
    l.note, l.status, l.created_at, l.created_by, l.deleted_at IS NOT NULL,
    v.id, v.lesion_id, v.parent_id, v.annotator, v.session, v.started_at, v.saved_at, v.saves, v.source,
    v.source_detail, v.width, v.height, v.pixels, v.bbox_x, v.bbox_y, v.bbox_w, v.bbox_h, length(v.data)";

const LESION_FROM: &str = "FROM lesions l LEFT JOIN mask_versions v
    ON v.id = (SELECT max(id) FROM mask_versions WHERE lesion_id = l.id)";

fn bad_value(what: &str, v: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what} in the database: {v:?}").into(),
    )
}

fn status_of(s: &str) -> rusqlite::Result<ReviewStatus> {
    ReviewStatus::parse(s).ok_or_else(|| bad_value("review status", s))
}

fn version_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Option<VersionRow>> {
    let Some(id) = r.get::<_, Option<i64>>(at)? else { return Ok(None) };
    let source: String = r.get(at + 8)?;
    Ok(Some(VersionRow {
        id,
        lesion_id: r.get(at + 1)?,
        parent_id: r.get(at + 2)?,
        annotator: r.get(at + 3)?,
        session: r.get(at + 4)?,
        started_at: r.get(at + 5)?,
        saved_at: r.get(at + 6)?,
        saves: r.get(at + 7)?,
        source: MaskSource::parse(&source).ok_or_else(|| bad_value("mask source", &source))?,
        source_detail: r.get(at + 9)?,
        width: r.get(at + 10)?,
        height: r.get(at + 11)?,
        pixels: r.get::<_, i64>(at + 12)? as u64,
        bbox: PixelRect::new(r.get(at + 13)?, r.get(at + 14)?, r.get(at + 15)?, r.get(at + 16)?),
        bytes: r.get::<_, i64>(at + 17)? as u64,
    }))
}

fn lesion_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LesionRow> {
    let status: String = r.get(6)?;
    Ok(LesionRow {
        id: r.get(0)?,
        photo_hash: r.get(1)?,
        photo_id: r.get(2)?,
        number: r.get(3)?,
        label: r.get(4)?,
        note: r.get(5)?,
        status: status_of(&status)?,
        created_at: r.get(7)?,
        created_by: r.get(8)?,
        deleted: r.get(9)?,
        version: version_at(r, 10)?,
    })
}

/// An audit line by a named actor (reviews name the reviewer, not the process's user).
fn audit_by(tx: &Transaction<'_>, actor: &str, action: &str, photo_hash: &str, detail: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO audit (at, actor, action, photo_id, detail)
         VALUES (?1, ?2, ?3, (SELECT id FROM photos WHERE hash = ?4), ?5)",
        params![util::now_iso(), actor, action, photo_hash, detail],
    )?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn log_review(
    tx: &Transaction<'_>,
    lesion_id: i64,
    version_id: Option<i64>,
    actor: &str,
    role: Option<Role>,
    event: ReviewEvent,
    from: Option<ReviewStatus>,
    to: ReviewStatus,
    comment: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO mask_reviews (lesion_id, version_id, at, actor, role, action, from_status, to_status, comment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            lesion_id,
            version_id,
            util::now_iso(),
            actor,
            role.map(Role::as_str),
            event.as_str(),
            from.map(ReviewStatus::as_str),
            to.as_str(),
            comment
        ],
    )?;
    Ok(())
}

/// The mask size a photo wants, or an error naming the photo.
fn photo_size(tx: &Transaction<'_>, hash: &str) -> Result<(u32, u32)> {
    let row: Option<(u32, u32, u8)> = tx
        .query_row("SELECT width, height, orientation FROM photos WHERE hash = ?1", [hash], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (w, h, o) = row.ok_or_else(|| Error::Invalid(format!("no photo with content {hash}")))?;
    Ok(displayed_size(w, h, o))
}

fn check_size(tx: &Transaction<'_>, hash: &str, mask: &Encoded) -> Result<()> {
    let (w, h) = photo_size(tx, hash)?;
    if (mask.width, mask.height) != (w, h) {
        return Err(Error::Invalid(format!(
            "the mask is {}×{} but the photo is {w}×{h} as shown: photo {}",
            mask.width,
            mask.height,
            &hash[..12.min(hash.len())]
        )));
    }
    Ok(())
}

/// Who wrote a new version, where it came from, and what it follows.
struct VersionOrigin<'a> {
    lesion_id: i64,
    parent: Option<i64>,
    actor: &'a str,
    session: &'a str,
    source: MaskSource,
    source_detail: Option<&'a str>,
}

fn insert_version(tx: &Transaction<'_>, o: &VersionOrigin<'_>, mask: &Encoded) -> Result<i64> {
    let now = util::now_iso();
    tx.execute(
        "INSERT INTO mask_versions (lesion_id, parent_id, annotator, session, started_at, saved_at, source,
            source_detail, width, height, pixels, bbox_x, bbox_y, bbox_w, bbox_h, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            o.lesion_id,
            o.parent,
            o.actor,
            o.session,
            now,
            o.source.as_str(),
            o.source_detail,
            mask.width,
            mask.height,
            mask.pixels as i64,
            mask.bbox.x,
            mask.bbox.y,
            mask.bbox.w,
            mask.bbox.h,
            mask.data
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

fn next_number(tx: &Transaction<'_>, hash: &str) -> Result<i64> {
    Ok(tx.query_row("SELECT coalesce(max(number), 0) + 1 FROM lesions WHERE photo_hash = ?1", [hash], |r| r.get(0))?)
}

impl Store {
    /// A new, empty lesion on a photo (its mask comes with the first save).
    pub fn create_lesion(&mut self, photo_hash: &str, label: &str, note: &str, actor: &str) -> Result<LesionRow> {
        let label = check_label(label)?;
        let tx = self.conn.transaction()?;
        photo_size(&tx, photo_hash)?;
        let number = next_number(&tx, photo_hash)?;
        tx.execute(
            "INSERT INTO lesions (photo_hash, number, label, note, status, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, 'draft', ?5, ?6)",
            params![photo_hash, number, label, note, util::now_iso(), actor],
        )?;
        let id = tx.last_insert_rowid();
        audit_by(&tx, actor, "lesion_create", photo_hash, &format!("lesion {id} (#{number}) {label}"))?;
        tx.commit()?;
        self.lesion(id)?.ok_or_else(|| Error::Invalid(format!("lesion {id} vanished")))
    }

    /// Saves a lesion's mask (see the module notes on sessions). A mask that was submitted
    /// or approved goes back to draft when its pixels change, and that is logged.
    pub fn save_mask(&mut self, lesion_id: i64, mask: &Encoded, actor: &str, session: &str) -> Result<Saved> {
        let tx = self.conn.transaction()?;
        let (hash, status, deleted): (String, String, bool) = tx
            .query_row(
                "SELECT photo_hash, status, deleted_at IS NOT NULL FROM lesions WHERE id = ?1",
                [lesion_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| Error::Invalid(format!("no lesion with id {lesion_id}")))?;
        if deleted {
            return Err(Error::Invalid(format!("lesion {lesion_id} was deleted")));
        }
        let status = status_of(&status)?;
        check_size(&tx, &hash, mask)?;
        let latest: Option<(i64, String, String, Vec<u8>)> = tx
            .query_row(
                "SELECT id, session, annotator, data FROM mask_versions WHERE lesion_id = ?1 ORDER BY id DESC LIMIT 1",
                [lesion_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        if let Some((id, _, _, data)) = &latest
            && *data == mask.data
        {
            return Ok(Saved { version_id: *id, new_version: false, unchanged: true, status });
        }
        let (version_id, new_version) = match &latest {
            Some((id, s, a, _)) if s == session && a == actor => {
                tx.execute(
                    "UPDATE mask_versions SET saved_at = ?1, saves = saves + 1, pixels = ?2, bbox_x = ?3,
                        bbox_y = ?4, bbox_w = ?5, bbox_h = ?6, data = ?7 WHERE id = ?8",
                    params![
                        util::now_iso(),
                        mask.pixels as i64,
                        mask.bbox.x,
                        mask.bbox.y,
                        mask.bbox.w,
                        mask.bbox.h,
                        mask.data,
                        id
                    ],
                )?;
                (*id, false)
            }
            _ => {
                let parent = latest.as_ref().map(|l| l.0);
                let origin =
                    VersionOrigin { lesion_id, parent, actor, session, source: MaskSource::Drawn, source_detail: None };
                let id = insert_version(&tx, &origin, mask)?;
                audit_by(
                    &tx,
                    actor,
                    "mask_version",
                    &hash,
                    &format!(
                        "lesion {lesion_id} version {id} (parent {})",
                        parent.map_or("none".into(), |p| p.to_string())
                    ),
                )?;
                (id, true)
            }
        };
        let after = status.after_edit();
        if after != status {
            tx.execute("UPDATE lesions SET status = ?1 WHERE id = ?2", params![after.as_str(), lesion_id])?;
            log_review(&tx, lesion_id, Some(version_id), actor, None, ReviewEvent::Edit, Some(status), after, "")?;
            audit_by(
                &tx,
                actor,
                "mask_status",
                &hash,
                &format!("lesion {lesion_id}: {} -> {} (edited)", status.as_str(), after.as_str()),
            )?;
        }
        tx.commit()?;
        Ok(Saved { version_id, new_version, unchanged: false, status: after })
    }

    /// Adds masks made elsewhere (one file's worth) as new lesions, all or none. A mask
    /// identical to one its photo already has is not added twice: that item answers with the
    /// existing lesion's id and false.
    pub fn import_lesions(&mut self, items: &[NewLesion], actor: &str, session: &str) -> Result<Vec<(i64, bool)>> {
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            let label = check_label(&it.label)?;
            if !matches!(it.status, ReviewStatus::Draft | ReviewStatus::Approved) {
                return Err(Error::Invalid(format!(
                    "imported masks start as draft or approved, not {}",
                    it.status.as_str()
                )));
            }
            check_size(&tx, &it.photo_hash, &it.mask)?;
            let same: Option<i64> = tx
                .prepare_cached(
                    "SELECT l.id FROM lesions l JOIN mask_versions v ON v.id =
                       (SELECT max(id) FROM mask_versions WHERE lesion_id = l.id)
                     WHERE l.photo_hash = ?1 AND l.deleted_at IS NULL AND v.data = ?2 LIMIT 1",
                )?
                .query_row(params![it.photo_hash, it.mask.data], |r| r.get(0))
                .optional()?;
            if let Some(id) = same {
                out.push((id, false));
                continue;
            }
            let number = next_number(&tx, &it.photo_hash)?;
            tx.execute(
                "INSERT INTO lesions (photo_hash, number, label, note, status, created_at, created_by)
                 VALUES (?1, ?2, ?3, '', ?4, ?5, ?6)",
                params![it.photo_hash, number, label, it.status.as_str(), util::now_iso(), actor],
            )?;
            let id = tx.last_insert_rowid();
            let v = insert_version(
                &tx,
                &VersionOrigin {
                    lesion_id: id,
                    parent: None,
                    actor,
                    session,
                    source: MaskSource::Imported,
                    source_detail: Some(&it.source_detail),
                },
                &it.mask,
            )?;
            log_review(&tx, id, Some(v), actor, None, ReviewEvent::Import, None, it.status, &it.source_detail)?;
            audit_by(
                &tx,
                actor,
                "mask_import",
                &it.photo_hash,
                &format!(
                    "lesion {id} (#{number}) {label}, {}, {} px: {}",
                    it.status.as_str(),
                    it.mask.pixels,
                    it.source_detail
                ),
            )?;
            out.push((id, true));
        }
        tx.commit()?;
        Ok(out)
    }

    pub fn set_lesion_label(&mut self, id: i64, label: &str, note: &str, actor: &str) -> Result<()> {
        let label = check_label(label)?;
        let tx = self.conn.transaction()?;
        let (hash, old_label, old_note): (String, String, String) = tx
            .query_row("SELECT photo_hash, label, note FROM lesions WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
            .ok_or_else(|| Error::Invalid(format!("no lesion with id {id}")))?;
        if old_label == label && old_note == note {
            return Ok(());
        }
        tx.execute("UPDATE lesions SET label = ?1, note = ?2 WHERE id = ?3", params![label, note, id])?;
        audit_by(
            &tx,
            actor,
            "lesion_label",
            &hash,
            &format!("lesion {id}: {old_label:?} -> {label:?}; note {note:?}"),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Hides a lesion; its versions and reviews stay.
    pub fn delete_lesion(&mut self, id: i64, actor: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        let hash: String = tx
            .query_row("SELECT photo_hash FROM lesions WHERE id = ?1 AND deleted_at IS NULL", [id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::Invalid(format!("no lesion with id {id}")))?;
        tx.execute("UPDATE lesions SET deleted_at = ?1 WHERE id = ?2", params![util::now_iso(), id])?;
        audit_by(&tx, actor, "lesion_delete", &hash, &format!("lesion {id}"))?;
        tx.commit()?;
        Ok(())
    }

    /// Moves a lesion through review. Approving or returning needs a role and someone other
    /// than the mask's annotator; returning needs a comment; a lesion with no mask cannot be
    /// submitted.
    pub fn review_lesion(
        &mut self,
        id: i64,
        action: ReviewAction,
        actor: &str,
        role: Option<Role>,
        comment: &str,
    ) -> Result<ReviewStatus> {
        let tx = self.conn.transaction()?;
        let (hash, status, deleted): (String, String, bool) = tx
            .query_row("SELECT photo_hash, status, deleted_at IS NOT NULL FROM lesions WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
            .ok_or_else(|| Error::Invalid(format!("no lesion with id {id}")))?;
        if deleted {
            return Err(Error::Invalid(format!("lesion {id} was deleted")));
        }
        let status = status_of(&status)?;
        let to = status.after(action)?;
        let latest: Option<(i64, String, i64)> = tx
            .query_row(
                "SELECT id, annotator, pixels FROM mask_versions WHERE lesion_id = ?1 ORDER BY id DESC LIMIT 1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((version, annotator, pixels)) = latest else {
            return Err(Error::Invalid(format!("lesion {id} has no mask yet")));
        };
        if action == ReviewAction::Submit && pixels == 0 {
            return Err(Error::Invalid(format!("lesion {id} has an empty mask")));
        }
        if action.by_reviewer() {
            if role.is_none() {
                return Err(Error::Invalid("a review needs the reviewer's role".into()));
            }
            if annotator == actor {
                return Err(Error::Invalid(format!("{actor} drew this mask and cannot review it (lesion {id})")));
            }
        }
        if action == ReviewAction::Return && comment.trim().is_empty() {
            return Err(Error::Invalid("returning a mask needs a comment saying what to fix".into()));
        }
        tx.execute("UPDATE lesions SET status = ?1 WHERE id = ?2", params![to.as_str(), id])?;
        log_review(&tx, id, Some(version), actor, role, action.into(), Some(status), to, comment.trim())?;
        audit_by(
            &tx,
            actor,
            "mask_status",
            &hash,
            &format!(
                "lesion {id} version {version}: {} -> {}{}{}",
                status.as_str(),
                to.as_str(),
                role.map(|r| format!(" by {}", r.as_str())).unwrap_or_default(),
                if comment.trim().is_empty() { String::new() } else { format!(": {}", comment.trim()) }
            ),
        )?;
        tx.commit()?;
        Ok(to)
    }

    pub fn lesion(&self, id: i64) -> Result<Option<LesionRow>> {
        let sql = format!("SELECT {LESION_COLUMNS} {LESION_FROM} WHERE l.id = ?1");
        Ok(self.conn.prepare_cached(&sql)?.query_row([id], lesion_row).optional()?)
    }

    /// Lesions that pass the filter, by photo and number.
    pub fn lesions(&self, f: &LesionFilter) -> Result<Vec<LesionRow>> {
        let sql = format!(
            "SELECT {LESION_COLUMNS} {LESION_FROM}
             WHERE (?1 IS NULL OR l.status = ?1) AND (?2 IS NULL OR l.photo_hash = ?2)
               AND (?3 OR l.deleted_at IS NULL)
             ORDER BY l.photo_hash, l.number"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows =
            stmt.query_map(params![f.status.map(ReviewStatus::as_str), f.photo_hash, f.include_deleted], lesion_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The lesions of one photo (not deleted), by number.
    pub fn lesions_of(&self, photo_hash: &str) -> Result<Vec<LesionRow>> {
        self.lesions(&LesionFilter { photo_hash: Some(photo_hash.to_owned()), ..Default::default() })
    }

    /// Submitted masks waiting for a reviewer, oldest submission first.
    pub fn mask_queue(&self) -> Result<Vec<LesionRow>> {
        let sql = format!(
            "SELECT {LESION_COLUMNS} {LESION_FROM}
             WHERE l.status = 'submitted' AND l.deleted_at IS NULL
             ORDER BY (SELECT max(id) FROM mask_reviews r WHERE r.lesion_id = l.id), l.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], lesion_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The latest mask of a lesion, None when it has none yet.
    pub fn lesion_mask(&self, lesion_id: i64) -> Result<Option<Encoded>> {
        let v: Option<i64> =
            self.conn.query_row("SELECT max(id) FROM mask_versions WHERE lesion_id = ?1", [lesion_id], |r| r.get(0))?;
        v.map(|v| self.mask_version_data(v)).transpose()
    }

    pub fn mask_version_data(&self, version_id: i64) -> Result<Encoded> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT width, height, pixels, bbox_x, bbox_y, bbox_w, bbox_h, data FROM mask_versions WHERE id = ?1",
            )?
            .query_row([version_id], |r| {
                Ok(Encoded {
                    width: r.get(0)?,
                    height: r.get(1)?,
                    pixels: r.get::<_, i64>(2)? as u64,
                    bbox: PixelRect::new(r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?),
                    data: r.get(7)?,
                })
            })
            .optional()?;
        row.ok_or_else(|| Error::Invalid(format!("no mask version {version_id}")))
    }

    pub fn mask_versions(&self, lesion_id: i64) -> Result<Vec<VersionRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.id, v.lesion_id, v.parent_id, v.annotator, v.session, v.started_at, v.saved_at, v.saves,
                v.source, v.source_detail, v.width, v.height, v.pixels, v.bbox_x, v.bbox_y, v.bbox_w, v.bbox_h,
                length(v.data)
             FROM mask_versions v WHERE v.lesion_id = ?1 ORDER BY v.id",
        )?;
        let rows = stmt.query_map([lesion_id], |r| version_at(r, 0).map(|v| v.expect("id is not null")))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn mask_reviews(&self, lesion_id: i64) -> Result<Vec<ReviewRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, lesion_id, version_id, at, actor, role, action, from_status, to_status, comment
             FROM mask_reviews WHERE lesion_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([lesion_id], |r| {
            let role: Option<String> = r.get(5)?;
            let action: String = r.get(6)?;
            let from: Option<String> = r.get(7)?;
            let to: String = r.get(8)?;
            Ok(ReviewRow {
                id: r.get(0)?,
                lesion_id: r.get(1)?,
                version_id: r.get(2)?,
                at: r.get(3)?,
                actor: r.get(4)?,
                role: role.map(|s| Role::parse(&s).ok_or_else(|| bad_value("role", &s))).transpose()?,
                action: ReviewEvent::parse(&action).ok_or_else(|| bad_value("review action", &action))?,
                from_status: from.map(|s| status_of(&s)).transpose()?,
                to_status: status_of(&to)?,
                comment: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The masks of a photo as `list --json` shows them.
    pub fn mask_summaries(&self, photo_hash: &str) -> Result<Vec<MaskSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT l.id, l.label, l.status, v.annotator, coalesce(v.pixels, 0)
             FROM lesions l LEFT JOIN mask_versions v ON v.id = (SELECT max(id) FROM mask_versions WHERE lesion_id = l.id)
             WHERE l.photo_hash = ?1 AND l.deleted_at IS NULL ORDER BY l.number",
        )?;
        let rows = stmt.query_map([photo_hash], |r| {
            let status: String = r.get(2)?;
            Ok(MaskSummary {
                id: r.get(0)?,
                label: r.get(1)?,
                status: status_of(&status)?,
                annotator: r.get(3)?,
                pixels: r.get::<_, i64>(4)? as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every photo with the paths it goes by, for matching mask files to photos by name.
    pub fn photos_for_masks(&self) -> Result<Vec<PhotoForMasks>> {
        self.photos_for_masks_where(None)
    }

    /// One photo as masks see it.
    pub fn photo_for_masks(&self, hash: &str) -> Result<Option<PhotoForMasks>> {
        Ok(self.photos_for_masks_where(Some(hash))?.into_iter().next())
    }

    fn photos_for_masks_where(&self, hash: Option<&str>) -> Result<Vec<PhotoForMasks>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.id, p.hash, p.width, p.height, p.orientation,
                (SELECT json_group_array(path) FROM (SELECT path FROM locations WHERE photo_id = p.id
                   ORDER BY missing_since IS NOT NULL, id)),
                NOT EXISTS (SELECT 1 FROM locations l WHERE l.photo_id = p.id AND l.missing_since IS NULL)
             FROM photos p WHERE ?1 IS NULL OR p.hash = ?1 ORDER BY p.id",
        )?;
        let rows = stmt.query_map([hash], |r| {
            let (w, h, o): (u32, u32, u8) = (r.get(2)?, r.get(3)?, r.get(4)?);
            let (width, height) = displayed_size(w, h, o);
            let paths: String = r.get(5)?;
            Ok(PhotoForMasks {
                id: r.get(0)?,
                hash: r.get(1)?,
                width,
                height,
                orientation: o,
                paths: serde_json::from_str(&paths).unwrap_or_default(),
                missing: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::masks::{Mask, tools};

    fn store_with_photo(dir: &std::path::Path) -> (Store, String) {
        let s = Store::open(&dir.join("t.sqlite")).unwrap();
        let hash = "ab".repeat(32);
        s.conn
            .execute(
                "INSERT INTO photos (hash, byte_size, width, height, format, orientation, modality, modality_source,
                    imported_at) VALUES (?1, 1, 40, 30, 'jpeg', 6, 'dermoscopy', 'cue', 'now')",
                [&hash],
            )
            .unwrap();
        (s, hash)
    }

    /// Orientation 6 turns the 40×30 photo into 30×40 as shown: masks are that size.
    fn mask(r: f32) -> Encoded {
        let mut m = Mask::new(30, 40);
        let s = tools::disc(&m.bounds(), (15.0, 20.0), r);
        tools::paint(&mut m, &s, true);
        Encoded::of(&m)
    }

    #[test]
    fn sessions_make_versions_and_old_versions_cannot_change() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, hash) = store_with_photo(dir.path());
        let l = s.create_lesion(&hash, "lesion", "", "alice").unwrap();
        assert_eq!(l.number, 1);
        assert!(s.save_mask(l.id, &Encoded::of(&Mask::new(40, 30)), "alice", "s1").is_err(), "unrotated size");
        let a = s.save_mask(l.id, &mask(5.0), "alice", "s1").unwrap();
        assert!(a.new_version);
        let b = s.save_mask(l.id, &mask(6.0), "alice", "s1").unwrap();
        assert_eq!((b.version_id, b.new_version), (a.version_id, false), "the session's autosave updates");
        assert!(s.save_mask(l.id, &mask(6.0), "alice", "s1").unwrap().unchanged);
        let c = s.save_mask(l.id, &mask(7.0), "bob", "s2").unwrap();
        assert!(c.new_version);
        let vs = s.mask_versions(l.id).unwrap();
        assert_eq!(vs.len(), 2);
        assert_eq!((vs[0].saves, vs[1].parent_id), (2, Some(vs[0].id)));
        assert_eq!(s.mask_version_data(vs[0].id).unwrap(), mask(6.0), "the previous version is kept");
        assert_eq!(s.lesion_mask(l.id).unwrap().unwrap(), mask(7.0));
        // The database itself refuses to rewrite or remove an older version.
        let upd = s.conn.execute("UPDATE mask_versions SET pixels = 0 WHERE id = ?1", [vs[0].id]);
        assert!(upd.unwrap_err().to_string().contains("latest version"));
        let del = s.conn.execute("DELETE FROM mask_versions", []);
        assert!(del.unwrap_err().to_string().contains("kept"));
        let hijack = s.conn.execute("UPDATE mask_versions SET session = 'x' WHERE id = ?1", [vs[1].id]);
        assert!(hijack.is_err());
    }

    #[test]
    fn review_rules_and_their_log() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, hash) = store_with_photo(dir.path());
        let l = s.create_lesion(&hash, "lesion", "", "alice").unwrap();
        assert!(s.review_lesion(l.id, ReviewAction::Submit, "alice", None, "").is_err(), "no mask yet");
        s.save_mask(l.id, &mask(5.0), "alice", "s1").unwrap();
        assert_eq!(s.review_lesion(l.id, ReviewAction::Submit, "alice", None, "").unwrap(), ReviewStatus::Submitted);
        assert!(s.review_lesion(l.id, ReviewAction::Approve, "alice", Some(Role::Dermatologist), "").is_err());
        assert!(s.review_lesion(l.id, ReviewAction::Approve, "bob", None, "").is_err(), "a role is needed");
        assert!(s.review_lesion(l.id, ReviewAction::Return, "bob", Some(Role::Resident), " ").is_err());
        s.review_lesion(l.id, ReviewAction::Return, "bob", Some(Role::Resident), "edge").unwrap();
        s.review_lesion(l.id, ReviewAction::Submit, "alice", None, "").unwrap();
        s.review_lesion(l.id, ReviewAction::Approve, "carol", Some(Role::Dermatologist), "").unwrap();
        assert_eq!(s.mask_queue().unwrap().len(), 0);
        // Changing an approved mask sends it back to draft, logged as an edit.
        let saved = s.save_mask(l.id, &mask(8.0), "alice", "s9").unwrap();
        assert_eq!(saved.status, ReviewStatus::Draft);
        let log = s.mask_reviews(l.id).unwrap();
        let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(actions, ["submit", "return", "submit", "approve", "edit"]);
        assert_eq!(log[1].comment, "edge");
        assert_eq!(log[3].role, Some(Role::Dermatologist));
        let upd = s.conn.execute("UPDATE mask_reviews SET comment = ''", []);
        assert!(upd.is_err(), "the review log is append-only");
        // Labels, deletion and the audit trail.
        s.set_lesion_label(l.id, "Malignant:Malignant melanocytic proliferations (Melanoma)", "", "alice").unwrap();
        assert!(s.set_lesion_label(l.id, "  ", "", "alice").is_err());
        s.delete_lesion(l.id, "alice").unwrap();
        assert!(s.lesions_of(&hash).unwrap().is_empty());
        assert!(s.save_mask(l.id, &mask(3.0), "alice", "s9").is_err());
        let audit: Vec<String> = s.audit_recent(50).unwrap().into_iter().map(|a| a.action).collect();
        for a in ["lesion_create", "mask_version", "mask_status", "lesion_label", "lesion_delete"] {
            assert!(audit.iter().any(|x| x == a), "{a} is audited: {audit:?}");
        }
        // A second lesion on the photo is number 2 (numbers are never reused).
        assert_eq!(s.create_lesion(&hash, "lesion", "", "alice").unwrap().number, 2);
    }
}
