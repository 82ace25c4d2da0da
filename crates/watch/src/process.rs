//! One landed file: hashed (streamed SHA-256), looked up by content, analysed once, handed to
//! the incident service as an incident (unless the verdict is `not_ours`), compared with the
//! earlier incidents' persons (re-appearance), then alerted.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use leaktrace_analyze::Status;
use leaktrace_server::intake::{Handover, Intake};

use crate::alert::{self, Alert, AlertKind, Reappearance};
use crate::state::{FileStatus, State};
use crate::{Config, Outcome, WatchError};

/// The user the watcher acts as in the service's tables and audit trail.
pub const WATCH_USER: &str = "watch";
/// Fewest persons shared with an earlier incident for a file to be reported as its
/// re-appearance.
pub const REAPPEARANCE_MIN_PERSONS: u64 = 3;
/// Read buffer of the streamed hash.
const HASH_BUF: usize = 1 << 20;

/// SHA-256 (hex) and size of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<(String, u64), WatchError> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path).map_err(|e| WatchError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; HASH_BUF];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(|e| WatchError::io(path, e))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((crate::hex(&h.finalize()), n))
}

/// What happened to a landed file.
#[derive(Debug, Clone, PartialEq)]
pub enum Landed {
    /// A content already handled: nothing new done (its status).
    Known(FileStatus),
    /// Analysed now; its status after the alerts.
    Analysed(FileStatus),
}

/// A landed file's content hash and what happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    pub sha256: String,
    pub landed: Landed,
}

/// Handle one landed file end to end.
pub fn handle(
    cfg: &Config,
    ws: &leaktrace_index::Workspace,
    state: &mut State,
    path: &Path,
) -> Result<Handled, WatchError> {
    let (sha, bytes) = sha256_file(path)?;
    let landed = handle_content(cfg, ws, state, path, &sha, bytes)?;
    Ok(Handled {
        sha256: sha,
        landed,
    })
}

fn handle_content(
    cfg: &Config,
    ws: &leaktrace_index::Workspace,
    state: &mut State,
    path: &Path,
    sha: &str,
    bytes: u64,
) -> Result<Landed, WatchError> {
    let sha = sha.to_string();
    let known = state.file(&sha)?;
    let row = state.sighted(&sha, bytes, known.is_some())?;
    if !row.status.needs_analysis() {
        if row.status == FileStatus::Analysed {
            send_pending(cfg, state, &sha)?;
        }
        return Ok(Landed::Known(row.status));
    }
    let permit = match &cfg.gate {
        Some(g) => Some(
            leaktrace_server::jobs::acquire_blocking(g)
                .ok_or_else(|| WatchError::State("the service's analysis gate is closed".into()))?,
        ),
        None => None,
    };
    state.set_status(&sha, FileStatus::Analysing)?;
    let analysed = analyse(cfg, ws, state, path, &sha, bytes);
    drop(permit);
    let status = match analysed {
        Ok(s) => s,
        Err(e @ WatchError::Changed(_)) => {
            state.set_status(&sha, FileStatus::Seen)?;
            return Err(e);
        }
        Err(e) => {
            let outcome = serde_json::json!({ "error": e.to_string() }).to_string();
            state.analysed(&sha, FileStatus::Failed, &outcome, &[])?;
            return Err(e);
        }
    };
    if status == FileStatus::Analysed {
        send_pending(cfg, state, &sha)?;
    }
    Ok(Landed::Analysed(
        state.file(&sha)?.map_or(status, |r| r.status),
    ))
}

fn analyse(
    cfg: &Config,
    ws: &leaktrace_index::Workspace,
    state: &mut State,
    path: &Path,
    sha: &str,
    bytes: u64,
) -> Result<FileStatus, WatchError> {
    // Every segment checked before its data is used, as `leaktrace analyze` does.
    let index = ws.load(true)?;
    let opts = leaktrace_analyze::AnalyzeOptions::default();
    let (mut analysis, links) = leaktrace_analyze::analyze(&index, path, &opts, &|_| {})?;
    if analysis.file.sha256 != sha {
        return Err(WatchError::Changed(path.display().to_string()));
    }
    let label = leaktrace_server::upload::label_of(&path.to_string_lossy());
    analysis.file.name = label.clone();
    let verdict = analysis.verdict.status;
    if verdict == Status::NotOurs {
        let outcome = serde_json::json!({ "verdict": verdict.as_str() }).to_string();
        state.analysed(sha, FileStatus::NotOurs, &outcome, &[])?;
        return Ok(FileStatus::NotOurs);
    }
    let staging = cfg.home.join("watch").join(format!("staging-{sha}"));
    let _ = std::fs::remove_dir_all(&staging);
    let discovered_at = leaktrace_server::now_iso();
    let fields = leaktrace_server::IncidentFields::default();
    leaktrace_analyze::write_outputs(&staging, &analysis, &links)?;
    leaktrace_report::write_report(
        &staging,
        &analysis,
        &fields.to_incident(&discovered_at),
        None,
    )?;
    let mut intake = Intake::open(&cfg.home)?;
    let earlier = intake.analysed_incidents()?;
    let row = intake.open_incident(
        &Handover {
            file_name: &label,
            file_bytes: bytes,
            sha256: sha,
            discovered_at: &discovered_at,
            rows: analysis.file.rows,
            report: &staging,
        },
        WATCH_USER,
    )?;
    let persons: HashSet<String> = analysis.affected.iter().map(|(p, _)| p.clone()).collect();
    let reappearance = reappearance(cfg, &intake, &earlier, row.number, &persons)?;
    let outcome = Outcome {
        verdict: verdict.as_str().to_string(),
        confidence: analysis.verdict.confidence,
        rows: analysis.file.rows,
        rows_linked: analysis.linkage.rows_linked,
        persons_affected: analysis.linkage.persons_affected,
        incident: row.number,
        incident_url: cfg.incident_url(&row.id),
        reappearance,
    };
    let key = alert::idempotency_key(sha, AlertKind::IncidentOpened);
    let deliveries: Vec<_> = cfg
        .channels
        .list()
        .into_iter()
        .map(|c| (c, key.clone()))
        .collect();
    let json = serde_json::to_string(&outcome).map_err(|e| WatchError::State(e.to_string()))?;
    state.analysed(sha, FileStatus::Analysed, &json, &deliveries)?;
    Ok(FileStatus::Analysed)
}

