//! `dermdesk bench`: the figures the foundation promises, each as medians and ratios against
//! a named peer run side by side on the same files and thread count. Not timed tests: run
//! them by hand (release build) and read the table.
//!
//! - `thumbs`: thumbnails per second against `vipsthumbnail` (libvips) on the ISIC camera
//!   files, and on large JPEGs with and without an embedded EXIF thumbnail made from them.
//! - `import`: import of a folder (default HAM10000, 10,015 files) against just reading and
//!   hashing the same files; peak RSS.
//! - `browser`: the real app over a 100,000-photo database (synthetic rows): time to first
//!   frame, frame times while scrolling (UI build + tessellation, headless), peak RSS.
//! - `modality`: precision and recall of the modality cues on the labelled shared data.

mod annotate;
mod browser;
mod charts;
mod frames;
mod masks;
mod modality;
mod models;
mod occlusion;
mod privacy;

use crate::thumbs::{self as thumb_job, ThumbOptions};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: Which,
}

#[derive(clap::Subcommand, Debug)]
pub enum Which {
    /// Thumbnails per second against vipsthumbnail.
    Thumbs {
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 5)]
        repeats: usize,
        /// The shared data folder (default: DERMDESK_SHARED, then ../shared).
        #[arg(long)]
        shared: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Import speed against read+hash, and peak memory; with --copies, the same folder
    /// copied N times (a byte changed in each copy, so every file is new) beside it.
    Import {
        /// Folder to import (default: the shared HAM10000 images).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Also import N copies of the folder at once (e.g. 10: 100,150 HAM10000 files).
        #[arg(long)]
        copies: Option<usize>,
        /// Import with folder rules and cues only (as `import --no-modality-model`).
        #[arg(long)]
        no_modality_model: bool,
        #[arg(long)]
        shared: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Frame times of the app while it imports a folder and a person changes modalities.
    Frames {
        /// Folder to import (default: the shared HAM10000 images).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        shared: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The browser over large synthetic databases.
    Browser {
        /// Archive sizes to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [100_000usize, 1_000_000])]
        photos: Vec<usize>,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 600)]
        frames: usize,
        /// Keep the synthetic database here (to open it in the app) instead of deleting it.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
    /// Chart import (1,000,000 CP932 rows) against pandas, linking, link precision/recall.
    Charts {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        #[arg(long, default_value_t = 100_000)]
        photos: usize,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        #[arg(long)]
        json: bool,
    },
    /// Privacy screening: sensitivity and false alarms on a labelled set built from the shared
    /// images, each model in tract against onnxruntime, throughput on the ISIC originals.
    Privacy {
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Keep the labelled set here (to look at it) instead of a temporary folder.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
        /// Skip the tract-against-onnxruntime figures (they need python3 with onnxruntime).
        #[arg(long)]
        skip_models: bool,
        /// Only the tract-against-onnxruntime figures.
        #[arg(long)]
        models_only: bool,
        /// Only the labelled cases of these groups (prefixes, comma-separated: faces,
        /// partial_faces, burned_text, plain_); throughput is measured only with every group.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        #[arg(long)]
        shared: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Lesion masks: a 24-MP mask's stored bytes and save time against PNG.
    Masks {
        /// How many PH2 masks to scale up and measure.
        #[arg(long, default_value_t = 5)]
        masks: usize,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        #[arg(long)]
        shared: Option<PathBuf>,
        /// Only the stored-size figures, not the annotation panel's frame times.
        #[arg(long)]
        no_panel: bool,
        #[arg(long)]
        json: bool,
    },
    /// The demo models: tract against onnxruntime, and batch inference with the app's job.
    Models {
        /// How many HAM10000 photos the batch runs on.
        #[arg(long, default_value_t = 1000)]
        photos: usize,
        /// Worker processes for the batch.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 10)]
        repeats: usize,
        /// Rounds of tract against onnxruntime, alternating: the ratio is the median of the
        /// rounds' ratios, shown with their range (a shared machine's speed drifts between a
        /// run of one and a run of the other).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
        rounds: u32,
        /// Show tract's N slowest nodes of each model (id, operator, what it does) instead of
        /// its four slowest operator kinds, and onnxruntime's N slowest (its own profiler).
        #[arg(long, default_value_t = 0)]
        nodes: usize,
        #[arg(long)]
        shared: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The viewer's "what the model looked at" heatmap: seconds a photo, and tract batch plans.
    Occlusion {
        /// How many HAM10000 photos.
        #[arg(long, default_value_t = 10)]
        photos: usize,
        /// Threads running the model (also measured with one).
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long)]
        shared: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Precision and recall of the modality cues on the shared data; with --heldout, the cues
    /// beside the modality model on the training script's held-out images.
    Modality {
        #[arg(long)]
        shared: Option<PathBuf>,
        /// heldout.csv written by training/train_modality.py.
        #[arg(long, value_name = "CSV")]
        heldout: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Import speed with and without the modality model on HAM10000 photos.
    ModalityImport {
        #[arg(long, default_value_t = 1000)]
        photos: usize,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        #[arg(long)]
        shared: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(_db: &Path, a: BenchArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("note: this is a debug build; benchmark figures come from `cargo run --release -- bench ...`");
    }
    match a.which {
        Which::Thumbs { threads, repeats, shared, json } => thumbs(&shared_dir(shared)?, threads, repeats, json),
        Which::Import { dir, threads, repeats, copies, no_modality_model, shared, json } => {
            let flags: &[&str] = if no_modality_model { &["--no-modality-model"] } else { &[] };
            let dir = match dir {
                Some(d) => d,
                None => shared_dir(shared)?.join("data/ham10000/images"),
            };
            match copies {
                Some(n) => import_copies(&dir, n, threads, flags, json),
                None => import(&dir, threads, repeats, flags, json),
            }
        }
        Which::Frames { dir, shared, json } => {
            let dir = match dir {
                Some(d) => d,
                None => shared_dir(shared)?.join("data/ham10000/images"),
            };
            frames::run(&dir, json)
        }
        Which::Browser { photos, frames, keep, json } => browser::run(&photos, frames, keep.as_deref(), json),
        Which::Modality { shared, heldout: None, json } => modality::run(&shared_dir(shared)?, json),
        Which::Modality { shared, heldout: Some(csv), json } => modality::heldout(&shared_dir(shared)?, &csv, json),
        Which::ModalityImport { photos, threads, repeats, shared, json } => {
            modality::import_speed(&shared_dir(shared)?, photos, threads, repeats, json)
        }
        Which::Models { photos, threads, repeats, rounds, nodes, shared, json } => {
            models::run(&shared_dir(shared)?, photos, threads, repeats, rounds as usize, nodes, json)
        }
        Which::Occlusion { photos, threads, shared, json } => {
            occlusion::run(&shared_dir(shared)?, photos, threads, json)
        }
        Which::Charts { rows, photos, repeats, json } => charts::run(rows, photos, repeats, json),
        Which::Privacy { threads, repeats, keep, skip_models, models_only, groups, shared, json } => privacy::run(
            &shared_dir(shared)?,
            privacy::Args { threads, repeats, keep, json, skip_models, models_only, groups },
        ),
        Which::Masks { masks, repeats, shared, no_panel, json } => {
            masks::run(&shared_dir(shared)?, masks, repeats, !no_panel, json)
        }
    }
}

fn shared_dir(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    crate::demo::shared_dir(explicit.as_deref())
        .context("the shared data folder was not found (give --shared DIR or set DERMDESK_SHARED)")
}

pub(crate) fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

pub(crate) fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

fn jpegs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg")))
        .collect();
    v.sort();
    Ok(v)
}

fn thumbs(shared: &Path, threads: usize, repeats: usize, as_json: bool) -> anyhow::Result<()> {
    let which =
        |p: &str| Command::new("sh").arg("-c").arg(format!("command -v {p}")).output().map(|o| o.status.success());
    if !which("vipsthumbnail").unwrap_or(false) {
        bail!("vipsthumbnail is not installed (Debian: apt-get install libvips-tools)");
    }
    let isic = jpegs(&shared.join("data/isic-cc0/images"))?;
    let work = tempfile_dir("dermdesk-bench-thumbs")?;
    // Large set: the ISIC files of 3 MP and more, as they are (their EXIF thumbnails, where
    // any, are 160 px: too small) and with a 320-px EXIF thumbnail made from each.
    let mut large = Vec::new();
    let mut large_exif = Vec::new();
    std::fs::create_dir_all(work.join("large-exif"))?;
    for p in &isic {
        let bytes = std::fs::read(p)?;
        let (w, h, _) = crate::decode::dc_jpeg::read_header(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
        if (w as u64) * (h as u64) < 3_000_000 {
            continue;
        }
        let decoded = crate::decode::decode_reduced(&bytes, crate::decode::Format::Jpeg, 320, &Default::default())
            .map_err(|r| anyhow::anyhow!("{r}"))?;
        let small = crate::decode::shrink_to(decoded.image, 320);
        let thumb = crate::decode::encode_jpeg(&small)?;
        let out = work.join("large-exif").join(p.file_name().unwrap());
        let tiff = crate::decode::exif::minimal_tiff(&[(0x0112, 1)], Some(&thumb));
        std::fs::write(&out, crate::decode::exif::splice_jpeg_exif(&bytes, Some(&tiff)).map_err(anyhow::Error::msg)?)?;
        large.push(p.clone());
        large_exif.push(out);
    }
    if !as_json {
        outln!(
            "thumbnails, {threads} thread(s), long side {} px, median of {repeats} runs each, interleaved",
            crate::decode::THUMB_SIZE
        );
        outln!("{:<32} {:>6} {:>14} {:>16} {:>7}", "set", "files", "dermdesk f/s", "vipsthumbnail f/s", "ratio");
    }
    let mut sets = Vec::new();
    for (name, files) in [
        ("ISIC camera files (0.4-10 MP)", &isic),
        ("large JPEGs, no EXIF thumbnail", &large),
        ("large JPEGs + EXIF thumbnail", &large_exif),
    ] {
        let (mut ours, mut vips) = (Vec::new(), Vec::new());
        let mut routes = String::new();
        let hashes: Vec<String> = files
            .iter()
            .map(|f| Ok(crate::decode::tasks::hash_bytes(&std::fs::read(f)?)))
            .collect::<std::io::Result<_>>()?;
        for r in 0..repeats {
            let out = work.join(format!("out-{r}"));
            let _ = std::fs::remove_dir_all(&out);
            std::fs::create_dir_all(&out)?;
            let t = Instant::now();
            vips_run(files, &out.join("vips"), threads)?;
            vips.push(files.len() as f64 / t.elapsed().as_secs_f64());

            // Keyed by content, as the app keys them (the worker checks the key).
            let items: Vec<(PathBuf, String)> =
                files.iter().zip(&hashes).map(|(f, h)| (f.clone(), h.clone())).collect();
            let mut opts = ThumbOptions::default();
            opts.pool.workers = threads;
            let t = Instant::now();
            let rep =
                thumb_job::make_all(items, &out.join("ours-thumbs.sqlite"), &opts, &crate::jobs::Progress::new())?;
            ours.push(files.len() as f64 / t.elapsed().as_secs_f64());
            if rep.failed > 0 {
                bail!("{} thumbnails failed: {:?}", rep.failed, rep.failures);
            }
            routes = format!("{:?}", rep.by_route);
        }
        let (o, v) = (median(&mut ours), median(&mut vips));
        if !as_json {
            outln!("{name:<32} {:>6} {o:>14.1} {v:>16.1} {:>7.2}   routes {routes}", files.len(), o / v);
        }
        sets.push(serde_json::json!({
            "set": name, "files": files.len(), "dermdesk_files_per_s": o, "vipsthumbnail_files_per_s": v,
            "ratio": o / v, "routes": routes,
        }));
    }
    if as_json {
        super::print_json(&serde_json::json!({ "threads": threads, "repeats": repeats, "sets": sets }))?;
    }
    Ok(())
}

/// vipsthumbnail over the files, split across `threads` processes, one libvips thread each.
fn vips_run(files: &[PathBuf], out: &Path, threads: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let size = crate::decode::THUMB_SIZE.to_string();
    let pattern = format!("{}/%s.jpg[Q=85]", out.display());
    let mut children = Vec::new();
    for k in 0..threads.max(1) {
        let chunk: Vec<&PathBuf> = files.iter().skip(k).step_by(threads.max(1)).collect();
        if chunk.is_empty() {
            continue;
        }
        children.push(
            Command::new("vipsthumbnail")
                .env("VIPS_CONCURRENCY", "1")
                .args(["-s", &size, "-o", &pattern])
                .args(chunk)
                .spawn()
                .context("cannot run vipsthumbnail")?,
        );
    }
    for mut c in children {
        if !c.wait()?.success() {
            bail!("vipsthumbnail failed");
        }
    }
    Ok(())
}

/// Marks a benchmark's own photos screened clear by every detector at its current version and
/// cleared by "bench", so the release gate lets the models read them (the benches measure the
/// models' speed; screening has its own benchmark).
fn cleared_for_bench(store: &mut crate::store::Store, ids: &[i64]) -> anyhow::Result<()> {
    use crate::privacy::{Detector, Review, Screening, Verdict};
    let clear = Screening {
        findings: Vec::new(),
        verdict: Verdict::Clear,
        ran: Detector::ALL.iter().map(|d| (*d, d.version().to_owned())).collect(),
        ms: Vec::new(),
    };
    for &id in ids {
        store.save_screening(id, &clear)?;
    }
    store.set_review(ids, Review::Cleared, "bench")?;
    Ok(())
}

/// A benchmark's scratch folder under the system's temporary folder, removed when dropped:
/// on every way out, an error's too (`bench models` left 28 MB behind on every run before).
struct WorkDir(PathBuf);

impl std::ops::Deref for WorkDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for WorkDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir(prefix: &str) -> anyhow::Result<WorkDir> {
    let d = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d)?;
    Ok(WorkDir(d))
}

fn import(dir: &Path, threads: usize, repeats: usize, flags: &[&str], as_json: bool) -> anyhow::Result<()> {
    let files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    let work = tempfile_dir("dermdesk-bench-import")?;
    let exe = std::env::current_exe()?;
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    let mut rss = Vec::new();
    let mut parent_rss = Vec::new();
    // Warm the page cache first so both sides read from memory.
    read_and_hash(&files, threads);
    for r in 0..repeats {
        let t = Instant::now();
        read_and_hash(&files, threads);
        peer.push(files.len() as f64 / t.elapsed().as_secs_f64());

        let db = work.join(format!("import-{r}.sqlite"));
        let t = Instant::now();
        let out = Command::new(&exe)
            .arg("--db")
            .arg(&db)
            .args(["import", "--json", "--threads", &threads.to_string()])
            .args(flags)
            .arg(dir)
            .output()?;
        let secs = t.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!("the import failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        ours.push(report["scanned"].as_f64().unwrap_or(0.0) / secs);
        parent_rss.push(report["peak_rss_bytes"].as_f64().unwrap_or(f64::NAN) / 1048576.0);
        rss.push(children_peak_rss_mib());
    }
    let (o, p) = (median(&mut ours), median(&mut peer));
    let (prss, rss) = (median(&mut parent_rss), median(&mut rss));
    if as_json {
        return super::print_json(&serde_json::json!({
            "files": files.len(), "threads": threads, "repeats": repeats,
            "dermdesk_files_per_s": o, "read_hash_files_per_s": p, "ratio": o / p,
            "peak_rss_import_mib": prss, "peak_rss_largest_mib": rss,
        }));
    }
    outln!(
        "import of {} files from {}, {threads} thread(s), median of {repeats} runs, warm page cache",
        files.len(),
        dir.display()
    );
    outln!("dermdesk import        {o:>10.0} files/s (new database each run; decode, EXIF, cues, thumbnail, SQLite)");
    outln!("read + BLAKE3 only     {p:>10.0} files/s");
    outln!("ratio                  {:>10.3}", o / p);
    outln!("peak RSS, import process        {prss:>8.1} MiB");
    outln!("peak RSS, largest of it and its workers {rss:>8.1} MiB");
    Ok(())
}

/// One import by the CLI into a new database: files per second, and peak RSS of the
/// importing process (from its report) and of the largest of it and its workers.
fn timed_import(
    exe: &Path,
    db: &Path,
    dir: &Path,
    threads: usize,
    flags: &[&str],
) -> anyhow::Result<(f64, u64, f64, f64)> {
    let t = Instant::now();
    let out = Command::new(exe)
        .arg("--db")
        .arg(db)
        .args(["import", "--json", "--threads", &threads.to_string()])
        .args(flags)
        .arg(dir)
        .output()?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("the import failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let n = report["scanned"].as_u64().unwrap_or(0);
    Ok((n as f64 / secs, n, report["peak_rss_bytes"].as_f64().unwrap_or(f64::NAN) / 1048576.0, children_peak_rss_mib()))
}

/// The folder as it is, then it and `copies - 1` copies of it (each file given a JPEG
/// comment naming its copy: new content, same pixels and decode work), imported in one run.
fn import_copies(dir: &Path, copies: usize, threads: usize, flags: &[&str], as_json: bool) -> anyhow::Result<()> {
    let work = tempfile_dir("dermdesk-bench-copies")?;
    let files = jpegs(dir)?;
    let big = work.join("copies");
    for k in 0..copies.max(1) {
        let out = big.join(format!("copy-{k:02}"));
        std::fs::create_dir_all(&out)?;
        for f in &files {
            let bytes = std::fs::read(f)?;
            let bytes = if k == 0 { bytes } else { with_comment(&bytes, &format!("copy {k}")) };
            std::fs::write(out.join(f.file_name().unwrap_or_default()), bytes)?;
        }
    }
    let exe = std::env::current_exe()?;
    let (small_fps, small_n, small_rss, small_all) = timed_import(&exe, &work.join("one.sqlite"), dir, threads, flags)?;
    let (big_fps, big_n, big_rss, big_all) = timed_import(&exe, &work.join("many.sqlite"), &big, threads, flags)?;
    let v = serde_json::json!({
        "threads": threads,
        "small": { "files": small_n, "files_per_s": small_fps, "peak_rss_import_mib": small_rss, "peak_rss_largest_mib": small_all },
        "large": { "files": big_n, "files_per_s": big_fps, "peak_rss_import_mib": big_rss, "peak_rss_largest_mib": big_all },
        "speed_ratio": big_fps / small_fps,
        "memory_ratio": big_rss / small_rss,
    });
    if as_json {
        return super::print_json(&v);
    }
    outln!("import, {threads} thread(s), new database each, warm page cache");
    outln!(
        "{small_n:>8} files  {small_fps:>8.0} files/s  peak RSS {small_rss:>6.1} MiB (largest process {small_all:.1})"
    );
    outln!("{big_n:>8} files  {big_fps:>8.0} files/s  peak RSS {big_rss:>6.1} MiB (largest process {big_all:.1})");
    outln!(
        "speed ratio {:.3} (goal within 10%), memory ratio {:.2} (goal flat)",
        big_fps / small_fps,
        big_rss / small_rss
    );
    Ok(())
}

/// The JPEG with a comment segment right after its start marker.
fn with_comment(jpeg: &[u8], text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(jpeg.len() + text.len() + 4);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((text.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn read_and_hash(files: &[PathBuf], threads: usize) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(f) = files.get(i) else { return };
                    if let Ok(bytes) = std::fs::read(f) {
                        std::hint::black_box(crate::decode::tasks::hash_bytes(&bytes));
                    }
                }
            });
        }
    });
}

/// The largest peak RSS of any finished child process (and the children they waited for).
fn children_peak_rss_mib() -> f64 {
    #[cfg(unix)]
    // getrusage fills a plain struct; there is no safe wrapper in std.
    #[allow(unsafe_code)]
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) == 0 {
            return u.ru_maxrss as f64 / 1024.0; // kilobytes on Linux
        }
    }
    f64::NAN
}
