//! `dermdesk occlusion`: the occlusion-sensitivity heatmap of one photo for a classifier
//! (`models::occlusion`), the same computation the viewer overlays.

use super::{Bar, print_json};
use crate::jobs::Progress;
use crate::models::occlusion::{self, Heatmap, Options};
use crate::models::registry;
use crate::store::Store;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct OcclusionArgs {
    /// The classifier's name (see `dermdesk models list`).
    #[arg(long)]
    pub model: String,
    /// Its version (default: the newest).
    #[arg(long)]
    pub version: Option<String>,
    /// The photo's id (see `dermdesk list`).
    #[arg(long)]
    pub photo: i64,
    /// The class to explain, by its key in the card (default: the most probable).
    #[arg(long)]
    pub class: Option<String>,
    /// Patch side as a fraction of the model's input side.
    #[arg(long, default_value_t = Options::default().patch)]
    pub patch: f32,
    /// Step between patches as a fraction of the patch.
    #[arg(long, default_value_t = Options::default().stride)]
    pub stride: f32,
    /// Threads running the model (default: one per core, at most 4).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Run on a photo of a modality the model's card does not name.
    #[arg(long)]
    pub force_modality: bool,
    /// One JSON object: the target class, the grid, the drops and the normalised heat.
    #[arg(long)]
    pub json: bool,
    /// Write the overlay (RGBA, the photo's full size, transparent where cold) to this PNG.
    #[arg(long, value_name = "OUT.png")]
    pub png: Option<PathBuf>,
}

fn rows(h: &Heatmap, values: &[f32]) -> Vec<Vec<f32>> {
    values.chunks(h.cols).map(|r| r.iter().map(|v| (v * 10_000.0).round() / 10_000.0).collect()).collect()
}

pub fn run(db: &Path, a: OcclusionArgs) -> anyhow::Result<()> {
    if !(0.01..=1.0).contains(&a.patch) || !(0.05..=1.0).contains(&a.stride) {
        bail!("--patch must be within 0.01..1 and --stride within 0.05..1");
    }
    if !db.exists() {
        bail!("no database here (import something first, or give --db): {}", db.display());
    }
    let mut store = Store::open(db)?;
    for p in registry::open(&mut store)? {
        eprintln!("dermdesk: {p}");
    }
    let info = registry::get(&store, &a.model, a.version.as_deref())?;
    let mut opts = Options { patch: a.patch, stride: a.stride, force_modality: a.force_modality, ..Options::default() };
    if let Some(t) = a.threads {
        opts.threads = t.max(1);
    }
    if let Some(key) = &a.class {
        let keys: Vec<&str> = info.card.labels.iter().map(|l| l.key.as_str()).collect();
        opts.target = Some(keys.iter().position(|k| k == key).with_context(|| {
            format!("{} {} has no class {key:?} (its classes: {})", info.name(), info.version(), keys.join(", "))
        })?);
    }
    let progress = Progress::new();
    let h = {
        let _bar = Bar::new(progress.clone());
        occlusion::run(&store, &crate::work::default_exe(), &info, a.photo, &opts, &progress)?
    };
    if let Some(out) = &a.png {
        h.overlay(h.photo[0], h.photo[1])
            .save_with_format(out, image::ImageFormat::Png)
            .with_context(|| format!("cannot write the overlay: {}", out.display()))?;
    }
    if a.json {
        let mut v = serde_json::to_value(&h)?;
        v["drops"] = serde_json::json!(rows(&h, &h.drops));
        v["heat"] = serde_json::json!(rows(&h, &h.heat()));
        v["peak"] = serde_json::json!({
            "col": h.peak().0, "row": h.peak().1,
            "x": h.cell_centre(h.peak().0, h.peak().1).0, "y": h.cell_centre(h.peak().0, h.peak().1).1,
        });
        return print_json(&v);
    }
    let (c, r) = h.peak();
    let (x, y) = h.cell_centre(c, r);
    outln!(
        "{} {} on photo {}: {} (p {:.3}); {}x{} patches of {}x{} px; largest drop {:.3} at x {:.0} y {:.0}; {} runs in {:.1} s",
        h.model,
        h.version,
        h.photo_id,
        h.label,
        h.p_target,
        h.cols,
        h.rows,
        h.patch[0],
        h.patch[1],
        h.max_drop,
        x,
        y,
        h.runs,
        h.seconds
    );
    for row in rows(&h, &h.heat()) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.2}")).collect();
        outln!("{}", cells.join(" "));
    }
    if let Some(out) = &a.png {
        outln!("overlay: {}", out.display());
    }
    Ok(())
}
