//! A patient's timeline: visits, diagnoses, pathology, prescriptions, treatments, adverse
//! events, notes and the linked photos on one time axis, shown by research ID and age band,
//! never by name or chart number.

use super::dates::Date;
use crate::error::{Error, Result};
use crate::store::Store;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub date: String,
    pub age_band: Option<String>,
    /// A record kind (`visit`, `pathology`, ...) or `photo`.
    pub kind: String,
    pub text: String,
    pub code: Option<String>,
    pub end_date: Option<String>,
    pub photo_id: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Timeline {
    pub research_id: String,
    pub sex: Option<String>,
    pub age_band_first: Option<String>,
    pub events: Vec<Event>,
}

pub fn timeline(store: &Store, research_id: &str) -> Result<Timeline> {
    let p = store
        .patient_by_research_id(research_id)?
        .ok_or_else(|| Error::Invalid(format!("no patient with research ID {research_id}")))?;
    let band = |d: &str| Date::from_iso(d).and_then(|d| p.age_band(&d));
    let mut events: Vec<Event> = store
        .patient_records(p.id)?
        .into_iter()
        .map(|r| Event {
            age_band: band(&r.date),
            kind: r.kind.as_str().to_owned(),
            text: r.text,
            code: r.code,
            end_date: r.end_date,
            photo_id: None,
            date: r.date,
        })
        .collect();
    for l in store.linked_photos_of_patient(p.id)? {
        let Some(date) = l.visit_date.clone().or(l.photo_date.clone()) else { continue };
        events.push(Event {
            age_band: band(&date),
            kind: "photo".into(),
            text: l.diagnosis.as_ref().map(|d| d.text.clone()).unwrap_or_default(),
            code: None,
            end_date: None,
            photo_id: Some(l.photo_id),
            date,
        });
    }
    events.sort_by(|a, b| a.date.cmp(&b.date).then(a.kind.cmp(&b.kind)));
    Ok(Timeline {
        age_band_first: events.first().and_then(|e| e.age_band.clone()),
        research_id: p.research_id.clone(),
        sex: p.sex.map(|s| s.as_str().to_owned()),
        events,
    })
}
