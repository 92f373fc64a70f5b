//! Linking a photo to its patient and visit: the chart number comes from the path rules, the
//! day from EXIF, else the path, else the file time (the source is kept); the visit is the
//! patient's encounter on that day, or the only one within the window. Anything less certain
//! (no number, two numbers, an unknown patient, no date, several visits in the window, EXIF
//! and path dates that disagree) is queued for a person, never guessed.

use super::dates::Date;
use super::path_rules::{self, PathRule};
use crate::error::Result;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    /// Linked by the linker.
    Linked,
    /// Several answers are possible: a person decides.
    Ambiguous,
    /// No answer: no chart number, unknown patient, no date or no visit near it.
    Missing,
    /// Linked (or fixed) by a person.
    Confirmed,
    /// A person said this photo belongs to no patient.
    Unlinked,
}

impl LinkStatus {
    pub const ALL: [LinkStatus; 5] =
        [LinkStatus::Linked, LinkStatus::Ambiguous, LinkStatus::Missing, LinkStatus::Confirmed, LinkStatus::Unlinked];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Linked => "linked",
            LinkStatus::Ambiguous => "ambiguous",
            LinkStatus::Missing => "missing",
            LinkStatus::Confirmed => "confirmed",
            LinkStatus::Unlinked => "unlinked",
        }
    }

    pub fn parse(s: &str) -> Option<LinkStatus> {
        LinkStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the photo counts as belonging to its patient's visit.
    pub fn is_linked(self) -> bool {
        matches!(self, LinkStatus::Linked | LinkStatus::Confirmed)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkReason {
    /// A visit on the photo's day.
    SameDay,
    /// The only visit within the window.
    WithinWindow,
    /// A person decided.
    Person,
    NoChartNumber,
    /// The photo's paths give different chart numbers.
    ConflictingChartNumbers,
    /// The chart number is not in the imported charts.
    UnknownPatient,
    NoDate,
    /// EXIF and path dates are further apart than the window.
    DatesDisagree,
    NoVisitInWindow,
    /// Two or more visits within the window and none on the day.
    SeveralVisits,
}

impl LinkReason {
    pub const ALL: [LinkReason; 10] = [
        LinkReason::SameDay,
        LinkReason::WithinWindow,
        LinkReason::Person,
        LinkReason::NoChartNumber,
        LinkReason::ConflictingChartNumbers,
        LinkReason::UnknownPatient,
        LinkReason::NoDate,
        LinkReason::DatesDisagree,
        LinkReason::NoVisitInWindow,
        LinkReason::SeveralVisits,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkReason::SameDay => "same_day",
            LinkReason::WithinWindow => "within_window",
            LinkReason::Person => "person",
            LinkReason::NoChartNumber => "no_chart_number",
            LinkReason::ConflictingChartNumbers => "conflicting_chart_numbers",
            LinkReason::UnknownPatient => "unknown_patient",
            LinkReason::NoDate => "no_date",
            LinkReason::DatesDisagree => "dates_disagree",
            LinkReason::NoVisitInWindow => "no_visit_in_window",
            LinkReason::SeveralVisits => "several_visits",
        }
    }

    pub fn parse(s: &str) -> Option<LinkReason> {
        LinkReason::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    Exif,
    Path,
    File,
}

impl DateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::Exif => "exif",
            DateSource::Path => "path",
            DateSource::File => "file",
        }
    }

    pub fn parse(s: &str) -> Option<DateSource> {
        [DateSource::Exif, DateSource::Path, DateSource::File].into_iter().find(|x| x.as_str() == s)
    }
}

/// What the linker needs of a photo.
#[derive(Clone, Debug, Default)]
pub struct PhotoFacts {
    pub id: i64,
    pub captured_at: Option<String>,
    pub captured_source: Option<String>,
    /// The file's modification time (local), when no capture time is known it is the last resort.
    pub file_time: Option<String>,
    pub paths: Vec<String>,
}

/// A patient's encounter days (days since 1970, sorted, distinct).
#[derive(Clone, Debug, Default)]
pub struct Encounters {
    pub patient_id: i64,
    pub days: Vec<i64>,
}

/// The linker's answer for one photo.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub photo_id: i64,
    pub chart_no: Option<String>,
    pub patient_id: Option<i64>,
    pub visit: Option<Date>,
    pub status: LinkStatus,
    pub reason: LinkReason,
    pub confidence: f64,
    pub photo_date: Option<Date>,
    pub date_source: Option<DateSource>,
    pub rule: Option<String>,
    pub candidates: Vec<Date>,
}

