//! The annotation panel in the real app (egui_kittest): a dermoscopy photo opened from the
//! viewer, a lesion outlined with the smart tool and the wand, an edge fixed with the brush
//! (pointer events on the canvas, through the same code path as a person's hand), undo and
//! redo by keyboard, a label typed, submitted; then a second person approves it from the
//! review queue. The store is checked pixel for pixel against what the panel holds.
//!
//! Screens show a photo from the shared data, so they are written to target/screens/ for
//! people to look at and never committed.

mod common;
use common::gui::{harness_as, save_screen};
use common::*;
use dermdesk::masks::{ReviewStatus, Role, metrics};
use dermdesk::ui::App;
use dermdesk::ui::command::{Ann, Command};
use egui::{Event, Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::Path;
use std::time::{Duration, Instant};

fn settle(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        let app = h.state();
        if !app.is_busy() && done(app) {
            h.step();
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(15));
    }
}

fn at(h: &Harness<'static, App>, x: f32, y: f32) -> Pos2 {
    h.state().annotator.as_ref().unwrap().screen_pos(x, y)
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

fn click(h: &mut Harness<'static, App>, p: Pos2) {
    drag(h, &[p]);
}

fn lesion_mask(db: &Path, id: i64) -> dermdesk::masks::Mask {
    dermdesk::Store::open(db).unwrap().lesion_mask(id).unwrap().unwrap().decode().unwrap()
}

#[test]
fn outline_fix_submit_and_approve_a_lesion_in_the_panel() {
    let shared = shared();
    let ph2 = shared.join("data/ph2");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let photo = ph2.join("images/IMD063.jpg");
    let progress = dermdesk::jobs::Progress::new();
    dermdesk::archive::import(&db, std::slice::from_ref(&photo), &import_opts(), &progress).unwrap();
    let truth = dermdesk::masks::codec::read_binary_image(&std::fs::read(ph2.join("masks/IMD063_lesion.png")).unwrap())
        .unwrap();
    let mut h = harness_as(&db, "alice");
    settle(&mut h, "the grid", |a| a.grid.len() == 1 && a.screen_filled());
    let id = h.state().grid.row(0).unwrap().id;
    h.state_mut().push(Command::Open(id));
    h.step();
    // M opens the mask panel on the photo in the viewer.
    h.key_press(egui::Key::M);
    settle(&mut h, "the photo in the panel", |a| a.annotator.as_ref().is_some_and(|x| !x.is_loading()));
    let (w, hgt) = {
        let an = h.state().annotator.as_ref().unwrap();
        (an.width as f32, an.height as f32)
    };
    assert_eq!((w as u32, hgt as u32), (truth.width(), truth.height()));
    h.get_by_label("Lesions");
    h.get_by_label_contains("No lesion yet");
    // The line under the photo: its size and the tool's hint (the viewer's status line).
    h.get_by_label_contains(&format!("{}×{}  ·  Drag to paint", truth.width(), truth.height()));

    // Smart tool (S), a box dragged around the lesion: a new lesion appears with a proposal.
    h.key_press(egui::Key::S);
    h.step();
    let bb = truth.bbox();
    let (x0, y0, x1, y1) =
        (bb.x as f32 - 12.0, bb.y as f32 - 12.0, bb.right() as f32 + 12.0, bb.bottom() as f32 + 12.0);
    let pts = [at(&h, x0, y0), at(&h, (x0 + x1) / 2.0, (y0 + y1) / 2.0), at(&h, x1, y1)];
    drag(&mut h, &pts);
    settle(&mut h, "the smart proposal saved", |a| a.annotator.as_ref().is_some_and(|x| x.all_saved()));
    let an = h.state().annotator.as_ref().unwrap();
    assert_eq!(an.lesions.len(), 1);
    let smart_dice = metrics::dice(an.active_mask().unwrap(), &truth);
    assert!(smart_dice > 0.85, "smart tool on IMD063: Dice {smart_dice:.3}");

    // The wand (W) from the lesion's middle adds pixels of its colour.
    h.key_press(egui::Key::W);
    h.step();
    let (cx, cy) = ((bb.x + bb.w / 2) as f32, (bb.y + bb.h / 2) as f32);
    let p = at(&h, cx, cy);
    click(&mut h, p);
    settle(&mut h, "wand", |a| a.annotator.as_ref().is_some_and(|x| x.all_saved()));

    // Fix an edge with the brush (B): drag along the left border, a few frames.
    h.key_press(egui::Key::B);
    h.key_press(egui::Key::CloseBracket); // ] : a larger brush
    h.step();
    let before = h.state().annotator.as_ref().unwrap().active_mask().unwrap().clone();
    let drawn_before = h.state().annotator.as_ref().unwrap().overlay_pixels_drawn;
    let ly = cy;
    let lx = (0..truth.width()).find(|&x| truth.get(x, ly as u32)).unwrap() as f32;
    let pts = [at(&h, lx - 3.0, ly - 20.0), at(&h, lx - 3.0, ly), at(&h, lx - 3.0, ly + 20.0)];
    drag(&mut h, &pts);
    settle(&mut h, "brush stroke", |a| a.annotator.as_ref().is_some_and(|x| x.all_saved()));
    let an = h.state().annotator.as_ref().unwrap();
    let after = an.active_mask().unwrap().clone();
    assert!(after.count() > before.count(), "the brush added pixels");
    // Only what the stroke touched was redrawn, not the whole overlay.
    let redrawn = an.overlay_pixels_drawn - drawn_before;
    assert!(redrawn > 0 && redrawn < (w * hgt) as u64 / 10, "redrew {redrawn} px for a short stroke");
    save_screen(&mut h, "annotate-drawn");

    // Ctrl+Z takes the stroke back, Ctrl+Shift+Z brings it again; both reach the store.
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    settle(&mut h, "undo", |a| a.annotator.as_ref().is_some_and(|x| x.all_saved()));
    assert_eq!(h.state().annotator.as_ref().unwrap().active_mask().unwrap(), &before);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, egui::Key::Z);
    settle(&mut h, "redo", |a| a.annotator.as_ref().is_some_and(|x| x.all_saved()));
    assert_eq!(h.state().annotator.as_ref().unwrap().active_mask().unwrap(), &after);
    let lesion_id = h.state().annotator.as_ref().unwrap().lesions[0].id().expect("stored");
    assert_eq!(lesion_mask(&db, lesion_id), after, "the store has every stroke");
    let dice = metrics::dice(&after, &truth);
    assert!(dice > 0.85, "final Dice {dice:.3}");

    // Outline-only display and opacity redraw the overlay, not the mask.
    h.state_mut().push(Command::Annotation(Ann::ToggleOutline));
    settle(&mut h, "outline", |a| a.annotator.as_ref().is_some_and(|x| x.overlay_counts().1 == 0));
    save_screen(&mut h, "annotate-outline");
    h.key_press(egui::Key::O);
    h.step();

    // Label it from the diagnosis taxonomy (typed, then picked), then submit.
    h.get_by_label("Label").focus();
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Label").type_text("melanoma");
    h.step();
    h.run_steps(2);
    save_screen(&mut h, "annotate-label");
    h.get_by_label_contains("Malignant melanoma of skin").click();
    h.step();
    settle(&mut h, "the picked label saved", |a| {
        a.annotator.as_ref().is_some_and(|x| x.lesions[0].label == "C43 Malignant melanoma of skin")
    });
    h.get_by_label("Apply").click();
    h.step();
    h.get_by_label("Submit for review").click();
    settle(&mut h, "submitted", |a| {
        a.annotator.as_ref().is_some_and(|x| x.lesions[0].status == ReviewStatus::Submitted)
    });
    // Alice cannot approve her own mask: the panel says so and offers no approval.
    h.get_by_label("You drew this mask; someone else reviews it.");
    h.key_press(egui::Key::Escape);
    settle(&mut h, "closed", |a| a.annotator.is_none());
    drop(h);

    // Bob, a dermatologist, approves it from the review queue.
    let mut h = harness_as(&db, "bob");
    settle(&mut h, "the grid", |a| a.grid.len() == 1 && a.screen_filled());
    h.state_mut().push(Command::ToggleReviewQueue);
    settle(&mut h, "the queue", |a| a.review_queue.as_ref().is_some_and(|q| q.rows.len() == 1));
    h.get_by_label_contains("#1 C43 Malignant melanoma").click();
    settle(&mut h, "the lesion opened", |a| a.annotator.as_ref().is_some_and(|x| !x.is_loading()));
    h.state_mut().state.review_role = Some(Role::Dermatologist);
    h.step();
    save_screen(&mut h, "annotate-review");
    h.get_by_label("Approve").click();
    settle(&mut h, "approved", |a| a.annotator.as_ref().is_some_and(|x| x.lesions[0].status == ReviewStatus::Approved));
    let store = dermdesk::Store::open(&db).unwrap();
    let l = store.lesion(lesion_id).unwrap().unwrap();
    assert_eq!((l.status, l.label.as_str()), (ReviewStatus::Approved, "C43 Malignant melanoma of skin"));
    let last = store.mask_reviews(lesion_id).unwrap().pop().unwrap();
    assert_eq!((last.actor.as_str(), last.role), ("bob", Some(Role::Dermatologist)));
    assert_eq!(lesion_mask(&db, lesion_id), after, "review does not touch the pixels");
}

