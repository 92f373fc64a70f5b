//! Lesion masks end to end on real data: HAM10000 and PH2 photos with their real masks,
//! imported through the CLI, drawn and fixed through the same functions the annotation
//! panel calls, reviewed by two people, and exported: COCO read back by pycocotools and PNG
//! read back by the image crate, every pixel compared with the store.

mod common;
use common::*;
use dermdesk::masks::{self, Encoded, History, Mask, codec, metrics, smart, tools};
use dermdesk::store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;

fn import_photos(db: &Path, files: &[PathBuf]) {
    let progress = dermdesk::jobs::Progress::new();
    let r = dermdesk::archive::import(db, files, &import_opts(), &progress).expect("import");
    assert_eq!(r.status, dermdesk::store::RunStatus::Finished);
    assert_eq!(r.counts.refused, 0, "{:?}", r.refusals);
}

/// The CLI as a named person.
fn cli_as(db: &Path, user: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin()).env("DERMDESK_USER", user).arg("--db").arg(db).args(args).output().expect("run dermdesk")
}

fn ok_as(db: &Path, user: &str, args: &[&str]) -> String {
    let out = cli_as(db, user, args);
    assert!(
        out.status.success(),
        "dermdesk {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What the one gate asks before anything leaves: every photo screened by every detector
/// (on the worker job, as `dermdesk screen` runs it) and cleared by a named reviewer.
fn screen_and_clear(db: &Path) {
    ok_as(db, "x", &["screen", "--threads", "2"]);
    let ids: Vec<String> =
        json_lines(&ok_as(db, "x", &["list", "--json"])).iter().map(|r| r["id"].to_string()).collect();
    let mut args = vec!["review", "--user", "dr.reviewer", "--clear"];
    args.extend(ids.iter().map(String::as_str));
    ok_as(db, "x", &args);
}

fn read_mask_file(p: &Path) -> Mask {
    codec::read_binary_image(&std::fs::read(p).unwrap()).unwrap()
}

/// Every `step`-th file of a folder, `n` of them: a spread sample that stays quick.
fn sample(dir: &Path, ext: &str, n: usize, step: usize) -> Vec<PathBuf> {
    files_in(dir, ext, usize::MAX).into_iter().step_by(step).take(n).collect()
}

const PYCOCO: &str = r#"
import json, sys, numpy as np
from pycocotools.coco import COCO
coco = COCO(sys.argv[1])
out = sys.argv[2]
index = []
for ann in coco.loadAnns(coco.getAnnIds()):
    m = coco.annToMask(ann).astype(np.uint8)
    img = coco.loadImgs(ann["image_id"])[0]
    assert m.shape == (img["height"], img["width"]), (m.shape, img)
    name = "%d.bin" % ann["id"]
    open(out + "/" + name, "wb").write(np.ascontiguousarray(m).tobytes())
    index.append({"file": name, "image": img["file_name"], "number": ann["lesion_number"],
                  "category": coco.loadCats(ann["category_id"])[0]["name"], "area": int(m.sum())})
json.dump(index, open(out + "/index.json", "w"))
"#;

/// Decodes every annotation of a COCO export with pycocotools; (image file, lesion number)
/// -> (label, mask).
fn pycocotools_read(export: &Path, work: &Path) -> Vec<(String, i64, String, Vec<u8>)> {
    let script = work.join("read_coco.py");
    std::fs::write(&script, PYCOCO).unwrap();
    let out = work.join("pycoco");
    std::fs::create_dir_all(&out).unwrap();
    let run = Command::new("python3")
        .arg(&script)
        .arg(export.join("annotations.json"))
        .arg(&out)
        .output()
        .expect("python3 (with pycocotools; .ci/run installs it)");
    assert!(run.status.success(), "pycocotools failed: {}", String::from_utf8_lossy(&run.stderr));
    let index: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).unwrap()).unwrap();
    index
        .iter()
        .map(|e| {
            let bytes = std::fs::read(out.join(e["file"].as_str().unwrap())).unwrap();
            assert_eq!(bytes.iter().map(|&b| b as u64).sum::<u64>(), e["area"].as_u64().unwrap());
            (
                e["image"].as_str().unwrap().to_owned(),
                e["number"].as_i64().unwrap(),
                e["category"].as_str().unwrap().to_owned(),
                bytes,
            )
        })
        .collect()
}

