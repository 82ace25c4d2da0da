//! `leaktrace audit export --incident N --out FILE`: one zip archive for legal proceedings —
//! the incident's outputs (report, drafts, lists), `manifest.json` with the evidence hash, the
//! timeline, the SHA-256 of every file in the archive, the incident's audit entries with their
//! chain hashes, and the result of verifying the whole chain at export time.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, Action, Entry};
use crate::store::{IncidentRow, StatusRow};
use crate::{ServerError, Store};

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    pub path: PathBuf,
    pub files: usize,
    pub audit_entries: usize,
    pub chain_ok: bool,
}

#[derive(Serialize)]
struct FileHash {
    name: String,
    bytes: u64,
    sha256: String,
}

#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    exported_at: String,
    incident: &'a IncidentRow,
    evidence_sha256: &'a str,
    timeline: &'a [StatusRow],
    files: Vec<FileHash>,
    audit: &'a [Entry],
    chain: serde_json::Value,
}

/// Export incident number `number` of the workspace at `home` to `out` (written to a temporary
/// file beside it, then renamed). The export itself is audited (user `cli`).
pub fn export_incident(home: &Path, number: i64, out: &Path) -> Result<Exported, ServerError> {
    let mut store = Store::open(home)?;
    let row = store
        .incident_by_number(number)?
        .ok_or_else(|| ServerError::Input(format!("no incident #{number}")))?;
    let timeline = store.statuses(row.number)?;
    let object = format!("incident:{}", row.id);
    audit::append(
        &mut store.conn,
        "cli",
        Action::Export,
        &format!("{object}/export"),
    )?;
    let entries = audit::entries(&store.conn, Some(&object))?;
    let chain = match audit::verify(&store.conn)? {
        Ok(v) => serde_json::json!({"ok": true, "entries": v.entries, "head": v.head}),
        Err(e) => {
            serde_json::json!({"ok": false, "first_bad_entry": e.entry(), "message": e.to_string()})
        }
    };
    let chain_ok = chain["ok"] == serde_json::Value::Bool(true);
    let dir = home.join("server").join("incidents").join(&row.id);
    // The analysis' outputs, and the drafts as the analysts edited them (every version).
    let mut files = archive_files(&dir.join("report"), "outputs")?;
    files.extend(archive_files(&dir.join("drafts"), "drafts")?);
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let hashes = files
        .iter()
        .map(|(n, b)| FileHash {
            name: n.clone(),
            bytes: b.len() as u64,
            sha256: audit::hex(&Sha256::digest(b)),
        })
        .collect();
    let manifest = Manifest {
        format: "leaktrace-incident-export/1",
        exported_at: crate::now_iso(),
        incident: &row,
        evidence_sha256: &row.sha256,
        timeline: &timeline,
        files: hashes,
        audit: &entries,
        chain,
    };
    let json =
        serde_json::to_vec_pretty(&manifest).map_err(|e| ServerError::Input(e.to_string()))?;
    let tmp = out.with_extension("zip.tmp");
    let f = std::fs::File::create(&tmp).map_err(|e| ServerError::io(&tmp, e))?;
    let mut zip = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("manifest.json", opts)?;
    zip.write_all(&json).map_err(|e| ServerError::io(&tmp, e))?;
    for (n, b) in &files {
        zip.start_file(n.as_str(), opts)?;
        zip.write_all(b).map_err(|e| ServerError::io(&tmp, e))?;
    }
    let f = zip.finish()?;
    f.sync_all().map_err(|e| ServerError::io(&tmp, e))?;
    std::fs::rename(&tmp, out).map_err(|e| ServerError::io(out, e))?;
    Ok(Exported {
        path: out.to_path_buf(),
        files: files.len(),
        audit_entries: entries.len(),
        chain_ok,
    })
}

/// The regular files of `dir` (none if it does not exist), named `prefix/name` in the archive.
fn archive_files(dir: &Path, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, ServerError> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(files);
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name.ends_with(".tmp") || !e.path().is_file() {
            continue;
        }
        let bytes = std::fs::read(e.path()).map_err(|err| ServerError::io(&e.path(), err))?;
        files.push((format!("{prefix}/{name}"), bytes));
    }
    Ok(files)
}
