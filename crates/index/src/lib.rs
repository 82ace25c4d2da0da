//! The keyed fingerprint index: what the organisation holds, without holding it twice.
//!
//! A *workspace* is a directory with a SQLite catalog (`catalog.sqlite`) and an `index/`
//! directory of immutable segments, one per enrolled snapshot of a source. Its secret key lives
//! in a separate file (mode 0600, outside the workspace by default); the catalog keeps only a key
//! check value, so a wrong key is refused.
//!
//! * [`Workspace::init`] / [`Workspace::open`]: create or open a workspace with its key.
//! * [`Workspace::enroll`]: read a file with `leaktrace-io`, type its columns with
//!   `leaktrace-scan`, fingerprint every row ([`Fingerprinter`]) and publish a [`Segment`]
//!   atomically (write, fsync, rename, then commit the catalog row).
//! * [`Workspace::sources`]: what is enrolled; [`Workspace::load`]: every segment, memory-mapped,
//!   for analysis, with the [`ContextKey`] that decrypts the segments' context attribute
//!   ([`context`]).

mod canonical;
mod catalog;
pub mod context;
mod enroll;
mod fanout;
pub mod fingerprint;
mod key;
pub mod postings;
pub mod profile;
mod remove;
pub mod segment;
mod verify;

use rayon::prelude::*;
use std::path::{Path, PathBuf};

pub use catalog::{AnalysisRecord, SnapshotInfo, SnapshotKind, SourceInfo};
pub use context::{month_label, month_number, ContextKey};
pub use enroll::{EnrollOptions, EnrollReport, Timings};
pub use fingerprint::{Cache, Domain, Fingerprinter, Fp, NameKind, RowPrints};
pub use key::{Key, KeyAccess, KeyFile, MAX_KEY_FILE_BYTES};
pub use postings::{Postings, PostingsIter};
pub use profile::{ColumnProfile, FormatProfile};
pub use remove::{parse_snapshot_ref, RemoveReport};
pub use segment::{Segment, SegmentMeta};

/// Errors from the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The reason is the source (shown once by `{:#}`, as the CLI prints errors).
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Key(String),
    #[error("catalog: {0}")]
    Catalog(rusqlite::Error),
    /// The catalog could not be read or written (disk full, I/O error, read-only or missing
    /// file): an input/output failure, whose reason is the source.
    #[error("catalog")]
    CatalogIo(#[source] std::io::Error),
    #[error("{0}")]
    Workspace(String),
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Read(#[from] leaktrace_io::ReadError),
    #[error("index format: {0}")]
    Format(String),
    #[error("index corrupt: {0}")]
    Corrupt(String),
}

impl From<rusqlite::Error> for IndexError {
    /// SQLite failures of the storage below the catalog become [`IndexError::CatalogIo`], so
    /// that they are reported (and exit) as I/O errors with their reason given once.
    fn from(e: rusqlite::Error) -> IndexError {
        use rusqlite::ErrorCode as C;
        use std::io::ErrorKind as K;
        let kind = match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                C::DiskFull => Some(K::StorageFull),
                C::SystemIoFailure => Some(K::Other),
                C::ReadOnly => Some(K::ReadOnlyFilesystem),
                C::PermissionDenied => Some(K::PermissionDenied),
                C::CannotOpen => Some(K::NotFound),
                _ => None,
            },
            _ => None,
        };
        match (kind, &e) {
            (Some(kind), rusqlite::Error::SqliteFailure(f, msg)) => {
                let what = msg.clone().unwrap_or_else(|| f.to_string());
                // The step that failed, for the commonest extended codes of SQLITE_IOERR.
                let step = match f.extended_code {
                    266 => "reading failed; ",
                    778 => "writing failed (disk full, quota or file size limit?); ",
                    1034 => "flushing to disk (fsync) failed; ",
                    _ => "",
                };
                IndexError::CatalogIo(std::io::Error::new(
                    kind,
                    format!("{what} ({step}SQLite code {})", f.extended_code),
                ))
            }
            _ => IndexError::Catalog(e),
        }
    }
}

impl IndexError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> IndexError {
        IndexError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// An open workspace: its catalog and key.
#[derive(Debug)]
pub struct Workspace {
    home: PathBuf,
    key: Key,
    catalog: catalog::Catalog,
    /// The key file's permission bits and the warning to show about them, if any.
    key_mode: Option<u32>,
    key_warning: Option<String>,
}

/// Every published segment of a workspace, with what the catalog says about it.
pub struct Index {
    pub snapshots: Vec<(SnapshotInfo, Segment)>,
    pub fingerprinter: Fingerprinter,
    /// Decrypts the segments' `context.bin` ([`Segment::context`]).
    pub context_key: ContextKey,
    /// The shared lock on `index/.readers` held while this view is alive: `sources remove`
    /// refuses to delete segments under it ([`Workspace::remove`]).
    _readers: Option<std::fs::File>,
}

impl Index {
    /// Size of every segment's files in bytes.
    pub fn bytes(&self) -> u64 {
        self.snapshots.iter().map(|(_, seg)| seg.bytes()).sum()
    }