#[test]
fn ham10000_masks_import_and_leave_through_coco_unchanged() {
    let shared = shared();
    let ham = shared.join("data/ham10000");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("m.sqlite");
    let photos = sample(&ham.join("images"), "jpg", 40, 250);
    import_photos(&db, &photos);
    // Their masks, as a folder another tool left (names keep the _segmentation suffix).
    let mask_dir = tmp.path().join("from-tschandl");
    let wanted: Vec<PathBuf> = photos
        .iter()
        .map(|p| ham.join("masks").join(format!("{}_segmentation.png", p.file_stem().unwrap().to_str().unwrap())))
        .collect();
    copy_files(&wanted, &mask_dir);
    let before = fingerprint(&mask_dir);

    let r = json(&ok_as(
        &db,
        "importer",
        &["masks", "import", mask_dir.to_str().unwrap(), "--status", "approved", "--json"],
    ));
    assert_eq!(r["added"], 40, "{r}");
    assert_eq!(r["errors"].as_array().unwrap().len(), 0, "{r}");
    // Again: nothing new, nothing lost.
    let again = json(&ok_as(&db, "importer", &["masks", "import", mask_dir.to_str().unwrap(), "--json"]));
    assert_eq!((again["added"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(40)), "{again}");
    assert_eq!(fingerprint(&mask_dir), before, "mask files are only read");

    // list --json: every photo carries its one mask, with the pixel count of the file.
    let store = Store::open(&db).unwrap();
    for row in json_lines(&ok_as(&db, "x", &["list", "--json"])) {
        let path = PathBuf::from(row["paths"][0].as_str().unwrap());
        let file = ham.join("masks").join(format!("{}_segmentation.png", path.file_stem().unwrap().to_str().unwrap()));
        let truth = read_mask_file(&file);
        let m = row["masks"].as_array().unwrap();
        assert_eq!(m.len(), 1, "{row}");
        assert_eq!(m[0]["status"], "approved");
        assert_eq!(m[0]["label"], "lesion");
        assert_eq!(m[0]["annotator"], "importer");
        assert_eq!(m[0]["pixels"].as_u64().unwrap(), truth.count());
        let stored = store.lesion_mask(m[0]["id"].as_i64().unwrap()).unwrap().unwrap().decode().unwrap();
        assert_eq!(stored, truth, "stored mask differs from {}", file.display());
    }

    // COCO out, pycocotools in: the same pixels.
    let out = tmp.path().join("coco");
    screen_and_clear(&db);
    let rep = json(&ok_as(&db, "x", &["export", "--format", "coco", out.to_str().unwrap(), "--json"]));
    assert_eq!((rep["photos"].as_u64(), rep["lesions"].as_u64()), (Some(40), Some(40)), "{rep}");
    assert_eq!(std::fs::read_dir(out.join("images")).unwrap().count(), 40);
    let decoded = pycocotools_read(&out, tmp.path());
    assert_eq!(decoded.len(), 40);
    let names = rep["names"].as_object().unwrap();
    for (image, number, category, bytes) in decoded {
        assert_eq!(number, 1);
        assert_eq!(category, "lesion");
        let name = image.rsplit_once('.').unwrap().0;
        let lesion = names[name][0].as_i64().unwrap();
        let stored = store.lesion_mask(lesion).unwrap().unwrap().decode().unwrap();
        assert_eq!(bytes, stored.data(), "pycocotools decodes {image} differently");
        // The image that left is the photo's pixels with no metadata and a neutral name.
        let sent = std::fs::read(out.join("images").join(&image)).unwrap();
        let sent_img = image::load_from_memory(&sent).unwrap();
        assert_eq!((sent_img.width(), sent_img.height()), (stored.width(), stored.height()));
        assert!(dermdesk::decode::exif::parse(&sent).is_none(), "{image} carries EXIF");
    }
}

#[test]
fn ph2_lesion_drawn_fixed_reviewed_and_exported_as_png() {
    let shared = shared();
    let ph2 = shared.join("data/ph2");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("m.sqlite");
    // Two melanomas and a nevus, spread over the set.
    let names = ["IMD058", "IMD155", "IMD003"];
    let photos: Vec<PathBuf> = names.iter().map(|n| ph2.join("images").join(format!("{n}.jpg"))).collect();
    import_photos(&db, &photos);
    let mut store = Store::open(&db).unwrap();
    let mut lesion_ids = Vec::new();
    for (name, path) in names.iter().zip(&photos) {
        let truth = read_mask_file(&ph2.join("masks").join(format!("{name}_lesion.png")));
        let photo = photo_named(&store, path);
        let img = masks::PixelReader::new(&bin()).read(path, photo.orientation, &photo.hash).unwrap();
        let lesion = store.create_lesion(&photo.hash, "lesion", "", "alice").unwrap();
        let session = format!("test-{name}");
        // What the panel does: each tool's stamp through the history, saved after each step.
        let mut mask = Mask::new(photo.width, photo.height);
        let mut history = History::new();
        let bb = truth.bbox();
        let step = |stamp: &masks::Stamp, on: bool, store: &mut Store, mask: &mut Mask, history: &mut History| {
            history.begin_stroke();
            let dirty = history.apply(mask, stamp, on);
            history.end_stroke();
            store.save_mask(lesion.id, &Encoded::of(mask), "alice", &session).unwrap();
            dirty
        };
        // 1. The smart tool on a box around the lesion.
        let boxed = masks::PixelRect::from_bounds(
            bb.x.saturating_sub(15),
            bb.y.saturating_sub(15),
            (bb.right() + 15).min(photo.width),
            (bb.bottom() + 15).min(photo.height),
        );
        step(&smart::grow(&img, smart::Seed::Box(boxed)), true, &mut store, &mut mask, &mut history);
        let after_smart = metrics::dice(&mask, &truth);
        // 2. The wand from a lesion pixel, generous tolerance, adds what the box missed.
        let seed = (bb.x + bb.w / 2, bb.y + bb.h / 2);
        let wand = tools::wand(&img, seed, 24);
        step(&wand, true, &mut store, &mut mask, &mut history);
        // 3. Fix an edge: brush in what the truth has and we lack along one row, erase a
        //    stray dab outside, fill holes.
        let y = bb.y + bb.h / 2;
        let left = (0..photo.width).find(|&x| truth.get(x, y)).unwrap();
        let dab =
            tools::stroke(&mask.bounds(), (left as f32 + 0.5, y as f32 + 0.5), (seed.0 as f32, y as f32 + 0.5), 6.0);
        let dirty = step(&dab, true, &mut store, &mut mask, &mut history);
        assert!(dirty.is_none_or(|d| d.w <= 2 * 7 + (seed.0 - left) + 2), "dirty rect is the dab's: {dirty:?}");
        let corner = tools::disc(&mask.bounds(), (3.0, 3.0), 3.0);
        step(&corner, false, &mut store, &mut mask, &mut history);
        step(&tools::holes(&mask), true, &mut store, &mut mask, &mut history);
        let dice = metrics::dice(&mask, &truth);
        assert!(after_smart > 0.7 && dice > 0.8, "{name}: smart {after_smart:.3}, final {dice:.3}");
        // Undo and redo the whole session give back the same pixels.
        let done = mask.clone();
        while history.undo(&mut mask).is_some() {}
        assert!(mask.is_empty());
        while history.redo(&mut mask).is_some() {}
        assert_eq!(mask, done);
        // A crash now loses nothing: the store has the last stroke.
        let reopened = Store::open(&db).unwrap();
        assert_eq!(reopened.lesion_mask(lesion.id).unwrap().unwrap().decode().unwrap(), done);
        let versions = reopened.mask_versions(lesion.id).unwrap();
        assert_eq!(versions.len(), 1, "one editing session, one version");
        assert!(history.undo_len() >= 2);
        assert_eq!(versions[0].saves as usize, history.undo_len(), "one save per step that changed pixels");
        lesion_ids.push((lesion.id, done));
    }
    drop(store);
    let db_s = db.to_str().unwrap();
    let id0 = lesion_ids[0].0.to_string();
    ok_as(
        &db,
        "alice",
        &[
            "masks",
            "label",
            &id0,
            "Malignant:Malignant melanocytic proliferations (Melanoma)",
            "--note",
            "irregular border",
        ],
    );
    for (id, _) in &lesion_ids {
        ok_as(&db, "alice", &["masks", "submit", &id.to_string()]);
    }
    let queue = json_lines(&ok_as(&db, "bob", &["masks", "queue", "--json"]));
    assert_eq!(queue.len(), 3);
    // Alice cannot pass her own work; a review needs a role; returning needs a comment.
    let own = cli_as(&db, "alice", &["masks", "review", &id0, "--approve", "--role", "dermatologist"]);
    assert_eq!(own.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&own.stderr).contains("cannot review"), "{own:?}");
    let no_role = cli_as(&db, "bob", &["masks", "review", &id0, "--approve"]);
    assert_eq!(no_role.status.code(), Some(2));
    let silent = cli_as(&db, "bob", &["masks", "review", &id0, "--return", "--role", "resident"]);
    assert_eq!(silent.status.code(), Some(1));
    ok_as(&db, "bob", &["masks", "review", &id0, "--approve", "--role", "dermatologist"]);
    let id1 = lesion_ids[1].0.to_string();
    ok_as(
        &db,
        "bob",
        &["masks", "review", &id1, "--return", "--role", "resident", "--comment", "the lower edge is short"],
    );
    let shown = json(&ok_as(&db, "x", &["masks", "show", &id0, "--json"]));
    assert_eq!(shown["lesion"]["status"], "approved");
    assert_eq!(shown["lesion"]["label"], "Malignant:Malignant melanocytic proliferations (Melanoma)");
    let reviews = shown["reviews"].as_array().unwrap();
    assert_eq!(reviews.last().unwrap()["actor"], "bob");
    assert_eq!(reviews.last().unwrap()["role"], "dermatologist");
    let returned = json(&ok_as(&db, "x", &["masks", "show", &id1, "--json"]));
    assert_eq!(returned["reviews"].as_array().unwrap().last().unwrap()["comment"], "the lower edge is short");

    // Only the approved one is teacher data; PNG export of it is pixel-exact.
    let out = tmp.path().join("png");
    screen_and_clear(&db);
    let rep = json(&ok_as(&db, "x", &["export", "--format", "png", out.to_str().unwrap(), "--json"]));
    assert_eq!((rep["photos"].as_u64(), rep["lesions"].as_u64()), (Some(1), Some(1)), "{rep}");
    let binary = read_mask_file(&out.join("masks/000001_1.png"));
    assert_eq!(binary, lesion_ids[0].1);
    let labels = image::open(out.join("labels/000001.png")).unwrap();
    let raw = png_indices(&out.join("labels/000001.png"));
    assert_eq!((labels.width(), labels.height()), (binary.width(), binary.height()));
    assert!(raw.iter().zip(binary.data()).all(|(&l, &b)| (l == 1) == (b == 1)));
    // Every status, for a look at the drafts: all three, and the export folder must be new.
    let again = cli_as(&db, "x", &["export", "--any-status", out.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "a non-empty folder is refused");
    let all = tmp.path().join("all");
    let rep = json(&ok_as(&db, "x", &["export", "--any-status", "--format", "coco", all.to_str().unwrap(), "--json"]));
    assert_eq!(rep["lesions"], 3);
    let decoded = pycocotools_read(&all, tmp.path());
    for (_, _, category, bytes) in &decoded {
        assert!(lesion_ids.iter().any(|(_, m)| m.data() == bytes.as_slice()), "{category}");
    }
    assert!(decoded.iter().any(|d| d.2.starts_with("Malignant:")));
    let _ = db_s;
}

/// The photo imported from `file` (paths in the store are canonical; match by file name).
fn photo_named(store: &Store, file: &Path) -> dermdesk::store::PhotoForMasks {
    let name = file.file_name().unwrap().to_str().unwrap();
    store.photos_for_masks().unwrap().into_iter().find(|p| p.paths.iter().any(|x| x.ends_with(name))).unwrap()
}

/// Raw palette indices of an indexed PNG.
fn png_indices(p: &Path) -> Vec<u8> {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(p).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Indexed);
    buf.truncate(info.buffer_size());
    buf
}

