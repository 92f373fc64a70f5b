//! Charts end to end through the CLI, on invented charts and real images from the shared
//! folder: a CP932 export, a UTF-8-BOM pathology export, a TSV of prescriptions and an SS-MIX2
//! tree imported; photos linked with known truth; the queue, a person's decisions, the
//! timeline, counts per diagnosis; and the opt-out gate attacked until it holds.

mod common;

use common::{cli, cli_ok, json, json_lines, shared};
use std::collections::HashMap;
use std::path::Path;

struct Fixture {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    out: std::path::PathBuf,
    /// Truth by absolute photo path: (expect, chart number, visit).
    truth: HashMap<String, (String, String, Option<String>)>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let db = dir.path().join("d.sqlite");
    let images = shared().join("data/ham10000/images");
    let demo = json(&cli_ok(
        &db,
        &[
            "charts",
            "demo",
            out.to_str().unwrap(),
            "--patients",
            "14",
            "--seed",
            "5",
            "--images",
            images.to_str().unwrap(),
            "--json",
        ],
    ));
    assert!(demo["photo_files"].as_u64().unwrap() > 20, "{demo}");
    let truth_rows = dermdesk::charts::demo::read_truth(&out.join("truth.csv")).unwrap();
    let photos = std::fs::canonicalize(out.join("photos")).unwrap();
    let truth = truth_rows
        .into_iter()
        .map(|(p, e, c, v)| (photos.join(p).to_string_lossy().into_owned(), (e.as_str().to_owned(), c, v)))
        .collect();
    cli_ok(&db, &["import", photos.to_str().unwrap(), "--no-thumbnails", "--json"]);
    Fixture { _dir: dir, db, out, truth }
}

fn import(db: &Path, path: &Path) -> serde_json::Value {
    json(&cli_ok(db, &["charts", "import", path.to_str().unwrap(), "--json"]))
}

