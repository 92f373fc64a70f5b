//! `dermdesk import` and `dermdesk thumbs`.

use super::{Bar, print_json};
use crate::archive::{self, ImportOptions};
use crate::jobs::Progress;
use crate::store::RunStatus;
use crate::store::Store;
use crate::thumbs::{self as thumb_job, ThumbOptions};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Folders (scanned recursively) or files.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also (or only) resume the folders of interrupted runs.
    #[arg(long)]
    pub resume: bool,
    /// Decoder processes (default: two more than the cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Per-file decoding time limit in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub file_timeout: f64,
    /// Skip writing thumbnails (make them later with `dermdesk thumbs`).
    #[arg(long)]
    pub no_thumbnails: bool,
    /// Sort modality by folder rules and image cues only (no modality model).
    #[arg(long)]
    pub no_modality_model: bool,
    /// Print the run report as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn import(db: &Path, args: ImportArgs) -> anyhow::Result<()> {
    let mut paths = args.paths.clone();
    if args.resume {
        let mut store = Store::open(db)?;
        store.mark_dead_runs_interrupted()?;
        for (_, roots) in store.runs_to_resume()? {
            for r in roots {
                let p = PathBuf::from(r);
                if !paths.contains(&p) {
                    paths.push(p);
                }
            }
        }
        if paths.is_empty() {
            if args.json {
                print_json(&serde_json::json!({ "status": "nothing_to_resume" }))?;
            } else {
                outln!("nothing to resume");
            }
            return Ok(());
        }
    }
    if paths.is_empty() {
        bail!("give one or more folders or files to import (or --resume)");
    }
    if args.file_timeout.is_nan() || args.file_timeout <= 0.0 {
        bail!("--file-timeout must be more than 0 seconds");
    }
    let mut opts = ImportOptions {
        thumbnails: !args.no_thumbnails,
        modality_model: !args.no_modality_model,
        ..Default::default()
    };
    opts.pool.timeout = Duration::from_secs_f64(args.file_timeout);
    if let Some(t) = args.threads {
        opts.pool.workers = t.max(1);
    }
    let progress = Progress::new();
    let bar = Bar::new(progress.clone());
    let report = archive::import(db, &paths, &opts, &progress);
    drop(bar);
    // The error names what failed and where (the folder, or the database) itself.
    let report = report.context("the import could not run")?;
    if args.json {
        print_json(&report)?;
    } else {
        outln!(
            "import run {} {} in {:.1} s: {} files seen, {} new photos, {} new locations ({} moved), {} unchanged, {} refused, {} missing",
            report.run_id,
            report.status.as_str(),
            report.seconds,
            report.counts.scanned,
            report.counts.new_photos,
            report.counts.new_locations,
            report.counts.moved,
            report.counts.unchanged,
            report.counts.refused,
            report.counts.missing
        );
        for r in &report.refusals {
            outln!("refused {}: {}: {}", r.reason_code.as_str(), r.reason, r.path);
        }
        for e in &report.scan_errors {
            outln!("folder error: {e}");
        }
        if let Some(m) = &report.message {
            outln!("note: {m}");
        }
    }
    if report.status == RunStatus::Failed {
        bail!("{}", report.message.unwrap_or_else(|| "the import failed".into()));
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct ThumbArgs {
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub json: bool,
}

pub fn thumbs(db: &Path, args: ThumbArgs) -> anyhow::Result<()> {
    let mut opts = ThumbOptions::default();
    if let Some(t) = args.threads {
        opts.pool.workers = t.max(1);
    }
    let progress = Progress::new();
    let bar = Bar::new(progress.clone());
    let report = thumb_job::run(db, &opts, &progress);
    drop(bar);
    let report = report?;
    if args.json {
        print_json(&report)?;
    } else {
        outln!(
            "{} thumbnails made, {} already cached, {} failed in {:.1} s",
            report.made,
            report.already_cached,
            report.failed,
            report.seconds
        );
        for (path, why) in &report.failures {
            outln!("failed {why}: {path}");
        }
    }
    Ok(())
}
