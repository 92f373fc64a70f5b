//! Model commands: `models add|list|show|remove|compare` and `infer`.

use super::{Bar, print_json};
use crate::jobs::Progress;
use crate::models::{ModelInfo, job, registry};
use crate::store::Store;
use anyhow::bail;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum ModelsCommand {
    /// Register a model: checked against its card, then copied with it into the registry.
    Add(AddArgs),
    /// Registered models, newest version first.
    List(ListArgs),
    /// One model's card and registration.
    Show(ShowArgs),
    /// Unregister one version of a model you added, with the results it stored (other versions
    /// keep theirs); the registry's copy of its files is deleted, the folder it came from is
    /// left alone. Built-in demo models cannot be removed.
    Remove(RemoveArgs),
    /// Two versions of a model on the photos both looked at. A classifier: the same most
    /// probable class or not, agreement with the chart, and every photo whose answer changed.
    /// A segmenter: Dice and IoU of the two masks, and the photos where they differ.
    Compare(CompareArgs),
}

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    pub name: String,
    /// The older version (default: the one before --to).
    #[arg(long)]
    pub from: Option<String>,
    /// The newer version (default: the newest).
    #[arg(long)]
    pub to: Option<String>,
    /// Photos whose answer changed (or whose masks differ) to list (text output; --json lists
    /// them all).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// One JSON object: model, task, from, to, photos, only_from, only_to, and for a
    /// classifier same_top, charted, from_agrees, to_agrees, now_agrees, now_disagrees,
    /// changed; for a segmenter dice and iou ({n, mean, median, min}) and differ.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct RemoveArgs {
    pub name: String,
    /// The version to remove (required: each version has its own results).
    #[arg(long)]
    pub version: String,
    /// One JSON object: name, version, results (deleted), files_left.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// The ONNX file (default: the card's `file`, beside the card).
    #[arg(value_name = "MODEL.onnx")]
    pub model: Option<PathBuf>,
    /// The model card (TOML).
    #[arg(long, value_name = "CARD.toml")]
    pub card: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// One JSON object per line per model version.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    pub name: String,
    /// A version (default: the newest).
    #[arg(long)]
    pub version: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct InferArgs {
    /// The model's name (see `dermdesk models list`).
    #[arg(long)]
    pub model: String,
    /// Its version (default: the newest).
    #[arg(long)]
    pub version: Option<String>,
    /// Parallel worker processes, each running the model single-threaded (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run again on photos that already have a result from this version.
    #[arg(long)]
    pub all: bool,
    /// Run on photos of modalities the model's card does not name too.
    #[arg(long)]
    pub force_modality: bool,
    #[command(flatten)]
    pub photos: super::read::PhotoArgs,
    /// One JSON object: inferred, skipped by reason, failed.
    #[arg(long)]
    pub json: bool,
}

fn open(db: &Path) -> anyhow::Result<Store> {
    if !db.exists() {
        bail!("no database here (import something first, or give --db): {}", db.display());
    }
    Ok(Store::open(db)?)
}

/// Opens the registry (registering the demo models), saying on stderr what went wrong with any.
fn open_registry(store: &mut Store) -> anyhow::Result<()> {
    for p in registry::open(store)? {
        eprintln!("dermdesk: {p}");
    }
    Ok(())
}

pub fn run(db: &Path, a: ModelsArgs) -> anyhow::Result<()> {
    match a.command {
        ModelsCommand::Add(a) => add(db, a),
        ModelsCommand::List(a) => list(db, a),
        ModelsCommand::Show(a) => show(db, a),
        ModelsCommand::Remove(a) => remove(db, a),
        ModelsCommand::Compare(a) => compare(db, a),
    }
}

