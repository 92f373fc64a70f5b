//! `bench privacy`: screening quality on a labelled set built at run time from real images,
//! each detector in tract against onnxruntime (latency ratio, max difference), and screening
//! throughput on the ISIC camera originals.
//!
//! The labelled set (in a temporary folder, or `--keep DIR`; never committed):
//! - the 52 photos of people in `data/faces` (48 with faces, 4 without);
//! - partial faces: from each face photo, three crops that cut its largest face (found by
//!   YuNet, the second detector, so the crops do not favour CenterFace) in half: the left half,
//!   the lower half, the upper half;
//! - plain lesion close-ups with no face and no text: ISIC camera originals, PAD-UFES clinical
//!   photos, PH2 and HAM10000 dermoscopy, H&E tiles;
//! - the same kind of skin photos with burned-in text drawn on them: Japanese and Latin name
//!   cards, chart-number labels, date stamps, overlays; straight, tilted, upside down,
//!   sideways, partly covered and small.

use super::median;
use crate::privacy::face::FaceDetector;
use crate::privacy::synth::{Burn, Fonts, Style, burn};
use crate::privacy::yunet::YuNet;
use crate::privacy::{Detector, FindingKind, ScreenInput, Screener, Verdict, job, npy, set_model_threads};
use anyhow::{Context, bail};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Clone, Debug, Serialize)]
struct Case {
    path: PathBuf,
    group: &'static str,
    face: bool,
    text: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
struct Outcome {
    face: bool,
    text: bool,
    text_identifiable: bool,
    top_face: f32,
    lines: Vec<(String, String)>,
}

fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x))))
        .collect();
    v.sort();
    v
}

/// Every `n`-th element starting at `from` (a fixed, spread-out sample).
fn every<T: Clone>(v: &[T], n: usize, from: usize) -> Vec<T> {
    v.iter().skip(from).step_by(n.max(1)).cloned().collect()
}

/// The text templates: what is written, how, where, how big and how turned.
fn templates() -> Vec<Burn> {
    let b = |lines: &[&str], style, height, at, angle_deg, covered| Burn {
        lines: lines.iter().map(|s| s.to_string()).collect(),
        style,
        height,
        at,
        angle_deg,
        covered,
        font_pick: 0,
    };
    vec![
        b(&["山田 太郎 様", "ID 0012345"], Style::Card, 0.06, (0.5, 0.8), 0.0, 0.0),
        b(&["佐藤 花子 殿"], Style::Card, 0.05, (0.3, 0.2), -8.0, 0.0),
        b(&["カルテ番号 4412087"], Style::Label, 0.045, (0.7, 0.15), 4.0, 0.0),
        b(&["2018/03/04"], Style::Stamp, 0.04, (0.8, 0.9), 0.0, 0.0),
        b(&["'18 3 4"], Style::Stamp, 0.05, (0.82, 0.88), 0.0, 0.0),
        b(&["Patient: TANAKA Hanako", "DOB 1962-07-15"], Style::Card, 0.04, (0.5, 0.5), 12.0, 0.0),
        b(&["No. 20150418-0173"], Style::Label, 0.035, (0.25, 0.85), -20.0, 0.0),
        b(&["鈴木 一郎 様"], Style::Card, 0.05, (0.5, 0.3), 180.0, 0.0),
        b(&["MRN 88231907"], Style::Overlay, 0.05, (0.5, 0.5), 90.0, 0.0),
        b(&["高橋 美咲", "平成30年5月12日"], Style::Card, 0.05, (0.6, 0.6), 0.0, 0.3),
        b(&["ID: 7730215"], Style::Overlay, 0.022, (0.15, 0.08), 0.0, 0.0),
        b(&["伊藤 健二 様 2019.11.02"], Style::Label, 0.025, (0.5, 0.92), -3.0, 0.0),
        b(&["YAMAMOTO KENJI"], Style::Card, 0.04, (0.4, 0.7), 25.0, 0.0),
        b(&["中村 さくら"], Style::Overlay, 0.06, (0.5, 0.45), 0.0, 0.0),
        b(&["2021年4月8日 撮影"], Style::Stamp, 0.035, (0.7, 0.92), 0.0, 0.0),
        b(&["ワタナベ ユウコ", "No.0934411"], Style::Card, 0.045, (0.35, 0.35), -30.0, 0.2),
    ]
}

