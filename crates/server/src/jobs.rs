//! Analyses as background jobs: one at a time (they use every core), on a blocking thread,
//! `leaktrace_analyze::analyze` then `write_outputs` and `leaktrace_report::write_report` into a
//! temporary directory renamed to `report/` once complete — nothing half-written is ever shown.
//! Live progress (phase, rows linked) is kept in memory for server-sent events; the status is
//! in the catalog, so a job a stopped server left behind is marked `interrupted` at the next
//! start and can be rerun. A cancel raises the job's stop flag, which the analysis checks
//! between batches of rows ([`leaktrace_analyze::AnalyzeOptions::stop`]); its results are
//! discarded.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::audit::Action;
use crate::store::IncidentRow;
use crate::{AppState, IncidentFields, ServerError};

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Queued,
    Loading,
    Linking,
    Writing,
    Done,
    Failed,
    Cancelled,
    Interrupted,
}

impl Phase {
    /// The stable name (also the job's status in the catalog).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Loading => "loading",
            Phase::Linking => "linking",
            Phase::Writing => "writing",
            Phase::Done => "done",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
            Phase::Interrupted => "interrupted",
        }
    }

    /// Parse a stable name (`running` — the catalog's word for the live phases — reads as
    /// linking).
    pub fn parse(s: &str) -> Phase {
        match s {
            "queued" => Phase::Queued,
            "loading" => Phase::Loading,
            "running" | "linking" => Phase::Linking,
            "writing" => Phase::Writing,
            "done" => Phase::Done,
            "failed" => Phase::Failed,
            "cancelled" => Phase::Cancelled,
            _ => Phase::Interrupted,
        }
    }

    /// Whether the job has ended.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Phase::Done | Phase::Failed | Phase::Cancelled | Phase::Interrupted
        )
    }

    fn catalog_status(self) -> &'static str {
        match self {
            Phase::Loading | Phase::Linking | Phase::Writing => "running",
            other => other.as_str(),
        }
    }
}

/// A running job's live state.
#[derive(Debug)]
pub struct Live {
    pub rows: AtomicU64,
    /// Bytes of the evidence read so far (sampled while the rows are read and linked).
    pub bytes_read: AtomicU64,
    /// The evidence file's size.
    pub bytes_total: u64,
    /// Estimated seconds left in the reading pass (`u64::MAX`: no estimate).
    pub eta: AtomicU64,
    phase: Mutex<Phase>,
    /// Raised by a cancel; the analysis checks it between batches of rows.
    pub cancel: Arc<AtomicBool>,
    pub error: Mutex<Option<String>>,
}

impl Live {
    /// The current phase.
    pub fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, p: Phase) {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner()) = p;
    }
}

/// The one-at-a-time gate of analyses and enrolments (a semaphore of one permit).
pub type Gate = Arc<tokio::sync::Semaphore>;

/// Wait for the gate from a thread outside the service's runtime (the folder watcher of
/// `leaktrace serve --watch`); the gate is released when the permit is dropped. `None` if the
/// gate was closed.
pub fn acquire_blocking(gate: &Gate) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let rt = tokio::runtime::Builder::new_current_thread().build().ok()?;
    rt.block_on(gate.clone().acquire_owned()).ok()
}

/// The live jobs of this server, by job id, and the one-at-a-time gate.
#[derive(Debug)]
pub struct Jobs {
    live: Mutex<HashMap<i64, Arc<Live>>>,
    gate: Arc<tokio::sync::Semaphore>,
}

impl Default for Jobs {
    fn default() -> Jobs {
        Jobs {
            live: Mutex::new(HashMap::new()),
            gate: Arc::new(tokio::sync::Semaphore::new(1)),
        }
    }
}

impl Jobs {
    /// The one-at-a-time gate shared by analyses and enrolments.
    pub fn gate(&self) -> Gate {
        self.gate.clone()
    }

    /// A live job, if this server runs it.
    pub fn get(&self, id: i64) -> Option<Arc<Live>> {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }
}

/// Progress as the API and the events stream show it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Progress {
    pub job: i64,
    pub phase: Phase,
    pub rows: u64,
    /// Bytes of the evidence read (0 when not running here).
    pub bytes_read: u64,
    pub bytes_total: u64,
    /// Estimated seconds left while the rows are read ([`crate::eta`]).
    pub eta_seconds: Option<u64>,
    pub error: Option<String>,
}

