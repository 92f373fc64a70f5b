//! `charts import`: one file (CSV, TSV, xlsx) or one SS-MIX2 storage folder, in one
//! transaction. A file whose content was imported before is skipped whole; bad rows are
//! reported with where and why and the rest is kept; a file with no readable row at all is
//! refused (its mapping is surely wrong) and nothing of it is kept.

use super::encoding::{self, EncodingChoice, TextEncoding};
use super::mapping::MapSpec;
use super::table::{self, Item, TableFormat};
use super::{hl7, ssmix2};
use crate::error::{Error, Result};
use crate::store::{ChartCounts, ChartFormat, Store};
use serde::Serialize;
use std::path::Path;

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub encoding: EncodingChoice,
    /// Column mapping given for this import (over a profile's, over recognised headers).
    pub map: MapSpec,
    /// A saved profile to start from.
    pub profile: Option<String>,
    /// Save the mapping used under this name.
    pub save_profile: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BadRow {
    pub at: String,
    pub reason: String,
}

/// How many bad rows a report carries (all are stored).
pub const REPORT_BAD_ROWS: usize = 50;

#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    pub path: String,
    pub format: ChartFormat,
    pub encoding: Option<String>,
    #[serde(flatten)]
    pub counts: ChartCounts,
    /// The first bad rows (all are in the store).
    pub bad: Vec<BadRow>,
    /// Files in an SS-MIX2 folder outside the standard layout (not read).
    pub stray_files: u64,
    pub seconds: f64,
}

/// Imports a chart file or an SS-MIX2 folder.
pub fn import(store: &mut Store, path: &Path, opts: &ImportOptions) -> Result<ImportReport> {
    import_with_progress(store, path, opts, None)
}

/// The same, counting rows (or messages) done on `progress`; a cancel stops it before the
/// one transaction commits, so nothing of it is kept.
pub fn import_with_progress(
    store: &mut Store,
    path: &Path,
    opts: &ImportOptions,
    progress: Option<&crate::jobs::Progress>,
) -> Result<ImportReport> {
    let t = std::time::Instant::now();
    let mut report =
        if path.is_dir() { import_ssmix2(store, path, progress)? } else { import_table(store, path, opts, progress)? };
    report.seconds = t.elapsed().as_secs_f64();
    Ok(report)
}

/// Counts one row done; a cancelled job stops here.
fn tick(progress: Option<&crate::jobs::Progress>) -> Result<()> {
    if let Some(p) = progress {
        if p.is_cancelled() {
            return Err(Error::Cancelled);
        }
        p.add_done(1);
    }
    Ok(())
}

fn import_table(
    store: &mut Store,
    path: &Path,
    opts: &ImportOptions,
    progress: Option<&crate::jobs::Progress>,
) -> Result<ImportReport> {
    if !path.is_file() {
        return Err(Error::Invalid(format!("no such file: {}", path.display())));
    }
    let mut spec = MapSpec::default();
    let mut choice = opts.encoding;
    if let Some(name) = &opts.profile {
        let (saved, enc) = store
            .chart_profile(name)?
            .ok_or_else(|| Error::Invalid(format!("no column-map profile named {name:?}")))?;
        spec = saved;
        if choice == EncodingChoice::Auto {
            choice = enc;
        }
    }
    spec.overlay(&opts.map);
    let scan = encoding::scan_file(path)?;
    let spreadsheet = TableFormat::is_spreadsheet(path);
    let enc = if spreadsheet { None } else { Some(encoding::decide(choice, &scan, path)?) };
    let shown = path.display().to_string();
    let mut bad = Vec::new();
    let mut w = store.begin_chart_import()?;
    // The format is known once the file is opened; start with a guess and record the real one.
    let provisional = if spreadsheet { ChartFormat::Xlsx } else { ChartFormat::Csv };
    if !w.start_file(&shown, &scan.hash, provisional, enc.map(TextEncoding::as_str))? {
        let counts = w.commit(&format!("{shown} (already imported)"))?;
        return Ok(ImportReport {
            path: shown,
            format: provisional,
            encoding: enc.map(|e| e.as_str().to_owned()),
            counts,
            bad,
            stray_files: 0,
            seconds: 0.0,
        });
    }
    let mut each = |it: &Item| -> Result<()> {
        tick(progress)?;
        match it {
            Item::Row { line, row } => w.add(*line, row),
            Item::Bad { at, reason } => {
                if bad.len() < REPORT_BAD_ROWS {
                    bad.push(BadRow { at: at.clone(), reason: reason.clone() });
                }
                w.bad(at, reason)
            }
        }
    };
    let format = if spreadsheet {
        table::read_workbook(path, &spec, &mut |it| each(&it))?;
        ChartFormat::Xlsx
    } else {
        let f = read_pipelined(path, enc.unwrap_or(TextEncoding::Utf8), &spec, &mut each)?;
        if f == TableFormat::Tsv { ChartFormat::Tsv } else { ChartFormat::Csv }
    };
    let fc = w.file_counts();
    if fc.rows == 0 {
        let first = bad.first().map(|b| format!(" (first: {}: {})", b.at, b.reason)).unwrap_or_default();
        return Err(Error::Invalid(format!(
            "no row could be read, {} bad{first}; nothing was imported: {shown}",
            fc.bad_rows
        )));
    }
    w.set_format(format)?;
    let counts = w.commit(&shown)?;
    if let Some(name) = &opts.save_profile {
        store.save_chart_profile(name, &spec, choice)?;
    }
    Ok(ImportReport {
        path: shown,
        format,
        encoding: enc.map(|e| e.as_str().to_owned()),
        counts,
        bad,
        stray_files: 0,
        seconds: 0.0,
    })
}

