//! Modality: clinical photo, dermoscopy, VISIA, histopathology or other.
//!
//! Decided in this order: a person's choice (never overridden), then the first enabled
//! folder-name rule that matches, then image cues measured at import. The source is stored
//! with the modality, so the browser can tell a guess from a decision.

pub mod cues;
pub mod model;
pub mod redetect;

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Clinical,
    Dermoscopy,
    Visia,
    Histopathology,
    Other,
}

impl Modality {
    pub const ALL: [Modality; 5] =
        [Modality::Clinical, Modality::Dermoscopy, Modality::Visia, Modality::Histopathology, Modality::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Clinical => "clinical",
            Modality::Dermoscopy => "dermoscopy",
            Modality::Visia => "visia",
            Modality::Histopathology => "histopathology",
            Modality::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Modality> {
        Modality::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModalitySource {
    Rule,
    Cue,
    Person,
    /// The modality model (`model::FOLDER`), sure enough of its guess.
    Model,
}

impl ModalitySource {
    pub fn as_str(self) -> &'static str {
        match self {
            ModalitySource::Rule => "rule",
            ModalitySource::Cue => "cue",
            ModalitySource::Person => "person",
            ModalitySource::Model => "model",
        }
    }

    pub fn parse(s: &str) -> Option<ModalitySource> {
        [ModalitySource::Rule, ModalitySource::Cue, ModalitySource::Person, ModalitySource::Model]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// A folder-name pattern: `*` matches any run of characters, case is ignored. It is tried
/// against each folder name on the file's path (not the file name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: i64,
    pub pattern: String,
    pub modality: Modality,
    pub enabled: bool,
}

pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Iterative wildcard match with backtracking to the last star: linear in practice.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The automatic modality of a photo (what it gets when no person set it): the first
/// matching folder rule on its path, else the VISIA size rule, else the modality model's
/// guess when it is sure enough (`model::FALLBACK_BELOW`), else its image cues. With the
/// source and why (a cue decision says when the model was unsure).
pub fn decide(
    rules: &[Rule],
    visia: &[(u32, u32)],
    path: Option<&std::path::Path>,
    cues: &Cues,
    width: u32,
    height: u32,
) -> (Modality, ModalitySource, String) {
    if let Some(rule) = path.and_then(|p| match_rules(rules, p)) {
        return (rule.modality, ModalitySource::Rule, rule.pattern.clone());
    }
    let (m, why) = classify(cues, width, height, visia);
    match cues.model {
        Some(g) if g.sure() && !matches!(why, CueReason::VisiaSize { .. }) => (
            g.modality,
            ModalitySource::Model,
            model::ModelWhy { model: model::FOLDER.into(), version: g.version, p: g.p }.to_json(),
        ),
        Some(g) if !matches!(why, CueReason::VisiaSize { .. }) => {
            (m, ModalitySource::Cue, CueDetail { cue: why, model_unsure: g }.to_json())
        }
        _ => (m, ModalitySource::Cue, why.to_json()),
    }
}

/// The first enabled rule matching a folder on `path`, if any.
pub fn match_rules<'a>(rules: &'a [Rule], path: &std::path::Path) -> Option<&'a Rule> {
    let folders: Vec<String> = path
        .parent()
        .map(|p| p.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    rules.iter().filter(|r| r.enabled).find(|r| folders.iter().any(|f| glob_match(&r.pattern, f)))
}

/// Parses `3456x5184, 2592x3888` into sizes.
pub fn parse_sizes(text: &str) -> Result<Vec<(u32, u32)>> {
    text.split([',', ';', ' '])
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            let (a, b) =
                t.trim().split_once(['x', 'X', '×']).ok_or_else(|| Error::Invalid(format!("not a size WxH: {t}")))?;
            let parse = |v: &str| v.trim().parse::<u32>().ok().filter(|n| *n > 0);
            match (parse(a), parse(b)) {
                (Some(w), Some(h)) => Ok((w, h)),
                _ => Err(Error::Invalid(format!("not a size WxH: {t}"))),
            }
        })
        .collect()
}

