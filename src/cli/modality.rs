//! `dermdesk modality redetect [--all]`: the modality model over photos imported before it
//! (or guessed by another version of it).

use super::{Bar, print_json};
use crate::jobs::Progress;
use crate::modality::redetect::{RedetectOptions, redetect};
use anyhow::Context;
use std::path::Path;

#[derive(clap::Args, Debug)]
pub struct ModalityArgs {
    #[command(subcommand)]
    pub command: ModalityCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum ModalityCommand {
    /// Run the modality model on photos that have no guess from this version of it yet
    /// (imported before it, or by an earlier dermdesk with an older version) and decide their
    /// modality again. A person's choice is kept and folder rules still win.
    Redetect {
        /// Every photo not set by hand, also those this version of the model has seen.
        #[arg(long)]
        all: bool,
        /// Decoder processes (default: two more than the cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(db: &Path, args: ModalityArgs) -> anyhow::Result<()> {
    match args.command {
        ModalityCommand::Redetect { all, threads, json } => {
            let mut opts = RedetectOptions { all, ..Default::default() };
            if let Some(t) = threads {
                opts.pool.workers = t.max(1);
            }
            let progress = Progress::new();
            let bar = Bar::new(progress.clone());
            let report = redetect(db, &opts, &progress);
            drop(bar);
            let report = report.context("the modality model could not re-sort the photos")?;
            if json {
                return print_json(&report);
            }
            outln!(
                "{} photos examined, {} guessed by the modality model, {} changed modality, {} failed in {:.1} s{}",
                report.examined,
                report.guessed,
                report.changed,
                report.failed.len(),
                report.seconds,
                if report.cancelled { " (cancelled)" } else { "" }
            );
            for (id, why) in &report.failed {
                outln!("  photo {id}: {why}");
            }
            Ok(())
        }
    }
}
