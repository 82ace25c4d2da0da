//! The JSON API, `/api/v1/…`: everything the pages do, for scripts (bearer tokens) and the
//! pages' script (session + CSRF header). Errors are `{"error": {"code", "message"}}` with the
//! stable codes of [`crate::error::ErrorCode`]. Described in [`crate::openapi`].

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Identity;
use crate::drafts_edit;
use crate::error::JsonError;
use crate::jobs::{self, Phase};
use crate::service::{self, AFFECTED, REPORT};
use crate::AppState;

type St = State<Arc<AppState>>;
type Me = Extension<Identity>;
type JsonResult = Result<Response, JsonError>;

/// The API's routes (the guard is layered on by [`crate::router`]).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/login", post(login))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/tokens", post(add_token))
        .route(
            "/api/v1/incidents",
            get(incidents)
                .post(create)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/incidents/{id}", get(incident))
        .route("/api/v1/incidents/{id}/events", get(events))
        .route("/api/v1/incidents/{id}/report", get(report))
        .route("/api/v1/incidents/{id}/drafts/{name}", get(draft))
        .route(
            "/api/v1/incidents/{id}/drafts/{name}/edit",
            get(draft_text).post(save_draft),
        )
        .route("/api/v1/incidents/{id}/edited/{name}", get(edited))
        .route("/api/v1/incidents/{id}/affected_persons.csv", get(affected))
        .route("/api/v1/incidents/{id}/analyse", post(analyse))
        .route("/api/v1/incidents/{id}/cancel", post(cancel))
        .route("/api/v1/incidents/{id}/status", post(status))
        .route("/api/v1/incidents/{id}/selfcheck", post(selfcheck))
        .route("/api/v1/users", get(users).post(add_user))
        .route("/api/v1/audit", get(audit))
        .route(
            "/api/v1/sources",
            get(sources).post(enrol).layer(DefaultBodyLimit::disable()),
        )
}

async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

#[derive(Deserialize)]
struct Login {
    name: String,
    password: String,
}

async fn login(State(st): St, Json(body): Json<Login>) -> JsonResult {
    let s = service::login(&st, &body.name, &body.password).await?;
    let mut resp = Json(json!({
        "user": s.user.name, "role": s.user.role, "csrf": s.csrf,
    }))
    .into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        service::session_cookie(&st, Some(&s.cookie)),
    );
    Ok(resp)
}

async fn logout(State(st): St, Extension(me): Me) -> JsonResult {
    service::logout(&st, &me)?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, service::session_cookie(&st, None));
    Ok(resp)
}

async fn me(Extension(me): Me) -> JsonResult {
    Ok(Json(json!({"user": me.name, "role": me.role, "csrf": me.csrf})).into_response())
}

#[derive(Deserialize)]
struct TokenReq {
    #[serde(default)]
    label: String,
}

async fn add_token(State(st): St, Extension(me): Me, Json(body): Json<TokenReq>) -> JsonResult {
    let token = service::add_token(&st, &me, &body.label)?;
    Ok((StatusCode::CREATED, Json(json!({"token": token}))).into_response())
}

async fn incidents(State(st): St, Extension(me): Me) -> JsonResult {
    let rows = st.store().incidents()?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let job = st.store().last_job(r.number)?;
        let progress = match job {
            Some(j) => jobs::progress(&st, j.id)?,
            None => None,
        };
        out.push(json!({"incident": r, "job": progress}));
    }
    st.audit(&me.name, crate::audit::Action::View, "incidents");
    Ok(Json(json!({ "incidents": out })).into_response())
}

async fn create(State(st): St, Extension(me): Me, mp: Multipart) -> JsonResult {
    let row = crate::upload::receive(&st, &me.name, mp).await?;
    let job = jobs::start(&st, &row, &me.name)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"incident": row, "job": job})),
    )
        .into_response())
}

async fn incident(State(st): St, Extension(me): Me, Path(id): Path<String>) -> JsonResult {
    let row = service::incident(&st, &id)?;
    Ok(Json(service::view(&st, &me, row)?).into_response())
}

#[derive(Deserialize, Default)]
struct Dl {
    #[serde(default)]
    download: Option<String>,
}

async fn report(
    State(st): St,
    Extension(me): Me,
    Path(id): Path<String>,
    Query(q): Query<Dl>,
) -> JsonResult {
    Ok(service::serve_output(
        &st,
        &me,
        &id,
        REPORT,
        q.download.is_some(),
    )?)
}

async fn draft(
    State(st): St,
    Extension(me): Me,
    Path((id, name)): Path<(String, String)>,
    Query(q): Query<Dl>,
) -> JsonResult {
    let out = service::draft(&name)?;
    Ok(service::serve_output(
        &st,
        &me,
        &id,
        out,
        q.download.is_some(),
    )?)
}

/// The text of a Markdown draft to edit: the latest saved version, else the generated draft.
async fn draft_text(
    State(st): St,
    Extension(me): Me,
    Path((id, name)): Path<(String, String)>,
) -> JsonResult {
    let o = drafts_edit::open(&st, &me, &id, &name)?;
    Ok(
        Json(json!({"name": name, "version": o.version, "versions": o.versions, "text": o.text}))
            .into_response(),
    )
}

