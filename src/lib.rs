//! dermdesk: a workstation tool for a dermatology photo archive.
//!
//! The core (everything except `ui` and `cli`) knows nothing of egui or clap: it is the
//! store, import, thumbnails and background jobs that the GUI and the CLI both drive.
//! Dependencies point one way: `ui` and `cli` use the core; the core never uses them
//! (`tests/architecture.rs` checks this).

pub mod archive;
pub mod charts;
pub mod decode;
pub mod demo;
pub mod error;
pub mod jobs;
pub mod masks;
pub mod modality;
pub mod models;
pub mod privacy;
pub mod store;
pub mod tasks;
pub mod taxonomy;
pub mod thumbs;
pub mod tract_kernels;
pub mod util;
pub mod work;

pub mod cli;
pub mod ui;

pub use error::{Error, Result};
pub use store::Store;
