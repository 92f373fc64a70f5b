//! Tables exported from an EMR: CSV, TSV and Excel workbooks, read row by row. Finds the
//! header row (below any title lines), maps its columns, and hands each data row on as
//! records or as a bad row with its line and reason.

use super::encoding::{TextEncoding, Utf8Reader};
use super::mapping::{ColumnMap, MapSpec};
use super::records::{self, RowRecords};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableFormat {
    Csv,
    Tsv,
    Xlsx,
}

impl TableFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Tsv => "tsv",
            TableFormat::Xlsx => "xlsx",
        }
    }

    pub fn parse(s: &str) -> Option<TableFormat> {
        [TableFormat::Csv, TableFormat::Tsv, TableFormat::Xlsx].into_iter().find(|f| f.as_str() == s)
    }

    /// By extension; a `.txt` or unknown one is sniffed from its first line.
    pub fn of(path: &Path, first_line: &str) -> TableFormat {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => TableFormat::Xlsx,
            "tsv" | "tab" => TableFormat::Tsv,
            "csv" => TableFormat::Csv,
            _ if first_line.matches('\t').count() > first_line.matches(',').count() => TableFormat::Tsv,
            _ => TableFormat::Csv,
        }
    }

    pub fn is_spreadsheet(path: &Path) -> bool {
        TableFormat::of(path, "") == TableFormat::Xlsx
    }
}

/// One data row's outcome.
pub enum Item {
    Row { line: u64, row: RowRecords },
    Bad { at: String, reason: String },
}

/// How many leading rows may be titles before the header.
const HEADER_SEARCH: usize = 20;

fn find_header(rows: &[Vec<String>], spec: &MapSpec) -> Result<(usize, ColumnMap)> {
    let mut first_err = None;
    for (i, row) in rows.iter().enumerate() {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if spec.columns.is_empty() && ColumnMap::recognised_count(row) == 0 {
            first_err.get_or_insert_with(|| ColumnMap::resolve(row, spec).unwrap_err());
            continue;
        }
        match ColumnMap::resolve(row, spec) {
            Ok(map) => return Ok((i, map)),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| Error::Invalid("the table is empty".into())))
}

/// The header, its mapping and the first data rows: what the import wizard previews.
#[derive(Clone, Debug, Serialize)]
pub struct Preview {
    pub format: TableFormat,
    pub headers: Vec<String>,
    pub map: Option<ColumnMap>,
    /// Why there is no mapping, when there is none.
    pub map_error: Option<String>,
    pub rows: Vec<Vec<String>>,
}

