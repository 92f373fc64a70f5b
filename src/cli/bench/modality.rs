//! Precision and recall of the modality cues (rules off) on the labelled shared data, through
//! the same probe the decoder workers run at import.

use crate::decode::probe;
use crate::modality::{Modality, classify};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

struct Source {
    name: &'static str,
    dir: &'static str,
    truth: Modality,
}

const SOURCES: &[Source] = &[
    Source { name: "ham10000", dir: "data/ham10000/images", truth: Modality::Dermoscopy },
    Source { name: "ph2", dir: "data/ph2/images", truth: Modality::Dermoscopy },
    Source { name: "isic-cc0", dir: "data/isic-cc0/images", truth: Modality::Dermoscopy },
    Source { name: "clinical-padufes", dir: "data/clinical-padufes", truth: Modality::Clinical },
    Source { name: "histopathology-he", dir: "data/histopathology-he", truth: Modality::Histopathology },
    Source { name: "metadata (ordinary photos)", dir: "corpora/metadata", truth: Modality::Other },
];

pub fn run(shared: &Path, json: bool) -> anyhow::Result<()> {
    // confusion[truth][predicted]
    let mut confusion: BTreeMap<Modality, BTreeMap<Modality, u64>> = BTreeMap::new();
    let mut per_source: Vec<(String, Modality, BTreeMap<Modality, u64>)> = Vec::new();
    let mut skipped = 0u64;
    for s in SOURCES {
        let files: Vec<PathBuf> = walkdir::WalkDir::new(shared.join(s.dir))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .filter(|p| !p.extension().is_some_and(|e| e == "csv" || e == "md" || e == "txt" || e == "xlsx"))
            .collect();
        let mut row: BTreeMap<Modality, u64> = BTreeMap::new();
        for f in files {
            let probed = std::fs::read(&f).ok().and_then(|bytes| {
                probe::probe_bytes(&bytes, &f, false, crate::decode::THUMB_SIZE, &Default::default(), None).ok()
            });
            let Some((p, _)) = probed else {
                skipped += 1; // not an image (a profile, a broken test file): not part of the measure
                continue;
            };
            let (m, _) = classify(&p.cues.unwrap_or_default(), p.width, p.height, &[]);
            *row.entry(m).or_default() += 1;
            *confusion.entry(s.truth).or_default().entry(m).or_default() += 1;
        }
        per_source.push((s.name.to_owned(), s.truth, row));
    }
    let count = |t: Modality, p: Modality| confusion.get(&t).and_then(|r| r.get(&p)).copied().unwrap_or(0);
    let mut table = Vec::new();
    for m in Modality::ALL {
        let tp = count(m, m);
        let truth: u64 = confusion.get(&m).map(|r| r.values().sum()).unwrap_or(0);
        let predicted: u64 = Modality::ALL.iter().map(|&t| count(t, m)).sum();
        let precision = if predicted == 0 { f64::NAN } else { tp as f64 / predicted as f64 };
        let recall = if truth == 0 { f64::NAN } else { tp as f64 / truth as f64 };
        table.push((m, truth, predicted, precision, recall));
    }
    if json {
        let v = serde_json::json!({
            "per_modality": table.iter().map(|(m, t, p, pr, re)| serde_json::json!({
                "modality": m.as_str(), "true": t, "predicted": p,
                "precision": if pr.is_nan() { None } else { Some(pr) },
                "recall": if re.is_nan() { None } else { Some(re) },
            })).collect::<Vec<_>>(),
            "per_source": per_source.iter().map(|(n, t, row)| serde_json::json!({
                "source": n, "truth": t.as_str(),
                "predicted": row.iter().map(|(m, c)| (m.as_str().to_owned(), *c)).collect::<BTreeMap<_, _>>(),
            })).collect::<Vec<_>>(),
            "skipped_not_images": skipped,
        });
        outln!("{v}");
        return Ok(());
    }
    outln!("modality cues on the shared data (folder rules off), {skipped} non-image file(s) skipped");
    outln!("{:<16} {:>7} {:>10} {:>10} {:>8}", "modality", "true", "predicted", "precision", "recall");
    for (m, t, p, pr, re) in &table {
        let f = |x: f64| if x.is_nan() { "-".to_owned() } else { format!("{x:.3}") };
        outln!("{:<16} {t:>7} {p:>10} {:>10} {:>8}", m.as_str(), f(*pr), f(*re));
    }
    outln!();
    let header: Vec<&str> = Modality::ALL.iter().map(|m| m.as_str()).collect();
    outln!("{:<28} {:<15} {}", "source", "truth", header.iter().map(|h| format!("{h:>16}")).collect::<String>());
    for (n, t, row) in &per_source {
        let cells: String = Modality::ALL.iter().map(|m| format!("{:>16}", row.get(m).copied().unwrap_or(0))).collect();
        outln!("{n:<28} {:<15} {cells}", t.as_str());
    }
    Ok(())
}