#[test]
fn review_queue_window_in_japanese_snapshot() {
    // No photo on this screen, so its snapshot is committed.
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("empty.sqlite");
    let mut h = harness_as(&db, "carol");
    settle(&mut h, "empty grid", |a| a.grid.loaded_once);
    h.state_mut().push(Command::SetLanguage(dermdesk::ui::i18n::Lang::Ja));
    h.state_mut().push(Command::ToggleReviewQueue);
    settle(&mut h, "the queue", |a| a.review_queue.as_ref().is_some_and(|q| !q.is_loading()));
    h.run_steps(3);
    h.get_by_label("レビュー待ちはありません。");
    h.snapshot("review_queue_ja");
}

// ---------------------------------------------------------------------------------------
// Model proposals. The demo segmenter may not be in this checkout, so a tiny one is built
// here (as tests/models.rs does): a 1x1 convolution, darker = more lesion, which on a
// dermoscopy photo finds the pigmented lesion well enough to exercise the whole path.

use prost::Message;
use tract_onnx::pb;

fn onnx_value(name: &str, d: &[i64]) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{Dimension, dimension::Value};
    let dim = d.iter().map(|&n| Dimension { value: Some(Value::DimValue(n)), ..Default::default() }).collect();
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: 1,
                shape: Some(pb::TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Image [1,3,H,W] (normalised) -> `mask` logits [1,1,H,W]: minus four times the channel mean.
fn dark_segmenter(h: i64, w: i64) -> Vec<u8> {
    let t = |name: &str, dims: Vec<i64>, data: Vec<f32>| pb::TensorProto {
        name: name.into(),
        dims,
        data_type: 1,
        float_data: data,
        ..Default::default()
    };
    pb::ModelProto {
        ir_version: 7,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 13 }],
        producer_name: "dermdesk-tests".into(),
        graph: Some(pb::GraphProto {
            name: "g".into(),
            node: vec![pb::NodeProto {
                op_type: "Conv".into(),
                name: "conv".into(),
                input: vec!["input".into(), "w".into(), "b".into()],
                output: vec!["mask".into()],
                ..Default::default()
            }],
            initializer: vec![t("w", vec![1, 3, 1, 1], vec![-4.0 / 3.0; 3]), t("b", vec![1], vec![0.0])],
            input: vec![onnx_value("input", &[1, 3, h, w])],
            output: vec![onnx_value("mask", &[1, 1, h, w])],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

const SEG_CARD: &str = r#"name = "darkseg"
version = "0.3.1"
task = "segmentation"
file = "model.onnx"
not_for_clinical_use = true
modalities = ["dermoscopy"]
description = "a test segmenter: dark is lesion"
[input]
name = "input"
layout = "NCHW"
height = 48
width = 64
colour = "RGB"
resize = "stretch"
mean = [127.0, 127.0, 127.0]
std = [128.0, 128.0, 128.0]
[output]
name = "mask"
kind = "mask-logits"
[training]
data = "none: made in a test"
licence = "test only"
[metrics]
dice = 0.0
"#;

/// Writes the tiny segmenter and its card into `dir`; returns the card's path.
fn write_segmenter(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("model.onnx"), dark_segmenter(48, 64)).unwrap();
    std::fs::write(dir.join("card.toml"), SEG_CARD).unwrap();
    dir.join("card.toml")
}

#[test]
fn propose_brings_the_model_mask_to_the_photo_size() {
    let ph2 = shared().join("data/ph2");
    let img = image::open(ph2.join("images/IMD003.jpg")).unwrap().to_rgb8();
    let truth = dermdesk::masks::codec::read_binary_image(&std::fs::read(ph2.join("masks/IMD003_lesion.png")).unwrap())
        .unwrap();
    let card = dermdesk::models::Card::parse(SEG_CARD).unwrap();
    let model = dermdesk::models::net::load(&card, &dark_segmenter(48, 64)).unwrap();
    let m = dermdesk::models::propose::propose(&model, &img).unwrap();
    assert_eq!((m.width(), m.height()), img.dimensions(), "at the photo's full resolution");
    assert!(m.count() > 1000, "{} px", m.count());
    assert!(dermdesk::masks::tools::holes(&m).is_empty(), "holes filled");
    // Bilinear upsampling: the outline is not the model's 64x48 staircase of 12-px blocks.
    let (bw, bh) = (img.width() as f32 / 64.0, img.height() as f32 / 48.0);
    let mut off_grid = 0;
    for y in 0..m.height() {
        for x in 1..m.width() {
            if m.get(x, y) != m.get(x - 1, y) && (x as f32 / bw).fract() > 0.2 && (x as f32 / bw).fract() < 0.8 {
                off_grid += 1;
            }
        }
    }
    assert!(off_grid > 0, "edges fall between the model's pixels too ({bw}x{bh} px each)");
    let dice = metrics::dice(&m, &truth);
    eprintln!("darkseg on IMD003: Dice {dice:.3}");
    assert!(dice > 0.5, "the dark region is the lesion: Dice {dice:.3}");
}

#[test]
fn m_proposes_the_segmenters_mask_and_ctrl_z_takes_it_back() {
    let ph2 = shared().join("data/ph2");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let photo = ph2.join("images/IMD003.jpg");
    let progress = dermdesk::jobs::Progress::new();
    dermdesk::archive::import(&db, std::slice::from_ref(&photo), &import_opts(), &progress).unwrap();
    {
        let mut store = dermdesk::Store::open(&db).unwrap();
        dermdesk::models::registry::add(&mut store, &write_segmenter(&tmp.path().join("seg")), None).unwrap();
    }
    let mut h = harness_as(&db, "alice");
    settle(&mut h, "the grid", |a| a.grid.len() == 1 && a.screen_filled());
    let id = h.state().grid.row(0).unwrap().id;
    h.state_mut().push(Command::Open(id));
    h.step();
    h.key_press(egui::Key::M);
    settle(&mut h, "the photo in the panel", |a| a.annotator.as_ref().is_some_and(|x| !x.is_loading()));
    assert!(h.state().annotator.as_ref().unwrap().lesions.is_empty());

    // M in the panel: the model proposes, in the background, as an ordinary edit.
    h.key_press(egui::Key::M);
    h.step();
    settle(&mut h, "the proposal put in and saved", |a| {
        a.annotator.as_ref().is_some_and(|x| x.all_saved() && !x.is_computing() && !x.lesions.is_empty())
    });
    let an = h.state().annotator.as_ref().unwrap();
    assert!(
        matches!(&an.notice, Some(dermdesk::ui::annotator::Notice::Proposed { model, version, .. })
            if model == "darkseg" && version == "0.3.1"),
        "{:?}",
        an.notice
    );
    let proposed = an.active_mask().unwrap().clone();
    assert_eq!((proposed.width(), proposed.height()), (an.width, an.height));
    assert!(proposed.count() > 1000, "{} px", proposed.count());
    h.get_by_label_contains("darkseg 0.3.1 proposed this mask");
    let lesion_id = an.lesions[0].id().expect("stored");
    assert_eq!(lesion_mask(&db, lesion_id), proposed, "the store has the proposal");
    save_screen(&mut h, "annotate-proposed");

    // Ctrl+Z takes it away; Ctrl+Shift+Z puts it back.
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Z);
    settle(&mut h, "undo", |a| a.annotator.as_ref().is_some_and(|x| x.all_saved()));
    assert_eq!(h.state().annotator.as_ref().unwrap().active_mask().unwrap().count(), 0);
    assert_eq!(lesion_mask(&db, lesion_id).count(), 0, "the undo reached the store");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, egui::Key::Z);
    settle(&mut h, "redo", |a| a.annotator.as_ref().is_some_and(|x| x.all_saved()));
    assert_eq!(h.state().annotator.as_ref().unwrap().active_mask().unwrap(), &proposed);

    // M again while the lesion has pixels: a second lesion, nobody's pixels replaced.
    h.key_press(egui::Key::M);
    h.step();
    settle(&mut h, "the second proposal", |a| {
        a.annotator.as_ref().is_some_and(|x| x.all_saved() && !x.is_computing() && x.lesions.len() == 2)
    });
    let an = h.state().annotator.as_ref().unwrap();
    assert_eq!(an.lesions[0].pixels(), proposed.count());
    assert_eq!(an.active_mask().unwrap(), &proposed);

    // In the command palette with its key, and in the help (beside the toolbar's button).
    let cmd = Command::Annotation(Ann::Propose);
    assert!(Command::palette().contains(&cmd));
    assert_eq!(cmd.shortcut(), Some(egui::KeyboardShortcut::new(Modifiers::NONE, egui::Key::M)));
    h.state_mut().push(Command::ToggleHelp);
    h.run_steps(3);
    assert_eq!(h.get_all_by_label("Propose lesion (model)").count(), 2, "the toolbar's button and the help's row");
}

