//! The read commands (`list`, `stats`, `show`, `runs`, `refusals`, `rules`) and
//! `set-modality`.

use super::print_json;
use crate::modality::{Modality, Rule};
use crate::store::{PhotoFilter, SortKey, StatusFilter, Store};
use anyhow::{anyhow, bail};
use std::path::Path;

#[derive(clap::Args, Debug, Default)]
pub struct JsonArg {
    /// One JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// One JSON object per line per photo.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub photos: PhotoArgs,
    #[arg(long, value_enum, default_value_t = StatusFilter::All)]
    pub status: StatusFilter,
    #[arg(long, value_enum, default_value_t = SortKey::Imported)]
    pub sort: SortKey,
    #[arg(long)]
    pub desc: bool,
    #[arg(long)]
    pub limit: Option<u64>,
    /// Only photos where this classifier's newest result disagrees with the chart's diagnosis.
    #[arg(long, value_name = "MODEL")]
    pub disagrees_with: Option<String>,
    /// Only photos whose answer changed between two versions of a model (as `models compare`
    /// lists them).
    #[arg(long, value_name = "MODEL:FROM:TO")]
    pub changed_between: Option<crate::store::VersionPair>,
}

/// Which photos, as `list` and `infer` take them.
#[derive(clap::Args, Debug)]
pub struct PhotoArgs {
    /// Only these modalities (repeat or comma-separate).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub modality: Vec<Modality>,
    /// Captured in or after this period: YYYY, YYYY-MM or YYYY-MM-DD.
    #[arg(long, value_parser = super::values::period)]
    pub from: Option<String>,
    /// Captured in or before this period (a year or month means all of it).
    #[arg(long, value_parser = super::values::period)]
    pub to: Option<String>,
    /// Take the file's time as the capture time of photos that have none.
    #[arg(long)]
    pub file_dates: bool,
    /// Text one of the photo's paths contains (case-insensitive).
    #[arg(long)]
    pub path: Option<String>,
}

impl PhotoArgs {
    /// The filter these options give (every file status, the default order).
    pub fn filter(&self) -> PhotoFilter {
        PhotoFilter {
            modalities: self.modality.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            file_dates: self.file_dates,
            path_contains: self.path.clone().unwrap_or_default(),
            ..Default::default()
        }
    }
}

fn open(db: &Path) -> anyhow::Result<Store> {
    if !db.exists() {
        bail!("no database here (import something first, or give --db): {}", db.display());
    }
    Ok(Store::open(db)?)
}

fn filter_from(a: &ListArgs) -> PhotoFilter {
    PhotoFilter {
        status: a.status,
        sort: a.sort,
        descending: a.desc,
        disagrees_with: a.disagrees_with.clone(),
        changed_between: a.changed_between.clone(),
        ..a.photos.filter()
    }
}

/// What `list --json` adds to each photo from the charts. No field holds a chart number.
#[derive(serde::Serialize)]
struct ListJson<'a> {
    #[serde(flatten)]
    row: &'a crate::store::PhotoListRow,
    research_id: Option<String>,
    visit_date: Option<String>,
    diagnosis: Option<serde_json::Value>,
    link: Option<serde_json::Value>,
    opted_out: bool,
    /// Privacy screening and review (None until screened or reviewed).
    screening: Option<crate::store::PhotoScreening>,
    /// Lesion masks of the photo (by content hash).
    masks: Vec<crate::store::MaskSummary>,
    /// Per model name, its newest result for the photo: version, every class most probable
    /// first (`top`), `agrees_with_chart` (see `models::agree`).
    predictions: std::collections::BTreeMap<String, serde_json::Value>,
}

