//! A batch job over many items on a pool of worker processes.
//!
//! Shape: a feeder thread streams items into a bounded channel (a folder scan, a query of
//! photos not yet screened); N processor threads, each with its own worker process and its
//! own state (a read connection), turn items into outcomes; the calling thread is the one
//! writer and stores outcomes in batches (by count or age), so a killed job leaves only
//! whole batches. Memory stays flat however many items. Cancelling through the progress
//! handle stops all three; what was written stays, and a rerun skips it (the feeder only
//! offers what is not done yet: that is what makes every job resumable).

use super::Worker;
use crate::error::{Error, Result};
use crate::jobs::Progress;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// Processor threads, each with one worker process.
    pub workers: usize,
    pub exe: PathBuf,
    /// No single call may take longer than this.
    pub timeout: Duration,
    /// Outcomes stored per transaction at most...
    pub batch: usize,
    /// ...and at least this often, so progress shows while items are slow.
    pub batch_age: Duration,
}

impl PoolOptions {
    pub fn new(exe: PathBuf) -> PoolOptions {
        PoolOptions {
            workers: super::default_workers(),
            exe,
            timeout: Duration::from_secs(60),
            batch: 512,
            batch_age: Duration::from_millis(400),
        }
    }
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions::new(super::default_exe())
    }
}

/// The feeder's end of the item channel.
pub struct Feeder<'a, I> {
    tx: SyncSender<I>,
    progress: &'a Progress,
}

impl<I> Feeder<'_, I> {
    /// Offers one item; false when the job is stopping (cancelled, or it cannot go on), and
    /// the feeder should return.
    pub fn send(&self, item: I) -> bool {
        !self.progress.is_cancelled() && self.tx.send(item).is_ok()
    }

    pub fn is_cancelled(&self) -> bool {
        self.progress.is_cancelled()
    }
}

/// How a job ended when nothing went wrong with the writing.
pub struct Finished<R> {
    /// What the feeder returned (e.g. the folders it could not read).
    pub fed: R,
    /// A processor could not go on (no worker process could start, its read connection
    /// failed): the job stopped early for this reason.
    pub failed: Option<Error>,
}

/// Runs a job; see the module notes. `process` gets each thread's state (from `init`), its
/// worker, and one item. `write` gets batches of outcomes and must store them all or fail;
/// after each batch, `progress.done` grows by its size. A write error stops the job and is
/// returned.
pub fn run<I, O, S, R>(
    opts: &PoolOptions,
    progress: &Progress,
    feed: impl FnOnce(&Feeder<'_, I>) -> R + Send,
    init: impl Fn() -> Result<S> + Sync,
    process: impl Fn(&mut S, &mut Worker, I) -> Result<O> + Sync,
    mut write: impl FnMut(&mut Vec<O>) -> Result<()>,
) -> Result<Finished<R>>
where
    I: Send,
    O: Send,
    R: Send,
{
    let (item_tx, item_rx) = sync_channel::<I>(4096);
    let item_rx = Arc::new(Mutex::new(item_rx));
    let (out_tx, out_rx) = sync_channel::<Result<O>>(1024);
    let threads = opts.workers.max(1);
    std::thread::scope(|s| {
        let feeder = std::thread::Builder::new()
            .name("job-feed".into())
            .spawn_scoped(s, || feed(&Feeder { tx: item_tx, progress }))
            .expect("spawn the feeder");
        // Only the processors hold the item receiver: when they stop (cancel, failure), the
        // feeder's next send fails and it stops too, instead of waiting on a full channel.
        for i in 0..threads {
            let rx = item_rx.clone();
            let tx = out_tx.clone();
            let (init, process) = (&init, &process);
            std::thread::Builder::new()
                .name(format!("job-{i}"))
                .spawn_scoped(s, move || processor(opts, progress, rx, tx, init, process))
                .expect("spawn a processor");
        }
        drop(out_tx);
        drop(item_rx);
        let written = writer(opts, progress, out_rx, &mut write);
        if written.is_err() {
            progress.cancel(); // nothing more can be stored: stop the others
        }
        let fed = feeder.join();
        let failed = written?;
        let fed = fed.map_err(|_| Error::Invalid("the job's feeder stopped on an internal error (a bug)".into()))?;
        Ok(Finished { fed, failed })
    })
}

fn processor<I, O, S>(
    opts: &PoolOptions,
    progress: &Progress,
    rx: Arc<Mutex<Receiver<I>>>,
    tx: SyncSender<Result<O>>,
    init: &(impl Fn() -> Result<S> + Sync),
    process: &(impl Fn(&mut S, &mut Worker, I) -> Result<O> + Sync),
) {
    let mut state = match init() {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    let mut worker = Worker::new(&opts.exe, opts.timeout);
    loop {
        if progress.is_cancelled() {
            return;
        }
        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(item) = next else { return };
        let outcome = process(&mut state, &mut worker, item);
        let failed = outcome.is_err();
        if tx.send(outcome).is_err() || failed {
            return;
        }
    }
}

/// Stores outcomes in batches until every processor has stopped. Returns the first
/// processor failure (after which it cancels the job but still stores what came before).
fn writer<O>(
    opts: &PoolOptions,
    progress: &Progress,
    rx: Receiver<Result<O>>,
    write: &mut impl FnMut(&mut Vec<O>) -> Result<()>,
) -> Result<Option<Error>> {
    let mut failed = None;
    let mut batch: Vec<O> = Vec::with_capacity(opts.batch);
    let mut last = Instant::now();
    loop {
        let done = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Ok(o)) => {
                batch.push(o);
                false
            }
            Ok(Err(e)) => {
                progress.cancel();
                failed.get_or_insert(e);
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        if !batch.is_empty() && (done || batch.len() >= opts.batch || last.elapsed() >= opts.batch_age) {
            let n = batch.len() as u64;
            write(&mut batch)?;
            batch.clear();
            progress.add_done(n);
            last = Instant::now();
        }
        if done {
            return Ok(failed);
        }
    }
}
