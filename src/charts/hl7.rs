//! HL7 v2.5 messages as SS-MIX2 standardized storage holds them (JAHIS profiles): disease
//! names (`PPR^ZD1` with `PRB` segments, `ADT^A08` with `DG1` segments) and prescriptions
//! (`RDE^O11` with `RXE`, `OMP^O09` with `RXO`, dated by `TQ1` or `ORC`). Text is ISO-2022-JP
//! (`MSH-18` = `~ISO IR87`) unless `MSH-18` says UTF-8.

use super::dates::Date;
use super::encoding::{self, TextEncoding};
use super::records::{Record, RecordKind, Sex};

/// What one message says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// `MSH-9`, e.g. `PPR^ZD1`.
    pub kind: String,
    /// `PID-3`, as written.
    pub patient_id: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<Date>,
    pub records: Vec<Record>,
    /// Segments that could not be read, with why (`PRB #2: no date`).
    pub problems: Vec<String>,
}

struct Seps {
    field: char,
    component: char,
    repetition: char,
}

fn fields(seg: &str, sep: char) -> Vec<&str> {
    seg.split(sep).collect()
}

/// The decoded text of a message: ISO-2022-JP unless MSH-18 names UTF-8.
pub fn decode(bytes: &[u8]) -> String {
    let ascii_head = bytes.split(|b| *b == b'\r' || *b == b'\n').next().unwrap_or(&[]);
    let head = String::from_utf8_lossy(ascii_head).to_uppercase();
    if head.contains("UNICODE UTF-8") || head.contains("UTF-8") {
        encoding::decode_bytes(bytes, TextEncoding::Utf8)
    } else {
        encoding::decode_iso2022jp(bytes)
    }
}

/// HL7 date/time (`YYYYMMDD[HHMM[SS]]`) to a day.
fn hl7_date(s: &str) -> Option<Date> {
    let s = s.trim();
    if s.len() < 8 || !s.as_bytes()[..8].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Date::new(s[0..4].parse().ok()?, s[4..6].parse().ok()?, s[6..8].parse().ok()?)
}

/// A CWE/CE value: the text, and an ICD-10 code if one of its triplets is coded `I10`.
fn coded(v: &str, seps: &Seps) -> (String, Option<String>) {
    let c: Vec<&str> = v.split(seps.component).collect();
    let get = |i: usize| c.get(i).copied().unwrap_or("").trim();
    let text = if !get(1).is_empty() {
        get(1)
    } else if !get(4).is_empty() {
        get(4)
    } else {
        get(0)
    };
    let mut icd = None;
    for (code, system) in [(get(0), get(2)), (get(3), get(5))] {
        let sys = system.to_ascii_uppercase();
        if !code.is_empty() && (sys == "I10" || sys == "ICD10" || sys == "ICD-10") {
            icd = Some(code.to_uppercase());
        }
    }
    (text.to_owned(), icd)
}

fn first_component<'a>(v: &'a str, seps: &Seps) -> &'a str {
    v.split(seps.repetition).next().unwrap_or("").split(seps.component).next().unwrap_or("").trim()
}

