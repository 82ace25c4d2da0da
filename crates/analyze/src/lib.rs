//! `analyze`: is this leaked file ours, and who is in it?
//!
//! [`analyze`] reads and types a dump like `scan`, fingerprints each row with the workspace key
//! exactly as enrolment does, links rows to enrolled persons ([`leaktrace_link::dump::Linker`]),
//! and judges the file ([`Verdict`]): `authentic`, `partial`, `recombined` or `not_ours`, with
//! the evidence that decided it. [`write_outputs`] writes `matches.csv` and `analysis.json`
//! (schema: docs/analysis-json.md).

pub mod canary;
pub mod eval;
pub mod exposure;
pub mod verdict;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use leaktrace_attrib::{attribute, extraction_window, Attribution, ExtractionWindow};
use leaktrace_index::{
    month_label, Cache, FormatProfile, Index, IndexError, SnapshotInfo, SnapshotKind,
};
use leaktrace_io::{open, FileInfo, ReadError, ReadOptions, Reader, Record, TableInfo};
use leaktrace_link::dump::{LinkOptions, Linker, RowLink, FIELDS};
use leaktrace_link::Model;
use leaktrace_pii::ColumnType;
use leaktrace_scan::{type_rows, ColumnReport};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use exposure::Recombination;
pub use leaktrace_attrib::{BoundReason, CandidateKind};
pub use verdict::{judge, Contradiction, Status, Verdict};

/// Version of `analysis.json`.
pub const SCHEMA_VERSION: u32 = 1;
const SAMPLE: usize = 10_000;
const BATCH: usize = 32_768;

/// Errors from analysis.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("{0}")]
    Input(String),
    /// The caller's stop flag ([`AnalyzeOptions::stop`]) was raised: nothing was produced.
    #[error("the analysis was stopped")]
    Stopped,
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path, source: std::io::Error) -> AnalyzeError {
    AnalyzeError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Options of an analysis.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Type overrides: column (name, `col_N` or 1-based number) → type.
    pub columns: Vec<(String, ColumnType)>,
    /// Link threshold on the match probability (default 0.5).
    pub threshold: Option<f64>,
    /// Raised by the caller to stop the analysis: checked between batches of rows while they are
    /// linked and between phases; [`analyze`] then returns [`AnalyzeError::Stopped`].
    pub stop: Option<Arc<AtomicBool>>,
}

impl AnalyzeOptions {
    fn stopped(&self) -> Result<(), AnalyzeError> {
        match &self.stop {
            Some(s) if s.load(Ordering::Relaxed) => Err(AnalyzeError::Stopped),
            _ => Ok(()),
        }
    }
}

/// `file` in analysis.json.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
    pub format: String,
    pub compression: Option<String>,
    pub encoding: String,
    pub delimiter: Option<char>,
    pub has_header: bool,
    pub table: String,
    pub rows: u64,
}

/// A column in analysis.json.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnSummary {
    pub index: usize,
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub confidence: f64,
    pub overridden: bool,
    /// For a type forced by `--column`: the share of the sampled non-empty values that pass
    /// its validator (absent otherwise, or when the type has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_valid_share: Option<f64>,
}

/// `linkage` in analysis.json.
#[derive(Debug, Clone, Serialize)]
pub struct Linkage {
    pub rows: u64,
    pub rows_linked: u64,
    pub persons_affected: u64,
    /// Linked rows whose person an earlier row already linked.
    pub duplicate_rows: u64,
    /// Rows with at least one candidate pair.
    pub rows_with_candidates: u64,
    pub candidate_pairs: u64,
    /// Per compared field: share of linked rows (with the field on both sides) that agree.
    pub field_agreement: BTreeMap<String, f64>,
    pub threshold: f64,
}

/// Affected persons exposed with exactly this set of data categories.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Combination {
    pub types: Vec<ColumnType>,
    pub persons: u64,
}

