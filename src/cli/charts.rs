//! `dermdesk charts ...`, `dermdesk link` and `dermdesk optout ...`: chart import, path
//! rules, the link queue and a person's decisions, synonyms, the timeline, the audited
//! chart-number table export, the disclosure report and the opt-out registry. Thin over
//! `crate::charts` and the store.

use super::print_json;
use crate::charts::{self, EncodingChoice, MapSpec, path_rules::PathRule};
use crate::store::{OptOutKind, Store};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum EncodingArg {
    #[default]
    Auto,
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    #[value(alias = "shift_jis", alias = "sjis")]
    Cp932,
}

impl From<EncodingArg> for EncodingChoice {
    fn from(e: EncodingArg) -> Self {
        match e {
            EncodingArg::Auto => EncodingChoice::Auto,
            EncodingArg::Utf8 => EncodingChoice::Utf8,
            EncodingArg::Cp932 => EncodingChoice::Cp932,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct ChartsArgs {
    #[command(subcommand)]
    pub which: ChartsCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum ChartsCommand {
    /// Import an EMR export (CSV, TSV, xlsx) or an SS-MIX2 storage folder.
    Import {
        #[arg(value_name = "FILE|DIR")]
        path: PathBuf,
        #[arg(long, value_enum, default_value = "auto")]
        encoding: EncodingArg,
        /// Which column holds a field, e.g. chart_no=患者コード or date=#2; `site=` reads the
        /// field from no column (repeatable).
        #[arg(long = "map", value_name = "FIELD=COLUMN")]
        map: Vec<String>,
        /// Start from a saved column-map profile.
        #[arg(long)]
        profile: Option<String>,
        /// Save the mapping used as a profile under this name.
        #[arg(long, value_name = "NAME")]
        save_profile: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show how a file would be read: encoding, header, mapping, first rows. Writes nothing.
    Preview {
        path: PathBuf,
        #[arg(long, value_enum, default_value = "auto")]
        encoding: EncodingArg,
        #[arg(long = "map", value_name = "FIELD=COLUMN")]
        map: Vec<String>,
        #[arg(long)]
        profile: Option<String>,
        #[arg(long, default_value_t = 10)]
        rows: usize,
        #[arg(long)]
        json: bool,
    },
    /// The chart import log, newest first, with the bad rows of each.
    Imports {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Rules that pull chart numbers and dates from folder and file names.
    PathRule {
        #[command(subcommand)]
        which: PathRuleCommand,
    },
    /// Links waiting for a person (ambiguous, or a chart number with no visit).
    Queue {
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Confirm a photo's suggested link, or pick one of its candidate visits (audited).
    Confirm {
        photo: i64,
        #[arg(long, value_name = "YYYY-MM-DD")]
        visit: Option<String>,
    },
    /// Link a photo to a patient (chart number) and visit by hand (audited).
    Fix { photo: i64, chart: String, visit: String },
    /// Say a photo belongs to no patient (audited).
    Unlink { photo: i64 },
    /// A patient's records and photos on one time axis, by research ID and age band.
    Timeline {
        research_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Diagnosis synonyms: free text to taxonomy code.
    Synonym {
        #[command(subcommand)]
        which: SynonymCommand,
    },
    /// Export the chart number to research ID table (re-identifies patients; audited).
    KeyExport {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Why it is exported (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Everything held about one chart number (a patient's request; audited).
    Disclose {
        chart: String,
        #[arg(long)]
        json: bool,
    },
    /// Write invented (not real) chart exports, an SS-MIX2 tree and a photo archive layout.
    Demo(super::charts_demo::DemoArgs),
}

#[derive(clap::Subcommand, Debug)]
pub enum PathRuleCommand {
    /// Add a rule (regex with (?P<chart>...) and optional (?P<date>...), or a template like
    /// '{chart}_{date}'); shows what it pulls from real paths first.
    Add {
        pattern: String,
        #[arg(long, default_value_t = 20)]
        show: usize,
    },
    /// What a rule would pull from the photos' real paths (writes nothing).
    Test {
        pattern: String,
        #[arg(long, default_value_t = 20)]
        show: usize,
        #[arg(long)]
        json: bool,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    Remove {
        id: i64,
    },
}

#[derive(clap::Subcommand, Debug)]
pub enum SynonymCommand {
    Set {
        text: String,
        code: String,
    },
    Remove {
        text: String,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

fn open(db: &Path) -> anyhow::Result<Store> {
    Ok(Store::open(db)?)
}

fn map_spec(pairs: &[String]) -> anyhow::Result<MapSpec> {
    let mut spec = MapSpec::default();
    for p in pairs {
        spec.add(p)?;
    }
    Ok(spec)
}

pub fn run(db: &Path, a: ChartsArgs) -> anyhow::Result<()> {
    match a.which {
        ChartsCommand::Import { path, encoding, map, profile, save_profile, json } => {
            let mut store = open(db)?;
            let opts = charts::ImportOptions { encoding: encoding.into(), map: map_spec(&map)?, profile, save_profile };
            let r = charts::import(&mut store, &path, &opts)?;
            if json {
                return print_json(&r);
            }
            let c = &r.counts;
            if c.files == c.files_already_imported && c.files > 0 && r.format != crate::store::ChartFormat::Hl7 {
                outln!("already imported (same content); nothing changed: {}", r.path);
                return Ok(());
            }
            outln!(
                "{} {} ({}): {} file(s), {} already imported; {} rows, {} new records, {} duplicates, {} new patients, {} bad rows in {:.2} s",
                r.format.as_str(),
                r.path,
                r.encoding.as_deref().unwrap_or("-"),
                c.files,
                c.files_already_imported,
                c.rows,
                c.records_new,
                c.records_duplicate,
                c.patients_new,
                c.bad_rows,
                r.seconds
            );
            if !c.by_kind.is_empty() {
                let kinds: Vec<String> = c.by_kind.iter().map(|(k, n)| format!("{} {n}", k.as_str())).collect();
                outln!("  new records by kind: {}", kinds.join(", "));
            }
            for b in &r.bad {
                outln!("  bad {}: {}", b.at, b.reason);
            }
            if (c.bad_rows as usize) > r.bad.len() {
                outln!("  ... and {} more (dermdesk charts imports)", c.bad_rows as usize - r.bad.len());
            }
            Ok(())
        }
        ChartsCommand::Preview { path, encoding, map, profile, rows, json } => {
            let store = open(db)?;
            let mut spec = MapSpec::default();
            let mut choice: EncodingChoice = encoding.into();
            if let Some(name) = profile {
                let (saved, enc) = store.chart_profile(&name)?.with_context(|| format!("no profile named {name:?}"))?;
                spec = saved;
                if choice == EncodingChoice::Auto {
                    choice = enc;
                }
            }
            spec.overlay(&map_spec(&map)?);
            let scan = charts::encoding::scan_file(&path)?;
            let enc = charts::encoding::decide(choice, &scan, &path)?;
            let p = charts::table::preview(&path, enc, &spec, rows)?;
            if json {
                let mut v = serde_json::to_value(&p)?;
                v["encoding"] = serde_json::json!(enc.as_str());
                return print_json(&v);
            }
            outln!("{} {} ({})", p.format.as_str(), path.display(), enc.as_str());
            match (&p.map, &p.map_error) {
                (Some(m), _) => {
                    for (f, i) in &m.columns {
                        outln!(
                            "  {:<14} <- column {} {:?}",
                            f.as_str(),
                            i + 1,
                            p.headers.get(*i).map(String::as_str).unwrap_or("")
                        );
                    }
                }
                (None, Some(e)) => outln!("  no mapping: {e}"),
                _ => {}
            }
            for r in &p.rows {
                outln!("  | {}", r.join(" | "));
            }
            Ok(())
        }
        ChartsCommand::Imports { limit, json } => {
            let store = open(db)?;
            for i in store.chart_imports(limit)? {
                let bad = store.chart_import_errors(i.id, 20)?;
                if json {
                    let mut v = serde_json::to_value(&i)?;
                    v["bad"] = serde_json::to_value(
                        bad.iter().map(|(at, why)| serde_json::json!({"at": at, "reason": why})).collect::<Vec<_>>(),
                    )?;
                    print_json(&v)?;
                } else {
                    outln!(
                        "{} {} {} {}: {} rows, {} records, {} duplicates, {} bad: {}",
                        i.id,
                        i.imported_at,
                        i.format,
                        i.encoding.as_deref().unwrap_or("-"),
                        i.rows,
                        i.records,
                        i.duplicates,
                        i.bad_rows,
                        i.path
                    );
                    for (at, why) in bad {
                        outln!("  bad {at}: {why}");
                    }
                }
            }
            Ok(())
        }
        ChartsCommand::PathRule { which } => path_rule(db, which),
        ChartsCommand::Queue { limit, json } => {
            let store = open(db)?;
            for l in store.link_queue(limit)? {
                if json {
                    print_json(&l)?;
                } else {
                    outln!(
                        "photo {}\t{}\t{}\t{}\tdate {} ({})\tcandidates {}",
                        l.photo_id,
                        l.status.as_str(),
                        l.reason.as_str(),
                        l.research_id.as_deref().unwrap_or("-"),
                        l.photo_date.as_deref().unwrap_or("-"),
                        l.date_source.map(|s| s.as_str()).unwrap_or("-"),
                        l.candidates.join(",")
                    );
                }
            }
            Ok(())
        }
        ChartsCommand::Confirm { photo, visit } => {
            let mut store = open(db)?;
            let l = store.confirm_link(photo, visit.as_deref())?;
            outln!(
                "photo {photo}: confirmed {} {}",
                l.research_id.as_deref().unwrap_or("-"),
                l.visit_date.as_deref().unwrap_or("-")
            );
            Ok(())
        }
        ChartsCommand::Fix { photo, chart, visit } => {
            let mut store = open(db)?;
            let l = store.fix_link(photo, &chart, &visit)?;
            outln!(
                "photo {photo}: linked by hand to {} {}",
                l.research_id.as_deref().unwrap_or("-"),
                l.visit_date.as_deref().unwrap_or("-")
            );
            Ok(())
        }
        ChartsCommand::Unlink { photo } => {
            let mut store = open(db)?;
            store.unlink(photo)?;
            outln!("photo {photo}: unlinked");
            Ok(())
        }
        ChartsCommand::Timeline { research_id, json } => {
            let store = open(db)?;
            let t = charts::timeline::timeline(&store, &research_id)?;
            if json {
                return print_json(&t);
            }
            outln!(
                "{} ({}), {}",
                t.research_id,
                t.sex.as_deref().unwrap_or("-"),
                t.age_band_first.as_deref().map(|a| format!("age {a} at first visit")).unwrap_or_default()
            );
            for e in &t.events {
                outln!("{}\t{}\t{}\t{}", e.date, e.age_band.as_deref().unwrap_or("-"), e.kind, e.text);
            }
            Ok(())
        }
        ChartsCommand::Synonym { which } => {
            let mut store = open(db)?;
            match which {
                SynonymCommand::Set { text, code } => {
                    store.set_diagnosis_synonym(&text, &code)?;
                }
                SynonymCommand::Remove { text } => {
                    if !store.remove_diagnosis_synonym(&text)? {
                        bail!("no synonym {text:?}");
                    }
                }
                SynonymCommand::List { json } => {
                    let mut all: Vec<(String, String)> = store.diagnosis_synonyms()?.into_iter().collect();
                    all.sort();
                    for (t, c) in all {
                        if json {
                            print_json(&serde_json::json!({"text": t, "code": c}))?;
                        } else {
                            outln!("{t}\t{c}");
                        }
                    }
                }
            }
            Ok(())
        }
        ChartsCommand::KeyExport { out, reason } => {
            let mut store = open(db)?;
            if out.exists() {
                bail!("will not overwrite: {}", out.display());
            }
            let rows = store.export_research_key_table(&reason)?;
            let mut text = String::from("chart_no,research_id\n");
            for (c, r) in &rows {
                text.push_str(&format!("{c},{r}\n"));
            }
            std::fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("{} patients written (audited): {}", rows.len(), out.display());
            Ok(())
        }
        ChartsCommand::Disclose { chart, json } => {
            let mut store = open(db)?;
            let d = store.disclosure(&chart)?;
            if json {
                return print_json(&d);
            }
            outln!(
                "chart number {}: {}",
                d.chart_no,
                d.patient.as_ref().map(|p| p.research_id.as_str()).unwrap_or("not in the charts")
            );
            if let Some(o) = &d.optout {
                outln!("opt-out: {} since {} ({})", o.kind.as_str(), o.added_at, o.note);
            }
            for r in &d.records {
                outln!("record {}\t{}\t{}\t{}", r.date, r.kind.as_str(), r.text, r.code.as_deref().unwrap_or(""));
            }
            for p in &d.photos {
                outln!(
                    "photo {}\t{}\t{}",
                    p.photo_id,
                    p.link.as_ref().map(|l| l.status.as_str()).unwrap_or("not linked"),
                    p.paths.join(" | ")
                );
            }
            Ok(())
        }
        ChartsCommand::Demo(a) => super::charts_demo::run(a),
    }
}

fn path_rule(db: &Path, which: PathRuleCommand) -> anyhow::Result<()> {
    match which {
        PathRuleCommand::Add { pattern, show } => {
            let mut store = open(db)?;
            preview_rule(&store, &pattern, show, false)?;
            let id = store.add_path_rule(&pattern)?;
            outln!("added path rule {id} (used from the next `dermdesk link`)");
            Ok(())
        }
        PathRuleCommand::Test { pattern, show, json } => preview_rule(&open(db)?, &pattern, show, json),
        PathRuleCommand::List { json } => {
            let store = open(db)?;
            let rules = store.path_rules()?;
            if json {
                return print_json(&rules);
            }
            for r in rules {
                outln!("{}\t{}\t{}", r.id, if r.enabled { "on" } else { "off" }, r.pattern);
            }
            Ok(())
        }
        PathRuleCommand::Remove { id } => {
            open(db)?.remove_path_rule(id)?;
            outln!("removed path rule {id}");
            Ok(())
        }
    }
}

/// Runs a rule over (up to 100,000 of) the real photo paths and shows what it pulls.
fn preview_rule(store: &Store, pattern: &str, show: usize, json: bool) -> anyhow::Result<()> {
    let rule = PathRule::new(0, pattern)?;
    let paths = store.sample_paths(100_000)?;
    let mut matched = Vec::new();
    for p in &paths {
        if let Some(m) = rule.apply(p) {
            matched.push((p.clone(), m));
        }
    }
    if json {
        let sample: Vec<_> = matched
            .iter()
            .take(show)
            .map(|(p, m)| serde_json::json!({"path": p, "chart_no": m.chart_no, "date": m.date.map(|d| d.iso()), "date_error": m.date_error}))
            .collect();
        return print_json(&serde_json::json!({"paths": paths.len(), "matched": matched.len(), "sample": sample}));
    }
    outln!("{pattern}: matches {} of {} paths", matched.len(), paths.len());
    for (p, m) in matched.iter().take(show) {
        let date = match (&m.date, &m.date_error) {
            (Some(d), _) => d.iso(),
            (None, Some(e)) => format!("bad date: {e}"),
            (None, None) => "-".into(),
        };
        outln!("  chart {}  date {}  {}", m.chart_no, date, p);
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct LinkArgs {
    /// Days between a photo and a visit that still link (saved for later runs; default 7).
    #[arg(long)]
    pub window: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

pub fn link(db: &Path, a: LinkArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    let r = charts::link::run(&mut store, a.window)?;
    if a.json {
        return print_json(&r);
    }
    outln!("{} photos linked against the charts (window {} days) in {:.2} s", r.photos, r.window_days, r.seconds);
    for (k, v) in &r.by_status {
        outln!("  {k:<10} {v}");
    }
    for (k, v) in &r.by_reason {
        outln!("    {k:<26} {v}");
    }
    if r.kept_by_person > 0 {
        outln!("  {} decided by a person, left as they were", r.kept_by_person);
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct OptOutArgs {
    #[command(subcommand)]
    pub which: OptOutCommand,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum OptOutKindArg {
    #[default]
    Refused,
    Suspended,
}

#[derive(clap::Subcommand, Debug)]
pub enum OptOutCommand {
    /// Add chart numbers (any spelling: fullwidth, hyphens, leading zeros).
    Add {
        #[arg(required = true)]
        charts: Vec<String>,
        #[arg(long, value_enum, default_value = "refused")]
        kind: OptOutKindArg,
        #[arg(long, default_value = "")]
        note: String,
    },
    Remove {
        #[arg(required = true)]
        charts: Vec<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Add every chart number in a text file (one per line, or the first CSV column).
    Import {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "refused")]
        kind: OptOutKindArg,
        #[arg(long, default_value = "")]
        note: String,
    },
    List {
        #[arg(long)]
        json: bool,
    },
}

fn kind(k: OptOutKindArg) -> OptOutKind {
    match k {
        OptOutKindArg::Refused => OptOutKind::Refused,
        OptOutKindArg::Suspended => OptOutKind::Suspended,
    }
}

pub fn optout(db: &Path, a: OptOutArgs) -> anyhow::Result<()> {
    let mut store = open(db)?;
    match a.which {
        OptOutCommand::Add { charts, kind: k, note } => {
            let n = store.add_optouts(&charts, kind(k), &note)?;
            outln!("{n} chart number(s) added to the opt-out registry");
        }
        OptOutCommand::Remove { charts, note } => {
            let n = store.remove_optouts(&charts, &note)?;
            outln!("{n} chart number(s) removed from the opt-out registry");
        }
        OptOutCommand::Import { file, kind: k, note } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let scan = charts::encoding::scan_file(&file)?;
            let enc = charts::encoding::decide(EncodingChoice::Auto, &scan, &file)?;
            let text = charts::encoding::decode_bytes(&bytes, enc);
            let mut numbers = Vec::new();
            for (i, line) in text.lines().enumerate() {
                let first = line.split([',', '\t']).next().unwrap_or("").trim().trim_matches('"');
                if first.is_empty() {
                    continue;
                }
                match charts::chart_no::normalize(first) {
                    Ok(_) => numbers.push(first.to_owned()),
                    Err(e) if i == 0 => eprintln!("line 1 taken as a header ({e})"),
                    Err(e) => bail!("line {}: {e}: {}", i + 1, file.display()),
                }
            }
            let n = store.add_optouts(&numbers, kind(k), &note)?;
            outln!("{n} chart number(s) added to the opt-out registry ({} read)", numbers.len());
        }
        OptOutCommand::List { json } => {
            let rows = store.optouts()?;
            if json {
                for r in &rows {
                    print_json(r)?;
                }
            } else {
                for r in rows {
                    outln!(
                        "{}\t{}\t{}\t{}\t{}",
                        r.chart_no,
                        r.kind.as_str(),
                        r.added_at,
                        r.research_id.as_deref().unwrap_or("-"),
                        r.note
                    );
                }
            }
        }
    }
    Ok(())
}