#[test]
fn charts_import_link_queue_and_opt_out() {
    let f = fixture();
    let db = &f.db;

    // The CP932 export: detected, three bad rows with line numbers and reasons, the rest kept.
    let visits = import(db, &f.out.join("emr/visits_cp932.csv"));
    assert_eq!(visits["encoding"], "cp932", "{visits}");
    assert_eq!(visits["bad_rows"], 3, "{visits}");
    let reasons: Vec<String> =
        visits["bad"].as_array().unwrap().iter().map(|b| format!("{} {}", b["at"], b["reason"])).collect();
    assert!(reasons.iter().any(|r| r.contains("line ") && r.contains("no chart number")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("outside the 平成 era")), "{reasons:?}");
    assert!(visits["records_new"].as_u64().unwrap() > 20);
    // The same file again changes nothing.
    let again = import(db, &f.out.join("emr/visits_cp932.csv"));
    assert_eq!(
        (again["files_already_imported"].as_u64(), again["records_new"].as_u64()),
        (Some(1), Some(0)),
        "{again}"
    );
    let bom = import(db, &f.out.join("emr/pathology_utf8bom.csv"));
    assert_eq!(bom["encoding"], "utf_8_bom");
    assert_eq!(bom["bad_rows"], 0, "{bom}");
    let tsv = import(db, &f.out.join("emr/prescriptions.tsv"));
    assert_eq!((tsv["format"].as_str(), tsv["bad_rows"].as_u64()), (Some("tsv"), Some(0)), "{tsv}");
    let hl7 = import(db, &f.out.join("ssmix2"));
    assert_eq!(hl7["format"], "hl7");
    assert!(hl7["records_new"].as_u64().unwrap() > 0 && hl7["bad_rows"] == 0, "{hl7}");
    let hl7_again = import(db, &f.out.join("ssmix2"));
    assert_eq!(hl7_again["records_new"], 0, "{hl7_again}");

    // Link, then compare every photo with the truth.
    let link = json(&cli_ok(db, &["link", "--json"]));
    assert_eq!(link["photos"].as_u64().unwrap() as usize, f.truth.len(), "{link}");
    let rows = json_lines(&cli_ok(db, &["list", "--json"]));
    let mut by_path: HashMap<String, serde_json::Value> = HashMap::new();
    for r in &rows {
        for p in r["paths"].as_array().unwrap() {
            by_path.insert(p.as_str().unwrap().to_owned(), r.clone());
        }
    }
    let (mut linked_ok, mut expected_linked) = (0, 0);
    for (path, (expect, _chart, visit)) in &f.truth {
        let row = by_path.get(path).unwrap_or_else(|| panic!("not imported: {path}"));
        let status = row["link"]["status"].as_str().unwrap();
        match expect.as_str() {
            "linked" => {
                expected_linked += 1;
                assert_eq!(status, "linked", "{path}: {row}");
                assert_eq!(row["visit_date"].as_str(), visit.as_deref(), "{path}");
                assert!(row["research_id"].as_str().unwrap().starts_with('R'));
                linked_ok += 1;
            }
            "ambiguous" => assert_eq!(status, "ambiguous", "an ambiguous photo must be queued, not guessed: {row}"),
            _ => assert_eq!(status, "missing", "{row}"),
        }
    }
    assert!(expected_linked > 10 && linked_ok == expected_linked);

    // No field but the local paths holds a chart number.
    let charts: Vec<&String> = f.truth.values().map(|(_, c, _)| c).collect();
    for r in &rows {
        let mut rest = r.clone();
        for k in ["paths", "missing_paths", "hash"] {
            rest.as_object_mut().unwrap().remove(k);
        }
        let text = rest.to_string();
        for c in &charts {
            assert!(
                !text.contains(&format!("\"{c}\"")) && !text.contains(&format!(":{c},")),
                "chart number {c} leaked: {text}"
            );
        }
    }

    // Counts per diagnosis: pathology and chart, with the typos listed as unmapped.
    let stats = json(&cli_ok(db, &["stats", "--by", "diagnosis", "--json"]));
    assert!(!stats["chart"].as_array().unwrap().is_empty(), "{stats}");
    assert_eq!(stats["from"], "2003-01-01");
    let total: u64 = stats["chart"].as_array().unwrap().iter().map(|d| d["total"].as_u64().unwrap()).sum();
    assert!(total > 0);

    // Timeline of a linked patient, by research ID.
    let some = rows.iter().find(|r| r["link"]["status"] == "linked").unwrap();
    let rid = some["research_id"].as_str().unwrap();
    let t = json(&cli_ok(db, &["charts", "timeline", rid, "--json"]));
    assert!(t["events"].as_array().unwrap().iter().any(|e| e["kind"] == "photo"), "{t}");
    assert!(!t.to_string().contains(&format!("\"{}\"", f.truth[some["paths"][0].as_str().unwrap()].1)));

    // The queue; confirm an ambiguous photo by picking a visit; the next link run keeps it.
    let queue = json_lines(&cli_ok(db, &["charts", "queue", "--json"]));
    let amb = queue.iter().find(|q| q["status"] == "ambiguous").expect("an ambiguous photo is queued");
    let id = amb["photo_id"].as_i64().unwrap();
    let pick = amb["candidates"][0].as_str().unwrap().to_owned();
    cli_ok(db, &["charts", "confirm", &id.to_string(), "--visit", &pick]);
    cli_ok(db, &["link"]);
    let show = json(&cli_ok(db, &["show", &id.to_string(), "--json"]));
    assert!(show["audit"].as_array().unwrap().iter().any(|a| a["action"] == "link_confirmed"), "{show}");
    let row = json_lines(&cli_ok(db, &["list", "--json"])).into_iter().find(|r| r["id"] == id).unwrap();
    assert_eq!((row["link"]["status"].as_str(), row["visit_date"].as_str()), (Some("confirmed"), Some(pick.as_str())));

    // Opt-out: typed with fullwidth digits; every photo of that patient vanishes from what may
    // leave, however it is linked afterwards.
    let victim_path = some["paths"][0].as_str().unwrap();
    let victim_chart = f.truth[victim_path].1.clone();
    let wide: String = victim_chart.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
    cli_ok(db, &["optout", "add", &format!("００{wide}"), "--note", "test"]);
    let rows = json_lines(&cli_ok(db, &["list", "--json"]));
    let victims: Vec<i64> = rows
        .iter()
        .filter(|r| {
            r["paths"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| f.truth.get(p.as_str().unwrap()).is_some_and(|t| t.1 == victim_chart))
        })
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(!victims.is_empty());
    for r in &rows {
        let mine = victims.contains(&r["id"].as_i64().unwrap());
        assert_eq!(r["opted_out"].as_bool(), Some(mine), "{r}");
    }
    let all: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    let leaks = |store: &dermdesk::Store| -> Vec<i64> {
        // The opt-out half of the gate; tests/privacy.rs shows the whole gate applies it.
        let out: Vec<i64> = store.opted_out_among(&all).unwrap().into_iter().map(|p| p.0).collect();
        victims.iter().copied().filter(|id| !out.contains(id)).collect()
    };
    let mut store = dermdesk::Store::open(db).unwrap();
    assert!(leaks(&store).is_empty());
    // Attack 1: a person unlinks the photo. Attack 2: a person links it to someone else.
    let other_chart = f.truth.values().find(|t| t.0 == "linked" && t.1 != victim_chart).unwrap();
    store.unlink(victims[0]).unwrap();
    assert!(leaks(&store).is_empty(), "unlinking must not free an opted-out photo");
    store.fix_link(victims[0], &other_chart.1, other_chart.2.as_deref().unwrap()).unwrap();
    assert!(leaks(&store).is_empty(), "relinking to another patient must not free it");
    // Attack 3: the registry entry spelled with a hyphen is the same number.
    let hyphen = format!("{}-{}", &victim_chart[..2], &victim_chart[2..]);
    store.remove_optouts(std::slice::from_ref(&hyphen), "test").unwrap();
    assert_eq!(leaks(&store).len(), victims.len(), "removed: they may leave again");
    store.add_optouts(&[hyphen], dermdesk::store::OptOutKind::Suspended, "").unwrap();
    assert!(leaks(&store).is_empty());
    // Stats leave opted-out patients out.
    drop(store);
    let after = json(&cli_ok(db, &["stats", "--by", "diagnosis", "--json"]));
    let total_after: u64 = after["chart"].as_array().unwrap().iter().map(|d| d["total"].as_u64().unwrap()).sum();
    assert!(total_after < total, "{total_after} !< {total}");

    // Disclosure for the patient, audited; the chart-number table only by an explicit action.
    let d = json(&cli_ok(db, &["charts", "disclose", &victim_chart, "--json"]));
    assert!(d["photos"].as_array().unwrap().len() >= victims.len(), "{d}");
    let key = f.out.join("key.csv");
    let no_reason = cli(db, &["charts", "key-export", "--out", key.to_str().unwrap(), "--reason", " "]);
    assert!(!no_reason.status.success() && !key.exists());
    cli_ok(db, &["charts", "key-export", "--out", key.to_str().unwrap(), "--reason", "ethics audit"]);
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains(&format!("{victim_chart},{}", d["patient"]["research_id"].as_str().unwrap()))
    );
}