#[test]
fn m_with_no_added_segmenter_uses_the_demo_or_says_none_is_registered() {
    use dermdesk::ui::annotator::Notice;
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    let photo = shared().join("data/ph2/images/IMD003.jpg");
    let progress = dermdesk::jobs::Progress::new();
    dermdesk::archive::import(&db, std::slice::from_ref(&photo), &import_opts(), &progress).unwrap();
    let mut h = harness_as(&db, "alice");
    settle(&mut h, "the grid", |a| a.grid.len() == 1 && a.screen_filled());
    let id = h.state().grid.row(0).unwrap().id;
    h.state_mut().push(Command::Open(id));
    h.step();
    h.key_press(egui::Key::M);
    settle(&mut h, "the photo in the panel", |a| a.annotator.as_ref().is_some_and(|x| !x.is_loading()));
    h.key_press(egui::Key::M);
    h.step();
    settle(&mut h, "the model's answer", |a| {
        a.annotator
            .as_ref()
            .is_some_and(|x| !x.is_computing() && x.notice.as_ref().is_some_and(|n| *n != Notice::Proposing))
    });
    let an = h.state().annotator.as_ref().unwrap();
    match an.notice.clone().unwrap() {
        // This checkout ships no segmenter: the panel says so and changes nothing.
        Notice::NoSegmenter => {
            assert!(an.lesions.is_empty());
            h.get_by_label_contains("No segmentation model is registered");
        }
        // The demo segmenter (assets/models/, built into the executable) proposed.
        Notice::Proposed { model, version, pixels } => {
            eprintln!("the demo segmenter {model} {version} proposed {pixels} px");
            assert_eq!(an.active_mask().unwrap().count(), pixels);
            h.get_by_label_contains(&format!("{model} {version} proposed this mask"));
        }
        other => panic!("{other:?}"),
    }
}