/// Links one photo.
pub fn decide(
    photo: &PhotoFacts,
    rules: &[PathRule],
    patients: &HashMap<String, Encounters>,
    window_days: i64,
) -> Decision {
    let mut d = Decision {
        photo_id: photo.id,
        chart_no: None,
        patient_id: None,
        visit: None,
        status: LinkStatus::Missing,
        reason: LinkReason::NoChartNumber,
        confidence: 0.0,
        photo_date: None,
        date_source: None,
        rule: None,
        candidates: Vec::new(),
    };
    let matches: Vec<_> = photo.paths.iter().filter_map(|p| path_rules::first_match(rules, p)).collect();
    let Some(first) = matches.first() else { return d };
    d.rule = Some(first.rule.clone());
    if matches.iter().any(|m| m.chart_no != first.chart_no) {
        d.status = LinkStatus::Ambiguous;
        d.reason = LinkReason::ConflictingChartNumbers;
        return d;
    }
    d.chart_no = Some(first.chart_no.clone());
    let Some(enc) = patients.get(&first.chart_no) else {
        d.reason = LinkReason::UnknownPatient;
        return d;
    };
    d.patient_id = Some(enc.patient_id);

    let captured = photo.captured_at.as_deref().and_then(Date::from_iso);
    let source = photo.captured_source.as_deref().unwrap_or("");
    let exif = captured.filter(|_| !source.starts_with("file:"));
    let file = photo.file_time.as_deref().and_then(Date::from_iso).or(captured.filter(|_| source.starts_with("file:")));
    let path_date = matches.iter().find_map(|m| m.date);
    let (day, src) = match (exif, path_date, file) {
        (Some(e), _, _) => (e, DateSource::Exif),
        (None, Some(p), _) => (p, DateSource::Path),
        (None, None, Some(f)) => (f, DateSource::File),
        (None, None, None) => {
            d.reason = LinkReason::NoDate;
            return d;
        }
    };
    d.photo_date = Some(day);
    d.date_source = Some(src);
    if let (Some(e), Some(p)) = (exif, path_date)
        && (e.days() - p.days()).abs() > window_days
    {
        d.status = LinkStatus::Ambiguous;
        d.reason = LinkReason::DatesDisagree;
        d.candidates = near(&enc.days, p.days(), window_days).chain(near(&enc.days, e.days(), window_days)).collect();
        return d;
    }
    let t = day.days();
    let candidates: Vec<Date> = near(&enc.days, t, window_days).collect();
    d.candidates = candidates.clone();
    let base = match src {
        DateSource::Exif => 0.99,
        DateSource::Path => 0.97,
        DateSource::File => 0.80,
    };
    if candidates.iter().any(|c| c.days() == t) {
        d.visit = Some(day);
        d.status = LinkStatus::Linked;
        d.reason = LinkReason::SameDay;
        d.confidence = base;
    } else if candidates.len() == 1 {
        let gap = (candidates[0].days() - t).abs() as f64;
        d.visit = Some(candidates[0]);
        d.status = LinkStatus::Linked;
        d.reason = LinkReason::WithinWindow;
        d.confidence = (base - 0.1 - 0.03 * gap).max(0.3);
    } else if candidates.is_empty() {
        d.reason = LinkReason::NoVisitInWindow;
    } else {
        d.status = LinkStatus::Ambiguous;
        d.reason = LinkReason::SeveralVisits;
    }
    d
}

/// What a link run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LinkReport {
    pub photos: u64,
    /// What the linker decided for the photos no person had decided.
    pub by_status: BTreeMap<String, u64>,
    pub by_reason: BTreeMap<String, u64>,
    /// Photos a person had decided: left as they were (their diagnosis refreshed).
    pub kept_by_person: u64,
    pub window_days: i64,
    pub seconds: f64,
}

/// Links every photo in the store (one transaction), leaving people's decisions alone.
pub fn run(store: &mut Store, window_days: Option<i64>) -> Result<LinkReport> {
    let t = std::time::Instant::now();
    let window = match window_days {
        Some(w) => {
            store.set_link_window_days(w)?;
            w
        }
        None => store.link_window_days()?,
    };
    let rules = store.compiled_path_rules()?;
    let patients = store.encounters()?;
    let mut report = LinkReport { window_days: window, ..Default::default() };
    let mut w = store.begin_link_run()?;
    let mut after = 0;
    loop {
        let page = w.photos_after(after, 10_000)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for p in &page {
            let d = decide(p, &rules, &patients, window);
            report.photos += 1;
            if w.write(&d)? {
                *report.by_status.entry(d.status.as_str().to_owned()).or_default() += 1;
                *report.by_reason.entry(d.reason.as_str().to_owned()).or_default() += 1;
            }
        }
    }
    report.kept_by_person = w.kept_by_person;
    let summary = format!(
        "{} photos, window {window} days: {}",
        report.photos,
        report.by_status.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
    );
    w.commit(&summary)?;
    report.seconds = t.elapsed().as_secs_f64();
    Ok(report)
}