/// Affected persons living in a department (by the file's postal or INSEE code).
#[derive(Debug, Clone, Serialize)]
pub struct Department {
    pub code: String,
    pub persons: u64,
}

/// The department of a postal or INSEE code: `75`, `2A`/`2B`, `971`; zeros when none.
fn department(v: &str) -> [u8; 3] {
    let v = v.trim();
    let b = v.as_bytes();
    let mut out = [0u8; 3];
    if b.len() < 5 || !b[..2].iter().all(u8::is_ascii_alphanumeric) {
        return out;
    }
    let code: &[u8] = if b.starts_with(b"97") || b.starts_with(b"98") {
        &b[..3]
    } else if b.starts_with(b"20") && b[2].is_ascii_digit() {
        // Corsican postal codes: 200xx–201xx are Corse-du-Sud, the rest Haute-Corse.
        if b[2] <= b'1' {
            b"2A"
        } else {
            b"2B"
        }
    } else {
        &b[..2]
    };
    out[..code.len()].copy_from_slice(code);
    out
}

/// Affected persons per value of an enrolled non-identifying context attribute (the month of
/// the registry's first `date` column, e.g. a registration date): `context` in analysis.json.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContextSummary {
    /// Column name of the attribute in the enrolled file (e.g. `date_inscription`).
    pub attribute: String,
    /// Granularity of `values`: always `month` (`YYYY-MM`) for now.
    pub unit: String,
    /// Affected persons per value, sorted by value; values with no person are omitted.
    pub values: Vec<ContextValue>,
    /// Affected persons for whom no snapshot holding the attribute has a value.
    pub persons_without_value: u64,
}

/// One value of the context attribute and its affected persons.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContextValue {
    pub value: String,
    pub persons: u64,
}

impl ContextSummary {
    /// The first and last values of the narrowest span holding `share` of the persons with a
    /// value, leaving out `(1 − share) / 2` at each end, so that a stray link does not stretch
    /// it; `None` without values.
    pub fn span(&self, share: f64) -> Option<(&str, &str)> {
        let total: u64 = self.values.iter().map(|v| v.persons).sum();
        let tail = (1.0 - share) / 2.0 * total as f64;
        let mut seen = 0u64;
        let (mut from, mut to) = (None, None);
        for v in &self.values {
            seen += v.persons;
            if from.is_none() && seen as f64 > tail {
                from = Some(v.value.as_str());
            }
            if to.is_none() && seen as f64 >= total as f64 - tail {
                to = Some(v.value.as_str());
            }
        }
        from.zip(to)
    }

    /// The value held by the most persons (the latest of equals).
    pub fn peak(&self) -> Option<&ContextValue> {
        self.values.iter().max_by_key(|v| v.persons)
    }
}

