//! The models in the window (issue 18): real HAM10000 photos linked to the first-run demo's
//! invented charts, screened and cleared (one left unreviewed), the demo models run from the
//! Models menu's command as a background job, the details panel showing the classifier's
//! top classes beside the chart's diagnosis with agreement, and the browser filtered to the
//! photos where the model disagrees with the chart, through the filter panel's checkbox.

mod common;
use common::gui::*;
use common::*;
use dermdesk::models::compare::Versions;
use dermdesk::privacy::Review;
use dermdesk::store::Store;
use dermdesk::ui::command::{Command, Select};
use dermdesk::ui::models_page::Outcome;
use egui_kittest::kittest::{NodeT, Queryable};
use std::collections::HashSet;
use std::time::Duration;

/// Two photos of each HAM10000 diagnosis (the first by image id), as paths in the shared folder.
fn ham_photos() -> Vec<std::path::PathBuf> {
    let mut taken: std::collections::HashMap<String, usize> = Default::default();
    ham_rows()
        .into_iter()
        .filter(|(dx, _)| {
            let n = taken.entry(dx.clone()).or_default();
            *n += 1;
            *n <= 2
        })
        .map(|(_, id)| ham_image(&id))
        .collect()
}

#[test]
fn predictions_beside_the_chart_and_the_disagreement_filter() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("m.sqlite");
    let photos = ham_photos();
    assert_eq!(photos.len(), 14);
    import(&db, &photos);
    let mut store = Store::open(&db).unwrap();
    let charts = dermdesk::charts::demo_archive::setup(&mut store, &shared(), &tmp.path().join("charts")).unwrap();
    assert_eq!(charts.link.by_status.get("linked"), Some(&14), "{:?}", charts.link);
    let ids: Vec<i64> = store.grid_ids(&Default::default()).unwrap();
    for &id in &ids {
        screened_clear(&mut store, id);
    }
    // A person says what the image cues miss on some HAM10000 photos: all are dermoscopy (the
    // demo classifier's card names only that modality).
    store.set_modality(&ids, dermdesk::modality::Modality::Dermoscopy).unwrap();
    // The last photo stays unreviewed: the gate keeps it from the model.
    let (held, cleared) = ids.split_last().unwrap();
    store.set_review(cleared, Review::Cleared, "dr.sato").unwrap();
    drop(store);

    let mut h = harness_as(&db, "dr.sato");
    settle(&mut h, "the grid", |a| !a.grid.is_empty() && a.screen_filled());
    h.state_mut().push(Command::RunModels);
    settle(&mut h, "the models' job", |a| !a.is_busy());

    let store = Store::open(&db).unwrap();
    let reader = dermdesk::models::agree::PredictionReader::new(&store).unwrap();
    let hash = |id: i64| store.photo(id).unwrap().unwrap().row.hash;
    assert!(reader.of(&store, *held, &hash(*held)).unwrap().is_empty(), "the unreviewed photo was not inferred");
    let classes = |id: i64| {
        reader
            .of(&store, id, &hash(id))
            .unwrap()
            .into_iter()
            .find(|p| p.model == dermdesk::models::DEMO_CLASSIFIER)
            .expect("the demo classifier's answer")
    };
    for &id in cleared {
        let p = classes(id);
        assert_eq!(p.top.as_ref().unwrap().len(), 7);
        assert!(p.agrees_with_chart.is_some(), "every photo here has a chart diagnosis");
    }
    // One chart says otherwise (a melanoma where the model sees a benign lesion, or the
    // reverse), so the filter below has a disagreement to find whatever the model says.
    let changed = cleared[cleared.len() - 1];
    let benign = !["mel", "bcc", "akiec"].contains(&classes(changed).top.unwrap()[0].label.as_str());
    let (dx, code) = if benign { ("悪性黒色腫", "C43.9") } else { ("色素性母斑", "D22.9") };
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE photo_links SET dx_text = ?1, dx_code = ?2 WHERE photo_id = ?3",
        rusqlite::params![dx, code, changed],
    )
    .unwrap();
    drop(conn);
    let disagree: HashSet<i64> = dermdesk::models::agree::disagreeing_photos(&store, dermdesk::models::DEMO_CLASSIFIER)
        .unwrap()
        .into_iter()
        .collect();
    assert!(disagree.contains(&changed), "{disagree:?}");
    let agree: Vec<i64> = cleared.iter().copied().filter(|id| !disagree.contains(id)).collect();
    assert!(!agree.is_empty(), "the demo classifier names at least one of 13 training photos as the chart does");

    // The panel beside the chart: top classes with their share, the agreement.
    let id = agree[0];
    let top = classes(id).top.unwrap();
    let index = h.state().grid.position(id).unwrap();
    h.state_mut().push(Command::Focus { index, select: Select::Only });
    if !h.state().state.show_details {
        h.state_mut().push(Command::ToggleDetails);
    }
    settle(&mut h, "the predictions", |a| a.focused_id() == Some(id) && a.predictions.value().is_some());
    h.run_steps(2);
    wait_for_label(&mut h, "Model predictions");
    let card_names =
        dermdesk::models::registry::get(&store, dermdesk::models::DEMO_CLASSIFIER, None).unwrap().card.labels;
    let name = |key: &str| card_names.iter().find(|l| l.key == key).unwrap().en.clone();
    for r in top.iter().take(3) {
        assert!(h.query_all_by_label_contains(&name(&r.label)).next().is_some(), "{} is on screen", r.label);
    }
    assert!(h.query_by_label(&format!("{:.0}%", top[0].p * 100.0)).is_some(), "the top class's share is on screen");
    assert!(h.query_by_label("agrees with the chart's diagnosis").is_some());
    assert!(h.query_all_by_label("Not for clinical use.").next().is_some());
    save_screen(&mut h, "models_details_en");

    // The browser filtered to disagreements, by the filter panel's checkbox.
    if !h.state().state.show_filters {
        h.state_mut().push(Command::ToggleFilters);
        h.run_steps(2);
    }
    h.get_by_label("Model disagrees with chart").click();
    settle(&mut h, "the filtered grid", |a| {
        a.state.filter.disagrees_with.is_some() && a.grid.ids().len() == disagree.len()
    });
    let shown: HashSet<i64> = h.state().grid.ids().iter().copied().collect();
    assert_eq!(shown, disagree);
    // The model is chosen from the registered classifiers (the segmenter is not one).
    h.get_by_value(dermdesk::models::DEMO_CLASSIFIER).click();
    h.run_steps(3);
    let offered: Vec<String> =
        h.query_all_by_label_contains("lite0").map(|n| n.accesskit_node().label().unwrap_or_default()).collect();
    assert!(offered.iter().any(|l| l == dermdesk::models::DEMO_CLASSIFIER), "{offered:?}");
    assert!(!offered.iter().any(|l| l.contains("seg")), "only classifiers are offered: {offered:?}");
    save_screen(&mut h, "models_disagree_filter_en");
}

