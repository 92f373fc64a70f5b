//! Privacy screening end to end on real images: the CLI contract (`screen`, `list --json`'s
//! `screening`, `review`, `redact`, `export-deid`), the gate that nothing unscreened,
//! unreviewed or excluded leaves (and attempts to get around it), and a redacted export that
//! a second detector pass finds clean.

mod common;
use common::*;
use dermdesk::Store;
use dermdesk::jobs::Progress;
use dermdesk::privacy::face::FaceDetector;
use dermdesk::privacy::ocr::{DetParams, TextReader};
use dermdesk::privacy::synth::{Burn, Fonts, Style, burn};
use dermdesk::privacy::yunet::YuNet;
use dermdesk::privacy::{Detector, Finding, FindingKind, Review, Screening, Verdict};
use dermdesk::store::{Fill, Shape, Withheld};
use std::path::{Path, PathBuf};

/// A folder of real photos for one test: two skin photos, a face photo, a photo of a masked
/// face, and a skin photo with a name card burned in.
fn archive(dir: &Path) -> Vec<PathBuf> {
    let s = shared();
    std::fs::create_dir_all(dir).unwrap();
    let mut files = copy_files(
        &[
            s.join("data/isic-cc0/images/ISIC_0000100.jpg"),
            s.join("data/clinical-padufes/PAT_1089_375_60.jpg"),
            s.join("data/faces/images/fr_obama.jpg"),
            s.join("data/faces/images/if_mask2.jpg"),
        ],
        dir,
    );
    let mut card = image::open(s.join("data/clinical-padufes/PAT_1136_517_92.jpg")).unwrap().to_rgb8();
    let fonts = Fonts::system().expect("fonts (see .ci/run)");
    burn(
        &mut card,
        &fonts,
        &Burn {
            lines: vec!["山田 太郎 様".into(), "ID 0012345".into()],
            style: Style::Card,
            height: 0.07,
            at: (0.5, 0.75),
            angle_deg: -5.0,
            covered: 0.0,
            font_pick: 0,
        },
    );
    let p = dir.join("card.jpg");
    card.save(&p).unwrap();
    files.push(p);
    files
}

fn ids_by_name(db: &Path) -> std::collections::HashMap<String, i64> {
    json_lines(&cli_ok(db, &["list", "--json"]))
        .iter()
        .map(|r| {
            let p = r["paths"][0].as_str().unwrap();
            (Path::new(p).file_name().unwrap().to_string_lossy().into_owned(), r["id"].as_i64().unwrap())
        })
        .collect()
}