fn compare(db: &Path, a: CompareArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    open_registry(&mut store)?;
    use crate::models::compare::{Versions, compare_any};
    let v = compare_any(&store, &a.name, a.from.as_deref(), a.to.as_deref())?;
    if a.json {
        return print_json(&v);
    }
    let c = match v {
        Versions::Classes(c) => c,
        Versions::Masks(m) => return print_masks(&m, a.limit),
    };
    let pct =
        |n: usize, of: usize| if of == 0 { "-".to_owned() } else { format!("{:.1}%", 100.0 * n as f64 / of as f64) };
    outln!(
        "{} {} → {}: {} photo(s) looked at by both ({} by {} only, {} by {} only)",
        c.model,
        c.from,
        c.to,
        c.photos,
        c.only_from,
        c.from,
        c.only_to,
        c.to
    );
    outln!("same most probable class: {} of {} ({})", c.same_top, c.photos, pct(c.same_top, c.photos));
    if c.charted == 0 {
        outln!("agrees with the chart: no photo of both has a linked diagnosis");
    } else {
        outln!(
            "agrees with the chart, of {} photo(s) with a linked diagnosis: {} {} ({}), {} {} ({}); {} now agree(s), {} \
             no longer",
            c.charted,
            c.from,
            c.from_agrees,
            pct(c.from_agrees, c.charted),
            c.to,
            c.to_agrees,
            pct(c.to_agrees, c.charted),
            c.now_agrees,
            c.now_disagrees
        );
    }
    if c.changed.is_empty() {
        return Ok(());
    }
    let agrees = |a: Option<bool>| match a {
        Some(true) => "agrees",
        Some(false) => "disagrees",
        None => "-",
    };
    outln!(
        "answer changed on {} photo(s){}:",
        c.changed.len(),
        if c.changed.len() > a.limit { format!(", the first {}", a.limit) } else { String::new() }
    );
    outln!("photo\t{}\t{}\tchart\t{}\t{}", c.from, c.to, c.from, c.to);
    for ch in c.changed.iter().take(a.limit) {
        outln!(
            "{}\t{} {:.2}\t{} {:.2}\t{}\t{}\t{}",
            ch.photo_id,
            ch.from.label,
            ch.from.p,
            ch.to.label,
            ch.to.p,
            ch.chart_code.as_deref().unwrap_or("-"),
            agrees(ch.from_agrees),
            agrees(ch.to_agrees)
        );
    }
    Ok(())
}

fn remove(db: &Path, a: RemoveArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    open_registry(&mut store)?;
    let r = registry::remove(&mut store, &a.name, &a.version)?;
    if let Some(left) = &r.files_left {
        eprintln!("dermdesk: the registry's copy of the model could not be deleted ({left})");
    }
    if a.json {
        return print_json(&r);
    }
    outln!("removed {} {} and its {} stored result(s)", r.name, r.version, r.results);
    Ok(())
}

fn print_masks(m: &crate::models::compare::MaskComparison, limit: usize) -> anyhow::Result<()> {
    outln!(
        "{} {} → {}: {} photo(s) with a mask of both ({} by {} only, {} by {} only)",
        m.model,
        m.from,
        m.to,
        m.photos,
        m.only_from,
        m.from,
        m.only_to,
        m.to
    );
    if m.photos == 0 {
        return Ok(());
    }
    outln!(
        "Dice of the two masks: median {:.3}, mean {:.3}, lowest {:.3}; IoU mean {:.3}",
        m.dice.median,
        m.dice.mean,
        m.dice.min,
        m.iou.mean
    );
    outln!(
        "masks differ (Dice below {}) on {} photo(s){}:",
        crate::models::compare::DIFFER_BELOW,
        m.differ.len(),
        if m.differ.len() > limit { format!(", the first {limit}") } else { String::new() }
    );
    if m.differ.is_empty() {
        return Ok(());
    }
    outln!("photo\tDice\t{} share\t{} share", m.from, m.to);
    for d in m.differ.iter().take(limit) {
        outln!("{}\t{:.3}\t{:.3}\t{:.3}", d.photo_id, d.dice, d.from_share, d.to_share);
    }
    Ok(())
}

fn summary_json(m: &ModelInfo, results: u64) -> serde_json::Value {
    let c = &m.card;
    serde_json::json!({
        "name": c.name,
        "version": c.version,
        "task": c.task.as_str(),
        "labels": c.labels,
        "modalities": c.modalities,
        "input": {
            "name": c.input.name, "width": c.input.width, "height": c.input.height,
            "layout": c.input.layout, "colour": c.input.colour, "resize": c.input.resize,
            "interpolation": c.input.interpolation, "colour_constancy": c.input.colour_constancy,
        },
        "output": {"name": c.output.name, "kind": c.output.kind.as_str()},
        "description": c.description,
        "not_for_clinical_use": c.not_for_clinical_use,
        "builtin": m.builtin,
        "added_at": m.added_at,
        "added_by": m.added_by,
        "dir": m.dir,
        "model_hash": m.model_hash,
        "results": results,
    })
}

fn labels_text(m: &ModelInfo) -> String {
    if m.card.labels.is_empty() { String::new() } else { format!(", {} labels", m.card.labels.len()) }
}

fn result_counts(store: &Store) -> anyhow::Result<std::collections::HashMap<i64, u64>> {
    Ok(store.model_result_counts()?.into_iter().collect())
}

fn add(db: &Path, a: AddArgs) -> anyhow::Result<()> {
    let mut store = Store::open(db)?;
    open_registry(&mut store)?;
    let m = registry::add(&mut store, &a.card, a.model.as_deref())?;
    if a.json {
        return print_json(&summary_json(&m, 0));
    }
    outln!(
        "registered {} {} ({}{}, input {}x{}) in {}",
        m.name(),
        m.version(),
        m.card.task.as_str(),
        labels_text(&m),
        m.card.input.width,
        m.card.input.height,
        m.dir.display()
    );
    Ok(())
}

