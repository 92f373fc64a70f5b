//! Two versions of a classifier side by side, on the photos both have looked at: how often
//! their most probable class is the same, how often each agrees with the chart (the rule of
//! [`super::agree`], each version by its own card), and which photos changed their answer.
//! Results are stored per version (a new version never replaces an older one's) for this.
//! `dermdesk models compare` and the Models window show it.

use super::agree::{Ranked, agrees_with_chart, ranked};
use super::{ModelError, ModelInfo, ModelTask, compare_versions, registry};
use crate::store::Store;
use crate::taxonomy::Taxonomy;
use serde::Serialize;
use std::collections::HashMap;

/// What two versions of one classifier said about the same photos.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub model: String,
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

/// The registered versions of classifier `name`, newest first.
pub fn versions(store: &Store, name: &str) -> Result<Vec<ModelInfo>, ModelError> {
    Ok(registry::list(store)?.into_iter().filter(|m| m.name() == name).collect())
}

/// Compares versions `from` and `to` of classifier `name` (by default the newest and the one
/// before it). Refused, with the reason, for an unknown model or version, a model that is
/// not a classifier, one with a single version, or the same version twice.
pub fn compare(store: &Store, name: &str, from: Option<&str>, to: Option<&str>) -> Result<Comparison, ModelError> {
    let all = versions(store, name)?;
    let Some(newest) = all.first() else { return Err(ModelError::Unknown(name.to_owned())) };
    if newest.card.task != ModelTask::Classification {
        return Err(ModelError::Compare(format!(
            "{name} is a {} model: versions can be compared for classifiers only",
            newest.card.task.as_str()
        )));
    }
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
    let pairs = store.paired_results(from.id, to.id)?;
    let counts: HashMap<i64, u64> = store.model_result_counts()?.into_iter().collect();
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
        from: from.version().to_owned(),
        to: to.version().to_owned(),
        photos: pairs.len(),
        same_top: 0,
        only_from: counts.get(&from.id).copied().unwrap_or(0).saturating_sub(pairs.len() as u64),
        only_to: counts.get(&to.id).copied().unwrap_or(0).saturating_sub(pairs.len() as u64),
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
