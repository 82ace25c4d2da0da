//! `scan_path`: read a file and type its columns.

use std::path::Path;

use leaktrace_io::{open, FileInfo, ReadError, ReadOptions, Warnings};
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

/// Read `path` and type every column.
pub fn scan_path(path: &Path, opts: &ScanOptions) -> Result<ScanReport, ScanError> {
    let mut reader = open(path, &ReadOptions::default())?;
    let mut typers: Vec<ColumnTyper> = Vec::new();
    let mut rows = 0u64;
    while let Some(rec) = reader.next_record() {
        let (i, rec) = rec?;
        rows = i + 1;
        if i >= opts.sample {
            continue;
        }
        for (j, v) in rec.iter().enumerate() {
            if typers.len() <= j {
                typers.push(ColumnTyper::new(j, ""));
            }
            typers[j].observe(v);
        }
    }
    if rows == 0 {
        return Err(ScanError::NoRecords(path.display().to_string()));
    }
    let names = reader.columns().to_vec();
    while typers.len() < names.len() {
        typers.push(ColumnTyper::new(typers.len(), ""));
    }
    let columns = typers
        .iter_mut()
        .enumerate()
        .map(|(j, t)| {
            t.name = names
                .get(j)
                .cloned()
                .unwrap_or_else(|| format!("col_{}", j + 1));
            t.finish()
        })
        .collect();
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(ScanReport {
        format: reader.info().clone(),
        tables: vec![TableReport {
            name,
            rows,
            columns,
        }],
        warnings: reader.warnings().clone(),
    })
}