    /// Before many lookups (an analysis): when the index takes at most half the memory
    /// available, ask the kernel to read it ahead and keep it resident with huge pages; a
    /// larger index stays on demand paging with random access. Returns whether it did.
    /// On a 10 M-person index this cuts linking time by about a fifth (bench/README.md).
    pub fn keep_resident(&self) -> bool {
        let fits = available_memory().is_some_and(|avail| 2 * self.bytes() <= avail);
        if fits {
            for (_, seg) in &self.snapshots {
                seg.keep_resident();
            }
        }
        fits
    }
}

/// Memory available for new work (Linux `MemAvailable`), in bytes.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("snapshots", &self.snapshots.len())
            .finish()
    }
}

/// A segment whose `meta.json` disagrees with the counts its catalog row recorded at
/// enrolment (an edited or swapped `meta.json`) is corrupt.
fn agrees_with_catalog(s: &SnapshotInfo, seg: Segment) -> Result<Segment, IndexError> {
    if seg.meta.persons != s.persons
        || seg.meta.fingerprints != s.fingerprints
        || seg.bytes() != s.segment_bytes
    {
        return Err(IndexError::Corrupt(format!(
            "{}: meta.json disagrees with the catalog (persons, fingerprints or size)",
            s.segment
        )));
    }
    Ok(seg)
}

/// Name the damaged snapshot and say what to do; other errors pass unchanged.
fn damaged(s: &SnapshotInfo, e: IndexError) -> IndexError {
    match e {
        IndexError::Corrupt(m) => IndexError::Corrupt(format!(
            "snapshot {}@{} is damaged: {m}. Nothing was analysed. Run `leaktrace sources \
             --verify` to check every snapshot, and enrol this one again (or restore the \
             workspace from a backup)",
            s.source, s.as_of
        )),
        // A segment file gone missing is damage too, not an I/O failure of the moment.
        IndexError::Io { path, source } if source.kind() == std::io::ErrorKind::NotFound => {
            damaged(
                s,
                IndexError::Corrupt(format!("{}: missing", path.display())),
            )
        }
        other => other,
    }
}

/// Where a workspace's key lives by default: outside the workspace, in the user's
/// configuration directory, named after the workspace id.
pub fn default_key_path(workspace_id: &str) -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("leaktrace").join(format!("{workspace_id}.key"))
}

impl Workspace {
    /// Create a workspace in `home` (which must not hold one). With `key_file` pointing at an
    /// existing key, that key is used; otherwise a new key is written to `key_file` (or the
    /// default path), refusing to overwrite any file. Returns the workspace and the key path.
    pub fn init(home: &Path, key_file: Option<&Path>) -> Result<(Workspace, PathBuf), IndexError> {
        Workspace::init_with(home, key_file, KeyAccess::OwnerOnly)
    }

