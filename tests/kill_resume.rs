//! An import killed with SIGKILL at random points resumes with no duplicate and no
//! half-written row, and ends in the same state as an import that was never interrupted.

mod common;
use common::*;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

fn state(db: &std::path::Path) -> BTreeSet<(String, String)> {
    json_lines(&cli_ok(db, &["list", "--json"]))
        .into_iter()
        .flat_map(|r| {
            let h = r["hash"].as_str().unwrap().to_owned();
            r["paths"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |p| (h.clone(), p.as_str().unwrap().to_owned()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn killed_imports_resume_cleanly() {
    let shared = shared();
    let tmp = tempfile::tempdir().unwrap();
    // 1,200 HAM10000 images plus a few copies (duplicates exercise the dedup path under kills).
    let files = files_in(&shared.join("data/ham10000/images"), "jpg", 1200);
    let arc = tmp.path().join("arc");
    copy_files(&files, &arc.join("a"));
    copy_files(&files[..100], &arc.join("b"));
    let arc_s = arc.to_str().unwrap();

    let clean = tmp.path().join("clean.sqlite");
    let t = std::time::Instant::now();
    cli_ok(&clean, &["import", "--json", arc_s]);
    let full_ms = t.elapsed().as_millis() as u64;
    let expected = state(&clean);
    assert_eq!(expected.len(), 1300);

    let db = tmp.path().join("killed.sqlite");
    // Deterministic "random" kill times (a small LCG), from almost at once to well into the run.
    let mut seed: u64 = 0x5eed_1234;
    let mut kills = 0;
    let mut last_was_kill = false;
    for round in 0..20 {
        if kills >= 5 && last_was_kill {
            break;
        }
        assert!(round < 19, "could not interrupt the import often enough");
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        // Kill at a point from 5% to 18% of an uninterrupted import's time, so that five
        // kills land at different stages and the work is still unfinished at the end.
        let delay = Duration::from_millis(full_ms / 20 + (seed >> 33) % (full_ms * 13 / 100).max(20));
        let mut child = Command::new(bin())
            .arg("--db")
            .arg(&db)
            .args(["import", "--json", arc_s])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        last_was_kill = child.try_wait().unwrap().is_none();
        if last_was_kill {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        // After each kill the database opens, passes its integrity check, and holds only
        // whole, right rows: every (content, path) pair it has is one a clean import makes,
        // every photo has its location, its audit row and its thumbnail.
        if db.exists() {
            let store = dermdesk::Store::open(&db).expect("the database opens after a kill");
            assert_eq!(store.integrity_check().unwrap(), "ok");
            let now = state(&db);
            assert!(
                now.is_subset(&expected),
                "a killed import recorded a wrong pair: {:?}",
                now.difference(&expected).next()
            );
            let conn = rusqlite::Connection::open(&db).unwrap();
            let orphans: i64 = conn
                .query_row(
                    "SELECT count(*) FROM photos p WHERE NOT EXISTS (SELECT 1 FROM locations l WHERE l.photo_id = p.id)
                     OR NOT EXISTS (SELECT 1 FROM audit a WHERE a.photo_id = p.id AND a.action = 'import')",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(orphans, 0, "a photo without its location or audit row is half-written");
            let cache = dermdesk::store::ThumbDb::open(&store.thumb_db_path()).unwrap();
            for (hash, _) in &now {
                assert!(cache.has(hash).unwrap(), "a committed photo without its thumbnail: {hash}");
            }
        }
    }
    assert!(kills >= 5, "the test must actually interrupt imports ({kills} kills)");

    // Resume: the interrupted runs are found and finished.
    let out = json(&cli_ok(&db, &["import", "--json", "--resume"]));
    assert_eq!(out["status"], "finished", "{out}");
    assert_eq!(state(&db), expected, "the resumed import differs from a clean one");
    let stats = json(&cli_ok(&db, &["stats", "--json"]));
    assert_eq!(stats["photos"], 1200);
    assert_eq!(stats["locations"], 1300);
    // A kill that lands before the run is recorded leaves no run; every other one is found
    // interrupted, and none is left 'running'.
    let runs = json_lines(&cli_ok(&db, &["runs", "--json"]));
    let interrupted = runs.iter().filter(|r| r["status"] == "interrupted").count();
    assert_eq!(interrupted, runs.len() - 1, "every run but the resume was interrupted: {runs:?}");
    assert!(interrupted >= 3, "most kills landed inside a run ({interrupted} of {kills})");
    assert_eq!(stats["interrupted_runs"].as_u64(), Some(interrupted as u64), "{stats}");
    // Every photo has its audit row and its thumbnail.
    let store = dermdesk::Store::open(&db).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let audited: i64 =
        conn.query_row("SELECT count(DISTINCT photo_id) FROM audit WHERE action = 'import'", [], |r| r.get(0)).unwrap();
    assert_eq!(audited, 1200);
    // Thumbnails are stored before their photo row is committed, so none is missing.
    let cache = dermdesk::store::ThumbDb::open(&store.thumb_db_path()).unwrap();
    for (hash, _) in &expected {
        assert!(cache.has(hash).unwrap(), "no thumbnail for {hash}");
    }
}
