//! The archive: scanning folders, identifying files by content, reading EXIF, deciding the
//! modality, and importing it all into the store.
//!
//! Untrusted bytes (every decoder) run in worker processes (`worker`), so that a file that
//! crashes or hangs a decoder costs one refusal, not the import.

pub mod cues;
pub mod exif;
pub mod format;
pub mod hash;
pub mod import;
pub mod probe;
pub mod worker;

pub use format::{Format, Refusal, RefusalCode};
pub use import::{ImportOptions, ImportReport, import};