pub fn format_sizes(sizes: &[(u32, u32)]) -> String {
    sizes.iter().map(|(w, h)| format!("{w}x{h}")).collect::<Vec<_>>().join(", ")
}

pub use cues::{CueDetail, CueReason, Cues, classify};
pub use model::ModelGuess;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn globs() {
        assert!(glob_match("*dermoscop*", "2012_Dermoscopy_A"));
        assert!(glob_match("*ダーモ*", "ダーモスコピー"));
        assert!(glob_match("visia", "VISIA"));
        assert!(!glob_match("visia", "visia2"));
        assert!(glob_match("*a*b*c", "xaxxbxxc"));
        assert!(!glob_match("*a*b*c", "xaxxbxxcx"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_sizes("3456x5184, 2592×3888").unwrap(), vec![(3456, 5184), (2592, 3888)]);
        assert_eq!(parse_sizes("").unwrap(), vec![]);
        assert!(parse_sizes("3456 by 5184").is_err());
        assert!(parse_sizes("0x5").is_err());
    }

    #[test]
    fn rules_look_at_folders_not_file_names() {
        let rules = vec![
            Rule { id: 1, pattern: "*derm*".into(), modality: Modality::Dermoscopy, enabled: false },
            Rule { id: 2, pattern: "*病理*".into(), modality: Modality::Histopathology, enabled: true },
            Rule { id: 3, pattern: "*clinic*".into(), modality: Modality::Clinical, enabled: true },
        ];
        assert_eq!(match_rules(&rules, Path::new("/arc/病理/2010/a.jpg")).map(|r| r.id), Some(2));
        assert_eq!(match_rules(&rules, Path::new("/arc/derm/a.jpg")), None, "disabled rule");
        assert_eq!(match_rules(&rules, Path::new("/arc/x/clinic.jpg")), None, "file name is not a folder");
    }

    #[test]
    fn decide_takes_rules_then_visia_then_a_sure_model_then_cues() {
        let rules = vec![Rule { id: 1, pattern: "*derm*".into(), modality: Modality::Dermoscopy, enabled: true }];
        let guess = |modality, p| Cues {
            grey: 0.5,
            skin: 0.5,
            model: Some(ModelGuess { modality, p, version: None }),
            ..Cues::default()
        };
        let sure = guess(Modality::Histopathology, 0.9);
        let d = decide(&rules, &[], Some(Path::new("/a/derm/x.jpg")), &sure, 640, 480);
        assert_eq!((d.0, d.1), (Modality::Dermoscopy, ModalitySource::Rule));
        let d = decide(&rules, &[(640, 480)], Some(Path::new("/a/b/x.jpg")), &sure, 480, 640);
        assert_eq!((d.0, d.1), (Modality::Visia, ModalitySource::Cue));
        let d = decide(&rules, &[], Some(Path::new("/a/b/x.jpg")), &sure, 640, 480);
        assert_eq!((d.0, d.1), (Modality::Histopathology, ModalitySource::Model));
        assert_eq!(model::ModelWhy::from_json(&d.2).map(|w| w.p), Some(0.9));
        let unsure = guess(Modality::Histopathology, model::FALLBACK_BELOW - 0.01);
        let d = decide(&rules, &[], None, &unsure, 640, 480);
        assert_eq!(d.1, ModalitySource::Cue);
        assert_ne!(d.0, Modality::Histopathology, "the cues decided, not the unsure model");
        let detail = CueDetail::from_json(&d.2).expect("the reason says the model was unsure");
        assert_eq!(detail.model_unsure, unsure.model.unwrap());
        assert_eq!(CueReason::from_json(&d.2), Some(detail.cue));
        let d = decide(&rules, &[], None, &Cues { model: None, ..unsure }, 640, 480);
        assert!(CueDetail::from_json(&d.2).is_none() && CueReason::from_json(&d.2).is_some());
    }
}
