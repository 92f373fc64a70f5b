//! Charts: reading EMR exports (CSV/TSV/xlsx in UTF-8 or CP932) and SS-MIX2 storage (HL7 v2.5
//! in ISO-2022-JP) into patients and records; path rules that pull chart numbers and dates
//! from folder names; linking photos to patients and visits. Parsing lives here; every SQL
//! statement lives in `store`.

pub mod chart_no;
pub mod dates;
pub mod demo;
pub mod demo_archive;
pub mod encoding;
pub mod hl7;
pub mod import;
pub mod link;
pub mod mapping;
pub mod path_rules;
pub mod records;
pub mod ssmix2;
pub mod stats;
pub mod table;
pub mod timeline;

pub use encoding::{EncodingChoice, TextEncoding};
pub use import::{ImportOptions, ImportReport, import, import_with_progress};
pub use mapping::{Field, MapSpec};
pub use records::{Record, RecordKind, Sex};