#[test]
fn bad_inputs_are_refused_with_where_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.sqlite");
    // No chart-number column: refused, nothing imported, exit 1 with the file last.
    let f = dir.path().join("x.csv");
    std::fs::write(&f, "名前,日付\n山田,2010-01-01\n").unwrap();
    let out = cli(&db, &["charts", "import", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chart-number") && err.trim_end().ends_with("x.csv"), "{err}");
    // A mapping fixes it, and is saved as a profile that the next import uses.
    std::fs::write(&f, "患者コード,日付,メモ\n0012-3456,H22.1.5,経過良好\n").unwrap();
    let r = json(&cli_ok(
        &db,
        &[
            "charts",
            "import",
            f.to_str().unwrap(),
            "--map",
            "chart_no=患者コード",
            "--map",
            "note=メモ",
            "--save-profile",
            "clinic",
            "--json",
        ],
    ));
    assert_eq!(r["records_new"], 1, "{r}");
    let g = dir.path().join("y.csv");
    std::fs::write(&g, "患者コード,日付,メモ\n0012-3456,H22.1.6,再診\n").unwrap();
    let r = json(&cli_ok(&db, &["charts", "import", g.to_str().unwrap(), "--profile", "clinic", "--json"]));
    assert_eq!(r["records_new"], 1, "{r}");
    // Every row bad: refused whole.
    let h = dir.path().join("z.csv");
    std::fs::write(&h, "患者ID,受診日,病名\n,2010-01-01,湿疹\n123456,いつか,湿疹\n").unwrap();
    let out = cli(&db, &["charts", "import", h.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was imported"));
    // UTF-8 insisted on for a CP932 file: refused.
    let c = dir.path().join("c.csv");
    std::fs::write(&c, dermdesk::charts::encoding::encode_cp932("患者ID,受診日\n123456,2010-01-01\n").unwrap())
        .unwrap();
    let out = cli(&db, &["charts", "import", c.to_str().unwrap(), "--encoding", "utf-8"]);
    assert_eq!(out.status.code(), Some(1));
    // An unknown encoding name is bad usage.
    assert_eq!(cli(&db, &["charts", "import", c.to_str().unwrap(), "--encoding", "latin1"]).status.code(), Some(2));
    // A path rule without a chart group is refused; a good one previews on real paths.
    assert!(!cli(&db, &["charts", "path-rule", "add", "(?P<date>[0-9]{8})"]).status.success());
    cli_ok(&db, &["charts", "path-rule", "add", "患者{chart}/{date}/*"]);
    let rules = json(&cli_ok(&db, &["charts", "path-rule", "list", "--json"]));
    assert_eq!(rules.as_array().unwrap().len(), 5);
}

/// `--map FIELD=` reads a field from no column, even where a header would be recognised for
/// it; the import's total gives the new records per kind.
#[test]
fn map_to_nothing_and_the_total_per_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("u.sqlite");
    let csv = tmp.path().join("rooms.csv");
    std::fs::write(&csv, "患者ID,受診日,病名,部位,病理診断\n77,2010-05-05,色素性母斑,第2診察室,\n77,2010-05-12,,第2診察室,母斑細胞性母斑\n")
        .unwrap();
    let r = json(&cli_ok(&db, &["charts", "import", csv.to_str().unwrap(), "--map", "site=", "--json"]));
    assert_eq!((r["records_new"].as_u64(), r["bad_rows"].as_u64()), (Some(2), Some(0)), "{r}");
    assert_eq!(r["by_kind"], serde_json::json!({"visit": 1, "pathology": 1}), "{r}");
    let store = dermdesk::Store::open(&db).unwrap();
    let p = store.patient_by_chart_no("77").unwrap().unwrap();
    let recs = store.patient_records(p.id).unwrap();
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.site.is_none()), "the room column was not read as a site: {recs:?}");
    // The text output names the kinds too; without the map the column is read as the site.
    let again = tmp.path().join("rooms2.csv");
    std::fs::write(&again, "患者ID,受診日,病名,部位\n78,2011-01-01,湿疹,第1診察室\n").unwrap();
    let out = cli_ok(&db, &["charts", "import", again.to_str().unwrap()]);
    assert!(out.contains("new records by kind: visit 1"), "{out}");
    let p = store.patient_by_chart_no("78").unwrap().unwrap();
    assert_eq!(store.patient_records(p.id).unwrap()[0].site.as_deref(), Some("第1診察室"));
}

