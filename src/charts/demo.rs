//! INVENTED charts for tests, demos and benchmarks: EMR exports (a CP932 CSV with a title
//! line, Japanese headers, era dates, fullwidth and hyphenated chart numbers, duplicate rows,
//! typos and bad rows; a UTF-8-with-BOM pathology export; a TSV of prescriptions), an SS-MIX2
//! tree of HL7 messages in ISO-2022-JP, and a photo archive layout with the known truth of
//! every photo's link. None of it describes a real person.

use super::dates::Date;
use super::encoding::{encode_cp932, encode_iso2022jp};
use super::hl7::join_segments;
use super::ssmix2::message_path;
use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A small deterministic generator (SplitMix64): the same seed writes the same files.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// (name as charts write it, ICD-10, neoplasm?, weight)
const DIAGNOSES: [(&str, &str, bool, u64); 14] = [
    ("色素性母斑", "D22.9", true, 25),
    ("脂漏性角化症", "L82", true, 15),
    ("基底細胞癌", "C44.9", true, 8),
    ("悪性黒色腫", "C43.9", true, 5),
    ("日光角化症", "L57.0", true, 5),
    ("アトピー性皮膚炎", "L20.9", false, 10),
    ("尋常性乾癬", "L40.0", false, 5),
    ("湿疹", "L30.9", false, 8),
    ("ほくろ", "D22.9", true, 5),
    ("メラノーマ", "C43.9", true, 3),
    ("ボーエン病", "D04.9", true, 2),
    ("血管腫", "D18.0", true, 3),
    ("粉瘤", "L72.0", true, 4),
    ("皮膚線維腫", "D23.9", true, 2),
];
const TYPOS: [(&str, &str); 4] = [("母斑", "母班"), ("角化症", "角化証"), ("黒色腫", "黒色種"), ("細胞癌", "細包癌")];
const DRUGS: [(&str, &str); 4] = [
    ("リンデロン－ＶＧ軟膏０．１２％", "5g 1日2回"),
    ("アレグラ錠６０ｍｇ", "2錠 分2"),
    ("ヒルドイドソフト軟膏０．３％", "25g 1日2回"),
    ("プロトピック軟膏０．１％", "10g 1日1回"),
];
pub const STUDY_FIRST: (i32, u32, u32) = (2003, 1, 1);
pub const STUDY_LAST: (i32, u32, u32) = (2018, 11, 30);

#[derive(Clone, Debug)]
pub struct Visit {
    pub date: Date,
    pub diagnosis: usize,
}

#[derive(Clone, Debug)]
pub struct Patient {
    pub chart_no: String,
    pub birth: Date,
    pub female: bool,
    pub visits: Vec<Visit>,
    /// Charted only in the SS-MIX2 tree (not in the CSV export).
    pub ssmix2_only: bool,
}

/// What the linker should conclude for one generated photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Linked,
    Ambiguous,
    Missing,
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Linked => "linked",
            Expect::Ambiguous => "ambiguous",
            Expect::Missing => "missing",
        }
    }
    pub fn parse(s: &str) -> Option<Expect> {
        [Expect::Linked, Expect::Ambiguous, Expect::Missing].into_iter().find(|e| e.as_str() == s)
    }
}

/// One photo of the invented archive and its known truth.
#[derive(Clone, Debug)]
pub struct TruthPhoto {
    /// Relative to the photo root, `/`-separated.
    pub path: String,
    pub chart_no: String,
    /// The day the photo was taken (EXIF for dateless layouts, else in the path).
    pub taken: Date,
    /// Whether the day is only in EXIF or the file time (the path has none).
    pub date_outside_path: bool,
    pub expect: Expect,
    pub visit: Option<Date>,
}

/// Invents patients: visits at least 20 days apart, except a tenth of patients who also have
/// two visits four days apart (their photo between them is ambiguous).
pub fn patients(rng: &mut Rng, n: usize) -> Vec<Patient> {
    patients_unique(rng, n, &mut std::collections::HashSet::new())
}

