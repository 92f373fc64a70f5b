//! The privacy review panel in the real app (egui_kittest): real photos screened by the GUI
//! job and by the worker job, then worked through with the keyboard (C clear, X exclude,
//! R redact, arrows, Ctrl+Z undo, G grid with ticks, a rectangle dragged on the photo). The
//! store and the gate (`Store::release`) are checked after each key: they must have changed
//! exactly as the key said and nothing else.
//!
//! Screens that show a photo from the shared data are written to target/screens/ and never
//! committed; the committed snapshots show the empty panel only.

mod common;
use common::gui::{harness_as, import, save_screen};
use common::*;
use dermdesk::Store;
use dermdesk::privacy::{FindingKind, Review, Verdict};
use dermdesk::store::{Shape, Withheld};
use dermdesk::ui::command::{Command, Pv};
use dermdesk::ui::i18n::Lang;
use dermdesk::ui::{App, Overlay};
use egui::{Event, Key, Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const USER: &str = "dr.sato";

fn settle(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        let app = h.state();
        if !app.is_busy() && done(app) {
            h.step();
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(300), "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(15));
    }
}

/// A face photo, a dermoscopy image and a camera original with identifying EXIF.
fn photos() -> Vec<PathBuf> {
    let s = shared();
    vec![
        s.join("data/faces/images/fr_obama.jpg"),
        s.join("data/ph2/images/IMD002.jpg"),
        s.join("data/isic-cc0/images/ISIC_0000100.jpg"),
    ]
}

fn screen_all(db: &Path) {
    let opts = dermdesk::privacy::job::ScreenOptions { threads: 2, exe: bin(), ..Default::default() };
    let r = dermdesk::privacy::job::run(db, &opts, &dermdesk::jobs::Progress::new()).unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
}

fn queue_ids(db: &Path) -> HashMap<String, i64> {
    let q = dermdesk::store::QueueFilter { reviews: Review::ALL.to_vec(), ..Default::default() };
    Store::open(db).unwrap().privacy_queue(&q).unwrap().into_iter().map(|i| (i.name, i.photo_id)).collect()
}

fn review(db: &Path, id: i64) -> Review {
    Store::open(db).unwrap().screening(id).unwrap().unwrap().review
}

fn reviews(db: &Path, ids: &HashMap<String, i64>) -> HashMap<String, Review> {
    ids.iter().map(|(n, &id)| (n.clone(), review(db, id))).collect()
}

/// What the gate says of one photo: allowed (with its redactions), or why not.
fn gate(db: &Path, id: i64) -> Result<usize, Withheld> {
    let r = Store::open(db).unwrap().release(Some(&[id])).unwrap();
    match r.allowed.first() {
        Some(a) => Ok(a.redactions.len()),
        None => Err(r.withheld[0].1),
    }
}

fn panel<'a>(h: &'a Harness<'static, App>) -> &'a dermdesk::ui::privacy_review::PrivacyReview {
    h.state().privacy_review.as_ref().expect("the privacy panel is open")
}

fn current_name(h: &Harness<'static, App>) -> String {
    panel(h).current_item().unwrap().name.clone()
}

/// The panel is open, its queue in and the current photo's findings shown.
fn ready(a: &App) -> bool {
    a.privacy_review.as_ref().is_some_and(|p| {
        !p.is_busy() && p.detail.as_ref().map(|d| d.photo_id) == p.current_id() && p.current_id().is_some()
    })
}

fn key(h: &mut Harness<'static, App>, k: Key, what: &str) {
    h.key_press(k);
    settle(h, what, ready);
}

fn ctrl_z(h: &mut Harness<'static, App>, what: &str) {
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    settle(h, what, ready);
}

#[test]
fn screen_then_clear_exclude_redact_and_undo_by_keyboard() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    import(&db, &photos());
    let ids = queue_ids(&db);
    assert!(ids.is_empty(), "nothing is in the queue before screening");
    let mut h = harness_as(&db, USER);
    settle(&mut h, "the grid", |a| a.grid.len() == 3 && a.screen_filled());

    // Photo → Screen photos… runs the job in the background and says what it found.
    h.state_mut().push(Command::ScreenPhotos);
    h.step();
    assert_eq!(h.state().jobs.len(), 1, "the screening runs as a background job");
    h.state_mut().push(Command::ScreenPhotos);
    h.step();
    assert_eq!(h.state().jobs.len(), 1, "one screening at a time");
    settle(&mut h, "the screening", |a| a.jobs.is_empty());
    let notice = h.state().notices.iter().map(|n| n.text.clone()).find(|t| t.starts_with("Screening finished"));
    let notice = notice.expect("a notice with the counts");
    assert!(notice.contains("3 screened") && notice.contains("0 could not"), "{notice}");
    let ids = queue_ids(&db);
    assert_eq!(ids.len(), 3, "every photo is screened and queued: {ids:?}");

    // Nothing selected in the grid behind; the panel opens through its command.
    h.state_mut().push(Command::TogglePrivacyReview);
    settle(&mut h, "the panel", ready);
    assert!(h.state().is_open(Overlay::PrivacyReview));
    let order: Vec<_> = panel(&h).items.iter().map(|i| (i.name.clone(), i.verdict)).collect();
    assert_eq!(order[0].0, "fr_obama.jpg", "the face comes first: {order:?}");
    assert!(order.windows(2).all(|w| w[0].1 >= w[1].1), "strongest first: {order:?}");
    let face = ids["fr_obama.jpg"];
    let findings = panel(&h).detail.as_ref().unwrap().findings.clone();
    let boxes = dermdesk::ui::privacy_review::boxes_to_redact(&findings);
    let faces: Vec<[f32; 4]> = findings.iter().filter(|f| f.kind == FindingKind::Face).filter_map(|f| f.bbox).collect();
    assert!(!faces.is_empty(), "the face's box is shown");
    assert!(faces.iter().all(|f| boxes.contains(f)), "R covers every face");
    let identifying = |f: &&dermdesk::privacy::Finding| f.kind == FindingKind::Text && f.level > Verdict::Clear;
    assert!(
        findings.iter().filter(identifying).all(|f| f.bbox.is_none_or(|b| boxes.contains(&b))),
        "and every telling text"
    );
    h.get_by_label("Findings");
    save_screen(&mut h, "privacy-review-face");

    // Keys never reach the grid behind: Ctrl+A, Enter and Alt+1 change nothing there.
    let modality = Store::open(&db).unwrap().photo(face).unwrap().unwrap().row.modality;
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    h.key_press(Key::Enter);
    h.key_press_modifiers(Modifiers::ALT, Key::Num1);
    settle(&mut h, "keys", ready);
    assert!(h.state().selection.is_empty(), "Ctrl+A selected no photo behind the panel");
    assert!(h.state().viewer.is_none(), "Enter opened no photo behind the panel");
    assert_eq!(Store::open(&db).unwrap().photo(face).unwrap().unwrap().row.modality, modality);
    assert_eq!(panel(&h).checked.len(), 3, "Ctrl+A ticked the panel's photos instead");
    h.key_press_modifiers(Modifiers::COMMAND, Key::A);
    settle(&mut h, "untick", ready);
    assert!(panel(&h).checked.is_empty());

    // R blacks out every box found (a little larger) and marks the photo redacted.
    assert_eq!(gate(&db, face), Err(Withheld::Unreviewed));
    key(&mut h, Key::R, "redact");
    assert_eq!(review(&db, face), Review::Redacted);
    let shapes = Store::open(&db).unwrap().redactions(face).unwrap();
    assert_eq!(shapes.len(), boxes.len(), "one black rectangle per box");
    for b in &boxes {
        assert!(
            shapes.iter().any(|s| matches!(&s.shape, Shape::Rect { rect, .. }
                if rect[0] <= b[0] && rect[1] <= b[1] && rect[2] >= b[2] && rect[3] >= b[3])),
            "{b:?} is covered by {shapes:?}"
        );
        assert!(shapes.iter().all(|s| s.author == USER));
    }
    assert_eq!(gate(&db, face), Ok(boxes.len()), "it leaves, with its redactions");
    assert_ne!(current_name(&h), "fr_obama.jpg", "the next photo shows");

    // X excludes the second, C clears the third; each is audited with the reviewer's name.
    let second = current_name(&h);
    key(&mut h, Key::X, "exclude");
    assert_eq!(review(&db, ids[&second]), Review::Excluded);
    assert_eq!(gate(&db, ids[&second]), Err(Withheld::Excluded));
    let third = current_name(&h);
    assert_ne!(third, second);
    key(&mut h, Key::C, "clear");
    assert_eq!(review(&db, ids[&third]), Review::Cleared);
    assert_eq!(gate(&db, ids[&third]), Ok(0));
    let audit = Store::open(&db).unwrap().audit_for_photo(ids[&third]).unwrap();
    assert!(audit.iter().any(|a| a.action == "review_cleared" && a.actor == USER), "{audit:?}");
    save_screen(&mut h, "privacy-review-decided");

    // Ctrl+Z takes back the decisions one at a time, newest first, and shows each photo again.
    ctrl_z(&mut h, "undo clear");
    assert_eq!(current_name(&h), third);
    assert_eq!(review(&db, ids[&third]), Review::Pending);
    assert_eq!(gate(&db, ids[&third]), Err(Withheld::Unreviewed));
    assert_eq!(review(&db, ids[&second]), Review::Excluded, "only the last decision");
    ctrl_z(&mut h, "undo exclude");
    assert_eq!((current_name(&h), review(&db, ids[&second])), (second.clone(), Review::Pending));
    ctrl_z(&mut h, "undo redact");
    assert_eq!((current_name(&h), review(&db, face)), ("fr_obama.jpg".to_owned(), Review::Pending));
    assert!(Store::open(&db).unwrap().redactions(face).unwrap().is_empty(), "its rectangles went with it");
    assert_eq!(gate(&db, face), Err(Withheld::Unreviewed));
    ctrl_z(&mut h, "nothing left");
    assert!(h.state().notices.last().unwrap().text.starts_with("Nothing to undo"));
    assert!(reviews(&db, &ids).values().all(|r| *r == Review::Pending));

    // Arrows and S move without deciding anything.
    key(&mut h, Key::ArrowRight, "next");
    assert_eq!(panel(&h).current, 1);
    key(&mut h, Key::S, "skip");
    assert_eq!(panel(&h).current, 2);
    key(&mut h, Key::S, "skip at the end");
    assert_eq!(panel(&h).current, 2, "the last photo stays");
    // R where nothing was found to black out: said, and the photo stays on screen, undecided.
    settle(&mut h, "its findings", |a| {
        a.privacy_review.as_ref().is_some_and(|p| p.detail.as_ref().is_some_and(|d| Some(d.photo_id) == p.current_id()))
    });
    assert!(
        panel(&h).detail.as_ref().is_some_and(|d| {
            dermdesk::ui::privacy_review::boxes_to_redact(&d.findings).is_empty() && d.redactions.is_empty()
        }),
        "the last photo of the queue has nothing found to black out"
    );
    key(&mut h, Key::R, "nothing to black out");
    assert_eq!(panel(&h).current, 2, "R with nothing to black out stays on the photo");
    assert!(h.state().notices.last().unwrap().text.starts_with("No face or text box"));
    key(&mut h, Key::ArrowLeft, "previous");
    assert_eq!(panel(&h).current, 1);
    assert!(reviews(&db, &ids).values().all(|r| *r == Review::Pending), "moving decides nothing");

    // Esc closes the panel; C and X then reach nothing.
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(!h.state().is_open(Overlay::PrivacyReview) && h.state().privacy_review.is_none());
    h.key_press(Key::C);
    h.key_press(Key::X);
    h.key_press(Key::R);
    settle(&mut h, "keys after closing", |_| true);
    assert!(reviews(&db, &ids).values().all(|r| *r == Review::Pending), "no decision without the panel");
}