#[test]
fn screen_review_redact_and_export_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let dir = tmp.path().join("archive");
    archive(&dir);
    cli_ok(&db, &["import", dir.to_str().unwrap()]);
    let ids = ids_by_name(&db);

    // Before screening: every row has a screening object with no verdict.
    for r in json_lines(&cli_ok(&db, &["list", "--json"])) {
        assert_eq!(r["screening"]["verdict"], serde_json::Value::Null, "{r}");
        assert_eq!(r["screening"]["review"], "pending");
        assert_eq!(r["screening"]["findings"].as_array().unwrap().len(), 0);
    }
    // Clearing before screening is refused; nothing is exported.
    let out = cli(&db, &["review", "--user", "dr.sato", "--clear", &ids["ISIC_0000100.jpg"].to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));

    let report = json(&cli_ok(&db, &["screen", "--json", "--threads", "2"]));
    assert_eq!(report["screened"], 5, "{report}");
    assert_eq!(report["failed"].as_array().unwrap().len(), 0);
    // Resumable: a second run has nothing left to do.
    assert_eq!(json(&cli_ok(&db, &["screen", "--json"]))["screened"], 0);

    // The queue by detector, score and modality.
    let queue = |args: &[&str]| json_lines(&cli_ok(&db, &[&["queue", "--json"], args].concat()));
    let all = queue(&[]);
    let found = |r: &serde_json::Value, kind: &str, min: f64| {
        r["findings"].as_array().unwrap().iter().any(|f| {
            (kind.is_empty() && f["kind"] != "metadata" || f["kind"] == kind) && f["score"].as_f64().unwrap() >= min
        })
    };
    let faces = queue(&["--detector", "face"]);
    assert!(faces.iter().any(|r| r["id"] == ids["fr_obama.jpg"]), "{faces:?}");
    assert_eq!(faces.len(), all.iter().filter(|r| found(r, "face", 0.0)).count(), "{faces:?}");
    let strong = queue(&["--min-score", "0.8"]);
    assert_eq!(strong.len(), all.iter().filter(|r| found(r, "", 0.8)).count(), "faces and text only: {strong:?}");
    assert!(strong.len() < all.len());
    let clinical = queue(&["--modality", "clinical"]);
    assert!(!clinical.is_empty() && clinical.iter().all(|r| r["modality"] == "clinical"), "{clinical:?}");
    assert_eq!(clinical.len(), all.iter().filter(|r| r["modality"] == "clinical").count());

    let rows = json_lines(&cli_ok(&db, &["list", "--json"]));
    let row = |name: &str| rows.iter().find(|r| r["id"] == ids[name]).unwrap().clone();
    for r in &rows {
        let s = &r["screening"];
        assert!(["identifiable", "unsure", "clear"].contains(&s["verdict"].as_str().unwrap()), "{r}");
        for f in s["findings"].as_array().unwrap() {
            assert!(["face", "text", "metadata"].contains(&f["kind"].as_str().unwrap()), "{f}");
            assert!(f["detector"].is_string() && f["score"].is_number(), "{f}");
            assert!(f["box"].is_null() || f["box"].as_array().unwrap().len() == 4, "{f}");
            assert!(f.get("text").is_some() && f.get("field").is_some(), "{f}");
        }
    }
    let face = row("fr_obama.jpg");
    assert_eq!(face["screening"]["verdict"], "identifiable", "{face}");
    assert!(face["screening"]["findings"].as_array().unwrap().iter().any(|f| f["kind"] == "face"));
    let masked = row("if_mask2.jpg");
    assert_eq!(masked["screening"]["verdict"], "identifiable", "a masked face is still a face: {masked}");
    let card = row("card.jpg");
    assert_eq!(card["screening"]["verdict"], "identifiable", "{card}");
    let texts: Vec<String> = card["screening"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "text")
        .map(|f| f["text"].as_str().unwrap().to_string())
        .collect();
    assert!(texts.iter().any(|t| t.contains("山田")), "the name is read: {texts:?}");
    assert!(texts.iter().any(|t| t.contains("0012345")), "the ID is read: {texts:?}");
    // The ISIC original's EXIF (a Canon camera) is found, with its maker note.
    let isic = row("ISIC_0000100.jpg");
    let fields: Vec<&str> =
        isic["screening"]["findings"].as_array().unwrap().iter().filter_map(|f| f["field"].as_str()).collect();
    assert!(fields.iter().any(|f| f.starts_with("EXIF:MakerNote")), "{fields:?}");

    // Decisions: clear two plain photos, exclude the face, redact the card, leave the mask.
    let id = |n: &str| ids[n].to_string();
    cli_ok(&db, &["review", "--user", "dr.sato", "--clear", &id("ISIC_0000100.jpg"), &id("PAT_1089_375_60.jpg")]);
    cli_ok(&db, &["review", "--user", "dr.sato", "--exclude", &id("fr_obama.jpg")]);
    let out = cli(&db, &["review", "--user", "dr.sato", "--redacted", &id("card.jpg")]);
    assert_eq!(out.status.code(), Some(1), "redacted without shapes is refused");
    let out = cli(&db, &["review", "--user", "", "--clear", &id("card.jpg")]);
    assert_eq!(out.status.code(), Some(1), "a decision needs a name");
    let out = cli(&db, &["review", "--clear", &id("card.jpg")]);
    assert_eq!(out.status.code(), Some(2), "--user is required");
    cli_ok(&db, &["redact", "--user", "dr.sato", &id("card.jpg"), "--cover", "text", "--fill", "pixelate"]);
    let card = json_lines(&cli_ok(&db, &["list", "--json"])).into_iter().find(|r| r["id"] == ids["card.jpg"]).unwrap();
    assert_eq!(card["screening"]["review"], "redacted");
    assert_eq!(card["screening"]["reviewer"], "dr.sato");

    let show = json(&cli_ok(&db, &["show", "--json", &id("fr_obama.jpg")]));
    let audit = show["audit"].as_array().unwrap();
    assert!(audit.iter().any(|a| a["action"] == "review_excluded" && a["actor"] == "dr.sato"), "{audit:?}");

    let out_dir = tmp.path().join("export");
    let rep = json(&cli_ok(&db, &["export-deid", "--json", out_dir.to_str().unwrap()]));
    assert_eq!(rep["exported"], 3, "{rep}");
    assert_eq!(rep["withheld"]["excluded"], 1);
    assert_eq!(rep["withheld"]["unreviewed"], 1);
    let mut names: Vec<String> =
        std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, vec!["000001.jpg", "000002.jpg", "000003.jpg"]);
    // An export never goes into a folder that already has files.
    let again = cli(&db, &["export-deid", out_dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));

    // The redacted card, exported: neither detector pass reads the name or the ID any more.
    let reader = TextReader::load().unwrap();
    for n in &names {
        let img = image::open(out_dir.join(n)).unwrap().to_rgb8();
        for line in reader.read(&img, 960, &DetParams::default(), 40).unwrap() {
            let class = dermdesk::privacy::text::classify(&line.text);
            assert!(
                line.confidence < 0.5 || class.level() != Verdict::Identifiable,
                "{n} still shows {:?} ({})",
                line.text,
                line.confidence
            );
        }
    }
}

