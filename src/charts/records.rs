//! Chart records: what one row (or one HL7 segment) says about a patient, once read.

use super::chart_no;
use super::dates::{self, Date};
use super::mapping::{ColumnMap, Field};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A visit, with the diagnosis made at it when there is one.
    Visit,
    /// A pathology report: specimen number, biopsy date, diagnosis.
    Pathology,
    Prescription,
    Treatment,
    AdverseEvent,
    /// Free-text course notes.
    Note,
}

impl RecordKind {
    pub const ALL: [RecordKind; 6] = [
        RecordKind::Visit,
        RecordKind::Pathology,
        RecordKind::Prescription,
        RecordKind::Treatment,
        RecordKind::AdverseEvent,
        RecordKind::Note,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Visit => "visit",
            RecordKind::Pathology => "pathology",
            RecordKind::Prescription => "prescription",
            RecordKind::Treatment => "treatment",
            RecordKind::AdverseEvent => "adverse_event",
            RecordKind::Note => "note",
        }
    }

    pub fn parse(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The words a kind column may hold (Japanese or English).
    pub fn from_label(s: &str) -> Option<RecordKind> {
        let s = s.trim().to_lowercase();
        let table: [(&[&str], RecordKind); 6] = [
            (&["visit", "受診", "外来", "病名", "診断", "diagnosis"], RecordKind::Visit),
            (&["pathology", "病理", "病理診断", "生検"], RecordKind::Pathology),
            (&["prescription", "処方", "投薬", "薬剤"], RecordKind::Prescription),
            (&["treatment", "処置", "治療", "手術", "procedure"], RecordKind::Treatment),
            (&["adverse_event", "adverse event", "有害事象", "副作用"], RecordKind::AdverseEvent),
            (&["note", "経過", "経過記録", "記事", "course"], RecordKind::Note),
        ];
        table.iter().find(|(words, _)| words.contains(&s.as_str())).map(|(_, k)| *k)
    }

    /// Whether records of this kind are dated events at which photos are taken.
    pub fn is_encounter(self) -> bool {
        matches!(self, RecordKind::Visit | RecordKind::Pathology | RecordKind::Treatment)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Sex> {
        [Sex::Female, Sex::Male, Sex::Other].into_iter().find(|x| x.as_str() == s)
    }

    /// 男/女, M/F, and the JIS X 0303 codes 1 (male) and 2 (female).
    pub fn from_label(s: &str) -> Option<Sex> {
        match s.trim().to_lowercase().as_str() {
            "女" | "女性" | "f" | "female" | "2" => Some(Sex::Female),
            "男" | "男性" | "m" | "male" | "1" => Some(Sex::Male),
            "その他" | "other" | "9" => Some(Sex::Other),
            _ => None,
        }
    }
}

/// One thing the chart says about a patient on a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub kind: RecordKind,
    pub date: Date,
    pub end_date: Option<Date>,
    /// The diagnosis, pathology diagnosis, drug, treatment, event or note.
    pub text: String,
    /// An ICD-10 code when the source gives one.
    pub code: Option<String>,
    pub specimen: Option<String>,
    pub site: Option<String>,
    pub dose: Option<String>,
}

/// What a row says about the patient rather than an event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatientFacts {
    pub sex: Option<Sex>,
    pub birth_date: Option<Date>,
}

/// One good row: whose it is, what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowRecords {
    pub chart_no: String,
    pub facts: PatientFacts,
    pub records: Vec<Record>,
}

