//! The one gate between the archive and anything that leaves it. Every export (masks today;
//! datasets and presentations later) asks `decide` which of its photos may go and names
//! them with `export_names`; nothing else decides. Privacy screening and the opt-out
//! registry add their holds here, so that no exporter can forget them.

use crate::error::Result;
use crate::store::Store;
use serde::Serialize;

/// Why a photo is held back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// No file of the photo is left to export it from.
    NoFile,
    /// The photo's content is not in the archive.
    Unknown,
}

impl Hold {
    pub fn as_str(self) -> &'static str {
        match self {
            Hold::NoFile => "no_file",
            Hold::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub hash: String,
    /// None: the photo may leave.
    pub hold: Option<Hold>,
}

/// Decides, for each photo (by content hash), whether it may leave.
pub fn decide(store: &Store, hashes: &[String]) -> Result<Vec<Decision>> {
    let mut out = Vec::with_capacity(hashes.len());
    for h in hashes {
        let hold = match store.photo_for_masks(h)? {
            None => Some(Hold::Unknown),
            Some(p) if p.missing => Some(Hold::NoFile),
            Some(_) => None,
        };
        out.push(Decision { hash: h.clone(), hold });
    }
    Ok(out)
}

/// The names photos leave under, in the order given: never a path or a file name (those
/// carry chart numbers and patients' names). A sequence number (`000001`, ...) until
/// research IDs exist.
pub fn export_names(_store: &Store, hashes: &[String]) -> Result<Vec<String>> {
    Ok((1..=hashes.len()).map(|i| format!("{i:06}")).collect())
}
