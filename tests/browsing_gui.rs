//! What a dermatologist found trying the app (issue 19), each through the real window's
//! code paths: keys never reach what is behind a window or menu, a right-click acts on the
//! photo it was made on, dates are refused where they are typed, modality edits can be
//! undone and reset, the rule editor and import log say what they do.

mod common;
use common::gui::*;
use common::*;
use dermdesk::modality::{Modality, ModalitySource};
use dermdesk::ui::Overlay;
use egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

fn modality_of(db: &std::path::Path, id: i64) -> (Modality, ModalitySource) {
    let d = dermdesk::Store::open(db).unwrap().photo(id).unwrap().unwrap();
    (d.row.modality, d.row.modality_source)
}

fn isic_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("b.sqlite");
    import(&db, &[shared().join("data/isic-cc0/images")]);
    (tmp, db)
}

#[test]
fn keys_go_to_the_topmost_window_and_esc_closes_it() {
    let (_tmp, db) = isic_db();
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the grid", |a| a.grid.len() == 47 && a.screen_filled());
    let first = h.state().grid.row(0).unwrap().clone();
    h.get_all_by_label(&first.name).next().unwrap().click();
    h.run_steps(2);
    assert_eq!(h.state().selection.len(), 1);
    let before = modality_of(&db, first.id);

    // The Add-folder window: a wrong path and Enter, then the keys that used to reach the grid.
    h.key_press_modifiers(Modifiers::COMMAND, Key::O);
    h.run_steps(4);
    assert!(h.state().is_open(Overlay::AddFolder));
    h.event(egui::Event::Text("/no/such/folder".into()));
    h.key_press(Key::Enter);
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.run_steps(2);
    assert_eq!(h.state().selection.len(), 1, "Ctrl+A stays in the window: it does not select all photos behind it");
    h.key_press(Key::Enter);
    h.run_steps(2);
    assert!(h.state().viewer.is_none(), "Enter does not open a photo behind the window");
    h.key_press_modifiers(Modifiers::ALT, Key::Num1);
    settle(&mut h, "any write", |_| true);
    assert_eq!(modality_of(&db, first.id), before, "Alt+1 relabels nothing behind the window");
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(!h.state().is_open(Overlay::AddFolder), "Esc closes the window");
    assert_eq!(h.state().selection.len(), 1, "and only the window");

    // An open menu takes Esc itself; the selection stays.
    h.get_by_label("Photo").click();
    h.run_steps(2);
    assert!(egui::Popup::is_any_open(&h.ctx), "the menu is open");
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(!egui::Popup::is_any_open(&h.ctx), "Esc closed the menu");
    assert_eq!(h.state().selection.len(), 1, "Esc on a menu does not clear the selection");

    // The import log closes with Esc too.
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::I);
    settle(&mut h, "the import log", |a| a.is_open(Overlay::ImportLog));
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(!h.state().is_open(Overlay::ImportLog));

    // Ctrl+O works while a text field has the keyboard.
    h.get_by_label("Path contains").focus();
    h.run_steps(1);
    h.key_press_modifiers(Modifiers::COMMAND, Key::O);
    h.run_steps(3);
    assert!(h.state().is_open(Overlay::AddFolder), "Ctrl+O from the search field");
}

#[test]
fn a_right_click_acts_on_the_photo_it_was_made_on_and_edits_can_be_undone_and_reset() {
    let (_tmp, db) = isic_db();
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the grid", |a| a.grid.len() == 47 && a.screen_filled());
    let a = h.state().grid.row(0).unwrap().clone();
    let b = h.state().grid.row(3).unwrap().clone();
    h.get_all_by_label(&a.name).next().unwrap().click();
    h.run_steps(2);
    h.get_all_by_label(&b.name).next().unwrap().click_secondary();
    settle(&mut h, "the details of the right-clicked photo", |app| app.focused_id() == Some(b.id));
    assert_eq!(h.state().selection.iter().copied().collect::<Vec<_>>(), vec![b.id], "selection follows");
    assert!(!h.state().is_open(Overlay::AddFolder));
    h.key_press(Key::Escape); // closes the context menu
    h.run_steps(2);
    let (a_before, b_before) = (modality_of(&db, a.id), modality_of(&db, b.id));
    h.key_press_modifiers(Modifiers::ALT, Key::Num5);
    settle(&mut h, "the modality change", |app| app.notices.iter().any(|n| n.text.contains("Other")));
    assert_eq!(modality_of(&db, b.id), (Modality::Other, ModalitySource::Person), "Alt+5 changed the photo shown");
    assert_eq!(modality_of(&db, a.id), a_before, "and not the one clicked before");

    // Ctrl+Z undoes it.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    settle(&mut h, "the undo", |app| app.notices.iter().any(|n| n.text.starts_with("Undone")));
    assert_eq!(modality_of(&db, b.id), b_before);

    // Set by hand again, then back to automatic (Alt+0).
    h.key_press_modifiers(Modifiers::ALT, Key::Num2);
    settle(&mut h, "set by hand", |_| true);
    assert_eq!(modality_of(&db, b.id).1, ModalitySource::Person);
    h.key_press_modifiers(Modifiers::ALT, Key::Num0);
    settle(&mut h, "reset", |app| app.notices.iter().any(|n| n.text.starts_with("Reset modality")));
    assert_eq!(modality_of(&db, b.id), b_before, "the automatic modality is back");
    let audit = dermdesk::Store::open(&db).unwrap().audit_for_photo(b.id).unwrap();
    for action in ["set_modality", "undo_modality", "reset_modality"] {
        assert!(audit.iter().any(|x| x.action == action), "{action} is audited");
    }
}