/// A press, moves and a release of the primary button, a frame each (a hand's drag).
fn drag(h: &mut Harness<'static, App>, points: &[Pos2]) {
    let button = |pos, pressed| Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed,
        modifiers: Modifiers::NONE,
    };
    h.event(Event::PointerMoved(points[0]));
    h.step();
    h.event(button(points[0], true));
    h.step();
    for &p in &points[1..] {
        h.event(Event::PointerMoved(p));
        h.step();
    }
    h.event(button(*points.last().unwrap(), false));
    h.step();
    h.step();
}

#[test]
fn grid_ticks_clear_many_and_a_dragged_rectangle_redacts() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("b.sqlite");
    import(&db, &photos());
    screen_all(&db);
    let ids = queue_ids(&db);
    let mut h = harness_as(&db, USER);
    settle(&mut h, "the grid", |a| a.grid.len() == 3 && a.screen_filled());
    h.state_mut().push(Command::TogglePrivacyReview);
    settle(&mut h, "the panel", ready);

    // G: the grid; the two close-ups ticked by their checkboxes, C clears both at once.
    key(&mut h, Key::G, "grid");
    assert!(panel(&h).grid);
    let (a, b) = ("IMD002.jpg", "ISIC_0000100.jpg");
    for name in [a, b] {
        h.get_by_role_and_label(egui::accesskit::Role::CheckBox, name).click();
        settle(&mut h, "tick", ready);
    }
    assert_eq!(panel(&h).checked.len(), 2);
    save_screen(&mut h, "privacy-review-grid");
    key(&mut h, Key::C, "clear the ticked");
    let now = reviews(&db, &ids);
    assert_eq!((now[a], now[b], now["fr_obama.jpg"]), (Review::Cleared, Review::Cleared, Review::Pending));
    assert!(panel(&h).checked.is_empty(), "the ticks go once decided");
    // One Ctrl+Z takes back the whole decision.
    ctrl_z(&mut h, "undo both");
    assert!(reviews(&db, &ids).values().all(|r| *r == Review::Pending));
    // Space ticks the current photo; X excludes just it.
    let current = current_name(&h);
    key(&mut h, Key::Space, "tick the current one");
    assert_eq!(panel(&h).checked.iter().copied().collect::<Vec<_>>(), vec![ids[&current]]);
    key(&mut h, Key::X, "exclude it");
    let now = reviews(&db, &ids);
    assert_eq!(now.values().filter(|r| **r == Review::Excluded).count(), 1);
    assert_eq!(now[&current], Review::Excluded);
    ctrl_z(&mut h, "undo");

    // Back to one photo (G); on the dermoscopy image, a rectangle dragged with the mouse.
    key(&mut h, Key::G, "one photo");
    let pos = panel(&h).items.iter().position(|i| i.name == a).unwrap();
    h.state_mut().push(Command::Privacy(Pv::Select(pos)));
    settle(&mut h, "the dermoscopy image", ready);
    h.run_steps(2);
    let (p0, p1, p2) = {
        let p = panel(&h);
        (p.screen_pos(40.0, 30.0).unwrap(), p.screen_pos(120.0, 80.0).unwrap(), p.screen_pos(200.0, 150.0).unwrap())
    };
    drag(&mut h, &[p0, p1, p2]);
    settle(&mut h, "the rectangle", ready);
    let shapes = Store::open(&db).unwrap().redactions(ids[a]).unwrap();
    assert_eq!(shapes.len(), 1, "{shapes:?}");
    let Shape::Rect { rect, .. } = &shapes[0].shape else { panic!("{shapes:?}") };
    let want = [40.0, 30.0, 200.0, 150.0];
    let scale = panel(&h).view.map(|(r, s)| s.x / r.width()).unwrap();
    for (got, want) in rect.iter().zip(want) {
        assert!((got - want).abs() <= scale * 1.5 + 0.5, "dragged {want}, stored {got} ({rect:?})");
    }
    assert_eq!(review(&db, ids[a]), Review::Pending, "a rectangle alone decides nothing");
    assert_eq!(gate(&db, ids[a]), Err(Withheld::Unreviewed));
    save_screen(&mut h, "privacy-review-drawn");
    // R keeps the drawn rectangle and marks the photo redacted; the gate lets it go with it.
    let found = dermdesk::ui::privacy_review::boxes_to_redact(&panel(&h).detail.as_ref().unwrap().findings).len();
    key(&mut h, Key::R, "redact");
    assert_eq!(review(&db, ids[a]), Review::Redacted);
    assert_eq!(gate(&db, ids[a]), Ok(1 + found));
    // Ctrl+Z: pending again, the found boxes gone, the drawn rectangle kept (its own undo next).
    ctrl_z(&mut h, "undo redact");
    assert_eq!(review(&db, ids[a]), Review::Pending);
    assert_eq!(Store::open(&db).unwrap().redactions(ids[a]).unwrap().len(), 1);
    ctrl_z(&mut h, "undo the rectangle");
    assert!(Store::open(&db).unwrap().redactions(ids[a]).unwrap().is_empty());
}