/// Parses one message. Errors when it is not HL7 at all or names no patient.
pub fn parse(text: &str) -> Result<Message, String> {
    let text = text.trim_start_matches('\u{FEFF}');
    if !text.starts_with("MSH") || text.len() < 8 {
        return Err("not an HL7 message (no MSH segment first)".into());
    }
    let mut chars = text[3..].chars();
    let field = chars.next().ok_or("truncated MSH")?;
    let enc: Vec<char> = chars.take(4).collect();
    let seps =
        Seps { field, component: enc.first().copied().unwrap_or('^'), repetition: enc.get(1).copied().unwrap_or('~') };
    let mut msg = Message::default();
    let mut n = std::collections::HashMap::<&str, usize>::new();
    // Prescription pieces arrive over several segments: ORC, then RXE/RXO, then TQ1.
    let mut rx: Option<(String, Option<String>)> = None;
    let mut orc_date: Option<Date> = None;
    let mut rx_dates: (Option<Date>, Option<Date>) = (None, None);
    let flush_rx = |rx: &mut Option<(String, Option<String>)>,
                    dates: (Option<Date>, Option<Date>),
                    orc: Option<Date>,
                    msg: &mut Message| {
        if let Some((drug, dose)) = rx.take() {
            match dates.0.or(orc) {
                Some(date) => msg.records.push(Record {
                    kind: RecordKind::Prescription,
                    date,
                    end_date: dates.1,
                    text: drug,
                    code: None,
                    specimen: None,
                    site: None,
                    dose,
                }),
                None => msg.problems.push(format!("prescription {drug:?}: no start date (TQ1-7) or ORC-9")),
            }
        }
    };
    for seg in text.split(['\r', '\n']).filter(|s| !s.trim().is_empty()) {
        let f = fields(seg, seps.field);
        let name = f[0];
        let count = n.entry(name).or_insert(0);
        *count += 1;
        let idx = *count;
        // MSH counts its field separator as MSH-1, so MSH-n is f[n - 1]; others are f[n].
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        match name {
            "MSH" => {
                let t: Vec<&str> = get(8).split(seps.component).collect();
                msg.kind = t.iter().take(2).copied().collect::<Vec<_>>().join("^");
            }
            "PID" => {
                msg.patient_id = first_component(get(3), &seps).to_owned();
                msg.birth_date = hl7_date(get(7));
                msg.sex = match get(8).trim() {
                    "F" => Some(Sex::Female),
                    "M" => Some(Sex::Male),
                    "O" | "A" => Some(Sex::Other),
                    _ => None,
                };
            }
            "PRB" => {
                // PRB-1 action code: AD add, UP update, DE delete, ...
                if get(1).trim() == "DE" {
                    continue;
                }
                let (text, code) = coded(get(3), &seps);
                match (hl7_date(get(7)).or_else(|| hl7_date(get(2))), text.is_empty()) {
                    (_, true) => msg.problems.push(format!("PRB #{idx}: no disease name (PRB-3)")),
                    (None, false) => msg.problems.push(format!("PRB #{idx} {text:?}: no date (PRB-7)")),
                    (Some(date), false) => msg.records.push(Record {
                        kind: RecordKind::Visit,
                        date,
                        end_date: hl7_date(get(9)),
                        text,
                        code,
                        specimen: None,
                        site: None,
                        dose: None,
                    }),
                }
            }
            "DG1" => {
                let (text, code) = coded(get(3), &seps);
                let text = if text.is_empty() { get(4).trim().to_owned() } else { text };
                match (hl7_date(get(5)), text.is_empty()) {
                    (_, true) => msg.problems.push(format!("DG1 #{idx}: no diagnosis (DG1-3)")),
                    (None, false) => msg.problems.push(format!("DG1 #{idx} {text:?}: no date (DG1-5)")),
                    (Some(date), false) => msg.records.push(Record {
                        kind: RecordKind::Visit,
                        date,
                        end_date: None,
                        text,
                        code,
                        specimen: None,
                        site: None,
                        dose: None,
                    }),
                }
            }
            "ORC" => {
                flush_rx(&mut rx, rx_dates, orc_date, &mut msg);
                rx_dates = (None, None);
                orc_date = hl7_date(get(9)).or_else(|| hl7_date(get(15)));
            }
            "RXE" | "RXO" => {
                flush_rx(&mut rx, rx_dates, orc_date, &mut msg);
                rx_dates = (None, None);
                // RXE-2 give code, RXE-3 amount, RXE-5 units; RXO-1 code, RXO-2 amount, RXO-4 units.
                let (code_f, amount_f, unit_f) = if name == "RXE" { (2, 3, 5) } else { (1, 2, 4) };
                let (drug, _) = coded(get(code_f), &seps);
                if drug.is_empty() {
                    msg.problems.push(format!("{name} #{idx}: no drug"));
                    continue;
                }
                let (unit, _) = coded(get(unit_f), &seps);
                let amount = get(amount_f).trim();
                let dose = (!amount.is_empty()).then(|| format!("{amount}{unit}"));
                rx = Some((drug, dose));
            }
            "TQ1" => {
                rx_dates = (hl7_date(get(7)), hl7_date(get(8)));
            }
            _ => {}
        }
    }
    flush_rx(&mut rx, rx_dates, orc_date, &mut msg);
    if msg.patient_id.is_empty() {
        return Err("no patient ID (PID-3)".into());
    }
    Ok(msg)
}

