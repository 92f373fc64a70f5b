//! The details panel names the modality model as a photo's modality source, with how sure it
//! was, in English and Japanese (the import ran the model: no rule matches the folder).

mod common;
use common::gui::*;
use common::*;
use egui_kittest::kittest::Queryable;

#[test]
fn the_details_panel_says_the_modality_model_decided() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("gui.sqlite");
    let photos = files_in(&shared().join("data/ph2/images"), "jpg", 3);
    let dir = tmp.path().join("photos");
    copy_files(&photos, &dir);
    import(&db, &[dir]);
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the grid", |a| a.grid.len() == 3 && a.screen_filled());
    let first = h.state().grid.row(0).unwrap().clone();
    assert_eq!(first.modality, dermdesk::modality::Modality::Dermoscopy);
    h.get_all_by_label(&first.name).next().expect("cell").click();
    h.run_steps(2);
    settle(&mut h, "the details", |_| true);
    let version = dermdesk::modality::model::builtin_version().expect("the built-in card's version");
    let label = format!("modality model modality-lite0 {version}: ");
    let why = h.get_by_label_contains(&label);
    let text = format!("{why:?}");
    assert!(text.contains("% sure"), "{text}");
    save_screen(&mut h, "modality-model-details");
    h.get_by_label("日本語").click();
    settle(&mut h, "language", |a| a.lang() == dermdesk::ui::i18n::Lang::Ja);
    h.get_by_label_contains(&format!("モダリティ判定モデル modality-lite0 {version}: 確信度"));
    save_screen(&mut h, "modality-model-details-ja");
}

/// An archive imported without the modality model (as before it existed) is sorted again from
/// the Photo menu: a background job on the decoder workers, the same path as `modality
/// redetect`, its summary in the status line; afterwards nothing is left without a guess.
#[test]
fn photo_menu_sorts_an_archive_imported_without_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("gui.sqlite");
    let dir = tmp.path().join("photos");
    let mut photos = files_in(&shared().join("data/ph2/images"), "jpg", 2);
    photos.extend(files_in(&shared().join("data/clinical-padufes"), "jpg", 2));
    copy_files(&photos, &dir);
    cli_ok(&db, &["import", "--no-modality-model", "--json", dir.to_str().unwrap()]);
    let sources = |db: &std::path::Path| -> Vec<String> {
        json_lines(&cli_ok(db, &["list", "--json"]))
            .iter()
            .map(|r| r["modality_source"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(sources(&db), vec!["cue"; 4], "imported with rules and cues only");
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the grid", |a| a.grid.len() == 4 && a.screen_filled());
    h.get_by_label("Photo").click();
    h.run_steps(2);
    h.get_by_label("Sort modalities with the modality model").click();
    h.run_steps(2);
    settle(&mut h, "the modality job", |a| a.jobs.is_empty());
    h.get_by_label_contains("Modality model: 4 photos examined");
    save_screen(&mut h, "modality-redetect-done");
    drop(h);
    let after = sources(&db);
    assert!(after.iter().any(|s| s == "model"), "the model decided none: {after:?}");
    let again = json(&cli_ok(&db, &["modality", "redetect", "--json"]));
    assert_eq!(again["examined"], 0, "photos left without a guess: {again}");
}