/// Count affected persons per context value. Each person takes the value of the most recent
/// snapshot (by `as_of`) that holds one; canary snapshots are skipped. When snapshots name
/// different attributes, the attribute held for the most affected persons is used (ties: by
/// name). `None` when no snapshot keeps a context attribute.
fn context_summary(
    index: &Index,
    persons: &[&str],
) -> Result<Option<ContextSummary>, AnalyzeError> {
    // Snapshots with a context attribute, most recent first.
    let mut snaps: Vec<(&SnapshotInfo, &leaktrace_index::Segment, &str)> = index
        .snapshots
        .iter()
        .filter(|(s, _)| s.kind != SnapshotKind::Canary)
        .filter_map(|(s, seg)| seg.context_attribute().map(|a| (s, seg, a)))
        .collect();
    if snaps.is_empty() {
        return Ok(None);
    }
    snaps.sort_by(|a, b| b.0.as_of.cmp(&a.0.as_of).then(b.0.id.cmp(&a.0.id)));
    let mut attributes: Vec<&str> = snaps.iter().map(|s| s.2).collect();
    attributes.sort_unstable();
    attributes.dedup();
    let mut best: Option<(usize, &str, Vec<u16>)> = None;
    for attribute in attributes {
        let held: Vec<(&leaktrace_index::Segment, Vec<u16>)> = snaps
            .iter()
            .filter(|s| s.2 == attribute)
            .map(|(_, seg, _)| {
                let months = seg.context(&index.context_key)?.unwrap_or_default();
                Ok((*seg, months))
            })
            .collect::<Result<_, IndexError>>()?;
        let values: Vec<u16> = persons
            .par_iter()
            .map(|p| {
                held.iter()
                    .find_map(|(seg, months)| {
                        let ord = seg.ordinal(p)?;
                        months.get(ord as usize).copied().filter(|m| *m != 0)
                    })
                    .unwrap_or(0)
            })
            .collect();
        let n = values.iter().filter(|v| **v != 0).count();
        if best.as_ref().is_none_or(|b| n > b.0) {
            best = Some((n, attribute, values));
        }
    }
    let Some((_, attribute, values)) = best else {
        return Ok(None);
    };
    let mut counts: BTreeMap<u16, u64> = BTreeMap::new();
    let mut missing = 0u64;
    for v in values {
        if v == 0 {
            missing += 1;
        } else {
            *counts.entry(v).or_default() += 1;
        }
    }
    Ok(Some(ContextSummary {
        attribute: attribute.to_string(),
        unit: "month".into(),
        values: counts
            .into_iter()
            .filter_map(|(m, persons)| month_label(m).map(|value| ContextValue { value, persons }))
            .collect(),
        persons_without_value: missing,
    }))
}

/// Persons affected per data category (column type).
#[derive(Debug, Clone, Serialize)]
pub struct Category {
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub persons: u64,
}

/// Which snapshots the analysis ran against.
#[derive(Debug, Clone, Serialize)]
pub struct IndexSummary {
    pub snapshots: Vec<String>,
    pub persons_enrolled: u64,
}

/// Everything `analysis.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub schema_version: u32,
    pub file: FileSummary,
    pub columns: Vec<ColumnSummary>,
    pub index: IndexSummary,
    pub linkage: Linkage,
    pub verdict: Verdict,
    pub categories: Vec<Category>,
    pub attribution: Attribution,
    pub extraction_window: ExtractionWindow,
    /// Affected persons per combination of exposed data categories (most frequent first).
    pub combinations: Vec<Combination>,
    /// Affected persons per department (`?` when the file has no postal or INSEE code).
    pub departments: Vec<Department>,
    /// Affected persons per value of the enrolled context attribute (registration month);
    /// `null` when no enrolled snapshot keeps one.
    pub context: Option<ContextSummary>,
    /// What real data the contradictory rows hold, per person (see [`exposure`]); `null` when
    /// no row is contradictory.
    pub recombination: Option<Recombination>,
    /// Every affected person with the categories exposed (for `affected_persons.csv`; not in
    /// `analysis.json`).
    #[serde(skip)]
    pub affected: Vec<(String, Vec<ColumnType>)>,
    /// The estimated Fellegi-Sunter model (m, u per level, prior).
    pub model: Model,
    pub seconds: f64,
    /// Where the time went (terminal summary only; not in `analysis.json`).
    #[serde(skip)]
    pub phases: Phases,
}

/// Seconds spent in each phase of [`analyze`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Phases {
    /// Reading, typing, fingerprinting and linking the rows (streamed together).
    pub link: f64,
    /// Estimating the model by EM and keeping each row's best candidate.
    pub model: f64,
    /// Verdict, attribution, categories and the other summaries.
    pub summary: f64,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn find_column(names: &[String], wanted: &str) -> Option<usize> {
    names
        .iter()
        .position(|n| n == wanted)
        .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(wanted)))
        .or_else(|| {
            let n = wanted
                .strip_prefix("col_")
                .unwrap_or(wanted)
                .parse::<usize>()
                .ok()?;
            (n >= 1 && n <= names.len()).then(|| n - 1)
        })
}

