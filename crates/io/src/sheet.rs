//! Spreadsheets (XLSX, ODS) via calamine: each sheet is a table; its first row is the header
//! when it looks like one.

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader as _};

use crate::{sniff, ReadError, Record, Source, TableInfo};

pub mod bounds;

pub(crate) struct SheetSource {
    tables: Vec<TableInfo>,
    rows: std::vec::IntoIter<Record>,
}

fn cell(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

/// Open a workbook; returns its format name and its records (spreadsheets are read whole).
///
/// Before calamine reads it, [`bounds::check`] refuses a workbook whose sheets, shared strings
/// or inflated size exceed their caps (calamine allocates a sheet's whole range at once).
///
/// calamine can panic on malformed workbooks (an overflowing cell reference, found by
/// fuzzing): the panic is caught and reported as a format error, so a hostile file never
/// brings the process down.
pub(crate) fn open(path: &Path) -> Result<(String, Box<dyn Source>), ReadError> {
    std::panic::catch_unwind(|| read_workbook(path)).unwrap_or_else(|_| {
        Err(ReadError::Format {
            path: path.to_path_buf(),
            problem: "not a readable spreadsheet (the workbook is malformed)".into(),
        })
    })
}

fn read_workbook(path: &Path) -> Result<(String, Box<dyn Source>), ReadError> {
    bounds::check(path)?;
    let ferr = |problem: String| ReadError::Format {
        path: path.to_path_buf(),
        problem,
    };
    let mut wb =
        open_workbook_auto(path).map_err(|e| ferr(format!("not a readable spreadsheet ({e})")))?;
    let format = match &wb {
        calamine::Sheets::Ods(_) => "ods",
        _ => "xlsx",
    }
    .to_string();
    let mut tables = Vec::new();
    let mut records = Vec::new();
    for name in wb.sheet_names() {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| ferr(format!("sheet {name}: {e}")))?;
        let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(cell).collect()).collect();
        if rows.is_empty() {
            continue;
        }
        let header = sniff::detect_header_rows(&rows);
        let table = tables.len();
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        let columns = if header {
            let mut c: Vec<String> = rows[0].iter().map(|h| h.trim().to_string()).collect();
            while c.len() < width {
                c.push(format!("col_{}", c.len() + 1));
            }
            c
        } else {
            (1..=width).map(|i| format!("col_{i}")).collect()
        };
        tables.push(TableInfo { name, columns });
        for (i, r) in rows.into_iter().skip(usize::from(header)).enumerate() {
            if r.iter().all(String::is_empty) {
                continue;
            }
            records.push(Record {
                table,
                index: i as u64,
                fields: r,
            });
        }
    }
    // Re-number after skipping blank rows so indices stay dense and in order per table.
    let mut next = vec![0u64; tables.len()];
    for r in &mut records {
        r.index = next[r.table];
        next[r.table] += 1;
    }
    Ok((
        format,
        Box::new(SheetSource {
            tables,
            rows: records.into_iter(),
        }),
    ))
}

impl Source for SheetSource {
    fn next(&mut self) -> Option<Result<Record, ReadError>> {
        self.rows.next().map(Ok)
    }

    fn tables(&self) -> &[TableInfo] {
        &self.tables
    }
}