/// As [`patients`], with chart numbers unique across calls (`used` holds those taken).
pub fn patients_unique(rng: &mut Rng, n: usize, used: &mut std::collections::HashSet<String>) -> Vec<Patient> {
    let first = Date::new(STUDY_FIRST.0, STUDY_FIRST.1, STUDY_FIRST.2).map_or(0, |d| d.days());
    let last = Date::new(STUDY_LAST.0, STUDY_LAST.1, STUDY_LAST.2).map_or(0, |d| d.days());
    let total: u64 = DIAGNOSES.iter().map(|d| d.3).sum();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let digits = 6 + rng.below(5) as u32;
        let lo = 10u64.pow(digits - 1);
        let chart = (lo + rng.below(9 * lo)).to_string();
        if !used.insert(chart.clone()) {
            continue;
        }
        let birth = Date::from_days(Date::new(1930, 1, 1).map_or(0, |d| d.days()) + rng.below(365 * 78) as i64);
        let mut days: Vec<i64> = Vec::new();
        let k = 1 + rng.below(5);
        let mut t = first + rng.below((last - first - 400) as u64) as i64;
        for _ in 0..k {
            if t > last {
                break;
            }
            days.push(t);
            t += 20 + rng.below(300) as i64;
        }
        let close_pair = rng.chance(0.1) && days.last().is_some_and(|&d| d + 4 <= last);
        if close_pair && let Some(&d) = days.last() {
            days.push(d + 4);
        }
        let mut visits: Vec<Visit> = Vec::new();
        for d in days {
            let mut w = rng.below(total);
            let mut dx = 0;
            for (i, entry) in DIAGNOSES.iter().enumerate() {
                if w < entry.3 {
                    dx = i;
                    break;
                }
                w -= entry.3;
            }
            visits.push(Visit { date: Date::from_days(d), diagnosis: dx });
        }
        out.push(Patient { chart_no: chart, birth, female: rng.chance(0.5), visits, ssmix2_only: rng.chance(0.1) });
    }
    out
}

fn fullwidth(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 + 0xFEE0).unwrap_or(c) } else { c }).collect()
}

/// The chart number as a clerk might have typed it.
fn chart_spelling(rng: &mut Rng, chart: &str) -> String {
    match rng.below(10) {
        0..=2 => fullwidth(chart),
        3 | 4 => format!("{chart:0>10}"),
        5 if chart.len() > 4 => format!("{}-{}", &chart[..chart.len() - 4], &chart[chart.len() - 4..]),
        _ => chart.to_owned(),
    }
}

/// The date as an EMR might have written it (ISO, slashes, eras in kanji or letters,
/// compact, Excel serial).
pub fn date_spelling(rng: &mut Rng, d: Date) -> String {
    let heisei = d >= Date { y: 1989, m: 1, d: 8 } && d <= Date { y: 2019, m: 4, d: 30 };
    match rng.below(10) {
        0 | 1 => d.iso(),
        2 | 3 => format!("{}/{}/{}", d.y, d.m, d.d),
        4 | 5 if heisei => {
            let y = d.y - 1988;
            let y = if y == 1 { "元".to_owned() } else { y.to_string() };
            format!("平成{y}年{}月{}日", d.m, d.d)
        }
        6 | 7 if heisei => format!("H{:02}.{:02}.{:02}", d.y - 1988, d.m, d.d),
        8 => format!("{:04}{:02}{:02}", d.y, d.m, d.d),
        _ => (d.days() - Date { y: 1899, m: 12, d: 30 }.days()).to_string(),
    }
}

fn typo(rng: &mut Rng, text: &str) -> String {
    if rng.chance(0.03) {
        for (a, b) in TYPOS {
            if text.contains(a) {
                return text.replacen(a, b, 1);
            }
        }
    }
    text.to_owned()
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create a folder", e, dir))?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::io("cannot write", e, path))
}

/// Writes the CP932 visit export: a title line, the header, one row per visit (3 % twice),
/// and three bad rows. Returns the number of data rows.
pub fn write_visits_csv(path: &Path, rng: &mut Rng, patients: &[Patient]) -> Result<u64> {
    let f = std::fs::File::create(path).map_err(|e| Error::io("cannot write", e, path))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    let mut put = |line: &str| -> Result<()> {
        let mut b = encode_cp932(line)?;
        b.extend_from_slice(b"\r\n");
        w.write_all(&b).map_err(|e| Error::io("cannot write", e, path))
    };
    put("皮膚科 外来病名一覧（架空データ：実在の患者ではありません）,,,,,,")?;
    put("患者ID,氏名,性別,生年月日,受診日,病名,ICD10")?;
    let mut rows = 0u64;
    for p in patients.iter().filter(|p| !p.ssmix2_only) {
        for v in &p.visits {
            let (name, code, _, _) = DIAGNOSES[v.diagnosis];
            let line = format!(
                "{},架空 太郎,{},{},{},{},{}",
                chart_spelling(rng, &p.chart_no),
                if p.female { "女" } else { "男" },
                date_spelling(rng, p.birth),
                date_spelling(rng, v.date),
                typo(rng, name),
                if rng.chance(0.3) { code } else { "" }
            );
            put(&line)?;
            rows += 1;
            if rng.chance(0.03) {
                put(&line)?;
                rows += 1;
            }
        }
    }
    put(",架空 花子,女,1970/1/1,2005/5/5,湿疹,")?;
    put("123456,架空 次郎,男,1960/1/1,平成31年5月1日,湿疹,")?;
    put("１２３４５６,架空 三郎,男,1960/1/1,不明,湿疹,")?;
    w.flush().map_err(|e| Error::io("cannot write", e, path))?;
    Ok(rows + 3)
}

