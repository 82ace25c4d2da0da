//! Counting (and visiting) the records of a large plain CSV file on every core.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use rayon::prelude::*;

use crate::{FileInfo, ReadError};

/// Byte ranges below this size are not worth splitting.
const MIN_SPLIT: u64 = 64 << 20;

/// Records of a file and how many of them had another width than expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Records, header excluded.
    pub records: u64,
    /// Records whose field count differs from `width`.
    pub ragged: u64,
}

/// Count the records (header excluded) of a plain delimited file in parallel, splitting it at
/// line ends, and those whose width differs from `width`. Returns `None` when that would not be
/// exact or worthwhile: compressed, UTF-16, under 64 MiB, or quoted fields spanning lines in
/// the first 64 KiB.
pub fn count_records_parallel(
    path: &Path,
    info: &FileInfo,
    width: usize,
) -> Result<Option<Count>, ReadError> {
    Ok(visit_records_parallel(path, info, width, || (), |_, _| {})?.map(|(c, _)| c))
}

/// One record seen by [`visit_records_parallel`]: its fields, decoded on demand.
pub struct RawRecord<'a> {
    rec: &'a csv::ByteRecord,
    latin1: bool,
}

impl<'a> RawRecord<'a> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.rec.len()
    }

    /// Whether the record has no field.
    pub fn is_empty(&self) -> bool {
        self.rec.is_empty()
    }

    /// Field `j`, decoded from the file's encoding (invalid bytes become U+FFFD).
    pub fn get(&self, j: usize) -> Option<Cow<'a, str>> {
        let b = self.rec.get(j)?;
        Some(if self.latin1 {
            encoding_rs::WINDOWS_1252.decode_without_bom_handling(b).0
        } else {
            String::from_utf8_lossy(b)
        })
    }
}

/// [`count_records_parallel`], also calling `visit` on every record (header excluded) with a
/// per-part state made by `init`; returns the count and the states of the parts, in file order.
pub fn visit_records_parallel<S, I, F>(
    path: &Path,
    info: &FileInfo,
    width: usize,
    init: I,
    visit: F,
) -> Result<Option<(Count, Vec<S>)>, ReadError>
where
    S: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &RawRecord) + Sync,
{
    let Some(delim) = info.delimiter else {
        return Ok(None);
    };
    if info.compression.is_some() || info.encoding.starts_with("utf-16") || info.bytes < MIN_SPLIT {
        return Ok(None);
    }
    let io = |e| ReadError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut sample = Vec::new();
    File::open(path)
        .map_err(io)?
        .take(crate::SNIFF_BYTES as u64)
        .read_to_end(&mut sample)
        .map_err(io)?;
    if has_quoted_newline(&sample) {
        return Ok(None);
    }
    let parts = (rayon::current_num_threads() * 4) as u64;
    let step = info.bytes / parts;
    // Boundaries: just after the first '\n' at or past each nominal offset.
    let mut bounds = vec![0u64];
    let mut f = File::open(path).map_err(io)?;
    for k in 1..parts {
        let mut pos = (k * step).max(*bounds.last().unwrap_or(&0));
        f.seek(SeekFrom::Start(pos)).map_err(io)?;
        let mut buf = [0u8; 1 << 16];
        loop {
            let n = f.read(&mut buf).map_err(io)?;
            if n == 0 {
                pos = info.bytes;
                break;
            }
            if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
                pos += i as u64 + 1;
                break;
            }
            pos += n as u64;
        }
        bounds.push(pos);
    }
    bounds.push(info.bytes);
    bounds.dedup();
    let latin1 = info.encoding == "windows-1252";
    let parts: Result<Vec<(Count, S)>, ReadError> = bounds
        .par_windows(2)
        .map(|w| {
            let mut state = init();
            // The header is the first record of the first part.
            let mut skip = u64::from(w[0] == 0 && info.has_header);
            let mut f = File::open(path).map_err(io)?;
            f.seek(SeekFrom::Start(w[0])).map_err(io)?;
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(delim as u8)
                .has_headers(false)
                .flexible(true)
                .buffer_capacity(1 << 16)
                .from_reader(f.take(w[1] - w[0]));
            let mut rec = csv::ByteRecord::new();
            let mut c = Count {
                records: 0,
                ragged: 0,
            };
            loop {
                match rdr.read_byte_record(&mut rec) {
                    Ok(true) => {
                        c.records += 1;
                        c.ragged += u64::from(rec.len() != width);
                        if skip > 0 {
                            skip -= 1;
                        } else {
                            visit(&mut state, &RawRecord { rec: &rec, latin1 });
                        }
                    }
                    Ok(false) => break,
                    Err(e) => {
                        return Err(ReadError::Record {
                            path: path.to_path_buf(),
                            record: c.records,
                            line: e.position().map_or(0, |p| p.line()),
                            problem: "malformed record".into(),
                        })
                    }
                }
            }
            Ok((c, state))
        })
        .collect();
    let (counts, states): (Vec<Count>, Vec<S>) = parts?.into_iter().unzip();
    let mut total = counts.into_iter().fold(
        Count {
            records: 0,
            ragged: 0,
        },
        |a, b| Count {
            records: a.records + b.records,
            ragged: a.ragged + b.ragged,
        },
    );
    if info.has_header && total.records > 0 {
        total.records -= 1;
    }
    Ok(Some((total, states)))
}

fn has_quoted_newline(sample: &[u8]) -> bool {
    let mut in_quote = false;
    for &b in sample {
        match b {
            b'"' => in_quote = !in_quote,
            b'\n' if in_quote => return true,
            _ => {}
        }
    }
    false
}