#[test]
fn dates_are_refused_where_typed_and_never_keep_an_earlier_keystroke() {
    let (_tmp, db) = isic_db();
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the grid", |a| a.grid.len() == 47 && a.screen_filled());
    h.get_by_label("Captured from").focus();
    h.get_by_label("Captured from").type_text("2006");
    settle(&mut h, "the year filter", |a| a.state.filter.from.as_deref() == Some("2006"));
    assert!(h.query_by_label_contains("Not a date").is_none());
    h.get_by_label("Captured from").type_text("-02-30");
    settle(&mut h, "the refusal", |a| a.state.filter.from.is_none());
    h.get_by_label_contains("Not a date");
    assert_eq!(h.state().grid.len(), 47, "the impossible date filters nothing: it is off, and says so");
    save_screen(&mut h, "bad-date");
}

#[test]
fn the_rule_editor_adds_rules_switched_off_and_says_what_save_does() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("r.sqlite");
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "empty grid", |a| a.grid.loaded_once);
    h.state_mut().push(dermdesk::ui::command::Command::ToggleRules);
    settle(&mut h, "the rules", |a| a.is_open(Overlay::Rules));
    h.get_by_label_contains("Save applies the rules now");
    let before = dermdesk::Store::open(&db).unwrap().rules().unwrap();
    h.get_by_label("Add").click();
    h.run_steps(2);
    h.get_by_label("Save").click();
    settle(&mut h, "saved", |a| !a.is_open(Overlay::Rules));
    let after = dermdesk::Store::open(&db).unwrap().rules().unwrap();
    assert_eq!(after, before, "an added rule left empty is not saved, and never an enabled '*'");
}

#[test]
fn the_import_log_lists_files_first_in_plain_words_and_exports_them() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("l.sqlite");
    let corpus = shared.join("corpora/libjpeg-turbo");
    let r = dermdesk::archive::import(&db, &[corpus], &import_opts(), &dermdesk::jobs::Progress::new()).unwrap();
    assert!(r.counts.refused > 3, "the corpus has refused files");
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the grid", |a| a.grid.loaded_once);
    h.get_by_label("日本語").click();
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::I);
    settle(&mut h, "the log", |a| a.is_open(Overlay::ImportLog));
    wait_for_label(&mut h, "書き出し先");
    // A reason in plain Japanese words, per file and counted per reason.
    let reasons = ["破損", "途中で切れている", "画像ではない", "未対応の形式", "大きすぎる"];
    assert!(reasons.iter().any(|r| h.query_all_by_label_contains(r).count() >= 2), "reasons in Japanese");
    save_screen(&mut h, "import-log-ja");
    let out = tmp.path().join("refused.csv");
    let field = h.get_by_label("書き出し先");
    field.focus();
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.get_by_label("書き出し先").type_text(out.to_str().unwrap());
    h.run_steps(1);
    h.get_by_label("CSV に書き出す").click();
    let start = Instant::now();
    while !h.state().notices.iter().any(|n| n.text.contains("refused.csv")) {
        assert!(start.elapsed() < Duration::from_secs(30), "no export notice");
        h.step();
    }
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count() as u64, r.counts.refused + 1, "a header and every refused file");
    assert!(csv.starts_with("path,reason_code,reason"));
}

