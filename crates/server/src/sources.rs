//! The enrolled sources and enrolment from the browser (admins): the list `leaktrace sources`
//! prints (snapshots with rows, persons, segment size and format profile), and an upload form
//! (file, source, as-of date, recipient) that runs `Workspace::enroll` as a background job
//! through the same one-at-a-time gate as the analyses. The uploaded file is personal data in
//! clear: it is streamed to `<home>/server/uploads/` under a random name and removed as soon as
//! its enrolment ends, whatever the outcome (and at the next start if the server stopped).
//! Enrolment jobs are kept in memory: the catalog records the snapshots they enrol and the audit
//! trail their start and end.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::Multipart;
use serde::Serialize;

use crate::audit::Action;
use crate::error::{ApiError, ErrorCode};
use crate::jobs::Phase;
use crate::upload::{self, Partial};
use crate::AppState;

/// Longest source or recipient name accepted, in characters.
pub const NAME_MAX: usize = 80;
/// Enrolment jobs remembered for the sources page (the newest).
const KEPT: usize = 50;

/// One enrolment job.
#[derive(Debug, Serialize)]
pub struct Enrolment {
    pub id: u64,
    pub source: String,
    pub recipient: Option<String>,
    pub as_of: String,
    /// The uploaded file's name, as a label only.
    pub file_name: String,
    pub file_bytes: u64,
    pub by: String,
    pub started_at: String,
    /// Rows read so far.
    pub rows: AtomicU64,
    state: Mutex<(Phase, Option<String>)>,
}

impl Enrolment {
    /// The phase (`queued`, `loading` while it reads and fingerprints, then `done` or `failed`)
    /// and the error of a failed one.
    pub fn status(&self) -> (Phase, Option<String>) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, phase: Phase, error: Option<String>) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = (phase, error);
    }
}

/// An enrolment as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EnrolmentView {
    pub id: u64,
    pub source: String,
    pub recipient: Option<String>,
    pub as_of: String,
    pub file_name: String,
    pub file_bytes: u64,
    pub by: String,
    pub started_at: String,
    pub rows: u64,
    pub phase: Phase,
    pub error: Option<String>,
}

impl From<&Enrolment> for EnrolmentView {
    fn from(e: &Enrolment) -> EnrolmentView {
        let (phase, error) = e.status();
        EnrolmentView {
            id: e.id,
            source: e.source.clone(),
            recipient: e.recipient.clone(),
            as_of: e.as_of.clone(),
            file_name: e.file_name.clone(),
            file_bytes: e.file_bytes,
            by: e.by.clone(),
            started_at: e.started_at.clone(),
            rows: e.rows.load(Ordering::Relaxed),
            phase,
            error,
        }
    }
}

/// The enrolment jobs of this server, newest last.
#[derive(Debug, Default)]
pub struct Enrolments {
    list: Mutex<Vec<Arc<Enrolment>>>,
    next: AtomicU64,
}

impl Enrolments {
    /// Every remembered enrolment, newest first.
    pub fn views(&self) -> Vec<EnrolmentView> {
        let l = self.list.lock().unwrap_or_else(|p| p.into_inner());
        l.iter().rev().map(|e| EnrolmentView::from(&**e)).collect()
    }

    /// Whether one is queued or running.
    pub fn any_running(&self) -> bool {
        self.views().iter().any(|e| !e.phase.is_terminal())
    }

    fn add(&self, e: Enrolment) -> Arc<Enrolment> {
        let e = Arc::new(e);
        let mut l = self.list.lock().unwrap_or_else(|p| p.into_inner());
        l.push(e.clone());
        if l.len() > KEPT {
            let drop = l.len() - KEPT;
            l.drain(..drop);
        }
        e
    }
}

/// The enrolled sources, as `leaktrace sources --json` lists them.
pub fn list(state: &AppState) -> Result<Vec<leaktrace_index::SourceInfo>, ApiError> {
    let c = &state.config;
    let ws = leaktrace_index::Workspace::open(&c.home, c.key_file.as_deref())
        .map_err(|e| ApiError::internal(&e))?;
    ws.sources().map_err(|e| ApiError::internal(&e))
}

/// What the enrolment form gave.
#[derive(Debug, Default)]
struct Form {
    source: Option<String>,
    recipient: Option<String>,
    as_of: Option<String>,
    file: Option<(PathBuf, String, u64)>,
}

fn bad(m: &str) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, m)
}

/// A source or recipient name: trimmed, 1–[`NAME_MAX`] characters, no control character.
fn check_name(what: &str, s: &str) -> Result<String, ApiError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > NAME_MAX || t.chars().any(char::is_control) {
        return Err(bad(&format!(
            "{what} has 1 to {NAME_MAX} characters, none a control character"
        )));
    }
    Ok(t.to_string())
}