#[test]
fn coco_labelme_and_bad_files_import() {
    let shared = shared();
    let ph2 = shared.join("data/ph2");
    let tmp = tempfile::tempdir().unwrap();
    let photos = sample(&ph2.join("images"), "jpg", 4, 50);
    let a = tmp.path().join("a.sqlite");
    import_photos(&a, &photos);
    let stem = |p: &PathBuf| p.file_stem().unwrap().to_str().unwrap().to_owned();
    let masks_dir = tmp.path().join("masks");
    copy_files(
        &photos.iter().map(|p| ph2.join("masks").join(format!("{}_lesion.png", stem(p)))).collect::<Vec<_>>(),
        &masks_dir,
    );
    ok_as(&a, "u", &["masks", "import", masks_dir.to_str().unwrap(), "--status", "approved"]);
    // COCO out of one database and into another with the same photos: identical masks.
    let out = tmp.path().join("coco");
    screen_and_clear(&a);
    let exported = json(&ok_as(&a, "u", &["export", out.to_str().unwrap(), "--json"]));
    let b = tmp.path().join("b.sqlite");
    import_photos(&b, &photos);
    // The export names images by number; COCO import matches by file name, so name them
    // back as the photos were called (what a person would do with a renamed dataset).
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("annotations.json")).unwrap()).unwrap();
    let store_a = Store::open(&a).unwrap();
    let lesions_a = store_a.lesions(&Default::default()).unwrap();
    for im in doc["images"].as_array_mut().unwrap() {
        let name = im["file_name"].as_str().unwrap().rsplit_once('.').unwrap().0.to_owned();
        let lesion = exported["names"][&name][0].as_i64().unwrap();
        let hash = store_a.lesion(lesion).unwrap().unwrap().photo_hash;
        let p = store_a.photo_for_masks(&hash).unwrap().unwrap();
        im["file_name"] = serde_json::json!(dermdesk::store::file_name(&p.paths[0]));
    }
    assert_eq!(doc["images"].as_array().unwrap().len(), 4);
    let coco_in = tmp.path().join("coco-in");
    std::fs::create_dir_all(&coco_in).unwrap();
    std::fs::write(coco_in.join("annotations.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
    // A labelme file for the first photo: one polygon, one rectangle grouped with it.
    let (w, h) = image::image_dimensions(&photos[0]).unwrap();
    let labelme = serde_json::json!({
        "imagePath": format!("../images/{}.jpg", stem(&photos[0])), "imageWidth": w, "imageHeight": h,
        "shapes": [
            {"label": "nevus", "shape_type": "polygon", "group_id": 1, "points": [[100, 100], [200, 110], [150, 220]]},
            {"label": "nevus", "shape_type": "rectangle", "group_id": 1, "points": [[300, 300], [340, 330]]},
            {"label": "scale", "shape_type": "circle", "points": [[50, 50], [60, 50]]}
        ]
    });
    std::fs::write(coco_in.join("labelme.json"), serde_json::to_vec(&labelme).unwrap()).unwrap();
    // Bad input: a mask of the wrong size, a grey photo posing as a mask, a name no photo
    // has, broken JSON, a line-free labelme shape. Each is reported; the rest goes in.
    let small = image::GrayImage::from_pixel(10, 10, image::Luma([255]));
    small.save(coco_in.join(format!("{}_segmentation.png", stem(&photos[1])))).unwrap();
    let grey = image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x + y) % 256) as u8]));
    grey.save(coco_in.join(format!("{}_mask.png", stem(&photos[0])))).unwrap();
    small.save(coco_in.join("IMD999_lesion.png")).unwrap();
    std::fs::write(coco_in.join("broken.json"), "{\"shapes\": [\n  {\"label\": }").unwrap();
    std::fs::write(coco_in.join("notes.txt"), "not a mask").unwrap();
    let r = json(&ok_as(&b, "u", &["masks", "import", coco_in.to_str().unwrap(), "--json"]));
    assert_eq!(r["added"], 4 + 2, "{r}");
    let errors = r["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{r}");
    let reason = |file: &str| {
        errors
            .iter()
            .find(|e| e["path"].as_str().unwrap().ends_with(file))
            .map(|e| e["reason"].as_str().unwrap().to_owned())
    };
    assert!(reason(&format!("{}_segmentation.png", stem(&photos[1]))).unwrap().contains("10×10"));
    assert!(reason(&format!("{}_mask.png", stem(&photos[0]))).unwrap().contains("grey levels"));
    assert!(reason("broken.json").unwrap().contains("line 2"));
    assert_eq!(r["unmatched"].as_array().unwrap().len(), 1);
    assert_eq!(r["skipped"], 1);
    let store_b = Store::open(&b).unwrap();
    for la in &lesions_a {
        let ma = store_a.lesion_mask(la.id).unwrap().unwrap();
        let lb = store_b.lesions_of(&la.photo_hash).unwrap();
        assert!(
            lb.iter().any(|l| store_b.lesion_mask(l.id).unwrap().unwrap().data == ma.data),
            "COCO round trip changed a mask"
        );
    }
    let first = store_b.lesions_of(&photo_named(&store_b, &photos[0]).hash).unwrap();
    let labels: Vec<&str> = first.iter().map(|l| l.label.as_str()).collect();
    assert!(labels.contains(&"nevus") && labels.contains(&"scale"), "{labels:?}");
}

