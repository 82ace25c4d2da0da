//! Zip archives (each member read as its own table(s)) and decompression limits against bombs.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::{open as open_file, Limits, ReadError, ReadOptions, Reader, Record, Source, TableInfo};

/// A reader that refuses to inflate beyond the [`Limits`].
pub(crate) struct Capped<R> {
    inner: R,
    compressed: u64,
    out: u64,
    limits: Limits,
}

impl<R> Capped<R> {
    pub(crate) fn new(inner: R, compressed: u64, limits: Limits) -> Capped<R> {
        Capped {
            inner,
            compressed: compressed.max(1),
            out: 0,
            limits,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.out > self.limits.max_bytes
            || (self.out > 64 << 20 && self.out / self.compressed > self.limits.max_ratio)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "decompressed data exceeds the limits ({}× the compressed size or {} GiB): possible zip bomb",
                    self.limits.max_ratio,
                    self.limits.max_bytes >> 30
                ),
            ));
        }
        Ok(n)
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
    _file: tempfile::NamedTempFile,
}

/// Records of every member, table indices offset member after member.
pub(crate) struct ArchiveSource {
    members: Vec<Member>,
    current: usize,
    offset: usize,
    done_tables: Vec<TableInfo>,
    tables: Vec<TableInfo>,
}

/// Extract each member (within the limits) and open it with the format it has.
pub(crate) fn open(
    path: &Path,
    opts: &ReadOptions,
) -> Result<(String, Box<dyn Source>), ReadError> {
    let io = |e| ReadError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let f = File::open(path).map_err(io)?;
    let compressed = f.metadata().map_err(io)?.len();
    let mut z = zip::ZipArchive::new(f).map_err(|e| zip_err(path, e))?;
    let mut members = Vec::new();
    let mut total = 0u64;
    for i in 0..z.len() {
        let mut m = z.by_index(i).map_err(|e| zip_err(path, e))?;
        if m.is_dir() {
            continue;
        }
        let name = m
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("member_{}", i + 1));
        let suffix = Path::new(&name)
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let mut tmp = tempfile::Builder::new()
            .suffix(&suffix)
            .tempfile()
            .map_err(io)?;
        let remaining = Limits {
            max_bytes: opts.limits.max_bytes.saturating_sub(total),
            ..opts.limits
        };
        let mut capped = Capped::new(&mut m, compressed, remaining);
        let n = io::copy(&mut capped, tmp.as_file_mut()).map_err(|e| ReadError::Format {
            path: path.to_path_buf(),
            problem: format!("member {name}: {e}"),
        })?;
        total += n;
        let reader = open_file(tmp.path(), opts).map_err(|e| ReadError::Format {
            path: path.to_path_buf(),
            problem: format!("member {name}: {}", strip_path(&e.to_string(), tmp.path())),
        })?;
        members.push(Member {
            name,
            reader,
            _file: tmp,
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
