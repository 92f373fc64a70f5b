//! The built-in diagnosis taxonomy, Japanese and English: ICD-10 chapter XII and the skin
//! neoplasm codes with their groupings (malignant, in situ, benign, ...; melanocytic), the
//! MEDIS standard disease names of those codes, and the ISIC diagnosis hierarchy. Built from
//! registry packages by `scripts/build_taxonomy.py` into `assets/taxonomy/` (licences there).
//!
//! Free text maps to a code through, in order: the store's editable synonym table, the MEDIS
//! names, the Japanese titles, the English titles, all compared after [`normalize_text`].
//! Suspected diagnoses (`…の疑い`, `…疑い`, `r/o …`) are never mapped.

use crate::charts::chart_no::halfwidth;
use crate::charts::encoding::fold_jis_variants;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Malignant,
    InSitu,
    Premalignant,
    Benign,
    Uncertain,
    NonNeoplastic,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Malignant => "malignant",
            Group::InSitu => "in_situ",
            Group::Premalignant => "premalignant",
            Group::Benign => "benign",
            Group::Uncertain => "uncertain",
            Group::NonNeoplastic => "non_neoplastic",
        }
    }

    /// The two-way split used for datasets: in situ counts as malignant; premalignant and
    /// uncertain lesions are indeterminate.
    pub fn benign_malignant(self) -> &'static str {
        match self {
            Group::Malignant | Group::InSitu => "malignant",
            Group::Premalignant | Group::Uncertain => "indeterminate",
            Group::Benign | Group::NonNeoplastic => "benign",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub code: String,
    pub kind: String,
    pub parent: Option<String>,
    pub en: String,
    pub ja: Option<String>,
    pub group: Group,
    pub melanocytic: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IsicNode {
    pub path: String,
    pub level: u8,
    pub name: String,
    pub parent: Option<String>,
}

/// How a text found its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MappedVia {
    /// The record carried the code itself.
    Code,
    Synonym,
    MedisName,
    JapaneseTitle,
    EnglishTitle,
}

pub struct Taxonomy {
    entries: Vec<Entry>,
    by_code: HashMap<String, usize>,
    by_text: HashMap<String, (String, MappedVia)>,
    pub isic: Vec<IsicNode>,
}

static TAXONOMY: OnceLock<Taxonomy> = OnceLock::new();

/// Text as compared: halfwidth ASCII in upper case, JIS variants folded, no spaces,
/// brackets kept.
pub fn normalize_text(s: &str) -> String {
    fold_jis_variants(s).chars().map(halfwidth).filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect()
}

/// Whether a diagnosis text is only suspected (never a label).
pub fn is_suspected(text: &str) -> bool {
    let t = normalize_text(text);
    t.ends_with("疑い") || t.ends_with("の疑") || t.starts_with("R/O") || t.ends_with('?') || t.ends_with('？')
}

