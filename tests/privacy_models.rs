//! Every privacy model in tract against onnxruntime: the shared reference outputs (OCR models)
//! and, on identical input tensors, the reference runner `scripts/ort_reference.py` (all four,
//! CenterFace included). Max differences are asserted.

mod common;

use dermdesk::privacy::face::FaceDetector;
use dermdesk::privacy::npy;
use dermdesk::privacy::ocr::{DetParams, TextReader, boxes_from_prob, ctc_decode};
use std::path::Path;
use std::process::Command;

fn models() -> std::path::PathBuf {
    common::shared().join("models")
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "output sizes differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read reference")).expect("reference JSON")
}

#[test]
fn ocr_detector_matches_the_shared_reference() {
    let reader = TextReader::load().unwrap();
    let img = image::open(models().join("ocr-det/reference/japan_960x416.png")).unwrap().to_rgb8();
    let prob = reader.det_raw(&img).unwrap();
    let (shape, every4) =
        npy::read(&std::fs::read(models().join("ocr-det/reference/japan_prob_every4th.npy")).unwrap()).unwrap();
    assert_eq!(shape, vec![104, 240]);
    let ours: Vec<f32> =
        (0..104).flat_map(|y| (0..240).map(move |x| (y, x))).map(|(y, x)| prob[y * 4 * 960 + x * 4]).collect();
    let d = max_diff(&ours, &every4);
    assert!(d < 1e-3, "max |tract - onnxruntime| = {d}");
    let expected = json(&models().join("ocr-det/reference/japan_det_expected.json"));
    let sum: f64 = prob.iter().map(|&v| v as f64).sum();
    let want = expected["prob_stats"]["sum"].as_f64().unwrap();
    assert!((sum - want).abs() / want < 1e-4, "probability sum {sum} vs {want}");
    // The five lines, each box within a few pixels of PaddleOCR's post-processing.
    let p = DetParams { box_thresh: 0.6, outline_score: false, ..DetParams::default() };
    let mut boxes = boxes_from_prob(&prob, 960, 416, &p, (1.0, 1.0), (960.0, 416.0));
    boxes.sort_by(|a, b| a.quad[0].y.total_cmp(&b.quad[0].y));
    let want_boxes = expected["boxes"].as_array().unwrap();
    assert_eq!(boxes.len(), want_boxes.len());
    for (b, w) in boxes.iter().zip(want_boxes) {
        for (corner, wc) in b.quad.iter().zip(w.as_array().unwrap()) {
            let (wx, wy) = (wc[0].as_f64().unwrap() as f32, wc[1].as_f64().unwrap() as f32);
            assert!((corner.x - wx).abs() <= 3.0 && (corner.y - wy).abs() <= 3.0, "{corner:?} vs ({wx}, {wy})");
        }
    }
}

