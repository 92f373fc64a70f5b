//! `dermdesk bench occlusion`: the viewer's "what the model looked at" heatmap
//! (`models::occlusion::run`, the defaults the app uses) with the demo classifier on real
//! HAM10000 photos: seconds per photo (median) with one thread and with `--threads`, and the
//! batch question behind its design: a tract plan built for a batch of N against the plan
//! for one image, milliseconds per image.
//!
//! The photos go into a database of their own, marked screened and cleared by the benchmark
//! (the gate lets only such photos reach a model).

use super::median;
use crate::jobs::Progress;
use crate::models::occlusion::{self, Options};
use crate::models::{DEMO_CLASSIFIER, preprocess, registry};
use crate::store::Store;
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use tract_onnx::prelude::*;

#[derive(Serialize)]
struct PerThreads {
    threads: usize,
    seconds_per_photo_median: f64,
    ms_per_run_median: f64,
}

#[derive(Serialize)]
struct BatchPlan {
    batch: usize,
    ms_per_image_median: f64,
}

#[derive(Serialize)]
struct Figures {
    model: String,
    photos: usize,
    grid: [usize; 2],
    runs_per_photo: usize,
    heatmap: Vec<PerThreads>,
    batch_plans: Vec<BatchPlan>,
}

/// Milliseconds per image of a plan built for `n` images at once (the card's input size).
fn batch_plan(onnx: &[u8], card: &crate::models::Card, n: usize, repeats: usize) -> anyhow::Result<f64> {
    let [_, a, b, c] = preprocess::shape(&card.input);
    let model = tract_onnx::onnx().model_for_read(&mut std::io::Cursor::new(onnx))?;
    let out = model.output_outlets()?.to_vec();
    let names: Vec<String> =
        out.iter().map(|o| model.outlet_label(*o).unwrap_or(&model.node(o.node).name).to_owned()).collect();
    let at = names.iter().position(|x| *x == card.output.name).unwrap_or(0);
    let t = Tensor::from_shape(&[n, a, b, c], &vec![0.1f32; n * a * b * c])?;
    let model = model
        .with_output_outlets(&[out[at]])?
        .with_output_fact(0, InferenceFact::default())?
        .with_input_fact(0, f32::fact([n, a, b, c]).into())?;
    let plan = crate::tract_kernels::optimise(model)?.into_runnable()?;
    plan.run(tvec!(t.clone().into()))?;
    let mut ms = Vec::new();
    for _ in 0..repeats.max(1) {
        let s = Instant::now();
        plan.run(tvec!(t.clone().into()))?;
        ms.push(s.elapsed().as_secs_f64() * 1000.0 / n as f64);
    }
    Ok(median(&mut ms))
}

pub fn run(shared: &Path, photos: usize, threads: usize, json: bool) -> anyhow::Result<()> {
    let work = super::tempfile_dir("dermdesk-bench-occlusion")?;
    let db = work.join("bench.sqlite");
    let images = super::jpegs(&shared.join("data/ham10000/images"))?;
    anyhow::ensure!(!images.is_empty(), "no HAM10000 image in the shared folder");
    // A spread of the archive, not its first files.
    let step = (images.len() / photos.max(1)).max(1);
    let picked: Vec<_> = images.into_iter().step_by(step).take(photos).collect();
    crate::archive::import(&db, &picked, &crate::archive::ImportOptions::default(), &Progress::new())?;
    let mut store = Store::open(&db)?;
    registry::open(&mut store)?;
    let ids = store.grid_ids(&Default::default())?;
    super::cleared_for_bench(&mut store, &ids)?;
    let info = registry::get(&store, DEMO_CLASSIFIER, None)?;
    let exe = crate::work::default_exe();

    let mut figures = Figures {
        model: format!("{} {}", info.name(), info.version()),
        photos: ids.len(),
        grid: [0, 0],
        runs_per_photo: 0,
        heatmap: Vec::new(),
        batch_plans: Vec::new(),
    };
    let mut counts = vec![1];
    if threads > 1 {
        counts.push(threads);
    }
    for t in counts {
        let opts = Options { threads: t, force_modality: true, ..Options::default() };
        let (mut secs, mut per_run) = (Vec::new(), Vec::new());
        for &id in &ids {
            let s = Instant::now();
            let h = occlusion::run(&store, &exe, &info, id, &opts, &Progress::new())?;
            secs.push(s.elapsed().as_secs_f64());
            per_run.push(h.seconds * 1000.0 / h.runs as f64);
            figures.grid = [h.cols, h.rows];
            figures.runs_per_photo = h.runs;
        }
        figures.heatmap.push(PerThreads {
            threads: t,
            seconds_per_photo_median: median(&mut secs),
            ms_per_run_median: median(&mut per_run),
        });
    }
    let onnx = std::fs::read(&info.model_path)?;
    for n in [1, 4, 8] {
        figures.batch_plans.push(BatchPlan { batch: n, ms_per_image_median: batch_plan(&onnx, &info.card, n, 5)? });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }
    println!(
        "{} on {} HAM10000 photos, {}x{} patches ({} runs a photo):",
        figures.model, figures.photos, figures.grid[0], figures.grid[1], figures.runs_per_photo
    );
    for f in &figures.heatmap {
        println!(
            "  {} thread(s): {:.2} s a photo (median), {:.1} ms a run",
            f.threads, f.seconds_per_photo_median, f.ms_per_run_median
        );
    }
    for b in &figures.batch_plans {
        println!(
            "  tract plan for a batch of {}: {:.1} ms an image (median, one thread)",
            b.batch, b.ms_per_image_median
        );
    }
    Ok(())
}