#[test]
fn the_gate_holds_photos_whose_file_is_gone() {
    let shared = shared();
    let ph2 = shared.join("data/ph2");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("m.sqlite");
    let originals = sample(&ph2.join("images"), "jpg", 3, 60);
    let dir = tmp.path().join("archive");
    let copies = copy_files(&originals, &dir);
    import_photos(&db, std::slice::from_ref(&dir));
    let masks_dir = tmp.path().join("masks");
    copy_files(
        &originals
            .iter()
            .map(|p| ph2.join("masks").join(format!("{}_lesion.png", p.file_stem().unwrap().to_str().unwrap())))
            .collect::<Vec<_>>(),
        &masks_dir,
    );
    ok_as(&db, "u", &["masks", "import", masks_dir.to_str().unwrap(), "--status", "approved"]);
    // Nothing leaves before privacy screening and a person's review.
    let early = json(&ok_as(&db, "u", &["export", tmp.path().join("early").to_str().unwrap(), "--json"]));
    assert_eq!(early["photos"], 0, "{early}");
    assert!(early["held"].as_array().unwrap().iter().all(|h| h["hold"] == "unscreened"), "{early}");
    screen_and_clear(&db);
    std::fs::remove_file(&copies[1]).unwrap();
    import_photos(&db, std::slice::from_ref(&dir));
    let out = tmp.path().join("out");
    let rep = json(&ok_as(&db, "u", &["export", out.to_str().unwrap(), "--json"]));
    assert_eq!(rep["photos"], 2, "{rep}");
    let held = rep["held"].as_array().unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["hold"], "no_file");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("annotations.json")).unwrap()).unwrap();
    assert_eq!(doc["images"].as_array().unwrap().len(), 2);
    assert_eq!(std::fs::read_dir(out.join("images")).unwrap().count(), 2);
    // No exported name carries the original file name.
    let text = std::fs::read_to_string(out.join("annotations.json")).unwrap();
    for p in &originals {
        assert!(!text.contains(p.file_stem().unwrap().to_str().unwrap()));
    }
}