#[test]
fn ocr_recogniser_and_classifier_match_the_shared_reference() {
    let reader = TextReader::load().unwrap();
    let crop = image::open(models().join("ocr-rec/reference/line0_crop.png")).unwrap().to_rgb8();
    let expected = json(&models().join("ocr-rec/reference/line0_expected.json"));
    let (steps, probs) = reader.rec_raw_width(&crop, 574).unwrap();
    assert_eq!(steps, 72);
    let (text, conf) = ctc_decode(&probs, steps, reader.chars());
    assert_eq!(text, expected["text"].as_str().unwrap());
    assert!(conf > 0.99, "confidence {conf}");
    let classes = reader.chars().len();
    let argmax: Vec<u64> = (0..steps)
        .map(|t| {
            let row = &probs[t * classes..(t + 1) * classes];
            row.iter().enumerate().fold((0, f32::MIN), |b, (i, &p)| if p > b.1 { (i, p) } else { b }).0 as u64
        })
        .collect();
    let want: Vec<u64> = expected["argmax_indices"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(argmax, want);
    let top1: Vec<f32> =
        (0..steps).map(|t| probs[t * classes..(t + 1) * classes].iter().copied().fold(f32::MIN, f32::max)).collect();
    let (_, want_top1) =
        npy::read(&std::fs::read(models().join("ocr-rec/reference/line0_probs_top1.npy")).unwrap()).unwrap();
    // The crop is resized here by our own bilinear code, there by OpenCV's: close, not equal.
    let d = max_diff(&top1, &want_top1);
    assert!(d < 0.05, "max |tract - onnxruntime| of the per-step top probability = {d}");

    let cls = json(&models().join("ocr-cls/reference/line0_expected.json"));
    for (file, key) in [("line0_crop.png", "upright"), ("line0_crop_rot180.png", "rotated")] {
        let img = image::open(models().join("ocr-cls/reference").join(file)).unwrap().to_rgb8();
        let p = reader.upside_down(&img).unwrap();
        let want = cls[key]["probs_0_180"][1].as_f64().unwrap() as f32;
        assert!((p - want).abs() < 1e-3, "{file}: P(180) {p} vs {want}");
    }
}

/// Runs onnxruntime on `input` through the reference script; returns its outputs.
fn ort(model: &Path, shape: &[usize], input: &[f32], dir: &Path) -> Vec<(Vec<usize>, Vec<f32>)> {
    let inp = dir.join("input.npy");
    std::fs::write(&inp, npy::write(shape, input)).unwrap();
    let out = dir.join("out");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ort_reference.py");
    let run =
        Command::new("python3").arg(&script).arg(model).arg(&inp).arg(&out).output().expect(
            "python3 runs (the onnxruntime reference needs python3 with numpy, onnx and onnxruntime: see .ci/run)",
        );
    assert!(
        run.status.success(),
        "the onnxruntime reference failed (pip install numpy onnx onnxruntime; see .ci/run): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&run.stdout).expect("one JSON line");
    (0..meta["outputs"].as_array().unwrap().len())
        .map(|i| npy::read(&std::fs::read(out.join(format!("out{i}.npy"))).unwrap()).unwrap())
        .collect()
}

/// A real photo as a model input: the shared face reference photo, resized and normalised the
/// way each model wants it.
fn photo_tensor(w: u32, h: u32, norm: impl Fn(usize, u8) -> f32, bgr: bool) -> Vec<f32> {
    let img = image::open(models().join("face-detector/reference/two_men.jpg")).unwrap().to_rgb8();
    let img = image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle);
    let mut t = vec![0f32; 3 * (w * h) as usize];
    for (x, y, p) in img.enumerate_pixels() {
        for c in 0..3 {
            let plane = if bgr { 2 - c } else { c };
            t[plane * (w * h) as usize + (y * w + x) as usize] = norm(plane, p.0[c]);
        }
    }
    t
}

#[test]
fn every_model_in_tract_matches_onnxruntime_on_the_same_input() {
    let dir = tempfile::tempdir().unwrap();
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models");
    let faces = FaceDetector::load().unwrap();
    let reader = TextReader::load().unwrap();

    let input = photo_tensor(448, 352, |_, v| v as f32, false);
    let ours = faces.raw(input.clone(), 352, 448).unwrap();
    let theirs = ort(&assets.join("centerface.onnx"), &[1, 3, 352, 448], &input, dir.path());
    assert_eq!(ours.len(), 4);
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a.0, b.0, "CenterFace output {i} shape");
        let d = max_diff(&a.1, &b.1);
        assert!(d < 1e-3, "CenterFace output {i}: max |tract - onnxruntime| = {d}");
    }
    // The reference photo's two faces are found by our decoding of tract's output.
    let found = dermdesk::privacy::face::decode(&ours, 0.5, (448.0, 352.0), (1.0, 1.0));
    assert_eq!(found.len(), 2, "{found:?}");

    const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
    const STD: [f32; 3] = [0.229, 0.224, 0.225];
    let input = photo_tensor(320, 256, |c, v| (v as f32 / 255.0 - MEAN[c]) / STD[c], true);
    let (shape, ours) = reader.run_det(input.clone(), 256, 320).unwrap();
    let theirs = ort(&assets.join("ppocrv5_mobile_det.onnx"), &[1, 3, 256, 320], &input, dir.path());
    assert_eq!(shape, theirs[0].0);
    let d = max_diff(&ours, &theirs[0].1);
    assert!(d < 1e-3, "PP-OCRv5 detector: max |tract - onnxruntime| = {d}");

    let line = |w: u32| photo_tensor(w, 48, |_, v| (v as f32 / 255.0 - 0.5) / 0.5, true);
    let input = line(320);
    let (shape, ours) = reader.run_rec(input.clone(), 320).unwrap();
    let theirs = ort(&assets.join("ppocrv5_mobile_rec.onnx"), &[1, 3, 48, 320], &input, dir.path());
    assert_eq!(shape, theirs[0].0);
    let d = max_diff(&ours, &theirs[0].1);
    assert!(d < 1e-3, "PP-OCRv5 recogniser: max |tract - onnxruntime| = {d}");

    let input = line(192);
    let (_, ours) = reader.run_cls(input.clone()).unwrap();
    let theirs = ort(&assets.join("ppocr_mobile_v2.0_cls.onnx"), &[1, 3, 48, 192], &input, dir.path());
    let d = max_diff(&ours, &theirs[0].1);
    assert!(d < 1e-4, "direction classifier: max |tract - onnxruntime| = {d}");
}
