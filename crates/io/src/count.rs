//! Counting the records of a large plain CSV file on every core.

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
    let counts: Result<Vec<Count>, ReadError> = bounds
        .par_windows(2)
        .map(|w| {
            let mut f = File::open(path).map_err(io)?;
            f.seek(SeekFrom::Start(w[0])).map_err(io)?;
            let mut rdr = csv::ReaderBuilder::new()
                .delimiter(delim as u8)
                .has_headers(false)
                .flexible(true)
                .buffer_capacity(1 << 20)
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
            Ok(c)
        })
        .collect();
    let mut total = counts?.into_iter().fold(
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
    Ok(Some(total))
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