/// The real-world size test: `rows` visit rows over invented patients, in CP932.
pub fn write_big_visits_csv(path: &Path, seed: u64, rows: u64) -> Result<Vec<Patient>> {
    let mut rng = Rng::new(seed);
    let mut pts = Vec::new();
    let mut used = std::collections::HashSet::new();
    let mut n = 0u64;
    while n < rows {
        let batch = patients_unique(&mut rng, 1000, &mut used);
        for p in batch {
            if n >= rows {
                break;
            }
            n += p.visits.len() as u64;
            pts.push(Patient { ssmix2_only: false, ..p });
        }
    }
    write_visits_csv(path, &mut rng, &pts)?;
    Ok(pts)
}

fn write_pathology(path: &Path, rng: &mut Rng, patients: &[Patient]) -> Result<()> {
    let mut text = String::from("\u{FEFF}患者ID,検体番号,生検日,部位,病理診断\r\n");
    let mut seq = 0;
    for p in patients.iter().filter(|p| !p.ssmix2_only) {
        for v in &p.visits {
            let (_, _, neoplasm, _) = DIAGNOSES[v.diagnosis];
            if !neoplasm || !rng.chance(0.4) {
                continue;
            }
            seq += 1;
            let biopsy = Date::from_days(v.date.days() + rng.below(8) as i64);
            // A fifth of clinical naevi turn out to be seborrhoeic keratoses under the microscope.
            let truth =
                if v.diagnosis == 0 && rng.chance(0.2) { "脂漏性角化症" } else { DIAGNOSES[v.diagnosis].0 };
            let truth = match truth {
                "ほくろ" => "色素性母斑",
                "メラノーマ" => "悪性黒色腫",
                t => t,
            };
            text.push_str(&format!(
                "{},S{:02}-{seq:05},{},{},{truth}\r\n",
                p.chart_no,
                biopsy.y % 100,
                biopsy.iso(),
                rng.pick(&["背部", "顔面", "左前腕", "右下腿", "頭部"])
            ));
        }
    }
    write_file(path, text.as_bytes())
}

fn write_prescriptions(path: &Path, rng: &mut Rng, patients: &[Patient]) -> Result<()> {
    let mut text = String::from("カルテ番号\t処方日\t薬剤名\t用量\t終了日\n");
    for p in patients.iter().filter(|p| !p.ssmix2_only) {
        for v in &p.visits {
            if DIAGNOSES[v.diagnosis].2 {
                continue;
            }
            let (drug, dose) = rng.pick(&DRUGS);
            let end = Date::from_days(v.date.days() + 14);
            text.push_str(&format!("{}\t{}\t{drug}\t{dose}\t{}\n", p.chart_no, v.date.iso(), end.iso()));
        }
    }
    write_file(path, text.as_bytes())
}

