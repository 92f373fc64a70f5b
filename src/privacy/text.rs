//! What read text says: a name, an ID, a date, a ruler mark or short number, or other words.
//! Names, IDs and dates make a photo identifiable; other words make it unsure; ruler marks and
//! short numbers alone say nothing.

use super::Verdict;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextClass {
    Name,
    Id,
    Date,
    Words,
    Ruler,
}

impl TextClass {
    pub const ALL: [TextClass; 5] =
        [TextClass::Name, TextClass::Id, TextClass::Date, TextClass::Words, TextClass::Ruler];

    pub fn as_str(self) -> &'static str {
        match self {
            TextClass::Name => "name",
            TextClass::Id => "id",
            TextClass::Date => "date",
            TextClass::Words => "words",
            TextClass::Ruler => "ruler",
        }
    }

    pub fn parse(s: &str) -> Option<TextClass> {
        TextClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn level(self) -> Verdict {
        match self {
            TextClass::Name | TextClass::Id | TextClass::Date => Verdict::Identifiable,
            TextClass::Words => Verdict::Unsure,
            TextClass::Ruler => Verdict::Clear,
        }
    }
}

/// Full-width ASCII (ＡＢＣ１２３) and the ideographic space folded to ASCII.
pub fn fold_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々' | '〆' | 'ヶ')
}
fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}')
}
fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー' | '\u{FF66}'..='\u{FF9F}')
}
fn is_kana(c: char) -> bool {
    is_hiragana(c) || is_katakana(c)
}

/// Japanese words that label a name or an ID on a card or a label (found anywhere).
const JA_LABELS: &[&str] = &[
    "様",
    "殿",
    "さま",
    "さん",
    "氏名",
    "患者",
    "名前",
    "姓名",
    "フリガナ",
    "ふりがな",
    "カルテ",
    "診察券",
    "番号",
    "生年月日",
    "受付",
    "病棟",
    "主治医",
];

/// Latin words that do so (found as whole words).
const LATIN_LABELS: &[&str] =
    &["ID", "NAME", "PATIENT", "PT", "MRN", "DOB", "BIRTH", "BORN", "MR", "MRS", "MS", "DR", "CHART", "CASE"];

/// Classifies one line of recognised text.
pub fn classify(raw: &str) -> TextClass {
    let s = fold_width(raw);
    let t = s.trim();
    let upper = t.to_uppercase();
    let labelled = JA_LABELS.iter().any(|l| t.contains(l))
        || upper.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| LATIN_LABELS.contains(&w));
    if labelled {
        // A label or honorific: the line names or numbers a person.
        return if has_digit_run(t, 4) && !t.chars().any(|c| is_kanji(c) || is_kana(c)) {
            TextClass::Id
        } else {
            TextClass::Name
        };
    }
    if is_date(t) {
        return TextClass::Date;
    }
    if has_digit_run(t, 5) {
        return TextClass::Id;
    }
    if is_japanese_name(t) || is_latin_name(t) {
        return TextClass::Name;
    }
    if is_ruler_or_short_number(t) {
        return TextClass::Ruler;
    }
    TextClass::Words
}

/// A run of at least `n` digits. Groups joined by one hyphen count together (`12-34567`), and
/// so do groups of three or more joined by one space (`0012 3456`); ruler marks (`10 20 30`)
/// do not.
fn has_digit_run(s: &str, n: usize) -> bool {
    // (digits, separator that follows)
    let mut groups: Vec<(usize, Option<char>)> = Vec::new();
    let mut cur = 0usize;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            cur += 1;
            continue;
        }
        if cur > 0 {
            let joins = matches!(c, '-' | ' ') && chars.peek().is_some_and(|d| d.is_ascii_digit());
            groups.push((cur, joins.then_some(c)));
            cur = 0;
        }
    }
    if cur > 0 {
        groups.push((cur, None));
    }
    let mut run = 0;
    for (i, &(len, sep)) in groups.iter().enumerate() {
        run += len;
        if run >= n {
            return true;
        }
        let next = groups.get(i + 1).map(|g| g.0).unwrap_or(0);
        let joined = match sep {
            Some('-') => true,
            Some(' ') => len >= 3 && next >= 3,
            _ => false,
        };
        if !joined {
            run = 0;
        }
    }
    false
}

/// Digits grouped into numbers (separators and other characters split them).
fn numbers(s: &str) -> Vec<&str> {
    s.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).collect()
}