#[test]
fn cp932_decoding_matches_windows_codec() {
    // Every double-byte code Python's cp932 (Windows' table) decodes, against ours.
    let script = r#"
import sys
out = []
for lead in list(range(0x81, 0xA0)) + list(range(0xE0, 0xFD)):
    for trail in list(range(0x40, 0x7F)) + list(range(0x80, 0xFD)):
        b = bytes([lead, trail])
        try:
            out.append("%02X%02X %04X" % (lead, trail, ord(b.decode("cp932"))))
        except UnicodeDecodeError:
            pass
sys.stdout.write("\n".join(out))
"#;
    let out = std::process::Command::new("python3").arg("-c").arg(script).output().expect("python3 (see .ci/run)");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut checked = 0;
    let mut differ = Vec::new();
    for line in text.lines() {
        let (code, want) = line.split_once(' ').unwrap();
        let b = u16::from_str_radix(code, 16).unwrap();
        let want = char::from_u32(u32::from_str_radix(want, 16).unwrap()).unwrap();
        let got =
            dermdesk::charts::encoding::decode_bytes(&[(b >> 8) as u8, b as u8], dermdesk::charts::TextEncoding::Cp932);
        // The user-defined area (0xF040-0xF9FC) is private use in both; compare all the same.
        if got != want.to_string() {
            differ.push(format!("{code}: ours {got:?} windows {want:?}"));
        }
        checked += 1;
    }
    assert!(checked > 7000, "{checked}");
    assert!(differ.is_empty(), "{} codes differ: {:?}", differ.len(), &differ[..differ.len().min(20)]);
}