async fn read_form(
    state: &AppState,
    mut mp: Multipart,
    guard: &mut Partial,
) -> Result<Form, ApiError> {
    let mut form = Form::default();
    let mut fields = 0;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| upload::next_field_error(state, &e))?
    {
        fields += 1;
        if fields > upload::FIELDS_MAX {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                "too many form fields",
            ));
        }
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            if form.file.is_some() {
                return Err(bad("one file per enrolment"));
            }
            let (path, label, size, _) = upload::read_file(state, field, guard).await?;
            form.file = Some((path, label, size));
            continue;
        }
        let text = upload::read_text(field).await?;
        let opt = (!text.trim().is_empty()).then(|| text.trim().to_string());
        match name.as_str() {
            "source" => form.source = opt,
            "recipient" => form.recipient = opt,
            "as_of" => form.as_of = opt,
            _ => {}
        }
    }
    Ok(form)
}

/// Receive the enrolment form and start the job; returns its id.
pub async fn receive(state: &Arc<AppState>, user: &str, mp: Multipart) -> Result<u64, ApiError> {
    let mut guard = Partial(None);
    let form = read_form(state, mp, &mut guard).await?;
    let Some((path, label, size)) = form.file else {
        return Err(ApiError::new(
            ErrorCode::MissingFile,
            "the form has no file field",
        ));
    };
    if size == 0 {
        return Err(ApiError::new(
            ErrorCode::EmptyFile,
            "the uploaded file is empty",
        ));
    }
    let source = check_name("source", form.source.as_deref().unwrap_or(""))?;
    let recipient = match &form.recipient {
        Some(r) => Some(check_name("recipient", r)?),
        None => None,
    };
    let as_of = form
        .as_of
        .filter(|d| d.len() == 10 && d.parse::<jiff::civil::Date>().is_ok())
        .ok_or_else(|| bad("as_of is required, as YYYY-MM-DD"))?;
    let id = state.enrolments.next.fetch_add(1, Ordering::Relaxed) + 1;
    let job = state.enrolments.add(Enrolment {
        id,
        source,
        recipient,
        as_of,
        file_name: label,
        file_bytes: size,
        by: user.to_string(),
        started_at: crate::now_iso(),
        rows: AtomicU64::new(0),
        state: Mutex::new((Phase::Queued, None)),
    });
    // From here the job owns the file and removes it when it ends.
    guard.0 = None;
    state.audit(
        user,
        Action::EnrolmentStarted,
        &format!("source:{}@{} bytes:{size}", job.source, job.as_of),
    );
    let st = state.clone();
    tokio::spawn(async move {
        let permit = st.jobs.gate().acquire_owned().await;
        let (s2, j2, p2) = (st.clone(), job.clone(), path.clone());
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            j2.set(Phase::Loading, None);
            enrol(&s2, &j2, &p2)
        })
        .await
        .unwrap_or_else(|e| Err(format!("the enrolment stopped unexpectedly: {e}")));
        // Plaintext personal data: never kept, whatever happened.
        let _ = std::fs::remove_file(&path);
        let object = format!("source:{}@{}", job.source, job.as_of);
        match result {
            Ok(()) => {
                job.set(Phase::Done, None);
                st.audit(&job.by, Action::EnrolmentFinished, &object);
            }
            Err(e) => {
                job.set(Phase::Failed, Some(e));
                st.audit(&job.by, Action::EnrolmentFailed, &object);
            }
        }
    });
    Ok(id)
}

/// The enrolment itself (blocking thread). Errors name the file as `upload`, never its path.
fn enrol(state: &AppState, job: &Enrolment, path: &std::path::Path) -> Result<(), String> {
    let shown =
        |e: &dyn std::fmt::Display| e.to_string().replace(&path.display().to_string(), "upload");
    let c = &state.config;
    let mut ws =
        leaktrace_index::Workspace::open(&c.home, c.key_file.as_deref()).map_err(|e| shown(&e))?;
    let opts = leaktrace_index::EnrollOptions {
        source: job.source.clone(),
        recipient: job.recipient.clone(),
        as_of: Some(job.as_of.clone()),
        ..Default::default()
    };
    let report = ws
        .enroll(path, &opts, &|n| job.rows.store(n, Ordering::Relaxed))
        .map_err(|e| shown(&e))?;
    job.rows.store(report.snapshot.rows, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("source", "  crm ").unwrap(), "crm");
        assert!(check_name("source", "").is_err());
        assert!(check_name("source", "a\u{7}b").is_err());
        assert!(check_name("source", &"x".repeat(NAME_MAX + 1)).is_err());
    }
}
