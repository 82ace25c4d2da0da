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
    /// The record's bytes: field `j` ends at `ends[j]` and the next starts `gap` bytes later
    /// (1: a line with its delimiters; 0: the unquoted fields laid end to end).
    data: &'a [u8],
    ends: &'a [usize],
    gap: usize,
    latin1: bool,
    /// `data` as text, when it is known to read without decoding.
    text: Option<&'a str>,
}

impl<'a> RawRecord<'a> {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the record has no field.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    #[inline]
    fn range(&self, j: usize) -> Option<std::ops::Range<usize>> {
        let end = *self.ends.get(j)?;
        let start = match j.checked_sub(1) {
            Some(i) => self.ends[i] + self.gap,
            None => 0,
        };
        Some(start..end)
    }

    /// Field `j`'s bytes as in the file.
    pub fn bytes(&self, j: usize) -> Option<&'a [u8]> {
        self.data.get(self.range(j)?)
    }

    /// Field `j`, decoded from the file's encoding (invalid bytes become U+FFFD).
    pub fn get(&self, j: usize) -> Option<Cow<'a, str>> {
        Some(decode(self.bytes(j)?, self.latin1))
    }

    /// The fields, decoded like [`get`](Self::get) but checking the record's encoding once
    /// rather than field by field (worth it when most fields are read).
    #[inline]
    pub fn fields(&self) -> Fields<'a> {
        let text = self.text.or_else(|| as_text(self.data, self.latin1));
        Fields {
            rec: RawRecord { ..*self },
            text,
        }
    }
}

/// The fields of a [`RawRecord`] (see [`RawRecord::fields`]).
pub struct Fields<'a> {
    rec: RawRecord<'a>,
    /// The record's bytes, when they read as text without decoding.
    text: Option<&'a str>,
}

impl<'a> Fields<'a> {
    /// Field `j`, as [`RawRecord::get`].
    #[inline]
    pub fn get(&self, j: usize) -> Option<Cow<'a, str>> {
        let r = self.rec.range(j)?;
        if let Some(f) = self.text.and_then(|t| t.get(r.clone())) {
            return Some(Cow::Borrowed(f));
        }
        Some(decode(self.rec.data.get(r)?, self.rec.latin1))
    }
}

/// `b` as text when it reads without decoding: valid UTF-8, and ASCII in a Windows-1252 file.
#[inline]
fn as_text(b: &[u8], latin1: bool) -> Option<&str> {
    std::str::from_utf8(b)
        .ok()
        .filter(|t| !latin1 || t.is_ascii())
}

