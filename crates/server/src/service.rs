//! What the pages and the API both do: sign in, look an incident up, describe it, serve its
//! files by role, change its timeline, rerun or cancel its analysis. Every function here audits
//! what it does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::audit::Action;
use crate::auth::{self, Identity, Role};
use crate::error::{ApiError, ErrorCode};
use crate::jobs::{self, Progress};
use crate::store::{IncidentRow, StatusRow, User};
use crate::{AppState, IncidentFields};

/// The steps of an incident's timeline, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Discovered,
    Analysed,
    CnilNotified,
    PersonsInformed,
}

impl Step {
    /// Every step in order.
    pub const ALL: [Step; 4] = [
        Step::Discovered,
        Step::Analysed,
        Step::CnilNotified,
        Step::PersonsInformed,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Discovered => "discovered",
            Step::Analysed => "analysed",
            Step::CnilNotified => "cnil_notified",
            Step::PersonsInformed => "persons_informed",
        }
    }

    /// Whether a user records this step (the others are recorded by the service).
    pub fn is_manual(self) -> bool {
        matches!(self, Step::CnilNotified | Step::PersonsInformed)
    }

    /// Parse a stable name.
    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A served output of an analysis, with its content type and the least role that may read it.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub name: &'static str,
    pub content_type: &'static str,
    pub min: Role,
}

/// The drafts (`/incidents/{id}/drafts/{name}`): only these names are served.
pub const DRAFTS: &[Output] = &[
    Output {
        name: "art33_fr.md",
        content_type: "text/markdown; charset=utf-8",
        min: Role::Analyst,
    },
    Output {
        name: "art33_fr.html",
        content_type: "text/html; charset=utf-8",
        min: Role::Analyst,
    },
    Output {
        name: "art33_en.md",
        content_type: "text/markdown; charset=utf-8",
        min: Role::Analyst,
    },
    Output {
        name: "art33_en.html",
        content_type: "text/html; charset=utf-8",
        min: Role::Analyst,
    },
    Output {
        name: "art34_fr.md",
        content_type: "text/markdown; charset=utf-8",
        min: Role::Analyst,
    },
    Output {
        name: "art34_fr.html",
        content_type: "text/html; charset=utf-8",
        min: Role::Analyst,
    },
];

/// The report page (viewers and up).
pub const REPORT: Output = Output {
    name: "report.html",
    content_type: "text/html; charset=utf-8",
    min: Role::Viewer,
};

/// The affected persons list (analysts and up).
pub const AFFECTED: Output = Output {
    name: "affected_persons.csv",
    content_type: "text/csv; charset=utf-8",
    min: Role::Analyst,
};

/// Everything the incident page and `GET /api/v1/incidents/{id}` show.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    pub incident: IncidentRow,
    pub fields: IncidentFields,
    pub timeline: Vec<StatusRow>,
    pub job: Option<Progress>,
    /// The CNIL deadline (72 hours after discovery).
    pub cnil_deadline: Option<String>,
    /// `analysis.json` of the latest complete analysis.
    pub analysis: Option<serde_json::Value>,
    /// Whether the uploaded file is still on the server (it is removed once analysed).
    pub evidence_kept: bool,
    /// Who opened the incident to the self-check, and when (`None`: closed to it).
    pub selfcheck: Option<crate::store::SelfcheckRow>,
}

/// Parsed `analysis.json` files by path, each with the modification time and size it had when
/// read: pages re-read a file only when an analysis replaced it (the load bench showed the
/// parse of every incident's file on each list view).
#[derive(Debug, Default)]
pub struct AnalysisCache {
    map: Mutex<HashMap<PathBuf, Cached>>,
}

/// A cached file: modification time, size, parsed content.
type Cached = (SystemTime, u64, Arc<serde_json::Value>);

impl AnalysisCache {
    /// The parsed file, if it exists and is JSON.
    pub fn get(&self, path: &Path) -> Option<Arc<serde_json::Value>> {
        let meta = std::fs::metadata(path).ok()?;
        let (mtime, len) = (meta.modified().ok()?, meta.len());
        {
            let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((m, l, v)) = map.get(path) {
                if (*m, *l) == (mtime, len) {
                    return Some(v.clone());
                }
            }
        }
        let v: Arc<serde_json::Value> =
            Arc::new(serde_json::from_slice(&std::fs::read(path).ok()?).ok()?);
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.to_path_buf(), (mtime, len, v.clone()));
        Some(v)
    }
}

