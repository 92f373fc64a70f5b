//! INVENTED charts for the first-run demo archive, so that a person starting from the README
//! sees photos tied to a chart (diagnosis, pathology, timeline) and a model's answer beside it.
//!
//! The demo's photos are public datasets read from the shared folder; their file names carry
//! no hospital chart number, so each dataset's own identifier stands in for one (the image id
//! for HAM10000 and the ISIC originals, the PH2 image name, the PAD-UFES-20 patient). The
//! diagnoses come from each dataset's metadata and are written as a Japanese EMR would write
//! them. The visit day is the photo's EXIF capture day where the file has one; otherwise (most
//! demo files carry only the day they were copied, outside the study period) a day inside the
//! study period is invented for the pair and recorded on the photo as its capture time with
//! the source `demo:invented` (in the database only; the shared files are never written), so
//! every labelled demo photo links and counts under the default study period. Nothing here
//! describes a real person.
//!
//! The charts go through the same import, path rules and linker as a department's own.

use super::import::{ImportOptions, ImportReport, import};
use super::link::{self, LinkReport};
use crate::error::{Error, Result};
use crate::store::Store;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The path rules that pull the stand-in chart numbers from the demo's file names.
pub const RULES: [&str; 3] = [
    r"(?:^|/)(?P<chart>ISIC_[0-9]{7})(?:[_./]|$)",
    r"(?:^|/)(?P<chart>IMD[0-9]{3})(?:[_./]|$)",
    r"(?:^|/)(?P<chart>PAT_[0-9]+)_",
];

#[derive(Clone, Debug, Default, Serialize)]
pub struct DemoChartsReport {
    pub patients: usize,
    pub visits: usize,
    pub pathology_reports: usize,
    pub visit_import: Option<ImportReport>,
    pub pathology_import: Option<ImportReport>,
    pub link: LinkReport,
}

/// What a dataset's metadata says about one photo.
#[derive(Clone, Debug)]
struct Truth {
    chart: String,
    diagnosis: &'static str,
    biopsied: bool,
    age: Option<u32>,
    female: Option<bool>,
}