    /// [`Workspace::init`], with the policy for an existing key file that others can read.
    pub fn init_with(
        home: &Path,
        key_file: Option<&Path>,
        access: KeyAccess,
    ) -> Result<(Workspace, PathBuf), IndexError> {
        if home.join("catalog.sqlite").exists() {
            return Err(IndexError::Workspace(format!(
                "{}: a workspace already exists here",
                home.display()
            )));
        }
        std::fs::create_dir_all(home.join("index")).map_err(|e| IndexError::io(home, e))?;
        let id = {
            let mut b = [0u8; 8];
            getrandom::fill(&mut b).map_err(|e| IndexError::Key(e.to_string()))?;
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        };
        let (loaded, key_path) = match key_file {
            Some(p) if p.exists() => (Key::load_checked(p, access)?, p.to_path_buf()),
            other => {
                let p = other.map_or_else(|| default_key_path(&id), Path::to_path_buf);
                if let Some(dir) = p.parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| IndexError::io(dir, e))?;
                    }
                }
                let k = Key::generate()?;
                k.save_new(&p)?;
                // Check what the file system made of mode 0600 (some ignore modes).
                let checked = Key::load_checked(&p, KeyAccess::AllowInsecure)?;
                (checked, p)
            }
        };
        let KeyFile {
            key,
            mode: key_mode,
            warning: key_warning,
        } = loaded;
        if key_path.starts_with(home) {
            // Allowed (tests, demos), but the operator should know.
            eprintln!(
                "warning: the key file {} is inside the workspace; keep keys apart from the index",
                key_path.display()
            );
        }
        let catalog =
            catalog::Catalog::create(&home.join("catalog.sqlite"), &id, &key.check_value())?;
        Ok((
            Workspace {
                home: home.to_path_buf(),
                key,
                catalog,
                key_mode,
                key_warning,
            },
            key_path,
        ))
    }

    /// Open an existing workspace with its key (`key_file`, else the default path). A key whose
    /// check value differs from the catalog's is refused.
    pub fn open(home: &Path, key_file: Option<&Path>) -> Result<Workspace, IndexError> {
        Workspace::open_with(home, key_file, KeyAccess::OwnerOnly)
    }

    /// [`Workspace::open`], with the policy for a key file that others can read.
    pub fn open_with(
        home: &Path,
        key_file: Option<&Path>,
        access: KeyAccess,
    ) -> Result<Workspace, IndexError> {
        let db = home.join("catalog.sqlite");
        if !db.exists() {
            return Err(IndexError::Workspace(format!(
                "{}: no leaktrace workspace here (run `leaktrace init` first)",
                home.display()
            )));
        }
        let catalog = catalog::Catalog::open(&db)?;
        let id = catalog.meta("workspace_id")?.unwrap_or_default();
        let path = key_file.map_or_else(|| default_key_path(&id), Path::to_path_buf);
        if !path.exists() {
            return Err(IndexError::Key(format!(
                "{}: key file not found (pass --key-file or set LEAKTRACE_KEY_FILE)",
                path.display()
            )));
        }
        let KeyFile {
            key,
            mode: key_mode,
            warning: key_warning,
        } = Key::load_checked(&path, access)?;
        if catalog.meta("key_check")?.as_deref() != Some(key.check_value().as_str()) {
            return Err(IndexError::Key(format!(
                "{}: wrong key for the workspace {} (its key check value differs)",
                path.display(),
                home.display()
            )));
        }
        Ok(Workspace {
            home: home.to_path_buf(),
            key,
            catalog,
            key_mode,
            key_warning,
        })
    }

    /// The key file's permission bits (Unix), as found when the workspace was opened.
    pub fn key_mode(&self) -> Option<u32> {
        self.key_mode
    }

    /// The warning to show about the key file (others can read it), if any.
    pub fn key_warning(&self) -> Option<&str> {
        self.key_warning.as_deref()
    }

    /// The workspace directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// A 32-byte key for another use, derived from the workspace key with BLAKE3's derive-key
    /// mode under `context` (a fixed string naming that use, distinct for each): the workspace
    /// key itself stays in this crate, and a derived key reveals nothing about it.
    pub fn derive_key(&self, context: &str) -> [u8; 32] {
        blake3::derive_key(context, self.key.as_bytes())
    }

    /// A fingerprinter with the workspace key.
    pub fn fingerprinter(&self) -> Fingerprinter {
        Fingerprinter::new(&self.key)
    }

    /// Record an analysis in the catalog's audit trail (its time is now). The key holder can
    /// test guessed values through `analyze`; the trail makes every such test visible to
    /// whoever audits the workspace (docs/index-format.md, threat model).
    pub fn record_analysis(&self, record: &AnalysisRecord) -> Result<(), IndexError> {
        let mut r = record.clone();
        r.at = catalog::now();
        self.catalog.add_analysis(&r)
    }

    /// The audit trail of analyses, oldest first.
    pub fn analyses(&self) -> Result<Vec<AnalysisRecord>, IndexError> {
        self.catalog.analyses()
    }

    /// Sources with their snapshots.
    pub fn sources(&self) -> Result<Vec<SourceInfo>, IndexError> {
        self.catalog.sources()
    }

    /// Open every published segment (a consistent view: the catalog is read in one
    /// transaction, and published segments never change). `verify` checks every file's
    /// checksum before anything is used (analysis does; see bench/README.md for the cost).
    /// Sizes, the counts the catalog recorded and the authenticated ids are always checked; a
    /// damaged segment is an [`IndexError::Corrupt`] naming the snapshot and the file, with
    /// what to do.
    pub fn load(&self, verify: bool) -> Result<Index, IndexError> {
        let readers = self.readers_lock(false)?;
        let snaps = self.catalog.snapshots()?;
        let context_key = ContextKey::new(&self.key);
        let index_dir = self.home.join("index");
        // Segments open in parallel; the first damaged one in catalog order is reported.
        let opened: Vec<Result<(SnapshotInfo, Segment), IndexError>> = snaps
            .into_par_iter()
            .map(|s| {
                let dir = index_dir.join(&s.segment);
                match Segment::open(&dir, &context_key, verify)
                    .and_then(|seg| agrees_with_catalog(&s, seg))
                {
                    Ok(seg) => Ok((s, seg)),
                    Err(e) => Err(damaged(&s, e)),
                }
            })
            .collect();
        let out = opened.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(Index {
            snapshots: out,
            fingerprinter: self.fingerprinter(),
            context_key,
            _readers: readers,
        })
    }
}