fn list(db: &Path, a: ListArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    open_registry(&mut store)?;
    let counts = result_counts(&store)?;
    for m in registry::list(&store)? {
        let n = counts.get(&m.id).copied().unwrap_or(0);
        if a.json {
            print_json(&summary_json(&m, n))?;
        } else {
            let modalities: Vec<&str> = m.card.modalities.iter().map(|m| m.as_str()).collect();
            outln!(
                "{}\t{}\t{}{}\t{}\t{}x{}\t{} result(s){}",
                m.name(),
                m.version(),
                m.card.task.as_str(),
                labels_text(&m),
                modalities.join(","),
                m.card.input.width,
                m.card.input.height,
                n,
                if m.builtin { "\tbuilt in" } else { "" }
            );
        }
    }
    Ok(())
}

fn show(db: &Path, a: ShowArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    open_registry(&mut store)?;
    let m = registry::get(&store, &a.name, a.version.as_deref())?;
    let counts = result_counts(&store)?;
    let versions: Vec<String> =
        registry::list(&store)?.into_iter().filter(|x| x.name() == m.name()).map(|x| x.version().to_owned()).collect();
    if a.json {
        let mut v = summary_json(&m, counts.get(&m.id).copied().unwrap_or(0));
        v["versions"] = serde_json::json!(versions);
        v["training"] = serde_json::to_value(&m.card.training)?;
        v["metrics"] = serde_json::to_value(&m.card.metrics)?;
        return print_json(&v);
    }
    let c = &m.card;
    outln!("{} {} — {} (not for clinical use)", c.name, c.version, c.task.as_str());
    if !c.description.is_empty() {
        outln!("{}", c.description);
    }
    outln!("versions: {}", versions.join(", "));
    let modalities: Vec<&str> = c.modalities.iter().map(|m| m.as_str()).collect();
    outln!("for: {}", modalities.join(", "));
    outln!(
        "input {:?}: {} {}x{} {}, {} ({}), mean {:?}, std {:?}",
        c.input.name,
        c.input.layout.as_str(),
        c.input.width,
        c.input.height,
        c.input.colour.as_str(),
        c.input.resize.as_str(),
        c.input.interpolation.as_str(),
        c.input.mean,
        c.input.std
    );
    if let Some(cc) = c.input.colour_constancy {
        outln!("colour constancy before mean/std: {}", cc.describe());
    }
    outln!("output {:?}: {}", c.output.name, c.output.kind.as_str());
    for (i, l) in c.labels.iter().enumerate() {
        outln!(
            "  {i}\t{}\t{}\t{}\t{}{}",
            l.key,
            l.code.as_deref().unwrap_or("-"),
            l.group.map(|g| g.as_str()).unwrap_or("-"),
            l.en,
            l.ja.as_deref().map(|j| format!(" / {j}")).unwrap_or_default()
        );
    }
    outln!("training: {}; licence: {}", c.training.data, c.training.licence);
    for (k, v) in &c.metrics {
        outln!("  {k}: {}", serde_json::to_string(v).unwrap_or_default());
    }
    outln!(
        "{} photo(s) with results; added {} by {}{}; {}",
        counts.get(&m.id).copied().unwrap_or(0),
        m.added_at,
        m.added_by,
        if m.builtin { " (built in)" } else { "" },
        m.dir.display()
    );
    Ok(())
}

pub fn infer(db: &Path, a: InferArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    open_registry(&mut store)?;
    drop(store);
    let mut opts = job::InferOptions::new(&a.model);
    opts.version = a.version;
    opts.all = a.all;
    opts.force_modality = a.force_modality;
    opts.filter = a.photos.filter();
    if let Some(t) = a.threads {
        opts.threads = t.max(1);
    }
    let progress = Progress::new();
    let report = {
        let _bar = Bar::new(progress.clone());
        job::run(db, &opts, &progress)?
    };
    for (id, why) in &report.failed {
        eprintln!("dermdesk: photo {id} could not be inferred: {why}");
    }
    if a.json {
        return print_json(&report);
    }
    let skipped: Vec<String> = report.skipped.iter().map(|(k, n)| format!("{k} {n}")).collect();
    outln!(
        "inferred {} photo(s) with {} {} in {:.1} s ({:.2}/s); skipped: {}; {} failed{}",
        report.inferred,
        report.model,
        report.version,
        report.seconds,
        report.photos_per_second,
        if skipped.is_empty() { "none".to_owned() } else { skipped.join(", ") },
        report.failed.len(),
        if report.cancelled { " (cancelled)" } else { "" }
    );
    Ok(())
}
