//! Masks made by other tools, into the store: binary mask images matched to photos by file
//! name (`ISIC_0000001_segmentation.png`, `IMD003_lesion.png`, or any image in a `masks/`
//! folder named like its photo), labelme JSON and COCO JSON. Each file goes in whole or not
//! at all; a file that cannot be used is reported with its reason and path, and the rest
//! goes on. Masks attach to the photo's content, so re-importing is harmless (an identical
//! mask is not added twice).

use super::codec::{self, Encoded};
use super::mask::Mask;
use super::tools;
use super::{DEFAULT_LABEL, ReviewStatus};
use crate::error::{Error, Result};
use crate::jobs::Progress;
use crate::store::{NewLesion, PhotoForMasks, Store};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Problem {
    pub path: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ImportReport {
    /// Files looked at (mask images and JSON).
    pub files: u64,
    /// Lesions added.
    pub added: u64,
    /// Masks the store already had (same photo, same pixels).
    pub unchanged: u64,
    /// Files or entries whose photo is not in the archive.
    pub unmatched: Vec<Problem>,
    /// Files that could not be used, with the reason.
    pub errors: Vec<Problem>,
    /// Files that are neither mask images nor labelme/COCO JSON.
    pub skipped: u64,
}

/// Photos by the lower-case file stem of every path they were seen at.
struct Names {
    by_stem: HashMap<String, Vec<PhotoForMasks>>,
}

impl Names {
    fn new(store: &Store) -> Result<Names> {
        let mut by_stem: HashMap<String, Vec<PhotoForMasks>> = HashMap::new();
        for p in store.photos_for_masks()? {
            let mut stems: Vec<String> = p.paths.iter().filter_map(|path| stem_of(path)).collect();
            stems.sort();
            stems.dedup();
            for s in stems {
                by_stem.entry(s).or_default().push(p.clone());
            }
        }
        Ok(Names { by_stem })
    }

    /// The one photo called `stem`; an error when none or several are.
    fn find(&self, stem: &str) -> std::result::Result<&PhotoForMasks, String> {
        match self.by_stem.get(&stem.to_lowercase()).map(Vec::as_slice) {
            None | Some([]) => Err(format!("no photo in the archive is named {stem}")),
            Some([one]) => Ok(one),
            Some(many) => Err(format!("{} different photos are named {stem}; cannot tell which", many.len())),
        }
    }
}

fn stem_of(path: &str) -> Option<String> {
    let name = crate::store::file_name(path);
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    (!stem.is_empty()).then(|| stem.to_lowercase())
}

/// The photo name a mask file points to, if it is one: the archive's own rule
/// (`archive::kind`: `NAME_lesion.png`, `NAME_segmentation.png`, `masks/NAME.png`, ...), so
/// that what the photo import sets aside as masks is what this takes in.
fn mask_target(path: &Path, root: &Path) -> Option<String> {
    match crate::archive::kind::kind(path, root) {
        crate::archive::kind::Kind::Mask { stem } if !stem.is_empty() => Some(stem),
        _ => None,
    }
}

/// Imports every mask file below `dir` (or the one file `dir` names).
pub fn import_path(
    store: &mut Store,
    dir: &Path,
    status: ReviewStatus,
    actor: &str,
    progress: &Progress,
) -> Result<ImportReport> {
    if !dir.exists() {
        return Err(Error::Invalid(format!("no such file or folder: {}", dir.display())));
    }
    let names = Names::new(store)?;
    let session = format!("import-{}-{}", crate::util::now_iso(), std::process::id());
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for e in walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name() {
        match e {
            Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
            Ok(_) => {}
            Err(e) => return Err(Error::Invalid(format!("cannot read the folder ({e}): {}", dir.display()))),
        }
    }
    progress.set_total(files.len() as u64, true);
    let mut report = ImportReport::default();
    for path in files {
        if progress.is_cancelled() {
            return Err(Error::Cancelled);
        }
        progress.add_done(1);
        let shown = path.display().to_string();
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_lowercase).unwrap_or_default();
        let parsed = if ext == "json" {
            read_json(&path, &names, status, &mut report)
        } else if let Some(target) = mask_target(&path, dir) {
            report.files += 1;
            match names.find(&target) {
                Err(reason) => {
                    report.unmatched.push(Problem { path: shown.clone(), reason });
                    continue;
                }
                Ok(photo) => read_mask_image(&path, photo).map(|m| {
                    vec![NewLesion {
                        photo_hash: photo.hash.clone(),
                        label: DEFAULT_LABEL.to_owned(),
                        mask: m,
                        status,
                        source_detail: shown.clone(),
                    }]
                }),
            }
        } else {
            report.skipped += 1;
            continue;
        };
        let items = match parsed {
            Ok(items) => items,
            Err(reason) => {
                report.errors.push(Problem { path: shown, reason });
                continue;
            }
        };
        if items.is_empty() {
            continue;
        }
        match store.import_lesions(&items, actor, &session) {
            Ok(done) => {
                for (_, added) in done {
                    if added { report.added += 1 } else { report.unchanged += 1 }
                }
            }
            // A file whose masks do not fit is that file's problem; a database that fails
            // is everyone's.
            Err(Error::Invalid(reason)) => report.errors.push(Problem { path: shown, reason }),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

fn read_mask_image(path: &Path, photo: &PhotoForMasks) -> std::result::Result<Encoded, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mask = codec::read_binary_image(&bytes).map_err(|e| e.to_string())?;
    fit(mask, photo)
}

fn fit(mask: Mask, photo: &PhotoForMasks) -> std::result::Result<Encoded, String> {
    if (mask.width(), mask.height()) != (photo.width, photo.height) {
        return Err(format!(
            "the mask is {}×{} but its photo is {}×{}",
            mask.width(),
            mask.height(),
            photo.width,
            photo.height
        ));
    }
    if mask.is_empty() {
        return Err("the mask is empty".into());
    }
    Ok(Encoded::of(&mask))
}

/// A labelme or COCO file's lesions; other JSON is skipped.
fn read_json(
    path: &Path,
    names: &Names,
    status: ReviewStatus,
    report: &mut ImportReport,
) -> std::result::Result<Vec<NewLesion>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let v: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            report.files += 1;
            return Err(format!("not valid JSON (line {}, column {}): {e}", e.line(), e.column()));
        }
    };
    let shown = path.display().to_string();
    if v.get("shapes").is_some() {
        report.files += 1;
        labelme(&v, path, names, status, &shown, report)
    } else if v.get("annotations").is_some() && v.get("images").is_some() {
        report.files += 1;
        coco(&v, names, status, &shown, report)
    } else {
        report.skipped += 1;
        Ok(Vec::new())
    }
}

