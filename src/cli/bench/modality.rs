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
                probe::probe_bytes(&bytes, &f, false, crate::decode::THUMB_SIZE, &Default::default()).ok()
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