/// SS-MIX2 messages: disease names (PPR-01) for the SS-MIX2-only patients and a fifth of the
/// others, prescriptions (OMP-01) for their inflammatory visits.
fn write_ssmix2(root: &Path, rng: &mut Rng, patients: &[Patient]) -> Result<u64> {
    let mut n = 0;
    let chosen: Vec<&Patient> = patients.iter().filter(|p| p.ssmix2_only || rng.chance(0.2)).collect();
    for p in chosen {
        let id = format!("{:0>10}", p.chart_no);
        let pid = format!(
            "PID|||{id}^^^^PI||カクウ^タロウ^^^^^L^P||{:04}{:02}{:02}|{}",
            p.birth.y,
            p.birth.m,
            p.birth.d,
            if p.female { "F" } else { "M" }
        );
        for (i, v) in p.visits.iter().enumerate() {
            let day = format!("{:04}{:02}{:02}", v.date.y, v.date.m, v.date.d);
            let stamp = format!("{day}103000000");
            let (name, code, neoplasm, _) = DIAGNOSES[v.diagnosis];
            let msh = |kind: &str| {
                format!(
                    "MSH|^~\\&|HIS|DERM|SSMIX2|DERM|{day}103000||{kind}|{id}{i:03}|P|2.5||||||~ISO IR87||ISO 2022-1994"
                )
            };
            let ppr = join_segments(&[
                msh("PPR^ZD1^PPR_ZD1"),
                pid.clone(),
                format!("PRB|AD|{day}|{i:08}^{name}^MDCDX2^{code}^^I10||||{day}"),
            ]);
            write_file(
                &message_path(root, &id, &day, "PPR-01", &format!("D{i:05}"), &stamp),
                &encode_iso2022jp(&ppr)?,
            )?;
            n += 1;
            if !neoplasm {
                let (drug, dose) = rng.pick(&DRUGS);
                let end = Date::from_days(v.date.days() + 14);
                let omp = join_segments(&[
                    msh("RDE^O11^RDE_O11"),
                    pid.clone(),
                    format!("ORC|NW|R{i:05}|||||||{day}"),
                    format!("RXE||{i:09}^{drug}^HOT|{}||{}", dose.split(' ').next().unwrap_or(""), ""),
                    format!("TQ1|||||||{day}|{:04}{:02}{:02}", end.y, end.m, end.d),
                ]);
                write_file(
                    &message_path(root, &id, &day, "OMP-01", &format!("R{i:05}"), &stamp),
                    &encode_iso2022jp(&omp)?,
                )?;
                n += 1;
            }
        }
    }
    Ok(n)
}

