//! Streaming readers for leaked files.
//!
//! [`open`] sniffs the compression (magic bytes, not the extension), the text encoding (BOM,
//! UTF-16, UTF-8, else Windows-1252) and the CSV dialect (delimiter among `,` `;` tab `|`,
//! header or not) from the first 64 KiB, then streams records in constant memory.
//!
//! Errors name the file, the record and the problem, and never quote field contents.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;

mod archive;
mod count;
#[doc(hidden)]
pub mod fuzzing;
mod json;
mod sheet;
mod sniff;
mod sql;

pub use count::{count_records_parallel, visit_records_parallel, Count, Fields, RawRecord};
pub use sniff::{detect_header, sniff_delimiter};

/// Bytes read to sniff the encoding and the dialect.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Errors from the readers.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: cannot read")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the file is empty")]
    Empty { path: PathBuf },
    #[error("{path}: this does not look like a text table (binary data at byte {offset})")]
    Binary { path: PathBuf, offset: usize },
    #[error("{path}: {problem}")]
    Format { path: PathBuf, problem: String },
    /// A bad record; `line` is its line in the (decompressed) text, 0 when unknown and then
    /// not shown.
    #[error("{path}: record {record}{}: {problem}", line_suffix(*.line))]
    Record {
        path: PathBuf,
        record: u64,
        line: u64,
        problem: String,
    },
}

fn line_suffix(line: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" (line {line})")
    }
}

/// A read error of a decompressed stream: the operating system's (exit as I/O) or the
/// decoder's — a truncated or invalid stream, which is bad input.
fn stream_error(path: &Path, compression: Option<Compression>, e: std::io::Error) -> ReadError {
    match compression {
        Some(c) if e.raw_os_error().is_none() => ReadError::Format {
            path: path.to_path_buf(),
            problem: format!(
                "not a valid {} stream ({e})",
                match c {
                    Compression::Gzip => "gzip",
                    Compression::Zstd => "zstd",
                    Compression::Zip => "zip",
                }
            ),
        },
        _ => ReadError::Io {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

/// Compression wrapper found around the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    Gzip,
    Zstd,
    /// A zip archive: each member is read as its own table(s).
    Zip,
}

/// Decompression limits against zip bombs: output beyond `max_ratio` × the compressed size
/// (once past 64 MiB), or beyond `max_bytes` in all, is refused. For an archive they hold for
/// the whole of it — every member, nested archives and compressed members included, against
/// the size of the outermost file — with at most `max_members` members and containers (zip,
/// gzip, zstd) nested at most `max_depth` deep.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_ratio: u64,
    pub max_bytes: u64,
    pub max_members: usize,
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_ratio: 200,
            max_bytes: 64 << 30,
            max_members: 1000,
            max_depth: 2,
        }
    }
}

/// Where a file being opened sits: how many containers deep, and the expansion budget it
/// shares with the rest of its outermost archive (none for a file opened on its own).
#[derive(Debug, Clone, Default)]
pub(crate) struct Nesting {
    pub(crate) depth: u32,
    pub(crate) budget: Option<std::sync::Arc<archive::Budget>>,
}

/// What was sniffed about a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileInfo {
    /// `csv` (any delimited text: the delimiter says which dialect), `jsonl`, `json`, `sql`,
    /// `xlsx` or `ods`.
    pub format: String,
    pub compression: Option<Compression>,
    /// `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be` or `windows-1252`.
    pub encoding: String,
    /// Delimiter of delimited text (`None` for other formats).
    pub delimiter: Option<char>,
    pub has_header: bool,
    /// Size of the file on disk.
    pub bytes: u64,
}

/// Options for [`open`]; `None` means "sniff it".
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub delimiter: Option<u8>,
    pub has_header: Option<bool>,
    pub limits: Limits,
}

/// Counters of recoverable problems met while reading.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Warnings {
    /// Records whose field count differs from the header's (or the first record's).
    pub ragged_records: u64,
    /// Records holding bytes that are not valid in the detected encoding (decoded as U+FFFD):
    /// a file mixing encodings, or corrupted.
    pub undecodable_records: u64,
}

/// Largest record accepted in delimited text (bytes): a larger one is almost always an
/// unterminated quote that swallowed the rest of the file.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// A table of a file: one for delimited text and JSON, one per SQL table or sheet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableInfo {
    pub name: String,
    /// Column names: the header's, JSON keys (nested as `a.b`), SQL columns, or `col_1`, … .
    pub columns: Vec<String>,
}

