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
    let why = h.get_by_label_contains("modality model modality-lite0: ");
    let text = format!("{why:?}");
    assert!(text.contains("% sure"), "{text}");
    save_screen(&mut h, "modality-model-details");
    h.get_by_label("日本語").click();
    settle(&mut h, "language", |a| a.lang() == dermdesk::ui::i18n::Lang::Ja);
    h.get_by_label_contains("モダリティ判定モデル modality-lite0: 確信度");
    save_screen(&mut h, "modality-model-details-ja");
}