#[derive(Deserialize)]
struct DraftBody {
    text: String,
}

/// Save an edited draft as a new version (201 {name, version}); the original stays.
async fn save_draft(
    State(st): St,
    Extension(me): Me,
    Path((id, name)): Path<(String, String)>,
    Json(body): Json<DraftBody>,
) -> JsonResult {
    let version = drafts_edit::save(&st, &me, &id, &name, &body.text)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": name, "version": version})),
    )
        .into_response())
}

/// The latest edited version of a draft, as Markdown (`.md`) or rendered (`.html`).
async fn edited(
    State(st): St,
    Extension(me): Me,
    Path((id, name)): Path<(String, String)>,
) -> JsonResult {
    Ok(drafts_edit::serve_edited(&st, &me, &id, &name)?)
}

async fn affected(State(st): St, Extension(me): Me, Path(id): Path<String>) -> JsonResult {
    Ok(service::serve_output(&st, &me, &id, AFFECTED, true)?)
}

async fn analyse(State(st): St, Extension(me): Me, Path(id): Path<String>) -> JsonResult {
    let job = service::rerun(&st, &me, &id)?;
    Ok((StatusCode::ACCEPTED, Json(json!({"job": job}))).into_response())
}

async fn cancel(State(st): St, Extension(me): Me, Path(id): Path<String>) -> JsonResult {
    service::cancel(&st, &me, &id)?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[derive(Deserialize)]
struct StatusReq {
    status: String,
}

async fn status(
    State(st): St,
    Extension(me): Me,
    Path(id): Path<String>,
    Json(body): Json<StatusReq>,
) -> JsonResult {
    service::set_step(&st, &me, &id, &body.status)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct SelfcheckReq {
    open: bool,
}

async fn selfcheck(
    State(st): St,
    Extension(me): Me,
    Path(id): Path<String>,
    Json(body): Json<SelfcheckReq>,
) -> JsonResult {
    let changed = crate::selfcheck::set_open(&st, &me, &id, body.open)?;
    Ok(Json(json!({"open": body.open, "changed": changed})).into_response())
}

async fn users(State(st): St, Extension(me): Me) -> JsonResult {
    let users = st.store().users()?;
    st.audit(&me.name, crate::audit::Action::View, "users");
    Ok(Json(json!({ "users": users })).into_response())
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    role: String,
    password: String,
}

async fn add_user(State(st): St, Extension(me): Me, Json(body): Json<NewUser>) -> JsonResult {
    service::add_user(&st, &me, &body.name, &body.role, &body.password)?;
    Ok(StatusCode::CREATED.into_response())
}

async fn audit(State(st): St, Extension(me): Me) -> JsonResult {
    let (entries, verified) = {
        let s = st.store();
        let e = crate::audit::entries(&s.conn, None)?;
        let v = crate::audit::verify(&s.conn)?;
        (e, v)
    };
    st.audit(&me.name, crate::audit::Action::View, "audit");
    let chain = match verified {
        Ok(v) => json!({"ok": true, "entries": v.entries, "head": v.head}),
        Err(e) => json!({"ok": false, "first_bad_entry": e.entry(), "message": e.to_string()}),
    };
    Ok(Json(json!({"chain": chain, "entries": entries})).into_response())
}

async fn sources(State(st): St, Extension(me): Me) -> JsonResult {
    let list = crate::sources::list(&st)?;
    st.audit(&me.name, crate::audit::Action::View, "sources");
    Ok(Json(json!({"sources": list, "enrolments": st.enrolments.views()})).into_response())
}

async fn enrol(State(st): St, Extension(me): Me, mp: Multipart) -> JsonResult {
    let id = crate::sources::receive(&st, &me.name, mp).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"enrolment": id}))).into_response())
}

/// How often the events stream looks at a job.
const EVENT_PERIOD: Duration = Duration::from_millis(500);

/// Server-sent events: the job's progress every half second (`event: progress`, JSON data)
/// until it ends.
async fn events(
    State(st): St,
    Extension(me): Me,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, JsonError> {
    let row = service::incident(&st, &id)?;
    let job = st.store().last_job(row.number)?.map(|j| j.id);
    st.audit(
        &me.name,
        crate::audit::Action::View,
        &format!("incident:{}/events", row.id),
    );
    let stream = futures_util::stream::unfold((st, job, true), |(st, job, first)| async move {
        let job = job?;
        if !first {
            tokio::time::sleep(EVENT_PERIOD).await;
        }
        let p = jobs::progress(&st, job).ok().flatten()?;
        let end = p.phase.is_terminal();
        let data = serde_json::to_string(&p).unwrap_or_default();
        let ev = Event::default().event("progress").data(data);
        let next = if end { None } else { Some(job) };
        Some((Ok(ev), (st, next, false)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Whether a phase means the incident page should keep listening.
pub fn is_live(p: Phase) -> bool {
    !p.is_terminal()
}