/// The incident with this public id, or 404.
pub fn incident(state: &AppState, id: &str) -> Result<IncidentRow, ApiError> {
    state
        .store()
        .incident(id)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such incident"))
}

/// Describe an incident (and audit the view).
pub fn view(state: &AppState, who: &Identity, row: IncidentRow) -> Result<IncidentView, ApiError> {
    let (timeline, job, selfcheck) = {
        let s = state.store();
        let selfcheck = s.selfcheck(row.number)?;
        (s.statuses(row.number)?, s.last_job(row.number)?, selfcheck)
    };
    let job = match job {
        Some(j) => jobs::progress(state, j.id)?,
        None => None,
    };
    let dir = crate::upload::incident_dir(state, &row.id);
    let analysis = state
        .analyses
        .get(&dir.join("report").join("analysis.json"))
        .map(|a| (*a).clone());
    state.audit(&who.name, Action::View, &format!("incident:{}", row.id));
    Ok(IncidentView {
        fields: serde_json::from_str(&row.fields).unwrap_or_default(),
        timeline,
        job,
        cnil_deadline: leaktrace_report::deadline(&row.discovered_at)
            .ok()
            .map(|d| d.deadline),
        analysis,
        evidence_kept: crate::upload::evidence_path(state, &row.id).exists(),
        selfcheck,
        incident: row,
    })
}

/// Serve one output of an incident's latest analysis (404 before there is one; 403 below the
/// output's role — the route table already checked it, this checks again).
pub fn serve_output(
    state: &AppState,
    who: &Identity,
    id: &str,
    out: Output,
    download: bool,
) -> Result<Response, ApiError> {
    if who.role < out.min {
        return Err(ApiError::new(ErrorCode::Forbidden, "not for your role"));
    }
    let row = incident(state, id)?;
    let path = crate::upload::incident_dir(state, &row.id)
        .join("report")
        .join(out.name);
    let bytes = std::fs::read(&path)
        .map_err(|_| ApiError::new(ErrorCode::NotReady, "no complete analysis yet"))?;
    state.audit(
        &who.name,
        if download {
            Action::Download
        } else {
            Action::View
        },
        &format!("incident:{}/{}", row.id, out.name),
    );
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(out.content_type),
    );
    // The report and drafts carry their own inline CSS: allow that and nothing else.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
        ),
    );
    if download || !out.content_type.starts_with("text/html") {
        let v = format!("attachment; filename=\"{}-{}\"", row.number, out.name);
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(resp)
}

/// A draft by name, if it is one.
pub fn draft(name: &str) -> Result<Output, ApiError> {
    DRAFTS
        .iter()
        .find(|d| d.name == name)
        .copied()
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such draft"))
}

/// Record a manual timeline step.
pub fn set_step(state: &AppState, who: &Identity, id: &str, step: &str) -> Result<(), ApiError> {
    let row = incident(state, id)?;
    let step = Step::parse(step).filter(|s| s.is_manual()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadRequest,
            "status is cnil_notified or persons_informed",
        )
    })?;
    let added =
        state
            .store()
            .add_status(row.number, step.as_str(), &crate::now_iso(), &who.name)?;
    if !added {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this step is already recorded",
        ));
    }
    state.audit(
        &who.name,
        Action::StatusChange,
        &format!("incident:{}/status:{}", row.id, step.as_str()),
    );
    Ok(())
}

/// Rerun the analysis of an incident (after a failure, a cancel or an interruption).
pub fn rerun(state: &Arc<AppState>, who: &Identity, id: &str) -> Result<i64, ApiError> {
    let row = incident(state, id)?;
    let last = state.store().last_job(row.number)?;
    if let Some(j) = last {
        if state.jobs.get(j.id).is_some() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "an analysis is already running",
            ));
        }
    }
    if !crate::upload::evidence_path(state, &row.id).exists() {
        return Err(ApiError::new(
            ErrorCode::EvidenceGone,
            "the file was removed after its analysis; create a new incident to analyse it again",
        ));
    }
    Ok(jobs::start(state, &row, &who.name)?)
}