#[test]
fn a_file_that_changed_or_broke_cannot_take_the_viewer_down() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let files = copy_files(&files_in(&shared.join("data/ph2/images"), "jpg", 3), &tmp.path().join("p"));
    let db = tmp.path().join("v.sqlite");
    import(&db, &[tmp.path().join("p")]);
    // After import: one file is replaced by a cut-off copy of another, one by nonsense.
    let other = std::fs::read(&files[2]).unwrap();
    std::fs::write(&files[0], &other[..other.len() / 3]).unwrap();
    std::fs::write(&files[1], vec![0xFFu8; 5000]).unwrap();
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the grid", |a| a.grid.len() == 3 && a.screen_filled());
    // Each photo opened in turn, as the viewer opens them: the app lives through all three.
    let mut errors = Vec::new();
    let mut shown = 0;
    for i in 0..3 {
        let id = h.state().grid.id(i).unwrap();
        h.state_mut().push(dermdesk::ui::command::Command::Open(id));
        settle(&mut h, "the decode", |a| a.viewer.as_ref().is_some_and(|v| v.photo_id == id && !v.is_loading()));
        let v = h.state().viewer.as_ref().unwrap();
        match v.error() {
            Some(e) => errors.push(e.to_owned()),
            None => shown += 1,
        }
        if i == 0 {
            save_screen(&mut h, "viewer-changed-file");
        }
    }
    assert_eq!(shown, 1, "the intact photo shows: {errors:?}");
    assert_eq!(errors.len(), 2);
    assert!(
        errors.iter().all(|e| e.contains("changed since it was imported") || e.contains("not an image")),
        "each says why: {errors:?}"
    );
}

#[test]
fn end_with_nothing_focused_goes_to_the_end() {
    let (_tmp, db) = isic_db();
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the grid", |a| a.grid.len() == 47 && a.screen_filled());
    h.key_press(Key::End);
    settle(&mut h, "the end", |a| a.screen_filled());
    assert_eq!(h.state().focus, Some(46));
    h.key_press_modifiers(Modifiers::SHIFT, Key::Home);
    h.run_steps(2);
    assert_eq!(h.state().selection.len(), 47, "Shift+Home selects from the end to the start");
}

#[test]
fn shift_and_ctrl_arrows_select_as_in_a_file_manager() {
    let (_tmp, db) = isic_db();
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "the grid", |a| a.grid.len() == 47 && a.screen_filled());
    h.key_press(Key::Home);
    h.run_steps(2);
    for _ in 0..3 {
        h.key_press_modifiers(Modifiers::SHIFT, Key::ArrowRight);
    }
    h.run_steps(2);
    assert_eq!(h.state().selection.len(), 4, "Shift+→ three times: four photos");
    // Ctrl+→ moves the focus alone; Ctrl+Space adds the focused photo.
    h.key_press_modifiers(Modifiers::COMMAND, Key::ArrowRight);
    h.key_press_modifiers(Modifiers::COMMAND, Key::ArrowRight);
    h.run_steps(2);
    assert_eq!((h.state().focus, h.state().selection.len()), (Some(5), 4));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Space);
    h.run_steps(2);
    assert_eq!(h.state().selection.len(), 5);
    assert!(h.state().selection.contains(&h.state().grid.id(5).unwrap()));
}

#[test]
fn a_damaged_database_opens_at_once_says_so_and_is_never_written() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("d.sqlite");
    import(&db, &[shared.join("data/ph2/images")]);
    // Fold the log into the file, then damage a page in its middle (the header stays whole,
    // so the file opens, as a damaged archive database would).
    drop(rusqlite::Connection::open(&db).unwrap().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())));
    let mut bytes = std::fs::read(&db).unwrap();
    let page = bytes.len() / 4096 / 2;
    bytes[page * 4096 + 100..page * 4096 + 4000].fill(0x5A);
    std::fs::write(&db, &bytes).unwrap();
    assert!(matches!(dermdesk::Store::open(&db), Err(dermdesk::Error::Corrupt { .. })), "the CLI's open refuses it");

    let mut h = harness_opened(&db, dermdesk::Store::open_for_app(&db).expect("the app opens it at once"));
    settle(&mut h, "the integrity check", |a| a.notices.iter().any(|n| n.error && n.text.contains("damaged")));
    let before = std::fs::read(&db).unwrap();
    h.state_mut().push(dermdesk::ui::command::Command::Focus { index: 0, select: dermdesk::ui::command::Select::Only });
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::ALT, Key::Num1);
    settle(&mut h, "the refused write", |a| a.notices.iter().filter(|n| n.error).count() >= 2);
    assert_eq!(std::fs::read(&db).unwrap(), before, "nothing is written to a damaged database");
}