/// A minimal workbook: one sheet "外来" with a title row, a header row and data rows
/// (inline strings; numbers as numbers, so a date can be an Excel serial).
fn write_xlsx(path: &Path, rows: &[Vec<&str>]) {
    use std::io::Write;
    let col = |i: usize| char::from(b'A' + i as u8).to_string();
    let mut sheet = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, v) in row.iter().enumerate() {
            let at = format!("{}{}", col(c), r + 1);
            if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) && v.len() == 5 {
                sheet.push_str(&format!(r#"<c r="{at}"><v>{v}</v></c>"#));
            } else {
                sheet.push_str(&format!(r#"<c r="{at}" t="inlineStr"><is><t>{v}</t></is></c>"#));
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let files = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="外来" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_owned()),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, body) in files {
        z.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(body.as_bytes()).unwrap();
    }
    z.finish().unwrap();
}

#[test]
fn xlsx_export_is_read_with_serial_dates_and_bad_rows_by_sheet_and_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.sqlite");
    let x = dir.path().join("export.xlsx");
    write_xlsx(
        &x,
        &[
            vec!["外来病名（架空）"],
            vec!["カルテ番号", "氏名", "診療日", "診断名", "病理診断"],
            vec!["００１２３４５６", "架空 太郎", "37641", "基底細胞癌", "基底細胞癌"],
            vec!["123456", "架空 太郎", "H15.02.03", "脂漏性角化症", ""],
            vec!["", "架空 花子", "2003/02/03", "湿疹", ""],
        ],
    );
    let r = json(&cli_ok(&db, &["charts", "import", x.to_str().unwrap(), "--json"]));
    assert_eq!(
        (r["format"].as_str(), r["rows"].as_u64(), r["records_new"].as_u64()),
        (Some("xlsx"), Some(2), Some(3)),
        "{r}"
    );
    assert_eq!(r["bad"][0]["at"], "sheet \"外来\" row 5", "{r}");
    let mut store = dermdesk::Store::open(&db).unwrap();
    let p = store.patient_by_chart_no("123456").unwrap().expect("one patient for both spellings");
    let dates: Vec<String> =
        store.patient_records(p.id).unwrap().into_iter().map(|r| format!("{} {}", r.date, r.kind.as_str())).collect();
    assert_eq!(dates, vec!["2003-01-20 visit", "2003-01-20 pathology", "2003-02-03 visit"]);
    // A re-import of the same bytes changes nothing.
    let again = json(&cli_ok(&db, &["charts", "import", x.to_str().unwrap(), "--json"]));
    assert_eq!(again["files_already_imported"], 1);
    store.audit("test", None, "reopened").unwrap();
}

/// The first-run demo: photos imported straight from the shared folder get invented charts
/// from their datasets' metadata and link, through the same import, path rules and linker
/// as a department's own charts; a histology-confirmed photo's diagnosis is the pathology one.
#[test]
fn demo_archive_charts_link_every_labelled_photo() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("demo.sqlite");
    let data = shared().join("data");
    let files = [
        data.join("ham10000/images/ISIC_0027419.jpg"), // bkl, histo
        data.join("ham10000/images/ISIC_0024306.jpg"),
        data.join("ph2/images/IMD003.jpg"),
        data.join("clinical-padufes/PAT_1089_375_60.jpg"),
        data.join("histopathology-he/TCGA-3X-AAVA_0_0_0_506.jpg"), // no chart: stays unlinked
        data.join("isic-cc0/images/ISIC_0000382.jpg"),             // EXIF 2006-10-06
    ];
    let mtimes: Vec<_> = files.iter().map(|f| std::fs::metadata(f).unwrap().modified().unwrap()).collect();
    let progress = dermdesk::jobs::Progress::new();
    dermdesk::archive::import(&db, &files, &common::import_opts(), &progress).unwrap();
    let mut store = dermdesk::store::Store::open(&db).unwrap();
    let out = tmp.path().join("demo-charts");
    let r = dermdesk::charts::demo_archive::setup(&mut store, &shared(), &out).unwrap();
    assert_eq!((r.patients, r.visits), (5, 5), "{r:?}");
    assert_eq!(r.link.by_status.get("linked"), Some(&5), "{:?}", r.link);
    // Again: nothing new (a file imported twice changes nothing; rules are not doubled).
    let rules = store.path_rules().unwrap().len();
    let again = dermdesk::charts::demo_archive::setup(&mut store, &shared(), &out).unwrap();
    assert_eq!(again.visit_import.as_ref().map(|i| i.counts.records_new), Some(0), "{again:?}");
    assert_eq!(store.path_rules().unwrap().len(), rules);
    drop(store);
    let rows = json_lines(&cli_ok(&db, &["list", "--json"]));
    let by_name = |n: &str| rows.iter().find(|r| r["paths"][0].as_str().unwrap_or("").ends_with(n)).unwrap().clone();
    let bkl = by_name("ISIC_0027419.jpg");
    assert_eq!(bkl["diagnosis"]["source"], "pathology", "{bkl}");
    assert_eq!(bkl["diagnosis"]["code"], "L82", "{bkl}");
    assert_eq!(by_name("IMD003.jpg")["diagnosis"]["code"], "D22.9");
    assert_eq!(by_name("PAT_1089_375_60.jpg")["diagnosis"]["code"], "D22.9");
    assert!(by_name("TCGA-3X-AAVA_0_0_0_506.jpg")["diagnosis"].is_null());

    // The visits and the photos' days agree and lie inside the study period: the camera's day
    // where EXIF has one, else an invented day recorded on the photo as such.
    let exif = by_name("ISIC_0000382.jpg");
    assert_eq!(
        (exif["visit_date"].as_str(), exif["captured_source"].as_str()),
        (Some("2006-10-06"), Some("exif:DateTimeOriginal")),
        "{exif}"
    );
    for n in ["ISIC_0027419.jpg", "ISIC_0024306.jpg", "IMD003.jpg", "PAT_1089_375_60.jpg"] {
        let r = by_name(n);
        let visit = r["visit_date"].as_str().unwrap_or_else(|| panic!("{n} has a visit: {r}"));
        assert!(("2003-01-01"..="2018-11-30").contains(&visit), "{n}: {visit}");
        assert_eq!(r["captured_source"], "demo:invented", "{r}");
        assert_eq!(r["captured_at"].as_str().and_then(|c| c.get(..10)), Some(visit), "{r}");
    }
    // So `stats --by diagnosis` with the default study period counts every linked demo photo.
    let stats = json(&cli_ok(&db, &["stats", "--by", "diagnosis", "--json"]));
    let total = |k: &str| -> u64 { stats[k].as_array().unwrap().iter().map(|d| d["total"].as_u64().unwrap()).sum() };
    assert_eq!(total("chart"), 5, "{stats}");
    assert!(total("pathology") >= 1, "the histology-confirmed keratosis counts: {stats}");
    // The shared originals were only read.
    for (f, m) in files.iter().zip(&mtimes) {
        assert_eq!(std::fs::metadata(f).unwrap().modified().unwrap(), *m, "{}", f.display());
    }
}