fn is_date(s: &str) -> bool {
    // Japanese: 2018年3月4日, 平成30年, H30.3.4, R1/5/1, 令和元年.
    if (s.contains('年') && (s.contains('月') || s.chars().any(|c| c.is_ascii_digit())))
        || ["昭和", "平成", "令和"].iter().any(|e| s.contains(e))
    {
        return true;
    }
    let upper = s.to_uppercase();
    let era = |p: &str| {
        ["H", "R", "S"].iter().any(|e| {
            p.strip_prefix(e).is_some_and(|rest| {
                let n = numbers(rest);
                n.len() >= 2 && n[0].len() <= 2
            })
        })
    };
    if upper.split_whitespace().any(era) {
        return true;
    }
    // Numeric: Y-M-D, D/M/Y, M/D/Y, YYYY.MM.DD, also with 2-digit years (18/03/04), and
    // camera date stamps ('18 3 4).
    let n = numbers(s);
    for win in n.windows(3) {
        let v: Vec<u32> = win.iter().map(|p| p.parse().unwrap_or(u32::MAX)).collect();
        let lens: Vec<usize> = win.iter().map(|p| p.len()).collect();
        let month = |m: u32| (1..=12).contains(&m);
        let day = |d: u32| (1..=31).contains(&d);
        let year4 = |y: u32, l: usize| l == 4 && (1900..=2099).contains(&y);
        let year2 = |l: usize| l == 2;
        if year4(v[0], lens[0]) && month(v[1]) && day(v[2]) && lens[1] <= 2 && lens[2] <= 2 {
            return true;
        }
        if year4(v[2], lens[2])
            && lens[0] <= 2
            && lens[1] <= 2
            && ((day(v[0]) && month(v[1])) || (month(v[0]) && day(v[1])))
        {
            return true;
        }
        if year2(lens[0]) && lens[1] <= 2 && lens[2] <= 2 && month(v[1]) && day(v[2]) && has_date_separators(s) {
            return true;
        }
        if year2(lens[2])
            && lens[0] <= 2
            && lens[1] <= 2
            && has_date_separators(s)
            && ((day(v[0]) && month(v[1])) || (month(v[0]) && day(v[1])))
        {
            return true;
        }
    }
    // YYYYMMDD as one run.
    n.iter().any(|p| {
        p.len() == 8 && {
            let y: u32 = p[..4].parse().unwrap_or(0);
            let m: u32 = p[4..6].parse().unwrap_or(0);
            let d: u32 = p[6..].parse().unwrap_or(0);
            (1900..=2099).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
        }
    }) || ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"].iter().any(|m| {
        upper.contains(m)
            && n.iter().any(|p| p.len() == 4 || p.len() <= 2)
            && !n.is_empty()
            && upper.split(|c: char| !c.is_ascii_alphabetic()).any(|w| w.starts_with(m) && w.len() <= 9)
    })
}

fn has_date_separators(s: &str) -> bool {
    s.contains('/') || s.contains('.') || s.contains('-') || s.contains('\'')
}

/// Kanji surname and given name (山田 太郎, 山田太郎 on a card), or a kana name (ヤマダ タロウ).
fn is_japanese_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split([' ', '・', '　']).filter(|p| !p.is_empty()).collect();
    let all = |p: &str, f: fn(char) -> bool| p.chars().all(f);
    match parts.as_slice() {
        [a, b] => {
            let (la, lb) = (a.chars().count(), b.chars().count());
            (all(a, is_kanji)
                && all(b, |c| is_kanji(c) || is_kana(c))
                && (1..=4).contains(&la)
                && (1..=4).contains(&lb))
                || (all(a, is_katakana) && all(b, is_katakana) && la >= 2 && lb >= 2)
                || (all(a, is_hiragana) && all(b, is_hiragana) && la >= 2 && lb >= 2)
        }
        [a] => {
            let cs: Vec<char> = a.chars().collect();
            let n = cs.len();
            let surname = cs.iter().take_while(|c| is_kanji(**c)).count();
            let given = &cs[surname..];
            // Four kanji alone are most often a full name on a label.
            (all(a, is_kanji) && (4..=5).contains(&n))
                // A kanji surname with a kana given name run together (中村さくら, 山田ハナコ),
                // unless the kana are a verb's or a particle's ending (確認する, 治療中です).
                || ((2..=3).contains(&surname)
                    && (2..=4).contains(&given.len())
                    && (given.iter().all(|c| is_hiragana(*c)) || given.iter().all(|c| is_katakana(*c)))
                    && !ends_like_grammar(given))
                // Three kanji ending in a given name's usual last kanji (田中誠子 read as 中誠子):
                // 子, 郎, 美, 恵, 男, 夫, 雄, 彦, 代, 江, 枝, 奈, 菜; anatomical words such as
                // 右前腕 or 皮膚科 do not end so.
                || (all(a, is_kanji) && n == 3 && "子郎美恵男夫雄彦代江枝奈菜".contains(cs[2]))
        }
        _ => false,
    }
}

/// Kana that end a verb, an adjective or a particle phrase rather than a given name.
fn ends_like_grammar(kana: &[char]) -> bool {
    let s: String = kana.iter().collect();
    [
        "る", "た", "す", "て", "に", "を", "は", "が", "の", "で", "と", "ない", "ます", "です", "する", "した",
        "あり", "なし",
    ]
    .iter()
    .any(|e| s.ends_with(e))
}