/// The progress of a job: live if running here, else from the catalog.
pub fn progress(state: &AppState, job: i64) -> Result<Option<Progress>, ServerError> {
    if let Some(l) = state.jobs.get(job) {
        let eta = l.eta.load(Ordering::Relaxed);
        return Ok(Some(Progress {
            job,
            phase: l.phase(),
            rows: l.rows.load(Ordering::Relaxed),
            bytes_read: l.bytes_read.load(Ordering::Relaxed),
            bytes_total: l.bytes_total,
            eta_seconds: (eta != u64::MAX && l.phase() == Phase::Linking).then_some(eta),
            error: l.error.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }));
    }
    Ok(state.store().job(job)?.map(|j| Progress {
        job,
        phase: Phase::parse(&j.status),
        rows: j.rows.max(0) as u64,
        bytes_read: 0,
        bytes_total: 0,
        eta_seconds: None,
        error: j.error,
    }))
}

/// Queue an analysis of an incident; returns the job id.
pub fn start(
    state: &Arc<AppState>,
    incident: &IncidentRow,
    user: &str,
) -> Result<i64, ServerError> {
    let job = state.store().add_job(incident.number, user)?;
    let live = Arc::new(Live {
        rows: AtomicU64::new(0),
        bytes_read: AtomicU64::new(0),
        bytes_total: incident.file_bytes.max(0) as u64,
        eta: AtomicU64::new(u64::MAX),
        phase: Mutex::new(Phase::Queued),
        cancel: Arc::new(AtomicBool::new(false)),
        error: Mutex::new(None),
    });
    state
        .jobs
        .live
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(job, live.clone());
    state.audit(
        user,
        Action::AnalysisStarted,
        &format!("incident:{}/job:{job}", incident.id),
    );
    let state = state.clone();
    let incident = incident.clone();
    let user = user.to_string();
    tokio::spawn(async move {
        let permit = state.jobs.gate.clone().acquire_owned().await;
        let st = state.clone();
        let lv = live.clone();
        let inc = incident.clone();
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            run(&st, &inc, job, &lv)
        })
        .await
        .unwrap_or_else(|e| Err(format!("the analysis stopped unexpectedly: {e}")));
        finish(&state, &incident, job, &user, &live, result);
    });
    Ok(job)
}

fn finish(
    state: &AppState,
    incident: &IncidentRow,
    job: i64,
    user: &str,
    live: &Live,
    result: Result<(), String>,
) {
    let rows = live.rows.load(Ordering::Relaxed);
    let object = format!("incident:{}/job:{job}", incident.id);
    let (phase, action, error) = match result {
        _ if live.cancel.load(Ordering::Relaxed) => {
            (Phase::Cancelled, Action::AnalysisCancelled, None)
        }
        Ok(()) => (Phase::Done, Action::AnalysisFinished, None),
        Err(e) => (Phase::Failed, Action::AnalysisFailed, Some(e)),
    };
    *live.error.lock().unwrap_or_else(|p| p.into_inner()) = error.clone();
    {
        let s = state.store();
        let mut ok = s.set_job(job, phase.catalog_status(), rows, error.as_deref());
        if ok.is_ok() && phase == Phase::Done {
            ok = s
                .add_status(incident.number, "analysed", &crate::now_iso(), user)
                .map(|_| ());
        }
        if let Err(e) = ok {
            eprintln!("leaktrace serve: job {job}: {e}");
        }
    }
    state.audit(user, action, &object);
    live.set(phase);
    state
        .jobs
        .live
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&job);
}