#[test]
fn empty_panel_snapshots_in_english_and_japanese() {
    // No photo on these screens, so their snapshots are committed.
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("empty.sqlite");
    let mut h = harness_as(&db, USER);
    settle(&mut h, "empty grid", |a| a.grid.loaded_once);
    h.state_mut().push(Command::TogglePrivacyReview);
    settle(&mut h, "the empty queue", |a| a.privacy_review.as_ref().is_some_and(|p| !p.is_busy()));
    h.run_steps(3);
    h.get_by_label_contains("Nothing waits for a privacy review");
    h.snapshot("privacy_review_en");
    h.state_mut().push(Command::SetLanguage(Lang::Ja));
    h.run_steps(3);
    h.get_by_label_contains("プライバシー確認待ちの写真はありません");
    h.snapshot("privacy_review_ja");
    h.key_press(Key::Escape);
    h.run_steps(2);
    assert!(!h.state().is_open(Overlay::PrivacyReview));
}

/// A click of the primary button where the pointer is moved first.
fn click(h: &mut Harness<'static, App>, pos: Pos2) {
    h.event(Event::PointerMoved(pos));
    h.step();
    tap(h, pos);
}

/// Two clicks in one frame (`Harness::event` gives each event a frame of its own, a quarter of
/// a second apart: longer than a double-click may take).
fn double_click(h: &mut Harness<'static, App>, pos: Pos2) {
    h.event(Event::PointerMoved(pos));
    h.step();
    for pressed in [true, false, true, false] {
        let e = Event::PointerButton { pos, button: PointerButton::Primary, pressed, modifiers: Modifiers::NONE };
        h.input_mut().events.push(e);
    }
    h.step();
}

