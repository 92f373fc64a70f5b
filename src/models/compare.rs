//! Two versions of a model side by side, on the photos both have looked at. Of a classifier:
//! how often their most probable class is the same, how often each agrees with the chart (the
//! rule of [`super::agree`], each version by its own card), and which photos changed their
//! answer. Of a segmenter: how much the two versions' masks overlap (Dice, IoU), and the
//! photos where they differ most. Results are stored per version (a new version never replaces
//! an older one's) for this. `dermdesk models compare` and the Models window show it.

use super::agree::{Ranked, agrees_with_chart, ranked};
use super::{ModelError, ModelInfo, ModelTask, Prediction, compare_versions, registry};
use crate::masks::codec;
use crate::masks::mask::Mask;
use crate::masks::metrics::{Overlap, Summary, summarise};
use crate::store::Store;
use crate::taxonomy::Taxonomy;
use serde::Serialize;
use std::collections::HashMap;

/// What two versions of one classifier said about the same photos.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub model: String,
    /// "classification".
    pub task: String,
    /// The older version (by default the one before `to`).
    pub from: String,
    /// The newer version (by default the newest).
    pub to: String,
    /// Photos with a result of both versions.
    pub photos: usize,
    /// Of those, photos whose most probable label (by key) is the same in both.
    pub same_top: usize,
    /// Results of one version only (photos the other has not looked at).
    pub only_from: u64,
    pub only_to: u64,
    /// Photos of both with a chart diagnosis to compare with.
    pub charted: usize,
    /// Of the charted photos, those where each version agrees with the chart.
    pub from_agrees: usize,
    pub to_agrees: usize,
    /// Charted photos where `from` disagreed with the chart and `to` agrees, and the reverse.
    pub now_agrees: usize,
    pub now_disagrees: usize,
    /// Every photo whose most probable label changed, in photo order.
    pub changed: Vec<Change>,
}

/// One photo whose most probable label differs between the versions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub photo_id: i64,
    pub from: Ranked,
    pub to: Ranked,
    /// The chart's code (see `agree`), if the photo has one.
    pub chart_code: Option<String>,
    pub from_agrees: Option<bool>,
    pub to_agrees: Option<bool>,
}

/// Two versions compared, as their task allows.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Versions {
    Classes(Comparison),
    Masks(MaskComparison),
}

/// What two versions of one segmenter drew on the same photos.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MaskComparison {
    pub model: String,
    /// "segmentation".
    pub task: String,
    pub from: String,
    pub to: String,
    /// Photos with a mask of both versions.
    pub photos: usize,
    pub only_from: u64,
    pub only_to: u64,
    /// Dice and IoU of the two versions' masks, over those photos (two empty masks agree).
    pub dice: Summary,
    pub iou: Summary,
    /// The photos whose masks overlap less than [`DIFFER_BELOW`] (Dice), least first.
    pub differ: Vec<MaskChange>,
}

/// One photo whose two masks differ.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MaskChange {
    pub photo_id: i64,
    pub dice: f64,
    /// Each mask's share of the photo.
    pub from_share: f64,
    pub to_share: f64,
}

/// Below this Dice, two versions' masks of a photo are listed as differing.
pub const DIFFER_BELOW: f64 = 0.8;

/// Compares versions `from` and `to` of model `name` (by default the newest and the one
/// before it): a classifier's answers or a segmenter's masks. Refused, with the reason, for an
/// unknown model or version, an embedder, a model with a single version, or the same version
/// twice.
pub fn compare_any(store: &Store, name: &str, from: Option<&str>, to: Option<&str>) -> Result<Versions, ModelError> {
    let (a, b) = pick(store, name, from, to)?;
    match b.card.task {
        ModelTask::Classification => Ok(Versions::Classes(classes(store, &a, &b)?)),
        ModelTask::Segmentation => Ok(Versions::Masks(masks(store, &a, &b)?)),
        ModelTask::Embedding => Err(ModelError::Compare(format!(
            "{name} is an embedding model: versions can be compared for classifiers and segmenters only"
        ))),
    }
}

/// The photos whose answer changed from version `from` to `to` of model `name`: a
/// classifier's most probable class, or a segmenter's mask (Dice below [`DIFFER_BELOW`]), in
/// photo order. The browser's and `dermdesk list`'s `changed_between` filter.
pub fn changed_photos(store: &Store, name: &str, from: &str, to: &str) -> Result<Vec<i64>, ModelError> {
    let mut ids: Vec<i64> = match compare_any(store, name, Some(from), Some(to))? {
        Versions::Classes(c) => c.changed.iter().map(|c| c.photo_id).collect(),
        Versions::Masks(m) => m.differ.iter().map(|d| d.photo_id).collect(),
    };
    ids.sort_unstable();
    Ok(ids)
}