/// Writes a message's segments as HL7 text (for the invented SS-MIX2 trees).
pub fn join_segments(segments: &[String]) -> String {
    let mut s = segments.join("\r");
    s.push('\r');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const PPR: &str = "MSH|^~\\&|HIS|DERM|SSMIX2|DERM|20030120103000||PPR^ZD1^PPR_ZD1|0001|P|2.5||||||~ISO IR87||ISO 2022-1994\r\
PID|||0012345^^^^PI||ヤマダ^タロウ^^^^^L^P||19650401|F\r\
PRB|AD|20030120|20061234^悪性黒色腫^MDCDX2^C43.9^^I10||||20030120\r\
PRB|DE|20030120|20069999^湿疹^MDCDX2||||20030120\r\
PRB|AD|20030120|^^MDCDX2||||20030120\r";

    #[test]
    fn disease_names_from_iso_2022_jp() {
        let bytes = encoding::encode_iso2022jp(PPR).unwrap();
        let text = decode(&bytes);
        let m = parse(&text).unwrap();
        assert_eq!(m.kind, "PPR^ZD1");
        assert_eq!(m.patient_id, "0012345");
        assert_eq!(m.sex, Some(Sex::Female));
        assert_eq!(m.birth_date.unwrap().iso(), "1965-04-01");
        assert_eq!(m.records.len(), 1, "the deleted PRB is skipped");
        assert_eq!(m.records[0].text, "悪性黒色腫");
        assert_eq!(m.records[0].code.as_deref(), Some("C43.9"));
        assert_eq!(m.records[0].date.iso(), "2003-01-20");
        assert_eq!(m.problems.len(), 1, "{:?}", m.problems);
    }

    #[test]
    fn prescriptions_and_dg1() {
        let rde = "MSH|^~\\&|HIS|DERM|||20100505||RDE^O11^RDE_O11|2|P|2.5\r\
PID|||77\r\
ORC|NW|1|||||||20100505\r\
RXE|^^^20100505^20100518|620000001^アレグラ錠６０ｍｇ^HOT|60||MG^mg^MR9P\r\
TQ1|||1013044400000000&内服・経口・１日２回朝夕食後&JAMISDP01||||20100505|20100518\r\
ORC|NW|2|||||||20100505\r\
RXE||620000002^リンデロン－ＶＧ軟膏^HOT|5||G^g^MR9P\r\
DG1|1||L20.9^アトピー性皮膚炎^I10||20100505\r";
        let m = parse(rde).unwrap();
        let mut kinds: Vec<_> = m.records.iter().map(|r| (r.kind, r.text.as_str(), r.date.iso())).collect();
        kinds.sort();
        assert_eq!(
            kinds,
            vec![
                (RecordKind::Visit, "アトピー性皮膚炎", "2010-05-05".to_owned()),
                (RecordKind::Prescription, "アレグラ錠６０ｍｇ", "2010-05-05".to_owned()),
                (RecordKind::Prescription, "リンデロン－ＶＧ軟膏", "2010-05-05".to_owned()),
            ]
        );
        assert_eq!(m.records[0].end_date.unwrap().iso(), "2010-05-18");
        assert_eq!(m.records[0].dose.as_deref(), Some("60mg"));
        let dg1 = m.records.iter().find(|r| r.kind == RecordKind::Visit).unwrap();
        assert_eq!(dg1.code.as_deref(), Some("L20.9"));
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert!(parse("garbage").is_err());
        assert!(parse("MSH|^~\\&|X\rPID|||\r").unwrap_err().contains("PID-3"));
    }
}