fn tap(h: &mut Harness<'static, App>, pos: Pos2) {
    for pressed in [true, false] {
        h.event(Event::PointerButton { pos, button: PointerButton::Primary, pressed, modifiers: Modifiers::NONE });
    }
    h.step();
}

fn shapes_of(db: &Path, id: i64) -> Vec<dermdesk::store::Redaction> {
    Store::open(db).unwrap().redactions(id).unwrap()
}

fn near(a: &[f32], b: &[f32], tol: f32) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

/// The panel's drawing tools by hand: the found boxes accepted with A, one of them selected by
/// a click and resized by its corner, refilled with F, and the photo redacted as drawn
/// (Shift+R), each undone with Ctrl+Z; polygons closed with Enter, on the first corner and by
/// a double-click, one cancelled with Esc, a corner taken back with Backspace and one moved;
/// a crop drawn, replaced, and exported as only that part; the queue filtered by detector,
/// score and modality through its drop-downs. The store and the audit are checked after each.
#[test]
fn polygons_adjusted_boxes_fill_crop_and_filters_by_hand() {
    use dermdesk::store::Fill;
    use dermdesk::ui::privacy_review::{DrawTool, PvFilter};
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("c.sqlite");
    import(&db, &photos());
    screen_all(&db);
    let ids = queue_ids(&db);
    let face = ids["fr_obama.jpg"];
    let mut h = harness_as(&db, USER);
    settle(&mut h, "the grid", |a| a.grid.len() == 3 && a.screen_filled());
    h.state_mut().push(Command::TogglePrivacyReview);
    settle(&mut h, "the panel", ready);
    assert_eq!(current_name(&h), "fr_obama.jpg");
    let tol = |h: &Harness<'static, App>| panel(h).view.map(|(r, s)| s.x / r.width()).unwrap() * 1.5 + 0.5;

    // Filters: the drop-downs above the queue, each answered as the core's own filter would.
    let core = |f: &dermdesk::store::QueueFilter| -> Vec<i64> {
        let mut v: Vec<i64> = Store::open(&db).unwrap().privacy_queue(f).unwrap().iter().map(|i| i.photo_id).collect();
        v.sort();
        v
    };
    let shown = |h: &Harness<'static, App>| {
        let mut v: Vec<i64> = panel(h).items.iter().map(|i| i.photo_id).collect();
        v.sort();
        v
    };
    h.get_by_label("Detector").click();
    h.run_steps(2);
    h.get_by_label("Faces (CenterFace)").click();
    settle(&mut h, "faces only", ready);
    assert_eq!(panel(&h).filter.kind, Some(FindingKind::Face));
    let faces = core(&dermdesk::store::QueueFilter { kind: Some(FindingKind::Face), ..Default::default() });
    assert_eq!(shown(&h), faces);
    assert!(faces.contains(&face) && faces.len() < 3, "the face photo only: {faces:?}");
    h.get_by_label("Min. score").click();
    h.run_steps(2);
    h.get_by_label("≥ 0.9").click();
    settle(&mut h, "strong faces", |a| a.privacy_review.as_ref().is_some_and(|p| !p.is_busy()));
    assert_eq!(panel(&h).filter.min_score, Some(0.9));
    let strong =
        core(&dermdesk::store::QueueFilter { kind: Some(FindingKind::Face), min_score: 0.9, ..Default::default() });
    assert_eq!(shown(&h), strong);
    h.state_mut().push(Command::Privacy(Pv::SetFilter(PvFilter::default())));
    settle(&mut h, "no filter", ready);
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Modality").click();
    h.run_steps(2);
    h.get_by_label("Dermoscopy").click();
    settle(&mut h, "dermoscopy", |a| a.privacy_review.as_ref().is_some_and(|p| !p.is_busy()));
    let derm = core(&dermdesk::store::QueueFilter {
        modalities: vec![dermdesk::modality::Modality::Dermoscopy],
        ..Default::default()
    });
    assert_eq!(shown(&h), derm);
    assert!(derm.contains(&ids["IMD002.jpg"]) && !derm.contains(&face), "{derm:?}");
    h.state_mut().push(Command::Privacy(Pv::SetFilter(PvFilter::default())));
    settle(&mut h, "no filter", ready);
    h.state_mut().push(Command::Privacy(Pv::Select(0)));
    settle(&mut h, "the face again", ready);
    assert_eq!(current_name(&h), "fr_obama.jpg");

    // A: the found boxes become redactions, adjustable; nothing is decided.
    let boxes = dermdesk::ui::privacy_review::boxes_to_redact(&panel(&h).detail.as_ref().unwrap().findings);
    key(&mut h, Key::A, "accept the found boxes");
    let accepted = shapes_of(&db, face);
    assert_eq!(accepted.len(), boxes.len());
    assert_eq!(review(&db, face), Review::Pending, "A decides nothing");
    key(&mut h, Key::A, "again");
    assert_eq!(shapes_of(&db, face).len(), boxes.len(), "a box covered already is not added twice");
    // A click selects the largest; a drag of its bottom-right corner resizes it.
    let big = accepted
        .iter()
        .max_by(|a, b| {
            let area = |r: &dermdesk::store::Redaction| match r.shape {
                Shape::Rect { rect, .. } => (rect[2] - rect[0]) * (rect[3] - rect[1]),
                _ => 0.0,
            };
            area(a).total_cmp(&area(b))
        })
        .unwrap()
        .clone();
    let Shape::Rect { rect: r0, fill: Fill::Black } = big.shape else { panic!("{big:?}") };
    let centre = panel(&h).screen_pos((r0[0] + r0[2]) / 2.0, (r0[1] + r0[3]) / 2.0).unwrap();
    click(&mut h, centre);
    settle(&mut h, "select", ready);
    let picked = panel(&h).selected.expect("a click on a shape selects it");
    let Shape::Rect { rect: r, .. } = shapes_of(&db, face).into_iter().find(|s| s.id == picked).unwrap().shape else {
        panic!()
    };
    let (w, hgt) = (r[2] - r[0], r[3] - r[1]);
    let corner = panel(&h).screen_pos(r[2], r[3]).unwrap();
    // Inwards: the face fills most of the photo, and shapes stay within it.
    let to = panel(&h).screen_pos(r[2] - w * 0.2, r[3] - hgt * 0.1).unwrap();
    drag(&mut h, &[corner, corner.lerp(to, 0.5), to]);
    settle(&mut h, "resize", ready);
    let Shape::Rect { rect: resized, .. } = Store::open(&db).unwrap().redaction(picked).unwrap().unwrap().shape else {
        panic!()
    };
    let want = [r[0], r[1], r[2] - w * 0.2, r[3] - hgt * 0.1];
    assert!(near(&resized, &want, tol(&h)), "dragged the corner to {want:?}, stored {resized:?}");
    save_screen(&mut h, "privacy-review-resized");
    // F: the selected box is pixelated (and what is drawn next).
    key(&mut h, Key::F, "pixelate");
    let now = Store::open(&db).unwrap().redaction(picked).unwrap().unwrap().shape;
    assert_eq!(now, Shape::Rect { rect: resized, fill: Fill::Pixelate });
    assert_eq!(panel(&h).fill, Fill::Pixelate);
    save_screen(&mut h, "privacy-review-pixelate");
    // Shift+R: redacted with these shapes, nothing added, and on to the next photo.
    h.key_press_modifiers(Modifiers::SHIFT, Key::R);
    settle(&mut h, "redact as drawn", ready);
    assert_eq!(review(&db, face), Review::Redacted);
    assert_eq!(shapes_of(&db, face).len(), boxes.len(), "Shift+R adds nothing");
    assert_eq!(gate(&db, face), Ok(boxes.len()));
    assert_ne!(current_name(&h), "fr_obama.jpg");
    let audit = Store::open(&db).unwrap().audit_for_photo(face).unwrap();
    for action in ["redaction_added", "redaction_changed", "review_redacted"] {
        assert!(audit.iter().any(|a| a.action == action && a.actor == USER), "{action} by {USER}: {audit:?}");
    }
    // Ctrl+Z four times: pending, black again, the old size, the accepted boxes gone.
    ctrl_z(&mut h, "undo the decision");
    assert_eq!((current_name(&h), review(&db, face)), ("fr_obama.jpg".to_owned(), Review::Pending));
    ctrl_z(&mut h, "undo the fill");
    assert_eq!(
        Store::open(&db).unwrap().redaction(picked).unwrap().unwrap().shape,
        Shape::Rect { rect: resized, fill: Fill::Black }
    );
    ctrl_z(&mut h, "undo the resize");
    assert_eq!(
        Store::open(&db).unwrap().redaction(picked).unwrap().unwrap().shape,
        Shape::Rect { rect: r, fill: Fill::Black }
    );
    ctrl_z(&mut h, "undo A");
    assert!(shapes_of(&db, face).is_empty());
    key(&mut h, Key::F, "black again");
    assert_eq!(panel(&h).fill, Fill::Black);

    // Polygons on the dermoscopy image (600 x 449).
    let derm_id = ids["IMD002.jpg"];
    let pos = panel(&h).items.iter().position(|i| i.photo_id == derm_id).unwrap();
    h.state_mut().push(Command::Privacy(Pv::Select(pos)));
    settle(&mut h, "the dermoscopy image", ready);
    h.run_steps(2);
    key(&mut h, Key::P, "polygon tool");
    assert_eq!(panel(&h).tool, DrawTool::Polygon);
    let at = |h: &Harness<'static, App>, x: f32, y: f32| panel(h).screen_pos(x, y).unwrap();
    // 1: four corners (concave), Enter closes.
    let first = [[40.0, 40.0], [300.0, 60.0], [160.0, 120.0], [60.0, 260.0]];
    for p in first {
        let s = at(&h, p[0], p[1]);
        click(&mut h, s);
    }
    settle(&mut h, "the corners", ready);
    assert_eq!(panel(&h).polygon.len(), 4);
    key(&mut h, Key::Enter, "close with Enter");
    let polys = |db: &Path| -> Vec<(i64, Vec<[f32; 2]>, Fill)> {
        shapes_of(db, derm_id)
            .into_iter()
            .filter_map(|r| match r.shape {
                Shape::Polygon { points, fill } => Some((r.id, points, fill)),
                _ => None,
            })
            .collect()
    };
    let got = polys(&db);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(near(got[0].1.as_flattened(), first.as_flattened(), tol(&h)), "{got:?}");
    assert_eq!(got[0].2, Fill::Black);
    assert!(panel(&h).polygon.is_empty() && panel(&h).selected == Some(got[0].0), "the new shape is selected");
    // 2: three corners and a click on the first one closes it.
    let second = [[400.0, 300.0], [560.0, 320.0], [480.0, 420.0]];
    for p in second {
        let s = at(&h, p[0], p[1]);
        click(&mut h, s);
    }
    let s = at(&h, second[0][0] + 2.0, second[0][1] - 1.0);
    click(&mut h, s);
    settle(&mut h, "closed on the first corner", ready);
    let got = polys(&db);
    assert_eq!(got.len(), 2);
    assert!(near(got[1].1.as_flattened(), second.as_flattened(), tol(&h)), "{got:?}");
    // Its corner dragged: the polygon changes.
    let (pid, before) = (got[1].0, got[1].1.clone());
    assert_eq!(panel(&h).selected, Some(pid));
    let (c0, c1) = (at(&h, 560.0, 320.0), at(&h, 580.0, 340.0));
    drag(&mut h, &[c0, c0.lerp(c1, 0.5), c1]);
    settle(&mut h, "move a corner", ready);
    let after = polys(&db).into_iter().find(|p| p.0 == pid).unwrap().1;
    assert!(near(&after[1], &[580.0, 340.0], tol(&h)) && after[0] == before[0] && after[2] == before[2], "{after:?}");
    ctrl_z(&mut h, "undo the corner");
    assert_eq!(polys(&db).into_iter().find(|p| p.0 == pid).unwrap().1, before);
    // 3: Esc cancels a polygon half drawn; nothing stored, the panel stays.
    key(&mut h, Key::Escape, "deselect");
    assert!(panel(&h).selected.is_none());
    for p in [[100.0, 400.0], [200.0, 420.0]] {
        let s = at(&h, p[0], p[1]);
        click(&mut h, s);
    }
    key(&mut h, Key::Escape, "cancel");
    assert!(panel(&h).polygon.is_empty() && h.state().is_open(Overlay::PrivacyReview));
    assert_eq!(polys(&db).len(), 2);
    // 4: Backspace takes a corner back; a double-click closes.
    for p in [[450.0, 40.0], [520.0, 60.0], [500.0, 200.0]] {
        let s = at(&h, p[0], p[1]);
        click(&mut h, s);
    }
    settle(&mut h, "the corners", ready);
    assert_eq!(panel(&h).polygon.len(), 3);
    key(&mut h, Key::Backspace, "take one back");
    assert_eq!(panel(&h).polygon.len(), 2);
    let s = at(&h, 560.0, 150.0);
    double_click(&mut h, s);
    settle(&mut h, "double-click", ready);
    let got = polys(&db);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(near(got[2].1.as_flattened(), &[450.0, 40.0, 520.0, 60.0, 560.0, 150.0], tol(&h)), "{got:?}");

    // L: the crop; a second one replaces it; the tool goes back to rectangles.
    key(&mut h, Key::L, "crop tool");
    let (a, b) = (at(&h, 20.0, 20.0), at(&h, 560.0, 420.0));
    drag(&mut h, &[a, a.lerp(b, 0.5), b]);
    settle(&mut h, "crop", ready);
    assert_eq!(panel(&h).tool, DrawTool::Rect);
    key(&mut h, Key::L, "crop again");
    let (a, b) = (at(&h, 30.0, 30.0), at(&h, 550.0, 410.0));
    drag(&mut h, &[a, a.lerp(b, 0.5), b]);
    settle(&mut h, "crop replaced", ready);
    let crops: Vec<[f32; 4]> = shapes_of(&db, derm_id)
        .into_iter()
        .filter_map(|r| if let Shape::Crop { rect } = r.shape { Some(rect) } else { None })
        .collect();
    assert_eq!(crops.len(), 1, "one crop per photo: {crops:?}");
    assert!(near(&crops[0], &[30.0, 30.0, 550.0, 410.0], tol(&h)), "{crops:?}");
    save_screen(&mut h, "privacy-review-polygons-crop");
    h.key_press_modifiers(Modifiers::SHIFT, Key::R);
    settle(&mut h, "redact as drawn", ready);
    assert_eq!(review(&db, derm_id), Review::Redacted);
    assert_eq!(gate(&db, derm_id), Ok(4));
    // The export writes only the crop, the polygons burned in.
    let out = tmp.path().join("deid");
    let mut store = Store::open(&db).unwrap();
    let report =
        dermdesk::privacy::export::export_deid(&mut store, &out, Some(&[derm_id]), &dermdesk::jobs::Progress::new())
            .unwrap();
    assert_eq!(report.exported, 1, "{report:?}");
    let img = image::open(out.join("000001.jpg")).unwrap().to_rgb8();
    let c = crops[0];
    let (cw, ch) = ((c[2].ceil() - c[0].floor()) as u32, (c[3].ceil() - c[1].floor()) as u32);
    assert_eq!(img.dimensions(), (cw, ch), "only the crop");
    // Inside the first polygon (a point well within it, in the crop's pixels): black.
    let (x, y) = ((90.0 - c[0].floor()) as u32, (90.0 - c[1].floor()) as u32);
    assert!(img.get_pixel(x, y).0.iter().all(|&v| v < 12), "{:?}", img.get_pixel(x, y));
    let audit = Store::open(&db).unwrap().audit_for_photo(derm_id).unwrap();
    assert!(
        audit
            .iter()
            .filter(|a| a.action.starts_with("redaction_") || a.action == "review_redacted")
            .all(|a| a.actor == USER)
    );

    // Help lists the panel's keys: the commands' shortcuts and the polygon and handle keys.
    h.state_mut().push(Command::ToggleHelp);
    h.run_steps(3);
    for label in [
        "Redact as drawn: mark redacted with the shapes on the photo, adding nothing",
        "Draw polygons",
        "Crop to the lesion",
    ] {
        h.get_by_label(label);
    }
    h.get_by_label_contains("Enter, double-click or the first corner closes");
    h.get_by_label_contains("drag its corners or edges to resize");
    save_screen(&mut h, "privacy-review-help");
}
