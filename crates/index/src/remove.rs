//! Removing a snapshot enrolled by mistake (`leaktrace sources remove SOURCE[@DATE]`): one
//! catalog transaction (the removal is published by its commit, like an enrolment), then the
//! segments no catalog row points to are garbage-collected. Refused while an analysis reads
//! the index: [`Workspace::load`] holds a shared lock on `index/.readers`, removal needs it
//! exclusively.

use std::fs;
use std::path::Path;

use crate::{IndexError, SnapshotInfo, Workspace};

/// What [`Workspace::remove`] removed.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoveReport {
    /// The snapshots removed from the catalog.
    pub snapshots: Vec<SnapshotInfo>,
    /// Bytes of segment files freed.
    pub bytes_freed: u64,
}

/// Split `SOURCE[@YYYY-MM-DD]` (the last `@`), checking the date.
pub fn parse_snapshot_ref(s: &str) -> Result<(String, Option<String>), IndexError> {
    let (source, date) = match s.rsplit_once('@') {
        Some((src, d)) => (src, Some(d)),
        None => (s, None),
    };
    if source.trim().is_empty() {
        return Err(IndexError::Input(format!(
            "{s:?}: give SOURCE or SOURCE@YYYY-MM-DD"
        )));
    }
    if let Some(d) = date {
        let iso = leaktrace_pii::date::parse(d).map(|x| x.iso());
        if iso.as_deref() != Some(d) {
            return Err(IndexError::Input(format!(
                "{s:?}: the snapshot date must be YYYY-MM-DD (as `leaktrace sources` lists it)"
            )));
        }
    }
    Ok((source.to_string(), date.map(str::to_string)))
}

fn open_lock(path: &Path) -> Result<fs::File, IndexError> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| IndexError::io(path, e))
}

impl Workspace {
    /// The lock on `index/.readers`: shared for a reader (blocks only during a removal's
    /// commit), exclusive without waiting for a removal (an error while any reader holds it).
    pub(crate) fn readers_lock(&self, exclusive: bool) -> Result<Option<fs::File>, IndexError> {
        let path = self.home.join("index").join(".readers");
        let file = match open_lock(&path) {
            Ok(f) => f,
            // A read-only workspace (a copy on read-only media) has no lock to take.
            Err(IndexError::Io { source, .. })
                if !exclusive && source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        if !exclusive {
            file.lock_shared().map_err(|e| IndexError::io(&path, e))?;
            return Ok(Some(file));
        }
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(fs::TryLockError::WouldBlock) => Err(IndexError::Workspace(format!(
                "{}: an analysis (or `sources --verify`) is reading the index; nothing was removed, try again when it has finished",
                self.home.display()
            ))),
            Err(fs::TryLockError::Error(e)) => Err(IndexError::io(&path, e)),
        }
    }

    /// Remove every snapshot of `source`, or only the one `as_of`: refused while an analysis
    /// reads the index; the catalog commit publishes the removal (a kill before it changes
    /// nothing), then the orphaned segments are deleted (a kill during that leaves files the
    /// next enrolment or removal collects). The source disappears with its last snapshot.
    pub fn remove(
        &mut self,
        source: &str,
        as_of: Option<&str>,
    ) -> Result<RemoveReport, IndexError> {
        let lock_path = self.home.join("index").join(".lock");
        let writer = open_lock(&lock_path)?;
        writer.lock().map_err(|e| IndexError::io(&lock_path, e))?;
        let _readers = self.readers_lock(true)?;
        let removed = self.catalog.remove_snapshots(source, as_of)?;
        if removed.is_empty() {
            let known: Vec<String> = self
                .catalog
                .snapshots()?
                .into_iter()
                .filter(|s| s.source == source)
                .map(|s| s.as_of)
                .collect();
            let what = as_of.map_or_else(|| source.to_string(), |d| format!("{source}@{d}"));
            return Err(IndexError::Input(if known.is_empty() {
                format!("{what}: no such source is enrolled (see `leaktrace sources`)")
            } else {
                format!(
                    "{what}: no such snapshot; {source} has {}",
                    known.join(", ")
                )
            }));
        }
        let bytes_freed = removed
            .iter()
            .map(|s| dir_bytes(&self.home.join("index").join(&s.segment)))
            .sum();
        self.collect_garbage()?;
        Ok(RemoveReport {
            snapshots: removed,
            bytes_freed,
        })
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Snapshot references accepted (source, date) and refused.
    const REFS: &[(&str, Option<(&str, Option<&str>)>)] = &[
        ("website", Some(("website", None))),
        ("website@2024-03-01", Some(("website", Some("2024-03-01")))),
        (
            "canary:website@2024-03-01",
            Some(("canary:website", Some("2024-03-01"))),
        ),
        ("website@2024-3-1", None),
        ("website@01/03/2024", None),
        ("website@2024-02-30", None),
        ("@2024-03-01", None),
        ("", None),
    ];

    #[test]
    fn snapshot_refs_table() {
        for (input, want) in REFS {
            let got = parse_snapshot_ref(input).ok();
            let want = want.map(|(s, d)| (s.to_string(), d.map(str::to_string)));
            assert_eq!(got, want, "{input:?}");
        }
    }
}
