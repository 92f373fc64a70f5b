//! `dermdesk bench models`: each shipped demo model in tract against onnxruntime (Python, the
//! same model, input tensor and thread count: latency ratio and largest output difference),
//! and batch inference with the job the app runs (`dermdesk infer`): photos per second and
//! peak memory of this process and of the worker processes.
//!
//! The batch runs on a database of its own whose photos are marked screened and cleared by
//! the benchmark (the release gate lets only such photos reach a model; screening itself is
//! measured by `bench privacy`).

use super::median;
use super::privacy::{ModelFigure, compare, input_path, onnxruntime_peer};
use crate::jobs::Progress;
use crate::models::{ModelTask, job, net, preprocess, registry};
use crate::store::Store;
use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

#[derive(Serialize)]
struct Batch {
    model: String,
    photos: usize,
    threads: usize,
    seconds: f64,
    photos_per_second: f64,
    app_peak_rss_mib: f64,
    worker_peak_rss_mib: f64,
}

/// tract's time per operator kind on one photo (median of the repeats).
#[derive(Serialize)]
struct OpTime {
    model: String,
    op: String,
    nodes: usize,
    ms: f64,
}

/// One of onnxruntime's slowest nodes (`--nodes N`): its name in the optimised graph, operator,
/// shapes (its first two inputs, data and weights, then its output) and median time per run.
#[derive(Serialize, serde::Deserialize)]
struct PeerNode {
    #[serde(skip_deserializing)]
    model: String,
    name: String,
    op: String,
    shapes: Vec<Vec<i64>>,
    ms: f64,
}

#[derive(Serialize)]
struct Figures {
    models: Vec<Rounds>,
    tract_profile: Vec<OpTime>,
    onnxruntime_profile: Vec<PeerNode>,
    batch: Vec<Batch>,
}

/// tract against onnxruntime over several rounds, each a `compare` (tract's repeats, then
/// onnxruntime's in a fresh process): medians of the rounds, the ratio's range, the largest
/// difference between the two runtimes' outputs.
#[derive(Serialize)]
struct Rounds {
    model: String,
    input: Vec<usize>,
    threads: usize,
    rounds: usize,
    tract_ms: f64,
    onnxruntime_ms: f64,
    /// The median of the rounds' ratios (each tract's time over onnxruntime's, side by side).
    ratio: f64,
    ratios: Vec<f64>,
    max_abs_diff: f32,
}

impl Rounds {
    fn of(figures: Vec<ModelFigure>) -> anyhow::Result<Rounds> {
        let first = figures.first().context("no round")?;
        let median_of = |f: &dyn Fn(&ModelFigure) -> f64| median(&mut figures.iter().map(f).collect::<Vec<_>>());
        Ok(Rounds {
            model: first.model.clone(),
            input: first.input.clone(),
            threads: first.threads,
            rounds: figures.len(),
            tract_ms: median_of(&|f| f.tract_ms),
            onnxruntime_ms: median_of(&|f| f.onnxruntime_ms),
            ratio: median_of(&|f| f.ratio),
            ratios: figures.iter().map(|f| f.ratio).collect(),
            max_abs_diff: figures.iter().map(|f| f.max_abs_diff).fold(0.0, f32::max),
        })
    }
}

/// onnxruntime's `n` slowest nodes on the input tensor `compare` saved for `name`, from its
/// own profiler (`scripts/ort_reference.py --profile`), one thread.
fn peer_nodes(name: &str, model: &Path, n: usize, repeats: usize, work: &Path) -> anyhow::Result<Vec<PeerNode>> {
    let out_dir = work.join(format!("{name}-ort-profile"));
    let meta = onnxruntime_peer(model, &input_path(work, name), &out_dir, 1, repeats, n)?;
    let mut nodes: Vec<PeerNode> = serde_json::from_value(meta["nodes"].clone())?;
    for node in &mut nodes {
        node.model = name.to_owned();
    }
    Ok(nodes)
}

