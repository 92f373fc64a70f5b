//! Which column holds what: the fields a chart export can carry, the Japanese and English
//! headers recognised without help, and column maps (set once, saved as named profiles).
//! Columns that map to no field (patient names, kana, addresses) are never read.

use super::chart_no::halfwidth;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    ChartNo,
    /// The visit (or record) date.
    Date,
    Diagnosis,
    Icd10,
    Pathology,
    SpecimenNo,
    BiopsyDate,
    Site,
    Sex,
    BirthDate,
    Drug,
    Dose,
    StartDate,
    EndDate,
    Treatment,
    AdverseEvent,
    Note,
    /// A column that says which kind of record the row is.
    Kind,
    /// Free text whose meaning the kind column gives.
    Text,
}

impl Field {
    pub const ALL: [Field; 19] = [
        Field::ChartNo,
        Field::Date,
        Field::Diagnosis,
        Field::Icd10,
        Field::Pathology,
        Field::SpecimenNo,
        Field::BiopsyDate,
        Field::Site,
        Field::Sex,
        Field::BirthDate,
        Field::Drug,
        Field::Dose,
        Field::StartDate,
        Field::EndDate,
        Field::Treatment,
        Field::AdverseEvent,
        Field::Note,
        Field::Kind,
        Field::Text,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::ChartNo => "chart_no",
            Field::Date => "date",
            Field::Diagnosis => "diagnosis",
            Field::Icd10 => "icd10",
            Field::Pathology => "pathology",
            Field::SpecimenNo => "specimen_no",
            Field::BiopsyDate => "biopsy_date",
            Field::Site => "site",
            Field::Sex => "sex",
            Field::BirthDate => "birth_date",
            Field::Drug => "drug",
            Field::Dose => "dose",
            Field::StartDate => "start_date",
            Field::EndDate => "end_date",
            Field::Treatment => "treatment",
            Field::AdverseEvent => "adverse_event",
            Field::Note => "note",
            Field::Kind => "kind",
            Field::Text => "text",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }

    /// Headers recognised for this field (compared after [`header_key`]).
    fn headers(self) -> &'static [&'static str] {
        match self {
            Field::ChartNo => {
                &["患者id", "カルテ番号", "id", "患者番号", "カルテno", "カルテid", "chartno", "patientid", "mrn"]
            }
            Field::Date => &["受診日", "来院日", "診療日", "日付", "記録日", "診察日", "date", "visitdate"],
            Field::Diagnosis => &["病名", "診断名", "診断", "臨床診断", "diagnosis"],
            Field::Icd10 => &["icd10", "icd-10", "icdコード", "icd10コード", "icd"],
            Field::Pathology => &["病理診断", "病理診断名", "病理組織診断", "pathology", "pathologydiagnosis"],
            Field::SpecimenNo => &["検体番号", "標本番号", "病理番号", "specimenno", "specimen"],
            Field::BiopsyDate => &["生検日", "採取日", "検体採取日", "biopsydate"],
            Field::Site => &["部位", "site"],
            Field::Sex => &["性別", "sex"],
            Field::BirthDate => &["生年月日", "birthdate", "dob"],
            Field::Drug => &["薬剤名", "薬品名", "処方薬", "薬剤", "drug"],
            Field::Dose => &["用量", "用法用量", "用法・用量", "dose"],
            Field::StartDate => &["開始日", "処方日", "投与開始日", "startdate"],
            Field::EndDate => &["終了日", "投与終了日", "enddate"],
            Field::Treatment => &["処置", "処置名", "治療", "手術", "手技", "treatment", "procedure"],
            Field::AdverseEvent => &["有害事象", "副作用", "adverseevent"],
            Field::Note => &["経過", "経過記録", "経過記事", "記事", "所見", "備考", "note", "notes"],
            Field::Kind => &["種別", "記録種別", "区分", "kind"],
            Field::Text => &["内容", "text"],
        }
    }
}

/// A header as compared: halfwidth, lower case, no spaces, underscores or brackets.
pub fn header_key(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{FEFF}')
        .chars()
        .map(halfwidth)
        .filter(|c| !matches!(c, ' ' | '_' | '(' | ')' | '「' | '」' | '【' | '】'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a header names, if it is one of the recognised ones.
pub fn recognise(header: &str) -> Option<Field> {
    let key = header_key(header);
    Field::ALL.into_iter().find(|f| f.headers().contains(&key.as_str()))
}

/// Where a mapped field's column is: by header text, by 1-based position (`#3`), or in no
/// column at all (a recognised header that holds something else, set back to none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnRef {
    Header(String),
    Position(usize),
    Unmapped,
}

impl ColumnRef {
    /// `#3`, a header, or nothing (`FIELD=`): the field is read from no column.
    pub fn parse(s: &str) -> ColumnRef {
        if s.trim().is_empty() {
            return ColumnRef::Unmapped;
        }
        match s.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n >= 1 => ColumnRef::Position(n),
            _ => ColumnRef::Header(s.to_owned()),
        }
    }
}

/// A column mapping set by a person: `FIELD=COLUMN` pairs. Saved by name as a profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapSpec {
    pub columns: BTreeMap<Field, ColumnRef>,
}

impl MapSpec {
    /// Parses `FIELD=COLUMN` (e.g. `chart_no=患者コード`, `date=#2`; `site=` maps the
    /// field to no column, even where a header would be recognised for it).
    pub fn add(&mut self, pair: &str) -> Result<()> {
        let (f, c) =
            pair.split_once('=').ok_or_else(|| Error::Invalid(format!("expected FIELD=COLUMN, got {pair:?}")))?;
        let field = Field::parse(f).ok_or_else(|| {
            let names: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
            Error::Invalid(format!("unknown field {f:?} (use one of {})", names.join(", ")))
        })?;
        self.columns.insert(field, ColumnRef::parse(c.trim()));
        Ok(())
    }

