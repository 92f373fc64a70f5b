//! Agreement between annotators: wherever two people masked the same photo, their lesions
//! are paired (`metrics::pair_lesions`) and Dice and IoU reported per pair, per photo and
//! overall. A lesion's annotator is whoever saved its latest version.

use super::codec::Encoded;
use super::metrics::{self, Summary};
use crate::error::Result;
use crate::store::{LesionFilter, LesionRow, Store};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PhotoAgreement {
    pub photo_id: Option<i64>,
    pub annotator_a: String,
    pub annotator_b: String,
    pub pairs: Vec<metrics::Pair>,
    /// Lesions one of the two drew and the other did not.
    pub unpaired: usize,
    pub dice: Summary,
    pub iou: Summary,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct AgreementReport {
    pub photos: Vec<PhotoAgreement>,
    pub dice: Summary,
    pub iou: Summary,
}

pub fn measure(store: &Store) -> Result<AgreementReport> {
    let mut by_photo: BTreeMap<String, Vec<LesionRow>> = BTreeMap::new();
    for l in store.lesions(&LesionFilter::default())? {
        if l.version.is_some() {
            by_photo.entry(l.photo_hash.clone()).or_default().push(l);
        }
    }
    let mut report = AgreementReport::default();
    let (mut all_dice, mut all_iou) = (Vec::new(), Vec::new());
    for ls in by_photo.values() {
        let mut by_person: BTreeMap<&str, Vec<&LesionRow>> = BTreeMap::new();
        for l in ls {
            if let Some(v) = &l.version {
                by_person.entry(v.annotator.as_str()).or_default().push(l);
            }
        }
        if by_person.len() < 2 {
            continue;
        }
        let mut masks = BTreeMap::new();
        for l in ls {
            if let Some(m) = store.lesion_mask(l.id)? {
                masks.insert(l.id, Encoded::decode(&m)?);
            }
        }
        let people: Vec<(&str, Vec<&LesionRow>)> = by_person.into_iter().collect();
        for i in 0..people.len() {
            for j in i + 1..people.len() {
                let side = |k: usize| -> Vec<(i64, &super::Mask)> {
                    people[k].1.iter().filter_map(|l| masks.get(&l.id).map(|m| (l.id, m))).collect()
                };
                let (a, b) = (side(i), side(j));
                let pairs = metrics::pair_lesions(&a, &b);
                let dice: Vec<f64> = pairs.iter().map(|p| p.dice).collect();
                let iou: Vec<f64> = pairs.iter().map(|p| p.iou).collect();
                all_dice.extend(&dice);
                all_iou.extend(&iou);
                report.photos.push(PhotoAgreement {
                    photo_id: ls[0].photo_id,
                    annotator_a: people[i].0.to_owned(),
                    annotator_b: people[j].0.to_owned(),
                    unpaired: a.len() + b.len() - 2 * pairs.len(),
                    dice: metrics::summarise(&dice),
                    iou: metrics::summarise(&iou),
                    pairs,
                });
            }
        }
    }
    report.dice = metrics::summarise(&all_dice);
    report.iou = metrics::summarise(&all_iou);
    Ok(report)
}