pub fn list(db: &Path, a: ListArgs) -> anyhow::Result<()> {
    let store = open(db)?;
    let filter = filter_from(&a);
    let registry = store.optout_registry()?;
    let synonyms = store.diagnosis_synonyms()?;
    let predictions = if a.json { Some(crate::models::agree::PredictionReader::new(&store)?) } else { None };
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut broken_pipe = false;
    store.for_each_photo(&filter, a.limit, |row| {
        if broken_pipe {
            return Ok(());
        }
        let res = if a.json {
            let link = store.link_of(row.id)?;
            let linked = link.as_ref().filter(|l| l.status.is_linked());
            let line = ListJson {
                row: &row,
                research_id: link.as_ref().and_then(|l| l.research_id.clone()),
                visit_date: linked.and_then(|l| l.visit_date.clone()),
                diagnosis: linked.and_then(|l| l.diagnosis.as_ref()).map(|d| {
                    let code = crate::taxonomy::Taxonomy::get().map(&d.text, d.code.as_deref(), &synonyms).map(|(c, _)| c);
                    serde_json::json!({"code": code, "text": d.text, "source": d.source.as_str()})
                }),
                link: link.as_ref().map(|l| {
                    serde_json::json!({"status": l.status.as_str(), "reason": l.reason.as_str(), "confidence": l.confidence})
                }),
                opted_out: store.withheld(&registry, row.id)?.is_some(),
                screening: store.screening(row.id)?,
                masks: store.mask_summaries(&row.hash)?,
                predictions: match &predictions {
                    Some(reader) => reader
                        .of(&store, row.id, &row.hash)?
                        .into_iter()
                        .map(|p| {
                            let mut v = serde_json::to_value(&p).unwrap_or_default();
                            if let Some(o) = v.as_object_mut() {
                                o.remove("model");
                            }
                            (p.model, v)
                        })
                        .collect(),
                    None => Default::default(),
                },
            };
            serde_json::to_writer(&mut out, &line).map_err(std::io::Error::from).and_then(|_| writeln!(out))
        } else {
            writeln!(
                out,
                "{}\t{}\t{}x{}\t{}\t{}\t{}",
                row.id,
                row.modality.as_str(),
                row.width,
                row.height,
                row.captured_at.as_deref().unwrap_or("-"),
                &row.hash[..12],
                row.paths.first().or(row.missing_paths.first()).map(String::as_str).unwrap_or("-")
            )
        };
        // `dermdesk list | head` closes the pipe early: that is not an error.
        if let Err(e) = res {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                broken_pipe = true;
            } else {
                return Err(crate::Error::io("cannot write the list", e, Path::new("stdout")));
            }
        }
        Ok(())
    })?;
    let _ = out.flush();
    Ok(())
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum StatsBy {
    /// Linked photos per chart and pathology diagnosis, by modality.
    Diagnosis,
}

#[derive(clap::Args, Debug, Default)]
pub struct StatsArgs {
    #[arg(long)]
    pub json: bool,
    #[arg(long, value_enum)]
    pub by: Option<StatsBy>,
    /// Study period start for --by diagnosis (default 2003-01-01).
    #[arg(long)]
    pub from: Option<String>,
    /// Study period end for --by diagnosis (default 2018-11-30).
    #[arg(long)]
    pub to: Option<String>,
}

pub fn stats(db: &Path, a: StatsArgs) -> anyhow::Result<()> {
    if let Some(StatsBy::Diagnosis) = a.by {
        let store = open(db)?;
        let s = crate::charts::stats::diagnosis_stats(&store, a.from.as_deref(), a.to.as_deref())?;
        if a.json {
            return print_json(&s);
        }
        for (title, rows) in [("chart diagnosis", &s.chart), ("pathology diagnosis", &s.pathology)] {
            outln!("{title}, visits {} to {}", s.from, s.to);
            for r in rows {
                let modalities: Vec<String> = r.by_modality.iter().map(|(m, n)| format!("{m} {n}")).collect();
                outln!(
                    "  {:<8} {:>6}  {}  [{}]  {}",
                    r.code.as_deref().unwrap_or("?"),
                    r.total,
                    r.name_ja.as_deref().or(r.texts.first().map(String::as_str)).unwrap_or(""),
                    r.benign_malignant.as_deref().unwrap_or("unmapped"),
                    modalities.join(", ")
                );
            }
        }
        outln!("unmapped diagnosis texts (add with `dermdesk charts synonym set TEXT CODE`)");
        for u in s.unmapped.iter().take(30) {
            outln!("  {:>6}  {}", u.records, u.text);
        }
        return Ok(());
    }
    stats_photos(db, a.json)
}

