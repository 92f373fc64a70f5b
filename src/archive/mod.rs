//! The archive: scanning folders, identifying files by content, and importing them into the
//! store. Decoding happens in worker processes (`crate::work`, `crate::decode::tasks`), so
//! that a file that crashes or hangs a decoder costs one refusal, not the import.

pub mod import;
pub mod kind;

pub use import::{ImportOptions, ImportReport, import};