fn sha256(path: &Path) -> Result<String, AnalyzeError> {
    let mut f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| io_err(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The head of a dump, read and typed: the first [`SAMPLE`] records of its first table.
struct Typed {
    reader: Reader,
    sample: Vec<Record>,
    table: usize,
    info: TableInfo,
    rows: Vec<Vec<String>>,
    columns: Vec<ColumnReport>,
    overridden: Vec<bool>,
}

/// Phase 1: open the dump, sample its first table, type the columns, apply `--column`.
fn read_and_type(path: &Path, opts: &AnalyzeOptions) -> Result<Typed, AnalyzeError> {
    let shown = path.display().to_string();
    let mut reader = open(path, &ReadOptions::default())?;
    let mut sample: Vec<Record> = Vec::new();
    let mut table = None;
    while sample.len() < SAMPLE {
        match reader.next_record() {
            None => break,
            Some(r) => {
                let r = r?;
                if *table.get_or_insert(r.table) == r.table {
                    sample.push(r);
                }
            }
        }
    }
    let Some(table) = table else {
        return Err(AnalyzeError::Input(format!("{shown}: no records")));
    };
    let info = reader.tables()[table].clone();
    let rows: Vec<Vec<String>> = sample.iter().map(|r| r.fields.clone()).collect();
    let mut names = info.columns.clone();
    let width = rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(names.len());
    while names.len() < width {
        names.push(format!("col_{}", names.len() + 1));
    }
    let mut columns: Vec<ColumnReport> = type_rows(&names, &rows);
    let mut overridden = vec![false; columns.len()];
    for (col, ty) in &opts.columns {
        let j = find_column(&names, col).ok_or_else(|| {
            AnalyzeError::Input(format!(
                "--column {col}={}: {shown} has no column {col:?} (columns: {})",
                ty.as_str(),
                names.join(", ")
            ))
        })?;
        columns[j].ty = *ty;
        columns[j].confirmation = leaktrace_scan::override_conformity(
            *ty,
            rows.iter().map(|r| r.get(j).map_or("", String::as_str)),
        );
        overridden[j] = true;
    }
    Ok(Typed {
        reader,
        sample,
        table,
        info,
        rows,
        columns,
        overridden,
    })
}

/// What phase 2 keeps of each row besides its pairs.
struct Streamed<'a> {
    linker: Linker<'a>,
    reader: Reader,
    /// Per row: bit k = the row fills personal column k (for categories).
    row_types: Vec<u32>,
    /// Per row: its department (from the postal or INSEE code), for the chart by department.
    row_dept: Vec<[u8; 3]>,
}

/// Phase 2: stream every row of the table, fingerprint it and collect its candidate pairs. A
/// reader thread parses the next batch while both cores link the current one.
fn link_rows<'a>(
    index: &'a Index,
    path: &Path,
    typed: Typed,
    personal: &[(usize, ColumnType)],
    opts: &AnalyzeOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Streamed<'a>, AnalyzeError> {
    let shown = path.display().to_string();
    let Typed {
        reader,
        sample,
        table,
        columns,
        ..
    } = typed;
    let types: Vec<ColumnType> = columns.iter().map(|c| c.ty).collect();
    let fpr = &index.fingerprinter;
    let mut linker = Linker::new(index);
    let mut row_types: Vec<u32> = Vec::new();
    let place = types
        .iter()
        .position(|t| *t == ColumnType::PostalCode)
        .or_else(|| types.iter().position(|t| *t == ColumnType::InseeCode));
    let mut row_dept: Vec<[u8; 3]> = Vec::new();
    let mut done = 0u64;
    // One fingerprint cache per worker thread for the whole file (names and places repeat
    // across batches), each only ever locked by its own thread: never contended.
    let caches: Vec<Mutex<Cache>> = (0..rayon::current_num_threads().max(1))
        .map(|_| Mutex::new(Cache::for_lookup()))
        .collect();
    let mut process = |batch: Vec<Record>| {
        let pairs: Vec<_> = batch
            .par_iter()
            .map_init(
                || {
                    let i = rayon::current_thread_index().unwrap_or(0) % caches.len();
                    caches[i].lock().unwrap_or_else(PoisonError::into_inner)
                },
                |cache, r| {
                    let cells: Vec<(ColumnType, &str)> = r
                        .fields
                        .iter()
                        .zip(&types)
                        .map(|(v, t)| (*t, v.as_str()))
                        .collect();
                    let prints = fpr.row_cached(&cells, None, cache);
                    linker.pairs_of(r.index, &prints)
                },
            )
            .collect();
        for r in &batch {
            let mut mask = 0u32;
            for (k, (j, _)) in personal.iter().enumerate() {
                if r.fields.get(*j).is_some_and(|v| !v.trim().is_empty()) && k < 32 {
                    mask |= 1 << k;
                }
            }
            row_types.push(mask);
            row_dept.push(
                place
                    .and_then(|j| r.fields.get(j))
                    .map_or([0; 3], |v| department(v)),
            );
        }
        done += batch.len() as u64;
        linker.add(batch.len() as u64, pairs);
        progress(done);
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Record>, ReadError>>(2);
    let reader = std::thread::scope(|scope| -> Result<Reader, AnalyzeError> {
        let producer = scope.spawn(move || {
            let mut reader = reader;
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(r) = reader.next_record() {
                match r {
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return reader;
                    }
                    Ok(r) if r.table == table => {
                        batch.push(r);
                        if batch.len() == BATCH && tx.send(Ok(std::mem::take(&mut batch))).is_err()
                        {
                            return reader;
                        }
                    }
                    Ok(_) => {}
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(Ok(batch));
            }
            reader
        });
        process(sample);
        for batch in rx {
            // Returning drops the receiver: the reader thread's next send fails and it ends.
            opts.stopped()?;
            process(batch?);
        }
        producer
            .join()
            .map_err(|_| AnalyzeError::Input(format!("{shown}: the reader thread failed")))
    })?;
    Ok(Streamed {
        linker,
        reader,
        row_types,
        row_dept,
    })
}

/// Per compared field: share of linked rows (with the field on both sides) that agree.
fn field_agreement(links: &[RowLink], skip: &dyn Fn(&RowLink) -> bool) -> BTreeMap<String, f64> {
    let mut agree: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for l in links.iter().filter(|l| l.person_id.is_some() && !skip(l)) {
        for f in &l.agreeing_fields {
            let name = f.split(':').next().unwrap_or(f);
            let e = agree.entry(name).or_default();
            e.0 += 1;
            e.1 += 1;
        }
        for f in &l.disagreeing_fields {
            agree.entry(f.as_str()).or_default().1 += 1;
        }
    }
    agree
        .into_iter()
        .filter(|(f, _)| FIELDS.iter().any(|d| d.name == *f))
        .map(|(f, (a, n))| {
            (
                f.to_string(),
                ((a as f64 / n.max(1) as f64) * 1000.0).round() / 1000.0,
            )
        })
        .collect()
}

/// What the file summary says of the dump that was read.
fn file_summary(path: &Path, fi: &FileInfo, table: &str, rows: u64, sha256: String) -> FileSummary {
    FileSummary {
        name: path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().to_string()),
        sha256,
        bytes: fi.bytes,
        format: fi.format.clone(),
        compression: fi.compression.map(|c| format!("{c:?}").to_lowercase()),
        encoding: fi.encoding.clone(),
        delimiter: fi.delimiter,
        has_header: fi.has_header,
        table: table.to_string(),
        rows,
    }
}

