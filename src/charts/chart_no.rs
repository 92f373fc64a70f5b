//! Chart numbers (患者ID / カルテ番号) as the hospital writes them, normalised to one form:
//! fullwidth digits and letters made ASCII, hyphens, spaces and dots dropped, letters upper
//! case, leading zeros removed. `０００１２-３４５` and `12345` are the same patient.

use crate::error::{Error, Result};

/// The longest chart number accepted, after normalisation.
pub const MAX_LEN: usize = 20;

/// Fullwidth ASCII (U+FF01..U+FF5E) to ASCII; everything else unchanged.
pub fn halfwidth(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        '-' | ' '
            | '.'
            | '_'
            | '\t'
            | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2015}'
            | '\u{2212}'
            | '\u{30FC}'
            | '\u{FF70}'
            | '\u{FE63}'
    )
}

/// The normalised chart number, or why the text is not one.
pub fn normalize(raw: &str) -> Result<String> {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars().map(halfwidth) {
        if is_separator(c) {
            continue;
        }
        if !c.is_ascii_alphanumeric() {
            return Err(Error::Invalid(format!("not a chart number (character {c:?}): {raw:?}")));
        }
        out.push(c.to_ascii_uppercase());
    }
    if out.is_empty() {
        return Err(Error::Invalid("empty chart number".into()));
    }
    let trimmed = out.trim_start_matches('0');
    let n = if trimmed.is_empty() { "0".to_owned() } else { trimmed.to_owned() };
    if n == "0" {
        return Err(Error::Invalid(format!("not a chart number (all zeros): {raw:?}")));
    }
    if n.len() > MAX_LEN {
        return Err(Error::Invalid(format!("chart number longer than {MAX_LEN} characters: {raw:?}")));
    }
    Ok(n)
}

/// Every run of digits (fullwidth too, hyphens inside allowed) in a piece of text,
/// normalised: used by the opt-out gate to find a chart number in a path whatever rule would
/// or would not have matched it. Each hyphen-separated piece is given as well as the whole run.
pub fn digit_runs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<String>| {
        let r = run.trim_matches('-');
        if r.chars().any(|c| c.is_ascii_digit()) {
            let whole: String = r.chars().filter(char::is_ascii_digit).collect();
            let mut push = |s: &str| {
                let t = s.trim_start_matches('0');
                if !t.is_empty() && !out.iter().any(|o| o == t) {
                    out.push(t.to_owned());
                }
            };
            push(&whole);
            // Every contiguous span of hyphen-separated pieces: `0012-3456-20100105` holds
            // the chart number `0012-3456` as well as the date.
            let pieces: Vec<&str> = r.split('-').filter(|p| !p.is_empty()).collect();
            if pieces.len() > 1 {
                for i in 0..pieces.len() {
                    for j in i..pieces.len() {
                        push(&pieces[i..=j].concat());
                    }
                }
            }
        }
        run.clear();
    };
    for c in text.chars().map(halfwidth) {
        if c.is_ascii_digit() || (c == '-' && !run.is_empty()) || matches!(c, '\u{2010}' | '\u{2212}') {
            run.push(if c.is_ascii_digit() { c } else { '-' });
        } else {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_one_number_agree() {
        for raw in
            ["12345", "0012345", "００１２３４５", "0012-345", "００１２－３４５", " 12 345 ", "1-2-3-4-5", "12345\t"]
        {
            assert_eq!(normalize(raw).unwrap(), "12345", "{raw:?}");
        }
        assert_eq!(normalize("ab-0012").unwrap(), "AB0012");
        assert_eq!(normalize("Ａ１２").unwrap(), "A12");
    }

    #[test]
    fn rejects_what_is_not_a_number() {
        for raw in ["", "   ", "000", "12/34", "山田", "1".repeat(21).as_str()] {
            assert!(normalize(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn digit_runs_find_numbers_in_paths() {
        let runs = digit_runs("/photos/2010/００１２３４５６_20100105/IMG_0001.JPG");
        assert!(runs.contains(&"123456".to_owned()), "{runs:?}");
        assert!(runs.contains(&"20100105".to_owned()));
        let runs = digit_runs("/a/0012-3456-20100105/x.jpg");
        assert!(runs.contains(&"123456".to_owned()), "{runs:?}");
        assert!(runs.contains(&"20100105".to_owned()));
        assert!(runs.contains(&"12345620100105".to_owned()));
    }
}
