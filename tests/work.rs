//! The per-photo worker seam: a worker survives refusals, time limits and being killed; a
//! pool job stores each item once, stops on cancel, and a rerun does only what is left.

mod common;
use common::*;
use dermdesk::decode::RefusalCode;
use dermdesk::decode::tasks::{FullDecode, FullRequest, ReadHash};
use dermdesk::work::Worker;
use std::time::Duration;

fn full(path: &std::path::Path) -> FullRequest {
    FullRequest { path: path.to_path_buf(), orientation: 1, limits: Default::default() }
}

#[test]
fn a_worker_outlives_refusals_time_limits_and_kills() {
    let shared = shared();
    let big = shared.join("data/isic-cc0/images");
    let mut files: Vec<_> = std::fs::read_dir(&big).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).unwrap().len()));
    let largest = files[0].clone();
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("notes.jpg");
    std::fs::write(&text, "not a photo at all").unwrap();

    let mut w = Worker::new(&bin(), Duration::from_secs(60)).with_max_blob(1 << 30);
    // A refusal is this item's answer; the worker goes on.
    let r = w.call::<FullDecode>(&full(&text)).unwrap().unwrap_err();
    assert_eq!(r.code, RefusalCode::NotImage);
    // Over the time limit: the worker is killed and the item refused as a timeout...
    let r = w.call_within::<FullDecode>(&full(&largest), Duration::from_millis(1)).unwrap().unwrap_err();
    assert_eq!(r.code, RefusalCode::Timeout, "{r}");
    // ...and the next call gets a fresh worker.
    let (img, rgb) = w.call::<FullDecode>(&full(&largest)).unwrap().unwrap();
    assert_eq!(rgb.len() as u64, img.width as u64 * img.height as u64 * 3);
    let bytes = std::fs::read(&largest).unwrap();
    assert_eq!(img.hash, blake3::hash(&bytes).to_hex().to_string(), "the worker hashes what it decodes");
    // Killed from another thread mid-call (the viewer abandoning a decode): a crash refusal.
    let killer = w.killer();
    let k = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        killer.kill();
    });
    let r = w.call::<FullDecode>(&full(&largest)).unwrap();
    k.join().unwrap();
    assert_eq!(r.err().map(|r| r.code), Some(RefusalCode::Crashed));
    let (h, _) = w.call::<ReadHash>(&largest).unwrap().unwrap();
    assert_eq!((h.hash, h.len), (img.hash, bytes.len() as u64));
}

#[test]
fn a_worker_that_cannot_start_is_an_error_not_a_refusal() {
    let mut w = Worker::new(std::path::Path::new("/no/such/dermdesk"), Duration::from_secs(5));
    let Err(e) = w.call::<ReadHash>(&std::path::PathBuf::from("/x.jpg")) else { panic!("no worker can start") };
    assert!(e.to_string().contains("cannot start a worker process"), "{e}");
}

#[test]
fn a_cancelled_pool_job_keeps_what_it_stored_and_a_rerun_does_the_rest() {
    let shared = shared();
    let files = files_in(&shared.join("data/ham10000/images"), "jpg", 600);
    let items: Vec<_> =
        files.iter().map(|f| (f.clone(), blake3::hash(&std::fs::read(f).unwrap()).to_hex().to_string())).collect();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("t-thumbs.sqlite");
    let pool = dermdesk::work::PoolOptions { workers: 2, batch: 50, ..dermdesk::work::PoolOptions::new(bin()) };
    let opts = dermdesk::thumbs::ThumbOptions { pool, ..Default::default() };

    let progress = dermdesk::jobs::Progress::new();
    let watcher = {
        let p = progress.clone();
        std::thread::spawn(move || {
            while p.snapshot().done < 100 {
                std::thread::sleep(Duration::from_millis(1));
            }
            p.cancel();
        })
    };
    let first = dermdesk::thumbs::make_all(items.clone(), &cache, &opts, &progress).unwrap();
    watcher.join().unwrap();
    assert!(first.made >= 100 && first.made < 600, "cancel stops the job part-way: {}", first.made);
    assert_eq!(first.failed, 0, "{:?}", first.failures);
    let stored = dermdesk::store::ThumbDb::open(&cache).unwrap().count().unwrap();
    assert_eq!(stored, first.made, "what was reported made is stored, nothing more");

    let second = dermdesk::thumbs::make_all(items, &cache, &opts, &dermdesk::jobs::Progress::new()).unwrap();
    assert_eq!(second.already_cached, first.made);
    assert_eq!(second.made + second.already_cached, 600);
    assert_eq!(dermdesk::store::ThumbDb::open(&cache).unwrap().count().unwrap(), 600);
}

#[test]
fn a_thumbnail_is_never_cached_under_the_key_of_other_content() {
    let shared = shared();
    let files = files_in(&shared.join("data/ham10000/images"), "jpg", 2);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("c-thumbs.sqlite");
    let opts = dermdesk::thumbs::ThumbOptions { pool: dermdesk::work::PoolOptions::new(bin()), ..Default::default() };
    // The store says the file holds other content (it changed after import).
    let stale = "0".repeat(64);
    let r = dermdesk::thumbs::make_all(
        vec![(files[0].clone(), stale.clone())],
        &cache,
        &opts,
        &dermdesk::jobs::Progress::new(),
    )
    .unwrap();
    assert_eq!((r.made, r.failed), (0, 1));
    assert!(r.failures[0].1.contains("changed since it was imported"), "{:?}", r.failures);
    assert!(!dermdesk::store::ThumbDb::open(&cache).unwrap().has(&stale).unwrap());
}
