//! The modality model (assets/models/modality-lite0): it loads in tract and gives the
//! onnxruntime outputs recorded by training/train_modality.py; the import uses it after
//! folder rules and before the cues (source `model`); a rule and a person's choice still win;
//! `modality redetect` re-sorts an archive imported without it. Real images from the shared
//! folder, copied at run time into a temporary folder.

mod common;

use common::{cli_ok, copy_files, files_in, json, json_lines, shared};
use dermdesk::modality::model::ModalityNet;
use dermdesk::models::preprocess;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[test]
fn the_shipped_modality_model_gives_onnxruntimes_outputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/modality-lite0");
    let net = ModalityNet::builtin().expect("the modality model is compiled in and loads");
    let card = net.card();
    assert!(card.not_for_clinical_use);
    let img = image::open(dir.join("reference/synthetic.png")).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (card.input.width, card.input.height));
    let t = preprocess::tensor(&img, &card.input);
    let p = img.get_pixel(10, 7);
    assert!((t[(7 * img.width() + 10) as usize] - (p.0[0] as f32 - 127.0) / 128.0).abs() < 1e-6);
    let ours: Vec<f32> = net.probabilities(&img).unwrap().into_iter().map(|(_, p)| p).collect();
    let (_, want) =
        dermdesk::privacy::npy::read(&std::fs::read(dir.join("reference/synthetic_probabilities.npy")).unwrap())
            .unwrap();
    assert_eq!(ours.len(), want.len());
    let diff = ours.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(diff <= 1e-4, "max |tract - onnxruntime| = {diff}: {ours:?} against {want:?}");
    let labels: Vec<&str> = card.labels.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(labels, ["clinical", "dermoscopy", "histopathology", "other"]);
}

#[test]
fn the_modality_model_is_not_a_registered_research_model() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let one = copy_files(&files_in(&shared().join("data/ham10000/images"), "jpg", 1), &tmp.path().join("p"));
    cli_ok(&db, &["import", one[0].to_str().unwrap()]);
    let out = json_lines(&cli_ok(&db, &["models", "list", "--json"]));
    let names: Vec<&str> = out.iter().filter_map(|m| m["name"].as_str()).collect();
    assert!(!names.contains(&"modality-lite0"), "{names:?}");
    assert!(names.contains(&"ham7-lite0"), "{names:?}");
}

/// path file name -> (modality, source) from `list --json`.
fn sorted(db: &Path) -> BTreeMap<String, (String, String, i64)> {
    json_lines(&cli_ok(db, &["list", "--json"]))
        .into_iter()
        .map(|r| {
            let path = r["paths"][0].as_str().unwrap_or_default().to_owned();
            let name = Path::new(&path).file_name().unwrap().to_string_lossy().into_owned();
            let m = r["modality"].as_str().unwrap_or_default().to_owned();
            let s = r["modality_source"].as_str().unwrap_or_default().to_owned();
            (name, (m, s, r["id"].as_i64().unwrap_or_default()))
        })
        .collect()
}

/// A mixed folder: HAM10000 dermoscopy, PAD-UFES clinical photos, H&E tiles and photos of
/// people; and a folder named like dermoscopy holding one more H&E tile (for the rule).
fn mixed(root: &Path) -> Vec<(PathBuf, &'static str)> {
    let d = shared().join("data");
    let mut want = Vec::new();
    let sets: [(Vec<PathBuf>, &str); 4] = [
        (files_in(&d.join("ham10000/images"), "jpg", 4), "dermoscopy"),
        (files_in(&d.join("clinical-padufes"), "jpg", 4), "clinical"),
        (files_in(&d.join("histopathology-he"), "jpg", 3), "histopathology"),
        (vec![d.join("faces/images/fr_biden.jpg"), d.join("faces/images/if_1423.jpg")], "other"),
    ];
    for (files, m) in sets {
        for f in copy_files(&files, &root.join("mixed")) {
            want.push((f, m));
        }
    }
    copy_files(
        &[d.join("histopathology-he/kather_CRC-VAL-HE-7K-NORM-TCGA-YLVCMEHK.jpg")],
        &root.join("Dermoscopy 2020"),
    );
    want
}

