//! Masks out of dermdesk, for training: COCO JSON with RLE (`annotations.json` and
//! `images/`), or PNG (`images/`, a binary `masks/NAME_N.png` per lesion and an indexed
//! `labels/NAME.png` per photo whose pixel values are lesion numbers). Which photos may leave
//! is decided by the one gate, `Store::release` (screened, reviewed, not opted out); names
//! are sequence numbers and never carry a path. Redactions from the privacy review are burned
//! into the exported pixels.

use super::codec::{self, Encoded};
use super::{Mask, ReviewStatus};
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::store::{LesionFilter, LesionRow, Releasable, Store, Withheld};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Coco,
    Png,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Coco => "coco",
            ExportFormat::Png => "png",
        }
    }

    pub fn parse(s: &str) -> Option<ExportFormat> {
        [ExportFormat::Coco, ExportFormat::Png].into_iter().find(|f| f.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ExportOptions {
    pub format: ExportFormat,
    /// Only lesions in this state (default: approved, the teacher data); None: all.
    pub status: Option<ReviewStatus>,
    /// The executable that decodes photos (`work::default_exe()`).
    pub worker_exe: PathBuf,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            format: ExportFormat::Coco,
            status: Some(ReviewStatus::Approved),
            worker_exe: crate::work::default_exe(),
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Held {
    pub photo_id: Option<i64>,
    pub hold: Withheld,
    pub lesions: usize,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExportError {
    pub photo_id: Option<i64>,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ExportReport {
    pub out: PathBuf,
    pub photos: usize,
    pub lesions: usize,
    /// Photos the gate kept back, and why.
    pub held: Vec<Held>,
    /// Photos that should have left but could not be written (their files unreadable...).
    pub errors: Vec<ExportError>,
    /// Exported name -> dermdesk lesion ids, to trace a training example back.
    pub names: BTreeMap<String, Vec<i64>>,
}

/// A colour-blind-safe palette (Okabe–Ito) for the label images, after black for "none".
pub const PALETTE: [[u8; 3]; 8] = [
    [0, 0, 0],
    [230, 159, 0],
    [86, 180, 233],
    [0, 158, 115],
    [240, 228, 66],
    [0, 114, 178],
    [213, 94, 0],
    [204, 121, 167],
];

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io("cannot write the export", e, path))
}

/// Writes the export into `out` (which must be empty or not yet exist).
pub fn export(store: &Store, out: &Path, opts: &ExportOptions, progress: &Progress) -> Result<ExportReport> {
    if out.exists() && std::fs::read_dir(out).map_err(|e| Error::io("cannot read", e, out))?.next().is_some() {
        return Err(Error::Invalid(format!("the export folder is not empty: {}", out.display())));
    }
    let lesions = store.lesions(&LesionFilter { status: opts.status, ..Default::default() })?;
    // Photos in the order of their ids, each with its lesions in number order.
    let mut by_photo: BTreeMap<(i64, String), Vec<LesionRow>> = BTreeMap::new();
    for l in lesions.into_iter().filter(|l| l.version.as_ref().is_some_and(|v| v.pixels > 0)) {
        by_photo.entry((l.photo_id.unwrap_or(i64::MAX), l.photo_hash.clone())).or_default().push(l);
    }
    let ids: Vec<i64> = by_photo.keys().map(|(id, _)| *id).filter(|id| *id != i64::MAX).collect();
    let release = store.release(Some(&ids))?;
    let why: std::collections::HashMap<i64, Withheld> = release.withheld.iter().copied().collect();
    let mut allowed: std::collections::HashMap<i64, Releasable> =
        release.allowed.into_iter().map(|r| (r.photo_id, r)).collect();
    let mut report = ExportReport { out: out.to_path_buf(), ..Default::default() };
    let mut leaving: Vec<(Releasable, Vec<LesionRow>)> = Vec::new();
    for ((id, _), ls) in by_photo {
        match allowed.remove(&id) {
            Some(r) => leaving.push((r, ls)),
            None => report.held.push(Held {
                photo_id: (id != i64::MAX).then_some(id),
                hold: why.get(&id).copied().unwrap_or(Withheld::NoSuchPhoto),
                lesions: ls.len(),
            }),
        }
    }
    let names: Vec<String> = (1..=leaving.len()).map(|i| format!("{i:06}")).collect();
    for sub in match opts.format {
        ExportFormat::Coco => &["images"][..],
        ExportFormat::Png => &["images", "masks", "labels"][..],
    } {
        let d = out.join(sub);
        std::fs::create_dir_all(&d).map_err(|e| Error::io("cannot create the export folder", e, &d))?;
    }
    progress.set_total(leaving.len() as u64, true);
    let mut coco_images = Vec::new();
    let mut coco_annotations = Vec::new();
    let mut categories: BTreeMap<String, usize> = BTreeMap::new();
    let mut reader = super::PixelReader::new(&opts.worker_exe);
    for (seq, ((r, ls), name)) in leaving.iter().zip(&names).enumerate() {
        if progress.is_cancelled() {
            return Err(Error::Cancelled);
        }
        progress.add_done(1);
        let photo_id = ls.first().and_then(|l| l.photo_id);
        let image_file = match write_image(&mut reader, r, &out.join("images"), name) {
            Ok(f) => f,
            Err(e) => {
                report.errors.push(ExportError { photo_id, reason: e.to_string() });
                continue;
            }
        };
        let mut masks: Vec<(&LesionRow, Mask)> = Vec::new();
        for l in ls {
            let m = store.lesion_mask(l.id)?.ok_or_else(|| Error::Invalid(format!("lesion {} has no mask", l.id)))?;
            masks.push((l, Encoded::decode(&m)?));
        }
        let (w, h) = (masks[0].1.width(), masks[0].1.height());
        report.photos += 1;
        report.lesions += masks.len();
        report.names.insert(name.clone(), masks.iter().map(|(l, _)| l.id).collect());
        match opts.format {
            ExportFormat::Coco => {
                coco_images.push(serde_json::json!({
                    "id": seq + 1, "file_name": image_file, "width": w, "height": h,
                }));
                for (l, m) in &masks {
                    let next = categories.len() + 1;
                    let cat = *categories.entry(l.label.clone()).or_insert(next);
                    let bb = m.bbox();
                    coco_annotations.push(serde_json::json!({
                        "id": coco_annotations.len() + 1,
                        "image_id": seq + 1,
                        "category_id": cat,
                        "segmentation": {"size": [h, w], "counts": codec::coco_string(&codec::coco_counts(m))},
                        "area": m.count(),
                        "bbox": [bb.x, bb.y, bb.w, bb.h],
                        "iscrowd": 0,
                        "lesion_number": l.number,
                        "status": l.status.as_str(),
                    }));
                }
            }
            ExportFormat::Png => {
                let mut labels = vec![0u8; w as usize * h as usize];
                for (i, (l, m)) in masks.iter().enumerate() {
                    write(&out.join("masks").join(format!("{name}_{}.png", l.number)), &codec::png_binary(m)?)?;
                    // Later lesions win where lesions overlap; the binary masks keep each whole.
                    let v = (i + 1).min(255) as u8;
                    for (o, &b) in labels.iter_mut().zip(m.data()) {
                        if b != 0 {
                            *o = v;
                        }
                    }
                }
                write(&out.join("labels").join(format!("{name}.png")), &codec::png_indexed(w, h, &labels, &PALETTE)?)?;
            }
        }
    }
    if opts.format == ExportFormat::Coco {
        let cats: Vec<serde_json::Value> =
            categories.iter().map(|(n, id)| serde_json::json!({"id": id, "name": n})).collect();
        let mut cats = cats;
        cats.sort_by_key(|c| c["id"].as_u64());
        let doc = serde_json::json!({
            "info": {"description": "lesion masks exported by dermdesk", "version": env!("CARGO_PKG_VERSION"),
                     "date_created": crate::util::now_iso()},
            "images": coco_images,
            "annotations": coco_annotations,
            "categories": cats,
        });
        let text = serde_json::to_vec(&doc).map_err(|e| Error::Invalid(format!("cannot write JSON: {e}")))?;
        write(&out.join("annotations.json"), &text)?;
    }
    Ok(report)
}

/// Writes a photo's pixels with no metadata: an upright, unredacted JPEG as it is minus its
/// metadata segments (the same pixels, no re-encoding), anything else decoded, oriented,
/// redacted as its reviewer decided and saved as PNG (lossless, so masks stay aligned).
/// Returns the file name.
fn write_image(reader: &mut super::PixelReader, r: &Releasable, dir: &Path, name: &str) -> Result<String> {
    let path = Path::new(&r.path);
    if r.redactions.iter().any(|x| matches!(x.shape, crate::store::Shape::Crop { .. })) {
        // The masks would have to be cropped with it; until that is built, say so.
        return Err(Error::Invalid(format!(
            "photo {} is cropped by its privacy review, and masks are not cropped with it yet (export it with export-deid): {}",
            r.photo_id,
            path.display()
        )));
    }
    let file = format!("{name}.png");
    if !r.redactions.is_empty() {
        let (img, _) = crate::privacy::export::deidentified_pixels(r)?;
        write(&dir.join(&file), &crate::privacy::export::encode_png(&img)?)?;
        return Ok(file);
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read the photo", e, path))?;
    if crate::decode::tasks::hash_bytes(&bytes) != r.hash {
        return Err(Error::Invalid(format!(
            "the file has changed since it was imported (import its folder again): {}",
            path.display()
        )));
    }
    if r.orientation == 1
        && bytes.starts_with(&[0xFF, 0xD8])
        && let Some(clean) = crate::decode::jpeg_without_metadata(&bytes)
    {
        let file = format!("{name}.jpg");
        write(&dir.join(&file), &clean)?;
        return Ok(file);
    }
    drop(bytes);
    let img = reader.read(path, r.orientation, &r.hash)?;
    let mut buf = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png)
        .map_err(|e| Error::Invalid(format!("cannot encode PNG: {e}")))?;
    write(&dir.join(&file), &buf)?;
    Ok(file)
}