/// Compares versions `from` and `to` of classifier `name` (see `compare_any`).
pub fn compare(store: &Store, name: &str, from: Option<&str>, to: Option<&str>) -> Result<Comparison, ModelError> {
    let (a, b) = pick(store, name, from, to)?;
    if b.card.task != ModelTask::Classification {
        return Err(ModelError::Compare(format!("{name} is a {} model, not a classifier", b.card.task.as_str())));
    }
    classes(store, &a, &b)
}

/// The registered versions of model `name`, newest first.
fn versions(store: &Store, name: &str) -> Result<Vec<ModelInfo>, ModelError> {
    Ok(registry::list(store)?.into_iter().filter(|m| m.name() == name).collect())
}

/// The two versions: `to` (default the newest) and `from` (default the newest older one).
fn pick(store: &Store, name: &str, from: Option<&str>, to: Option<&str>) -> Result<(ModelInfo, ModelInfo), ModelError> {
    let all = versions(store, name)?;
    let Some(newest) = all.first() else { return Err(ModelError::Unknown(name.to_owned())) };
    let find = |v: &str| {
        all.iter().find(|m| m.version() == v).ok_or_else(|| ModelError::Unknown(format!("{name} at version {v}")))
    };
    let to = match to {
        Some(v) => find(v)?,
        None => newest,
    };
    let from = match from {
        Some(v) => find(v)?,
        // The newest version older than `to`; `all` is newest first.
        None => all.iter().find(|m| compare_versions(m.version(), to.version()).is_lt()).ok_or_else(|| {
            ModelError::Compare(format!(
                "{name} has no version older than {}: nothing to compare it with (register another version with \
                 `dermdesk models add`, or name one with --from)",
                to.version()
            ))
        })?,
    };
    if from.id == to.id {
        return Err(ModelError::Compare(format!("give two different versions of {name} (both are {})", to.version())));
    }
    Ok((from.clone(), to.clone()))
}

/// Results of each version on photos the other has not looked at: (`from`'s, `to`'s).
fn only(store: &Store, from: &ModelInfo, to: &ModelInfo, both: usize) -> Result<(u64, u64), ModelError> {
    let counts: HashMap<i64, u64> = store.model_result_counts()?.into_iter().collect();
    let rest = |id: i64| counts.get(&id).copied().unwrap_or(0).saturating_sub(both as u64);
    Ok((rest(from.id), rest(to.id)))
}

fn classes(store: &Store, from: &ModelInfo, to: &ModelInfo) -> Result<Comparison, ModelError> {
    let name = from.name();
    let pairs: Vec<(i64, Vec<f32>, Vec<f32>)> = store
        .paired_results(from.id, to.id)?
        .into_iter()
        .filter_map(|(id, a, b)| match (a, b) {
            (Prediction::Classes { probabilities: a }, Prediction::Classes { probabilities: b }) => Some((id, a, b)),
            _ => None,
        })
        .collect();
    let (only_from, only_to) = only(store, from, to, pairs.len())?;
    let synonyms = store.diagnosis_synonyms()?;
    // The chart's code of every linked photo with a result of this model (any version).
    let mut charts: HashMap<i64, Option<String>> = HashMap::new();
    for r in store.charted_results(name)? {
        charts
            .entry(r.photo_id)
            .or_insert_with(|| Taxonomy::get().map(&r.dx_text, r.dx_code.as_deref(), &synonyms).map(|(c, _)| c));
    }
    let mut c = Comparison {
        model: name.to_owned(),
        task: ModelTask::Classification.as_str().to_owned(),
        from: from.version().to_owned(),
        to: to.version().to_owned(),
        photos: pairs.len(),
        same_top: 0,
        only_from,
        only_to,
        charted: 0,
        from_agrees: 0,
        to_agrees: 0,
        now_agrees: 0,
        now_disagrees: 0,
        changed: Vec::new(),
    };
    for (photo_id, pa, pb) in pairs {
        let chart = charts.get(&photo_id).cloned().flatten();
        let (a, b) =
            (agrees_with_chart(&from.card, &pa, chart.as_deref()), agrees_with_chart(&to.card, &pb, chart.as_deref()));
        if let (Some(a), Some(b)) = (a, b) {
            c.charted += 1;
            c.from_agrees += usize::from(a);
            c.to_agrees += usize::from(b);
            c.now_agrees += usize::from(!a && b);
            c.now_disagrees += usize::from(a && !b);
        }
        let (Some(top_a), Some(top_b)) =
            (ranked(&from.card, &pa).into_iter().next(), ranked(&to.card, &pb).into_iter().next())
        else {
            continue;
        };
        if top_a.label == top_b.label {
            c.same_top += 1;
        } else {
            c.changed.push(Change {
                photo_id,
                from: top_a,
                to: top_b,
                chart_code: chart,
                from_agrees: a,
                to_agrees: b,
            });
        }
    }
    Ok(c)
}

