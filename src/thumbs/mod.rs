//! The thumbnail job: makes the cached thumbnail of every photo that lacks one (after the
//! cache was cleared, or for photos imported without thumbnails), on the worker pool, by the
//! fastest route each file allows. The worker hashes the bytes it reads: a file that changed
//! since import is reported, never cached under the old content's key.

use crate::decode::tasks::{ThumbRequest, Thumbnail};
use crate::decode::{Limits, Route};
use crate::error::Result;
use crate::jobs::Progress;
use crate::store::{Store, ThumbDb};
use crate::work::{self, PoolOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use crate::decode::THUMB_SIZE;

#[derive(Clone, Debug, Default, Serialize)]
pub struct ThumbReport {
    pub made: u64,
    pub already_cached: u64,
    pub failed: u64,
    pub by_route: BTreeMap<String, u64>,
    pub failures: Vec<(String, String)>,
    pub seconds: f64,
}

#[derive(Clone, Debug)]
pub struct ThumbOptions {
    pub pool: PoolOptions,
    pub limits: Limits,
    pub size: u32,
}

impl Default for ThumbOptions {
    fn default() -> Self {
        ThumbOptions { pool: PoolOptions::default(), limits: Limits::default(), size: THUMB_SIZE }
    }
}

/// Makes missing thumbnails for every photo in the database that has a file.
pub fn run(db: &Path, opts: &ThumbOptions, progress: &Progress) -> Result<ThumbReport> {
    let store = Store::open(db)?;
    let cache = store.thumb_db_path();
    drop(store);
    let db = db.to_path_buf();
    let feed = move |send: &dyn Fn((PathBuf, String)) -> bool| -> Result<()> {
        let store = Store::open_reader(&db)?;
        store.for_each_present_photo(|hash, path| Ok(send((PathBuf::from(path), hash.to_owned()))))
    };
    make(feed, &cache, opts, progress)
}

/// Makes the thumbnails of (source file, key) pairs that the cache at `cache` does not hold
/// yet. Also what `dermdesk bench thumbs` times.
pub fn make_all(
    items: Vec<(PathBuf, String)>,
    cache: &Path,
    opts: &ThumbOptions,
    progress: &Progress,
) -> Result<ThumbReport> {
    let feed = move |send: &dyn Fn((PathBuf, String)) -> bool| -> Result<()> {
        for item in items {
            if !send(item) {
                break;
            }
        }
        Ok(())
    };
    make(feed, cache, opts, progress)
}

enum Made {
    Cached,
    Stored { key: String, jpeg: Vec<u8>, route: Route },
    Failed { path: String, why: String },
}

/// The job itself: `feed` offers every candidate through `send` (which says false once the
/// job is stopping); candidates already cached are counted and skipped.
fn make(
    feed: impl FnOnce(&dyn Fn((PathBuf, String)) -> bool) -> Result<()> + Send,
    cache: &Path,
    opts: &ThumbOptions,
    progress: &Progress,
) -> Result<ThumbReport> {
    let started = Instant::now();
    let mut db = ThumbDb::open(cache)?;
    let mut report = ThumbReport::default();
    let finished = work::run(
        &opts.pool,
        progress,
        |f| {
            let fed = feed(&|item| {
                progress.add_total(1);
                f.send(item)
            });
            progress.finish_total();
            fed
        },
        || ThumbDb::open(cache),
        |reader, worker, (path, key): (PathBuf, String)| {
            if reader.has(&key)? {
                return Ok(Made::Cached);
            }
            let req = ThumbRequest { path: path.clone(), size: opts.size, limits: opts.limits };
            let shown = path.display().to_string();
            Ok(match worker.call::<Thumbnail>(&req)? {
                Ok((made, _)) if made.hash != key => Made::Failed {
                    path: shown,
                    why: "the file changed since it was imported (import the folder again)".into(),
                },
                Ok((made, jpeg)) if !jpeg.is_empty() => Made::Stored { key, jpeg, route: made.route },
                Ok(_) => Made::Failed { path: shown, why: "the decoder made no thumbnail".into() },
                Err(refusal) => Made::Failed { path: shown, why: refusal.to_string() },
            })
        },
        |batch: &mut Vec<Made>| {
            let stored = batch.iter().filter_map(|m| match m {
                Made::Stored { key, jpeg, route } => Some((key.as_str(), jpeg.as_slice(), route.as_str())),
                _ => None,
            });
            db.put_many(stored)?;
            for m in batch.drain(..) {
                match m {
                    Made::Cached => report.already_cached += 1,
                    Made::Stored { route, .. } => {
                        report.made += 1;
                        *report.by_route.entry(route.as_str().to_owned()).or_default() += 1;
                    }
                    Made::Failed { path, why } => {
                        report.failed += 1;
                        report.failures.push((path, why));
                    }
                }
            }
            Ok(())
        },
    )?;
    if let Some(e) = finished.failed {
        return Err(e);
    }
    finished.fed?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