#[test]
fn the_import_sorts_a_mixed_folder_by_the_model_and_rules_and_people_still_win() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let want = mixed(tmp.path());
    cli_ok(&db, &["rules", "--set", "*dermoscopy*=dermoscopy"]);
    let report = json(&cli_ok(&db, &["import", "--json", tmp.path().to_str().unwrap()]));
    assert_eq!(report["new_photos"], (want.len() + 1) as u64, "{report}");
    let got = sorted(&db);
    for (f, m) in &want {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let (gm, gs, _) = &got[&name];
        assert_eq!((gm.as_str(), gs.as_str()), (*m, "model"), "{name}");
    }
    // The folder rule wins over the model (an H&E tile in a folder named dermoscopy).
    let (m, s, _) = &got["kather_CRC-VAL-HE-7K-NORM-TCGA-YLVCMEHK.jpg"];
    assert_eq!((m.as_str(), s.as_str()), ("dermoscopy", "rule"));
    // The reason names the model and its probability.
    let id = got[&want[0].0.file_name().unwrap().to_string_lossy().into_owned()].2;
    let shown = cli_ok(&db, &["show", &id.to_string()]);
    let version = dermdesk::modality::model::builtin_version().expect("the built-in card's version").to_string();
    assert!(shown.contains(&format!("model modality-lite0 {version} (")) && shown.contains("% sure)"), "{shown}");
    // Every photo no rule decides has the model's guess; the ruled one was not given to the
    // model (its time saved), and once its rule is gone it is the one left to re-sort.
    let r = json(&cli_ok(&db, &["modality", "redetect", "--json"]));
    assert_eq!(r["examined"], 0, "{r}");
    cli_ok(&db, &["rules", "--set", "*nothing-matches*=dermoscopy", "--reapply"]);
    let r = json(&cli_ok(&db, &["modality", "redetect", "--json"]));
    assert_eq!(r["examined"], 1, "only the photo the rule had decided: {r}");
    assert_eq!(
        sorted(&db)["kather_CRC-VAL-HE-7K-NORM-TCGA-YLVCMEHK.jpg"],
        ("histopathology".into(), "model".into(), got["kather_CRC-VAL-HE-7K-NORM-TCGA-YLVCMEHK.jpg"].2)
    );
    cli_ok(&db, &["rules", "--set", "*dermoscopy*=dermoscopy", "--reapply"]);

    // A person's choice wins over a re-detection, also with --all.
    let face = got["fr_biden.jpg"].2;
    cli_ok(&db, &["set-modality", "clinical", &face.to_string()]);
    let r = json(&cli_ok(&db, &["modality", "redetect", "--all", "--json"]));
    assert_eq!(r["changed"], 0, "{r}");
    let after = sorted(&db);
    assert_eq!((after["fr_biden.jpg"].0.as_str(), after["fr_biden.jpg"].1.as_str()), ("clinical", "person"));
    assert_eq!(after["kather_CRC-VAL-HE-7K-NORM-TCGA-YLVCMEHK.jpg"].1, "rule");
}

#[test]
fn redetect_re_sorts_an_archive_imported_without_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let want = mixed(tmp.path());
    cli_ok(&db, &["import", "--no-modality-model", "--json", tmp.path().join("mixed").to_str().unwrap()]);
    let before = sorted(&db);
    assert!(before.values().all(|(_, s, _)| s == "cue"), "{before:?}");
    let r = json(&cli_ok(&db, &["modality", "redetect", "--json"]));
    assert_eq!(r["examined"], want.len() as u64, "{r}");
    assert_eq!(r["guessed"], want.len() as u64, "{r}");
    let after = sorted(&db);
    for (f, m) in &want {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!((after[&name].0.as_str(), after[&name].1.as_str()), (*m, "model"), "{name}");
    }
    let changed = before.iter().filter(|(k, v)| after[*k].0 != v.0 || after[*k].1 != v.1).count();
    assert_eq!(r["changed"], changed as u64, "{r}");
    // Run again: nothing left without a guess.
    let again = json(&cli_ok(&db, &["modality", "redetect", "--json"]));
    assert_eq!(again["examined"], 0, "{again}");

    // After an upgrade: guesses an older version stored, or stored before guesses had a
    // version, are taken again by the default run (the Photo menu's), and only those.
    let version = dermdesk::modality::model::builtin_version().unwrap().to_string();
    let ids: Vec<i64> = after.values().map(|v| v.2).collect();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let stored = |id: i64| -> Option<String> {
        conn.query_row("SELECT json_extract(cues, '$.model.version') FROM photos WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    assert!(ids.iter().all(|&id| stored(id).as_deref() == Some(version.as_str())), "every guess names {version}");
    conn.execute("UPDATE photos SET cues = json_set(cues, '$.model.version', '0.9.0') WHERE id = ?1", [ids[0]])
        .unwrap();
    conn.execute("UPDATE photos SET cues = json_remove(cues, '$.model.version') WHERE id = ?1", [ids[1]]).unwrap();
    let r = json(&cli_ok(&db, &["modality", "redetect", "--json"]));
    assert_eq!((r["examined"].as_u64(), r["guessed"].as_u64()), (Some(2), Some(2)), "{r}");
    assert_eq!((stored(ids[0]), stored(ids[1])), (Some(version.clone()), Some(version.clone())));
    assert_eq!(sorted(&db), after, "the same version decides the same way");
    let r = json(&cli_ok(&db, &["modality", "redetect", "--all", "--json"]));
    assert_eq!(r["examined"], want.len() as u64, "--all takes them all again: {r}");
}

/// The first-run demo archive (demo::sources: ISIC CC0, PH2, PAD-UFES, H&E, a HAM10000
/// sample) as the app imports it: 66 clinical photos are in it; the cues alone called 179
/// photos clinical. Its images were among the model's training images (the held-out figures
/// are in the card), so this checks the whole import path, not the model's generalisation.
#[test]
fn the_demo_archive_shows_about_its_66_clinical_photos_as_clinical() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("demo.sqlite");
    let sources = dermdesk::demo::sources(&shared());
    let opts = common::import_opts();
    dermdesk::archive::import(&db, &sources, &opts, &dermdesk::jobs::Progress::new()).unwrap();
    let mut by: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (m, s, _) in sorted(&db).into_values() {
        *by.entry((m, s)).or_default() += 1;
    }
    let clinical: usize = by.iter().filter(|((m, _), _)| m == "clinical").map(|(_, n)| n).sum();
    eprintln!("demo archive by (modality, source): {by:?}");
    assert!((60..=72).contains(&clinical), "{clinical} shown as clinical, 66 are: {by:?}");
}