/// Photo paths in the four layouts the default rules read, and the truth for each: one to
/// three photos per visit (`per_visit` caps it), an ambiguous one between each patient's
/// close pair of visits, and a few of patients the charts do not know.
pub fn photo_truth(rng: &mut Rng, patients: &[Patient], per_visit: u64) -> Vec<TruthPhoto> {
    let mut out = Vec::new();
    let mut n = 0u64;
    for p in patients {
        for (i, v) in p.visits.iter().enumerate() {
            let d = v.date;
            let ymd = format!("{:04}{:02}{:02}", d.y, d.m, d.d);
            for _ in 0..1 + rng.below(per_visit.max(1)) {
                n += 1;
                let chart = if rng.chance(0.2) { format!("{:0>8}", p.chart_no) } else { p.chart_no.clone() };
                let chart = if rng.chance(0.05) { fullwidth(&chart) } else { chart };
                let (path, outside) = match rng.below(4) {
                    0 => (format!("{chart}_{ymd}/IMG_{n:06}.jpg"), false),
                    1 => (format!("{chart}/{ymd}/DSC{n:06}.jpg"), false),
                    2 => (format!("{chart}/{}/P{n:06}.jpg", d.iso()), false),
                    _ => (format!("{}/{chart}_derm/IMG_{n:06}.jpg", d.y), true),
                };
                out.push(TruthPhoto {
                    path,
                    chart_no: p.chart_no.clone(),
                    taken: d,
                    date_outside_path: outside,
                    expect: Expect::Linked,
                    visit: Some(d),
                });
            }
            // Between a close pair of visits (four days apart): two candidates, neither on the day.
            if i > 0 && d.days() - p.visits[i - 1].date.days() == 4 {
                n += 1;
                let mid = Date::from_days(d.days() - 2);
                out.push(TruthPhoto {
                    path: format!("{}/{}_derm/IMG_{n:06}.jpg", mid.y, p.chart_no),
                    chart_no: p.chart_no.clone(),
                    taken: mid,
                    date_outside_path: true,
                    expect: Expect::Ambiguous,
                    visit: None,
                });
            }
        }
        if rng.chance(0.03) {
            n += 1;
            let d = p.visits[0].date;
            let stranger = format!("9{:08}", rng.below(100_000_000));
            out.push(TruthPhoto {
                path: format!("{stranger}_{:04}{:02}{:02}/IMG_{n:06}.jpg", d.y, d.m, d.d),
                chart_no: stranger,
                taken: d,
                date_outside_path: false,
                expect: Expect::Missing,
                visit: None,
            });
        }
    }
    out
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DemoSummary {
    pub patients: usize,
    pub visit_rows: u64,
    pub ssmix2_messages: u64,
    pub photos: usize,
    pub photo_files: usize,
}

/// Writes the whole invented set under `out`: `README.txt`, `emr/`, `ssmix2/`, `truth.csv`,
/// and, when `images` are given, `photos/` with copies of them at the truth's paths (file
/// times set to the day taken, so dateless layouts carry their day in the file time).
pub fn write_demo(out: &Path, seed: u64, n_patients: usize, images: &[PathBuf]) -> Result<DemoSummary> {
    let mut rng = Rng::new(seed);
    let pts = patients(&mut rng, n_patients);
    write_file(
        &out.join("README.txt"),
        "INVENTED DATA. Every patient, chart number, name, date and diagnosis here was made up by\n\
         `dermdesk charts demo` (seeded random numbers). Nothing describes a real person.\n\
         emr/visits_cp932.csv  CP932 EMR export (title line, era dates, fullwidth numbers, duplicates, typos, 3 bad rows)\n\
         emr/pathology_utf8bom.csv  pathology reports, UTF-8 with BOM\n\
         emr/prescriptions.tsv  prescriptions, UTF-8 TSV\n\
         ssmix2/  SS-MIX2 storage: PPR-01 disease names and OMP-01 prescriptions, HL7 v2.5 in ISO-2022-JP\n\
         truth.csv  every photo path with the link the linker should find (linked / ambiguous / missing)\n\
         photos/  copies of the given images at those paths (only with --images)\n"
            .as_bytes(),
    )?;
    std::fs::create_dir_all(out.join("emr")).map_err(|e| Error::io("cannot create a folder", e, out))?;
    let visit_rows = write_visits_csv(&out.join("emr/visits_cp932.csv"), &mut rng, &pts)?;
    write_pathology(&out.join("emr/pathology_utf8bom.csv"), &mut rng, &pts)?;
    write_prescriptions(&out.join("emr/prescriptions.tsv"), &mut rng, &pts)?;
    let ssmix2_messages = write_ssmix2(&out.join("ssmix2"), &mut rng, &pts)?;
    let mut truth = photo_truth(&mut rng, &pts, 2);
    if !images.is_empty() {
        // Each photo needs its own image: copies of one file are one photo at several paths.
        truth.truncate(images.len());
    }
    let mut csv = String::from("path,chart_no,taken,date_outside_path,expect,visit\n");
    for t in &truth {
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            t.path,
            t.chart_no,
            t.taken.iso(),
            t.date_outside_path,
            t.expect.as_str(),
            t.visit.map(|v| v.iso()).unwrap_or_default()
        ));
    }
    write_file(&out.join("truth.csv"), csv.as_bytes())?;
    let mut photo_files = 0;
    if !images.is_empty() {
        for (i, t) in truth.iter().enumerate() {
            let src = &images[i % images.len()];
            let dest = out.join("photos").join(&t.path);
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create a folder", e, dir))?;
            }
            std::fs::copy(src, &dest).map_err(|e| Error::io("cannot copy an image", e, src))?;
            let noon = std::time::UNIX_EPOCH
                + std::time::Duration::from_secs((t.taken.days() * 86_400 + 3 * 3600).max(0) as u64);
            let when = if t.date_outside_path { noon } else { std::time::SystemTime::now() };
            std::fs::File::options()
                .write(true)
                .open(&dest)
                .and_then(|f| f.set_modified(when))
                .map_err(|e| Error::io("cannot set the file time", e, &dest))?;
            photo_files += 1;
        }
    }
    Ok(DemoSummary { patients: pts.len(), visit_rows, ssmix2_messages, photos: truth.len(), photo_files })
}

/// One row of `truth.csv` as read back: path, what to expect, chart number, visit day.
pub type TruthRow = (String, Expect, String, Option<String>);

/// Reads `truth.csv` back.
pub fn read_truth(path: &Path) -> Result<Vec<TruthRow>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read the truth file", e, path))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let expect = f
            .get(4)
            .and_then(|e| Expect::parse(e))
            .ok_or_else(|| Error::Invalid(format!("line {}: bad truth row: {}", i + 1, path.display())))?;
        out.push((f[0].to_owned(), expect, f[1].to_owned(), f.get(5).filter(|v| !v.is_empty()).map(|v| v.to_string())));
    }
    Ok(out)
}