/// The encounter days within `window` days of `t`.
fn near(days: &[i64], t: i64, window: i64) -> impl Iterator<Item = Date> + '_ {
    let lo = days.partition_point(|&x| x < t - window);
    days[lo..].iter().take_while(move |&&x| x <= t + window).map(|&x| Date::from_days(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Vec<PathRule>, HashMap<String, Encounters>) {
        let rules = vec![
            PathRule::new(1, r"(?:^|/)(?P<chart>[0-9]{6,10})_(?P<date>[0-9]{8})(?:[_./]|$)").unwrap(),
            PathRule::new(2, r"(?:^|/)(?:19|20)[0-9]{2}/(?P<chart>[0-9]{6,10})_").unwrap(),
        ];
        let day = |s: &str| Date::from_iso(s).unwrap().days();
        let mut p = HashMap::new();
        p.insert(
            "123456".to_owned(),
            Encounters { patient_id: 7, days: vec![day("2010-01-05"), day("2010-01-08"), day("2010-03-01")] },
        );
        (rules, p)
    }

    fn photo(path: &str, captured: Option<&str>, source: Option<&str>) -> PhotoFacts {
        let file = source == Some("file:mtime");
        PhotoFacts {
            id: 1,
            captured_at: captured.filter(|_| !file).map(str::to_owned),
            captured_source: source.filter(|_| !file).map(str::to_owned),
            file_time: captured.filter(|_| file).map(str::to_owned),
            paths: vec![path.to_owned()],
        }
    }

    #[test]
    fn outcomes() {
        let (rules, pts) = setup();
        let cases: Vec<(PhotoFacts, LinkStatus, LinkReason, Option<&str>)> = vec![
            (
                photo("/a/00123456_20100105/x.jpg", None, None),
                LinkStatus::Linked,
                LinkReason::SameDay,
                Some("2010-01-05"),
            ),
            (
                photo("/a/2010/123456_x/y.jpg", Some("2010-03-03T10:00:00"), Some("exif:DateTimeOriginal")),
                LinkStatus::Linked,
                LinkReason::WithinWindow,
                Some("2010-03-01"),
            ),
            (
                photo("/a/2010/123456_x/y.jpg", Some("2010-01-06T10:00:00"), Some("exif:DateTimeOriginal")),
                LinkStatus::Ambiguous,
                LinkReason::SeveralVisits,
                None,
            ),
            (
                photo("/a/2010/123456_x/y.jpg", Some("2010-01-08T10:00:00"), Some("exif:DateTimeOriginal")),
                LinkStatus::Linked,
                LinkReason::SameDay,
                Some("2010-01-08"),
            ),
            (
                photo("/a/2010/123456_x/y.jpg", Some("2011-01-06T10:00:00"), Some("file:mtime")),
                LinkStatus::Missing,
                LinkReason::NoVisitInWindow,
                None,
            ),
            (photo("/a/2010/123456_x/y.jpg", None, None), LinkStatus::Missing, LinkReason::NoDate, None),
            (photo("/a/2010/999999_x/y.jpg", None, None), LinkStatus::Missing, LinkReason::UnknownPatient, None),
            (photo("/a/misc/y.jpg", None, None), LinkStatus::Missing, LinkReason::NoChartNumber, None),
            (
                photo("/a/123456_20100105/x.jpg", Some("2012-06-01T00:00:00"), Some("exif:DateTimeOriginal")),
                LinkStatus::Ambiguous,
                LinkReason::DatesDisagree,
                None,
            ),
        ];
        for (p, status, reason, visit) in cases {
            let d = decide(&p, &rules, &pts, 7);
            assert_eq!(
                (d.status, d.reason, d.visit.map(|v| v.iso())),
                (status, reason, visit.map(str::to_owned)),
                "{:?}",
                p.paths
            );
            if status == LinkStatus::Linked {
                assert!(d.confidence > 0.5 && d.patient_id == Some(7));
            }
        }
        let mut two = photo("/a/123456_20100105/x.jpg", None, None);
        two.paths.push("/b/654321_20100105/x.jpg".into());
        assert_eq!(decide(&two, &rules, &pts, 7).reason, LinkReason::ConflictingChartNumbers);
    }
}