/// Reads (decodes, splits, parses) on a second thread while this one writes, so a large
/// export takes about the writer's time on two cores. Rows travel in bounded batches, so
/// memory stays flat; spent batches go back to the reader, which frees their rows (freeing
/// them here, away from the thread that made them, costs the writer a lock per string).
fn read_pipelined(
    path: &Path,
    enc: TextEncoding,
    spec: &MapSpec,
    each: &mut dyn FnMut(&Item) -> Result<()>,
) -> Result<TableFormat> {
    const BATCH: usize = 2000;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(8);
    let (spent_tx, spent_rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(8);
    let (path2, spec2) = (path.to_path_buf(), spec.clone());
    let reader = std::thread::spawn(move || -> Result<TableFormat> {
        let mut batch = Vec::with_capacity(BATCH);
        let mut send = |it: Item| -> Result<()> {
            batch.push(it);
            if batch.len() == BATCH {
                let next = match spent_rx.try_recv() {
                    Ok(mut spent) => {
                        spent.clear();
                        spent
                    }
                    Err(_) => Vec::with_capacity(BATCH),
                };
                let full = std::mem::replace(&mut batch, next);
                // The writer hung up (it failed): stop reading; its error is the one reported.
                tx.send(full).map_err(|_| Error::Cancelled)?;
            }
            Ok(())
        };
        let (f, _) = table::read_delimited(&path2, enc, &spec2, &mut send)?;
        if !batch.is_empty() {
            tx.send(batch).map_err(|_| Error::Cancelled)?;
        }
        Ok(f)
    });
    let mut written: Result<()> = Ok(());
    for batch in &rx {
        for it in &batch {
            written = each(it);
            if written.is_err() {
                break;
            }
        }
        if written.is_err() {
            break;
        }
        // Full (the reader is behind on freeing): this one is freed here.
        let _ = spent_tx.try_send(batch);
    }
    drop(rx);
    let read = reader.join().map_err(|_| Error::Invalid(format!("the reader thread panicked: {}", path.display())))?;
    written?;
    read
}

fn import_ssmix2(store: &mut Store, root: &Path, progress: Option<&crate::jobs::Progress>) -> Result<ImportReport> {
    let (files, stray) = ssmix2::scan(root)?;
    if files.is_empty() {
        return Err(Error::Invalid(format!(
            "no SS-MIX2 messages here (expected ROOT/123/456/ID/YYYYMMDD/PPR-01/... files): {}",
            root.display()
        )));
    }
    if let Some(p) = progress {
        p.set_total(files.len() as u64, true);
    }
    let mut bad = Vec::new();
    let mut w = store.begin_chart_import()?;
    for f in &files {
        tick(progress)?;
        let shown = f.path.display().to_string();
        let bytes = std::fs::read(&f.path).map_err(|e| Error::io("cannot read the message", e, &f.path))?;
        let hash = blake3::hash(&bytes).to_hex().to_string();
        if !w.start_file(&shown, &hash, ChartFormat::Hl7, Some("iso_2022_jp"))? {
            continue;
        }
        let mut report_bad = |w: &mut crate::store::ChartWriter<'_>, at: String, reason: String| -> Result<()> {
            if bad.len() < REPORT_BAD_ROWS {
                bad.push(BadRow { at: at.clone(), reason: reason.clone() });
            }
            w.bad(&at, &reason)
        };
        if ssmix2::cancelled(&f.path) {
            continue;
        }
        let msg = match hl7::parse(&hl7::decode(&bytes)) {
            Ok(m) => m,
            Err(reason) => {
                report_bad(&mut w, shown.clone(), reason)?;
                continue;
            }
        };
        for p in &msg.problems {
            report_bad(&mut w, shown.clone(), p.clone())?;
        }
        let chart_no = match super::chart_no::normalize(&msg.patient_id) {
            Ok(c) => c,
            Err(e) => {
                report_bad(&mut w, shown.clone(), e.to_string())?;
                continue;
            }
        };
        let folder = super::chart_no::normalize(&f.patient_id).ok();
        if folder.as_deref() != Some(chart_no.as_str()) {
            report_bad(
                &mut w,
                shown.clone(),
                format!("PID-3 {:?} differs from the patient folder {:?}", msg.patient_id, f.patient_id),
            )?;
            continue;
        }
        let row = super::records::RowRecords {
            chart_no,
            facts: super::records::PatientFacts { sex: msg.sex, birth_date: msg.birth_date },
            records: msg.records,
        };
        w.add(1, &row)?;
    }
    let counts = w.commit(&format!("SS-MIX2 {}", root.display()))?;
    Ok(ImportReport {
        path: root.display().to_string(),
        format: ChartFormat::Hl7,
        encoding: Some("iso_2022_jp".into()),
        counts,
        bad,
        stray_files: stray.len() as u64,
        seconds: 0.0,
    })
}
