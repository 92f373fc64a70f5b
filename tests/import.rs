//! Import through the CLI contract, on real images: counts, JSON fields, dedup, incremental
//! rescans, moves, renames, deletions, edits in place, and untouched originals.

mod common;
use common::*;
use dermdesk::store::RunStatus;
use std::path::Path;

#[test]
fn import_list_stats_contract_and_originals_untouched() {
    let shared = shared();
    let isic = shared.join("data/isic-cc0/images");
    let ph2 = shared.join("data/ph2/images");
    let before_isic = fingerprint(&isic);
    let before_ph2 = fingerprint(&ph2);
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");

    let report = json(&cli_ok(&db, &["import", "--json", isic.to_str().unwrap(), ph2.to_str().unwrap()]));
    assert_eq!(report["status"], "finished");
    assert_eq!(report["new_photos"], 247, "{report}");
    assert_eq!(report["refused"], 0, "{report}");

    let stats = json(&cli_ok(&db, &["stats", "--json"]));
    assert_eq!(stats["photos"], 247);
    assert_eq!(stats["locations"], 247);
    assert_eq!(stats["missing"], 0);
    assert_eq!(stats["errors"], 0);
    let by_modality = stats["by_modality"].as_object().expect("by_modality object");
    let total: u64 = by_modality.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(total, 247);
    for m in ["clinical", "dermoscopy", "visia", "histopathology", "other"] {
        assert!(by_modality.contains_key(m), "by_modality lacks {m}");
    }

    let rows = json_lines(&cli_ok(&db, &["list", "--json"]));
    assert_eq!(rows.len(), 247);
    for r in &rows {
        for field in ["id", "hash", "paths", "width", "height", "format", "modality", "modality_source", "captured_at"]
        {
            assert!(r.get(field).is_some(), "list row lacks {field}: {r}");
        }
        let path = r["paths"][0].as_str().unwrap();
        assert!(Path::new(path).is_absolute(), "{path}");
        assert_eq!(r["hash"].as_str().unwrap().len(), 64);
        assert!(r["width"].as_u64().unwrap() > 0 && r["height"].as_u64().unwrap() > 0);
        assert_eq!(r["format"], "jpeg");
    }
    // A known file: ISIC_0000100.jpg is 2272x1704 from a Canon PowerShot G7 with an EXIF date.
    let one = rows.iter().find(|r| r["paths"][0].as_str().unwrap().ends_with("ISIC_0000100.jpg")).unwrap();
    assert_eq!((one["width"].as_u64(), one["height"].as_u64()), (Some(2272), Some(1704)));
    assert_eq!(one["camera_model"], "Canon PowerShot G7");
    assert!(one["captured_source"].as_str().unwrap().starts_with("exif:"), "{one}");
    let hash = one["hash"].as_str().unwrap();
    let expected = blake3::hash(&std::fs::read(isic.join("ISIC_0000100.jpg")).unwrap()).to_hex().to_string();
    assert_eq!(hash, expected);

    // Filters through the CLI: path text, modality, dates.
    let ph2_rows = json_lines(&cli_ok(&db, &["list", "--json", "--path", "ph2/images"]));
    assert_eq!(ph2_rows.len(), 200);
    let derm = json_lines(&cli_ok(&db, &["list", "--json", "--modality", "dermoscopy"]));
    assert!(derm.iter().all(|r| r["modality"] == "dermoscopy"));
    let dated = json_lines(&cli_ok(&db, &["list", "--json", "--from", "2000-01-01", "--to", "2012-12-31"]));
    assert!(!dated.is_empty() && dated.len() < 247, "EXIF dates of the ISIC camera files fall in range");

    // Thumbnails exist for every photo, made during import.
    let thumbs = dermdesk::store::ThumbDb::open(&tmp.path().join("a-thumbs.sqlite")).unwrap();
    for r in &rows {
        let h = r["hash"].as_str().unwrap();
        assert!(thumbs.has(h).unwrap(), "no thumbnail for {h}");
    }
    assert_eq!(thumbs.count().unwrap(), 247);

    // A second run changes nothing and says so.
    let again = json(&cli_ok(&db, &["import", "--json", isic.to_str().unwrap(), ph2.to_str().unwrap()]));
    assert_eq!((again["new_photos"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(247)), "{again}");

    assert_eq!(fingerprint(&isic), before_isic, "ISIC originals changed");
    assert_eq!(fingerprint(&ph2), before_ph2, "PH2 originals changed");
}

#[test]
fn duplicates_moves_renames_deletions_and_edits() {
    let shared = shared();
    let src = files_in(&shared.join("data/ham10000/images"), "jpg", 30);
    let tmp = tempfile::tempdir().unwrap();
    let arc = tmp.path().join("archive");
    let a = copy_files(&src, &arc.join("2010"));
    let b = copy_files(&src[..10], &arc.join("copies")); // the same content in a second folder
    let db = tmp.path().join("d.sqlite");
    let r = json(&cli_ok(&db, &["import", "--json", arc.to_str().unwrap()]));
    assert_eq!((r["new_photos"].as_u64(), r["new_locations"].as_u64()), (Some(30), Some(10)), "{r}");
    let s = json(&cli_ok(&db, &["stats", "--json"]));
    assert_eq!((s["photos"].as_u64(), s["locations"].as_u64()), (Some(30), Some(40)));
    let rows = json_lines(&cli_ok(&db, &["list", "--json"]));
    assert_eq!(rows.iter().filter(|r| r["paths"].as_array().unwrap().len() == 2).count(), 10);

    // Rename one, move one into a new folder, delete one, delete a copy, edit one in place.
    // (a[10..] have no copy in `copies`; a[3] keeps its content after b[3] goes.)
    std::fs::rename(&a[10], arc.join("2010/renamed.jpg")).unwrap();
    std::fs::create_dir_all(arc.join("2011")).unwrap();
    std::fs::rename(&a[11], arc.join("2011").join(a[11].file_name().unwrap())).unwrap();
    std::fs::remove_file(&a[12]).unwrap();
    std::fs::remove_file(&b[3]).unwrap();
    std::fs::copy(&src[29], &a[14]).unwrap(); // a[14] now holds the content of src[29]
    let r = json(&cli_ok(&db, &["import", "--json", arc.to_str().unwrap()]));
    assert_eq!(r["new_photos"], 0, "{r}");
    assert_eq!(r["moved"], 2, "{r}");
    assert_eq!(r["missing"], 4, "renamed + moved + deleted + deleted copy: {r}");
    assert_eq!(r["new_locations"], 3, "renamed, moved, and the edited path now showing other content: {r}");

    let rows = json_lines(&cli_ok(&db, &["list", "--json"]));
    let name = |p: &std::path::PathBuf| p.file_name().unwrap().to_str().unwrap().to_owned();
    let by_hash = |i: usize| {
        let h = blake3::hash(&std::fs::read(&src[i]).unwrap()).to_hex().to_string();
        rows.iter().find(|r| r["hash"] == h.as_str()).unwrap_or_else(|| panic!("no photo for src[{i}]")).clone()
    };
    let paths = |r: &serde_json::Value, key: &str| -> Vec<String> {
        r[key].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect()
    };
    let renamed = by_hash(10);
    assert_eq!(paths(&renamed, "paths").len(), 1);
    assert!(paths(&renamed, "paths")[0].ends_with("renamed.jpg"));
    assert!(paths(&renamed, "missing_paths")[0].ends_with(&name(&a[10])), "the old name is kept as missing");
    let moved = by_hash(11);
    assert!(paths(&moved, "paths")[0].contains("2011"));
    let deleted = by_hash(12);
    assert!(paths(&deleted, "paths").is_empty(), "deleted file has no present path: {deleted}");
    assert_eq!(paths(&deleted, "missing_paths").len(), 1, "but is kept as missing");
    assert_eq!(paths(&by_hash(3), "paths").len(), 1, "a deleted copy leaves the other");
    assert_eq!(paths(&by_hash(29), "paths").len(), 2, "the edited path now shows src[29]'s content");
    let missing = json_lines(&cli_ok(&db, &["list", "--json", "--status", "missing"]));
    assert_eq!(missing.len(), 2, "the deleted photo, and the one whose only file was overwritten");
    let s = json(&cli_ok(&db, &["stats", "--json"]));
    assert_eq!(s["photos"], 30, "no photo row is ever deleted");
    let store = dermdesk::Store::open(&db).unwrap();
    let id = by_hash(14)["id"].as_i64().unwrap();
    assert!(
        store
            .audit_for_photo(by_hash(29)["id"].as_i64().unwrap())
            .unwrap()
            .iter()
            .any(|a| a.action == "location_repointed")
    );
    assert!(store.photo(id).unwrap().is_some());

    // Restoring the deleted file brings its location back.
    std::fs::copy(&src[12], &a[12]).unwrap();
    let r = json(&cli_ok(&db, &["import", "--json", arc.to_str().unwrap()]));
    assert_eq!(r["new_locations"], 1, "{r}");
    let missing = json_lines(&cli_ok(&db, &["list", "--json", "--status", "missing"]));
    assert_eq!(missing.len(), 1);
}

#[test]
fn bad_usage_and_bad_databases_exit_non_zero_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("x.sqlite");
    let out = cli(&db, &["import", tmp.path().join("nowhere").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"), "the message names the path");
    let out = cli(&db, &["list", "--modality", "xray"]);
    assert_ne!(out.status.code(), Some(0));
    let out = cli(&db, &["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let junk = tmp.path().join("junk.sqlite");
    std::fs::write(&junk, vec![7u8; 4096]).unwrap();
    let out = cli(&junk, &["stats", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk.sqlite"));
    assert_eq!(std::fs::read(&junk).unwrap(), vec![7u8; 4096], "a damaged database is not overwritten");
}

#[test]
fn exif_orientation_is_applied_to_thumbnails_and_the_viewer() {
    let src = shared().join("data/isic-cc0/images/ISIC_0000100.jpg"); // 2272x1704, landscape
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rotated");
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(&src).unwrap();
    for o in [1u16, 6, 8, 3] {
        std::fs::write(dir.join(format!("o{o}.jpg")), jpeg_with_orientation(&bytes, o)).unwrap();
    }
    let db = tmp.path().join("o.sqlite");
    cli_ok(&db, &["import", "--json", dir.to_str().unwrap()]);
    let rows = json_lines(&cli_ok(&db, &["list", "--json", "--sort", "name"]));
    assert_eq!(rows.len(), 4);
    let cache = dermdesk::store::ThumbDb::open(&tmp.path().join("o-thumbs.sqlite")).unwrap();
    let thumb = |hash: &str| image::load_from_memory(&cache.get(hash).unwrap().expect("a thumbnail")).unwrap();
    let mut worker = dermdesk::work::Worker::new(&bin(), std::time::Duration::from_secs(60));
    for r in &rows {
        let name = r["paths"][0].as_str().unwrap().to_owned();
        let o = r["orientation"].as_u64().unwrap();
        assert!(name.ends_with(&format!("o{o}.jpg")), "{name} read as orientation {o}");
        // Stored size is the file's own (sensor) size; the thumbnail is upright.
        assert_eq!((r["width"].as_u64(), r["height"].as_u64()), (Some(2272), Some(1704)));
        let t = thumb(r["hash"].as_str().unwrap());
        let portrait = t.height() > t.width();
        assert_eq!(portrait, o == 6 || o == 8, "thumbnail of orientation {o} is {}x{}", t.width(), t.height());
        assert_eq!(t.width().max(t.height()), dermdesk::decode::THUMB_SIZE);
        // The viewer's full decode, through a worker as the viewer runs it.
        let req = dermdesk::decode::tasks::FullRequest {
            path: name.clone().into(),
            orientation: o as u8,
            limits: Default::default(),
        };
        let (full, rgb) = worker.call::<dermdesk::decode::tasks::FullDecode>(&req).unwrap().unwrap();
        assert_eq!((full.width, full.height), if portrait { (1704, 2272) } else { (2272, 1704) });
        assert_eq!(rgb.len(), 1704 * 2272 * 3);
        assert_eq!(full.hash, r["hash"].as_str().unwrap(), "the worker hashes the bytes it decodes");
    }
    // Orientation 3 is upside down: the thumbnail's top row is the original's bottom row.
    let up = thumb(rows[0]["hash"].as_str().unwrap()).to_rgb8();
    let down = thumb(rows[1]["hash"].as_str().unwrap()).to_rgb8();
    let (w, h) = up.dimensions();
    let diff = |a: &image::Rgb<u8>, b: &image::Rgb<u8>| {
        a.0.iter().zip(b.0).map(|(x, y)| (*x as i32 - y as i32).abs()).sum::<i32>()
    };
    let mut flipped = 0i64;
    let mut same = 0i64;
    for x in (0..w).step_by(7) {
        flipped += diff(up.get_pixel(x, 2), down.get_pixel(w - 1 - x, h - 3)) as i64;
        same += diff(up.get_pixel(x, 2), down.get_pixel(x, 2)) as i64;
    }
    assert!(flipped < same, "orientation 3 rotates by 180° ({flipped} vs {same})");
}

#[test]
fn the_thumbnail_cache_holds_no_metadata() {
    // Thumbnails may later travel in labelling packages: none may carry the original's EXIF,
    // GPS, XMP, IPTC, maker notes or comments, whatever route made it.
    let meta = shared().join("corpora/metadata");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("m.sqlite");
    cli_ok(&db, &["import", "--json", meta.to_str().unwrap()]);
    let mut checked = 0;
    let cache = dermdesk::store::ThumbDb::open(&tmp.path().join("m-thumbs.sqlite")).unwrap();
    cache
        .for_each(|hash, bytes| {
            assert!(dermdesk::decode::exif::parse(bytes).is_none(), "EXIF in the thumbnail of {hash}");
            for needle in [&b"Exif\0\0"[..], b"http://ns.adobe.com/xap", b"Photoshop 3.0", b"ICC_PROFILE"] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{:?} in {hash}",
                    String::from_utf8_lossy(needle)
                );
            }
            // No COM segment before the image data.
            let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
            assert!(!bytes[..sos].windows(2).any(|w| w == [0xFF, 0xFE]), "a comment in {hash}");
            checked += 1;
        })
        .unwrap();
    assert!(checked > 50, "only {checked} thumbnails checked");
}

#[test]
fn a_run_that_cannot_start_its_decoders_fails_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("f.sqlite");
    let opts = dermdesk::archive::ImportOptions::with_exe(tmp.path().join("no-such-dermdesk"));
    let dir = shared().join("data/histopathology-he");
    let r = dermdesk::archive::import(&db, &[dir], &opts, &dermdesk::jobs::Progress::new()).unwrap();
    assert_eq!(r.status, RunStatus::Failed);
    let msg = r.message.unwrap();
    assert!(msg.contains("cannot start a worker process") && msg.contains("no-such-dermdesk"), "{msg}");
    assert_eq!(r.counts.missing, 0, "a failed run marks nothing missing");
    let store = dermdesk::Store::open(&db).unwrap();
    let runs = store.import_runs(1).unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert_eq!(store.stats().unwrap().photos, 0);
}

#[test]
fn heic_dicom_raw_and_slides_are_refused_as_unsupported_with_the_format_named() {
    // Made at test time: the first bytes are what identify these formats (a DICOM preamble,
    // an ISO-BMFF `ftyp heic` box, TIFF-based RAW and slide files known by extension).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("odd");
    std::fs::create_dir_all(&dir).unwrap();
    let mut dicom = vec![0u8; 128];
    dicom.extend_from_slice(b"DICM");
    dicom.extend_from_slice(&[0u8; 64]);
    std::fs::write(dir.join("CT0001"), &dicom).unwrap();
    std::fs::write(dir.join("IMG_0001.HEIC"), b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").unwrap();
    let tiff = std::fs::read(shared().join("corpora/pngsuite-tiff/tiff/libtiffpic/jello.tif")).unwrap();
    std::fs::write(dir.join("DSC_0001.NEF"), &tiff).unwrap();
    std::fs::write(dir.join("biopsy.svs"), &tiff).unwrap();
    std::fs::write(dir.join("notes.txt"), "patient notes").unwrap();
    std::fs::write(dir.join("photo.jpg"), "not a photo, whatever its name says").unwrap();
    std::fs::write(dir.join("empty.jpg"), b"").unwrap();
    let db = tmp.path().join("u.sqlite");
    let r = json(&cli_ok(&db, &["import", "--json", dir.to_str().unwrap()]));
    assert_eq!(r["new_photos"], 0, "{r}");
    let reason = |name: &str| -> (String, String) {
        let x = r["refusals"].as_array().unwrap().iter().find(|x| x["path"].as_str().unwrap().ends_with(name)).unwrap();
        (x["reason_code"].as_str().unwrap().to_owned(), x["reason"].as_str().unwrap().to_owned())
    };
    assert_eq!(reason("CT0001"), ("unsupported".into(), "unsupported format: DICOM".into()));
    assert_eq!(reason("IMG_0001.HEIC"), ("unsupported".into(), "unsupported format: HEIC/HEIF".into()));
    assert_eq!(reason("DSC_0001.NEF"), ("unsupported".into(), "unsupported format: camera RAW (.nef)".into()));
    assert_eq!(reason("biopsy.svs"), ("unsupported".into(), "unsupported format: whole-slide image (.svs)".into()));
    assert_eq!(reason("photo.jpg").0, "not_image", "a name never makes a photo");
    assert_eq!(r["skipped"], 1, "a text file is passed over, counted, not refused: {r}");
    assert!(r["refusals"].as_array().unwrap().iter().all(|x| !x["path"].as_str().unwrap().ends_with("notes.txt")));
    assert_eq!(reason("empty.jpg").0, "empty");
}
