//! "Show what the model looked at" in the window: a cleared HAM10000 melanoma opened in the
//! viewer, H pressed, the heatmap computed in the background (progress shown) and drawn over
//! the photo with its legend, in English and Japanese; H hides it; shown again from memory
//! at once; moving to the next photo while it is computed cancels it.

mod common;
use common::gui::*;
use common::*;
use dermdesk::privacy::Review;
use dermdesk::store::Store;
use dermdesk::ui::command::Command;
use dermdesk::ui::i18n::Lang;
use egui_kittest::kittest::Queryable;

fn melanomas(n: usize) -> Vec<std::path::PathBuf> {
    ham_rows().iter().filter(|(dx, _)| dx == "mel").step_by(40).take(n).map(|(_, id)| ham_image(id)).collect()
}

#[test]
fn the_heatmap_over_the_photo_in_the_viewer() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("g.sqlite");
    import(&db, &melanomas(2));
    let mut store = Store::open(&db).unwrap();
    let ids = store.grid_ids(&Default::default()).unwrap();
    for &id in &ids {
        screened_clear(&mut store, id);
    }
    store.set_modality(&ids, dermdesk::modality::Modality::Dermoscopy).unwrap();
    store.set_review(&ids, Review::Cleared, "dr.sato").unwrap();
    drop(store);

    let mut h = harness_as(&db, "dr.sato");
    settle(&mut h, "the grid", |a| a.grid.len() == 2 && a.screen_filled());
    h.state_mut().push(Command::RunModels);
    settle(&mut h, "the models' job", |a| !a.is_busy());
    let first = h.state().grid.id(0).unwrap();
    h.state_mut().push(Command::Focus { index: 0, select: dermdesk::ui::command::Select::Only });
    h.state_mut().push(Command::Open(first));
    settle(&mut h, "the photo in the viewer", |a| {
        a.viewer.as_ref().is_some_and(|v| !v.is_loading()) && a.predictions.value().is_some()
    });
    let before = save_screen(&mut h, "occlusion_before");

    // H starts it in the background: the progress shows while it runs.
    h.key_press(egui::Key::H);
    h.run_steps(2);
    assert!(h.state().heatmap.is_running(), "computing in the background");
    wait_for_label(&mut h, "Covering parts of the photo to see what the model looked at…");
    save_screen(&mut h, "occlusion_progress_en");
    settle(&mut h, "the heatmap", |a| a.heatmap.shown().is_some());
    let map = h.state().heatmap.shown().unwrap().clone();
    assert_eq!((map.photo_id, map.model.as_str()), (first, dermdesk::models::DEMO_CLASSIFIER));
    assert!(map.max_drop > 0.0);
    assert!(h.state().viewer.as_ref().unwrap().overlay.is_some(), "drawn over the photo");
    h.get_by_label_contains("What the model looked at:");
    h.get_by_label_contains("points less when covered");
    let shot = save_screen(&mut h, "occlusion_en");
    // The overlay changed the photo where the heat is: compare the viewer's middle.
    let (w, ht) = (shot.width(), shot.height());
    let changed = (w / 4..w / 2)
        .flat_map(|x| (ht / 4..ht * 3 / 4).map(move |y| (x, y)))
        .filter(|&(x, y)| shot.get_pixel(x, y) != before.get_pixel(x, y))
        .count();
    assert!(changed > 1000, "the heatmap shows over the photo ({changed} pixels changed)");

    h.state_mut().push(Command::SetLanguage(Lang::Ja));
    h.run_steps(3);
    h.get_by_label_contains("モデルが注目した部分:");
    save_screen(&mut h, "occlusion_ja");
    h.state_mut().push(Command::SetLanguage(Lang::En));

    // H hides it; H again shows it at once from memory (no second computation).
    h.key_press(egui::Key::H);
    h.run_steps(2);
    assert!(h.state().heatmap.shown().is_none() && h.state().viewer.as_ref().unwrap().overlay.is_none());
    h.key_press(egui::Key::H);
    h.run_steps(2);
    assert!(!h.state().heatmap.is_running(), "kept in memory");
    assert_eq!(h.state().heatmap.shown().map(|m| m.seconds), Some(map.seconds));

    // The next photo: the overlay goes; computing there and moving on cancels it.
    h.key_press(egui::Key::ArrowRight);
    h.run_steps(2);
    assert!(h.state().heatmap.shown().is_none());
    h.key_press(egui::Key::H);
    h.run_steps(2);
    assert!(h.state().heatmap.is_running());
    h.key_press(egui::Key::ArrowLeft);
    h.run_steps(2);
    assert!(!h.state().heatmap.is_running(), "moving to another photo cancels it");
    settle(&mut h, "the first photo again", |a| {
        a.viewer.as_ref().is_some_and(|v| v.photo_id == first && !v.is_loading())
    });
    assert!(h.state().heatmap.shown().is_none() && h.state().heatmap.error.is_none());
}