/// What the details panel says of a photo no model has looked at (English).
const NOT_YET: &str = "No model has looked at this photo yet. Models → Run the models on cleared photos runs them on every photo screened and cleared (Photo → Screen photos…).";

/// Another process's writes reach the open app. A cleared dermoscopy photo is open in the
/// details panel with no prediction; the command line's `dermdesk infer` (a separate process,
/// its own connection) stores the demo classifier's answer; with nothing done in the window,
/// the panel shows the model's classes within a few seconds.
#[test]
fn another_process_inference_shows_in_the_open_panel() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("o.sqlite");
    import(&db, &ham_photos()[..1]);
    let mut store = Store::open(&db).unwrap();
    let ids: Vec<i64> = store.grid_ids(&Default::default()).unwrap();
    screened_clear(&mut store, ids[0]);
    store.set_modality(&ids, dermdesk::modality::Modality::Dermoscopy).unwrap();
    store.set_review(&ids, Review::Cleared, "dr.sato").unwrap();
    drop(store);

    let mut h = harness_as(&db, "dr.sato");
    settle(&mut h, "the grid", |a| !a.grid.is_empty() && a.screen_filled());
    h.state_mut().push(Command::Focus { index: 0, select: Select::Only });
    if !h.state().state.show_details {
        h.state_mut().push(Command::ToggleDetails);
    }
    settle(&mut h, "the panel", |a| a.focused_id() == Some(ids[0]) && a.predictions.value().is_some());
    wait_for_label(&mut h, NOT_YET);

    let out = std::process::Command::new(bin())
        .args(["--db", db.to_str().unwrap(), "infer", "--model", dermdesk::models::DEMO_CLASSIFIER, "--threads", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The answer as stored, to find on screen.
    let store = Store::open(&db).unwrap();
    let reader = dermdesk::models::agree::PredictionReader::new(&store).unwrap();
    let hash = store.photo(ids[0]).unwrap().unwrap().row.hash;
    let stored = reader.of(&store, ids[0], &hash).unwrap();
    let top = stored[0].top.clone().expect("the classifier's classes");
    let share = format!("{:.0}%", top[0].p * 100.0);

    // Nothing is pushed or clicked: frames only, as an idle window gets them.
    let never = format!("the panel never showed {share}");
    frames_until(&mut h, &never, Duration::from_secs(15), |h| h.query_by_label(&share).is_some());
    assert!(h.query_by_label(NOT_YET).is_none());
}

/// The Models window: the demo models' cards, a broken model refused with the reason, and a
/// model of one's own (the demo classifier's file under another name and card) added through
/// the window's path field and Add button, then listed, stored and offered to the
/// disagreement filter; a second version from another process shows, and is removed through
/// the window's question.
#[test]
fn the_models_window_shows_cards_refuses_a_broken_model_adds_one_and_removes_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("w.sqlite");
    let mut h = harness(&db, Vec::new());
    settle(&mut h, "empty grid", |a| a.grid.loaded_once);
    h.state_mut().push(Command::ToggleModels);
    settle(&mut h, "the models read", |a| a.models.models().is_some_and(|m| m.len() >= 2));
    let demo = dermdesk::models::DEMO_CLASSIFIER;
    let names: Vec<String> = h.state().models.models().unwrap().iter().map(|(m, _)| m.name().to_owned()).collect();
    assert!(names.iter().any(|n| n == demo) && names.iter().any(|n| n == "lesion-seg-lite0"), "{names:?}");
    // The first listed card is on screen: its warning, its labels, its training data.
    h.get_by_label("Not for clinical use.");
    h.get_by_label_contains("Training data: ");
    h.get_by_label_contains("Licence: ");
    wait_for_label(&mut h, "Labels (7)");
    h.get_by_label("Melanoma");
    save_screen(&mut h, "models_window");

    let asset = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models").join(demo);
    let card = std::fs::read_to_string(asset.join("card.toml")).unwrap();
    let own = card.replacen(&format!("name = \"{demo}\""), "name = \"my-ham7\"", 1);
    assert_ne!(own, card);
    // A broken file under that card: refused, with the reason, and nothing registered.
    let broken = tmp.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("card.toml"), &own).unwrap();
    std::fs::write(broken.join("model.onnx"), b"not an onnx file at all").unwrap();
    let add = |h: &mut egui_kittest::Harness<'static, dermdesk::ui::App>, card: &std::path::Path| {
        h.state_mut().models.card_path = card.display().to_string();
        h.step();
        h.get_by_label("Add").click();
        settle(h, "the add's answer", |a| a.models.outcome.is_some());
    };
    add(&mut h, &broken.join("card.toml"));
    let outcome = h.state().models.outcome.clone().unwrap();
    let text = outcome.text(dermdesk::ui::i18n::Lang::En);
    assert!(matches!(outcome, Outcome::Refused(_)) && text.starts_with("Not added: "), "{text}");
    h.step();
    h.get_by_label(&text);
    let registered = |db: &std::path::Path| {
        let store = Store::open(db).unwrap();
        dermdesk::models::registry::list(&store).unwrap().iter().any(|m| m.name() == "my-ham7")
    };
    assert!(!registered(&db));

    // The real file under its own card: added, listed, shown, stored.
    let good = tmp.path().join("good");
    std::fs::create_dir_all(&good).unwrap();
    std::fs::write(good.join("card.toml"), &own).unwrap();
    std::fs::copy(asset.join("model.onnx"), good.join("model.onnx")).unwrap();
    add(&mut h, &good.join("card.toml"));
    let outcome = h.state().models.outcome.clone().unwrap();
    assert!(matches!(&outcome, Outcome::Added { name, .. } if name == "my-ham7"), "{outcome:?}");
    settle(&mut h, "the list read again", |a| {
        a.models.models().is_some_and(|m| m.iter().any(|(m, _)| m.name() == "my-ham7"))
    });
    assert_eq!(h.state().models.selected.as_ref().map(|s| s.0.as_str()), Some("my-ham7"));
    let heading = format!("my-ham7 {}", h.state().models.selected.clone().unwrap().1);
    h.step();
    assert_eq!(h.query_all_by_label(&heading).count(), 2, "in the list and as the card's heading");
    assert!(registered(&db));
    assert!(h.state().models.card_path.is_empty(), "the field is emptied for the next one");
    save_screen(&mut h, "models_window_added");
    // In Japanese: the card's own Japanese label names, the window's words.
    h.state_mut().push(Command::SetLanguage(dermdesk::ui::i18n::Lang::Ja));
    h.step();
    h.step();
    h.get_by_label("臨床には使用しないでください。");
    h.get_by_label("悪性黒色腫");
    h.get_by_label("独自のモデルを追加");
    h.get_by_label(&outcome.text(dermdesk::ui::i18n::Lang::Ja));
    save_screen(&mut h, "models_window_ja");

    // Another process's `models add` (a new version) shows in the open window: frames only.
    let v2 = tmp.path().join("v2");
    std::fs::create_dir_all(&v2).unwrap();
    let version = h.state().models.selected.clone().unwrap().1;
    std::fs::write(v2.join("card.toml"), own.replacen(&format!("version = \"{version}\""), "version = \"9.0.0\"", 1))
        .unwrap();
    std::fs::copy(asset.join("model.onnx"), v2.join("model.onnx")).unwrap();
    cli_ok(&db, &["models", "add", "--card", v2.join("card.toml").to_str().unwrap()]);
    frames_until(&mut h, "the window never showed version 9.0.0", Duration::from_secs(20), |h| {
        h.state().models.models().is_some_and(|m| m.iter().any(|(m, _)| m.version() == "9.0.0"))
    });
    h.step();
    h.get_by_label("my-ham7 9.0.0");

    // Removing it from the window: the built-in cards offer no removal; one's own asks first,
    // naming the results that go with it; Cancel keeps it; Remove removes that version from
    // the list and the database, and the other version stays.
    h.state_mut().push(Command::SetLanguage(dermdesk::ui::i18n::Lang::En));
    h.state_mut().models.selected = Some((demo.to_owned(), "1.0.0".to_owned()));
    h.step();
    h.step();
    assert!(h.query_by_label("Remove this version…").is_none(), "a built-in model cannot be removed");
    h.state_mut().models.selected = Some(("my-ham7".to_owned(), "9.0.0".to_owned()));
    h.step();
    h.get_by_label("Remove this version…").click();
    h.step();
    h.step();
    let question =
        "Remove my-ham7 9.0.0 and the 0 results it stored? Other versions keep theirs. This cannot be undone.";
    h.get_by_label(question);
    save_screen(&mut h, "models_window_remove");
    h.get_by_label("Cancel").click();
    h.step();
    h.step();
    assert!(h.query_by_label(question).is_none());
    h.get_by_label("Remove this version…").click();
    h.step();
    h.step();
    h.get_by_label("Remove").click();
    settle(&mut h, "the removal's answer", |a| {
        a.models.outcome.as_ref().is_some_and(|o| matches!(o, Outcome::Removed { .. }))
    });
    settle(&mut h, "the list read again", |a| {
        a.models.models().is_some_and(|m| !m.iter().any(|(m, _)| m.version() == "9.0.0"))
    });
    h.step();
    // In the window's status line and as a notice.
    assert_eq!(h.query_all_by_label("Removed my-ham7 9.0.0 and its 0 results.").count(), 2);
    let store = Store::open(&db).unwrap();
    let left: Vec<String> = dermdesk::models::registry::list(&store)
        .unwrap()
        .iter()
        .filter(|m| m.name() == "my-ham7")
        .map(|m| m.version().to_owned())
        .collect();
    assert_eq!(left, [version], "only 9.0.0 went");
    assert!(v2.join("model.onnx").is_file(), "the folder it was added from stays");
}

