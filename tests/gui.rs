//! Whole-app tests: the real `App` on a real database of real photos, driven through egui
//! frames with egui_kittest: filter, select, open, zoom, switch language, first run.
//!
//! Screens that show photos are checked by their pixels and written to
//! target/screens/*.png for people to look at; they are not committed, because the photos
//! come from the shared data. Committed snapshots (tests/snapshots) show no photo.

mod common;
use common::gui::*;
use common::*;
use dermdesk::ui::Overlay;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[test]
fn browse_filter_select_open_zoom_and_switch_language() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("gui.sqlite");
    let data = shared.join("data");
    import(
        &db,
        &[
            data.join("isic-cc0/images"),
            data.join("ph2/images"),
            data.join("histopathology-he"),
            data.join("clinical-padufes"),
        ],
    );

    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the grid", |a| a.grid.len() == 323 && a.screen_filled());
    h.get_by_label("323 photos");
    let shot = save_screen(&mut h, "grid");
    assert!(colours(&shot, 230, 60, 900, 600) > 200, "the grid shows thumbnails");

    // Filter by modality: the checkbox carries the count.
    h.get_by_label_contains("Histopathology (").click();
    settle(&mut h, "the H&E filter", |a| a.grid.len() < 323 && a.screen_filled());
    let n = h.state().grid.len();
    assert!((8..=12).contains(&n), "histopathology filter shows the H&E tiles, got {n}");
    assert!(rows(h.state()).iter().all(|i| i.modality == dermdesk::modality::Modality::Histopathology));
    h.get_by_label_contains("Histopathology (").click();
    settle(&mut h, "all again", |a| a.grid.len() == 323 && a.screen_filled());

    // Filter by path text, typed into the labelled field.
    h.get_by_label("Path contains").focus();
    h.get_by_label("Path contains").type_text("ISIC_0000");
    settle(&mut h, "path filter", |a| a.grid.len() < 323 && !a.grid.is_empty() && a.screen_filled());
    assert!(rows(h.state()).iter().all(|i| i.name.contains("ISIC_0000")));
    assert_eq!(h.state().grid.len(), 47);

    // Sort so the biggest photo comes first, select it by clicking its cell, and open it.
    h.state_mut().state.filter.sort = dermdesk::store::SortKey::Pixels;
    h.state_mut().state.filter.descending = true;
    h.state_mut().refresh();
    settle(&mut h, "sorted", |a| a.screen_filled() && a.grid.row(0).is_some_and(|i| i.width == 3872));
    let first = h.state().grid.row(0).unwrap().clone();
    h.get_all_by_label(&first.name).next().expect("cell for the first photo").click();
    h.run_steps(2); // the click queues a command, which the next frame runs
    assert_eq!(h.state().focused_id(), Some(first.id));
    assert!(h.state().selection.contains(&first.id));
    // The details panel shows the same photo: its heading is the name, beside the cell's.
    settle(&mut h, "the details", |_| true);
    assert_eq!(h.get_all_by_label(&first.name).count(), 2, "the cell and the details heading");

    h.key_press(egui::Key::Enter);
    settle(&mut h, "the full-resolution decode", |a| a.viewer.as_ref().is_some_and(|v| !v.is_loading()));
    let v = h.state().viewer.as_ref().unwrap();
    assert_eq!(v.image_size(), Some((3872, 2592)));
    assert_eq!(v.tile_count(), 4, "a 3872×2592 photo is shown as 2×2 tiles of at most 2048 px");
    let fit = v.zoom();
    let shot = save_screen(&mut h, "viewer-fit");
    assert!(colours(&shot, 300, 200, 900, 600) > 300, "the viewer shows the photo");

    // Zoom: keys, then actual pixels, then fit again.
    h.key_press(egui::Key::Plus);
    h.step();
    assert!(h.state().viewer.as_ref().unwrap().zoom() > fit * 1.2);
    h.key_press(egui::Key::Num1);
    h.step();
    h.step();
    h.get_by_label_contains("Zoom 100%");
    for _ in 0..5 {
        h.key_press(egui::Key::Plus);
    }
    h.step();
    let z = h.state().viewer.as_ref().unwrap().zoom();
    assert!(z > 3.0, "zoomed to see single pixels: {z}");
    save_screen(&mut h, "viewer-pixels");
    h.key_press(egui::Key::Num0);
    h.step();
    assert!((h.state().viewer.as_ref().unwrap().zoom() - fit).abs() < 1e-3);

    // Next photo, then back to the grid.
    h.key_press(egui::Key::ArrowRight);
    settle(&mut h, "next photo", |a| a.viewer.as_ref().is_some_and(|v| !v.is_loading() && v.photo_id != first.id));
    h.key_press(egui::Key::Escape);
    h.step();
    assert!(h.state().viewer.is_none());

    // Set the modality by hand from the Photo menu; it is audited and shown as set by hand.
    let focused = h.state().focused_id().unwrap();
    h.get_by_label("Photo").click();
    h.step();
    h.step();
    h.get_by_label_contains("Set modality: Clinical").click();
    settle(&mut h, "modality change", |_| true);
    let store = dermdesk::Store::open(&db).unwrap();
    let d = store.photo(focused).unwrap().unwrap();
    assert_eq!(d.row.modality, dermdesk::modality::Modality::Clinical);
    assert_eq!(d.row.modality_source, dermdesk::modality::ModalitySource::Person);
    assert!(store.audit_for_photo(focused).unwrap().iter().any(|a| a.action == "set_modality"));

    // Switch to Japanese: every visible string changes, and the choice is saved.
    h.get_by_label("日本語").click();
    settle(&mut h, "language", |a| a.lang() == dermdesk::ui::i18n::Lang::Ja);
    h.get_by_label("47 枚");
    h.get_by_label("ファイル");
    h.get_by_label("パスに含む");
    save_screen(&mut h, "grid-ja");
    drop(h);
    let mut again = harness(&db, Vec::new());
    settle(&mut again, "reopen", |a| a.grid.loaded_once);
    assert_eq!(again.state().lang(), dermdesk::ui::i18n::Lang::Ja, "the language is remembered");
    assert_eq!(again.state().grid.len(), 47, "and so are the filters");
}

