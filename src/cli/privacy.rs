//! Privacy commands: `screen`, `review`, `redact`, `queue`, `export-deid`.

use super::{Bar, print_json};
use crate::jobs::Progress;
use crate::privacy::{FindingKind, Review, job};
use crate::store::{Fill, QueueFilter, Shape, Store};
use anyhow::{Context, anyhow, bail};
use std::path::{Path, PathBuf};

fn open(db: &Path) -> anyhow::Result<Store> {
    if !db.exists() {
        bail!("no database here (import something first, or give --db): {}", db.display());
    }
    Ok(Store::open(db)?)
}

#[derive(clap::Args, Debug)]
pub struct ScreenArgs {
    /// Screen every photo again (default: only photos some detector has not screened at its
    /// current version).
    #[arg(long)]
    pub all: bool,
    /// Parallel screening threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub json: bool,
}

pub fn screen(db: &Path, a: ScreenArgs) -> anyhow::Result<()> {
    open(db)?;
    let mut opts = job::ScreenOptions { all: a.all, ..Default::default() };
    if let Some(t) = a.threads {
        opts.threads = t.max(1);
    }
    let progress = Progress::new();
    let report = {
        let _bar = Bar::new(progress.clone());
        job::run(db, &opts, &progress)?
    };
    for (id, why) in &report.failed {
        eprintln!("dermdesk: photo {id} could not be screened (it stays unscreened and cannot leave): {why}");
    }
    if a.json {
        return print_json(&report);
    }
    let v = &report.by_verdict;
    outln!(
        "screened {} photo(s) in {:.1} s ({:.2}/s): {} identifiable, {} unsure, {} clear; {} could not be screened",
        report.screened,
        report.seconds,
        report.photos_per_second,
        v.get("identifiable").unwrap_or(&0),
        v.get("unsure").unwrap_or(&0),
        v.get("clear").unwrap_or(&0),
        report.failed.len()
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["clear", "exclude", "redacted", "pending"])))]
pub struct ReviewArgs {
    /// Who decides (recorded in the audit log).
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// The photos may leave as they are (metadata is always stripped on export).
    #[arg(long)]
    pub clear: bool,
    /// The photos never leave.
    #[arg(long)]
    pub exclude: bool,
    /// The photos leave with their redaction shapes burned in (add them with `redact`).
    #[arg(long)]
    pub redacted: bool,
    /// Undo: back to pending.
    #[arg(long)]
    pub pending: bool,
    /// Photo ids.
    #[arg(required = true)]
    pub ids: Vec<i64>,
}