/// Screens every photo of a store through the library's job (what `dermdesk screen` and the
/// app run), on worker processes of the built binary.
fn screen_all(db: &Path) {
    let opts = dermdesk::privacy::job::ScreenOptions { threads: 2, exe: bin(), ..Default::default() };
    let r = dermdesk::privacy::job::run(db, &opts, &Progress::new()).unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
}

#[test]
fn the_gate_holds_whatever_is_tried() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let dir = tmp.path().join("archive");
    let s = shared();
    copy_files(
        &[
            s.join("data/isic-cc0/images/ISIC_0000100.jpg"),
            s.join("data/ph2/images/IMD002.jpg"),
            s.join("data/faces/images/fr_biden.jpg"),
        ],
        &dir,
    );
    cli_ok(&db, &["import", dir.to_str().unwrap()]);
    let ids = ids_by_name(&db);
    let (a, b, face) = (ids["ISIC_0000100.jpg"], ids["IMD002.jpg"], ids["fr_biden.jpg"]);
    let mut store = Store::open(&db).unwrap();

    // Unscreened: nothing leaves, and nothing can be cleared.
    let r = store.release(None).unwrap();
    assert!(r.allowed.is_empty());
    assert_eq!(r.withheld.len(), 3);
    assert!(r.withheld.iter().all(|(_, w)| *w == Withheld::Unscreened));
    assert!(store.set_review(&[a], Review::Cleared, "dr.sato").is_err());
    // Excluding never waits for screening.
    store.set_review(&[face], Review::Excluded, "dr.sato").unwrap();

    screen_all(&db);
    let r = store.release(None).unwrap();
    assert!(r.allowed.is_empty(), "screened but unreviewed photos stay in");
    assert!(r.withheld.contains(&(face, Withheld::Excluded)));
    assert!(r.withheld.contains(&(a, Withheld::Unreviewed)));

    store.set_review(&[a, b], Review::Cleared, "dr.sato").unwrap();
    let r = store.release(Some(&[a, b, face, 9999, a])).unwrap();
    let allowed: Vec<i64> = r.allowed.iter().map(|x| x.photo_id).collect();
    assert_eq!(allowed, vec![a, b], "asking twice does not export twice");
    assert!(r.withheld.contains(&(9999, Withheld::NoSuchPhoto)));
    assert!(r.withheld.contains(&(face, Withheld::Excluded)));

    // Cleared is not enough: the patient's opt-out (here a chart number in the file name)
    // keeps a cleared photo in, and taking it back frees the photo again.
    store.add_optouts(&["0000100".into()], dermdesk::store::OptOutKind::Refused, "test").unwrap();
    let r = store.release(Some(&[a, b])).unwrap();
    assert_eq!(r.allowed_ids(), vec![b]);
    assert_eq!(r.withheld, vec![(a, Withheld::OptedOutNumberInPath)]);
    let r = store.release(None).unwrap();
    assert!(!r.allowed_ids().contains(&a), "asking for everything applies it too");
    store.remove_optouts(&["100".into()], "test").unwrap();
    assert_eq!(store.release(Some(&[a, b])).unwrap().allowed_ids(), vec![a, b]);

    // Undo: back to pending, held back again.
    store.set_review(&[b], Review::Pending, "dr.sato").unwrap();
    assert!(store.release(Some(&[b])).unwrap().allowed.is_empty());

    // Redacted needs shapes; removing the last shape sends the photo back to pending.
    assert!(store.set_review(&[b], Review::Redacted, "dr.sato").is_err());
    assert!(
        store.add_redaction(b, &Shape::Rect { rect: [10.0, 10.0, 5.0, 20.0], fill: Fill::Black }, "dr.sato").is_err()
    );
    let shape =
        store.add_redaction(b, &Shape::Rect { rect: [0.0, 0.0, 50.0, 40.0], fill: Fill::Black }, "dr.sato").unwrap();
    store.set_review(&[b], Review::Redacted, "dr.sato").unwrap();
    let r = store.release(Some(&[b])).unwrap();
    assert_eq!(r.allowed.len(), 1);
    assert_eq!(r.allowed[0].redactions.len(), 1);
    store.remove_redaction(shape, "dr.sato").unwrap();
    assert!(store.release(Some(&[b])).unwrap().allowed.is_empty(), "no shapes left: not releasable");
    assert_eq!(store.screening(b).unwrap().unwrap().review, Review::Pending);

    // A detector upgrade that finds something new on a cleared photo reopens it.
    let before = store.screening(a).unwrap().unwrap();
    assert_ne!(before.verdict, Some(Verdict::Identifiable), "{before:?}");
    let upgraded = Screening {
        findings: vec![Finding {
            kind: FindingKind::Face,
            detector: "centerface".into(),
            score: 0.9,
            bbox: Some([1.0, 1.0, 50.0, 50.0]),
            text: None,
            field: None,
            level: Verdict::Identifiable,
        }],
        verdict: Verdict::Identifiable,
        ran: vec![(Detector::Face, "centerface@test/r2".into())],
        ms: Vec::new(),
    };
    store.save_screening(a, &upgraded).unwrap();
    assert_eq!(store.screening(a).unwrap().unwrap().review, Review::Pending);
    assert!(store.release(Some(&[a])).unwrap().allowed.is_empty());
    // And the version change makes `screen` run that detector again on it.
    let targets = store.screening_targets(false).unwrap();
    let t = targets.iter().find(|t| t.photo_id == a).expect("a is due again");
    assert_eq!(t.detectors, vec![Detector::Face]);

    // Going around the API: the database itself refuses a decision without a reviewer, and the
    // gate ignores hand-made states it cannot trust.
    store.set_review(&[a], Review::Cleared, "dr.sato").unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert!(conn.execute("UPDATE privacy SET reviewer = NULL WHERE photo_id = ?1", [a]).is_err());
    assert!(
        conn.execute("UPDATE privacy SET review = 'cleared' WHERE photo_id = ?1 AND reviewer IS NULL", [face]).is_ok()
    );
    conn.execute("UPDATE privacy SET review = 'redacted', reviewer = 'x' WHERE photo_id = ?1", [b]).unwrap();
    conn.execute("DELETE FROM screenings WHERE photo_id = ?1 AND detector = 'text'", [a]).unwrap();
    conn.execute(
        "INSERT INTO privacy (photo_id, review, reviewer) VALUES (?1, 'cleared', 'x') ON CONFLICT(photo_id) DO NOTHING",
        [face],
    )
    .unwrap();
    assert!(conn.execute("UPDATE audit SET actor = 'nobody'", []).is_err(), "the audit log cannot be rewritten");
    drop(conn);
    let store = Store::open(&db).unwrap();
    let r = store.release(None).unwrap();
    assert!(r.allowed.is_empty(), "{:?}", r.allowed.iter().map(|x| x.photo_id).collect::<Vec<_>>());
    assert!(r.withheld.contains(&(a, Withheld::Unscreened)));
    assert!(r.withheld.contains(&(b, Withheld::Unreviewed)), "redacted without shapes");
    assert!(r.withheld.contains(&(face, Withheld::Excluded)));

    // The export asks the same gate.
    let mut store = store;
    let out = tmp.path().join("export");
    let rep = dermdesk::privacy::export::export_deid(&mut store, &out, None, &Progress::new()).unwrap();
    assert_eq!(rep.exported, 0);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn a_redacted_face_and_card_leave_nothing_for_a_second_detector() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let dir = tmp.path().join("archive");
    archive(&dir);
    for f in ["ISIC_0000100.jpg", "PAT_1089_375_60.jpg", "if_mask2.jpg"] {
        std::fs::remove_file(dir.join(f)).unwrap();
    }
    cli_ok(&db, &["import", dir.to_str().unwrap()]);
    let ids = ids_by_name(&db);
    screen_all(&db);
    let mut store = Store::open(&db).unwrap();
    for (name, fill) in [("fr_obama.jpg", Fill::Black), ("card.jpg", Fill::Pixelate)] {
        let id = ids[name];
        let s = store.screening(id).unwrap().unwrap();
        let mut n = 0;
        for f in s.findings.iter().filter(|f| f.kind != FindingKind::Metadata) {
            let b = f.bbox.unwrap();
            let (gw, gh) = ((b[2] - b[0]) * 0.15, (b[3] - b[1]) * 0.15);
            store
                .add_redaction(id, &Shape::Rect { rect: [b[0] - gw, b[1] - gh, b[2] + gw, b[3] + gh], fill }, "dr.sato")
                .unwrap();
            n += 1;
        }
        assert!(n > 0, "{name}: nothing found to redact");
        store.set_review(&[id], Review::Redacted, "dr.sato").unwrap();
    }
    let out = tmp.path().join("export");
    let rep = dermdesk::privacy::export::export_deid(&mut store, &out, None, &Progress::new()).unwrap();
    assert_eq!(rep.exported, 2, "{rep:?}");

    let faces = FaceDetector::load().unwrap();
    let yunet = YuNet::load(&shared().join("models/face-detector/yunet_n_dynamic.onnx")).unwrap();
    let reader = TextReader::load().unwrap();
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        let img = image::open(&p).unwrap().to_rgb8();
        let cf = faces.detect_all_turns(&img, 640, 320, 0.5).unwrap();
        assert!(cf.is_empty(), "{}: CenterFace still finds {cf:?}", p.display());
        let yn = yunet.detect(&img, 640, 0.6).unwrap();
        assert!(yn.is_empty(), "{}: YuNet still finds {yn:?}", p.display());
        let lines = reader.read(&img, 960, &DetParams::default(), 40).unwrap();
        // Pixel blocks may be read as brackets or dashes; what counts is letters, kana, kanji or
        // digits (two or more) read with some confidence.
        let legible: Vec<_> = lines
            .iter()
            .filter(|l| l.confidence >= 0.5 && l.text.chars().filter(|c| c.is_alphanumeric()).count() >= 2)
            .collect();
        assert!(legible.is_empty(), "{}: text still read: {legible:?}", p.display());
    }
}