fn index_summary(index: &Index) -> IndexSummary {
    IndexSummary {
        snapshots: index
            .snapshots
            .iter()
            .map(|(s, _)| format!("{}@{}", s.source, s.as_of))
            .collect(),
        persons_enrolled: index
            .snapshots
            .iter()
            .map(|(s, _)| s.persons)
            .max()
            .unwrap_or(0),
    }
}

/// Analyse `path` against `index`. `progress` gets the number of rows linked so far.
///
/// Phases: [read and type](read_and_type) the head of the dump; [link every
/// row](link_rows); estimate the model and keep each row's best candidate
/// ([`Linker::finish`]); read each row's values ([`verdict::read_rows`]); attribute and date
/// ([`attribute`], [`extraction_window`]); collect who is exposed with what
/// ([`exposure::expose`], [`exposure::summarise`]); judge ([`judge`]).
pub fn analyze(
    index: &Index,
    path: &Path,
    opts: &AnalyzeOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Analysis, Vec<RowLink>), AnalyzeError> {
    let started = std::time::Instant::now();
    if index.snapshots.is_empty() {
        return Err(AnalyzeError::Input(
            "the workspace has no enrolled source yet (leaktrace enroll --source NAME FILE)".into(),
        ));
    }
    index.keep_resident();
    let typed = read_and_type(path, opts)?;
    let (info, rows, columns, overridden) = (
        typed.info.clone(),
        typed.rows.clone(),
        typed.columns.clone(),
        typed.overridden.clone(),
    );
    let types: Vec<ColumnType> = columns.iter().map(|c| c.ty).collect();
    let personal: Vec<(usize, ColumnType)> = types
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, t)| t.is_personal())
        .collect();
    let streamed = link_rows(index, path, typed, &personal, opts, progress)?;
    opts.stopped()?;
    let t_link = started.elapsed();
    let threshold = opts.threshold.unwrap_or(0.5);
    let linker = streamed.linker;
    let (digest, (model, links)) =
        rayon::join(|| sha256(path), || linker.finish(LinkOptions { threshold }));
    let t_finish = started.elapsed();
    opts.stopped()?;
    let readings = verdict::read_rows(&links, &types, threshold);
    let snaps: Vec<&SnapshotInfo> = index.snapshots.iter().map(|(s, _)| s).collect();
    let profile = FormatProfile::build(
        streamed.reader.info(),
        &info.name,
        &columns,
        &overridden,
        &rows,
    );
    let attribution = attribute(&snaps, &links, &profile);
    let extraction_window = extraction_window(&snaps, &links, &attribution);
    // Canary persons are planted, not affected.
    let canary_row = |l: &RowLink| {
        l.versions.iter().any(|v| {
            snaps
                .get(usize::from(v.snapshot))
                .is_some_and(|s| s.kind == SnapshotKind::Canary)
        })
    };
    let exposed = exposure::expose(
        &links,
        &readings,
        verdict::is_recombined(&links, &readings),
        &personal,
        &streamed.row_types,
        &streamed.row_dept,
        &canary_row,
    );
    let context = {
        let ids: Vec<&str> = exposed.persons.iter().map(|e| e.0).collect();
        context_summary(index, &ids)?
    };
    let linkage = Linkage {
        rows: links.len() as u64,
        rows_linked: links.iter().filter(|l| l.person_id.is_some()).count() as u64,
        persons_affected: exposed.persons.len() as u64,
        duplicate_rows: exposed.duplicate_rows,
        rows_with_candidates: links.iter().filter(|l| l.candidates > 0).count() as u64,
        candidate_pairs: links.iter().map(|l| u64::from(l.candidates)).sum(),
        field_agreement: field_agreement(&links, &canary_row),
        threshold,
    };
    let verdict = judge(&linkage, &links, &readings);
    let sums = exposure::summarise(&exposed, &personal);
    let analysis = Analysis {
        schema_version: SCHEMA_VERSION,
        file: file_summary(
            path,
            streamed.reader.info(),
            &info.name,
            links.len() as u64,
            digest?,
        ),
        columns: columns
            .iter()
            .map(|c| ColumnSummary {
                index: c.index,
                name: c.name.clone(),
                ty: c.ty,
                confidence: c.confidence,
                overridden: overridden[c.index],
                override_valid_share: c
                    .confirmation
                    .filter(|_| overridden[c.index])
                    .map(|k| round2(k.valid_share)),
            })
            .collect(),
        index: index_summary(index),
        linkage,
        verdict,
        categories: sums.categories,
        attribution,
        extraction_window,
        combinations: sums.combinations,
        departments: sums.departments,
        context,
        recombination: sums.recombination,
        affected: sums.affected,
        model,
        seconds: round2(started.elapsed().as_secs_f64()),
        phases: Phases {
            link: round2(t_link.as_secs_f64()),
            model: round2((t_finish - t_link).as_secs_f64()),
            summary: round2((started.elapsed() - t_finish).as_secs_f64()),
        },
    };
    Ok((analysis, links))
}