/// Writes the invented charts for the photos already imported from `shared` into `out`,
/// imports them, adds the path rules and links. Running it again changes nothing.
pub fn setup(store: &mut Store, shared: &Path, out: &Path) -> Result<DemoChartsReport> {
    let truth = read_truth(&shared.join("data"));
    // chart -> (visit day -> (diagnosis, biopsied)); one visit per day and patient
    let mut visits: BTreeMap<String, BTreeMap<String, (&'static str, bool)>> = BTreeMap::new();
    let mut people: HashMap<String, (Option<u32>, Option<bool>)> = HashMap::new();
    let mut invented = Vec::new();
    for facts in store.link_facts()? {
        let Some(t) = facts.paths.iter().find_map(|p| truth.get(file_name(p))) else { continue };
        let exif = facts.captured_source.as_deref().is_some_and(|s| s.starts_with("exif"));
        let day = match facts.captured_at.as_deref().and_then(|s| s.get(..10)).filter(|_| exif) {
            Some(d) => d.to_owned(),
            None => {
                let day = invented_day(&t.chart, t.diagnosis);
                if facts.captured_source.as_deref() != Some(INVENTED) {
                    invented.push((facts.id, format!("{day}T10:00:00")));
                }
                day
            }
        };
        let e = visits.entry(t.chart.clone()).or_default().entry(day).or_insert((t.diagnosis, false));
        e.1 |= t.biopsied;
        people.entry(t.chart.clone()).or_insert((t.age, t.female));
    }
    let mut report = DemoChartsReport { patients: visits.len(), ..Default::default() };
    if visits.is_empty() {
        return Ok(report);
    }
    store.set_invented_capture_times(&invented, INVENTED)?;
    std::fs::create_dir_all(out).map_err(|e| Error::io("cannot create a folder", e, out))?;
    let mut v = String::from("患者ID,性別,生年月日,受診日,病名\n");
    let mut p = String::from("患者ID,検体番号,生検日,病理診断\n");
    for (chart, days) in &visits {
        let (age, female) = people.get(chart).copied().unwrap_or_default();
        for (day, (dx, biopsied)) in days {
            let sex = match female {
                Some(true) => "女",
                Some(false) => "男",
                None => "",
            };
            // Born on 1 April of the year that gives the recorded age at this visit.
            let birth = match (age, day.get(..4).and_then(|y| y.parse::<u32>().ok())) {
                (Some(a), Some(y)) if y > a => format!("{}-04-01", y - a),
                _ => String::new(),
            };
            v.push_str(&format!("{chart},{sex},{birth},{day},{dx}\n"));
            report.visits += 1;
            if *biopsied {
                report.pathology_reports += 1;
                p.push_str(&format!("{chart},DEMO-{:05},{day},{dx}\n", report.pathology_reports));
            }
        }
    }
    let vpath = out.join("demo_visits.csv");
    let ppath = out.join("demo_pathology.csv");
    std::fs::write(&vpath, v).map_err(|e| Error::io("cannot write", e, &vpath))?;
    std::fs::write(&ppath, p).map_err(|e| Error::io("cannot write", e, &ppath))?;
    report.visit_import = Some(import(store, &vpath, &ImportOptions::default())?);
    if report.pathology_reports > 0 {
        report.pathology_import = Some(import(store, &ppath, &ImportOptions::default())?);
    }
    let have: Vec<String> = store.path_rules()?.into_iter().map(|r| r.pattern).collect();
    for rule in RULES {
        if !have.iter().any(|h| h == rule) {
            store.add_path_rule(rule)?;
        }
    }
    report.link = link::run(store, None)?;
    Ok(report)
}

/// The capture-time source of the days invented here.
pub const INVENTED: &str = "demo:invented";

/// A day inside the study period, the same for the same patient and diagnosis on every run
/// (FNV-1a of both: a patient's different lesions fall on different days).
pub fn invented_day(chart: &str, diagnosis: &str) -> String {
    use super::dates::Date;
    let from = Date::from_iso(super::stats::STUDY_FROM).map_or(0, |d| d.days());
    let to = Date::from_iso(super::stats::STUDY_TO).map_or(from + 1, |d| d.days());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in chart.bytes().chain([0x1f]).chain(diagnosis.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    Date::from_days(from + (h % (to - from + 1) as u64) as i64).iso()
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// File name -> what the dataset's metadata says, for the four labelled demo datasets.
fn read_truth(data: &Path) -> HashMap<String, Truth> {
    let mut out = HashMap::new();
    let ham = |dx: &str| -> Option<&'static str> {
        Some(match dx {
            "akiec" => "日光角化症",
            "bcc" => "基底細胞癌",
            "bkl" => "脂漏性角化症",
            "df" => "皮膚線維腫",
            "mel" => "悪性黒色腫",
            "nv" => "色素性母斑",
            "vasc" => "血管腫",
            _ => return None,
        })
    };
    for r in read_csv(&data.join("ham10000/HAM10000_metadata.csv")) {
        let (Some(id), Some(dx)) = (r.get("image_id"), r.get("dx").and_then(|d| ham(d))) else { continue };
        out.insert(
            format!("{id}.jpg"),
            Truth {
                chart: id.clone(),
                diagnosis: dx,
                biopsied: r.get("dx_type").is_some_and(|t| t == "histo"),
                age: r.get("age").and_then(|a| a.parse::<f64>().ok()).map(|a| a as u32),
                female: sex(r.get("sex")),
            },
        );
    }
    for r in read_csv(&data.join("isic-cc0/isic_cc0_metadata.csv")) {
        let dx = match r.get("diagnosis").map(String::as_str) {
            Some("melanoma") => "悪性黒色腫",
            Some("nevus") => "色素性母斑",
            _ => continue,
        };
        let (Some(id), Some(file)) = (r.get("isic_id"), r.get("file")) else { continue };
        out.insert(
            file_name(file).to_owned(),
            Truth {
                chart: id.clone(),
                diagnosis: dx,
                biopsied: r.get("diagnosis_confirm_type").is_some_and(|t| t == "histopathology"),
                age: r.get("age_approx").and_then(|a| a.parse().ok()),
                female: sex(r.get("sex")),
            },
        );
    }
    for r in read_csv(&data.join("ph2/PH2_metadata.csv")) {
        let dx = match r.get("diagnosis").map(String::as_str) {
            Some("melanoma") => "悪性黒色腫",
            Some("common_nevus") => "色素性母斑",
            Some("atypical_nevus") => "異型母斑",
            _ => continue,
        };
        let (Some(id), Some(file)) = (r.get("image_name"), r.get("image_file")) else { continue };
        out.insert(
            file_name(file).to_owned(),
            Truth {
                chart: id.clone(),
                diagnosis: dx,
                biopsied: r.get("histological_diagnosis").is_some_and(|h| !h.is_empty()) || dx == "悪性黒色腫",
                age: None,
                female: None,
            },
        );
    }
    for r in read_csv(&data.join("clinical-padufes/labels.csv")) {
        let dx = match r.get("diagnosis").map(String::as_str) {
            Some("NEV") => "色素性母斑",
            Some("BCC") => "基底細胞癌",
            Some("MEL") => "悪性黒色腫",
            Some("SEK") => "脂漏性角化症",
            Some("ACK") => "日光角化症",
            _ => continue,
        };
        let (Some(file), Some(patient)) = (r.get("file"), r.get("patient_id")) else { continue };
        out.insert(
            file.clone(),
            Truth {
                chart: patient.clone(),
                diagnosis: dx,
                biopsied: r.get("biopsed").is_some_and(|b| b.eq_ignore_ascii_case("true")),
                age: None,
                female: None,
            },
        );
    }
    out
}

fn sex(s: Option<&String>) -> Option<bool> {
    match s.map(String::as_str) {
        Some("female") => Some(true),
        Some("male") => Some(false),
        _ => None,
    }
}

/// A plain comma-separated file with a header and no quoted commas (the shared metadata files).
fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap_or_default().split(',').map(|h| h.trim().to_owned()).collect();
    lines.map(|l| header.iter().cloned().zip(l.split(',').map(|f| f.trim().to_owned())).collect()).collect()
}