fn build_set(shared: &Path, dir: &Path, yunet: &YuNet) -> anyhow::Result<Vec<Case>> {
    let mut cases = Vec::new();
    let faces_dir = shared.join("data/faces");
    let labels = std::fs::read_to_string(faces_dir.join("labels.csv")).context("data/faces/labels.csv")?;
    std::fs::create_dir_all(dir.join("partial"))?;
    for line in labels.lines().skip(1) {
        let mut it = line.split(',');
        let (Some(file), Some(face)) = (it.next(), it.next()) else { continue };
        let path = faces_dir.join("images").join(file);
        let face = face.trim() == "1";
        cases.push(Case { path: path.clone(), group: "faces", face, text: false });
        if !face {
            continue;
        }
        let img = open_image(&path)?;
        let found = yunet.detect(&img, 640, 0.6)?;
        let Some(big) = found.iter().max_by(|a, b| {
            let area = |f: &crate::privacy::face::Face| (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]);
            area(a).total_cmp(&area(b))
        }) else {
            continue;
        };
        let [x0, y0, x1, y1] = big.bbox;
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let (w, h) = img.dimensions();
        let stem = Path::new(file).file_stem().unwrap_or_default().to_string_lossy().into_owned();
        let crops = [
            ("left", 0, 0, cx as u32, h),
            ("lower", 0, cy as u32, w, h - cy as u32),
            ("upper", 0, 0, w, (cy + (y1 - y0) * 0.1) as u32),
        ];
        for (name, x, y, cw, ch) in crops {
            if cw < 32 || ch < 32 {
                continue;
            }
            let crop = image::imageops::crop_imm(&img, x, y, cw.min(w - x), ch.min(h - y)).to_image();
            let p = dir.join("partial").join(format!("{stem}_{name}.png"));
            crop.save(&p)?;
            cases.push(Case { path: p, group: "partial_faces", face: true, text: false });
        }
    }
    let d = shared.join("data");
    let isic = files(&d.join("isic-cc0/images"), &["jpg", "jpeg"]);
    let pad = files(&d.join("clinical-padufes"), &["jpg", "png"]);
    let ph2 = files(&d.join("ph2/images"), &["jpg", "bmp", "png"]);
    let ham = files(&d.join("ham10000/images"), &["jpg"]);
    let he = files(&d.join("histopathology-he"), &["jpg", "png", "tif"]);
    for (group, list) in [
        ("plain_isic", isic.clone()),
        ("plain_clinical", pad.clone()),
        ("plain_ph2", every(&ph2, 5, 0)),
        ("plain_ham10000", every(&ham, 167, 0)),
        ("plain_histopathology", he),
    ] {
        cases.extend(list.into_iter().map(|path| Case { path, group, face: false, text: false }));
    }
    // Text drawn on photos of each kind (a different sample of the large sets).
    let fonts = Fonts::system()?;
    std::fs::create_dir_all(dir.join("text"))?;
    let bases: Vec<PathBuf> =
        [isic, every(&pad, 2, 1), every(&ph2, 10, 3), every(&ham, 250, 7)].into_iter().flatten().collect();
    let t = templates();
    for (i, base) in bases.iter().enumerate() {
        let mut img = open_image(base)?;
        let mut b = t[i % t.len()].clone();
        b.font_pick = i / t.len();
        burn(&mut img, &fonts, &b);
        let p = dir.join("text").join(format!("{i:03}.png"));
        img.save(&p)?;
        cases.push(Case { path: p, group: "burned_text", face: false, text: true });
    }
    Ok(cases)
}

/// Decodes by content, not by name (some shared files are WebP named .jpeg).
fn open_image(path: &Path) -> anyhow::Result<image::RgbImage> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(image::load_from_memory(&bytes).with_context(|| format!("cannot decode {}", path.display()))?.to_rgb8())
}

