//! The per-photo worker job: the one way the app runs untrusted or heavy per-photo work.
//!
//! Every decoder, detector and model reads bytes it cannot trust. They run in worker
//! processes (`dermdesk __worker`, the same executable), so a file that hangs one is cut off
//! by a time limit and one that crashes it costs a refusal and a fresh worker, never the job
//! or the GUI.
//!
//! A capability adds a [`Task`]: a request type, a response type, and what the worker does
//! with it. It registers the task in `crate::tasks` (the worker's dispatch table) and drives
//! it with [`pool::run`] (batch jobs: import, thumbnails, screening, inference) or a single
//! [`Worker`] (the viewer). Nothing here changes when a task is added.

pub mod pool;
mod protocol;
pub mod worker;

pub use pool::{PoolOptions, run};
pub use worker::{Answer, Killer, Worker};

use crate::decode::Refusal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::{Any, TypeId};
use std::collections::HashMap;

/// One kind of work a worker process does.
pub trait Task: 'static {
    /// The name requests carry; unique among tasks.
    const NAME: &'static str;
    type Request: Serialize + DeserializeOwned;
    type Response: Serialize + DeserializeOwned;

    /// Runs inside the worker process. `Err` is this item's refusal (the file is damaged,
    /// not an image, ...): the worker lives on.
    fn run(ctx: &mut Ctx, req: Self::Request) -> Result<Reply<Self::Response>, Refusal>;
}

/// A task's answer: a value (sent as JSON) and an optional block of bytes sent as they are
/// (a thumbnail's JPEG, a decoded image's pixels), so that large binary results are not
/// blown up into JSON.
pub struct Reply<R> {
    pub value: R,
    pub blob: Vec<u8>,
}

impl<R> Reply<R> {
    pub fn new(value: R) -> Reply<R> {
        Reply { value, blob: Vec::new() }
    }

    pub fn with_blob(value: R, blob: Vec<u8>) -> Reply<R> {
        Reply { value, blob }
    }
}

/// What a worker process keeps between requests, one slot per type: loaded models, the
/// bytes of the file read last (so that a file hashed by one request is decoded from the
/// same bytes by the next).
#[derive(Default)]
pub struct Ctx {
    slots: HashMap<TypeId, Box<dyn Any>>,
}

impl Ctx {
    /// The slot of type `S`, made with `Default` on first use.
    pub fn slot<S: Default + 'static>(&mut self) -> &mut S {
        self.slots
            .entry(TypeId::of::<S>())
            .or_insert_with(|| Box::new(S::default()))
            .downcast_mut::<S>()
            .expect("a slot holds the type it is keyed by")
    }
}

/// How the worker process runs one task: decode the request, run it (panics caught), encode
/// the answer. Built by [`handler`]; `crate::tasks` lists one per task.
pub struct Handler {
    pub name: &'static str,
    pub(crate) call: CallFn,
}

/// Runs one request: its JSON in, the answer's JSON and blob out.
pub(crate) type CallFn = fn(&mut Ctx, &[u8]) -> (Vec<u8>, Vec<u8>);

/// The dispatch entry for task `T`.
pub fn handler<T: Task>() -> Handler {
    Handler { name: T::NAME, call: protocol::call::<T> }
}

/// The hidden subcommand that turns the executable into a worker.
pub const WORKER_ARG: &str = "__worker";

/// The worker process's main loop over the given tasks; returns when stdin closes.
pub fn serve(handlers: &[Handler]) -> i32 {
    protocol::serve(handlers)
}

/// The executable to run workers from: this one, unless told otherwise (tests point at the
/// built `dermdesk` binary, since a test harness is not one).
pub fn default_exe() -> std::path::PathBuf {
    std::env::var_os("DERMDESK_WORKER_EXE")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::current_exe().ok())
        .unwrap_or_else(|| std::path::PathBuf::from("dermdesk"))
}

/// Worker processes to run: two more than the cores, because each pipeline alternates
/// between the parent (bookkeeping) and its worker (decoding), and with one per core the
/// cores sat idle a third of the time (measured on HAM10000: 5.0 s with 2 workers on 2
/// cores, 4.2 s with 4).
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) + 2
}