fn masks(store: &Store, from: &ModelInfo, to: &ModelInfo) -> Result<MaskComparison, ModelError> {
    let pairs: Vec<(i64, Vec<u8>, Vec<u8>)> = store
        .paired_results(from.id, to.id)?
        .into_iter()
        .filter_map(|(id, a, b)| match (a, b) {
            (Prediction::Mask { data: a, .. }, Prediction::Mask { data: b, .. }) => Some((id, a, b)),
            _ => None,
        })
        .collect();
    let (only_from, only_to) = only(store, from, to, pairs.len())?;
    let (mut dice, mut iou, mut differ) = (Vec::new(), Vec::new(), Vec::new());
    let broken =
        |id: i64, e: crate::Error| ModelError::Compare(format!("a stored mask of photo {id} cannot be read ({e})"));
    for (photo_id, a, b) in &pairs {
        let a = codec::decode(a).map_err(|e| broken(*photo_id, e))?;
        // A version of another resolution: its mask brought to the first's size.
        let b = nearest(codec::decode(b).map_err(|e| broken(*photo_id, e))?, a.width(), a.height());
        let o = Overlap::of(&a, &b);
        let share = |n: u64| n as f64 / (a.width() as f64 * a.height() as f64).max(1.0);
        dice.push(o.dice());
        iou.push(o.iou());
        if o.dice() < DIFFER_BELOW {
            differ.push(MaskChange {
                photo_id: *photo_id,
                dice: o.dice(),
                from_share: share(o.a),
                to_share: share(o.b),
            });
        }
    }
    differ.sort_by(|x, y| x.dice.total_cmp(&y.dice).then(x.photo_id.cmp(&y.photo_id)));
    Ok(MaskComparison {
        model: from.name().to_owned(),
        task: ModelTask::Segmentation.as_str().to_owned(),
        from: from.version().to_owned(),
        to: to.version().to_owned(),
        photos: pairs.len(),
        only_from,
        only_to,
        dice: summarise(&dice),
        iou: summarise(&iou),
        differ,
    })
}

/// `m` at `width` × `height`, each pixel from the nearest one (as it is when the sizes agree).
fn nearest(m: Mask, width: u32, height: u32) -> Mask {
    if (m.width(), m.height()) == (width, height) {
        return m;
    }
    let (sw, sh) = (m.width() as u64, m.height() as u64);
    let mut data = vec![0u8; width as usize * height as usize];
    for y in 0..height as u64 {
        let sy = ((2 * y + 1) * sh / (2 * height as u64)).min(sh - 1);
        for x in 0..width as u64 {
            let sx = ((2 * x + 1) * sw / (2 * width as u64)).min(sw - 1);
            data[(y * width as u64 + x) as usize] = m.data()[(sy * sw + sx) as usize];
        }
    }
    Mask::from_bytes(width, height, data).expect("the size it was made for")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mask_is_brought_to_another_size_by_its_nearest_pixels() {
        // 2×2 checks up to 4×4: each pixel becomes a 2×2 block; and back down.
        let m = Mask::from_bytes(2, 2, vec![1, 0, 0, 1]).unwrap();
        let up = nearest(m.clone(), 4, 4);
        assert_eq!(up.data(), &[1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
        assert_eq!(nearest(up, 2, 2), m);
        // A size it already has is left as it is; 3×1 from 2×2 takes the pixel under each
        // centre (the row at y = 1, columns 0, 1, 1).
        assert_eq!(nearest(m.clone(), 2, 2), m);
        assert_eq!(nearest(m, 3, 1).data(), &[0, 1, 1]);
    }
}