fn stats_photos(db: &Path, json: bool) -> anyhow::Result<()> {
    let a = JsonArg { json };
    let store = open(db)?;
    let s = store.stats()?;
    if a.json {
        return print_json(&s);
    }
    outln!("photos      {}", s.photos);
    outln!("locations   {} ({} missing; {} photos with no file left)", s.locations, s.missing, s.photos_missing);
    outln!("refused     {}", s.errors);
    for (reason, n) in &s.errors_by_reason {
        outln!("  {reason:<12}{n}");
    }
    outln!("modality");
    for (m, n) in &s.by_modality {
        outln!("  {m:<15}{n}");
    }
    outln!("format");
    for (f, n) in &s.by_format {
        outln!("  {f:<15}{n}");
    }
    outln!("roots       {}", s.roots.join(", "));
    outln!("import runs {} ({} interrupted)", s.import_runs, s.interrupted_runs);
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    pub id: i64,
    #[arg(long)]
    pub json: bool,
}

pub fn show(db: &Path, a: ShowArgs) -> anyhow::Result<()> {
    let store = open(db)?;
    let detail = store.photo(a.id)?.ok_or_else(|| anyhow!("no photo with id {}", a.id))?;
    let audit = store.audit_for_photo(a.id)?;
    if a.json {
        let mut v = serde_json::to_value(&detail)?;
        v["audit"] = serde_json::to_value(&audit)?;
        return print_json(&v);
    }
    let r = &detail.row;
    outln!("photo {} ({}), {}x{} {}, {} bytes", r.id, r.hash, r.width, r.height, r.format, r.byte_size);
    let why = detail.modality_detail.as_deref().map(|d| {
        use crate::modality::{CueDetail, CueReason, model::ModelWhy};
        match (ModelWhy::from_json(d), CueDetail::from_json(d), CueReason::from_json(d)) {
            (Some(w), _, _) => w.to_string(),
            (_, Some(c), _) => format!(
                "{} (the modality model was unsure: {} at {:.0}%)",
                c.cue,
                c.model_unsure.modality.as_str(),
                c.model_unsure.p * 100.0
            ),
            (_, _, Some(reason)) => reason.to_string(),
            _ => d.to_owned(),
        }
    });
    outln!(
        "modality {} ({}{})",
        r.modality.as_str(),
        r.modality_source.as_str(),
        why.map(|d| format!(": {d}")).unwrap_or_default()
    );
    outln!("captured {} ({})", r.captured_at.as_deref().unwrap_or("-"), r.captured_source.as_deref().unwrap_or("-"));
    for l in &detail.locations {
        match &l.missing_since {
            Some(since) => outln!("missing since {since}: {}", l.path),
            None => outln!("file: {}", l.path),
        }
    }
    for (ifd, tag, value) in &detail.exif {
        outln!("exif {ifd} {tag}: {value}");
    }
    for a in &audit {
        outln!("audit {} {} {}: {}", a.at, a.actor, a.action, a.detail);
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct RunsArgs {
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

pub fn runs(db: &Path, a: RunsArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    store.mark_dead_runs_interrupted()?;
    let runs = store.import_runs(a.limit)?;
    for r in &runs {
        if a.json {
            print_json(r)?;
        } else {
            outln!(
                "run {} {} {} -> {}: {} seen, {} new, {} new locations, {} unchanged, {} refused, {} missing{}",
                r.id,
                r.status.as_str(),
                r.started_at,
                r.finished_at.as_deref().unwrap_or("-"),
                r.scanned,
                r.new_photos,
                r.new_locations,
                r.unchanged,
                r.refused,
                r.missing,
                r.message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

pub fn refusals(db: &Path, a: RunsArgs) -> anyhow::Result<()> {
    let store = open(db)?;
    for r in store.refusals(0, a.limit as u64)? {
        if a.json {
            print_json(&r)?;
        } else {
            outln!("{}\t{}\t{}", r.reason_code.as_str(), r.reason, r.path);
        }
    }
    Ok(())
}

/// A modality to set, or `auto` for the automatic one (folder rules, then image cues).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModalityOrAuto {
    Set(Modality),
    Auto,
}

impl clap::ValueEnum for ModalityOrAuto {
    fn value_variants<'a>() -> &'a [Self] {
        const ALL: [ModalityOrAuto; 6] = [
            ModalityOrAuto::Set(Modality::Clinical),
            ModalityOrAuto::Set(Modality::Dermoscopy),
            ModalityOrAuto::Set(Modality::Visia),
            ModalityOrAuto::Set(Modality::Histopathology),
            ModalityOrAuto::Set(Modality::Other),
            ModalityOrAuto::Auto,
        ];
        &ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            ModalityOrAuto::Set(m) => m.as_str(),
            ModalityOrAuto::Auto => "auto",
        }))
    }
}

#[derive(clap::Args, Debug)]
pub struct SetModalityArgs {
    /// The modality, or auto to give the photos their automatic modality back.
    #[arg(value_enum)]
    pub modality: ModalityOrAuto,
    /// Photo ids.
    #[arg(required = true)]
    pub ids: Vec<i64>,
}

pub fn set_modality(db: &Path, a: SetModalityArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    let (n, what) = match a.modality {
        ModalityOrAuto::Set(m) => (store.set_modality(&a.ids, m)?.len(), m.as_str()),
        ModalityOrAuto::Auto => (store.reset_modality(&a.ids)?.len(), "their automatic modality"),
    };
    outln!("{n} photo(s) set to {what}");
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    #[arg(long)]
    pub json: bool,
    /// Replace the rules with these, in order: PATTERN=MODALITY (e.g. '*dermo*=dermoscopy').
    #[arg(long, value_name = "PATTERN=MODALITY", value_parser = super::values::rule)]
    pub set: Vec<(String, Modality)>,
    /// The VISIA system's frame sizes, e.g. '3456x5184,2592x3888' ('' clears them).
    #[arg(long, value_name = "WxH,...")]
    pub visia: Option<String>,
    /// Decide again the modality of every photo not set by hand, with the current rules.
    #[arg(long)]
    pub reapply: bool,
}

pub fn rules(db: &Path, a: RulesArgs) -> anyhow::Result<()> {
    let mut store = Store::open(db)?;
    if !a.set.is_empty() {
        let rules: Vec<Rule> = a
            .set
            .iter()
            .map(|(pattern, modality)| Rule { id: 0, pattern: pattern.clone(), modality: *modality, enabled: true })
            .collect();
        store.set_rules(&rules)?;
    }
    if let Some(v) = &a.visia {
        store.set_visia_sizes(&crate::modality::parse_sizes(v)?)?;
    }
    if a.reapply {
        let n = store.reapply_modality()?;
        eprintln!("{n} photo(s) changed modality");
    }
    let rules = store.rules()?;
    let visia = store.visia_sizes()?;
    if a.json {
        return print_json(&serde_json::json!({ "rules": rules, "visia_sizes": visia }));
    }
    for r in rules {
        outln!("{}\t{}\t{}", if r.enabled { "on" } else { "off" }, r.pattern, r.modality.as_str());
    }
    outln!("visia sizes\t{}", crate::modality::format_sizes(&visia));
    Ok(())
}