fn clean(s: &str) -> Option<String> {
    let t = s.trim().trim_matches('\u{3000}').trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Turns one row into records, or says why it cannot. `get(i)` is the text of column `i`
/// (empty when the row is short).
pub fn from_row<'a>(map: &ColumnMap, get: impl Fn(usize) -> &'a str) -> Result<RowRecords, String> {
    let field = |f: Field| map.get(f).map(&get).and_then(clean);
    let any_replacement = map.columns.values().any(|&i| get(i).contains('\u{FFFD}'));
    if any_replacement {
        return Err("bytes that are not valid in the file's encoding".into());
    }
    let raw_chart = field(Field::ChartNo).ok_or("no chart number")?;
    let chart_no = chart_no::normalize(&raw_chart).map_err(|e| e.to_string())?;
    let date_of = |f: Field| -> Result<Option<Date>, String> {
        match field(f) {
            None => Ok(None),
            Some(s) => dates::parse(&s).map(Some).map_err(|e| format!("{}: {e}", f.as_str())),
        }
    };
    let date = date_of(Field::Date)?;
    let biopsy = date_of(Field::BiopsyDate)?;
    let start = date_of(Field::StartDate)?;
    let end = date_of(Field::EndDate)?;
    let facts = PatientFacts {
        sex: match field(Field::Sex) {
            None => None,
            Some(s) => Some(Sex::from_label(&s).ok_or_else(|| format!("sex: not 男/女/M/F/1/2: {s:?}"))?),
        },
        birth_date: date_of(Field::BirthDate)?,
    };
    let site = field(Field::Site);
    let code = field(Field::Icd10).map(|c| c.to_uppercase());
    let mut records = Vec::new();
    let make = |kind: RecordKind, when: Option<Date>, text: String, code: Option<String>| -> Result<Record, String> {
        let date = when.ok_or_else(|| format!("{} without a date", kind.as_str()))?;
        let (specimen, dose) = match kind {
            RecordKind::Pathology => (field(Field::SpecimenNo), None),
            RecordKind::Prescription => (None, field(Field::Dose)),
            _ => (None, None),
        };
        let end_date = if kind == RecordKind::Prescription { end } else { None };
        Ok(Record { kind, date, end_date, text, code, specimen, site: site.clone(), dose })
    };
    let push = |records: &mut Vec<Record>, kind, when, text, code| -> Result<(), String> {
        records.push(make(kind, when, text, code)?);
        Ok(())
    };
    if let Some(kind_text) = field(Field::Kind) {
        let kind = RecordKind::from_label(&kind_text).ok_or_else(|| format!("unknown record kind {kind_text:?}"))?;
        let own = match kind {
            RecordKind::Visit => Field::Diagnosis,
            RecordKind::Pathology => Field::Pathology,
            RecordKind::Prescription => Field::Drug,
            RecordKind::Treatment => Field::Treatment,
            RecordKind::AdverseEvent => Field::AdverseEvent,
            RecordKind::Note => Field::Note,
        };
        let text = field(own).or_else(|| field(Field::Text)).unwrap_or_default();
        if text.is_empty() && kind != RecordKind::Visit {
            return Err(format!("{} with no text", kind.as_str()));
        }
        let when = match kind {
            RecordKind::Pathology => biopsy.or(date),
            RecordKind::Prescription => start.or(date),
            _ => date.or(start),
        };
        push(&mut records, kind, when, text, if kind == RecordKind::Visit { code.clone() } else { None })?;
    } else {
        let diagnosis = field(Field::Diagnosis);
        if diagnosis.is_some() || code.is_some() {
            push(&mut records, RecordKind::Visit, date, diagnosis.unwrap_or_default(), code.clone())?;
        }
        if let Some(p) = field(Field::Pathology) {
            push(&mut records, RecordKind::Pathology, biopsy.or(date), p, None)?;
        }
        if let Some(d) = field(Field::Drug) {
            push(&mut records, RecordKind::Prescription, start.or(date), d, None)?;
        }
        for (f, kind) in [
            (Field::Treatment, RecordKind::Treatment),
            (Field::AdverseEvent, RecordKind::AdverseEvent),
            (Field::Note, RecordKind::Note),
        ] {
            if let Some(t) = field(f) {
                push(&mut records, kind, date.or(start), t, None)?;
            }
        }
        if records.is_empty() {
            // A dated row with nothing else is still a visit.
            push(&mut records, RecordKind::Visit, date.or(biopsy).or(start), String::new(), None)
                .map_err(|_| "no date and nothing to record".to_owned())?;
        }
    }
    Ok(RowRecords { chart_no, facts, records })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::mapping::MapSpec;

    fn rows(headers: &[&str], row: &[&str]) -> Result<RowRecords, String> {
        let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
        let map = ColumnMap::resolve(&h, &MapSpec::default()).unwrap();
        from_row(&map, |i| row.get(i).copied().unwrap_or(""))
    }

    #[test]
    fn one_row_can_hold_a_visit_and_a_pathology_report() {
        let r = rows(
            &["患者ID", "受診日", "病名", "病理診断", "検体番号", "生検日", "性別", "生年月日"],
            &[
                "０１２３４５",
                "H15.01.20",
                "色素性母斑",
                "Compound nevus",
                "S03-123",
                "2003/01/22",
                "女",
                "昭和40年4月1日",
            ],
        )
        .unwrap();
        assert_eq!(r.chart_no, "12345");
        assert_eq!(r.facts.sex, Some(Sex::Female));
        assert_eq!(r.facts.birth_date.unwrap().iso(), "1965-04-01");
        assert_eq!(r.records.len(), 2);
        assert_eq!((r.records[0].kind, r.records[0].date.iso().as_str()), (RecordKind::Visit, "2003-01-20"));
        let p = &r.records[1];
        assert_eq!(
            (p.kind, p.date.iso().as_str(), p.specimen.as_deref()),
            (RecordKind::Pathology, "2003-01-22", Some("S03-123"))
        );
    }

    #[test]
    fn kind_column_and_bad_rows() {
        let h = ["ID", "日付", "種別", "内容", "用量"];
        let r = rows(&h, &["77", "2010-05-05", "処方", "ロキソプロフェン", "60mg 3T"]).unwrap();
        assert_eq!(r.records[0].kind, RecordKind::Prescription);
        assert_eq!(r.records[0].dose.as_deref(), Some("60mg 3T"));
        assert!(rows(&h, &["77", "2010-05-05", "占い", "x"]).unwrap_err().contains("unknown record kind"));
        assert!(rows(&h, &["", "2010-05-05", "処方", "x"]).unwrap_err().contains("no chart number"));
        assert!(rows(&h, &["77", "H31.5.1", "処方", "x"]).unwrap_err().contains("outside"));
        assert!(rows(&h, &["77", "2010-05-05", "処方", ""]).unwrap_err().contains("no text"));
        assert!(rows(&h, &["7\u{FFFD}7", "2010-05-05", "処方", "x"]).unwrap_err().contains("encoding"));
        assert!(rows(&["ID", "日付", "病名"], &["77", "", "湿疹"]).unwrap_err().contains("without a date"));
    }
}
