//! Occlusion sensitivity (`models::occlusion`, `dermdesk occlusion`) with the demo classifier
//! on real HAM10000 melanomas and naevi: the heatmap is not flat and its peak falls inside the
//! lesion's mask on most photos; a photo the gate does not release is refused and never
//! read; cancelling stops the runs; the CLI gives the same numbers and the overlay PNG.

mod common;
use common::*;
use dermdesk::jobs::Progress;
use dermdesk::models::occlusion::{self, OcclusionError, Options};
use dermdesk::models::{DEMO_CLASSIFIER, registry};
use dermdesk::privacy::Review;
use dermdesk::store::Store;
use std::path::PathBuf;

/// Four melanomas and four naevi: every 40th of each diagnosis by image id (a spread of
/// lesions, not the first few), with their masks.
fn mel_and_nv() -> Vec<(String, PathBuf, PathBuf)> {
    let ham = shared().join("data/ham10000");
    let rows = ham_rows();
    let mut out = Vec::new();
    for dx in ["mel", "nv"] {
        let of: Vec<&(String, String)> = rows.iter().filter(|r| r.0 == dx).collect();
        for r in of.iter().step_by(40).take(4) {
            let id = &r.1;
            out.push((dx.to_owned(), ham_image(id), ham.join(format!("masks/{id}_segmentation.png"))));
        }
    }
    out
}

fn opts() -> Options {
    Options { threads: 2, ..Options::default() }
}