/// Cancel the running analysis of an incident.
pub fn cancel(state: &AppState, who: &Identity, id: &str) -> Result<(), ApiError> {
    let row = incident(state, id)?;
    let last = state.store().last_job(row.number)?;
    match last {
        Some(j) if jobs::cancel(state, j.id) => {
            state.audit(
                &who.name,
                Action::AnalysisCancelled,
                &format!("incident:{}/job:{}", row.id, j.id),
            );
            Ok(())
        }
        _ => Err(ApiError::new(ErrorCode::Conflict, "no analysis is running")),
    }
}

fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| auth::hash_password("leaktrace dummy password").unwrap_or_default())
}

/// A new session: the cookie value (to set) and the CSRF token (to echo in state changes).
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
    pub csrf: String,
    pub user: User,
}

/// Check a name and password (Argon2id on a blocking thread, the same work for an unknown
/// name), apply the lockout rule, and open a session.
pub async fn login(
    state: &Arc<AppState>,
    name: &str,
    password: &str,
) -> Result<NewSession, ApiError> {
    let bad = || ApiError::new(ErrorCode::BadCredentials, "wrong user name or password");
    let user = state.store().user(name)?;
    let now = crate::now_unix();
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_string(), |u| u.password_hash.clone());
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user else {
        state.audit("-", Action::LoginFailed, "user:unknown");
        return Err(bad());
    };
    let object = format!("user:{}", user.name);
    if user.locked_until > now {
        state.audit(&user.name, Action::LoginLocked, &object);
        return Err(ApiError::new(
            ErrorCode::AccountLocked,
            "too many failed logins; try again later",
        ));
    }
    if !ok || user.disabled {
        state.store().login_failed(
            user.id,
            auth::MAX_FAILED_LOGINS,
            now + auth::LOCKOUT_SECONDS,
        )?;
        state.audit(&user.name, Action::LoginFailed, &object);
        return Err(bad());
    }
    let cookie = auth::new_secret("")?;
    let csrf = auth::new_secret("")?;
    {
        let s = state.store();
        s.login_succeeded(user.id)?;
        s.add_session(
            &auth::token_hash(&cookie),
            user.id,
            &csrf,
            now,
            now + state.config.session_seconds,
        )?;
    }
    state.audit(&user.name, Action::LoginSucceeded, &object);
    Ok(NewSession { cookie, csrf, user })
}

/// The `Set-Cookie` value of a session (or of its removal with `None`).
pub fn session_cookie(state: &AppState, value: Option<&str>) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let s = match value {
        Some(v) => format!(
            "{}={v}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            auth::SESSION_COOKIE,
            state.config.session_seconds
        ),
        None => format!(
            "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}",
            auth::SESSION_COOKIE
        ),
    };
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// End a session.
pub fn logout(state: &AppState, who: &Identity) -> Result<(), ApiError> {
    if let Some(s) = &who.session {
        state.store().delete_session(s)?;
    }
    state.audit(&who.name, Action::Logout, &format!("user:{}", who.name));
    Ok(())
}

/// Create an account (admins).
pub fn add_user(
    state: &AppState,
    who: &Identity,
    name: &str,
    role: &str,
    password: &str,
) -> Result<(), ApiError> {
    auth::check_user_name(name)?;
    auth::check_password_policy(password)?;
    let role = Role::parse(role)
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "role is admin, analyst or viewer"))?;
    let hash = auth::hash_password(password)?;
    state
        .store()
        .add_user(name, role, &hash)
        .map_err(|e| match e {
            crate::ServerError::Input(m) => ApiError::new(ErrorCode::Conflict, m),
            other => other.into(),
        })?;
    state.audit(
        &who.name,
        Action::UserAdded,
        &format!("user:{name} role:{}", role.as_str()),
    );
    Ok(())
}

/// Create an API token for the signed-in user; the token is shown once and stored hashed.
pub fn add_token(state: &AppState, who: &Identity, label: &str) -> Result<String, ApiError> {
    let token = auth::new_secret("lt_")?;
    let label: String = label.chars().filter(|c| !c.is_control()).take(80).collect();
    state
        .store()
        .add_token(&auth::token_hash(&token), who.user_id, &label)?;
    state.audit(
        &who.name,
        Action::TokenCreated,
        &format!("user:{}", who.name),
    );
    Ok(token)
}