fn points(v: &serde_json::Value) -> Option<Vec<(f32, f32)>> {
    v.as_array()?
        .iter()
        .map(|p| {
            let a = p.as_array()?;
            Some((a.first()?.as_f64()? as f32, a.get(1)?.as_f64()? as f32))
        })
        .collect()
}

fn labelme(
    v: &serde_json::Value,
    path: &Path,
    names: &Names,
    status: ReviewStatus,
    shown: &str,
    report: &mut ImportReport,
) -> std::result::Result<Vec<NewLesion>, String> {
    let stem = v
        .get("imagePath")
        .and_then(|p| p.as_str())
        .and_then(stem_of)
        .or_else(|| path.file_stem().and_then(|s| s.to_str()).map(str::to_lowercase))
        .unwrap_or_default();
    let photo = match names.find(&stem) {
        Ok(p) => p,
        Err(reason) => {
            report.unmatched.push(Problem { path: shown.to_owned(), reason });
            return Ok(Vec::new());
        }
    };
    let dims = (v.get("imageWidth").and_then(|x| x.as_u64()), v.get("imageHeight").and_then(|x| x.as_u64()));
    if let (Some(w), Some(h)) = dims
        && (w, h) != (photo.width as u64, photo.height as u64)
    {
        return Err(format!("the file is for a {w}×{h} image but its photo is {}×{}", photo.width, photo.height));
    }
    let shapes = v["shapes"].as_array().ok_or("\"shapes\" is not a list")?;
    // Shapes sharing a label and a group_id are one lesion; others are one each.
    let mut groups: Vec<(String, Option<i64>, Mask)> = Vec::new();
    for (i, s) in shapes.iter().enumerate() {
        let label = s.get("label").and_then(|l| l.as_str()).unwrap_or(DEFAULT_LABEL).to_owned();
        let group = s.get("group_id").and_then(|g| g.as_i64());
        let kind = s.get("shape_type").and_then(|k| k.as_str()).unwrap_or("polygon");
        let pts = s.get("points").and_then(points).ok_or(format!("shape {i} has no readable points"))?;
        let mut m = Mask::new(photo.width, photo.height);
        let b = m.bounds();
        let stamp = match (kind, pts.as_slice()) {
            ("polygon", p) if p.len() >= 3 => tools::polygon(&b, p),
            ("rectangle", [a, c]) => tools::polygon(&b, &[*a, (c.0, a.1), *c, (a.0, c.1)]),
            ("circle", [c, e]) => tools::disc(&b, *c, ((e.0 - c.0).powi(2) + (e.1 - c.1).powi(2)).sqrt()),
            _ => return Err(format!("shape {i} is a {kind} with {} points, which cannot be a lesion area", pts.len())),
        };
        tools::paint(&mut m, &stamp, true);
        match groups.iter_mut().find(|(l, g, _)| group.is_some() && *l == label && *g == group) {
            Some((_, _, into)) => {
                tools::paint(into, &super::Stamp::from_mask(&m), true);
            }
            None => groups.push((label, group, m)),
        }
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(i, (label, _, m))| {
            Ok(NewLesion {
                photo_hash: photo.hash.clone(),
                label,
                mask: fit(m, photo).map_err(|e| format!("shape group {i}: {e}"))?,
                status,
                source_detail: format!("{shown} (labelme shape group {i})"),
            })
        })
        .collect()
}

