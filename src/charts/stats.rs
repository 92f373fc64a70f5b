//! Counts per diagnosis: linked photos per chart diagnosis and per pathology diagnosis, by
//! modality, within a study period (default 2003-01-01 to 2018-11-30), mapped through the
//! taxonomy; and the diagnosis texts no mapping reaches, with counts, for curation.

use super::dates::Date;
use crate::error::Result;
use crate::store::{DiagnosisPhotoCount, OptOutRegistry, Period, Store};
use crate::taxonomy::Taxonomy;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub const STUDY_FROM: &str = "2003-01-01";
pub const STUDY_TO: &str = "2018-11-30";

#[derive(Clone, Debug, Serialize)]
pub struct DiagnosisCount {
    /// The taxonomy code, or null for texts no mapping reaches.
    pub code: Option<String>,
    pub name_en: Option<String>,
    pub name_ja: Option<String>,
    pub group: Option<String>,
    pub benign_malignant: Option<String>,
    pub melanocytic: Option<bool>,
    /// The texts counted here (as the charts wrote them), most frequent first, at most 5.
    pub texts: Vec<String>,
    pub by_modality: BTreeMap<String, u64>,
    pub total: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct UnmappedText {
    pub text: String,
    pub records: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct DiagnosisStats {
    pub from: String,
    pub to: String,
    pub chart: Vec<DiagnosisCount>,
    pub pathology: Vec<DiagnosisCount>,
    pub unmapped: Vec<UnmappedText>,
}

fn aggregate(
    store: &Store,
    registry: &OptOutRegistry,
    withheld: &mut HashMap<i64, bool>,
    rows: Vec<DiagnosisPhotoCount>,
    synonyms: &HashMap<String, String>,
) -> Result<Vec<DiagnosisCount>> {
    let tax = Taxonomy::get();
    let mut groups: BTreeMap<String, (DiagnosisCount, BTreeMap<String, u64>)> = BTreeMap::new();
    for r in rows {
        // Counts are a presentation: what the opt-out gate keeps back is not counted.
        let held = match withheld.get(&r.photo_id) {
            Some(&h) => h,
            None => {
                let h = store.withheld(registry, r.photo_id)?.is_some();
                withheld.insert(r.photo_id, h);
                h
            }
        };
        if held {
            continue;
        }
        let mapped = tax.map(&r.text, r.code.as_deref(), synonyms);
        let key = match &mapped {
            Some((code, _)) => code.clone(),
            None => format!("~{}", r.text),
        };
        let (count, texts) = groups.entry(key).or_insert_with(|| {
            let e = mapped.as_ref().and_then(|(c, _)| tax.entry(c));
            (
                DiagnosisCount {
                    code: mapped.as_ref().map(|(c, _)| c.clone()),
                    name_en: e.map(|e| e.en.clone()),
                    name_ja: e.and_then(|e| e.ja.clone()),
                    group: e.map(|e| e.group.as_str().to_owned()),
                    benign_malignant: e.map(|e| e.group.benign_malignant().to_owned()),
                    melanocytic: e.map(|e| e.melanocytic),
                    texts: Vec::new(),
                    by_modality: BTreeMap::new(),
                    total: 0,
                },
                BTreeMap::new(),
            )
        });
        *count.by_modality.entry(r.modality).or_default() += 1;
        count.total += 1;
        *texts.entry(r.text).or_default() += 1;
    }
    let mut out: Vec<DiagnosisCount> = groups
        .into_values()
        .map(|(mut c, texts)| {
            let mut t: Vec<(String, u64)> = texts.into_iter().collect();
            t.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            c.texts = t.into_iter().take(5).map(|(s, _)| s).collect();
            c
        })
        .collect();
    out.sort_by(|a, b| b.total.cmp(&a.total).then(a.code.cmp(&b.code)));
    Ok(out)
}

/// The counts for a period (either end may be None for the study period's).
pub fn diagnosis_stats(store: &Store, from: Option<&str>, to: Option<&str>) -> Result<DiagnosisStats> {
    // Half-open [from, to_end): `--to 2018` means to the end of 2018.
    let from = Period::parse(from.unwrap_or(STUDY_FROM))?.start;
    let to_end = Period::parse(to.unwrap_or(STUDY_TO))?.end;
    let to = Date::from_iso(&to_end).map(|d| Date::from_days(d.days() - 1).iso()).unwrap_or_else(|| to_end.clone());
    let synonyms = store.diagnosis_synonyms()?;
    let tax = Taxonomy::get();
    let unmapped = store
        .chart_diagnosis_texts(&from, &to)?
        .into_iter()
        .filter(|(text, code, _)| tax.map(text, code.as_deref(), &synonyms).is_none())
        .map(|(text, _, records)| UnmappedText { text, records })
        .fold(BTreeMap::<String, u64>::new(), |mut m, u| {
            *m.entry(u.text).or_default() += u.records;
            m
        });
    let mut unmapped: Vec<UnmappedText> =
        unmapped.into_iter().map(|(text, records)| UnmappedText { text, records }).collect();
    unmapped.sort_by(|a, b| b.records.cmp(&a.records).then(a.text.cmp(&b.text)));
    let registry = store.optout_registry()?;
    let mut withheld = HashMap::new();
    Ok(DiagnosisStats {
        chart: aggregate(store, &registry, &mut withheld, store.chart_photo_counts(&from, &to_end)?, &synonyms)?,
        pathology: aggregate(
            store,
            &registry,
            &mut withheld,
            store.pathology_photo_counts(&from, &to_end)?,
            &synonyms,
        )?,
        unmapped,
        from,
        to,
    })
}
