//! Path rules: regular expressions with named groups `chart` (required) and `date`
//! (optional) that pull a chart number and a day from a photo's folder and file names. Paths
//! are matched with `/` as the separator on every system. A rule may also be written as a
//! template: `{chart}_{date}` or `{chart}/{date}/*`, where `*` is any run within one name.
//! The first enabled rule that matches a path wins.

use super::chart_no;
use super::dates::{self, Date};
use crate::error::{Error, Result};
use serde::Serialize;

#[derive(Clone, Debug)]
pub struct PathRule {
    pub id: i64,
    pub pattern: String,
    regex: regex::Regex,
}

/// What a rule pulled from one path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathMatch {
    pub chart_no: String,
    pub date: Option<Date>,
    /// Why the date group was there but is not a date.
    pub date_error: Option<String>,
    pub rule: String,
}

/// Turns a `{chart}`/`{date}` template into a regular expression; other patterns pass as they are.
pub fn to_regex(pattern: &str) -> String {
    if !pattern.contains("{chart}") {
        return pattern.to_owned();
    }
    let mut out = String::from("(?:^|/)");
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("{chart}") {
            out.push_str("(?P<chart>[0-9０-９][0-9０-９-]{3,14})");
            rest = r;
        } else if let Some(r) = rest.strip_prefix("{date}") {
            out.push_str(
                "(?P<date>[0-9０-９]{8}|[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}|[MTSHRmtshr][0-9]{1,2}[.][0-9]{1,2}[.][0-9]{1,2})",
            );
            rest = r;
        } else if let Some(r) = rest.strip_prefix('*') {
            out.push_str("[^/]*");
            rest = r;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push_str(&regex::escape(&c.to_string()));
            rest = &rest[c.len_utf8()..];
        }
    }
    out.push_str("(?:[_./]|$)");
    out
}

impl PathRule {
    pub fn new(id: i64, pattern: &str) -> Result<PathRule> {
        let regex = regex::Regex::new(&to_regex(pattern))
            .map_err(|e| Error::Invalid(format!("not a valid path rule ({e}): {pattern}")))?;
        if !regex.capture_names().flatten().any(|n| n == "chart") {
            return Err(Error::Invalid(format!(
                "a path rule needs a named group for the chart number, (?P<chart>...) or {{chart}}: {pattern}"
            )));
        }
        Ok(PathRule { id, pattern: pattern.to_owned(), regex })
    }

    /// What this rule pulls from a path, if it matches and its chart group is a chart number.
    pub fn apply(&self, path: &str) -> Option<PathMatch> {
        let path = path.replace('\\', "/");
        for caps in self.regex.captures_iter(&path) {
            let Some(chart) = caps.name("chart") else { continue };
            let Ok(chart_no) = chart_no::normalize(chart.as_str()) else { continue };
            let (date, date_error) = match caps.name("date").map(|d| dates::parse(d.as_str())) {
                None => (None, None),
                Some(Ok(d)) => (Some(d), None),
                Some(Err(e)) => (None, Some(e)),
            };
            return Some(PathMatch { chart_no, date, date_error, rule: self.pattern.clone() });
        }
        None
    }
}

/// The first rule that matches the path.
pub fn first_match(rules: &[PathRule], path: &str) -> Option<PathMatch> {
    rules.iter().find_map(|r| r.apply(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<PathRule> {
        // The same four patterns the store seeds (kept in step by `store::links` tests).
        [
            r"(?:^|/)(?P<chart>[0-9０-９]{6,10})_(?P<date>[0-9０-９]{8})(?:[_./]|$)",
            r"(?:^|/)(?P<chart>[0-9０-９]{6,10})/(?P<date>[0-9０-９]{8})(?:[_/]|$)",
            r"(?:^|/)(?P<chart>[0-9０-９]{6,10})/(?P<date>[0-9０-９]{4}-[0-9０-９]{2}-[0-9０-９]{2})(?:[_/]|$)",
            r"(?:^|/)(?:19|20)[0-9]{2}/(?P<chart>[0-9０-９]{6,10})_",
        ]
        .iter()
        .enumerate()
        .map(|(i, p)| PathRule::new(i as i64, p).unwrap())
        .collect()
    }

    #[test]
    fn default_rules_read_the_contract_layouts() {
        let rules = defaults();
        let cases = [
            ("/arch/00123456_20100105/IMG_0001.JPG", Some(("123456", Some("2010-01-05")))),
            ("/arch/00123456/20100105/IMG_0001.JPG", Some(("123456", Some("2010-01-05")))),
            ("/arch/00123456/2010-01-05/IMG_0001.JPG", Some(("123456", Some("2010-01-05")))),
            ("/arch/2010/00123456_yamada/IMG_0001.JPG", Some(("123456", None))),
            ("/arch/０１２３４５６７_２０１００１０５/a.jpg", Some(("1234567", Some("2010-01-05")))),
            (r"C:\arch\00123456_20100105\a.jpg", Some(("123456", Some("2010-01-05")))),
            ("/arch/derm/IMG_20100105.jpg", None),
            ("/arch/12345/20100105/a.jpg", None), // five digits: too short for a chart number
        ];
        for (path, want) in cases {
            let got = first_match(&rules, path);
            let got = got.as_ref().map(|m| (m.chart_no.as_str(), m.date.map(|d| d.iso())));
            let want = want.map(|(c, d)| (c, d.map(str::to_owned)));
            assert_eq!(got, want, "{path}");
        }
        let bad_date = first_match(&rules, "/a/00123456_20101345/x.jpg").unwrap();
        assert!(bad_date.date.is_none() && bad_date.date_error.is_some());
    }

    #[test]
    fn templates_and_bad_patterns() {
        let r = PathRule::new(1, "患者{chart}/{date}/*").unwrap();
        let m = r.apply("/x/患者0012-3456/H22.01.05/p1.jpg").unwrap();
        assert_eq!((m.chart_no.as_str(), m.date.unwrap().iso()), ("123456", "2010-01-05".to_owned()));
        assert!(PathRule::new(1, "(?P<date>[0-9]{8})").unwrap_err().to_string().contains("chart"));
        assert!(PathRule::new(1, "(?P<chart>[0-9]+").is_err());
    }
}