/// Import speed with and without the modality model, on the first `photos` HAM10000 images
/// (by name) copied into a temporary folder, runs alternating, medians of `repeats`.
pub fn import_speed(shared: &Path, photos: usize, threads: usize, repeats: usize, json: bool) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(shared.join("data/ham10000/images"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    files.sort();
    files.truncate(photos);
    let work = super::tempfile_dir("dermdesk-bench-modality")?;
    let dir = work.join("photos");
    std::fs::create_dir_all(&dir)?;
    for f in &files {
        std::fs::copy(f, dir.join(f.file_name().unwrap_or_default()))?;
    }
    let exe = std::env::current_exe()?;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let mut sorted = BTreeMap::<String, u64>::new();
    for r in 0..repeats {
        for model in [false, true] {
            let db = work.join(format!("run-{r}-{model}.sqlite"));
            let mut cmd = std::process::Command::new(&exe);
            cmd.arg("--db").arg(&db).args(["import", "--json", "--threads", &threads.to_string()]);
            if !model {
                cmd.arg("--no-modality-model");
            }
            let t = std::time::Instant::now();
            let out = cmd.arg(&dir).output()?;
            let secs = t.elapsed().as_secs_f64();
            anyhow::ensure!(out.status.success(), "the import failed: {}", String::from_utf8_lossy(&out.stderr));
            (if model { &mut with } else { &mut without }).push(files.len() as f64 / secs);
            if model && r == 0 {
                let store = crate::store::Store::open(&db)?;
                for (k, n) in store.stats()?.by_modality {
                    sorted.insert(k, n);
                }
            }
        }
    }
    let (w, wo) = (super::median(&mut with), super::median(&mut without));
    if json {
        return crate::cli::print_json(&serde_json::json!({
            "photos": files.len(), "threads": threads, "repeats": repeats,
            "with_model_photos_per_s": w, "cues_only_photos_per_s": wo, "ratio": w / wo,
            "modalities_with_model": sorted,
        }));
    }
    outln!("import of {} HAM10000 photos, {threads} decoder process(es), median of {repeats} runs each", files.len());
    outln!("rules + cues only            {wo:>8.1} photos/s");
    outln!("rules + modality model + cues {w:>7.1} photos/s  (ratio {:.3})", w / wo);
    outln!("sorted with the model: {sorted:?}");
    Ok(())
}

/// The training script's held-out images (`heldout.csv`: each image predicted by a probe that
/// never saw its group) side by side: the image cues (VISIA sizes none), the held-out model
/// alone, and the import's decision (model when sure, else cues), per modality.
pub fn heldout(shared: &Path, csv_path: &Path, json: bool) -> anyhow::Result<()> {
    let mut rd = csv::Reader::from_path(csv_path)?;
    let head = rd.headers()?.clone();
    let col = |name: &str| head.iter().position(|h| h == name).ok_or_else(|| anyhow::anyhow!("no column {name}"));
    let (c_path, c_mod, c_pred, c_p) = (col("path")?, col("modality")?, col("predicted")?, col("p")?);
    let systems = ["cues", "model (held out)", "import: model, cues below threshold"];
    // confusion[system][(truth, predicted)]
    let mut conf: Vec<BTreeMap<(Modality, Modality), u64>> = vec![BTreeMap::new(); systems.len()];
    let mut fell_back = 0u64;
    // (truth, model's guess, its probability, the cues' call) per image, for the sweep below.
    let mut seen: Vec<(Modality, Modality, f32, Modality)> = Vec::new();
    for row in rd.records() {
        let row = row?;
        let truth = Modality::parse(&row[c_mod]).ok_or_else(|| anyhow::anyhow!("bad modality {}", &row[c_mod]))?;
        let model = Modality::parse(&row[c_pred]).ok_or_else(|| anyhow::anyhow!("bad modality {}", &row[c_pred]))?;
        let p: f32 = row[c_p].parse()?;
        let f = shared.join(&row[c_path]);
        let bytes = std::fs::read(&f).map_err(|e| anyhow::anyhow!("{e}: {}", f.display()))?;
        let (probe, _) = probe::probe_bytes(&bytes, &f, false, crate::decode::THUMB_SIZE, &Default::default(), None)
            .map_err(|e| anyhow::anyhow!("{e}: {}", f.display()))?;
        let mut cues = probe.cues.unwrap_or_default();
        let (by_cues, _) = classify(&cues, probe.width, probe.height, &[]);
        cues.model = Some(crate::modality::ModelGuess { modality: model, p, version: None });
        let (by_import, source, _) = crate::modality::decide(&[], &[], None, &cues, probe.width, probe.height);
        fell_back += u64::from(source == crate::modality::ModalitySource::Cue);
        for (i, m) in [by_cues, model, by_import].into_iter().enumerate() {
            *conf[i].entry((truth, m)).or_default() += 1;
        }
        seen.push((truth, model, p, by_cues));
    }
    let sweep: Vec<serde_json::Value> =
        FALLBACK_SWEEP.iter().map(|&t| fallback_at(&seen, t, t == crate::modality::model::FALLBACK_BELOW)).collect();
    let mut out = Vec::new();
    for (i, name) in systems.iter().enumerate() {
        let c = &conf[i];
        let n = |t: Option<Modality>, p: Option<Modality>| -> u64 {
            c.iter().filter(|((a, b), _)| t.is_none_or(|t| t == *a) && p.is_none_or(|p| p == *b)).map(|(_, v)| v).sum()
        };
        for m in [Modality::Clinical, Modality::Dermoscopy, Modality::Histopathology, Modality::Other] {
            let (tp, truth, pred) = (n(Some(m), Some(m)), n(Some(m), None), n(None, Some(m)));
            out.push(serde_json::json!({
                "system": name, "modality": m.as_str(), "images": truth, "predicted": pred,
                "recall": tp as f64 / truth.max(1) as f64, "precision": if pred == 0 { None } else { Some(tp as f64 / pred as f64) },
            }));
        }
    }
    if json {
        return crate::cli::print_json(
            &serde_json::json!({ "per_modality": out, "fell_back_to_cues": fell_back, "fallback_sweep": sweep }),
        );
    }
    outln!("held-out images of {} ({fell_back} fell back to the cues)", csv_path.display());
    outln!("{:<40} {:<15} {:>7} {:>9} {:>8} {:>9}", "system", "modality", "images", "predicted", "recall", "precision");
    for r in &out {
        let f = |v: &serde_json::Value| v.as_f64().map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
        outln!(
            "{:<40} {:<15} {:>7} {:>9} {:>8} {:>9}",
            r["system"].as_str().unwrap_or(""),
            r["modality"].as_str().unwrap_or(""),
            r["images"].as_u64().unwrap_or(0),
            r["predicted"].as_u64().unwrap_or(0),
            f(&r["recall"]),
            f(&r["precision"])
        );
    }
    outln!(
        "the import's decision if the cues decided below another threshold (the worst over the modalities present):"
    );
    outln!("{:>10} {:>12} {:>13} {:>16}", "threshold", "fell back", "worst recall", "worst precision");
    for r in &sweep {
        outln!(
            "{:>10} {:>12} {:>13.3} {:>16.3}{}",
            format!("{:.2}", r["threshold"].as_f64().unwrap_or(0.0)),
            r["fell_back"].as_u64().unwrap_or(0),
            r["worst_recall"].as_f64().unwrap_or(0.0),
            r["worst_precision"].as_f64().unwrap_or(0.0),
            if r["app"].as_bool() == Some(true) { "  (the app's)" } else { "" }
        );
    }
    Ok(())
}

/// Thresholds `bench modality --heldout` tries for the model's fallback to the cues (0: never).
const FALLBACK_SWEEP: [f32; 7] = [0.0, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7];

/// The import's decision with the cues deciding below `t`: how many fell back, and the worst
/// recall and precision over the modalities the images hold.
fn fallback_at(seen: &[(Modality, Modality, f32, Modality)], t: f32, app: bool) -> serde_json::Value {
    let call = |&(_, m, p, c): &(Modality, Modality, f32, Modality)| if p >= t { m } else { c };
    let present: std::collections::BTreeSet<Modality> = seen.iter().map(|s| s.0).collect();
    let (mut worst_recall, mut worst_precision) = (1f64, 1f64);
    for &m in &present {
        let tp = seen.iter().filter(|s| s.0 == m && call(s) == m).count() as f64;
        let truth = seen.iter().filter(|s| s.0 == m).count() as f64;
        let pred = seen.iter().filter(|s| call(s) == m).count() as f64;
        worst_recall = worst_recall.min(tp / truth);
        worst_precision = worst_precision.min(if pred == 0.0 { 0.0 } else { tp / pred });
    }
    serde_json::json!({
        "threshold": t, "app": app, "fell_back": seen.iter().filter(|s| s.2 < t).count(),
        "worst_recall": worst_recall, "worst_precision": worst_precision,
    })
}