fn coco(
    v: &serde_json::Value,
    names: &Names,
    status: ReviewStatus,
    shown: &str,
    report: &mut ImportReport,
) -> std::result::Result<Vec<NewLesion>, String> {
    let list = |k: &str| v[k].as_array().cloned().unwrap_or_default();
    let categories: HashMap<i64, String> = list("categories")
        .iter()
        .filter_map(|c| Some((c.get("id")?.as_i64()?, c.get("name")?.as_str()?.to_owned())))
        .collect();
    let mut images: HashMap<i64, Option<&PhotoForMasks>> = HashMap::new();
    for im in v["images"].as_array().into_iter().flatten() {
        let id = im.get("id").and_then(|i| i.as_i64()).ok_or("an image without an id")?;
        let file = im.get("file_name").and_then(|f| f.as_str()).unwrap_or_default();
        match names.find(&stem_of(file).unwrap_or_default()) {
            Ok(p) => {
                images.insert(id, Some(p));
            }
            Err(reason) => {
                report.unmatched.push(Problem { path: format!("{shown} (image {id}, {file})"), reason });
                images.insert(id, None);
            }
        }
    }
    let mut out = Vec::new();
    for (i, a) in v["annotations"].as_array().into_iter().flatten().enumerate() {
        let aid = a.get("id").and_then(|x| x.as_i64()).unwrap_or(i as i64);
        let image = a.get("image_id").and_then(|x| x.as_i64()).ok_or(format!("annotation {aid} has no image_id"))?;
        let Some(photo) = images.get(&image).ok_or(format!("annotation {aid} names image {image}, not in the file"))?
        else {
            continue;
        };
        let seg = a.get("segmentation").ok_or(format!("annotation {aid} has no segmentation"))?;
        let m = coco_segmentation(seg, photo.width, photo.height).map_err(|e| format!("annotation {aid}: {e}"))?;
        let label = a
            .get("category_id")
            .and_then(|c| c.as_i64())
            .and_then(|c| categories.get(&c).cloned())
            .unwrap_or_else(|| DEFAULT_LABEL.to_owned());
        out.push(NewLesion {
            photo_hash: photo.hash.clone(),
            label,
            mask: fit(m, photo).map_err(|e| format!("annotation {aid}: {e}"))?,
            status,
            source_detail: format!("{shown} (COCO annotation {aid})"),
        });
    }
    Ok(out)
}

/// A COCO segmentation: polygons, or RLE (compressed string or plain counts).
pub fn coco_segmentation(seg: &serde_json::Value, width: u32, height: u32) -> std::result::Result<Mask, String> {
    if let Some(polys) = seg.as_array() {
        let mut m = Mask::new(width, height);
        let b = m.bounds();
        for p in polys {
            let flat: Vec<f32> = p
                .as_array()
                .ok_or("a polygon is not a list")?
                .iter()
                .filter_map(|x| x.as_f64().map(|f| f as f32))
                .collect();
            let pts: Vec<(f32, f32)> = flat.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0], c[1])).collect();
            if pts.len() < 3 {
                return Err("a polygon with fewer than three points".into());
            }
            tools::paint(&mut m, &tools::polygon(&b, &pts), true);
        }
        return Ok(m);
    }
    let size = seg.get("size").and_then(|s| s.as_array()).ok_or("RLE without a size")?;
    let (h, w) = (
        size.first().and_then(|x| x.as_u64()).ok_or("bad RLE size")?,
        size.get(1).and_then(|x| x.as_u64()).ok_or("bad RLE size")?,
    );
    if (w, h) != (width as u64, height as u64) {
        return Err(format!("RLE is for a {w}×{h} image but the photo is {width}×{height}"));
    }
    let counts = match seg.get("counts") {
        Some(serde_json::Value::String(s)) => codec::coco_parse_string(s).map_err(|e| e.to_string())?,
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|c| c.as_u64().filter(|&c| c <= u32::MAX as u64).map(|c| c as u32))
            .collect::<Option<Vec<u32>>>()
            .ok_or("RLE counts are not whole numbers")?,
        _ => return Err("RLE without counts".into()),
    };
    codec::coco_decode(width, height, &counts).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_file_names() {
        let t = |p: &str| mask_target(Path::new(p), Path::new("/a"));
        assert_eq!(t("/a/ISIC_0000001_segmentation.png").as_deref(), Some("ISIC_0000001"));
        assert_eq!(t("/a/IMD003_lesion.bmp").as_deref(), Some("IMD003"));
        assert_eq!(t("/a/masks/IMD003.png").as_deref(), Some("IMD003"));
        assert_eq!(t("/a/images/IMD003.png"), None);
        assert_eq!(t("/a/_mask.png"), None);
        assert_eq!(t("/a/notes.json"), None);
    }
}