fn decode(b: &[u8], latin1: bool) -> Cow<'_, str> {
    if latin1 {
        encoding_rs::WINDOWS_1252.decode_without_bom_handling(b).0
    } else {
        String::from_utf8_lossy(b)
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
            let mut c = Count {
                records: 0,
                ragged: 0,
            };
            let on_record = |r: &RawRecord| {
                c.records += 1;
                c.ragged += u64::from(r.len() != width);
                if skip > 0 {
                    skip -= 1;
                } else {
                    visit(&mut state, r);
                }
            };
            let mut f = File::open(path).map_err(io)?;
            f.seek(SeekFrom::Start(w[0])).map_err(io)?;
            split_records(
                f.take(w[1] - w[0]),
                delim as u8,
                w[0] == 0,
                BLOCK,
                latin1,
                on_record,
            )
            .map_err(|e| ReadError::Record {
                path: path.to_path_buf(),
                record: 0,
                line: 0,
                problem: format!("cannot read ({})", e.kind()),
            })?;
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

/// Bytes split at a time by [`split_records`] (small enough to stay in cache while split).
const BLOCK: usize = 1 << 16;

const BOM: &[u8; 3] = b"\xef\xbb\xbf";

/// Split the records of a delimited text read from `src` exactly as the `csv` crate does
/// (quotes, doubled quotes, CR, LF and CRLF line ends, blank lines skipped, a UTF-8 BOM
/// dropped at the start of `src` when `at_start`), calling `visit` on each.
///
/// Blocks of whole lines without a quote or a CR — most of a typical export — are split in
/// place, 64 bytes at a time; other blocks go through `csv_core`, the `csv` crate's own
/// parser, and a quoted field running past a block's last line makes the block grow until
/// the record ends.
pub(crate) fn split_records<R: Read>(
    mut src: R,
    delim: u8,
    at_start: bool,
    block: usize,
    latin1: bool,
    mut visit: impl FnMut(&RawRecord),
) -> std::io::Result<()> {
    let block = block.max(1);
    let mut sp = Splitter::new(delim, latin1);
    let mut buf: Vec<u8> = Vec::new();
    // Unsplit data starts at `start`; the next split must reach past `start + need`.
    let mut start = 0;
    let mut need = 0;
    let mut eof = false;
    let mut bom = at_start;
    loop {
        if !eof {
            buf.drain(..start);
            start = 0;
            // At first, enough bytes to see a BOM (as the csv crate's first buffer does); for a
            // record longer than a block, twice what it has (linear time however long it is).
            let goal = buf.len().max(need) + if bom { block.max(3) } else { block.max(need) };
            while buf.len() < goal {
                let old = buf.len();
                buf.resize(goal, 0);
                match src.read(&mut buf[old..]) {
                    Ok(0) => {
                        buf.truncate(old);
                        eof = true;
                        break;
                    }
                    Ok(n) => buf.truncate(old + n),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(old),
                    Err(e) => return Err(e),
                }
            }
        }
        if std::mem::take(&mut bom) && buf[start..].starts_with(BOM) {
            start += 3;
        }
        let data = &buf[start..];
        if data.is_empty() {
            if eof {
                return Ok(());
            }
            continue;
        }
        let (done, more) = sp.step(data, eof, need, &mut visit);
        start += done;
        need = more;
    }
}

/// The state of [`split_records`] between blocks.
struct Splitter {
    delim: u8,
    latin1: bool,
    /// Whether the delimiter can be split on directly (not a quote or a line end).
    plain_delim: bool,
    ends: Vec<usize>,
    out: Vec<u8>,
}

impl Splitter {
    fn new(delim: u8, latin1: bool) -> Splitter {
        Splitter {
            delim,
            latin1,
            plain_delim: !matches!(delim, b'"' | b'\r' | b'\n'),
            ends: Vec::new(),
            out: vec![0; 1024],
        }
    }

    /// Split the records of `data` (unsplit data from a record's start; `eof`: all there is)
    /// up to its last LF past `need`; returns the bytes done and how far the next split must
    /// reach (past the data when no record could end in it).
    fn step(
        &mut self,
        data: &[u8],
        eof: bool,
        need: usize,
        visit: &mut impl FnMut(&RawRecord),
    ) -> (usize, usize) {
        let (delim, latin1) = (self.delim, self.latin1);
        // The data to split now: up to the last LF past `need` (everything at the end).
        let end = if eof {
            data.len()
        } else {
            match memchr::memrchr(b'\n', data) {
                Some(i) if i >= need => i + 1,
                _ => return (0, data.len()),
            }
        };
        // Lines without quotes or CRs are split here; from the first other line on (up to the
        // block's end), the csv crate's parser.
        let plain = if self.plain_delim {
            split_plain(&data[..end], delim, &mut self.ends, latin1, visit)
        } else {
            0
        };
        let blk = &data[plain..end];
        if blk.is_empty() {
            return (end, 0);
        }
        // A fresh parser at a record's start (a blank line fed first, so that it strips no
        // BOM mid-file).
        let (out, ends) = (&mut self.out, &mut self.ends);
        let mut rdr = csv_core::ReaderBuilder::new().delimiter(delim).build();
        ends.resize(64, 0);
        let _ = rdr.read_record(b"\n", out, ends);
        let (mut pos, mut rec_start, mut outlen, mut endlen) = (0, 0, 0, 0);
        loop {
            let input = &blk[pos..];
            let (res, nin, nout, nend) =
                rdr.read_record(input, &mut out[outlen..], &mut ends[endlen..]);
            pos += nin;
            outlen += nout;
            endlen += nend;
            match res {
                csv_core::ReadRecordResult::InputEmpty => {
                    if input.is_empty() {
                        break;
                    }
                }
                csv_core::ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
                csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
                csv_core::ReadRecordResult::Record => {
                    if input.is_empty() && !eof {
                        // The block's end is inside this record (a quoted line end): split
                        // it again from its start with more data.
                        return (plain + rec_start, blk.len() - rec_start);
                    }
                    visit(&RawRecord {
                        data: &out[..outlen],
                        ends: &ends[..endlen],
                        gap: 0,
                        latin1,
                        text: None,
                    });
                    (outlen, endlen, rec_start) = (0, 0, pos);
                }
                csv_core::ReadRecordResult::End => break,
            }
        }
        (end, 0)
    }
}

/// Bit `k` of the masks of 64 bytes: byte `k` is the delimiter or LF (first mask), a quote or
/// a CR (second).
#[cfg(target_arch = "x86_64")]
fn masks(c: &[u8; 64], delim: u8) -> (u64, u64) {
    // SAFETY: `masks_sse2` only needs SSE2, which every x86-64 CPU has (it is part of the
    // x86_64 targets' baseline features), and it reads nothing but its arguments.
    unsafe { masks_sse2(c, delim) }
}

/// [`masks`] sixteen bytes at a time with SSE2 compares and byte masks.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn masks_sse2(c: &[u8; 64], delim: u8) -> (u64, u64) {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x,
    };
    let d = _mm_set1_epi8(delim as i8);
    let lf = _mm_set1_epi8(b'\n' as i8);
    let q = _mm_set1_epi8(b'"' as i8);
    let cr = _mm_set1_epi8(b'\r' as i8);
    let (mut sep, mut bad) = (0u64, 0u64);
    let mut k = 0;
    while k < 4 {
        let v = u128::from_le_bytes(c[16 * k..16 * k + 16].try_into().unwrap_or([0; 16]));
        let x = _mm_set_epi64x((v >> 64) as i64, v as i64);
        let s = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, d), _mm_cmpeq_epi8(x, lf)));
        let b = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, cr)));
        sep |= u64::from(s as u16) << (16 * k);
        bad |= u64::from(b as u16) << (16 * k);
        k += 1;
    }
    (sep, bad)
}

