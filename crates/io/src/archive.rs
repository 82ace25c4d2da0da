//! Zip archives (each member read as its own table(s)) and decompression limits against bombs.
//!
//! The limits hold for a whole archive: members, nested archives and compressed members share
//! one [`Budget`] measured against the outermost file's size, the number of members is capped,
//! and containers nest at most [`Limits::max_depth`] deep. Members are extracted to temporary
//! files that are unlinked at once where the system allows it (Linux: read back through
//! `/proc/self/fd`), so that no exit path — an error, a panic, a signal — leaves one behind;
//! workbooks, which their reader opens by name, are removed when dropped.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::{
    open_nested, Limits, Nesting, ReadError, ReadOptions, Reader, Record, Source, TableInfo,
};

/// The expansion budget of one outermost archive: its size, and the bytes every member and
/// nested stream of it inflated so far.
#[derive(Debug)]
pub(crate) struct Budget {
    origin: u64,
    spent: AtomicU64,
}

/// A reader that refuses to inflate beyond the [`Limits`] (and, inside an archive, beyond its
/// share of the archive's [`Budget`]).
pub(crate) struct Capped<R> {
    inner: R,
    compressed: u64,
    out: u64,
    limits: Limits,
    budget: Option<Arc<Budget>>,
}

impl<R> Capped<R> {
    pub(crate) fn new(
        inner: R,
        compressed: u64,
        limits: Limits,
        budget: Option<Arc<Budget>>,
    ) -> Capped<R> {
        Capped {
            inner,
            compressed: budget.as_ref().map_or(compressed, |b| b.origin).max(1),
            out: 0,
            limits,
            budget,
        }
    }
}

/// Output past which the ratio limit applies (small files may compress very well).
const RATIO_FLOOR: u64 = 64 << 20;

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let total = match &self.budget {
            Some(b) => b.spent.fetch_add(n as u64, Ordering::Relaxed) + n as u64,
            None => self.out,
        };
        if total > self.limits.max_bytes
            || (total > RATIO_FLOOR && total / self.compressed > self.limits.max_ratio)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "decompressed data exceeds the limits ({}× the compressed size or {} GiB, \
                     for the whole archive): possible zip bomb",
                    self.limits.max_ratio,
                    self.limits.max_bytes >> 30
                ),
            ));
        }
        Ok(n)
    }
}

/// The error for a container nested deeper than the limits allow.
pub(crate) fn too_deep(path: &Path, limits: Limits) -> ReadError {
    ReadError::Format {
        path: path.to_path_buf(),
        problem: format!(
            "archives or compressed files nested more than {} deep are refused (possible bomb)",
            limits.max_depth
        ),
    }
}

fn zip_err(path: &Path, e: impl std::fmt::Display) -> ReadError {
    ReadError::Format {
        path: path.to_path_buf(),
        problem: format!("not a readable zip archive ({e})"),
    }
}

