//! Enrolment: a file becomes a snapshot of a source.

use std::fs;
use std::path::{Path, PathBuf};

use leaktrace_io::{open, ReadOptions, Record};
use leaktrace_pii::{date, ColumnType};
use leaktrace_scan::{override_conformity, type_rows, ColumnReport};
use rayon::prelude::*;
use serde::Serialize;

use crate::catalog::{now, SnapshotInfo, SnapshotKind};
use crate::context::{month_number, ContextKey};
use crate::fingerprint::{Cache, Fingerprinter};
use crate::profile::FormatProfile;
use crate::segment::{sync_dir, Entry, SegmentBuilder};
use crate::{IndexError, Workspace};

/// Rows typed before enrolment starts (the rest are only fingerprinted).
const SAMPLE: usize = 10_000;
/// Rows fingerprinted per parallel batch.
const BATCH: usize = 65_536;

/// What to enrol and how.
#[derive(Debug, Clone, Default)]
pub struct EnrollOptions {
    /// Source name (the registry is a source too).
    pub source: String,
    /// Who received this source, if it is an extract.
    pub recipient: Option<String>,
    /// Date of the snapshot, ISO or French layout; default today.
    pub as_of: Option<String>,
    /// Column holding the person id; found automatically when absent.
    pub id_column: Option<String>,
    /// Type overrides: column (name, `col_N` or 1-based number) → type.
    pub columns: Vec<(String, ColumnType)>,
    /// The file holds canary persons (synthetic), not real ones.
    pub canary: bool,
}

/// The outcome of an enrolment.
#[derive(Debug, Clone, Serialize)]
pub struct EnrollReport {
    pub snapshot: SnapshotInfo,
    pub columns: Vec<ColumnReport>,
    /// Records of other tables (SQL dumps, workbooks) that were not enrolled.
    pub skipped_records: u64,
    pub ragged_records: u64,
    pub undecodable_records: u64,
    /// Where the time went, in seconds.
    pub timings: Timings,
}

/// Enrolment phases in seconds (reading, fingerprinting and spilling overlap).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timings {
    /// Reading, fingerprinting and spilling, wall time.
    pub stream: f64,
    /// Busy time of the fingerprinting stage.
    pub fingerprint: f64,
    /// Busy time of the spill writer.
    pub spill: f64,
    /// Sorting buckets, writing and syncing the segment.
    pub finish: f64,
}

fn find_column(names: &[String], wanted: &str) -> Option<usize> {
    if let Some(i) = names.iter().position(|n| n == wanted) {
        return Some(i);
    }
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(wanted)) {
        return Some(i);
    }
    if let Some(n) = wanted
        .strip_prefix("col_")
        .and_then(|n| n.parse::<usize>().ok())
    {
        return (n >= 1 && n <= names.len()).then(|| n - 1);
    }
    wanted
        .parse::<usize>()
        .ok()
        .filter(|n| *n >= 1 && *n <= names.len())
        .map(|n| n - 1)
}

/// The person-id column: a column typed `person_id`, else the header's suggestion, else a fully
/// filled column whose sampled values are all distinct and that looks like an identifier (a
/// column typed `identifier` first: a customer number may be the registry's only id).
fn detect_id(cols: &[ColumnReport], sample: &[Vec<String>]) -> Option<usize> {
    let all_distinct = |j: usize| {
        let mut v: Vec<&str> = sample
            .iter()
            .map(|r| r.get(j).map_or("", |s| s.trim()))
            .collect();
        if v.iter().any(|s| s.is_empty()) {
            return false;
        }
        v.sort_unstable();
        v.windows(2).all(|w| w[0] != w[1])
    };
    cols.iter()
        .filter(|c| c.ty == ColumnType::PersonId || c.header_hint == Some(ColumnType::PersonId))
        .map(|c| c.index)
        .find(|&j| all_distinct(j))
        .or_else(|| {
            cols.iter()
                .filter(|c| {
                    matches!(
                        c.ty,
                        ColumnType::Identifier
                            | ColumnType::Nir
                            | ColumnType::Email
                            | ColumnType::Number
                    )
                })
                .map(|c| c.index)
                .find(|&j| all_distinct(j))
        })
}

/// A guard that removes a private build directory unless it was published.
struct TmpDir(Option<PathBuf>);