/// An ICD-10 code as written (`c439`, `C43.9`, `C43.-`) in the taxonomy's form.
pub fn normalize_code(code: &str) -> String {
    let c: String = code.trim().chars().map(halfwidth).filter(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
    let c = c.to_ascii_uppercase();
    let c = c.trim_end_matches('.').to_owned();
    if c.len() > 3 && !c.contains('.') && c.as_bytes()[0].is_ascii_alphabetic() {
        return format!("{}.{}", &c[..3], &c[3..]);
    }
    c
}

impl Taxonomy {
    pub fn get() -> &'static Taxonomy {
        TAXONOMY.get_or_init(|| {
            // Built in: a parse failure is a build defect, caught by the tests below.
            let entries: Vec<Entry> =
                serde_json::from_str(include_str!("../assets/taxonomy/icd10-skin.json")).unwrap_or_default();
            let names: Vec<(String, String)> =
                serde_json::from_str(include_str!("../assets/taxonomy/medis-names.json")).unwrap_or_default();
            let isic: Vec<IsicNode> =
                serde_json::from_str(include_str!("../assets/taxonomy/isic-hierarchy.json")).unwrap_or_default();
            let by_code = entries.iter().enumerate().map(|(i, e)| (e.code.clone(), i)).collect();
            let mut by_text = HashMap::new();
            // Later inserts do not replace earlier ones: MEDIS names first, then titles.
            for (name, code) in names {
                by_text.entry(normalize_text(&name)).or_insert((code, MappedVia::MedisName));
            }
            for e in entries.iter().filter(|e| e.kind == "category" || e.kind == "subcategory") {
                if let Some(ja) = &e.ja {
                    by_text.entry(normalize_text(ja)).or_insert((e.code.clone(), MappedVia::JapaneseTitle));
                }
                by_text.entry(normalize_text(&e.en)).or_insert((e.code.clone(), MappedVia::EnglishTitle));
            }
            Taxonomy { entries, by_code, by_text, isic }
        })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Categories and subcategories for a label typed so far, best first: code prefix, then
    /// an English or Japanese title starting with it, then containing it (normalised as
    /// [`normalize_text`], so `c43`, `ＭＥＬＡＮＯＭＡ` and `黒色腫` all find melanoma). The
    /// mask panel's label picker.
    pub fn suggest(&self, query: &str, n: usize) -> Vec<&Entry> {
        let q = normalize_text(query);
        if q.is_empty() {
            return Vec::new();
        }
        // A word of a title starting with the query counts as a prefix ("melanoma" finds
        // "Malignant melanoma of skin" as readily as "Melanoma in situ").
        let word_start = |title: &str| {
            normalize_text(title).starts_with(&q)
                || title.split(|c: char| !c.is_alphanumeric()).any(|w| normalize_text(w).starts_with(&q))
        };
        let mut ranked: Vec<(u8, bool, &Entry)> = self
            .entries
            .iter()
            .filter(|e| e.kind == "category" || e.kind == "subcategory")
            .filter_map(|e| {
                let titles = [Some(e.en.as_str()), e.ja.as_deref()];
                let rank = if normalize_text(&e.code).starts_with(&q) {
                    0
                } else if titles.iter().flatten().any(|t| word_start(t)) {
                    1
                } else if titles.iter().flatten().any(|t| normalize_text(t).contains(&q)) {
                    2
                } else {
                    return None;
                };
                Some((rank, e.kind != "category", e))
            })
            .collect();
        // Stable: within a rank, categories first, then the taxonomy's own (code) order.
        ranked.sort_by_key(|(r, sub, _)| (*r, *sub));
        ranked.into_iter().take(n).map(|(_, _, e)| e).collect()
    }

    /// The label a lesion gets when picked from the taxonomy: code and English title, the
    /// same whatever language the person works in (the export's category name).
    pub fn label_of(e: &Entry) -> String {
        format!("{} {}", e.code, e.en)
    }

    pub fn entry(&self, code: &str) -> Option<&Entry> {
        let c = normalize_code(code);
        self.by_code.get(&c).or_else(|| self.by_code.get(c.split('.').next().unwrap_or(""))).map(|&i| &self.entries[i])
    }

    /// The code for a diagnosis: the record's own code when the taxonomy knows it, else the
    /// text through the synonyms (normalised text to code), the MEDIS names and the titles.
    pub fn map(
        &self,
        text: &str,
        code: Option<&str>,
        synonyms: &HashMap<String, String>,
    ) -> Option<(String, MappedVia)> {
        if let Some(e) = code.and_then(|c| self.entry(c)) {
            return Some((e.code.clone(), MappedVia::Code));
        }
        if text.trim().is_empty() || is_suspected(text) {
            return None;
        }
        let key = normalize_text(text);
        if let Some(c) = synonyms.get(&key) {
            return Some((normalize_code(c), MappedVia::Synonym));
        }
        self.by_text.get(&key).cloned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_suggested_by_code_and_either_title() {
        let t = Taxonomy::get();
        let codes = |q: &str| t.suggest(q, 5).into_iter().map(|e| e.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes("c43").first().map(String::as_str), Some("C43"), "{:?}", codes("c43"));
        assert!(
            codes("ＭＥＬＡＮＯＭＡ").iter().all(|c| c.starts_with("C43") || c.starts_with("D03")),
            "{:?}",
            codes("melanoma")
        );
        assert_eq!(codes("melanoma")[..2], ["C43", "D03"], "{:?}", codes("melanoma"));
        assert!(codes("黒色腫").iter().any(|c| c.starts_with("C43")), "{:?}", codes("黒色腫"));
        assert!(codes("").is_empty() && codes("zzzz-no-such").is_empty());
        assert_eq!(t.suggest("L", 3).len(), 3);
    }

    use super::*;

    #[test]
    fn the_built_in_files_load_whole() {
        let t = Taxonomy::get();
        assert!(t.entries().len() > 450, "{}", t.entries().len());
        assert!(t.isic.len() > 100);
        let mel = t.entry("C43.9").unwrap();
        assert_eq!((mel.group, mel.melanocytic), (Group::Malignant, true));
        assert_eq!(mel.ja.as_deref(), Some("皮膚の悪性黒色腫，部位不明"));
        assert_eq!(t.entry("c439").unwrap().code, "C43.9");
        assert_eq!(t.entry("D22.-").unwrap().code, "D22");
        assert_eq!(t.entry("D22.5").unwrap().group, Group::Benign);
        assert_eq!(t.entry("L57.0").unwrap().group.benign_malignant(), "indeterminate");
        assert_eq!(t.entry("L20.9").unwrap().group, Group::NonNeoplastic);
        assert!(t.entry("Z99").is_none());
    }

    #[test]
    fn free_text_maps_through_names_titles_and_synonyms() {
        let t = Taxonomy::get();
        let none = HashMap::new();
        assert_eq!(t.map("悪性黒色腫", None, &none).unwrap().0, "C43.9");
        assert_eq!(t.map("基底細胞癌", None, &none).unwrap(), ("C44.9".to_owned(), MappedVia::MedisName));
        assert_eq!(t.map(" 脂漏性角化症 ", None, &none).unwrap().0, "L82");
        assert_eq!(t.map("seborrhoeic  KERATOSIS", None, &none).unwrap(), ("L82".to_owned(), MappedVia::EnglishTitle));
        assert!(t.map("ほくろ", None, &none).is_none(), "a colloquial word needs a synonym");
        let syn: HashMap<String, String> = [(normalize_text("ほくろ"), "D22.9".to_owned())].into();
        assert_eq!(t.map("ほくろ", None, &syn).unwrap(), ("D22.9".to_owned(), MappedVia::Synonym));
        assert!(t.map("悪性黒色腫の疑い", None, &none).is_none(), "suspected diagnoses are not labels");
        assert_eq!(t.map("whatever", Some("C44.3"), &none).unwrap(), ("C44.3".to_owned(), MappedVia::Code));
    }
}