#[test]
fn agreement_between_two_annotators() {
    let shared = shared();
    let ph2 = shared.join("data/ph2");
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("m.sqlite");
    let photos = sample(&ph2.join("images"), "jpg", 3, 70);
    import_photos(&db, &photos);
    let mut store = Store::open(&db).unwrap();
    let mut want = Vec::new();
    for p in &photos {
        let photo = photo_named(&store, p);
        let stem = p.file_stem().unwrap().to_str().unwrap();
        let truth = read_mask_file(&ph2.join("masks").join(format!("{stem}_lesion.png")));
        // Alice draws the published outline; Bob lets the smart tool draw from a click.
        let img = masks::PixelReader::new(&bin()).read(p, photo.orientation, &photo.hash).unwrap();
        let bb = truth.bbox();
        let mut bob = Mask::new(photo.width, photo.height);
        tools::paint(&mut bob, &smart::grow(&img, smart::Seed::Click(bb.x + bb.w / 2, bb.y + bb.h / 2)), true);
        for (who, m) in [("alice", &truth), ("bob", &bob)] {
            let l = store.create_lesion(&photo.hash, "lesion", "", who).unwrap();
            store.save_mask(l.id, &Encoded::of(m), who, "s").unwrap();
        }
        want.push(metrics::dice(&truth, &bob));
    }
    drop(store);
    let r = json(&ok_as(&db, "x", &["masks", "agreement", "--json"]));
    let photos_out = r["photos"].as_array().unwrap();
    assert_eq!(photos_out.len(), 3);
    let mut got: Vec<f64> = photos_out.iter().map(|p| p["pairs"][0]["dice"].as_f64().unwrap()).collect();
    got.sort_by(f64::total_cmp);
    want.sort_by(f64::total_cmp);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
    }
    let mean = want.iter().sum::<f64>() / 3.0;
    assert!((r["dice"]["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    assert!(r["iou"]["mean"].as_f64().unwrap() < r["dice"]["mean"].as_f64().unwrap());
}