/// One record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Index in [`Reader::tables`].
    pub table: usize,
    /// 0-based record index within its table, in file order, header excluded.
    pub index: u64,
    /// Fields, aligned with the table's columns (missing trailing fields are absent).
    pub fields: Vec<String>,
}

/// A source of records of one format.
pub(crate) trait Source: Send {
    fn next(&mut self) -> Option<Result<Record, ReadError>>;
    fn tables(&self) -> &[TableInfo];
    fn warnings(&self) -> Warnings {
        Warnings::default()
    }
}

/// A streaming reader of a leaked file's records.
pub struct Reader {
    path: PathBuf,
    info: FileInfo,
    source: Box<dyn Source>,
    /// Where `info.bytes` comes from: a stream's size is known at its end.
    size: Size,
}

struct CsvSource {
    path: PathBuf,
    tables: Vec<TableInfo>,
    csv: csv::Reader<Box<dyn Read + Send>>,
    record: csv::StringRecord,
    next_index: u64,
    warnings: Warnings,
}

impl Source for CsvSource {
    fn next(&mut self) -> Option<Result<Record, ReadError>> {
        match self.csv.read_record(&mut self.record) {
            Ok(false) => None,
            Err(e) => Some(Err(record_error(&self.path, self.next_index, &e))),
            Ok(true) => {
                let bytes = self.record.as_slice().len();
                if bytes > MAX_RECORD_BYTES {
                    let line = self.record.position().map_or(0, |p| p.line());
                    return Some(Err(ReadError::Record {
                        path: self.path.clone(),
                        record: self.next_index,
                        line,
                        problem: format!(
                            "record of {} MiB exceeds the {} MiB limit (unterminated quote or a very long line?)",
                            bytes >> 20,
                            MAX_RECORD_BYTES >> 20
                        ),
                    }));
                }
                if self.record.as_slice().contains('\u{fffd}') {
                    self.warnings.undecodable_records += 1;
                }
                let columns = &mut self.tables[0].columns;
                if self.record.len() != columns.len() {
                    self.warnings.ragged_records += 1;
                    while columns.len() < self.record.len() {
                        columns.push(format!("col_{}", columns.len() + 1));
                    }
                }
                let i = self.next_index;
                self.next_index += 1;
                Some(Ok(Record {
                    table: 0,
                    index: i,
                    fields: self.record.iter().map(str::to_string).collect(),
                }))
            }
        }
    }

    fn tables(&self) -> &[TableInfo] {
        &self.tables
    }

    fn warnings(&self) -> Warnings {
        self.warnings.clone()
    }
}