fn evaluate(screener: &Screener, case: &Case) -> anyhow::Result<Outcome> {
    let bytes = std::fs::read(&case.path)?;
    let orientation = crate::decode::exif::parse(&bytes).map(|p| p.orientation()).unwrap_or(1);
    let (image, full_size) = job::load_for_screening(&bytes, &case.path, orientation)?;
    let input = ScreenInput { image: &image, full_size, file: &bytes, modality: crate::modality::Modality::Clinical };
    let s = screener.screen(&input, &[Detector::Face, Detector::Text])?;
    let mut o = Outcome::default();
    for f in &s.findings {
        match f.kind {
            FindingKind::Face => {
                o.face |= f.level >= Verdict::Unsure;
                o.top_face = o.top_face.max(f.score);
            }
            FindingKind::Text => {
                o.text |= f.level >= Verdict::Unsure;
                o.text_identifiable |= f.level == Verdict::Identifiable;
                o.lines.push((f.field.clone().unwrap_or_default(), f.text.clone().unwrap_or_default()));
            }
            FindingKind::Metadata => {}
        }
    }
    Ok(o)
}

fn parallel<T: Send + Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = Mutex::new(0usize);
    let out: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        *n += 1;
                        *n - 1
                    };
                    if i >= items.len() {
                        return;
                    }
                    let r = f(&items[i]);
                    out.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
                }
            });
        }
    });
    let mut v = out.into_inner().unwrap_or_else(|e| e.into_inner());
    v.sort_by_key(|(i, _)| *i);
    v.into_iter().map(|(_, r)| r).collect()
}

#[derive(Serialize)]
struct Rate {
    hit: usize,
    of: usize,
    rate: f64,
    missed: Vec<String>,
}

fn rate(cases: &[(&Case, &Outcome)], want: impl Fn(&Case) -> bool, hit: impl Fn(&Outcome) -> bool) -> Rate {
    let sel: Vec<_> = cases.iter().filter(|(c, _)| want(c)).collect();
    let hits = sel.iter().filter(|(_, o)| hit(o)).count();
    Rate {
        hit: hits,
        of: sel.len(),
        rate: if sel.is_empty() { f64::NAN } else { hits as f64 / sel.len() as f64 },
        missed: sel
            .iter()
            .filter(|(_, o)| !hit(o))
            .map(|(c, _)| c.path.file_name().unwrap_or_default().to_string_lossy().into_owned())
            .collect(),
    }
}

#[derive(Serialize)]
pub(super) struct ModelFigure {
    pub(super) model: String,
    pub(super) input: Vec<usize>,
    pub(super) threads: usize,
    pub(super) tract_ms: f64,
    pub(super) onnxruntime_ms: f64,
    pub(super) ratio: f64,
    pub(super) max_abs_diff: f32,
}

/// Where `compare` saves the input tensor of the model `name` (`onnxruntime_peer` reads it).
pub(super) fn input_path(work: &Path, name: &str) -> PathBuf {
    work.join(format!("{name}-input.npy"))
}