#[test]
fn screening_runs_on_workers_and_a_changed_or_broken_file_stays_unscreened() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let dir = tmp.path().join("archive");
    let s = shared();
    let files = copy_files(
        &[
            s.join("data/isic-cc0/images/ISIC_0000100.jpg"),
            s.join("data/ph2/images/IMD002.jpg"),
            s.join("data/ph2/images/IMD003.jpg"),
        ],
        &dir,
    );
    cli_ok(&db, &["import", dir.to_str().unwrap()]);
    let ids = ids_by_name(&db);
    // After the import: one file replaced by other pixels, one cut short.
    std::fs::copy(s.join("data/ph2/images/IMD004.jpg"), &files[1]).unwrap();
    let bytes = std::fs::read(&files[2]).unwrap();
    std::fs::write(&files[2], &bytes[..bytes.len() / 3]).unwrap();

    let opts = dermdesk::privacy::job::ScreenOptions { threads: 2, exe: bin(), ..Default::default() };
    let r = dermdesk::privacy::job::run(&db, &opts, &Progress::new()).unwrap();
    assert_eq!(r.screened, 1, "{r:?}");
    let failed: std::collections::HashMap<i64, String> = r.failed.into_iter().collect();
    assert!(failed[&ids["IMD002.jpg"]].contains("changed since it was imported"), "{failed:?}");
    assert!(failed.contains_key(&ids["IMD003.jpg"]), "{failed:?}");
    let store = Store::open(&db).unwrap();
    let release = store.release(None).unwrap();
    assert!(release.withheld.contains(&(ids["IMD002.jpg"], Withheld::Unscreened)));
    assert!(release.withheld.contains(&(ids["IMD003.jpg"], Withheld::Unscreened)));
    // A rerun offers only what is still due.
    let again = dermdesk::privacy::job::run(&db, &opts, &Progress::new()).unwrap();
    assert_eq!((again.screened, again.failed.len()), (0, 2));
}

#[test]
fn a_file_changed_after_its_review_is_not_exported() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let dir = tmp.path().join("archive");
    let s = shared();
    let files = copy_files(&[s.join("data/ph2/images/IMD002.jpg")], &dir);
    cli_ok(&db, &["import", dir.to_str().unwrap()]);
    let id = ids_by_name(&db)["IMD002.jpg"];
    screen_all(&db);
    let mut store = Store::open(&db).unwrap();
    store.set_review(&[id], Review::Cleared, "dr.sato").unwrap();
    // Other pixels under the same name after the review.
    std::fs::copy(s.join("data/ph2/images/IMD004.jpg"), &files[0]).unwrap();
    let out = tmp.path().join("export");
    let rep = dermdesk::privacy::export::export_deid(&mut store, &out, None, &Progress::new()).unwrap();
    assert_eq!(rep.exported, 0, "{rep:?}");
    assert!(rep.failed.iter().any(|(x, why)| *x == id && why.contains("changed since it was imported")), "{rep:?}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}
