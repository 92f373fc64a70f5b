//! `dermdesk bench charts`: import of a large invented CP932 export against
//! `pandas.read_csv(encoding="cp932")` on the same file, linking stand-in photos against it,
//! and the linker's precision and recall on an archive with known truth.

use super::median;
use crate::charts::demo::{self, Expect, Rng};
use crate::charts::link::LinkStatus;
use crate::store::{StandIn, Store};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub fn run(rows: u64, photos: usize, repeats: usize, json: bool) -> anyhow::Result<()> {
    let work = super::tempfile_dir("dermdesk-bench-charts")?;
    let csv = work.join("visits_cp932.csv");
    let t = Instant::now();
    // The patients are made again after the import (same seed): they are not held during it.
    drop(demo::write_big_visits_csv(&csv, 16, rows)?);
    let bytes = std::fs::metadata(&csv)?.len();
    eprintln!("wrote {rows} invented rows ({:.0} MB, CP932) in {:.1} s", bytes as f64 / 1e6, t.elapsed().as_secs_f64());

    // Import, fresh database each time; pandas on the same file, interleaved.
    let (mut ours, mut theirs, mut ours_cpu, mut theirs_cpu) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut report = None;
    let mut rss = Vec::new();
    for r in 0..repeats.max(1) {
        let db = work.join(format!("import-{r}.sqlite"));
        let mut store = Store::open(&db)?;
        // The peak from here on is the import's (Linux: 5 resets VmHWM).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let (t, cpu) = (Instant::now(), crate::util::cpu_seconds().unwrap_or(f64::NAN));
        let rep = crate::charts::import(&mut store, &csv, &Default::default())?;
        rss.push(crate::util::peak_rss_bytes().map(|b| b as f64 / 1048576.0).unwrap_or(f64::NAN));
        ours.push(t.elapsed().as_secs_f64());
        ours_cpu.push(crate::util::cpu_seconds().unwrap_or(f64::NAN) - cpu);
        report = Some(rep);
        drop(store);
        if r + 1 < repeats.max(1) {
            let _ = std::fs::remove_file(&db);
        }
        let (wall, cpu) = pandas(&csv)?;
        theirs.push(wall);
        theirs_cpu.push(cpu);
    }
    let report = report.context("no import ran")?;
    let rss = median(&mut rss);
    let (o, p) = (median(&mut ours), median(&mut theirs));
    let (oc, pc) = (median(&mut ours_cpu), median(&mut theirs_cpu));

    // Linking: stand-in photos at the truth's paths, in the database of the last import.
    let db = work.join(format!("import-{}.sqlite", repeats.max(1) - 1));
    let mut store = Store::open(&db)?;
    let mut rng = Rng::new(61);
    let patients = demo::write_big_visits_csv(&work.join("again.csv"), 16, rows)?;
    let _ = std::fs::remove_file(work.join("again.csv"));
    let mut truth = demo::photo_truth(&mut rng, &patients, 1);
    // Keep every ambiguous and missing case, then fill up with linked ones.
    truth.sort_by_key(|t| t.expect == Expect::Linked);
    truth.truncate(photos);
    let stand_ins: Vec<StandIn> = truth
        .iter()
        .map(|t| StandIn {
            path: format!("/archive/{}", t.path),
            captured_at: t.date_outside_path.then(|| format!("{}T10:00:00", t.taken.iso())),
            captured_source: t.date_outside_path.then(|| "exif:DateTimeOriginal".into()),
            file_time: Some("2024-06-01T09:00:00".into()),
        })
        .collect();
    let ids = store.add_stand_in_photos("/archive", &stand_ins)?;
    let (t, cpu) = (Instant::now(), crate::util::cpu_seconds().unwrap_or(f64::NAN));
    let link = crate::charts::link::run(&mut store, Some(7))?;
    let link_s = t.elapsed().as_secs_f64();
    let link_cpu = crate::util::cpu_seconds().unwrap_or(f64::NAN) - cpu;

    // Precision and recall against the truth.
    let (mut tp, mut fp, mut expected_linked, mut amb, mut amb_queued, mut amb_guessed, mut missing_ok, mut missing) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    for (id, t) in ids.iter().zip(&truth) {
        let l = store.link_of(*id)?.with_context(|| format!("photo {id} was not linked at all"))?;
        let linked = l.status == LinkStatus::Linked;
        match t.expect {
            Expect::Linked => {
                expected_linked += 1;
                if linked && l.visit_date == t.visit.map(|v| v.iso()) {
                    tp += 1;
                } else if linked {
                    fp += 1;
                }
            }
            Expect::Ambiguous => {
                amb += 1;
                if l.status == LinkStatus::Ambiguous {
                    amb_queued += 1;
                }
                if linked {
                    amb_guessed += 1;
                    fp += 1;
                }
            }
            Expect::Missing => {
                missing += 1;
                if l.status == LinkStatus::Missing {
                    missing_ok += 1;
                }
                if linked {
                    fp += 1;
                }
            }
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / expected_linked.max(1) as f64;
    let out = serde_json::json!({
        "rows": rows, "file_bytes": bytes, "repeats": repeats,
        "import_seconds_median": o, "pandas_seconds_median": p, "ratio_pandas_over_dermdesk": p / o,
        "import_cpu_seconds_median": oc, "pandas_cpu_seconds_median": pc,
        "records_new": report.counts.records_new, "records_duplicate": report.counts.records_duplicate,
        "patients": report.counts.patients_new, "bad_rows": report.counts.bad_rows,
        "peak_rss_mib": rss,
        "link_photos": ids.len(), "link_seconds": link_s, "link_cpu_seconds": link_cpu,
        "link_by_status": link.by_status,
        "precision_unambiguous": precision, "recall_unambiguous": recall,
        "ambiguous": amb, "ambiguous_queued": amb_queued, "ambiguous_guessed": amb_guessed,
        "unknown_patients": missing, "unknown_patients_missing": missing_ok,
    });
    if json {
        return super::super::print_json(&out);
    }
    outln!(
        "chart import, {rows} rows of invented CP932 CSV ({:.0} MB), median of {} runs",
        bytes as f64 / 1e6,
        repeats.max(1)
    );
    outln!(
        "  dermdesk charts import   {o:>7.2} s   (goal < 10 s; {} records, {} duplicates, {} patients, {} bad rows)",
        report.counts.records_new,
        report.counts.records_duplicate,
        report.counts.patients_new,
        report.counts.bad_rows
    );
    outln!("  pandas.read_csv(cp932)   {p:>7.2} s   ratio pandas/dermdesk {:.2}", p / o);
    outln!("  CPU time (all threads): dermdesk {oc:.2} s, pandas {pc:.2} s (wall clock counts the neighbours too)");
    outln!("  peak RSS of this process {rss:>7.0} MiB (during the import)");
    outln!("linking {} stand-in photos against it: {link_s:.2} s, CPU {link_cpu:.2} s (goal < 10 s)", ids.len());
    outln!("  precision {precision:.4}, recall {recall:.4} on unambiguous photos (goal >= 0.99)");
    outln!("  ambiguous: {amb_queued} of {amb} queued, {amb_guessed} guessed (goal: all queued, none guessed)");
    outln!("  unknown patients: {missing_ok} of {missing} left missing");
    Ok(())
}

/// Wall and CPU seconds pandas takes to read the file (as text columns, skipping the title line).
fn pandas(csv: &Path) -> anyhow::Result<(f64, f64)> {
    let script = "import sys, time\nimport pandas\nt, c = time.perf_counter(), time.process_time()\ndf = pandas.read_csv(sys.argv[1], encoding='cp932', skiprows=1, dtype=str)\nprint(time.perf_counter() - t, time.process_time() - c, len(df))";
    let out = Command::new("python3").arg("-c").arg(script).arg(csv).output().context("cannot run python3")?;
    if !out.status.success() {
        bail!("pandas failed (pip install pandas): {}", String::from_utf8_lossy(&out.stderr));
    }
    let s = String::from_utf8_lossy(&out.stdout);
    let v: Vec<f64> = s.split_whitespace().take(2).filter_map(|v| v.parse().ok()).collect();
    match v[..] {
        [wall, cpu] => Ok((wall, cpu)),
        _ => bail!("pandas said {s:?}"),
    }
}
