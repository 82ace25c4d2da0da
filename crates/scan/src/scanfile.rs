//! `scan_path`: read a file and type its columns.

use std::path::Path;

use leaktrace_io::{
    count_records_parallel, open, Count, FileInfo, ReadError, ReadOptions, Warnings,
};
use serde::Serialize;

use crate::{ColumnReport, ColumnTyper};

/// Options for [`scan_path`].
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Rows typed (the rest are counted).
    pub sample: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { sample: 10_000 }
    }
}

/// Errors from scanning.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{0}: no records")]
    NoRecords(String),
}

/// One table's typing.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub name: String,
    pub rows: u64,
    pub columns: Vec<ColumnReport>,
}

/// What `scan` reports.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub format: FileInfo,
    pub tables: Vec<TableReport>,
    pub warnings: Warnings,
}

/// Type the columns of rows already read (one table): `names` are the column names (`col_N`
/// when the file has no header); short rows count as missing values.
pub fn type_rows(names: &[String], rows: &[Vec<String>]) -> Vec<ColumnReport> {
    let width = rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(names.len());
    (0..width)
        .map(|j| {
            let name = names
                .get(j)
                .cloned()
                .unwrap_or_else(|| format!("col_{}", j + 1));
            let mut c = ColumnTyper::new(j, &name);
            for r in rows {
                c.observe(r.get(j).map_or("", String::as_str));
            }
            c.finish()
        })
        .collect()
}

/// Read `path` and type every column of every table.
pub fn scan_path(path: &Path, opts: &ScanOptions) -> Result<ScanReport, ScanError> {
    let mut reader = open(path, &ReadOptions::default())?;
    let mut typers: Vec<Vec<ColumnTyper>> = Vec::new();
    let mut rows: Vec<u64> = Vec::new();
    let mut counted: Option<Count> = None;
    let mut tried = false;
    // A large plain CSV: type the sample here, then count the whole file on every core.
    let parallel = reader.info().format == "csv"
        && reader.info().compression.is_none()
        && reader.info().bytes >= 64 << 20;
    let width = reader.tables().first().map_or(0, |t| t.columns.len());
    while let Some(rec) = reader.next_record() {
        let rec = rec?;
        while typers.len() <= rec.table {
            typers.push(Vec::new());
            rows.push(0);
        }
        rows[rec.table] = rec.index + 1;
        if rec.index >= opts.sample {
            if parallel && !tried {
                tried = true;
                counted = count_records_parallel(path, reader.info(), width)?;
                if let Some(c) = counted {
                    rows[0] = c.records;
                    break;
                }
            }
            continue;
        }
        let t = &mut typers[rec.table];
        for (j, v) in rec.fields.iter().enumerate() {
            while t.len() <= j {
                // Columns that appear late (JSON keys) were missing in the rows before.
                let mut c = ColumnTyper::new(t.len(), "");
                for _ in 0..rec.index.min(opts.sample) {
                    c.observe("");
                }
                t.push(c);
            }
            t[j].observe(v);
        }
        // Rows shorter than the table count as missing values for the columns they lack.
        for c in t.iter_mut().skip(rec.fields.len()) {
            c.observe("");
        }
    }
    if rows.iter().all(|&n| n == 0) {
        return Err(ScanError::NoRecords(path.display().to_string()));
    }
    let tables = reader
        .tables()
        .iter()
        .enumerate()
        .filter(|(i, _)| rows.get(*i).copied().unwrap_or(0) > 0)
        .map(|(i, info)| {
            let t = &mut typers[i];
            while t.len() < info.columns.len() {
                t.push(ColumnTyper::new(t.len(), ""));
            }
            let columns = t
                .iter_mut()
                .enumerate()
                .map(|(j, c)| {
                    c.name = info
                        .columns
                        .get(j)
                        .cloned()
                        .unwrap_or_else(|| format!("col_{}", j + 1));
                    c.finish()
                })
                .collect();
            TableReport {
                name: info.name.clone(),
                rows: rows[i],
                columns,
            }
        })
        .collect();
    let mut warnings = reader.warnings();
    if let Some(c) = counted {
        // The parallel count saw every record; the reader stopped after the sample.
        warnings.ragged_records = c.ragged;
    }
    Ok(ScanReport {
        format: reader.info().clone(),
        tables,
        warnings,
    })
}