/// The analysis itself (blocking thread). Errors are messages fit to show: they name the
/// evidence file, never a value.
fn run(state: &AppState, incident: &IncidentRow, job: i64, live: &Live) -> Result<(), String> {
    if live.cancel.load(Ordering::Relaxed) {
        return Ok(());
    }
    let set = |p: Phase| {
        live.set(p);
        let _ = state.store().set_job(
            job,
            p.catalog_status(),
            live.rows.load(Ordering::Relaxed),
            None,
        );
    };
    set(Phase::Loading);
    let c = &state.config;
    let evidence = crate::upload::evidence_path(state, &incident.id);
    if !evidence.exists() {
        return Err("the evidence file is no longer on the server; upload it again".into());
    }
    let ws = leaktrace_index::Workspace::open(&c.home, c.key_file.as_deref())
        .map_err(|e| e.to_string())?;
    // Checked as the CLI's analysis checks it: a damaged segment stops the job, naming it.
    let index = ws.load(true).map_err(|e| e.to_string())?;
    set(Phase::Linking);
    let opts = leaktrace_analyze::AnalyzeOptions {
        stop: Some(live.cancel.clone()),
        ..Default::default()
    };
    let shown = |e: &dyn std::fmt::Display| {
        e.to_string()
            .replace(&evidence.display().to_string(), "evidence")
    };
    let analysed = sample_reads(live, &evidence, || {
        leaktrace_analyze::analyze(&index, &evidence, &opts, &|n| {
            live.rows.store(n, Ordering::Relaxed)
        })
    });
    let (mut analysis, links) = match analysed {
        Ok(r) => r,
        // Cancelled mid-pass: `finish` sees the raised flag.
        Err(leaktrace_analyze::AnalyzeError::Stopped) => return Ok(()),
        Err(e) => return Err(shown(&e)),
    };
    if live.cancel.load(Ordering::Relaxed) {
        return Ok(());
    }
    // The file on disk has a random name; the report names the file as uploaded.
    analysis.file.name = incident.file_name.clone();
    set(Phase::Writing);
    let fields: IncidentFields = serde_json::from_str(&incident.fields).unwrap_or_default();
    let dir = crate::upload::incident_dir(state, &incident.id);
    let tmp = dir.join(format!("report.tmp-{job}"));
    let _ = std::fs::remove_dir_all(&tmp);
    let write = || -> Result<(), String> {
        leaktrace_analyze::write_outputs(&tmp, &analysis, &links).map_err(|e| shown(&e))?;
        let inc = fields.to_incident(&incident.discovered_at);
        leaktrace_report::write_report(&tmp, &analysis, &inc, None).map_err(|e| shown(&e))?;
        Ok(())
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if live.cancel.load(Ordering::Relaxed) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Ok(());
    }
    publish(&dir, &tmp, job).map_err(|e| e.to_string())?;
    // The leaked file held personal data in clear: once analysed, only its hash stays.
    let _ = std::fs::remove_file(&evidence);
    Ok(())
}

/// How often the reading pass's offset is sampled for the ETA.
const SAMPLE_PERIOD: std::time::Duration = std::time::Duration::from_millis(500);

/// Run `f` while a thread samples how far the evidence is read, for the progress's ETA.
fn sample_reads<T>(live: &Live, evidence: &Path, f: impl FnOnce() -> T) -> T {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let started = std::time::Instant::now();
            while !done.load(Ordering::Relaxed) {
                if let Some(read) = crate::eta::read_offset(evidence) {
                    // A second pass (the file's hash) starts over: keep the furthest.
                    let read = read.min(live.bytes_total);
                    let read = live.bytes_read.fetch_max(read, Ordering::Relaxed).max(read);
                    let eta = crate::eta::eta_seconds(started.elapsed(), read, live.bytes_total);
                    live.eta.store(eta.unwrap_or(u64::MAX), Ordering::Relaxed);
                }
                std::thread::park_timeout(SAMPLE_PERIOD);
            }
        });
        let out = f();
        done.store(true, Ordering::Relaxed);
        sampler.thread().unpark();
        out
    })
}

/// Put a complete output directory in place of `report/` (two renames; the old one removed).
fn publish(dir: &Path, tmp: &Path, job: i64) -> Result<(), ServerError> {
    let report = dir.join("report");
    let old = dir.join(format!("report.old-{job}"));
    if report.exists() {
        std::fs::rename(&report, &old).map_err(|e| ServerError::io(&report, e))?;
    }
    std::fs::rename(tmp, &report).map_err(|e| ServerError::io(&report, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Ask a live job to stop; false when no job of this server is running for it.
pub fn cancel(state: &AppState, job: i64) -> bool {
    match state.jobs.get(job) {
        Some(l) => {
            l.cancel.store(true, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_round_trip_and_terminal_ones_are_known() {
        for p in [
            Phase::Queued,
            Phase::Loading,
            Phase::Linking,
            Phase::Writing,
            Phase::Done,
            Phase::Failed,
            Phase::Cancelled,
            Phase::Interrupted,
        ] {
            assert_eq!(Phase::parse(p.as_str()), p);
            let stored = Phase::parse(p.catalog_status());
            assert_eq!(stored.is_terminal(), p.is_terminal(), "{p:?}");
        }
        assert_eq!(Phase::parse("running"), Phase::Linking);
    }
}
