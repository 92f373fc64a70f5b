//! The tasks a worker process (`dermdesk __worker`) can run: one line per task. A capability
//! that adds per-photo work (screening, inference) adds its task here; nothing else in the
//! worker machinery changes.

use crate::decode::tasks::{FullDecode, Probe, ReadHash, Thumbnail};
use crate::models::task::Infer;
use crate::privacy::task::Screen;
use crate::work::{self, handler};

/// The worker process's entry point.
pub fn serve() -> i32 {
    work::serve(&[
        handler::<ReadHash>(),
        handler::<Probe>(),
        handler::<Thumbnail>(),
        handler::<FullDecode>(),
        handler::<Screen>(),
        handler::<Infer>(),
    ])
}
