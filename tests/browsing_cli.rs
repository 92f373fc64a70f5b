//! What a dermatologist found trying the command line (issue 19), each as it is used:
//! bad values are usage errors, errors name what failed last, date filters read whole
//! periods, file times are not capture dates, masks and documents beside photos are not
//! imported as photos.

mod common;
use common::*;
use std::collections::BTreeSet;

fn code(out: &std::process::Output) -> i32 {
    out.status.code().expect("an exit code")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_values_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("u.sqlite");
    cli_ok(&db, &["rules"]); // creates an empty database
    for args in [
        &["list", "--modality", "dermoscopy,xray"][..],
        &["list", "--sort", "size"],
        &["list", "--status", "gone"],
        &["list", "--from", "2006-02-30"],
        &["list", "--to", "2006-13"],
        &["list", "--to", "yesterday"],
        &["set-modality", "xray", "1"],
        &["rules", "--set", "*derm*"],
        &["rules", "--set", "*derm*=xray"],
    ] {
        let out = cli(&db, args);
        assert_eq!(code(&out), 2, "{args:?} is bad usage: {}", stderr(&out));
    }
    // Good values of the same options pass.
    for args in [
        &["list", "--modality", "dermoscopy,visia"][..],
        &["list", "--from", "2006", "--to", "2006-08"],
        &["list", "--to", "2008-02-29"],
        &["set-modality", "auto", "--help"],
    ] {
        let out = cli(&db, args);
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn errors_name_what_failed_last() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("e.sqlite");
    let out = cli(&db, &["import", "/nonexistent-dermdesk-folder"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.trim_end().ends_with("/nonexistent-dermdesk-folder"), "the folder, last: {err}");
    assert!(!err.contains("e.sqlite"), "the database is not what failed: {err}");

    // A folder given as the database is said to be one (not a failed integrity check).
    let out = cli(tmp.path(), &["stats"]);
    assert_eq!(code(&out), 3);
    let err = stderr(&out);
    assert!(err.contains("it is a folder") && !err.contains("integrity"), "{err}");
    let junk = tmp.path().join("junk.sqlite");
    std::fs::write(&junk, vec![0x42u8; 8192]).unwrap();
    let out = cli(&junk, &["stats"]);
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("not a database file"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&junk).unwrap(), vec![0x42u8; 8192], "an unusable database is never modified");
}

#[test]
fn years_and_months_are_whole_periods_and_file_times_are_not_capture_dates() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("d.sqlite");
    // The ISIC originals: 24 with an EXIF capture date; PH2: none (only file times).
    let isic = shared.join("data/isic-cc0/images");
    let ph2 = copy_files(&files_in(&shared.join("data/ph2/images"), "jpg", 20), &tmp.path().join("ph2"));
    cli_ok(&db, &["import", "--json", isic.to_str().unwrap(), ph2[0].parent().unwrap().to_str().unwrap()]);
    let all = json_lines(&cli_ok(&db, &["list", "--json"]));
    let dated: Vec<&serde_json::Value> =
        all.iter().filter(|r| r["captured_source"].as_str().is_some_and(|s| s.starts_with("exif:"))).collect();
    let file_timed: Vec<&serde_json::Value> = all.iter().filter(|r| r["captured_source"] == "file:mtime").collect();
    assert!(dated.len() >= 20, "the ISIC originals carry EXIF dates: {}", dated.len());
    assert!(file_timed.len() >= 20, "PH2 has file times only");
    assert!(file_timed.iter().all(|r| r["file_time"] == r["captured_at"]), "the file time, said to be one");

    // A year (or month) means all of it, on either end.
    let year = dated[0]["captured_at"].as_str().unwrap()[..4].to_owned();
    let month = dated[0]["captured_at"].as_str().unwrap()[..7].to_owned();
    let in_year = dated.iter().filter(|r| r["captured_at"].as_str().unwrap().starts_with(&year)).count();
    let in_month = dated.iter().filter(|r| r["captured_at"].as_str().unwrap().starts_with(&month)).count();
    let n = |args: &[&str]| json_lines(&cli_ok(&db, &[&["list", "--json"][..], args].concat())).len();
    assert_eq!(n(&["--from", &year, "--to", &year]), in_year);
    assert_eq!(n(&["--from", &month, "--to", &month]), in_month);
    let before = dated.iter().filter(|r| r["captured_at"].as_str().unwrap()[..4] <= *year.as_str()).count();
    assert_eq!(n(&["--to", &year]), before, "'to YEAR' takes in the whole year");
    // File times are left out of date filters unless asked for: they are the copy's time.
    assert_eq!(n(&["--from", "1900"]), dated.len());
    assert_eq!(n(&["--from", "1900", "--file-dates"]), dated.len() + file_timed.len());
    // Sorted by capture time, photos with a file time only come after every dated one.
    let sorted = json_lines(&cli_ok(&db, &["list", "--json", "--sort", "captured"]));
    let first_file = sorted.iter().position(|r| r["captured_source"] == "file:mtime").unwrap();
    assert_eq!(first_file, dated.len(), "dated photos first, file times after");
    let times: Vec<&str> = sorted[..first_file].iter().map(|r| &r["captured_at"].as_str().unwrap()[..19]).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in capture order");
    // One zone rule: no time carries a Z, every one is a local wall-clock time.
    assert!(all.iter().all(|r| !r["captured_at"].as_str().unwrap_or("").ends_with('Z')));
}

