//! The thumbnail job: makes the cached thumbnail of every photo that lacks one (after the
//! cache was cleared, or for photos imported without thumbnails), in parallel worker
//! processes, by the fastest route each file allows.

use super::cache::ThumbDb;
use super::{Limits, Route, THUMB_SIZE};
use crate::archive::probe::{self, Mode};
use crate::archive::worker::Worker;
use crate::error::Result;
use crate::jobs::Progress;
use crate::store::Store;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default, Serialize)]
pub struct ThumbReport {
    pub made: u64,
    pub already_cached: u64,
    pub failed: u64,
    pub by_route: BTreeMap<String, u64>,
    pub failures: Vec<(String, String)>,
    pub seconds: f64,
}

pub struct ThumbOptions {
    pub threads: usize,
    pub worker_exe: PathBuf,
    pub file_timeout: Duration,
    pub limits: Limits,
    pub size: u32,
}

impl Default for ThumbOptions {
    fn default() -> Self {
        ThumbOptions {
            threads: crate::jobs::default_workers(),
            worker_exe: crate::archive::worker::default_exe(),
            file_timeout: Duration::from_secs(60),
            limits: Limits::default(),
            size: THUMB_SIZE,
        }
    }
}

/// Makes missing thumbnails for every photo in the database.
pub fn run(db: &Path, opts: &ThumbOptions, progress: &Progress) -> Result<ThumbReport> {
    let store = Store::open(db)?;
    let cache = store.thumb_db_path();
    let all = store.photos_for_thumbnails()?;
    drop(store);
    let items: Vec<(PathBuf, String)> = all.into_iter().map(|(_, hash, path)| (PathBuf::from(path), hash)).collect();
    make_all(items, &cache, opts, progress)
}

/// Makes the thumbnails of (source file, key) pairs that the cache at `cache` does not hold
/// yet. Also what `dermdesk bench thumbs` times.
pub fn make_all(
    items: Vec<(PathBuf, String)>,
    cache: &Path,
    opts: &ThumbOptions,
    progress: &Progress,
) -> Result<ThumbReport> {
    let started = Instant::now();
    let db = ThumbDb::open(cache)?;
    let mut todo = Vec::new();
    let mut cached = 0u64;
    for (src, key) in items {
        if db.has(&key)? {
            cached += 1;
        } else {
            todo.push((src, key));
        }
    }
    let db = Mutex::new(db);
    progress.set_total(todo.len() as u64, true);
    let queue = Mutex::new(todo.into_iter());
    let report = Mutex::new(ThumbReport { already_cached: cached, ..Default::default() });
    let fatal: Mutex<Option<crate::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..opts.threads.max(1) {
            s.spawn(|| {
                let mut worker = Worker::new(&opts.worker_exe, opts.file_timeout);
                loop {
                    if progress.is_cancelled() {
                        return;
                    }
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                    let Some((src, key)) = next else { return };
                    let req = probe::Request {
                        mode: Mode::Thumbnail,
                        path: src.clone(),
                        thumb: true,
                        thumb_size: opts.size,
                        limits: opts.limits,
                    };
                    let answer = match worker.call(&req) {
                        Ok(a) => a,
                        Err(e) => {
                            *fatal.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                            progress.cancel();
                            return;
                        }
                    };
                    // Stored by this process, one writer at a time (no contention between
                    // worker processes for the cache file).
                    let stored = match answer {
                        Ok((p, Some(jpeg))) => {
                            let route = p.thumb_route.unwrap_or(Route::Full);
                            let mut db = db.lock().unwrap_or_else(|e| e.into_inner());
                            db.put(&key, &jpeg, route.as_str()).map(|_| route).map_err(|e| e.to_string())
                        }
                        Ok((_, None)) => Err("the decoder made no thumbnail".to_owned()),
                        Err(refusal) => Err(refusal.to_string()),
                    };
                    let mut r = report.lock().unwrap_or_else(|e| e.into_inner());
                    match stored {
                        Ok(route) => {
                            r.made += 1;
                            *r.by_route.entry(format!("{route:?}")).or_default() += 1;
                        }
                        Err(why) => {
                            r.failed += 1;
                            r.failures.push((src.display().to_string(), why));
                        }
                    }
                    drop(r);
                    progress.add_done(1);
                }
            });
        }
    });
    if let Some(e) = fatal.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let mut report = report.into_inner().unwrap_or_else(|e| e.into_inner());
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