/// Write `matches.csv` and `analysis.json` into `dir` (created), each through a temporary file
/// renamed into place.
pub fn write_outputs(
    dir: &Path,
    analysis: &Analysis,
    links: &[RowLink],
) -> Result<(), AnalyzeError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let write = |name: &str, bytes: &[u8]| -> Result<(), AnalyzeError> {
        let tmp = dir.join(format!(".{name}.tmp"));
        let dst = dir.join(name);
        let mut f = std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| io_err(&tmp, e))?;
        std::fs::rename(&tmp, &dst).map_err(|e| io_err(&dst, e))
    };
    let csv_err = |e: csv::Error| AnalyzeError::Input(format!("matches.csv: {e}"));
    // Chunks of rows are formatted in parallel, then concatenated in order.
    let chunk = |links: &[RowLink], header: bool| -> Result<Vec<u8>, AnalyzeError> {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        if header {
            w.write_record(["row", "person_id", "match_probability", "agreeing_fields"])
                .map_err(csv_err)?;
        }
        for l in links {
            w.write_record([
                l.row.to_string().as_str(),
                l.person_id.as_deref().unwrap_or_default(),
                format!("{:.6}", l.match_probability).as_str(),
                l.agreeing_fields.join(";").as_str(),
            ])
            .map_err(csv_err)?;
        }
        w.into_inner()
            .map_err(|e| AnalyzeError::Input(format!("matches.csv: {e}")))
    };
    let parts: Vec<Vec<u8>> = std::iter::once(chunk(&[], true))
        .chain(
            links
                .par_chunks(65_536)
                .map(|c| chunk(c, false))
                .collect::<Vec<_>>(),
        )
        .collect::<Result<_, _>>()?;
    write("matches.csv", &parts.concat())?;
    let json =
        serde_json::to_vec_pretty(analysis).map_err(|e| AnalyzeError::Input(e.to_string()))?;
    write("analysis.json", &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_value_does_not_stretch_the_span() {
        let ctx = ContextSummary {
            attribute: "date_inscription".into(),
            unit: "month".into(),
            values: [
                ("2019-01", 1),
                ("2021-06", 600),
                ("2022-02", 600),
                ("2024-05", 1),
            ]
            .iter()
            .map(|(v, n)| ContextValue {
                value: v.to_string(),
                persons: *n,
            })
            .collect(),
            persons_without_value: 0,
        };
        assert_eq!(ctx.span(0.99), Some(("2021-06", "2022-02")));
        assert_eq!(ctx.span(1.0), Some(("2019-01", "2024-05")));
        assert_eq!(ctx.peak().map(|p| p.value.as_str()), Some("2022-02"));
        let empty = ContextSummary {
            values: Vec::new(),
            ..ctx
        };
        assert_eq!(empty.span(0.99), None);
        assert!(empty.peak().is_none());
    }
}
