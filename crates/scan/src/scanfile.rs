//! `scan_path`: read a file and type its columns.

use std::borrow::Cow;
use std::path::Path;

use leaktrace_io::{
    count_records_parallel, open, visit_records_parallel, Count, FileInfo, ReadError, ReadOptions,
    Record, Warnings,
};
use leaktrace_pii::ColumnType;
use rayon::prelude::*;
use rustc_hash::FxHasher;
use serde::Serialize;
use std::hash::Hasher;

use crate::{check_with, det_of, present, ColumnReport, ColumnTyper, Det};

/// Options for [`scan_path`].
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Rows typed (the rest are counted and, with `confirm`, checked).
    pub sample: u64,
    /// Check every row of the file against the types chosen on the sample.
    pub confirm: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            sample: 10_000,
            confirm: true,
        }
    }
}

/// A column's type checked on the whole file: how many non-empty values the file holds and
/// the share of them that pass the type's validator or dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Confirmation {
    /// Rows of the table (all of them were checked).
    pub rows: u64,
    /// Non-empty values among them.
    pub filled: u64,
    /// Share of the non-empty values that support the type, 0–1.
    pub valid_share: f64,
    /// Whether the whole file agrees with the sample: `valid_share` is at least the sample's
    /// share (capped at 0.8) minus 0.05.
    pub confirmed: bool,
}

/// Below this share of valid values among a column's non-empty sampled values, a type forced
/// by `--column COL=TYPE` is warned about: the values mostly fail that type's validator.
pub const OVERRIDE_MIN_VALID: f64 = 0.5;

/// How a column's sampled values fare under the validator of a type forced on it by
/// `--column` ([`crate::conforms`]): `None` when the type has no validator or no value is
/// filled. `confirmed` is whether at least [`OVERRIDE_MIN_VALID`] of them pass.
pub fn override_conformity<'a>(
    ty: ColumnType,
    values: impl Iterator<Item = &'a str>,
) -> Option<Confirmation> {
    let (mut rows, mut filled, mut valid) = (0u64, 0u64, 0u64);
    for v in values {
        rows += 1;
        if let Some(ok) = crate::conforms(ty, v) {
            filled += 1;
            valid += u64::from(ok);
        }
    }
    (filled > 0).then(|| {
        let valid_share = valid as f64 / filled as f64;
        Confirmation {
            rows,
            filled,
            valid_share,
            confirmed: valid_share >= OVERRIDE_MIN_VALID,
        }
    })
}

/// Distinct values remembered per column, so that a value repeated across rows (communes,
/// postal codes, names, dates, codes) is validated once.
const MEMO_CAP: usize = 1 << 14;

/// Slots of a [`Memo`]: twice `MEMO_CAP`, so that probes stay short.
const MEMO_BITS: u32 = 15;

/// Verdicts by value hash (never the values): open addressing over one word per slot, the
/// verdicts in a bitset beside, so that a probe touches one cache line of a compact table.
#[derive(Debug, Clone, Default)]
struct Memo {
    /// Value hashes (0: empty slot; a value hashing to 0 is not remembered).
    keys: Vec<u64>,
    /// Verdict of each slot, a bit per slot.
    oks: Vec<u64>,
    len: usize,
}

impl Memo {
    /// The verdict remembered for hash `h`, else `check()` (remembered while under `MEMO_CAP`).
    fn get_or(&mut self, h: u64, check: impl FnOnce() -> bool) -> bool {
        if h == 0 {
            return check();
        }
        if self.keys.is_empty() {
            self.keys = vec![0; 1 << MEMO_BITS];
            self.oks = vec![0; (1 << MEMO_BITS) / 64];
        }
        let mask = (1 << MEMO_BITS) - 1;
        let mut i = (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - MEMO_BITS)) as usize;
        loop {
            match self.keys[i] {
                0 => break,
                k if k == h => return self.oks[i / 64] >> (i % 64) & 1 == 1,
                _ => i = (i + 1) & mask,
            }
        }
        let ok = check();
        if self.len < MEMO_CAP {
            self.keys[i] = h;
            self.oks[i / 64] |= u64::from(ok) << (i % 64);
            self.len += 1;
        }
        ok
    }
}