/// `nodes`: how many of tract's slowest nodes to show for each model (0: the four slowest
/// operator kinds instead).
pub fn run(
    shared: &Path,
    photos: usize,
    threads: usize,
    repeats: usize,
    rounds: usize,
    nodes: usize,
    json: bool,
) -> anyhow::Result<()> {
    let work = super::tempfile_dir("dermdesk-bench-models")?;
    let db = work.join("bench.sqlite");
    let mut store = Store::open(&db)?;
    registry::open(&mut store)?;
    let models: Vec<_> =
        registry::list(&store)?.into_iter().filter(|m| m.builtin && m.card.task != ModelTask::Embedding).collect();
    anyhow::ensure!(!models.is_empty(), "no demo model is built in (assets/models/*/card.toml)");
    let images = super::jpegs(&shared.join("data/ham10000/images"))?;
    let first = images.first().context("no HAM10000 image in the shared folder")?;
    let img = image::open(first).with_context(|| format!("cannot read {}", first.display()))?.to_rgb8();

    // tract against onnxruntime, one thread each, the same real input tensor.
    let mut figures =
        Figures { models: Vec::new(), tract_profile: Vec::new(), onnxruntime_profile: Vec::new(), batch: Vec::new() };
    for m in &models {
        let loaded = net::load(&m.card, &std::fs::read(&m.model_path)?)?;
        let input = preprocess::tensor(&img, &m.card.input);
        let shape = preprocess::shape(&m.card.input);
        let run = |t: Vec<f32>| -> crate::Result<Vec<(Vec<usize>, Vec<f32>)>> {
            let out = loaded.run_tensor(&t).map_err(crate::Error::Invalid)?;
            Ok(vec![(Vec::new(), out)])
        };
        let each = (0..rounds.max(1))
            .map(|_| compare(&m.card.name, &m.model_path, &shape, &input, 1, repeats, run, &work))
            .collect::<anyhow::Result<Vec<_>>>()?;
        figures.models.push(Rounds::of(each)?);
        let ops = loaded.profile(&input, repeats, nodes > 0).map_err(crate::Error::Invalid)?;
        figures.tract_profile.extend(
            ops.into_iter().take(if nodes > 0 { nodes } else { 4 }).map(|(op, ms, nodes)| OpTime {
                model: m.card.name.clone(),
                op,
                nodes,
                ms,
            }),
        );
        if nodes > 0 {
            figures.onnxruntime_profile.extend(peer_nodes(&m.card.name, &m.model_path, nodes, repeats, &work)?);
        }
    }

    // Batch inference over `photos` real photos, every model in turn.
    let picked: Vec<_> = images.into_iter().take(photos).collect();
    drop(store);
    let r = crate::archive::import(&db, &picked, &crate::archive::ImportOptions::default(), &Progress::new())?;
    eprintln!("imported {} photos", r.counts.new_photos);
    let mut store = Store::open(&db)?;
    let ids = store.grid_ids(&Default::default())?;
    super::cleared_for_bench(&mut store, &ids)?;
    drop(store);
    for m in &models {
        let mut opts = job::InferOptions::new(&m.card.name);
        opts.threads = threads;
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let t = Instant::now();
        let rep = job::run(&db, &opts, &Progress::new())?;
        let seconds = t.elapsed().as_secs_f64();
        anyhow::ensure!(rep.failed.is_empty(), "{} photos failed: {:?}", rep.failed.len(), rep.failed.first());
        let mib = |b: Option<u64>| b.map(|b| b as f64 / 1048576.0).unwrap_or(f64::NAN);
        figures.batch.push(Batch {
            model: m.card.name.clone(),
            photos: rep.inferred,
            threads,
            seconds,
            photos_per_second: rep.inferred as f64 / seconds,
            app_peak_rss_mib: mib(crate::util::peak_rss_bytes()),
            worker_peak_rss_mib: mib(crate::util::children_peak_rss_bytes()),
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }
    for f in &figures.models {
        println!(
            "{:<18} {:?} {} thread: tract {:.1} ms, onnxruntime {:.1} ms, ratio {:.2}, max |diff| {:.2e} (medians of {} rounds; ratios {:.2}–{:.2})",
            f.model,
            f.input,
            f.threads,
            f.tract_ms,
            f.onnxruntime_ms,
            f.ratio,
            f.max_abs_diff,
            f.rounds,
            f.ratios.iter().copied().fold(f64::INFINITY, f64::min),
            f.ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
    }
    for o in &figures.tract_profile {
        if nodes > 0 {
            println!("{:<18} {:>6.3} ms  {}", o.model, o.ms, o.op);
        } else {
            println!("{:<18} tract time in {} ({} nodes): {:.1} ms", o.model, o.op, o.nodes, o.ms);
        }
    }
    for p in &figures.onnxruntime_profile {
        println!("{:<18} {:>6.3} ms  onnxruntime {} {:?} ({})", p.model, p.ms, p.op, p.shapes, p.name);
    }
    for b in &figures.batch {
        println!(
            "{:<18} {} photos, {} worker processes: {:.1} s, {:.1} photos/s; peak RSS app {:.0} MiB, largest worker {:.0} MiB",
            b.model, b.photos, b.threads, b.seconds, b.photos_per_second, b.app_peak_rss_mib, b.worker_peak_rss_mib
        );
    }
    Ok(())
}