#[test]
fn first_run_imports_the_demo_with_progress_and_cancel_keeps_what_was_done() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("first.sqlite");
    let sources = dermdesk::demo::sources(&shared);
    assert!(sources.len() > 300, "the demo takes two folders plus clinical, H&E and a HAM10000 sample");
    let mut h = harness(&db, sources.clone());
    h.step();
    assert_eq!(h.state().jobs.len(), 1, "the demo import starts at once, as a background job");
    // Progress shows while it runs.
    let start = Instant::now();
    while h.state().jobs.first().is_some_and(|j| j.progress.snapshot().done == 0) {
        h.step();
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(10));
    }
    h.get_by_label("Importing");
    settle(&mut h, "the demo import", |a| a.jobs.is_empty() && !a.grid.is_empty());
    let n = h.state().grid.len();
    assert!(n > 600, "demo archive: ISIC, PH2, clinical, H&E and ~300 HAM10000, got {n}");
    assert!(
        h.state().notices.iter().any(|x| x.text.starts_with("Import finished") && x.text.contains("0 refused")),
        "the demo imports without refusals: {:?}",
        h.state().notices.iter().map(|n| &n.text).collect::<Vec<_>>()
    );
    let counts = &h.state().grid.counts;
    for m in ["clinical", "dermoscopy", "histopathology"] {
        assert!(counts[m] > 0, "the demo shows {m} photos: {counts:?}");
    }
    save_screen(&mut h, "first-run");

    // A second import of a big folder, cancelled: what finished stays, the run says cancelled.
    let ham = shared.join("data/ham10000/images");
    h.state_mut().push(dermdesk::ui::command::Command::Import(vec![ham]));
    let start = Instant::now();
    loop {
        h.step();
        if h.state().jobs.first().is_some_and(|j| j.progress.snapshot().done > 50) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(10));
    }
    // What the status bar shows besides the job changes while it runs (the grid's spinner as
    // photos arrive, a selection): a click aimed where the button was drawn still reaches it.
    let at = h.get_by_label("Cancel").rect().center();
    let first = h.state().grid.row(0).unwrap().id;
    h.state_mut().selection.insert(first);
    h.hover_at(at);
    for pressed in [true, false] {
        let button = egui::PointerButton::Primary;
        h.event(egui::Event::PointerButton { pos: at, button, pressed, modifiers: Default::default() });
    }
    settle(&mut h, "cancel", |a| a.jobs.is_empty());
    assert!(
        h.state().notices.iter().any(|x| x.text.contains("cancelled")),
        "the cancelled import says so: {:?}",
        h.state().notices.iter().map(|n| &n.text).collect::<Vec<_>>()
    );
    let runs = dermdesk::Store::open(&db).unwrap().import_runs(5).unwrap();
    assert_eq!(runs[0].status, dermdesk::store::RunStatus::Cancelled);
    assert!(runs[0].new_photos + runs[0].new_locations > 0 && runs[0].scanned < 10_015);
    assert!(h.state().grid.len() > n, "photos imported before the cancel are kept and shown");
}