    /// Layers `other` over this one (its entries win).
    pub fn overlay(&mut self, other: &MapSpec) {
        for (f, c) in &other.columns {
            self.columns.insert(*f, c.clone());
        }
    }
}

/// The resolved mapping for one table: field to 0-based column index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ColumnMap {
    pub columns: BTreeMap<Field, usize>,
}

impl ColumnMap {
    pub fn get(&self, f: Field) -> Option<usize> {
        self.columns.get(&f).copied()
    }

    /// Recognised headers first, then the person's map over them. Errors name the column
    /// that cannot be found. Needs a chart number and at least one date.
    pub fn resolve(headers: &[String], spec: &MapSpec) -> Result<ColumnMap> {
        let mut columns = BTreeMap::new();
        for (i, h) in headers.iter().enumerate() {
            if let Some(f) = recognise(h) {
                columns.entry(f).or_insert(i);
            }
        }
        for (f, c) in &spec.columns {
            let i = match c {
                ColumnRef::Unmapped => {
                    columns.remove(f);
                    continue;
                }
                ColumnRef::Position(n) if *n <= headers.len() => n - 1,
                ColumnRef::Position(n) => {
                    return Err(Error::Invalid(format!(
                        "{}: column #{n} does not exist (the table has {} columns)",
                        f.as_str(),
                        headers.len()
                    )));
                }
                ColumnRef::Header(name) => {
                    let key = header_key(name);
                    headers.iter().position(|h| header_key(h) == key).ok_or_else(|| {
                        Error::Invalid(format!(
                            "{}: no column headed {name:?} (headers: {})",
                            f.as_str(),
                            headers.join(", ")
                        ))
                    })?
                }
            };
            columns.insert(*f, i);
        }
        let map = ColumnMap { columns };
        map.check()?;
        Ok(map)
    }

    fn check(&self) -> Result<()> {
        if self.get(Field::ChartNo).is_none() {
            return Err(Error::Invalid(
                "no chart-number column (患者ID, カルテ番号, ID ...); give one with --map chart_no=COLUMN".into(),
            ));
        }
        let dated = [Field::Date, Field::BiopsyDate, Field::StartDate].iter().any(|f| self.get(*f).is_some());
        if !dated {
            return Err(Error::Invalid(
                "no date column (受診日, 来院日, 診療日 ...); give one with --map date=COLUMN".into(),
            ));
        }
        Ok(())
    }

    /// How many fields this header row would map on its own: to find the header row
    /// below title lines.
    pub fn recognised_count(headers: &[String]) -> usize {
        headers.iter().filter(|h| recognise(h).is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn japanese_headers_are_recognised() {
        let h =
            strings(&["\u{FEFF}患者ID", "氏名", "受診日", "病名", "病理診断", "検体番号", "部位", "性別", "生年月日"]);
        let m = ColumnMap::resolve(&h, &MapSpec::default()).unwrap();
        assert_eq!(m.get(Field::ChartNo), Some(0));
        assert_eq!(m.get(Field::Date), Some(2));
        assert_eq!(m.get(Field::Diagnosis), Some(3));
        assert_eq!(m.get(Field::Pathology), Some(4));
        assert_eq!(m.get(Field::SpecimenNo), Some(5));
        assert_eq!(m.get(Field::BirthDate), Some(8));
        assert!(!m.columns.values().any(|&i| i == 1), "the name column is never mapped");
        for (h, f) in [
            ("カルテ番号", Field::ChartNo),
            ("来院日", Field::Date),
            ("診療日", Field::Date),
            ("診断名", Field::Diagnosis),
            ("ＩＤ", Field::ChartNo),
        ] {
            assert_eq!(recognise(h), Some(f), "{h}");
        }
    }

    #[test]
    fn a_map_overrides_and_errors_name_the_column() {
        let h = strings(&["患者コード", "日", "メモ"]);
        assert!(ColumnMap::resolve(&h, &MapSpec::default()).unwrap_err().to_string().contains("chart-number"));
        let mut spec = MapSpec::default();
        spec.add("chart_no=患者コード").unwrap();
        spec.add("date=#2").unwrap();
        spec.add("note=メモ").unwrap();
        let m = ColumnMap::resolve(&h, &spec).unwrap();
        assert_eq!((m.get(Field::ChartNo), m.get(Field::Date), m.get(Field::Note)), (Some(0), Some(1), Some(2)));
        let mut bad = MapSpec::default();
        bad.add("date=受付日").unwrap();
        let e = ColumnMap::resolve(&h, &bad).unwrap_err().to_string();
        assert!(e.contains("受付日"), "{e}");
        assert!(MapSpec::default().add("colour=x").is_err());
        // `FIELD=` sets a recognised column back to none.
        let h = strings(&["患者ID", "受診日", "部位", "病名"]);
        let mut none = MapSpec::default();
        none.add("site=").unwrap();
        assert_eq!(none.columns.get(&Field::Site), Some(&ColumnRef::Unmapped));
        let m = ColumnMap::resolve(&h, &none).unwrap();
        assert_eq!((m.get(Field::Site), m.get(Field::Diagnosis)), (None, Some(3)));
        none.add("date= ").unwrap();
        let e = ColumnMap::resolve(&h, &none).unwrap_err().to_string();
        assert!(e.contains("no date column"), "{e}");
        assert!(MapSpec::default().add("nothing").is_err());
    }
}