#[test]
fn masks_and_documents_beside_photos_are_not_imported_as_photos() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    // PH2 as it comes: images, masks, a README, a metadata table and a spreadsheet.
    let ph2 = tmp.path().join("PH2");
    let imgs = copy_files(&files_in(&shared.join("data/ph2/images"), "jpg", 12), &ph2.join("images"));
    copy_files(&files_in(&shared.join("data/ph2/masks"), "png", 12), &ph2.join("masks"));
    for f in ["README.md", "PH2_metadata.csv", "PH2_dataset.xlsx", "PH2_Readme.txt"] {
        std::fs::copy(shared.join("data/ph2").join(f), ph2.join(f)).unwrap();
    }
    // HAM10000's naming: masks beside the photos, by suffix.
    let ham = files_in(&shared.join("data/ham10000/images"), "jpg", 3);
    copy_files(&ham, &tmp.path().join("PH2/ham"));
    let ham_masks: Vec<_> = ham
        .iter()
        .map(|p| {
            let stem = p.file_stem().unwrap().to_str().unwrap();
            shared.join("data/ham10000/masks").join(format!("{stem}_segmentation.png"))
        })
        .collect();
    copy_files(&ham_masks, &tmp.path().join("PH2/ham"));
    let db = tmp.path().join("m.sqlite");
    let r = json(&cli_ok(&db, &["import", "--json", ph2.to_str().unwrap()]));
    assert_eq!(r["new_photos"], 15, "{r}");
    assert_eq!(r["masks"], 15, "{r}");
    assert_eq!(r["skipped"], 4, "README, tables and notes are passed over: {r}");
    assert_eq!(r["refused"], 0, "nothing is refused: {r}");
    let names: BTreeSet<String> = json_lines(&cli_ok(&db, &["list", "--json"]))
        .iter()
        .map(|row| row["paths"][0].as_str().unwrap().rsplit('/').next().unwrap().to_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("_lesion") && !n.contains("_segmentation")), "{names:?}");
    assert!(names.contains(imgs[0].file_name().unwrap().to_str().unwrap()));
    // A rerun finds all of it unchanged.
    let again = json(&cli_ok(&db, &["import", "--json", ph2.to_str().unwrap()]));
    assert_eq!((again["new_photos"].as_u64(), again["masks"].as_u64()), (Some(0), Some(15)), "{again}");
}

#[test]
fn a_renamed_file_is_one_move_not_a_loss() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let files = copy_files(&files_in(&shared.join("data/ph2/images"), "jpg", 3), &tmp.path().join("a"));
    let db = tmp.path().join("r.sqlite");
    let dir = tmp.path().join("a");
    cli_ok(&db, &["import", dir.to_str().unwrap()]);
    std::fs::rename(&files[1], dir.join("renamed.jpg")).unwrap();
    let r = json(&cli_ok(&db, &["import", "--json", dir.to_str().unwrap()]));
    assert_eq!(
        (r["moved"].as_u64(), r["missing"].as_u64(), r["new_photos"].as_u64()),
        (Some(1), Some(1), Some(0)),
        "{r}"
    );
    let stats = json(&cli_ok(&db, &["stats", "--json"]));
    assert_eq!(stats["photos_missing"], 0, "the photo is still there, under its new name");
}