#[test]
fn empty_archive_welcome_palette_and_rules_snapshots() {
    // No photos on these screens, so their snapshots can be committed.
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("empty.sqlite");
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "empty grid", |a| a.grid.loaded_once);
    h.get_by_label("No photos yet");
    h.get_all_by_label("Add archive folder…").next().expect("the welcome prompt has the add button");
    h.snapshot("welcome_en");

    h.get_by_label("日本語").click();
    h.step();
    h.step();
    h.get_by_label("写真はまだありません");
    h.snapshot("welcome_ja");

    // Command palette: Ctrl+Shift+P, type to filter, Enter runs the first match.
    h.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::P);
    h.step();
    h.step();
    assert!(h.state().is_open(Overlay::Palette));
    h.get_by_label("コマンドパレット…").type_text("English");
    h.step();
    h.step();
    h.snapshot("palette_ja");
    h.key_press(egui::Key::Enter);
    h.step();
    h.step();
    assert!(!h.state().is_open(Overlay::Palette));
    assert_eq!(h.state().lang(), dermdesk::ui::i18n::Lang::En, "the palette ran the language switch");

    // The rules editor saves to the database, audited.
    h.state_mut().push(dermdesk::ui::command::Command::ToggleRules);
    settle(&mut h, "the rules read", |a| a.is_open(Overlay::Rules));
    h.get_by_label("Modality rules");
    h.snapshot("rules_en");
    h.get_by_label("Save").click();
    settle(&mut h, "the rules saved", |a| !a.is_open(Overlay::Rules));
    let store = dermdesk::Store::open(&db).unwrap();
    assert!(store.audit_recent(5).unwrap().iter().any(|a| a.action == "set_modality_rules"));

    h.state_mut().push(dermdesk::ui::command::Command::AddFolder);
    h.run_steps(4);
    // Typing goes straight into the path field: it took the keyboard when the window opened.
    h.event(egui::Event::Text("/dermdesk-no-such-folder".into()));
    h.run_steps(2);
    assert_eq!(h.state().add_path_text(), "/dermdesk-no-such-folder", "the path field takes the keyboard at once");
    wait_for_label(&mut h, "No such folder");
    h.snapshot("add_folder_en");
}

#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn dropping_a_folder_on_the_window_imports_it() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("drop.sqlite");
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "empty grid", |a| a.grid.loaded_once);
    let folder = shared.join("data/histopathology-he");
    h.input_mut().dropped_files.push(std::sync::Arc::new(Dropped(folder)));
    h.step();
    assert_eq!(h.state().jobs.len(), 1, "the drop starts an import job");
    settle(&mut h, "the dropped folder's import", |a| a.jobs.is_empty() && a.grid.len() == 10 && a.screen_filled());
    assert!(rows(h.state()).iter().all(|i| i.modality == dermdesk::modality::Modality::Histopathology));
}