#[test]
fn the_heatmap_peaks_on_the_lesion_and_the_gate_and_cancel_hold() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("o.sqlite");
    let photos = mel_and_nv();
    assert_eq!(photos.len(), 8);
    let files: Vec<PathBuf> = photos.iter().map(|p| p.1.clone()).collect();
    gui::import(&db, &files);
    let mut store = Store::open(&db).unwrap();
    registry::open(&mut store).unwrap();
    let id_of = |store: &Store, path: &PathBuf| -> i64 {
        let ids = store.grid_ids(&Default::default()).unwrap();
        *ids.iter()
            .find(|&&id| {
                store
                    .photo(id)
                    .unwrap()
                    .unwrap()
                    .row
                    .paths
                    .iter()
                    .any(|p| p.ends_with(path.file_name().unwrap().to_str().unwrap()))
            })
            .unwrap()
    };
    let ids: Vec<i64> = photos.iter().map(|p| id_of(&store, &p.1)).collect();
    for &id in &ids {
        screened_clear(&mut store, id);
    }
    store.set_modality(&ids, dermdesk::modality::Modality::Dermoscopy).unwrap();
    // The last photo stays unreviewed: the gate keeps it from the model.
    let (held, cleared) = ids.split_last().unwrap();
    store.set_review(cleared, Review::Cleared, "dr.sato").unwrap();
    let info = registry::get(&store, DEMO_CLASSIFIER, None).unwrap();

    // Refused, with the gate's reason, before anything is read.
    let e = occlusion::run(&store, &bin(), &info, *held, &opts(), &Progress::new()).unwrap_err();
    assert!(matches!(e, OcclusionError::Withheld { reason: "unreviewed", .. }), "{e}");
    assert!(e.to_string().contains("may not be shown to a model"), "{e}");

    // The peak on the lesion.
    let mut inside = 0;
    let mut hotter = 0;
    let mut lines = Vec::new();
    for (i, &id) in cleared.iter().enumerate() {
        let (dx, _, mask) = &photos[i];
        let p = Progress::new();
        let h = occlusion::run(&store, &bin(), &info, id, &opts(), &p).unwrap();
        assert_eq!((h.cols, h.rows), (9, 9));
        assert_eq!(h.drops.len(), 81);
        assert_eq!(p.snapshot().done, 82, "progress counts every run");
        assert_eq!(h.photo, [200, 150]);
        let heat = h.heat();
        let mean = heat.iter().sum::<f32>() / heat.len() as f32;
        let spread = (heat.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / heat.len() as f32).sqrt();
        assert!(
            h.max_drop > 0.01 && spread > 0.05,
            "{dx} photo {id}: a flat map (max drop {}, spread {spread})",
            h.max_drop
        );
        let m = image::open(mask).unwrap().to_luma8();
        let (c, r) = h.peak();
        let (x, y) = h.cell_centre(c, r);
        let on = m.get_pixel((x as u32).min(m.width() - 1), (y as u32).min(m.height() - 1)).0[0] > 127;
        let share = m.pixels().filter(|p| p.0[0] > 127).count() as f32 / (m.width() * m.height()) as f32;
        // Hotter on the lesion than around it, pixel by pixel (the peak alone could sit in
        // the middle by chance: HAM10000 centres its lesions).
        let (mut on_sum, mut on_n, mut off_sum, mut off_n) = (0.0, 0, 0.0, 0);
        for (px, py, v) in m.enumerate_pixels() {
            let Some(t) = h.at(px as f32 + 0.5, py as f32 + 0.5, &heat) else { continue };
            if v.0[0] > 127 {
                (on_sum, on_n) = (on_sum + t, on_n + 1);
            } else {
                (off_sum, off_n) = (off_sum + t, off_n + 1);
            }
        }
        let (on_mean, off_mean) = (on_sum / on_n.max(1) as f32, off_sum / off_n.max(1) as f32);
        hotter += usize::from(on_n > 0 && (off_n == 0 || on_mean > off_mean * 1.5));
        lines.push(format!(
            "{dx} {id}: {} p {:.2}, max drop {:.3}, peak ({x:.0}, {y:.0}) {} the lesion (mask {:.0}% of the frame), mean heat on it {on_mean:.2} around it {off_mean:.2}, {:.1} s",
            h.label,
            h.p_target,
            h.max_drop,
            if on { "inside" } else { "outside" },
            share * 100.0,
            h.seconds
        ));
        inside += usize::from(on);
    }
    eprintln!("{}", lines.join("\n"));
    assert!(
        inside * 3 >= cleared.len() * 2,
        "the peak lies on the lesion in only {inside} of {}:\n{}",
        cleared.len(),
        lines.join("\n")
    );
    assert!(
        hotter * 3 >= cleared.len() * 2,
        "hotter on the lesion than around it in only {hotter} of {}:\n{}",
        cleared.len(),
        lines.join("\n")
    );

    // A photo of a modality the card does not name: refused unless forced (as `infer`).
    store.set_modality(&cleared[..1], dermdesk::modality::Modality::Clinical).unwrap();
    let e = occlusion::run(&store, &bin(), &info, cleared[0], &opts(), &Progress::new()).unwrap_err();
    assert!(matches!(e, OcclusionError::Modality { modality: "clinical", .. }), "{e}");
    store.set_modality(&cleared[..1], dermdesk::modality::Modality::Dermoscopy).unwrap();

    // Cancel stops it between runs.
    let p = Progress::new();
    let watcher = {
        let p = p.clone();
        std::thread::spawn(move || {
            while p.snapshot().done < 4 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            p.cancel();
        })
    };
    let e = occlusion::run(&store, &bin(), &info, cleared[0], &opts(), &p).unwrap_err();
    watcher.join().unwrap();
    assert!(matches!(e, OcclusionError::Cancelled), "{e}");
    assert!(p.snapshot().done < 30, "stopped soon after the cancel, not at the end: {}", p.snapshot().done);

    // The loaded model is kept for the next heatmap, and a file changed since it was
    // registered is still refused (the hash is checked before the kept model is handed out).
    let a = occlusion::load_registered(&info).unwrap();
    let b = occlusion::load_registered(&info).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b), "the model was loaded again");
    let original = std::fs::read(&info.model_path).unwrap();
    let mut changed = original.clone();
    let last = changed.len() - 1;
    changed[last] ^= 1;
    std::fs::write(&info.model_path, &changed).unwrap();
    match occlusion::load_registered(&info) {
        Err(e) => assert!(e.to_string().contains("changed since it was registered"), "{e}"),
        Ok(_) => panic!("a changed model file was loaded"),
    }
    std::fs::write(&info.model_path, &original).unwrap();
    drop(store);

    // The CLI: the same map, and the overlay as a PNG of the photo's size.
    let png = tmp.path().join("heat.png");
    let id = cleared[0].to_string();
    let out = cli_ok(
        &db,
        &["occlusion", "--model", DEMO_CLASSIFIER, "--photo", &id, "--json", "--png", png.to_str().unwrap()],
    );
    let v = json(&out);
    assert_eq!(v["model"], DEMO_CLASSIFIER);
    assert_eq!(v["heat"].as_array().unwrap().len(), 9);
    assert_eq!(v["heat"][0].as_array().unwrap().len(), 9);
    let top = v["heat"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter())
        .map(|x| x.as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!((top - 1.0).abs() < 1e-6, "normalised: {top}");
    let overlay = image::open(&png).unwrap().to_rgba8();
    assert_eq!(overlay.dimensions(), (200, 150));
    let alphas: std::collections::HashSet<u8> = overlay.pixels().map(|p| p.0[3]).collect();
    assert!(alphas.len() > 20, "the overlay's opacity follows the heat");
    let refused = cli(&db, &["occlusion", "--model", DEMO_CLASSIFIER, "--photo", &held.to_string()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("unreviewed"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