/// `scripts/ort_reference.py` (onnxruntime, in Python) on `model` and the tensor at `input`,
/// its outputs written into `out_dir`; `profile` > 0 adds its profiler's slowest nodes. Its
/// JSON answer.
pub(super) fn onnxruntime_peer(
    model: &Path,
    input: &Path,
    out_dir: &Path,
    threads: usize,
    repeats: usize,
    profile: usize,
) -> anyhow::Result<serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ort_reference.py");
    let o = std::process::Command::new("python3")
        .arg(&script)
        .arg(model)
        .arg(input)
        .arg(out_dir)
        .args(["--threads", &threads.to_string(), "--repeats", &repeats.to_string()])
        .args(["--profile", &profile.to_string()])
        .output()
        .context("python3 (with numpy, onnx, onnxruntime) runs the onnxruntime peer")?;
    if !o.status.success() {
        bail!("the onnxruntime peer failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    Ok(serde_json::from_slice(&o.stdout)?)
}

/// tract against onnxruntime on one model and one real input tensor.
#[allow(clippy::too_many_arguments)] // one call site; each is a figure's input
pub(super) fn compare(
    name: &str,
    model: &Path,
    shape: &[usize],
    input: &[f32],
    threads: usize,
    repeats: usize,
    run: impl Fn(Vec<f32>) -> crate::Result<Vec<(Vec<usize>, Vec<f32>)>>,
    work: &Path,
) -> anyhow::Result<ModelFigure> {
    let ours = run(input.to_vec())?; // also optimises the plan for this shape
    // Each run's input made beforehand, as the peer's is: what is timed is the model's run.
    let inputs: Vec<Vec<f32>> = (0..repeats).map(|_| input.to_vec()).collect();
    let mut times = Vec::new();
    for copy in inputs {
        let t = Instant::now();
        run(copy)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    std::fs::write(input_path(work, name), npy::write(shape, input))?;
    let out_dir = work.join(format!("{name}-ort"));
    let meta = onnxruntime_peer(model, &input_path(work, name), &out_dir, threads, repeats, 0)?;
    let mut diff = 0f32;
    for (i, (_, a)) in ours.iter().enumerate() {
        let (_, b) = npy::read(&std::fs::read(out_dir.join(format!("out{i}.npy")))?)?;
        diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(diff, f32::max);
    }
    let tract_ms = median(&mut times);
    let onnxruntime_ms = meta["median_ms"].as_f64().unwrap_or(f64::NAN);
    Ok(ModelFigure {
        model: name.into(),
        input: shape.to_vec(),
        threads,
        tract_ms,
        onnxruntime_ms,
        ratio: tract_ms / onnxruntime_ms,
        max_abs_diff: diff,
    })
}

fn tensor(img: &image::RgbImage, w: u32, h: u32, bgr: bool, norm: impl Fn(usize, u8) -> f32) -> Vec<f32> {
    let img = image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle);
    let mut t = vec![0f32; 3 * (w * h) as usize];
    for (x, y, p) in img.enumerate_pixels() {
        for c in 0..3 {
            let plane = if bgr { 2 - c } else { c };
            t[plane * (w * h) as usize + (y * w + x) as usize] = norm(plane, p.0[c]);
        }
    }
    t
}

pub struct Args {
    pub threads: usize,
    pub repeats: usize,
    pub keep: Option<PathBuf>,
    pub json: bool,
    pub skip_models: bool,
    /// Only the tract-against-onnxruntime figures.
    pub models_only: bool,
    /// Only cases whose group starts with one of these (all when empty).
    pub groups: Vec<String>,
}

pub fn run(shared: &Path, a: Args) -> anyhow::Result<()> {
    let temp;
    let dir = match &a.keep {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            temp = super::tempfile_dir("dermdesk-bench-privacy")?;
            temp.to_path_buf()
        }
    };
    let yunet = YuNet::load(&shared.join("models/face-detector/yunet_n_dynamic.onnx"))?;
    eprintln!("building the labelled set in {}", dir.display());
    let mut cases = if a.models_only { Vec::new() } else { build_set(shared, &dir, &yunet)? };
    if !a.groups.is_empty() {
        cases.retain(|c| a.groups.iter().any(|g| c.group.starts_with(g.as_str())));
    }
    let screener = Arc::new(Screener::load()?);
    set_model_threads(1);
    eprintln!("screening {} images ({} threads)", cases.len(), a.threads);
    let t = Instant::now();
    let outcomes: Vec<Outcome> = parallel(&cases, a.threads, |c| {
        evaluate(&screener, c).unwrap_or_else(|e| {
            eprintln!("{}: {e}", c.path.display());
            Outcome::default()
        })
    });
    let eval_seconds = t.elapsed().as_secs_f64();
    let pairs: Vec<(&Case, &Outcome)> = cases.iter().zip(&outcomes).collect();
    let plain = |c: &Case| c.group.starts_with("plain_");
    let mut quality = BTreeMap::new();
    quality.insert("face_sensitivity_whole", rate(&pairs, |c| c.group == "faces" && c.face, |o| o.face));
    quality.insert("face_sensitivity_partial", rate(&pairs, |c| c.group == "partial_faces", |o| o.face));
    quality.insert("face_sensitivity_all", rate(&pairs, |c| c.face, |o| o.face));
    quality.insert("no_face_photos_flagged", rate(&pairs, |c| c.group == "faces" && !c.face, |o| o.face || o.text));
    quality.insert("text_sensitivity", rate(&pairs, |c| c.text, |o| o.text));
    quality.insert("text_read_as_identifying", rate(&pairs, |c| c.text, |o| o.text_identifiable));
    quality.insert("false_alarms_plain_closeups", rate(&pairs, plain, |o| o.face || o.text));
    quality.insert("false_alarms_face", rate(&pairs, plain, |o| o.face));
    quality.insert("false_alarms_text", rate(&pairs, plain, |o| o.text));
    let mut by_group: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (c, o) in &pairs {
        let e = by_group.entry(c.group).or_default();
        e.1 += 1;
        if o.face || o.text {
            e.0 += 1;
        }
    }
    let text_lines: Vec<_> = pairs
        .iter()
        .filter(|(c, o)| c.text || (plain(c) && o.text))
        .map(|(c, o)| (c.path.file_name().unwrap_or_default().to_string_lossy().into_owned(), o.lines.clone()))
        .collect();

    // Each model: tract against onnxruntime, same input and thread count.
    let mut models = Vec::new();
    if !a.skip_models {
        set_model_threads(a.threads);
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models");
        let photo = open_image(&shared.join("data/faces/images/fr_two_people.jpg"))?;
        let faces = FaceDetector::load()?;
        let text = crate::privacy::ocr::TextReader::load()?;
        const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
        const STD: [f32; 3] = [0.229, 0.224, 0.225];
        let cf = tensor(&photo, 640, 384, false, |_, v| v as f32);
        models.push(compare(
            "centerface",
            &assets.join("centerface.onnx"),
            &[1, 3, 384, 640],
            &cf,
            a.threads,
            a.repeats,
            |x| faces.raw(x, 384, 640),
            &dir,
        )?);
        let det = tensor(&photo, 960, 576, true, |c, v| (v as f32 / 255.0 - MEAN[c]) / STD[c]);
        models.push(compare(
            "ppocrv5_det",
            &assets.join("ppocrv5_mobile_det.onnx"),
            &[1, 3, 576, 960],
            &det,
            a.threads,
            a.repeats,
            |x| text.run_det(x, 576, 960).map(|o| vec![o]),
            &dir,
        )?);
        let line = tensor(&photo, 320, 48, true, |_, v| (v as f32 / 255.0 - 0.5) / 0.5);
        models.push(compare(
            "ppocrv5_rec",
            &assets.join("ppocrv5_mobile_rec.onnx"),
            &[1, 3, 48, 320],
            &line,
            a.threads,
            a.repeats,
            |x| text.run_rec(x, 320).map(|o| vec![o]),
            &dir,
        )?);
        let cls = tensor(&photo, 192, 48, true, |_, v| (v as f32 / 255.0 - 0.5) / 0.5);
        models.push(compare(
            "ppocr_cls",
            &assets.join("ppocr_mobile_v2.0_cls.onnx"),
            &[1, 3, 48, 192],
            &cls,
            a.threads,
            a.repeats,
            |x| text.run_cls(x).map(|o| vec![o]),
            &dir,
        )?);
        models.push(compare(
            "yunet (second opinion)",
            &shared.join("models/face-detector/yunet_n_dynamic.onnx"),
            &[1, 3, 384, 640],
            &tensor(&photo, 640, 384, true, |_, v| v as f32),
            a.threads,
            a.repeats,
            |x| yunet_raw(&yunet, x),
            &dir,
        )?);
        set_model_threads(1);
    }

    // Throughput: the ISIC camera originals, every detector, one photo per thread.
    let isic = if a.models_only || !a.groups.is_empty() {
        Vec::new()
    } else {
        files(&shared.join("data/isic-cc0/images"), &["jpg", "jpeg"])
    };
    let mut rates = Vec::new();
    let stages: Mutex<BTreeMap<&'static str, Vec<f64>>> = Mutex::new(BTreeMap::new());
    for _ in 0..if isic.is_empty() { 0 } else { a.repeats.max(1) } {
        let t = Instant::now();
        let results = parallel(&isic, a.threads, |p| -> anyhow::Result<()> {
            let t0 = Instant::now();
            let bytes = std::fs::read(p)?;
            let orientation = crate::decode::exif::parse(&bytes).map(|x| x.orientation()).unwrap_or(1);
            let (image, full_size) = job::load_for_screening(&bytes, p, orientation)?;
            let decode = t0.elapsed().as_secs_f64() * 1000.0;
            let input =
                ScreenInput { image: &image, full_size, file: &bytes, modality: crate::modality::Modality::Dermoscopy };
            let s = screener.screen(&input, &Detector::ALL)?;
            let mut st = stages.lock().unwrap_or_else(|e| e.into_inner());
            st.entry("decode").or_default().push(decode);
            for (d, ms) in s.ms {
                st.entry(d.as_str()).or_default().push(ms);
            }
            Ok(())
        });
        for r in results {
            r?;
        }
        rates.push(isic.len() as f64 / t.elapsed().as_secs_f64());
    }
    let stage_ms: BTreeMap<&str, f64> = stages
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|(k, mut v)| (k, median(&mut v)))
        .collect();
    let photos_per_second = median(&mut rates);
    let job = if isic.is_empty() {
        None
    } else {
        Some(job_throughput(&shared.join("data/isic-cc0/images"), a.threads, a.repeats)?)
    };

    let report = serde_json::json!({
        "set": { "images": cases.len(), "folder": dir, "kept": a.keep.is_some() },
        "quality": quality,
        "flagged_by_group": by_group,
        "models": models,
        "throughput": {
            "photos": isic.len(),
            "threads": a.threads,
            "photos_per_second": photos_per_second,
            "runs": rates,
            "median_ms_per_photo": stage_ms,
            "goal": 5.0,
            // The same photos through the screening job the app and `dermdesk screen` run:
            // worker processes (models loaded in each), results written to SQLite.
            "job_photos_per_second": job.as_ref().map(|j| j.0),
            "job_runs": job.as_ref().map(|j| j.1.clone()),
        },
        "evaluation_seconds": eval_seconds,
        "text_read": if a.json { serde_json::to_value(&text_lines)? } else { serde_json::Value::Null },
    });
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    for (k, r) in &quality {
        println!("{k:<30} {:>4}/{:<4} {:.3}  missed: {}", r.hit, r.of, r.rate, r.missed.join(" "));
    }
    for (g, (n, of)) in &by_group {
        println!("flagged {g:<24} {n}/{of}");
    }
    for m in &models {
        println!(
            "{:<24} {:?} {} threads: tract {:.1} ms, onnxruntime {:.1} ms, ratio {:.2}, max |diff| {:.2e}",
            m.model, m.input, m.threads, m.tract_ms, m.onnxruntime_ms, m.ratio, m.max_abs_diff
        );
    }
    println!(
        "throughput: {photos_per_second:.2} photos/s on {} ISIC originals, {} threads (goal 5)",
        isic.len(),
        a.threads
    );
    if let Some((rate, _)) = job {
        println!("the screening job (worker processes, stored): {rate:.2} photos/s");
    }
    Ok(())
}

/// Photos per second of the real screening job over a folder: imported into a scratch
/// database, then screened from scratch `repeats` times (median, with each run's rate).
fn job_throughput(folder: &Path, threads: usize, repeats: usize) -> anyhow::Result<(f64, Vec<f64>)> {
    let scratch = super::tempfile_dir("dermdesk-bench-screen")?;
    let db = scratch.join("screen.sqlite");
    let progress = crate::jobs::Progress::new();
    crate::archive::import(&db, &[folder.to_path_buf()], &Default::default(), &progress)?;
    let mut rates = Vec::new();
    for _ in 0..repeats.max(1) {
        let opts = job::ScreenOptions { all: true, threads: threads.max(1), ..Default::default() };
        let r = job::run(&db, &opts, &crate::jobs::Progress::new())?;
        anyhow::ensure!(r.failed.is_empty(), "photos could not be screened: {:?}", r.failed);
        rates.push(r.photos_per_second);
    }
    let mut sorted = rates.clone();
    Ok((median(&mut sorted), rates))
}

fn yunet_raw(y: &YuNet, x: Vec<f32>) -> crate::Result<Vec<(Vec<usize>, Vec<f32>)>> {
    y.raw(x, 384, 640)
}