#[test]
fn a_cleared_thumbnail_cache_is_rebuilt_in_the_background() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("heal.sqlite");
    import(&db, &[shared.join("data/ph2/images")]);
    let cache = tmp.path().join("heal-thumbs.sqlite");
    assert!(cache.is_file());
    dermdesk::store::thumbs::delete(&cache).unwrap();
    let mut h = harness(&db, Vec::new());
    // The visible cells find no thumbnail, and the app starts the thumbnail job by itself.
    settle(&mut h, "the thumbnail job", |a| {
        a.grid.len() == 200 && a.notices.iter().any(|n| n.text.starts_with("Thumbnails: 200 made"))
    });
    settle(&mut h, "thumbnails on screen", |a| a.thumb_status().0 > 10);
    let made = dermdesk::store::ThumbDb::open(&cache).unwrap().count().unwrap();
    assert_eq!(made, 200, "every photo's thumbnail is back");
}

#[test]
fn add_archive_folder_by_typing_its_path() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("add.sqlite");
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "empty grid", |a| a.grid.loaded_once);
    // The welcome screen's big button opens the Add-folder window.
    h.get_all_by_label("Add archive folder…").last().expect("welcome button").click();
    h.run_steps(4); // a new window lays itself out over a couple of frames
    assert!(h.state().is_open(Overlay::AddFolder));
    h.get_by_label("Folder").focus();
    h.get_by_label("Folder").type_text("/no/such/folder");
    h.step();
    wait_for_label(&mut h, "No such folder");
    // Replace the text with a real folder and import it.
    h.get_by_label("Folder").focus();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Folder").type_text(shared.join("data/clinical-padufes").to_str().unwrap());
    h.step();
    assert!(
        h.state().add_path_text().starts_with("/") && !h.state().add_path_text().contains("no/such"),
        "{}",
        h.state().add_path_text()
    );
    // Whether it is a folder is asked off the UI thread; Import is offered once it is known.
    let start = Instant::now();
    while h.state().add_path_is_folder() != Some(true) {
        assert!(start.elapsed() < Duration::from_secs(30), "the folder check never answered");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.step();
    h.get_by_label("Import").click();
    h.run_steps(2);
    assert!(!h.state().is_open(Overlay::AddFolder), "the window closes on import");
    settle(&mut h, "the import", |a| a.jobs.is_empty() && a.grid.len() == 66);
}

#[test]
fn the_apps_own_writes_do_not_reload_its_panels_another_processs_do() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("w.sqlite");
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "empty grid", |a| a.grid.loaded_once);
    // Two writes of the app's own, through its store thread: the language (a settings save)
    // and the modality rules.
    h.get_by_label("日本語").click();
    h.state_mut().push(dermdesk::ui::command::Command::ToggleRules);
    settle(&mut h, "the rules read", |a| a.is_open(Overlay::Rules));
    h.get_by_label("保存").click();
    settle(&mut h, "the rules saved", |a| !a.is_open(Overlay::Rules));
    let store = dermdesk::Store::open(&db).unwrap();
    assert!(store.audit_recent(5).unwrap().iter().any(|a| a.action == "set_modality_rules"));
    // The watcher asks once a second: three seconds of frames, as an idle window gets them.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(h.state().outside_reloads, 0, "the app's own writes reloaded its panels");

    // Another process's commit (a second connection to the file) does.
    let mut other = dermdesk::Store::open(&db).unwrap();
    other.set_setting("written-elsewhere", "1").unwrap();
    frames_until(&mut h, "another process's write was never noticed", Duration::from_secs(15), |h| {
        h.state().outside_reloads > 0
    });
    assert_eq!(h.state().outside_reloads, 1);
}
