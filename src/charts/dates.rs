//! Dates as Japanese charts write them: ISO (`2003-01-20`), slashes (`2003/1/20`), dots,
//! `20030120`, `2003年1月20日`, Japanese eras in kanji or letters (`平成15年1月20日`,
//! `H15.01.20`, `R1.05.01`, `令和元年5月1日`), fullwidth digits, a trailing time, and Excel
//! serial day numbers. Eras are checked against their first and last days.

use super::chart_no::halfwidth;
use serde::{Deserialize, Serialize};

/// A calendar day (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date {
    pub y: i32,
    pub m: u32,
    pub d: u32,
}

/// A date as its ten ASCII bytes `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsoDate([u8; 10]);

impl IsoDate {
    pub fn as_str(&self) -> &str {
        // Built from ASCII digits and hyphens only.
        std::str::from_utf8(&self.0).unwrap_or("0000-00-00")
    }
}

impl Date {
    pub fn new(y: i32, m: u32, d: u32) -> Option<Date> {
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) || !(1800..=2200).contains(&y) {
            return None;
        }
        Some(Date { y, m, d })
    }

    pub fn iso(&self) -> String {
        self.iso_text().as_str().to_owned()
    }

    /// `YYYY-MM-DD` without a heap string (a million-row import writes two per record).
    pub fn iso_text(&self) -> IsoDate {
        let mut b = *b"0000-00-00";
        let (y, m, d) = (self.y as u32, self.m, self.d);
        for (i, v) in [
            (0, y / 1000 % 10),
            (1, y / 100 % 10),
            (2, y / 10 % 10),
            (3, y % 10),
            (5, m / 10),
            (6, m % 10),
            (8, d / 10),
            (9, d % 10),
        ] {
            b[i] = b'0' + v as u8;
        }
        IsoDate(b)
    }

    /// `YYYY-MM-DD` (and a longer ISO timestamp, whose date part is taken).
    pub fn from_iso(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        Date::new(s[0..4].parse().ok()?, s[5..7].parse().ok()?, s[8..10].parse().ok()?)
    }

    /// Days since 1970-01-01.
    pub fn days(&self) -> i64 {
        // H. Hinnant's days_from_civil.
        let y = if self.m <= 2 { self.y as i64 - 1 } else { self.y as i64 };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = (self.m as i64 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + self.d as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    pub fn from_days(z: i64) -> Date {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = (yoe + era * 400) as i32 + i32::from(m <= 2);
        Date { y, m, d }
    }

    /// Whole years from `birth` to `self`.
    pub fn age_at(&self, birth: &Date) -> i32 {
        let mut age = self.y - birth.y;
        if (self.m, self.d) < (birth.m, birth.d) {
            age -= 1;
        }
        age
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.iso_text().as_str())
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A Japanese era: its kanji, its letter, and its first and last days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Era {
    pub kanji: &'static str,
    pub letter: char,
    pub first: Date,
    pub last: Option<Date>,
}

pub const ERAS: [Era; 5] = [
    Era {
        kanji: "明治",
        letter: 'M',
        first: Date { y: 1868, m: 10, d: 23 },
        last: Some(Date { y: 1912, m: 7, d: 29 }),
    },
    Era {
        kanji: "大正",
        letter: 'T',
        first: Date { y: 1912, m: 7, d: 30 },
        last: Some(Date { y: 1926, m: 12, d: 24 }),
    },
    Era {
        kanji: "昭和", letter: 'S', first: Date { y: 1926, m: 12, d: 25 }, last: Some(Date { y: 1989, m: 1, d: 7 })
    },
    Era {
        kanji: "平成", letter: 'H', first: Date { y: 1989, m: 1, d: 8 }, last: Some(Date { y: 2019, m: 4, d: 30 })
    },
    Era { kanji: "令和", letter: 'R', first: Date { y: 2019, m: 5, d: 1 }, last: None },
];

/// The day of an Excel serial number (1900 date system; 61 is 1900-03-01, past Excel's
/// phantom 1900-02-29). Fractions (times) are dropped.
pub fn from_excel_serial(serial: f64) -> Option<Date> {
    if !serial.is_finite() || !(61.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let day = serial.floor() as i64;
    let d = Date::from_days(Date { y: 1899, m: 12, d: 30 }.days() + day);
    Date::new(d.y, d.m, d.d)
}

/// Parses a date as charts write it, or says why not.
pub fn parse(raw: &str) -> Result<Date, String> {
    let s: String = raw.trim().chars().map(halfwidth).collect();
    let s = s.trim();
    if s.is_empty() {
        return Err("empty date".into());
    }
    let bad = || format!("not a date: {raw:?}");
    // An era written in kanji or as its letter.
    for era in &ERAS {
        let rest = s.strip_prefix(era.kanji).or_else(|| {
            let mut cs = s.chars();
            let first = cs.next()?;
            let rest = cs.as_str();
            (first.eq_ignore_ascii_case(&era.letter) && rest.starts_with(|c: char| c.is_ascii_digit())).then_some(rest)
        });
        if let Some(rest) = rest {
            let rest = rest.trim_start();
            let (year, rest) = match rest.strip_prefix('元') {
                Some(r) => (1, r),
                None => {
                    let n = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
                    (rest[..n].parse::<i32>().map_err(|_| bad())?, &rest[n..])
                }
            };
            let (m, d) = month_day(rest).ok_or_else(bad)?;
            let date = Date::new(era.first.y + year - 1, m, d).ok_or_else(bad)?;
            if year < 1 || date < era.first || era.last.is_some_and(|l| date > l) {
                return Err(format!("{} {year} {m}/{d} is outside the {} era: {raw:?}", era.kanji, era.kanji));
            }
            return Ok(date);
        }
    }
    // Gregorian: year first, four digits.
    let n = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let digits = &s[..n];
    if n == 8 && (s.len() == 8 || s[8..].starts_with([' ', 'T'])) {
        let y = digits[0..4].parse().map_err(|_| bad())?;
        let m = digits[4..6].parse().map_err(|_| bad())?;
        let d = digits[6..8].parse().map_err(|_| bad())?;
        return Date::new(y, m, d).ok_or_else(bad);
    }
    if n == 4 && s.len() > 4 {
        let y: i32 = digits.parse().map_err(|_| bad())?;
        let (m, d) = month_day(&s[4..]).ok_or_else(bad)?;
        return Date::new(y, m, d).ok_or_else(bad);
    }
    // An Excel serial that came through as text ("37641", "37641.5").
    if (n == 5 && s.len() == 5) || (n == 5 && s[5..].starts_with('.') && s[6..].bytes().all(|b| b.is_ascii_digit())) {
        let v: f64 = s.parse().map_err(|_| bad())?;
        return from_excel_serial(v).ok_or_else(bad);
    }
    if n <= 2 && s.contains('/') && s.rsplit('/').next().is_some_and(|y| y.len() == 4) {
        return Err(format!("day-first or month-first dates are ambiguous (use YYYY/MM/DD): {raw:?}"));
    }
    Err(bad())
}

/// `年1月20日`, `.01.20`, `/1/20`, `-01-20`, with an optional time after it.
fn month_day(rest: &str) -> Option<(u32, u32)> {
    let mut it = rest.chars().peekable();
    let sep1 = it.next()?;
    if !matches!(sep1, '年' | '.' | '/' | '-') {
        return None;
    }
    let take_num = |it: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Option<u32> {
        let mut v = String::new();
        while let Some(c) = it.peek().copied().filter(char::is_ascii_digit) {
            v.push(c);
            it.next();
        }
        if v.is_empty() || v.len() > 2 { None } else { v.parse().ok() }
    };
    let m = take_num(&mut it)?;
    let sep2 = it.next()?;
    let ok_sep = match sep1 {
        '年' => sep2 == '月',
        _ => sep2 == sep1,
    };
    if !ok_sep {
        return None;
    }
    let d = take_num(&mut it)?;
    if sep1 == '年' && it.peek() == Some(&'日') {
        it.next();
    }
    // Whatever follows must be a time, not more date.
    match it.next() {
        None => Some((m, d)),
        Some(' ' | 'T') => Some((m, d)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_iso_text_is_the_formatted_date() {
        for (y, m, d) in [(1800, 1, 1), (1989, 1, 8), (2003, 12, 31), (2019, 5, 1), (2200, 2, 28)] {
            let date = Date::new(y, m, d).unwrap();
            assert_eq!(date.iso_text().as_str(), format!("{y:04}-{m:02}-{d:02}"));
        }
    }

    use super::*;

    fn ok(s: &str) -> String {
        parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}")).iso()
    }

    #[test]
    fn gregorian_forms() {
        for s in [
            "2003-01-20",
            "2003/1/20",
            "2003/01/20",
            "2003.1.20",
            "20030120",
            "2003年1月20日",
            "２００３／０１／２０",
            "2003/01/20 10:31",
            "2003-01-20T10:31:00",
        ] {
            assert_eq!(ok(s), "2003-01-20", "{s}");
        }
    }

    #[test]
    fn eras() {
        assert_eq!(ok("平成15年1月20日"), "2003-01-20");
        assert_eq!(ok("H15.01.20"), "2003-01-20");
        assert_eq!(ok("h15/1/20"), "2003-01-20");
        assert_eq!(ok("Ｈ１５．０１．２０"), "2003-01-20");
        assert_eq!(ok("R1.05.01"), "2019-05-01");
        assert_eq!(ok("令和元年5月1日"), "2019-05-01");
        assert_eq!(ok("令和 2年12月31日"), "2020-12-31");
        assert_eq!(ok("昭和64年1月7日"), "1989-01-07");
        assert_eq!(ok("平成元年1月8日"), "1989-01-08");
        assert_eq!(ok("S40.4.1"), "1965-04-01");
        assert_eq!(ok("大正5年3月3日"), "1916-03-03");
        assert_eq!(ok("明治45年7月29日"), "1912-07-29");
        assert_eq!(ok("T1.7.30"), "1912-07-30");
    }

    #[test]
    fn era_bounds_are_checked() {
        for s in ["平成31年5月1日", "H31.05.01", "令和元年4月30日", "昭和64年1月8日", "平成元年1月7日", "H0.1.1"]
        {
            let e = parse(s).unwrap_err();
            assert!(e.contains("outside") || e.contains("not a date"), "{s}: {e}");
        }
    }

    #[test]
    fn excel_serials() {
        assert_eq!(ok("37641"), "2003-01-20");
        assert_eq!(ok("37641.4375"), "2003-01-20");
        assert_eq!(from_excel_serial(61.0).unwrap().iso(), "1900-03-01");
        assert_eq!(from_excel_serial(43586.0).unwrap().iso(), "2019-05-01");
        assert!(from_excel_serial(60.0).is_none(), "Excel's phantom 1900-02-29");
    }

    #[test]
    fn garbage_and_ambiguity() {
        for s in
            ["", "2003-13-01", "2003-02-30", "2003/1-20", "03/01/20", "yesterday", "12345678", "2003年1月", "X15.1.1"]
        {
            assert!(parse(s).is_err(), "{s:?} should fail");
        }
        assert!(parse("20/01/2003").unwrap_err().contains("ambiguous"));
    }

    #[test]
    fn day_numbers_round_trip() {
        for z in [-1_000_000i64, -1, 0, 1, 12_000, 18_000, 60_000] {
            assert_eq!(Date::from_days(z).days(), z);
        }
        assert_eq!(Date::new(1970, 1, 1).unwrap().days(), 0);
        let b = Date::new(1950, 6, 15).unwrap();
        assert_eq!(Date::new(2003, 6, 14).unwrap().age_at(&b), 52);
        assert_eq!(Date::new(2003, 6, 15).unwrap().age_at(&b), 53);
    }
}
