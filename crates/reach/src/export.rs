//! `leaktrace selfcheck export`: the bucket files of the OPRF mode.
//!
//! The workspace holds keyed fingerprints only, and an OPRF output needs the facts themselves:
//! the export reads the registry file the organisation enrolled (typed as enrolment types it),
//! checks every row's two-fact combinations (each identifier column with each birth-date and
//! last-name column) through the same [`Checker`] as the server-side mode, and for each
//! combination found writes one entry: tag, MAC and the encrypted answer (incident dates and
//! categories), keyed by its OPRF output. Entries are grouped by the first hex digits of the
//! output; every bucket holds the same number of entries (random fillers) of the same size.
//! Nothing of the registry is written but these entries.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use leaktrace_io::{open, ReadOptions, Record};
use leaktrace_pii::ColumnType;
use serde::{Deserialize, Serialize};

use crate::check::{Checker, Facts, IdKind, SecondKind};
use crate::oprf::{self, OprfKey, TAG_BYTES};
use crate::ReachError;

/// The manifest's file name in the export directory.
pub const MANIFEST: &str = "manifest.json";
/// Aim for about this many real entries per bucket (more buckets: smaller downloads, a
/// narrower set of candidates revealed by a prefix).
pub const TARGET_PER_BUCKET: usize = 64;
/// At most this many hex digits of prefix (16^5 buckets).
pub const MAX_PREFIX_DIGITS: usize = 5;
/// Plaintexts are padded to a multiple of this many bytes.
pub const PLAIN_BUCKET: usize = 128;
/// Rows sampled to type the registry's columns (as enrolment does).
const SAMPLE: usize = 10_000;

/// How to read the bucket files (served at `/selfcheck/manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub prefix_digits: usize,
    pub entry_bytes: usize,
    pub entries_per_bucket: usize,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub rows: u64,
    pub entries: usize,
    pub buckets: usize,
    pub manifest: Manifest,
}

/// One answer in an entry (decrypted by the client).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryIncident {
    pub date: String,
    pub categories: Vec<String>,
}

/// Write the bucket files of every open incident's affected persons into `out`.
pub fn export(
    checker: &Checker,
    key: &OprfKey,
    registry: &Path,
    out: &Path,
) -> Result<ExportReport, ReachError> {
    let (rows, found) = collect(checker, key, registry)?;
    let plain_len = found
        .iter()
        .map(|(_, p)| p.len())
        .max()
        .unwrap_or(0)
        .div_ceil(PLAIN_BUCKET)
        .max(1)
        * PLAIN_BUCKET;
    let entry_bytes = 2 * TAG_BYTES + plain_len;
    let mut digits = 1;
    while digits < MAX_PREFIX_DIGITS && found.len() > TARGET_PER_BUCKET << (4 * digits) {
        digits += 1;
    }
    let mut buckets: BTreeMap<String, Vec<Vec<u8>>> = (0..1usize << (4 * digits))
        .map(|i| (format!("{i:0digits$x}"), Vec::new()))
        .collect();
    for (output, plain) in &found {
        let mut p = plain.clone();
        p.resize(plain_len, b' ');
        let prefix = oprf::prefix(output, digits);
        buckets
            .entry(prefix)
            .or_default()
            .push(oprf::seal(output, &p));
    }
    let per = buckets
        .values()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(1)
        .next_multiple_of(8);
    std::fs::create_dir_all(out).map_err(|e| ReachError::file(out, e))?;
    for (prefix, mut entries) in buckets.clone() {
        while entries.len() < per {
            let mut filler = vec![0u8; entry_bytes];
            getrandom::fill(&mut filler).map_err(|e| ReachError::Oprf(e.to_string()))?;
            entries.push(filler);
        }
        entries.sort_unstable();
        write_atomic(&out.join(format!("{prefix}.bin")), &entries.concat())?;
    }
    let manifest = Manifest {
        version: 1,
        prefix_digits: digits,
        entry_bytes,
        entries_per_bucket: per,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| ReachError::file(out, e))?;
    write_atomic(&out.join(MANIFEST), &json)?;
    Ok(ExportReport {
        rows,
        entries: found.len(),
        buckets: buckets.len(),
        manifest,
    })
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReachError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| ReachError::file(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| ReachError::file(path, e))
}

/// The registry's identifier and second-fact columns, typed from a sample as enrolment does.
struct Columns {
    ids: Vec<(usize, IdKind)>,
    seconds: Vec<(usize, SecondKind)>,
}

fn columns(names: &[String], sample: &[Record]) -> Columns {
    let rows: Vec<Vec<String>> = sample.iter().map(|r| r.fields.clone()).collect();
    let mut c = Columns {
        ids: Vec::new(),
        seconds: Vec::new(),
    };
    for col in leaktrace_scan::type_rows(names, &rows) {
        match col.ty {
            ColumnType::Email => c.ids.push((col.index, IdKind::Email)),
            ColumnType::Phone => c.ids.push((col.index, IdKind::Phone)),
            ColumnType::Nir => c.ids.push((col.index, IdKind::Nir)),
            ColumnType::BirthDate => c.seconds.push((col.index, SecondKind::BirthDate)),
            ColumnType::LastName => c.seconds.push((col.index, SecondKind::LastName)),
            _ => {}
        }
    }
    c
}

/// Every (OPRF output, answer JSON) of the registry's rows found affected.
#[allow(clippy::type_complexity)]
fn collect(
    checker: &Checker,
    key: &OprfKey,
    registry: &Path,
) -> Result<(u64, Vec<([u8; 64], Vec<u8>)>), ReachError> {
    let mut reader = open(registry, &ReadOptions::default())?;
    let mut sample: Vec<Record> = Vec::new();
    while sample.len() < SAMPLE {
        match reader.next_record() {
            None => break,
            Some(r) => {
                let r = r?;
                if r.table == 0 {
                    sample.push(r);
                }
            }
        }
    }
    let names = reader
        .tables()
        .first()
        .map(|t| t.columns.clone())
        .unwrap_or_default();
    let cols = columns(&names, &sample);
    if cols.ids.is_empty() || cols.seconds.is_empty() {
        return Err(ReachError::file(
            registry,
            "no e-mail, phone or NIR column, or no birth-date or last-name column: nothing to export",
        ));
    }
    let mut seen: HashSet<[u8; 64]> = HashSet::new();
    let mut found = Vec::new();
    let mut rows = 0u64;
    let mut handle = |r: &Record| -> Result<(), ReachError> {
        rows += 1;
        let cell = |j: usize| r.fields.get(j).map_or("", String::as_str);
        for &(i, _) in &cols.ids {
            for &(j, sk) in &cols.seconds {
                let Ok(facts) = Facts::parse(cell(i), sk, cell(j)) else {
                    continue;
                };
                let exposures = checker.lookup(&facts);
                if exposures.is_empty() {
                    continue;
                }
                let output = key.evaluate(&facts.oprf_input())?;
                if !seen.insert(output) {
                    continue;
                }
                let list: Vec<EntryIncident> = exposures
                    .iter()
                    .map(|e| EntryIncident {
                        date: e.date.clone(),
                        categories: e.categories.iter().map(|c| c.to_string()).collect(),
                    })
                    .collect();
                let plain =
                    serde_json::to_vec(&list).map_err(|e| ReachError::Oprf(e.to_string()))?;
                found.push((output, plain));
            }
        }
        Ok(())
    };
    for r in &sample {
        handle(r)?;
    }
    while let Some(r) = reader.next_record() {
        let r = r?;
        if r.table == 0 {
            handle(&r)?;
        }
    }
    Ok((rows, found))
}
