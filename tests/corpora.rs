//! Every file in the hostile corpora (corrupt, truncated, odd-format, metadata-heavy images)
//! goes through import: nothing crashes or hangs, every file ends up as a photo or as a
//! refusal with a reason, and the originals are byte-identical afterwards.

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn every_corpus_file_is_imported_or_refused_with_a_reason() {
    let corpora = shared().join("corpora");
    let before = fingerprint(&corpora);
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("c.sqlite");
    let started = std::time::Instant::now();
    let report = json(&cli_ok(&db, &["import", "--json", "--file-timeout", "20", corpora.to_str().unwrap()]));
    let took = started.elapsed();
    assert_eq!(report["status"], "finished", "{report}");

    let photos = json_lines(&cli_ok(&db, &["list", "--json"]));
    let refused = json_lines(&cli_ok(&db, &["refusals", "--json", "--limit", "100000"]));
    let mut accounted: BTreeSet<String> = BTreeSet::new();
    for p in &photos {
        for path in p["paths"].as_array().unwrap() {
            assert!(accounted.insert(path.as_str().unwrap().to_owned()), "listed twice: {path}");
        }
    }
    let mut reasons: BTreeMap<String, u32> = BTreeMap::new();
    for r in &refused {
        let path = r["path"].as_str().unwrap().to_owned();
        let code = r["reason_code"].as_str().unwrap();
        assert!(!r["reason"].as_str().unwrap().trim().is_empty(), "refusal without a reason: {r}");
        assert!(code != "crashed" && code != "timeout", "a decoder crashed or hung on {path}: {r}");
        *reasons.entry(code.to_owned()).or_default() += 1;
        assert!(accounted.insert(path.clone()), "both imported and refused: {path}");
    }
    // Every regular file is a photo location or a refusal, or, by its name, a document or a
    // mask passed over (junk names aside).
    let canon_root = std::fs::canonicalize(&corpora).unwrap();
    let mut passed_over = 0;
    for file in before.keys() {
        let name = file.file_name().unwrap().to_string_lossy();
        if name == ".DS_Store" || name.starts_with("._") {
            continue;
        }
        let canon = std::fs::canonicalize(file).unwrap();
        if dermdesk::archive::kind::kind(&canon, &canon_root) != dermdesk::archive::kind::Kind::Photo {
            assert!(!accounted.contains(canon.to_str().unwrap()), "a document imported or refused: {canon:?}");
            passed_over += 1;
            continue;
        }
        assert!(accounted.contains(canon.to_str().unwrap()), "neither imported nor refused: {canon:?}");
    }
    let counted = report["skipped"].as_u64().unwrap() + report["masks"].as_u64().unwrap();
    assert_eq!(counted, passed_over, "documents and masks are counted: {report}");
    assert_eq!(report["scanned"].as_u64().unwrap() as usize, accounted.len() + passed_over as usize);

    // The corpus holds each kind of trouble; each must be named as such.
    for code in ["truncated", "corrupt", "unsupported", "not_image", "too_large"] {
        assert!(reasons.contains_key(code), "no file refused as {code}: {reasons:?}");
    }
    let refused_as = |suffix: &str| {
        refused
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(suffix))
            .map(|r| r["reason_code"].as_str().unwrap().to_owned())
    };
    assert_eq!(refused_as("generated/trunc-baseline-2000.jpg").as_deref(), Some("truncated"));
    assert_eq!(refused_as("generated/sof-65535x65535.jpg").as_deref(), Some("too_large"));
    assert_eq!(refused_as("generated/sof-0x0.jpg").as_deref(), Some("corrupt"));
    assert_eq!(refused_as("testimages/testorig.ppm").as_deref(), Some("unsupported"));
    assert!(photos.len() > 300, "the valid images are imported: {}", photos.len());
    // JPEG, PNG, TIFF, BMP, WebP and GIF all decode.
    let formats: BTreeSet<String> = photos.iter().map(|p| p["format"].as_str().unwrap().to_owned()).collect();
    for f in ["jpeg", "png", "tiff", "bmp", "webp"] {
        assert!(formats.contains(f), "no {f} imported: {formats:?}");
    }
    eprintln!("corpora: {} photos, refusals {reasons:?}, {:.1} s", photos.len(), took.as_secs_f64());

    assert_eq!(fingerprint(&corpora), before, "a corpus file was changed by the import");

    // Re-importing refuses nothing new and re-decodes nothing.
    let again = json(&cli_ok(&db, &["import", "--json", corpora.to_str().unwrap()]));
    assert_eq!(again["new_photos"], 0);
    assert_eq!(again["refused"], 0, "unchanged refused files are not retried: {again}");
    let n = |k: &str| again[k].as_u64().unwrap();
    assert_eq!(n("unchanged") + n("skipped") + n("masks"), n("scanned"), "{again}");
}

#[test]
fn a_per_file_time_limit_stops_slow_files_and_the_run_goes_on() {
    // With an absurdly small limit, big camera files time out; small ones still finish
    // within it now and then. Either way the run finishes and says why for each file.
    let isic = shared().join("data/isic-cc0/images");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("t.sqlite");
    let report = json(&cli_ok(&db, &["import", "--json", "--file-timeout", "0.001", isic.to_str().unwrap()]));
    assert_eq!(report["status"], "finished");
    let timeouts = report["refusals"].as_array().unwrap().iter().filter(|r| r["reason_code"] == "timeout").count();
    assert!(timeouts > 0, "{report}");
    assert_eq!(report["new_photos"].as_u64().unwrap() + report["refused"].as_u64().unwrap(), 47);
    // Timeouts are retried on the next run, which takes them all.
    let again = json(&cli_ok(&db, &["import", "--json", isic.to_str().unwrap()]));
    assert_eq!(again["refused"], 0, "{again}");
    let stats = json(&cli_ok(&db, &["stats", "--json"]));
    assert_eq!(stats["photos"], 47);
    assert_eq!(stats["errors"], 0, "fixed refusals are cleared");
}
