//! THE GATE: the one place that says which photos may leave the app. Every export, dataset,
//! model run and presentation asks [`Store::release`] and uses only what it allows; no other
//! path reads photos for leaving. Two halves, both always applied:
//! - privacy (store/privacy.rs): screened by every detector at its version, reviewed by a
//!   named person, cleared or redacted (redactions travel with the answer), a file present;
//! - opt-out (store/optout.rs): not linked to an opted-out patient and no path that holds an
//!   opted-out chart number in any spelling, whatever the linker concluded.

use super::Store;
use super::privacy::Redaction;
use crate::error::Result;
use crate::privacy::Review;
use serde::Serialize;

/// A photo that may leave, with what must be done to it on the way out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Releasable {
    pub photo_id: i64,
    pub hash: String,
    pub path: String,
    pub format: String,
    pub orientation: u8,
    pub review: Review,
    pub redactions: Vec<Redaction>,
}

/// Why a photo may not leave. One answer per photo: the first rule it fails, opt-out first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Withheld {
    NoSuchPhoto,
    /// Linked (by the linker or a person) to an opted-out patient.
    OptedOutPatient,
    /// One of its paths holds an opted-out chart number, whatever the link says.
    OptedOutNumberInPath,
    /// Some detector has not screened it at its current version.
    Unscreened,
    /// Screened, but no person has cleared or redacted it.
    Unreviewed,
    Excluded,
    NoFile,
}

impl Withheld {
    pub const ALL: [Withheld; 7] = [
        Withheld::NoSuchPhoto,
        Withheld::OptedOutPatient,
        Withheld::OptedOutNumberInPath,
        Withheld::Unscreened,
        Withheld::Unreviewed,
        Withheld::Excluded,
        Withheld::NoFile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Withheld::NoSuchPhoto => "no_such_photo",
            Withheld::OptedOutPatient => "opted_out_patient",
            Withheld::OptedOutNumberInPath => "opted_out_number_in_path",
            Withheld::Unscreened => "unscreened",
            Withheld::Unreviewed => "unreviewed",
            Withheld::Excluded => "excluded",
            Withheld::NoFile => "no_file",
        }
    }

    /// Kept back because the patient opted out (as opposed to not yet cleared).
    pub fn is_opt_out(self) -> bool {
        matches!(self, Withheld::OptedOutPatient | Withheld::OptedOutNumberInPath)
    }
}

/// The answer of the gate: what may leave, and what is held back and why.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Release {
    pub allowed: Vec<Releasable>,
    pub withheld: Vec<(i64, Withheld)>,
}

impl Release {
    pub fn allowed_ids(&self) -> Vec<i64> {
        self.allowed.iter().map(|r| r.photo_id).collect()
    }

    /// How many were kept back for each reason, in [`Withheld::ALL`]'s order (zeros left out).
    pub fn withheld_counts(&self) -> Vec<(Withheld, usize)> {
        Withheld::ALL
            .iter()
            .map(|&w| (w, self.withheld.iter().filter(|(_, x)| *x == w).count()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

impl Store {
    /// THE GATE (see the module notes): which of `ids` (None: every photo) may leave, with
    /// what must be done to each on the way out, and the rest with why.
    pub fn release(&self, ids: Option<&[i64]>) -> Result<Release> {
        let mut release = self.privacy_release(ids)?;
        let allowed: Vec<i64> = release.allowed_ids();
        let opted_out = self.opted_out_among(&allowed)?;
        if !opted_out.is_empty() {
            let out: std::collections::HashSet<i64> = opted_out.iter().map(|p| p.0).collect();
            release.allowed.retain(|r| !out.contains(&r.photo_id));
            release.withheld.extend(opted_out);
        }
        // Photos withheld for privacy reasons may also be opted out; say the stronger reason,
        // so that a count of opted-out photos is whole.
        let held: Vec<i64> = release
            .withheld
            .iter()
            .filter(|(_, w)| !w.is_opt_out() && *w != Withheld::NoSuchPhoto)
            .map(|p| p.0)
            .collect();
        let stronger: std::collections::HashMap<i64, Withheld> = self.opted_out_among(&held)?.into_iter().collect();
        for slot in &mut release.withheld {
            if let Some(&why) = stronger.get(&slot.0) {
                slot.1 = why;
            }
        }
        Ok(release)
    }
}