pub fn review(db: &Path, a: ReviewArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    let review = match (a.clear, a.exclude, a.redacted) {
        (true, _, _) => Review::Cleared,
        (_, true, _) => Review::Excluded,
        (_, _, true) => Review::Redacted,
        _ => Review::Pending,
    };
    let n = store.set_review(&a.ids, review, &a.user)?;
    outln!("{n} photo(s) {}", review.as_str());
    Ok(())
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum FillArg {
    Black,
    Pixelate,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum CoverArg {
    Face,
    Text,
}

#[derive(clap::Args, Debug)]
pub struct RedactArgs {
    /// Who redacts (recorded in the audit log).
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// The photo id.
    pub id: i64,
    /// A rectangle to cover: x0,y0,x1,y1 in the photo's upright pixels (repeatable).
    #[arg(long, value_name = "X0,Y0,X1,Y1")]
    pub rect: Vec<String>,
    /// A polygon to cover: x,y;x,y;x,y... (repeatable).
    #[arg(long, value_name = "X,Y;X,Y;...")]
    pub polygon: Vec<String>,
    /// Cover every box the detectors found of these kinds (face, text), grown by 10%.
    #[arg(long, value_delimiter = ',')]
    pub cover: Vec<CoverArg>,
    /// Keep only this rectangle (crop to the lesion): x0,y0,x1,y1.
    #[arg(long, value_name = "X0,Y0,X1,Y1")]
    pub crop: Option<String>,
    #[arg(long, value_enum, default_value = "black")]
    pub fill: FillArg,
    /// Add the shapes without marking the photo redacted.
    #[arg(long)]
    pub keep_pending: bool,
}

fn numbers(s: &str, n: usize) -> anyhow::Result<Vec<f32>> {
    let v: Vec<f32> = s
        .split(',')
        .map(|p| p.trim().parse::<f32>().with_context(|| format!("not a number: {p:?} in {s:?}")))
        .collect::<anyhow::Result<_>>()?;
    if v.len() != n {
        bail!("expected {n} comma-separated numbers, got {s:?}");
    }
    Ok(v)
}

pub fn redact(db: &Path, a: RedactArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    let fill = match a.fill {
        FillArg::Black => Fill::Black,
        FillArg::Pixelate => Fill::Pixelate,
    };
    let mut shapes = Vec::new();
    for r in &a.rect {
        let v = numbers(r, 4)?;
        shapes.push(Shape::Rect { rect: [v[0], v[1], v[2], v[3]], fill });
    }
    for p in &a.polygon {
        let points = p.split(';').map(|xy| numbers(xy, 2).map(|v| [v[0], v[1]])).collect::<anyhow::Result<Vec<_>>>()?;
        shapes.push(Shape::Polygon { points, fill });
    }
    if !a.cover.is_empty() {
        let s = store.screening(a.id)?.ok_or_else(|| anyhow!("no photo with id {}", a.id))?;
        for f in &s.findings {
            let wanted = match f.kind {
                FindingKind::Face => a.cover.contains(&CoverArg::Face),
                FindingKind::Text => a.cover.contains(&CoverArg::Text),
                FindingKind::Metadata => false,
            };
            if let (true, Some(b)) = (wanted, f.bbox) {
                let (gw, gh) = ((b[2] - b[0]) * 0.1, (b[3] - b[1]) * 0.1);
                shapes.push(Shape::Rect { rect: [b[0] - gw, b[1] - gh, b[2] + gw, b[3] + gh], fill });
            }
        }
    }
    if let Some(c) = &a.crop {
        let v = numbers(c, 4)?;
        shapes.push(Shape::Crop { rect: [v[0], v[1], v[2], v[3]] });
    }
    if shapes.is_empty() {
        bail!("nothing to redact: give --rect, --polygon, --cover or --crop");
    }
    for s in &shapes {
        store.add_redaction(a.id, s, &a.user)?;
    }
    if !a.keep_pending {
        store.set_review(&[a.id], Review::Redacted, &a.user)?;
    }
    outln!(
        "{} shape(s) added to photo {}{}",
        shapes.len(),
        a.id,
        if a.keep_pending { "" } else { "; marked redacted" }
    );
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct QueueArgs {
    #[arg(long)]
    pub json: bool,
    /// Also show photos already decided.
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub limit: Option<usize>,
    /// Only photos in which this detector found something (at or above --min-score).
    #[arg(long, value_enum)]
    pub detector: Option<DetectorArg>,
    /// Only photos with a face or text (of --detector, when given) scoring at least this.
    #[arg(long, default_value_t = 0.0)]
    pub min_score: f32,
    /// Only these modalities (repeat or comma-separate).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub modality: Vec<crate::modality::Modality>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DetectorArg {
    Face,
    Text,
    Metadata,
}

pub fn queue(db: &Path, a: QueueArgs) -> anyhow::Result<()> {
    let store = open(db)?;
    let filter = QueueFilter {
        reviews: if a.all { Review::ALL.to_vec() } else { Vec::new() },
        limit: a.limit,
        kind: a.detector.map(|d| match d {
            DetectorArg::Face => FindingKind::Face,
            DetectorArg::Text => FindingKind::Text,
            DetectorArg::Metadata => FindingKind::Metadata,
        }),
        min_score: a.min_score,
        modalities: a.modality.clone(),
        ..Default::default()
    };
    for item in store.privacy_queue(&filter)? {
        if a.json {
            let s = store.screening(item.photo_id)?;
            print_json(&serde_json::json!({
                "id": item.photo_id,
                "modality": item.modality,
                "verdict": item.verdict,
                "review": item.review,
                "findings": s.map(|s| s.findings).unwrap_or_default(),
            }))?;
        } else {
            outln!(
                "{}\t{}\t{}\t{}\t{} finding(s)\t{:.2}",
                item.photo_id,
                item.verdict.as_str(),
                item.review.as_str(),
                item.modality.as_str(),
                item.findings,
                item.top_score
            );
        }
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// A new (or empty) folder for the de-identified photos.
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn export_deid(db: &Path, a: ExportArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    let progress = Progress::new();
    let report = {
        let _bar = Bar::new(progress.clone());
        crate::privacy::export::export_deid(&mut store, &a.out, None, &progress)?
    };
    for (id, why) in &report.failed {
        eprintln!("dermdesk: photo {id} was not exported: {why}");
    }
    if a.json {
        print_json(&report)?;
    } else {
        let held: Vec<String> = report.withheld.iter().map(|(k, n)| format!("{n} {k}")).collect();
        outln!(
            "exported {} photo(s) to {}; held back: {}",
            report.exported,
            a.out.display(),
            if held.is_empty() { "none".into() } else { held.join(", ") }
        );
    }
    if !report.failed.is_empty() {
        bail!("{} releasable photo(s) could not be exported (listed above)", report.failed.len());
    }
    Ok(())
}