/// Registers `model` (an ONNX file) under each card, 1.0.0 then 2.0.0, each in its own folder
/// under `dir`, with `dermdesk models add`, then runs each version with `dermdesk infer`.
fn two_versions_inferred(
    db: &std::path::Path,
    dir: &std::path::Path,
    model: &std::path::Path,
    name: &str,
    cards: [&String; 2],
) {
    for (i, text) in cards.into_iter().enumerate() {
        let d = dir.join(format!("v{}", i + 1));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("card.toml"), text).unwrap();
        std::fs::copy(model, d.join("model.onnx")).unwrap();
        cli_ok(db, &["models", "add", "--card", d.join("card.toml").to_str().unwrap()]);
    }
    cli_ok(db, &["infer", "--model", name, "--version", "1.0.0", "--threads", "1"]);
    cli_ok(db, &["infer", "--model", name, "--threads", "1"]);
}

/// A classifier's version beside an earlier one, in the Models window: the figures of
/// `models::compare` on screen, the photos whose answer changed listed, and one opened by its
/// link, whose details panel then gives the earlier version's answer under the newer one's.
/// The two versions are the demo classifier's file under two cards, the second with two
/// labels' places swapped (benign keratosis and naevus), so that exactly the photos it calls
/// either change their answer.
#[test]
fn a_version_is_compared_with_an_earlier_one_in_the_models_window() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("c.sqlite");
    import(&db, &ham_photos());
    let mut store = Store::open(&db).unwrap();
    dermdesk::charts::demo_archive::setup(&mut store, &shared(), &tmp.path().join("charts")).unwrap();
    let ids: Vec<i64> = store.grid_ids(&Default::default()).unwrap();
    for &id in &ids {
        screened_clear(&mut store, id);
    }
    store.set_modality(&ids, dermdesk::modality::Modality::Dermoscopy).unwrap();
    store.set_review(&ids, Review::Cleared, "dr.sato").unwrap();
    drop(store);
    let asset = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/ham7-lite0");
    let card = std::fs::read_to_string(asset.join("card.toml")).unwrap().replacen(
        "name = \"ham7-lite0\"",
        "name = \"my-ham7\"",
        1,
    );
    let block = |key: &str| -> String {
        let start = card.find(&format!("[[labels]]\nkey = \"{key}\"")).unwrap();
        let end = start + card[start..].find("\n\n").unwrap();
        card[start..end].to_owned()
    };
    let (bkl, nv) = (block("bkl"), block("nv"));
    let swapped = card.replacen(&bkl, "@BKL@", 1).replacen(&nv, &bkl, 1).replacen("@BKL@", &nv, 1).replacen(
        "version = \"1.0.0\"",
        "version = \"2.0.0\"",
        1,
    );
    two_versions_inferred(&db, &tmp.path().join("ham7"), &asset.join("model.onnx"), "my-ham7", [&card, &swapped]);
    let store = Store::open(&db).unwrap();
    let c = dermdesk::models::compare::compare(&store, "my-ham7", None, None).unwrap();
    drop(store);
    assert_eq!((c.from.as_str(), c.to.as_str(), c.photos), ("1.0.0", "2.0.0", 14));
    assert!(
        c.changed
            .iter()
            .all(|ch| [("bkl", "nv"), ("nv", "bkl")].contains(&(ch.from.label.as_str(), ch.to.label.as_str()))),
        "{:?}",
        c.changed
    );
    assert!(!c.changed.is_empty() && c.same_top > 0, "{c:?}");

    let mut h = harness_as(&db, "dr.sato");
    settle(&mut h, "the grid", |a| !a.grid.is_empty() && a.screen_filled());
    h.state_mut().push(Command::ToggleModels);
    settle(&mut h, "the models read", |a| {
        a.models.models().is_some_and(|m| m.iter().any(|(m, _)| m.name() == "my-ham7"))
    });
    h.state_mut().models.selected = Some(("my-ham7".to_owned(), "2.0.0".to_owned()));
    h.step();
    h.get_by_label("Compare with an earlier version").click();
    settle(&mut h, "the comparison", |a| a.models.compare.shown().is_some());
    h.step();
    h.step();
    let shown = h.state().models.compare.shown().unwrap().clone().unwrap();
    assert_eq!(shown, Versions::Classes(c.clone()), "the window's comparison is the command line's");
    let pct = |n: usize, of: usize| format!("{:.0}", 100.0 * n as f64 / of as f64);
    h.get_by_label(&format!("Same most probable class on {} of 14 ({}%).", c.same_top, pct(c.same_top, 14)));
    h.get_by_label(&format!(
        "Agrees with the chart, of {n} photo(s) with a linked diagnosis: 1.0.0 on {x} ({px}%), 2.0.0 on {y} ({py}%); {g} now agree, {l} no longer.",
        n = c.charted,
        x = c.from_agrees,
        px = pct(c.from_agrees, c.charted),
        y = c.to_agrees,
        py = pct(c.to_agrees, c.charted),
        g = c.now_agrees,
        l = c.now_disagrees
    ));
    h.get_by_label(&format!("The answer changed on {} photo(s):", c.changed.len()));
    save_screen(&mut h, "models_compare_en");

    // A changed photo opened by its link: the viewer shows it, the details panel both answers.
    let first = c.changed[0].clone();
    let id_text = first.photo_id.to_string();
    assert_eq!(h.query_all_by_label(&id_text).count(), 1, "one label reads {id_text}");
    h.get_by_label(&first.photo_id.to_string()).click();
    settle(&mut h, "the photo opened", |a| a.viewer.as_ref().is_some_and(|v| v.photo_id == first.photo_id));
    h.state_mut().push(Command::ToggleModels);
    if !h.state().state.show_details {
        h.state_mut().push(Command::ToggleDetails);
    }
    settle(&mut h, "its predictions", |a| a.predictions.value().is_some_and(|p| !p.answers.is_empty()));
    h.run_steps(2);
    let card_names = |key: &str| -> String {
        let b = block(key);
        b.lines().find_map(|l| l.strip_prefix("en = \"")).unwrap().trim_end_matches('"').to_owned()
    };
    // The earlier answer is named with the newer card's names (its labels moved places).
    let said = format!("version 1.0.0 said {} {:.0}%", card_names(&first.from.label), first.from.p * 100.0);
    h.get_by_label_contains(&said);
    save_screen(&mut h, "models_compare_earlier_en");
    h.state_mut().push(Command::SetLanguage(dermdesk::ui::i18n::Lang::Ja));
    h.run_steps(2);
    h.get_by_label_contains("バージョン 1.0.0 の予測");
    save_screen(&mut h, "models_compare_earlier_ja");
    h.state_mut().push(Command::SetLanguage(dermdesk::ui::i18n::Lang::En));

    // The browser narrowed to the photos whose answer changed, from the window's button; the
    // filter panel says so, and unticking it brings every photo back.
    h.state_mut().push(Command::ToggleModels);
    settle(&mut h, "the models read", |a| a.models.models().is_some());
    h.step();
    if h.query_by_label("Show these photos in the browser").is_none() {
        h.get_by_label("Compare with an earlier version").click();
    }
    settle(&mut h, "the comparison", |a| a.models.compare.shown().is_some());
    h.run_steps(2);
    h.get_by_label("Show these photos in the browser").click();
    let mut want: Vec<i64> = c.changed.iter().map(|ch| ch.photo_id).collect();
    want.sort_unstable();
    settle(&mut h, "the narrowed grid", |a| {
        let mut ids = a.grid.ids().to_vec();
        ids.sort_unstable();
        a.state.filter.changed_between.is_some() && ids == want
    });
    h.run_steps(2);
    assert!(h.query_by_label("Compare with an earlier version").is_none(), "the window closed");
    let filter_label = "Answer changed: my-ham7 1.0.0 → 2.0.0";
    h.get_by_label(filter_label);
    save_screen(&mut h, "models_compare_browser_en");
    h.get_by_label(filter_label).click();
    settle(&mut h, "the whole grid", |a| a.state.filter.changed_between.is_none() && a.grid.ids().len() == 14);

    // A segmenter's versions: the demo segmenter's file under two cards, the second with a
    // much higher threshold (0.5 → 0.97), so its masks are smaller; the overlap of the two
    // masks, and the photos where they differ most.
    let seg = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/lesion-seg-lite0");
    let card = std::fs::read_to_string(seg.join("card.toml")).unwrap().replacen(
        "name = \"lesion-seg-lite0\"",
        "name = \"my-seg\"",
        1,
    );
    let stricter = card.replacen("threshold = 0.5", "threshold = 0.97", 1).replacen(
        "version = \"1.0.0\"",
        "version = \"2.0.0\"",
        1,
    );
    assert!(stricter.contains("threshold = 0.97"));
    two_versions_inferred(&db, &tmp.path().join("seg"), &seg.join("model.onnx"), "my-seg", [&card, &stricter]);
    let store = Store::open(&db).unwrap();
    let Versions::Masks(m) = dermdesk::models::compare::compare_any(&store, "my-seg", None, None).unwrap() else {
        panic!("a segmenter's comparison")
    };
    drop(store);
    assert_eq!(m.photos, 14);
    assert!(m.dice.mean < 1.0 && !m.differ.is_empty() && m.differ.len() < 14, "{m:?}");
    assert!(m.differ.iter().all(|d| d.to_share < d.from_share), "a higher threshold only takes pixels away: {m:?}");
    h.state_mut().push(Command::ToggleModels);
    settle(&mut h, "the models read", |a| {
        a.models.models().is_some_and(|l| l.iter().any(|(m, _)| m.name() == "my-seg"))
    });
    h.state_mut().models.selected = Some(("my-seg".to_owned(), "2.0.0".to_owned()));
    h.step();
    h.get_by_label("Compare with an earlier version").click();
    settle(&mut h, "the masks' comparison", |a| {
        a.models.compare.shown().is_some_and(|r| matches!(r, Ok(Versions::Masks(x)) if x.model == "my-seg"))
    });
    h.step();
    h.step();
    h.get_by_label(&format!(
        "Dice of the two masks: median {:.3}, mean {:.3}, lowest {:.3}; IoU mean {:.3}.",
        m.dice.median, m.dice.mean, m.dice.min, m.iou.mean
    ));
    h.get_by_label(&format!(
        "The masks differ (Dice below 0.8) on {} photo(s) (each mask's share of the photo):",
        m.differ.len()
    ));
    let d = &m.differ[0];
    h.get_by_label(&d.photo_id.to_string());
    h.get_by_label(&format!("{:.3}", d.dice));
    save_screen(&mut h, "models_compare_masks_en");
}