/// The person ids of an incident's `affected_persons.csv`.
pub fn persons_of(report: &Path) -> Result<HashSet<String>, WatchError> {
    let path = report.join("affected_persons.csv");
    let mut r = csv::Reader::from_path(&path).map_err(|e| WatchError::Report {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let mut out = HashSet::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| WatchError::Report {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if let Some(id) = rec.get(0) {
            out.insert(id.to_string());
        }
    }
    Ok(out)
}

/// Overlap figures of `new` against an earlier incident's persons.
pub fn overlap(earlier: &HashSet<String>, new: &HashSet<String>) -> (u64, f64, u64) {
    let again = new.intersection(earlier).count() as u64;
    let share = if earlier.is_empty() {
        0.0
    } else {
        again as f64 / earlier.len() as f64
    };
    (again, share, new.len() as u64 - again)
}

/// The earlier incident sharing the most persons with this file, if it shares at least
/// [`REAPPEARANCE_MIN_PERSONS`].
fn reappearance(
    cfg: &Config,
    intake: &Intake,
    earlier: &[leaktrace_server::store::IncidentRow],
    this: i64,
    persons: &HashSet<String>,
) -> Result<Option<Reappearance>, WatchError> {
    let mut best: Option<Reappearance> = None;
    for inc in earlier.iter().filter(|i| i.number != this) {
        let theirs = match persons_of(&intake.report_dir(&inc.id)) {
            Ok(p) => p,
            Err(e) => {
                eprintln!(
                    "leaktrace watch: incident #{} skipped for re-appearance: {e}",
                    inc.number
                );
                continue;
            }
        };
        let (again, share, new_persons) = overlap(&theirs, persons);
        if again < REAPPEARANCE_MIN_PERSONS
            || best
                .as_ref()
                .is_some_and(|b| b.persons_found_again >= again)
        {
            continue;
        }
        best = Some(Reappearance {
            incident: inc.number,
            incident_url: cfg.incident_url(&inc.id),
            persons_found_again: again,
            share_found_again: (share * 10_000.0).round() / 10_000.0,
            new_persons,
        });
    }
    Ok(best)
}

/// Deliver the alerts of an analysed file not delivered yet; `alerted` once all are.
pub fn send_pending(cfg: &Config, state: &State, sha: &str) -> Result<bool, WatchError> {
    let Some(row) = state.file(sha)? else {
        return Ok(false);
    };
    if row.status != FileStatus::Analysed {
        return Ok(row.status == FileStatus::Alerted);
    }
    let outcome: Outcome = row
        .outcome
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| WatchError::State(format!("file {sha}: no outcome recorded")))?;
    let mut all = true;
    for d in state.deliveries(sha)?.into_iter().filter(|d| !d.delivered) {
        let a = Alert {
            kind: AlertKind::IncidentOpened,
            idempotency_key: &d.key,
            file_sha256: sha,
            file_bytes: row.bytes.max(0) as u64,
            outcome: &outcome,
        };
        let mut record = |r: Result<(), &str>| state.attempt(sha, &d.channel, r);
        all &= alert::deliver(&cfg.channels, &d.channel, &a, &mut record)?;
    }
    if all {
        state.set_status(sha, FileStatus::Alerted)?;
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_counts_share_of_the_earlier_incident() {
        let set = |r: std::ops::Range<u32>| r.map(|i| i.to_string()).collect::<HashSet<_>>();
        let (again, share, new) = overlap(&set(0..100), &set(90..130));
        assert_eq!((again, new), (10, 30));
        assert!((share - 0.10).abs() < 1e-12);
        assert_eq!(overlap(&HashSet::new(), &set(0..3)), (0, 0.0, 3));
    }
}