/// Counts of values supporting each column's type, accumulated over rows.
#[derive(Debug, Clone)]
pub struct Confirmer {
    /// Per column: the detector that checks its type (`None`: nothing to check).
    dets: Vec<Option<Det>>,
    /// Per column: (non-empty values, values supporting the type).
    counts: Vec<(u64, u64)>,
    /// Per column: verdicts by value hash (at most `MEMO_CAP`; never the values).
    memo: Vec<Memo>,
    /// Scratch space for folded values.
    buf: String,
}

impl Confirmer {
    /// A confirmer for columns of these types.
    pub fn new(types: &[ColumnType]) -> Confirmer {
        Confirmer::with_dets(types.iter().map(|&t| det_of(t)).collect())
    }

    fn with_dets(dets: Vec<Option<Det>>) -> Confirmer {
        Confirmer {
            counts: vec![(0, 0); dets.len()],
            memo: vec![Memo::default(); dets.len()],
            dets,
            buf: String::new(),
        }
    }

    /// Check one row whose field `j` is `field(j)` (`None` past the row's end); fields of
    /// unchecked columns are not read.
    pub fn observe<'a>(&mut self, field: impl Fn(usize) -> Option<Cow<'a, str>>) {
        for (j, det) in self.dets.iter().enumerate() {
            let Some(d) = *det else { continue };
            let Some(v) = field(j) else { break };
            let Some(v) = present(&v) else { continue };
            let ok = if d.memoised() {
                let mut h = FxHasher::default();
                h.write(v.as_bytes());
                let buf = &mut self.buf;
                self.memo[j].get_or(h.finish(), || check_with(d, v, buf))
            } else {
                check_with(d, v, &mut self.buf)
            };
            let c = &mut self.counts[j];
            c.0 += 1;
            c.1 += u64::from(ok);
        }
    }

    /// Fold in another confirmer's counts of the same columns.
    pub fn merge(&mut self, other: &Confirmer) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            a.0 += b.0;
            a.1 += b.1;
        }
    }

    /// A confirmer of the same columns with nothing counted.
    fn empty_like(&self) -> Confirmer {
        Confirmer::with_dets(self.dets.clone())
    }

    /// The counts of `parts` (confirmers of the same columns) added up; `None` when empty.
    fn sum<'a>(mut parts: impl Iterator<Item = &'a Confirmer>) -> Option<Confirmer> {
        let first = parts.next()?;
        let mut all = first.empty_like();
        all.merge(first);
        parts.for_each(|p| all.merge(p));
        Some(all)
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

/// The column reports of typers for a table whose columns are named `names`.
fn reports(typers: &mut Vec<ColumnTyper>, names: &[String]) -> Vec<ColumnReport> {
    while typers.len() < names.len() {
        typers.push(ColumnTyper::new(typers.len(), ""));
    }
    typers
        .iter_mut()
        .enumerate()
        .map(|(j, c)| {
            c.name = names
                .get(j)
                .cloned()
                .unwrap_or_else(|| format!("col_{}", j + 1));
            c.finish()
        })
        .collect()
}

/// Records checked together on every core when confirming a streamed file.
const CONFIRM_BATCH: usize = 8192;

/// Confirmers of streamed records: one set per worker (each keeps its memo across batches),
/// indexed by table.
struct Workers(Vec<Vec<Option<Confirmer>>>);

impl Workers {
    fn new() -> Workers {
        Workers(vec![Vec::new(); rayon::current_num_threads().max(1)])
    }

    /// Start checking `table`'s rows with these column types.
    fn start(&mut self, table: usize, types: &[ColumnType]) {
        for w in &mut self.0 {
            if w.len() <= table {
                w.resize(table + 1, None);
            }
            w[table] = Some(Confirmer::new(types));
        }
    }

    fn checks(&self, table: usize) -> bool {
        self.0
            .first()
            .and_then(|w| w.get(table))
            .is_some_and(Option::is_some)
    }

    /// Check a batch of records of any tables on every core.
    fn check(&mut self, batch: &mut Vec<Record>) {
        if batch.is_empty() {
            return;
        }
        let per = batch.len().div_ceil(self.0.len());
        batch
            .par_chunks(per)
            .zip(self.0.par_iter_mut())
            .for_each(|(chunk, w)| {
                for rec in chunk {
                    if let Some(Some(c)) = w.get_mut(rec.table) {
                        c.observe(|j| rec.fields.get(j).map(|f| Cow::Borrowed(f.as_str())));
                    }
                }
            });
        batch.clear();
    }

    /// Counts of `table` over every worker.
    fn total(&self, table: usize) -> Option<Confirmer> {
        Confirmer::sum(self.0.iter().filter_map(|w| w.get(table)?.as_ref()))
    }
}

/// Read `path` and type every column of every table: on the first `sample` rows, then (with
/// `confirm`) checked on every row.
pub fn scan_path(path: &Path, opts: &ScanOptions) -> Result<ScanReport, ScanError> {
    let mut reader = open(path, &ReadOptions::default())?;
    let mut typers: Vec<Vec<ColumnTyper>> = Vec::new();
    let mut rows: Vec<u64> = Vec::new();
    // Per table, once its sample is typed: counts over the rows past the sample.
    let mut workers = Workers::new();
    let mut batch: Vec<Record> = Vec::new();
    let mut counted: Option<Count> = None;
    // Set when the whole file was checked in parallel (the sample included).
    let mut whole: Option<Confirmer> = None;
    let mut tried = false;
    // A large plain CSV: type the sample here, then count (and check) the whole file on every
    // core.
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
            if rec.index == opts.sample && opts.confirm {
                let names = reader
                    .tables()
                    .get(rec.table)
                    .map(|t| t.columns.clone())
                    .unwrap_or_default();
                let types: Vec<ColumnType> = reports(&mut typers[rec.table].clone(), &names)
                    .into_iter()
                    .map(|c| c.ty)
                    .collect();
                workers.start(rec.table, &types);
            }
            if parallel && !tried {
                tried = true;
                let visited = match workers.total(0) {
                    Some(c) => {
                        let init = || c.empty_like();
                        visit_records_parallel(path, reader.info(), width, init, |c, r| {
                            let f = r.fields();
                            c.observe(|j| f.get(j))
                        })?
                        .map(|(n, parts)| (n, Confirmer::sum(parts.iter())))
                    }
                    None => count_records_parallel(path, reader.info(), width)?.map(|n| (n, None)),
                };
                if let Some((c, all)) = visited {
                    rows[0] = c.records;
                    counted = Some(c);
                    whole = all;
                    break;
                }
            }
            if workers.checks(rec.table) {
                batch.push(rec);
                if batch.len() >= CONFIRM_BATCH {
                    workers.check(&mut batch);
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
    workers.check(&mut batch);
    if rows.iter().all(|&n| n == 0) {
        return Err(ScanError::NoRecords(path.display().to_string()));
    }
    let tables = reader
        .tables()
        .iter()
        .enumerate()
        .filter(|(i, _)| rows.get(*i).copied().unwrap_or(0) > 0)
        .map(|(i, info)| {
            let mut columns = reports(&mut typers[i], &info.columns);
            if opts.confirm {
                let checked = if i == 0 { whole.as_ref() } else { None };
                let streamed = workers.total(i);
                for c in &mut columns {
                    let sample = typers[i].get(c.index).and_then(|t| t.conformity(c.ty));
                    let Some((s_filled, s_valid)) = sample else {
                        continue;
                    };
                    // Over the whole file: checked in parallel, or the sample plus the rest.
                    let rest = checked
                        .or(streamed.as_ref())
                        .and_then(|k| k.counts.get(c.index).copied())
                        .unwrap_or((0, 0));
                    let (filled, valid) = if checked.is_some() {
                        rest
                    } else {
                        (s_filled + rest.0, s_valid + rest.1)
                    };
                    if filled == 0 {
                        // Nothing to check (an empty column): no share to report.
                        continue;
                    }
                    let share = |v: u64, n: u64| if n == 0 { 1.0 } else { v as f64 / n as f64 };
                    let valid_share = share(valid, filled);
                    let confirmed = valid_share >= share(s_valid, s_filled).min(0.8) - 0.05;
                    if !confirmed {
                        c.confidence = c.confidence.min((valid_share * 1000.0).round() / 1000.0);
                    }
                    c.confirmation = Some(Confirmation {
                        rows: rows[i],
                        filled,
                        valid_share: (valid_share * 10_000.0).round() / 10_000.0,
                        confirmed,
                    });
                }
            }
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
