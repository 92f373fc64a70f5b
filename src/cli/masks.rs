//! `dermdesk masks ...` (import, list, show, queue, submit, review, reopen, label,
//! agreement) and `dermdesk export`: thin over `crate::masks` and the store.

use super::print_json;
use crate::masks::export::{self, ExportFormat, ExportOptions};
use crate::masks::{ReviewAction, ReviewStatus, Role, agreement, import};
use crate::store::{LesionFilter, LesionRow, Store};
use anyhow::{anyhow, bail};
use clap::builder::PossibleValue;
use std::path::{Path, PathBuf};

// The core's enums are the CLI's values: one `as_str` table each, no second spelling.
impl clap::ValueEnum for ReviewStatus {
    fn value_variants<'a>() -> &'a [Self] {
        &ReviewStatus::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl clap::ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &Role::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl clap::ValueEnum for ExportFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &[ExportFormat::Coco, ExportFormat::Png]
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

#[derive(clap::Args, Debug)]
pub struct MasksArgs {
    #[command(subcommand)]
    pub command: MasksCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum MasksCommand {
    /// Import masks made elsewhere: binary mask images named like their photos
    /// (NAME_segmentation.png, NAME_lesion.png, masks/NAME.png), labelme or COCO JSON.
    Import {
        /// A folder (searched recursively) or one file.
        dir: PathBuf,
        /// The status imported masks start in.
        #[arg(long, value_enum, default_value = "draft")]
        status: ReviewStatus,
        #[arg(long)]
        json: bool,
    },
    /// Lesions, one line (or JSON object) each.
    List {
        /// Only this photo (its id).
        #[arg(long)]
        photo: Option<i64>,
        #[arg(long, value_enum)]
        status: Option<ReviewStatus>,
        #[arg(long)]
        json: bool,
    },
    /// One lesion: its versions and its review history.
    Show {
        lesion: i64,
        #[arg(long)]
        json: bool,
    },
    /// Submitted masks waiting for review.
    Queue {
        #[arg(long)]
        json: bool,
    },
    /// Submit lesions for review.
    Submit {
        #[arg(required = true)]
        lesions: Vec<i64>,
    },
    /// Approve or return submitted lesions (as someone other than their annotator).
    Review {
        #[arg(required = true)]
        lesions: Vec<i64>,
        #[arg(long, conflicts_with = "return_", required_unless_present = "return_")]
        approve: bool,
        #[arg(long = "return")]
        return_: bool,
        /// Your role.
        #[arg(long, value_enum)]
        role: Role,
        /// What to fix (needed to return).
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Take a submitted or approved lesion back to draft.
    Reopen {
        #[arg(required = true)]
        lesions: Vec<i64>,
    },
    /// Set a lesion's label (a taxonomy code or "lesion") and note.
    Label {
        lesion: i64,
        label: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Dice and IoU wherever two people masked the same photo.
    Agreement {
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// coco: OUT/annotations.json (RLE) and OUT/images/; png: OUT/images/, OUT/masks/
    /// (binary, one per lesion), OUT/labels/ (indexed, one per photo).
    #[arg(long, value_enum, default_value = "coco")]
    pub format: ExportFormat,
    /// Which masks: approved (the teacher data, default) or any other status.
    #[arg(long, value_enum, default_value = "approved")]
    pub status: ReviewStatus,
    /// Every mask whatever its status.
    #[arg(long, conflicts_with = "status")]
    pub any_status: bool,
    /// The folder to write (empty or new).
    pub out: PathBuf,
    #[arg(long)]
    pub json: bool,
}

fn open(db: &Path) -> anyhow::Result<Store> {
    if !db.exists() {
        bail!("no database here (import something first, or give --db): {}", db.display());
    }
    Ok(Store::open(db)?)
}

fn line(l: &LesionRow) -> String {
    let v = l.version.as_ref();
    format!(
        "{}\tphoto {}\t#{}\t{}\t{}\t{} px\t{}",
        l.id,
        l.photo_id.map_or("-".into(), |p| p.to_string()),
        l.number,
        l.status.as_str(),
        l.label,
        v.map_or(0, |v| v.pixels),
        v.map_or("-", |v| v.annotator.as_str())
    )
}

pub fn run(db: &Path, a: MasksArgs) -> anyhow::Result<()> {
    let me = crate::util::current_user();
    let mut store = open(db)?;
    match a.command {
        MasksCommand::Import { dir, status, json } => {
            if !matches!(status, ReviewStatus::Draft | ReviewStatus::Approved) {
                bail!("imported masks start as draft or approved");
            }
            let progress = crate::jobs::Progress::new();
            let bar = super::Bar::new(progress.clone());
            let r = import::import_path(&mut store, &dir, status, &me, &progress)?;
            drop(bar);
            if json {
                return print_json(&r);
            }
            outln!(
                "{} file(s): {} lesion(s) added, {} already there, {} unmatched, {} refused, {} other file(s) skipped",
                r.files,
                r.added,
                r.unchanged,
                r.unmatched.len(),
                r.errors.len(),
                r.skipped
            );
            for p in &r.unmatched {
                outln!("unmatched: {}: {}", p.reason, p.path);
            }
            for p in &r.errors {
                outln!("refused: {}: {}", p.reason, p.path);
            }
        }
        MasksCommand::List { photo, status, json } => {
            let photo_hash = match photo {
                Some(id) => Some(store.photo(id)?.ok_or_else(|| anyhow!("no photo with id {id}"))?.row.hash),
                None => None,
            };
            for l in store.lesions(&LesionFilter { status, photo_hash, include_deleted: false })? {
                if json {
                    print_json(&l)?;
                } else {
                    outln!("{}", line(&l));
                }
            }
        }
        MasksCommand::Show { lesion, json } => {
            let l = store.lesion(lesion)?.ok_or_else(|| anyhow!("no lesion with id {lesion}"))?;
            let versions = store.mask_versions(lesion)?;
            let reviews = store.mask_reviews(lesion)?;
            if json {
                return print_json(&serde_json::json!({"lesion": l, "versions": versions, "reviews": reviews}));
            }
            outln!("{}", line(&l));
            if !l.note.is_empty() {
                outln!("note: {}", l.note);
            }
            for v in &versions {
                outln!(
                    "version {} ({}) by {} {} -> {}, {} save(s), {} px, {} bytes{}",
                    v.id,
                    v.source.as_str(),
                    v.annotator,
                    v.started_at,
                    v.saved_at,
                    v.saves,
                    v.pixels,
                    v.bytes,
                    v.source_detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
                );
            }
            for r in &reviews {
                outln!(
                    "{} {}{} {}: {} -> {}{}",
                    r.at,
                    r.actor,
                    r.role.map(|x| format!(" ({})", x.as_str())).unwrap_or_default(),
                    r.action.as_str(),
                    r.from_status.map_or("-", ReviewStatus::as_str),
                    r.to_status.as_str(),
                    if r.comment.is_empty() { String::new() } else { format!(": {}", r.comment) }
                );
            }
        }
        MasksCommand::Queue { json } => {
            for l in store.mask_queue()? {
                if json {
                    print_json(&l)?;
                } else {
                    outln!("{}", line(&l));
                }
            }
        }
        MasksCommand::Submit { lesions } => review(&mut store, &lesions, ReviewAction::Submit, &me, None, "")?,
        MasksCommand::Review { lesions, approve, return_: _, role, comment } => {
            let action = if approve { ReviewAction::Approve } else { ReviewAction::Return };
            review(&mut store, &lesions, action, &me, Some(role), &comment)?;
        }
        MasksCommand::Reopen { lesions } => review(&mut store, &lesions, ReviewAction::Reopen, &me, None, "")?,
        MasksCommand::Label { lesion, label, note } => {
            store.set_lesion_label(lesion, &label, &note, &me)?;
            outln!("lesion {lesion}: {label}");
        }
        MasksCommand::Agreement { json } => {
            let r = agreement::measure(&store)?;
            if json {
                return print_json(&r);
            }
            for p in &r.photos {
                outln!(
                    "photo {}\t{} vs {}\t{} pair(s), {} unpaired\tDice {:.3}\tIoU {:.3}",
                    p.photo_id.map_or("-".into(), |i| i.to_string()),
                    p.annotator_a,
                    p.annotator_b,
                    p.pairs.len(),
                    p.unpaired,
                    p.dice.mean,
                    p.iou.mean
                );
            }
            outln!(
                "overall: {} pair(s), Dice mean {:.3} median {:.3}, IoU mean {:.3} median {:.3}",
                r.dice.n,
                r.dice.mean,
                r.dice.median,
                r.iou.mean,
                r.iou.median
            );
        }
    }
    Ok(())
}

fn review(
    store: &mut Store,
    lesions: &[i64],
    action: ReviewAction,
    me: &str,
    role: Option<Role>,
    comment: &str,
) -> anyhow::Result<()> {
    for &id in lesions {
        let to = store.review_lesion(id, action, me, role, comment)?;
        outln!("lesion {id}: {}", to.as_str());
    }
    Ok(())
}

pub fn export(db: &Path, a: ExportArgs) -> anyhow::Result<()> {
    let store = open(db)?;
    let opts = ExportOptions {
        format: a.format,
        status: if a.any_status { None } else { Some(a.status) },
        worker_exe: crate::work::default_exe(),
    };
    let progress = crate::jobs::Progress::new();
    let bar = super::Bar::new(progress.clone());
    let r = export::export(&store, &a.out, &opts, &progress)?;
    drop(bar);
    if a.json {
        print_json(&r)?;
    } else {
        outln!("{} photo(s), {} lesion(s) written to {}", r.photos, r.lesions, r.out.display());
        for h in &r.held {
            outln!(
                "held back: photo {} ({} lesion(s)): {}",
                h.photo_id.map_or("-".into(), |i| i.to_string()),
                h.lesions,
                h.hold.as_str()
            );
        }
    }
    if !r.errors.is_empty() {
        for e in &r.errors {
            eprintln!("dermdesk: photo {}: {}", e.photo_id.map_or("-".into(), |i| i.to_string()), e.reason);
        }
        bail!("{} photo(s) could not be exported; the export is incomplete", r.errors.len());
    }
    Ok(())
}
