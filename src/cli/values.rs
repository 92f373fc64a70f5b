//! The core's enums as command-line values. Each keeps its one string table in the core
//! (`as_str`); clap lists the values in `--help` and refuses any other with exit code 2.

use crate::modality::Modality;
use crate::store::{Period, SortKey, StatusFilter};
use clap::ValueEnum;
use clap::builder::PossibleValue;

impl ValueEnum for Modality {
    fn value_variants<'a>() -> &'a [Self] {
        &Modality::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl ValueEnum for SortKey {
    fn value_variants<'a>() -> &'a [Self] {
        &SortKey::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

impl ValueEnum for StatusFilter {
    fn value_variants<'a>() -> &'a [Self] {
        &StatusFilter::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

/// A date filter's value: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a real date (a usage error
/// otherwise).
pub fn period(s: &str) -> Result<String, String> {
    Period::parse(s).map(|_| s.trim().to_owned()).map_err(|e| e.to_string())
}

/// A modality rule's value: `PATTERN=MODALITY`.
pub fn rule(s: &str) -> Result<(String, Modality), String> {
    let (p, m) = s.rsplit_once('=').ok_or_else(|| format!("expected PATTERN=MODALITY, got {s:?}"))?;
    if p.trim().is_empty() {
        return Err(format!("the rule {s:?} has no pattern"));
    }
    let m = Modality::parse(m).ok_or_else(|| {
        let all: Vec<&str> = Modality::ALL.iter().map(|m| m.as_str()).collect();
        format!("unknown modality {m:?} (use {})", all.join(", "))
    })?;
    Ok((p.trim().to_owned(), m))
}