impl Drop for TmpDir {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_dir_all(p);
        }
    }
}

impl Workspace {
    /// Remove build directories of enrolments that died and segments no catalog row points to.
    /// Called with the write lock held.
    pub(crate) fn collect_garbage(&self) -> Result<(), IndexError> {
        let index = self.home.join("index");
        let live = self.catalog.segments()?;
        let entries = fs::read_dir(&index).map_err(|e| IndexError::io(&index, e))?;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("tmp-") || (name.starts_with("seg-") && !live.contains(&name)) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
        Ok(())
    }

    /// Enrol `path` as a new snapshot of `opts.source`. `progress` is called with the number of
    /// rows fingerprinted so far. Nothing is visible to readers until the catalog commit at the
    /// very end; an error or a kill before it leaves the workspace as it was.
    pub fn enroll(
        &mut self,
        path: &Path,
        opts: &EnrollOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<EnrollReport, IndexError> {
        let source = opts.source.trim();
        if source.is_empty() {
            return Err(IndexError::Input("--source must name the source".into()));
        }
        let as_of = match &opts.as_of {
            Some(s) => date::parse(s).ok_or_else(|| {
                IndexError::Input(format!("--as-of {s:?} is not a date (use YYYY-MM-DD)"))
            })?,
            None => date::parse(&now()[..10]).expect("today is a date"),
        };
        let as_of_iso = as_of.iso();
        if self.catalog.has_snapshot(source, &as_of_iso)? {
            return Err(already_enrolled(source, &as_of_iso));
        }
        if let (Some(Some(old)), Some(new)) =
            (self.catalog.source_recipient(source)?, &opts.recipient)
        {
            if &old != new {
                return Err(IndexError::Input(format!(
                    "source {source:?} was delivered to {old:?}, not {new:?}; use another source name"
                )));
            }
        }
        let shown = path.display().to_string();
        let mut reader = open(path, &ReadOptions::default())?;
        // Sample the first table.
        let mut sample: Vec<Record> = Vec::new();
        let mut table: Option<usize> = None;
        let mut skipped = 0u64;
        while sample.len() < SAMPLE {
            match reader.next_record() {
                None => break,
                Some(r) => {
                    let r = r?;
                    let t = *table.get_or_insert(r.table);
                    if r.table == t {
                        sample.push(r);
                    } else {
                        skipped += 1;
                    }
                }
            }
        }
        let Some(table) = table else {
            return Err(IndexError::Input(format!("{shown}: no records to enrol")));
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
        let mut columns = type_rows(&names, &rows);
        let mut overridden = vec![false; columns.len()];
        for (col, ty) in &opts.columns {
            let j = find_column(&names, col).ok_or_else(|| {
                IndexError::Input(format!(
                    "--column {col}={}: {shown} has no column {col:?} (columns: {})",
                    ty.as_str(),
                    names.join(", ")
                ))
            })?;
            columns[j].ty = *ty;
            columns[j].confirmation = override_conformity(
                *ty,
                rows.iter().map(|r| r.get(j).map_or("", String::as_str)),
            );
            overridden[j] = true;
        }
        let id_col = match &opts.id_column {
            Some(c) => find_column(&names, c).ok_or_else(|| {
                IndexError::Input(format!(
                    "--id-column {c}: {shown} has no such column (columns: {})",
                    names.join(", ")
                ))
            })?,
            None => detect_id(&columns, &rows).ok_or_else(|| {
                IndexError::Input(format!(
                    "{shown}: no identifiable person-id column (no column of unique, always filled ids); pass --id-column COL"
                ))
            })?,
        };
        // An id that is itself personal data is stored as a keyed pseudonym.
        let pseudonymise =
            columns[id_col].ty.is_personal() && columns[id_col].ty != ColumnType::PersonId;
        let types: Vec<ColumnType> = columns
            .iter()
            .enumerate()
            .map(|(j, c)| {
                if j == id_col {
                    ColumnType::PersonId
                } else {
                    c.ty
                }
            })
            .collect();
        // The context attribute: the month of the first column typed `date` (not a birth date).
        let context_col = types.iter().position(|t| *t == ColumnType::Date);
        let profile = FormatProfile::build(reader.info(), &info.name, &columns, &overridden, &rows);

        // Exclusive write lock, then clean up after any enrolment that died.
        let lock_path = self.home.join("index").join(".lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| IndexError::io(&lock_path, e))?;
        lock.lock().map_err(|e| IndexError::io(&lock_path, e))?;
        // Another enrolment of the same snapshot may have committed while this one waited
        // for the lock: refuse before doing the work, not on the catalog's UNIQUE constraint.
        if self.catalog.has_snapshot(source, &as_of_iso)? {
            return Err(already_enrolled(source, &as_of_iso));
        }
        self.collect_garbage()?;

        let mut rand = [0u8; 6];
        getrandom::fill(&mut rand).map_err(|e| IndexError::Key(e.to_string()))?;
        let tag: String = rand.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = self.home.join("index").join(format!("tmp-{tag}"));
        let guard = TmpDir(Some(tmp.clone()));
        let layout = Layout {
            types: &types,
            id_col,
            pseudonymise,
            id_is_identifier: columns[id_col].ty == ColumnType::Identifier,
            context_col,
        };
        let mut builder = SegmentBuilder::new(&tmp, ContextKey::new(&self.key))?;
        if let Some(j) = context_col {
            builder.set_context(&names[j]);
        }
        let builder_ref = &mut builder;
        let fpr = self.fingerprinter();
        let t0 = std::time::Instant::now();
        let mut fp_time = std::time::Duration::ZERO;
        let mut add_time = std::time::Duration::ZERO;
        let mut done = 0u64;
        // A reader thread parses the file while the cores fingerprint the previous batch.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Record>, IndexError>>(2);
        let (reader, skipped) = std::thread::scope(|scope| -> Result<_, IndexError> {
            let producer = scope.spawn(move || {
                let mut skipped = skipped;
                if tx.send(Ok(sample)).is_err() {
                    return (reader, skipped);
                }
                let mut batch = Vec::with_capacity(BATCH);
                loop {
                    match reader.next_record() {
                        None => break,
                        Some(Err(e)) => {
                            let _ = tx.send(Err(e.into()));
                            return (reader, skipped);
                        }
                        Some(Ok(r)) if r.table == table => {
                            batch.push(r);
                            if batch.len() == BATCH {
                                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                                if tx.send(Ok(full)).is_err() {
                                    return (reader, skipped);
                                }
                            }
                        }
                        Some(Ok(_)) => skipped += 1,
                    }
                }
                if !batch.is_empty() {
                    let _ = tx.send(Ok(batch));
                }
                (reader, skipped)
            });
            // A writer thread spills each batch while the cores fingerprint the next one.
            let (wtx, wrx) = std::sync::mpsc::sync_channel::<Vec<Entry>>(1);
            let writer = scope.spawn(move || -> Result<std::time::Duration, IndexError> {
                let mut busy = std::time::Duration::ZERO;
                for entries in wrx.iter() {
                    let t = std::time::Instant::now();
                    builder_ref.add(entries)?;
                    busy += t.elapsed();
                }
                Ok(busy)
            });
            let mut result = Ok(());
            for batch in rx.iter() {
                let step = batch.and_then(|batch| {
                    let t = std::time::Instant::now();
                    let entries = fingerprint_batch(&fpr, &batch, &layout, as_of, &shown)?;
                    fp_time += t.elapsed();
                    done += entries.len() as u64;
                    wtx.send(entries).map_err(|_| {
                        IndexError::Input(format!("{shown}: the index writer stopped"))
                    })
                });
                if let Err(e) = step {
                    result = Err(e);
                    break;
                }
                progress(done);
            }
            drop(wtx);
            let written = writer
                .join()
                .map_err(|_| IndexError::Input(format!("{shown}: the index writer panicked")))?;
            // The writer's own error explains a failed send better.
            let result = written.map(|busy| add_time = busy).and(result);
            drop(rx);
            let (reader, skipped) = producer
                .join()
                .map_err(|_| IndexError::Input(format!("{shown}: the reader thread panicked")))?;
            result.map(|_| (reader, skipped))
        })?;
        if builder.is_empty() {
            return Err(IndexError::Input(format!("{shown}: no records to enrol")));
        }
        if let Some((a, b)) = builder.duplicate_id() {
            return Err(IndexError::Input(format!(
                "{shown}: duplicate person id in records {a} and {b} (0-based, header excluded); an id must name one person"
            )));
        }
        let persons = builder.len() as u64;
        let t1 = std::time::Instant::now();
        let meta = builder.finish(&fpr)?;
        let timings = Timings {
            stream: (t1 - t0).as_secs_f64(),
            fingerprint: fp_time.as_secs_f64(),
            spill: add_time.as_secs_f64(),
            finish: t1.elapsed().as_secs_f64(),
        };
        let file_blake3 = {
            let mut h = blake3::Hasher::new();
            h.update_mmap_rayon(path)
                .map_err(|e| IndexError::io(path, e))?;
            h.finalize().to_hex().to_string()
        };
        // Publish: rename the finished directory, make the rename durable, then commit.
        let seg_name = format!("seg-{tag}");
        let seg_dir = self.home.join("index").join(&seg_name);
        fs::rename(&tmp, &seg_dir).map_err(|e| IndexError::io(&seg_dir, e))?;
        let mut guard = guard;
        guard.0 = Some(seg_dir.clone());
        sync_dir(&self.home.join("index"))?;
        let snapshot = SnapshotInfo {
            id: 0,
            source: source.to_string(),
            recipient: opts.recipient.clone(),
            as_of: as_of_iso,
            enrolled_at: now(),
            file_name: path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().to_string()),
            file_bytes: reader.info().bytes,
            file_blake3,
            rows: done,
            persons,
            id_column: names[id_col].clone(),
            segment: seg_name,
            segment_bytes: meta.files.values().map(|f| f.bytes).sum(),
            fingerprints: meta.fingerprints,
            profile,
            kind: if opts.canary {
                SnapshotKind::Canary
            } else {
                SnapshotKind::Extract
            },
        };
        let mut snapshot = snapshot;
        snapshot.id = self.catalog.add_snapshot(&snapshot)?;
        guard.0 = None;
        drop(lock);
        let w = reader.warnings();
        Ok(EnrollReport {
            snapshot,
            columns,
            skipped_records: skipped,
            ragged_records: w.ragged_records,
            undecodable_records: w.undecodable_records,
            timings,
        })
    }
}

/// The error for a snapshot that exists already (enrolled before, or concurrently).
fn already_enrolled(source: &str, as_of: &str) -> IndexError {
    IndexError::Input(format!(
        "source {source:?} already has a snapshot as of {as_of}; enrol a later --as-of"
    ))
}

/// How a record's columns are used: their types, the person-id column (and whether its value
/// is replaced by a keyed pseudonym) and the context column.
struct Layout<'a> {
    types: &'a [ColumnType],
    id_col: usize,
    pseudonymise: bool,
    /// The id column is typed `identifier` (a customer number…): it is also fingerprinted as
    /// one, so that a leak holding it links on it.
    id_is_identifier: bool,
    context_col: Option<usize>,
}

fn fingerprint_batch(
    fpr: &Fingerprinter,
    batch: &[Record],
    layout: &Layout,
    as_of: date::Ymd,
    shown: &str,
) -> Result<Vec<Entry>, IndexError> {
    let Layout {
        types,
        id_col,
        pseudonymise,
        id_is_identifier,
        context_col,
    } = *layout;
    batch
        .par_iter()
        .map_init(Cache::default, |cache, r| {
            let id = r.fields.get(id_col).map_or("", |s| s.trim());
            if id.is_empty() {
                return Err(IndexError::Input(format!(
                    "{shown}: record {} (0-based, header excluded) has no person id",
                    r.index
                )));
            }
            let id = if pseudonymise {
                fpr.pseudonym(id)
            } else {
                id.to_string()
            };
            let cells: Vec<(ColumnType, &str)> = r
                .fields
                .iter()
                .zip(types)
                .enumerate()
                .filter_map(|(j, (v, t))| match j == id_col {
                    false => Some((*t, v.as_str())),
                    true => id_is_identifier.then_some((ColumnType::Identifier, v.as_str())),
                })
                .collect();
            let context = context_col
                .and_then(|j| r.fields.get(j))
                .and_then(|v| date::parse(v))
                .map_or(0, month_number);
            Ok(Entry {
                id,
                prints: fpr.row_cached(&cells, Some(as_of), cache),
                context,
            })
        })
        .collect()
}