/// Reads a CSV or TSV file in the given encoding, calling `each` per data row.
pub fn read_delimited(
    path: &Path,
    encoding: TextEncoding,
    spec: &MapSpec,
    each: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<(TableFormat, ColumnMap)> {
    let (format, mut rdr) = open_delimited(path, encoding)?;
    let mut record = csv::StringRecord::new();
    let mut head: Vec<(u64, Vec<String>)> = Vec::new();
    while head.len() < HEADER_SEARCH && read_record(&mut rdr, &mut record, path)? {
        head.push((record.position().map_or(0, |p| p.line()), record.iter().map(str::to_owned).collect()));
    }
    let rows: Vec<Vec<String>> = head.iter().map(|(_, r)| r.clone()).collect();
    let (h, map) = find_header(&rows, spec).map_err(|e| in_file(e, path))?;
    for (line, row) in &head[h + 1..] {
        item(&map, *line, |i| row.get(i).map_or("", String::as_str), each)?;
    }
    while read_record(&mut rdr, &mut record, path)? {
        let line = record.position().map_or(0, |p| p.line());
        item(&map, line, |i| record.get(i).unwrap_or(""), each)?;
    }
    Ok((format, map))
}

fn item<'a>(
    map: &ColumnMap,
    line: u64,
    get: impl Fn(usize) -> &'a str,
    each: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<()> {
    let mut empty = true;
    for &i in map.columns.values() {
        if !get(i).trim().is_empty() {
            empty = false;
            break;
        }
    }
    if empty {
        return Ok(());
    }
    match records::from_row(map, get) {
        Ok(row) => each(Item::Row { line, row }),
        Err(reason) => each(Item::Bad { at: format!("line {line}"), reason }),
    }
}

fn in_file(e: Error, path: &Path) -> Error {
    match e {
        Error::Invalid(m) => Error::Invalid(format!("{m}: {}", path.display())),
        e => e,
    }
}

type DelimitedReader = csv::Reader<Utf8Reader<std::io::BufReader<std::fs::File>>>;

fn open_delimited(path: &Path, encoding: TextEncoding) -> Result<(TableFormat, DelimitedReader)> {
    let open = || -> Result<Utf8Reader<std::io::BufReader<std::fs::File>>> {
        let f = std::fs::File::open(path).map_err(|e| Error::io("cannot open the chart file", e, path))?;
        Ok(Utf8Reader::new(std::io::BufReader::with_capacity(1 << 16, f), encoding))
    };
    let mut first = String::new();
    {
        use std::io::BufRead;
        let mut r = std::io::BufReader::new(open()?);
        r.read_line(&mut first).map_err(|e| Error::io("cannot read the chart file", e, path))?;
    }
    let format = TableFormat::of(path, &first);
    let rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(if format == TableFormat::Tsv { b'\t' } else { b',' })
        .from_reader(open()?);
    Ok((format, rdr))
}

fn read_record(rdr: &mut DelimitedReader, record: &mut csv::StringRecord, path: &Path) -> Result<bool> {
    rdr.read_record(record).map_err(|e| {
        let line = e.position().map(|p| format!(" at line {}", p.line())).unwrap_or_default();
        Error::Invalid(format!("cannot read the table{line} ({e}): {}", path.display()))
    })
}

/// Reads every sheet of a workbook that has a recognisable header; sheets without one are
/// passed over. Errors when no sheet has one.
pub fn read_workbook(
    path: &Path,
    spec: &MapSpec,
    each: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<Vec<(String, ColumnMap)>> {
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(path)
        .map_err(|e| Error::Invalid(format!("cannot open the workbook ({e}): {}", path.display())))?;
    let mut mapped = Vec::new();
    let mut first_err = None;
    for name in wb.sheet_names() {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| Error::Invalid(format!("cannot read sheet {name:?} ({e}): {}", path.display())))?;
        let (row0, _) = range.start().unwrap_or((0, 0));
        let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(cell_text).collect()).collect();
        let head: Vec<Vec<String>> = rows.iter().take(HEADER_SEARCH).cloned().collect();
        let (h, map) = match find_header(&head, spec) {
            Ok(found) => found,
            Err(e) => {
                first_err.get_or_insert(e);
                continue;
            }
        };
        for (i, row) in rows.iter().enumerate().skip(h + 1) {
            let line = row0 as u64 + i as u64 + 1;
            let at = format!("sheet {name:?} row {line}");
            let mut relabel = |it: Item| match it {
                Item::Bad { reason, .. } => each(Item::Bad { at: at.clone(), reason }),
                ok => each(ok),
            };
            item(&map, line, |c| row.get(c).map_or("", String::as_str), &mut relabel)?;
        }
        mapped.push((name.clone(), map));
    }
    if mapped.is_empty() {
        return Err(in_file(first_err.unwrap_or_else(|| Error::Invalid("the workbook has no sheets".into())), path));
    }
    Ok(mapped)
}

fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{d:02}")
        }
        Data::DateTime(dt) => dt.as_f64().to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e}"),
    }
}

/// The first `n` rows of a table as text, with the mapping found (or why none was).
pub fn preview(path: &Path, encoding: TextEncoding, spec: &MapSpec, n: usize) -> Result<Preview> {
    let (format, rows) = if TableFormat::is_spreadsheet(path) {
        use calamine::Reader;
        let mut wb = calamine::open_workbook_auto(path)
            .map_err(|e| Error::Invalid(format!("cannot open the workbook ({e}): {}", path.display())))?;
        let name = wb.sheet_names().first().cloned().unwrap_or_default();
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| Error::Invalid(format!("cannot read sheet {name:?} ({e}): {}", path.display())))?;
        (TableFormat::Xlsx, range.rows().take(n + HEADER_SEARCH).map(|r| r.iter().map(cell_text).collect()).collect())
    } else {
        let (format, mut rdr) = open_delimited(path, encoding)?;
        let mut record = csv::StringRecord::new();
        let mut rows: Vec<Vec<String>> = Vec::new();
        while rows.len() < n + HEADER_SEARCH && read_record(&mut rdr, &mut record, path)? {
            rows.push(record.iter().map(str::to_owned).collect());
        }
        (format, rows)
    };
    let head: Vec<Vec<String>> = rows.iter().take(HEADER_SEARCH).cloned().collect();
    Ok(match find_header(&head, spec) {
        Ok((h, map)) => Preview {
            format,
            headers: rows[h].clone(),
            map: Some(map),
            map_error: None,
            rows: rows[h + 1..].iter().take(n).cloned().collect(),
        },
        Err(e) => Preview {
            format,
            headers: rows.first().cloned().unwrap_or_default(),
            map: None,
            map_error: Some(e.to_string()),
            rows: rows.iter().skip(1).take(n).cloned().collect(),
        },
    })
}