/// [`masks`] byte by byte, elsewhere.
#[cfg(not(target_arch = "x86_64"))]
fn masks(c: &[u8; 64], delim: u8) -> (u64, u64) {
    let (mut sep, mut bad) = (0u64, 0u64);
    for (k, &b) in c.iter().enumerate() {
        sep |= u64::from(b == delim || b == b'\n') << k;
        bad |= u64::from(b == b'"' || b == b'\r') << k;
    }
    (sep, bad)
}

/// Split the lines of `blk` (whole lines, or the end of the data) at `delim` and LF, 64 bytes
/// at a time, visiting each non-empty line as a record; stops at the first line holding a quote
/// or a CR. Returns the bytes done (whole lines).
fn split_plain(
    blk: &[u8],
    delim: u8,
    ends: &mut Vec<usize>,
    latin1: bool,
    visit: &mut impl FnMut(&RawRecord),
) -> usize {
    // The lines as text when the whole block reads without decoding (checked once here rather
    // than line by line).
    let text = as_text(blk, latin1);
    let mut line = 0;
    ends.clear();
    let mut at = |i: usize, line: &mut usize, ends: &mut Vec<usize>| {
        if blk[i] == delim {
            ends.push(i - *line);
            return;
        }
        if i > *line {
            ends.push(i - *line);
            visit(&RawRecord {
                data: &blk[*line..i],
                ends,
                gap: 1,
                latin1,
                text: text.and_then(|t| t.get(*line..i)),
            });
        }
        ends.clear();
        *line = i + 1;
    };
    let mut chunks = blk.chunks_exact(64);
    let mut base = 0;
    for c in chunks.by_ref() {
        let (mut m, bad) = masks(c.try_into().unwrap_or(&[0; 64]), delim);
        if bad != 0 {
            return line;
        }
        while m != 0 {
            at(base + m.trailing_zeros() as usize, &mut line, ends);
            m &= m - 1;
        }
        base += 64;
    }
    for (k, &b) in chunks.remainder().iter().enumerate() {
        match b {
            b'"' | b'\r' => return line,
            b'\n' => at(base + k, &mut line, ends),
            _ if b == delim => at(base + k, &mut line, ends),
            _ => {}
        }
    }
    if line < blk.len() {
        // The data's last line, without a line end.
        ends.push(blk.len() - line);
        visit(&RawRecord {
            data: &blk[line..],
            ends,
            gap: 1,
            latin1,
            text: text.and_then(|t| t.get(line..)),
        });
    }
    blk.len()
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Records (field bytes) and widths as the `csv` crate reads them.
    fn by_csv(bytes: &[u8], delim: u8) -> Vec<Vec<Vec<u8>>> {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delim)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut rec = csv::ByteRecord::new();
        let mut all = Vec::new();
        while rdr.read_byte_record(&mut rec).unwrap() {
            all.push(rec.iter().map(<[u8]>::to_vec).collect());
        }
        all
    }

    fn by_split(bytes: &[u8], delim: u8, block: usize) -> Vec<Vec<Vec<u8>>> {
        let mut all = Vec::new();
        split_records(bytes, delim, true, block, false, |r| {
            all.push((0..r.len()).map(|j| r.bytes(j).unwrap().to_vec()).collect());
        })
        .unwrap();
        all
    }

    #[test]
    fn splits_like_the_csv_crate() {
        for (text, delim) in [
            (&b"a,b,c\n1,2,3\n"[..], b','),
            (b"\xef\xbb\xbfa;b\r\n\r\n1;\"2;\n3\"\"\"\n\n;\nlast", b';'),
            (b"x\ty\n\"q\"uoted\tz\r1\t2\r\n", b'\t'),
            (b"\n\n", b','),
            (b"", b','),
            (b"a,\"never closed\nb,c\n", b','),
        ] {
            for block in [1, 2, 3, 7, 64, 1 << 16] {
                assert_eq!(by_split(text, delim, block), by_csv(text, delim), "{block}");
            }
        }
    }

    #[test]
    fn a_long_quoted_record_is_split_once() {
        // A 2 MiB quoted field of short lines, in blocks of 1 KiB: the block doubles while the
        // record runs on, rather than growing by a block and splitting it again each time.
        let mut text = b"id,note\n1,\"".to_vec();
        text.extend(b"0123456789\n".repeat(200_000));
        text.extend(b"\"\n2,x\n");
        assert_eq!(by_split(&text, b',', 1 << 10), by_csv(&text, b','));
    }

    proptest! {
        #[test]
        fn split_agrees_with_the_csv_crate(
            parts in proptest::collection::vec(
                prop_oneof!["[a-z]{1,6}", Just(",".to_string()), Just(";".to_string()),
                            Just("\"".to_string()), Just("\n".to_string()),
                            Just("\r".to_string()), Just("\r\n".to_string()),
                            Just("é".to_string()), Just("\u{feff}".to_string())],
                0..60),
            comma in proptest::bool::ANY, block in 1usize..40,
        ) {
            let text = parts.concat();
            let delim = if comma { b',' } else { b';' };
            prop_assert_eq!(by_split(text.as_bytes(), delim, block), by_csv(text.as_bytes(), delim));
            prop_assert_eq!(by_split(text.as_bytes(), delim, 1 << 16), by_csv(text.as_bytes(), delim));
        }

        #[test]
        fn fields_decode_like_get(bytes in proptest::collection::vec(
                prop_oneof![Just(b','), Just(b'a'), Just(0xc3u8), Just(0xa9u8), Just(b'\n'), Just(0xffu8)],
                0..40), latin1 in proptest::bool::ANY) {
            split_records(&bytes[..], b',', true, 8, latin1, |r| {
                let f = r.fields();
                for j in 0..=r.len() {
                    assert_eq!(f.get(j), r.get(j));
                }
            }).unwrap();
        }
    }
}