/// Common words of clinics and photos that are not names, however capitalised.
const NOT_NAMES: &[&str] = &[
    "LEFT",
    "RIGHT",
    "SIDE",
    "UPPER",
    "LOWER",
    "FRONT",
    "BACK",
    "ARM",
    "LEG",
    "HAND",
    "FOOT",
    "FACE",
    "CHEST",
    "SCALP",
    "NECK",
    "TRUNK",
    "DERMATOLOGY",
    "CLINIC",
    "HOSPITAL",
    "DEPARTMENT",
    "UNIVERSITY",
    "SCALE",
    "BEFORE",
    "AFTER",
    "PHOTO",
    "IMAGE",
    "SAMPLE",
    "TEST",
    "LESION",
    "CANON",
    "NIKON",
    "OLYMPUS",
    "SONY",
    "FUJIFILM",
];

/// Two or three capitalised Latin words (TARO YAMADA, Yamada, Taro; J. Smith).
fn is_latin_name(s: &str) -> bool {
    let words: Vec<&str> = s.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    if !(2..=3).contains(&words.len())
        || words.iter().any(|w| NOT_NAMES.contains(&w.to_uppercase().trim_end_matches('.')))
    {
        return false;
    }
    words.iter().all(|w| {
        let w = w.trim_end_matches('.');
        let mut cs = w.chars();
        cs.next().is_some_and(|c| c.is_ascii_uppercase())
            && cs.all(|c| c.is_ascii_alphabetic() || c == '-' || c == '\'')
    })
}

/// Scale marks: numbers of at most three digits, units, and punctuation only (0 1 2 3 cm,
/// 10 20 30 mm, "5").
fn is_ruler_or_short_number(s: &str) -> bool {
    let spaced = s.to_lowercase().replace("cm", " ").replace("mm", " ").replace("inch", " ").replace("in", " ");
    let stripped: String = spaced.chars().filter(|c| !c.is_whitespace()).collect();
    if stripped.is_empty() {
        return true;
    }
    // Ruler ticks and hair read as strokes: "llll", "mmlm", "uullum", "M1M".
    if stripped.chars().count() <= 8 && stripped.chars().all(|c| "mlnuwi1|!".contains(c)) {
        return true;
    }
    let letters = stripped.chars().filter(|c| c.is_alphabetic()).count();
    (letters == 0 && numbers(&spaced).iter().all(|n| n.len() <= 3)) || (letters <= 1 && stripped.chars().count() <= 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TextClass::*;

    #[test]
    fn names_ids_and_dates_are_found() {
        for (s, want) in [
            ("山田 太郎 様", Name),
            ("山田太郎様", Name),
            ("佐藤 花子 殿", Name),
            ("ヤマダ タロウ", Name),
            ("鈴木 一郎", Name),
            ("氏名：田中", Name),
            ("TARO YAMADA", Name),
            ("Yamada, Hanako", Name),
            ("Patient: J. Smith", Name),
            ("ID 00123456", Id),
            ("No.1234567", Id),
            ("カルテ番号 123456", Name),
            ("12-34567", Id),
            ("2018/03/04", Date),
            ("2018-3-4", Date),
            ("04.03.2018", Date),
            ("2018年3月4日", Date),
            ("平成30年", Date),
            ("H30.3.4", Date),
            ("'18 03 04", Date),
            ("18/03/04", Date),
            ("20180304", Date),
            ("Mar 4, 2018", Date),
            ("ＩＤ：１２３４５６", Id),
            ("中村さくら", Name),
            ("山田ハナコ", Name),
            ("藤花子", Name),
            ("高橋一郎", Name),
        ] {
            assert_eq!(classify(s), want, "{s}");
            assert_eq!(classify(s).level(), Verdict::Identifiable, "{s}");
        }
    }

    #[test]
    fn ruler_marks_and_short_numbers_say_nothing() {
        for s in
            ["1 2 3 4 5", "10 20 30", "cm", "0 1 2 3 cm", "5", "mm", "15", "1", "|", "123", "mmlm", "uullum", "M1M"]
        {
            assert_eq!(classify(s), Ruler, "{s}");
            assert_eq!(classify(s).level(), Verdict::Clear, "{s}");
        }
    }

    #[test]
    fn other_words_need_a_look() {
        for s in [
            "Dermatology",
            "右前腕",
            "sample watermark text",
            "皮膚科",
            "LEFT SIDE",
            "Incident",
            "確認する",
            "治療中です",
            "生検あり",
            "左下腿",
            "病理部",
        ] {
            assert_eq!(classify(s), Words, "{s}");
            assert_eq!(classify(s).level(), Verdict::Unsure, "{s}");
        }
    }
}