/// `bench modality --heldout` sets the import's decision beside the model's, and sweeps the
/// threshold below which the cues decide: at the app's threshold the sweep is the import's
/// row, at 0 the model's.
#[test]
fn the_heldout_bench_sweeps_the_fallback_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("heldout.csv");
    let rows = [
        ("data/ph2/images/IMD002.jpg", "dermoscopy", "dermoscopy", 0.55),
        ("data/ph2/images/IMD003.jpg", "dermoscopy", "dermoscopy", 0.97),
        ("data/clinical-padufes/PAT_1089_375_60.jpg", "clinical", "clinical", 0.95),
        ("data/faces/images/fr_biden.jpg", "other", "other", 0.45),
        ("data/faces/images/fr_obama.jpg", "other", "clinical", 0.65),
        ("data/histopathology-he/TCGA-3X-AAVA_0_0_0_506.jpg", "histopathology", "histopathology", 0.99),
    ];
    let mut text = String::from("path,modality,source,group,fold,predicted,p\n");
    for (path, truth, guess, p) in rows {
        text += &format!("{path},{truth},test,{path},0,{guess},{p}\n");
    }
    std::fs::write(&csv, text).unwrap();
    let shared = shared();
    let args =
        ["bench", "modality", "--shared", shared.to_str().unwrap(), "--heldout", csv.to_str().unwrap(), "--json"];
    let out = cli_ok(&tmp.path().join("unused.sqlite"), &args);
    let v = json(&out[out.find('{').expect("a JSON object")..]);
    let app = dermdesk::modality::model::FALLBACK_BELOW;
    let below = rows.iter().filter(|r| (r.3 as f32) < app).count() as u64;
    assert_eq!(v["fell_back_to_cues"], below, "{v}");
    // The worst recall and precision over the modalities present, for one system's rows.
    let worst = |system: &str| -> (f64, f64) {
        let rs: Vec<&serde_json::Value> = v["per_modality"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["system"].as_str().unwrap().starts_with(system) && r["images"].as_u64() > Some(0))
            .collect();
        assert_eq!(rs.len(), 4, "{v}");
        let f = |k: &str| rs.iter().map(|r| r[k].as_f64().unwrap_or(0.0)).fold(1.0, f64::min);
        (f("recall"), f("precision"))
    };
    let at = |t: f32| -> &serde_json::Value {
        v["fallback_sweep"].as_array().unwrap().iter().find(|s| s["threshold"].as_f64() == Some(t as f64)).unwrap()
    };
    let pair = |s: &serde_json::Value| (s["worst_recall"].as_f64().unwrap(), s["worst_precision"].as_f64().unwrap());
    assert_eq!(at(app)["app"], true);
    assert_eq!(at(app)["fell_back"], below);
    assert_eq!(pair(at(app)), worst("import"), "{v}");
    assert_eq!(at(0.0)["fell_back"], 0);
    assert_eq!(pair(at(0.0)), worst("model"), "{v}");
    // One "other" photo called clinical by the model: other's recall is 1/2 with no fallback.
    assert_eq!(pair(at(0.0)).0, 0.5, "{v}");
}