/// Whether a zip file is an XLSX or ODS workbook rather than an archive of files.
pub(crate) fn is_workbook(path: &Path) -> Result<bool, ReadError> {
    let f = File::open(path).map_err(|e| ReadError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let z = zip::ZipArchive::new(f).map_err(|e| zip_err(path, e))?;
    let names: Vec<String> = z
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    Ok(names
        .iter()
        .any(|n| n == "[Content_Types].xml" || n == "mimetype"))
}

struct Member {
    name: String,
    reader: Reader,
    /// Keeps the extracted temporary file alive while it is read.
    _file: Extracted,
}

/// A member extracted to a temporary file: unlinked already and read through
/// `/proc/self/fd` (Linux), else removed when dropped.
enum Extracted {
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    Unlinked {
        _file: File,
    },
    Named {
        _file: tempfile::NamedTempFile,
    },
}

impl Extracted {
    /// Unlink the file now if it can still be opened by descriptor, and return the path to
    /// open it by. Workbooks keep their name: their reader chooses the format by extension.
    fn settle(tmp: tempfile::NamedTempFile, workbook: bool) -> (Extracted, PathBuf) {
        #[cfg(target_os = "linux")]
        if !workbook && Path::new("/proc/self/fd").is_dir() {
            use std::os::fd::AsRawFd;
            let (file, path) = tmp.into_parts();
            drop(path); // unlinks
            let by_fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
            return (Extracted::Unlinked { _file: file }, by_fd);
        }
        let _ = workbook;
        let path = tmp.path().to_path_buf();
        (Extracted::Named { _file: tmp }, path)
    }
}

/// Records of every member, table indices offset member after member.
pub(crate) struct ArchiveSource {
    members: Vec<Member>,
    current: usize,
    offset: usize,
    done_tables: Vec<TableInfo>,
    tables: Vec<TableInfo>,
}

/// Extract each member (within the limits of the whole archive) and open it with the format
/// it has.
pub(crate) fn open(
    path: &Path,
    opts: &ReadOptions,
    nesting: &Nesting,
) -> Result<(String, Box<dyn Source>), ReadError> {
    let io = |e| ReadError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let limits = opts.limits;
    if nesting.depth >= limits.max_depth {
        return Err(too_deep(path, limits));
    }
    let f = File::open(path).map_err(io)?;
    let compressed = f.metadata().map_err(io)?.len();
    let mut z = zip::ZipArchive::new(f).map_err(|e| zip_err(path, e))?;
    if z.len() > limits.max_members {
        return Err(ReadError::Format {
            path: path.to_path_buf(),
            problem: format!(
                "{} members, more than the {} an archive may hold (possible bomb)",
                z.len(),
                limits.max_members
            ),
        });
    }
    let budget = nesting.budget.clone().unwrap_or_else(|| {
        Arc::new(Budget {
            origin: compressed,
            spent: AtomicU64::new(0),
        })
    });
    let inner = Nesting {
        depth: nesting.depth + 1,
        budget: Some(budget.clone()),
    };
    let mut members = Vec::new();
    for i in 0..z.len() {
        let mut m = z.by_index(i).map_err(|e| zip_err(path, e))?;
        if m.is_dir() {
            continue;
        }
        let name = m
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("member_{}", i + 1));
        let shown = leaktrace_pii::display::escape(&name).into_owned();
        let ext = Path::new(&name)
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let mut tmp = tempfile::Builder::new()
            .suffix(&format!(".{ext}"))
            .tempfile()
            .map_err(io)?;
        let mut capped = Capped::new(&mut m, compressed, limits, Some(budget.clone()));
        io::copy(&mut capped, tmp.as_file_mut()).map_err(|e| ReadError::Format {
            path: path.to_path_buf(),
            problem: format!("member {shown}: {e}"),
        })?;
        drop(m);
        let workbook = matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods");
        let (held, at) = Extracted::settle(tmp, workbook);
        let reader = open_nested(&at, opts, &inner).map_err(|e| ReadError::Format {
            path: path.to_path_buf(),
            problem: format!("member {shown}: {}", strip_path(&e.to_string(), &at)),
        })?;
        members.push(Member {
            name,
            reader,
            _file: held,
        });
    }
    if members.is_empty() {
        return Err(ReadError::Empty {
            path: path.to_path_buf(),
        });
    }
    let format = format!("zip/{}", members[0].reader.info().format);
    let mut s = ArchiveSource {
        members,
        current: 0,
        offset: 0,
        done_tables: Vec::new(),
        tables: Vec::new(),
    };
    s.rebuild();
    Ok((format, Box::new(s)))
}

fn strip_path(msg: &str, tmp: &Path) -> String {
    msg.replace(&format!("{}: ", tmp.display()), "")
}

impl ArchiveSource {
    fn named(&self, m: &Member) -> Vec<TableInfo> {
        let t = m.reader.tables();
        t.iter()
            .map(|x| TableInfo {
                name: if t.len() == 1 {
                    m.name.clone()
                } else {
                    format!("{}:{}", m.name, x.name)
                },
                columns: x.columns.clone(),
            })
            .collect()
    }

    fn rebuild(&mut self) {
        let mut t = self.done_tables.clone();
        if let Some(m) = self.members.get(self.current) {
            t.extend(self.named(m));
        }
        self.tables = t;
    }
}

impl Source for ArchiveSource {
    fn next(&mut self) -> Option<Result<Record, ReadError>> {
        loop {
            let m = self.members.get_mut(self.current)?;
            match m.reader.next_record() {
                Some(Ok(mut r)) => {
                    r.table += self.offset;
                    let before = (
                        self.tables.len(),
                        self.tables.iter().map(|t| t.columns.len()).sum::<usize>(),
                    );
                    let cur = self.named(&self.members[self.current]);
                    let after = (
                        self.done_tables.len() + cur.len(),
                        self.done_tables
                            .iter()
                            .chain(&cur)
                            .map(|t| t.columns.len())
                            .sum::<usize>(),
                    );
                    if before != after {
                        self.rebuild();
                    }
                    return Some(Ok(r));
                }
                Some(Err(e)) => return Some(Err(e)),
                None => {
                    let finished = self.named(&self.members[self.current]);
                    self.offset += finished.len();
                    self.done_tables.extend(finished);
                    self.current += 1;
                    self.rebuild();
                }
            }
        }
    }

    fn tables(&self) -> &[TableInfo] {
        &self.tables
    }
}
