//! The headless commands: a thin layer over the core. Read commands take `--json`; every
//! command takes `--db PATH`.
//!
//! Exit codes: 0 done (an import that refused some files is still done); 1 the command could
//! not proceed; 2 bad usage; 3 the database cannot be used (damaged, or from a newer version).

/// `println!` for command output: a closed pipe (`dermdesk list | head`) ends the command
/// quietly with success instead of a panic.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            return Err(anyhow::Error::from(e).context("cannot write to standard output"));
        }
    }};
}

mod bench;
mod charts;
mod charts_demo;
mod import;
mod masks;
mod modality;
mod models;
mod occlusion;
mod privacy;
mod read;
mod values;

use crate::error::Error;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "dermdesk", version, about = "Dermatology photo archive workstation", long_about = None)]
pub struct Cli {
    /// The database file (default: in your user data folder).
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Options for the app when no command is given.
    #[command(flatten)]
    pub gui: GuiArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the app (the default when no command is given).
    Gui(GuiArgs),
    /// Import folders (recursively) or files.
    Import(import::ImportArgs),
    /// List photos, one line (or one JSON object) per photo.
    List(read::ListArgs),
    /// Counts: photos, locations, missing files, refusals, modalities.
    Stats(read::StatsArgs),
    /// One photo in full: locations, EXIF, cues, audit trail.
    Show(read::ShowArgs),
    /// Import runs, newest first.
    Runs(read::RunsArgs),
    /// Files refused as they are now, with the reason.
    Refusals(read::RunsArgs),
    /// Set the modality of photos by hand (audited).
    SetModality(read::SetModalityArgs),
    /// Folder-name rules that decide modality.
    Rules(read::RulesArgs),
    /// Modality by the model: re-sort photos imported before it (`modality redetect`).
    Modality(modality::ModalityArgs),
    /// Make missing thumbnails.
    Thumbs(import::ThumbArgs),
    /// Screen photos for faces, burned-in text and identifying metadata.
    Screen(privacy::ScreenArgs),
    /// Record a reviewer's decision on photos: clear, exclude, redacted, or back to pending.
    Review(privacy::ReviewArgs),
    /// Add redaction shapes to a photo (rectangles, polygons, the found boxes, a crop).
    Redact(privacy::RedactArgs),
    /// The review queue: screened photos waiting for a decision, strongest findings first.
    Queue(privacy::QueueArgs),
    /// Export cleared and redacted photos de-identified: re-encoded, upright, redacted, no metadata.
    ExportDeid(privacy::ExportArgs),
    /// Lesion masks: import, list, review, agreement.
    Masks(masks::MasksArgs),
    /// Export approved masks with their photos (COCO or PNG), through the release gate.
    Export(masks::ExportArgs),
    /// Benchmarks (medians and ratios against a named peer).
    Bench(bench::BenchArgs),
    /// Charts: import EMR exports and SS-MIX2 trees, path rules, the link queue, synonyms.
    Charts(charts::ChartsArgs),
    /// Link photos to patients and visits (headless; people's decisions are kept).
    Link(charts::LinkArgs),
    /// The opt-out registry: patients whose photos never leave.
    Optout(charts::OptOutArgs),
    /// Research models: register (checked against the model card), list, show.
    Models(models::ModelsArgs),
    /// Run a registered model over the photos the release gate allows (resumable).
    Infer(models::InferArgs),
    /// Which parts of a photo a classifier's answer rests on: an occlusion-sensitivity heatmap.
    Occlusion(occlusion::OcclusionArgs),
}

#[derive(clap::Args, Debug, Default, Clone)]
pub struct GuiArgs {
    /// Where the demo images are (default: DERMDESK_SHARED, then ../shared).
    #[arg(long, value_name = "DIR")]
    pub demo: Option<PathBuf>,
    /// Do not import the demo archive on first run.
    #[arg(long)]
    pub no_demo: bool,
}

impl From<GuiArgs> for crate::ui::GuiOptions {
    fn from(a: GuiArgs) -> Self {
        crate::ui::GuiOptions { demo: a.demo, no_demo: a.no_demo }
    }
}

/// Entry point for the binary. Returns the process exit code.
pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == crate::work::WORKER_ARG) {
        return crate::tasks::serve();
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let db = cli.db.clone().unwrap_or_else(crate::store::default_db_path);
    let result = match cli.command {
        None => crate::ui::run(db, cli.gui.into()),
        Some(Command::Gui(g)) => crate::ui::run(db, g.into()),
        Some(Command::Import(a)) => import::import(&db, a),
        Some(Command::List(a)) => read::list(&db, a),
        Some(Command::Stats(a)) => read::stats(&db, a),
        Some(Command::Show(a)) => read::show(&db, a),
        Some(Command::Runs(a)) => read::runs(&db, a),
        Some(Command::Refusals(a)) => read::refusals(&db, a),
        Some(Command::SetModality(a)) => read::set_modality(&db, a),
        Some(Command::Rules(a)) => read::rules(&db, a),
        Some(Command::Modality(a)) => modality::run(&db, a),
        Some(Command::Thumbs(a)) => import::thumbs(&db, a),
        Some(Command::Screen(a)) => privacy::screen(&db, a),
        Some(Command::Review(a)) => privacy::review(&db, a),
        Some(Command::Redact(a)) => privacy::redact(&db, a),
        Some(Command::Queue(a)) => privacy::queue(&db, a),
        Some(Command::ExportDeid(a)) => privacy::export_deid(&db, a),
        Some(Command::Masks(a)) => masks::run(&db, a),
        Some(Command::Export(a)) => masks::export(&db, a),
        Some(Command::Bench(a)) => bench::run(&db, a),
        Some(Command::Charts(a)) => charts::run(&db, a),
        Some(Command::Link(a)) => charts::link(&db, a),
        Some(Command::Optout(a)) => charts::optout(&db, a),
        Some(Command::Models(a)) => models::run(&db, a),
        Some(Command::Infer(a)) => models::infer(&db, a),
        Some(Command::Occlusion(a)) => occlusion::run(&db, a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("dermdesk: {e:#}");
            exit_code(&e)
        }
    }
}

fn exit_code(e: &anyhow::Error) -> i32 {
    match e.downcast_ref::<Error>() {
        Some(Error::Corrupt { .. } | Error::TooNew { .. } | Error::NotADatabase { .. }) => 3,
        _ => 1,
    }
}

/// Prints one JSON value on its own line.
pub(crate) fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    let line = serde_json::to_string(v)?;
    outln!("{line}");
    Ok(())
}

/// A progress bar on stderr while it lives, when stderr is a terminal; nothing when piped.
pub(crate) struct Bar {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Bar {
    pub(crate) fn new(progress: std::sync::Arc<crate::jobs::Progress>) -> Bar {
        use std::io::IsTerminal;
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Bar { stop, thread: None };
        }
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            while !flag.load(Ordering::Relaxed) {
                let s = progress.snapshot();
                bar.set_length(s.total);
                bar.set_position(s.done);
                bar.set_message(s.message);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Bar { stop, thread: Some(thread) }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