impl std::fmt::Debug for Reader {
    // The source holds no printable state.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("path", &self.path)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// The path that means standard input.
pub const STDIN: &str = "-";

/// The raw bytes of `path` (standard input for [`STDIN`]), and its size: known for a regular
/// file, else (a pipe, FIFO or terminal, read once only) counted as the stream is read.
fn open_raw(path: &Path) -> Result<(Box<dyn Read + Send>, Size), ReadError> {
    let io = |e| ReadError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let counted = |r: Box<dyn Read + Send>| -> (Box<dyn Read + Send>, Size) {
        let n = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let r = Counting {
            inner: BufReader::new(r),
            n: n.clone(),
        };
        (Box::new(r), Size::Streamed(n))
    };
    if path.as_os_str() == STDIN {
        return Ok(counted(Box::new(std::io::stdin())));
    }
    let f = File::open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if meta.is_file() {
        Ok((Box::new(BufReader::new(f)), Size::File(meta.len())))
    } else {
        Ok(counted(Box::new(f)))
    }
}

/// The table name of a one-table file: its stem, `stdin` for standard input.
pub(crate) fn table_name(path: &Path) -> String {
    if path.as_os_str() == STDIN {
        return "stdin".into();
    }
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The size of an input: a regular file's, or the bytes of a stream read so far.
#[derive(Debug, Clone)]
enum Size {
    File(u64),
    Streamed(std::sync::Arc<std::sync::atomic::AtomicU64>),
}

impl Size {
    fn now(&self) -> u64 {
        match self {
            Size::File(n) => *n,
            Size::Streamed(n) => n.load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

/// A reader counting the bytes it passes on.
struct Counting<R> {
    inner: R,
    n: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n
            .fetch_add(k as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(k)
    }
}

/// Wrap `raw` (whose first bytes are `magic`) in the decompressor its magic bytes call for,
/// capped by the limits.
fn decompress(
    path: &Path,
    raw: Box<dyn Read + Send>,
    magic: &[u8],
    compressed: u64,
    opts: &ReadOptions,
    nesting: &Nesting,
) -> Result<(Box<dyn Read + Send>, Option<Compression>), ReadError> {
    let limits = opts.limits;
    let gzip = magic.len() >= 2 && magic[..2] == [0x1f, 0x8b];
    let zstd = magic == [0x28, 0xB5, 0x2F, 0xFD];
    if (gzip || zstd) && nesting.depth >= limits.max_depth {
        return Err(archive::too_deep(path, limits));
    }
    let capped = |r: Box<dyn Read + Send>| -> Box<dyn Read + Send> {
        Box::new(archive::Capped::new(
            r,
            compressed,
            limits,
            nesting.budget.clone(),
        ))
    };
    if gzip {
        let d = flate2::read::MultiGzDecoder::new(BufReader::new(raw));
        Ok((capped(Box::new(d)), Some(Compression::Gzip)))
    } else if zstd {
        let d = zstd::stream::read::Decoder::new(raw).map_err(|e| ReadError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Ok((capped(Box::new(d)), Some(Compression::Zstd)))
    } else {
        Ok((raw, None))
    }
}

fn read_prefix(r: &mut dyn Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Open a leaked file, sniffing its format, compression, encoding and dialect. `path` may be
/// a pipe, a FIFO or [`STDIN`] (`-`): the stream is read once, its sniffed prefix replayed, so
/// every record comes in order with the same detection as from a file (zip archives and
/// workbooks, whose directory is at their end, need a file).
pub fn open(path: &Path, opts: &ReadOptions) -> Result<Reader, ReadError> {
    open_nested(path, opts, &Nesting::default())
}

/// [`open`] for a file found inside `nesting`'s containers.
pub(crate) fn open_nested(
    path: &Path,
    opts: &ReadOptions,
    nesting: &Nesting,
) -> Result<Reader, ReadError> {
    let io = |e| ReadError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let (mut raw, size) = open_raw(path)?;
    let (regular, bytes) = match size {
        Size::File(n) => (true, n),
        Size::Streamed(_) => (false, 0),
    };
    let magic = read_prefix(&mut raw, 4).map_err(io)?;
    if magic.starts_with(b"PK\x03\x04") {
        if !regular {
            return Err(ReadError::Format {
                path: path.to_path_buf(),
                problem: "a zip archive or spreadsheet cannot be read from a pipe or standard \
                          input (its directory is at its end): save it to a file first"
                    .into(),
            });
        }
        drop(raw);
        return open_zip(path, opts, nesting, size);
    }
    let replay: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(magic.clone()).chain(raw));
    let (mut stream, compression) = decompress(path, replay, &magic, bytes, opts, nesting)?;
    let sample =
        read_prefix(&mut stream, SNIFF_BYTES).map_err(|e| stream_error(path, compression, e))?;
    if sample.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ReadError::Empty {
            path: path.to_path_buf(),
        });
    }
    let (encoding, label) = sniff::encoding(&sample);
    let text = sniff::decode_sample(&sample, encoding);
    if let Some(offset) = sniff::binary_offset(&text) {
        return Err(ReadError::Binary {
            path: path.to_path_buf(),
            offset,
        });
    }
    // The decoder sees the stream from its first byte (BOM included): the sample, then the rest.
    let input = decoder(
        Box::new(std::io::Cursor::new(sample).chain(stream)),
        encoding,
    );
    let mut info = FileInfo {
        format: String::new(),
        compression,
        encoding: label.to_string(),
        delimiter: None,
        has_header: true,
        bytes,
    };
    let first = text.trim_start().chars().next().unwrap_or(' ');
    let (format, source): (&str, Box<dyn Source>) = if opts.delimiter.is_none() && first == '[' {
        ("json", Box::new(json::JsonSource::array(path, input)))
    } else if opts.delimiter.is_none() && first == '{' {
        ("jsonl", Box::new(json::JsonSource::lines(path, input)))
    } else if opts.delimiter.is_none() && sql::looks_like_sql(&text) {
        ("sql", Box::new(sql::SqlSource::new(path, input)))
    } else {
        return open_csv(path, opts, &text, input, info, size);
    };
    info.format = format.into();
    Ok(Reader {
        path: path.to_path_buf(),
        info,
        source,
        size,
    })
}

/// A zip file: an archive of files (each member its own table(s)) or an XLSX/ODS workbook.
fn open_zip(
    path: &Path,
    opts: &ReadOptions,
    nesting: &Nesting,
    size: Size,
) -> Result<Reader, ReadError> {
    let (format, source, compression) = if archive::is_workbook(path)? {
        let (format, source) = sheet::open(path)?;
        (format, source, None)
    } else {
        let (format, source) = archive::open(path, opts, nesting)?;
        (format, source, Some(Compression::Zip))
    };
    Ok(Reader {
        path: path.to_path_buf(),
        info: FileInfo {
            format,
            compression,
            encoding: "utf-8".into(),
            delimiter: None,
            has_header: true,
            bytes: size.now(),
        },
        source,
        size,
    })
}

/// Delimited text: the dialect and header sniffed from the sample `text`, records from
/// `input` (the decoded stream from its first byte).
fn open_csv(
    path: &Path,
    opts: &ReadOptions,
    text: &str,
    input: Box<dyn Read + Send>,
    mut info: FileInfo,
    size: Size,
) -> Result<Reader, ReadError> {
    let delimiter = opts.delimiter.unwrap_or_else(|| sniff_delimiter(text));
    let has_header = opts
        .has_header
        .unwrap_or_else(|| detect_header(text, delimiter));
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut record = csv::StringRecord::new();
    let mut columns = Vec::new();
    if has_header {
        match csv.read_record(&mut record) {
            Ok(true) => {
                columns = record.iter().map(|h| h.trim().to_string()).collect();
            }
            Ok(false) => {}
            Err(e) => return Err(record_error(path, 0, &e)),
        }
    } else {
        // Width from the sample's first record.
        let width = sniff::first_record_width(text, delimiter);
        columns = (1..=width).map(|i| format!("col_{i}")).collect();
    }
    let name = table_name(path);
    info.format = "csv".into();
    info.delimiter = Some(char::from(delimiter));
    info.has_header = has_header;
    Ok(Reader {
        path: path.to_path_buf(),
        info,
        source: Box::new(CsvSource {
            path: path.to_path_buf(),
            tables: vec![TableInfo { name, columns }],
            csv,
            record,
            next_index: 0,
            warnings: Warnings::default(),
        }),
        size,
    })
}

/// A streaming decoder to UTF-8 (BOM honoured and stripped).
fn decoder(
    stream: Box<dyn Read + Send>,
    encoding: &'static encoding_rs::Encoding,
) -> Box<dyn Read + Send> {
    Box::new(
        encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .bom_override(true)
            .strip_bom(true)
            .build(stream),
    )
}

fn record_error(path: &Path, record: u64, e: &csv::Error) -> ReadError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    if let csv::ErrorKind::Io(err) = e.kind() {
        if let Some(code) = err.raw_os_error() {
            return ReadError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::from_raw_os_error(code),
            };
        }
    }
    let problem = match e.kind() {
        csv::ErrorKind::Io(err) => format!("read error: {err}"),
        csv::ErrorKind::Utf8 { .. } => "invalid text encoding".to_string(),
        _ => "malformed record".to_string(),
    };
    ReadError::Record {
        path: path.to_path_buf(),
        record,
        line,
        problem,
    }
}

impl Reader {
    /// What was sniffed. For a stream (pipe, FIFO, standard input) `bytes` is what was read
    /// of it so far: its size once every record was read.
    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Tables discovered so far (an SQL dump discovers its tables as it streams; JSON and
    /// delimited files widen their column list when a record brings a new key or field).
    pub fn tables(&self) -> &[TableInfo] {
        self.source.tables()
    }

    /// Recoverable problems met so far.
    pub fn warnings(&self) -> Warnings {
        self.source.warnings()
    }

    /// The next record, in file order.
    pub fn next_record(&mut self) -> Option<Result<Record, ReadError>> {
        let next = self.source.next();
        if next.is_none() {
            self.info.bytes = self.size.now();
        }
        next
    }
}

#[cfg(test)]
mod tests;
