//! The HTML pages, French first with an English switch (`/lang/en`), rendered with `maud`
//! (every interpolated value escaped). No inline script or style: the stylesheet and the one
//! script (live progress over server-sent events) are served from `/assets/`.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;

use crate::auth::{Identity, Role};
use crate::error::{ApiError, ErrorCode, PageError};
use crate::i18n::{t, Lang};
use crate::service::{self, IncidentView, Step, AFFECTED, DRAFTS, REPORT};
use crate::AppState;

type St = State<Arc<AppState>>;
type PageResult = Result<Response, PageError>;

/// The pages' routes (the guard is layered on by [`crate::router`]).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/assets/{name}", get(asset))
        .route("/lang/{lang}", get(set_lang))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/", get(home))
        .route("/incidents/new", get(new_incident))
        .route(
            "/incidents",
            post(create).layer(DefaultBodyLimit::disable()),
        )
        .route("/incidents/{id}", get(incident))
        .route("/incidents/{id}/report", get(report))
        .route("/incidents/{id}/drafts/{name}", get(draft))
        .route(
            "/incidents/{id}/drafts/{name}/edit",
            get(edit_draft).post(save_draft),
        )
        .route("/incidents/{id}/edited/{name}", get(edited))
        .route("/incidents/{id}/affected_persons.csv", get(affected))
        .route("/incidents/{id}/analyse", post(analyse))
        .route("/incidents/{id}/cancel", post(cancel))
        .route("/incidents/{id}/status", post(status))
        .route("/incidents/{id}/selfcheck", post(selfcheck))
        .route("/users", get(users).post(add_user))
        .route("/audit", get(audit))
        .route(
            "/sources",
            get(sources).post(enrol).layer(DefaultBodyLimit::disable()),
        )
}

/// The served assets: name, content type, bytes.
pub const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
];

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.0 == name) {
        Some((_, ct, body)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(ct)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("max-age=3600"),
                ),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn lang_of(h: &HeaderMap) -> Lang {
    Lang::parse(crate::auth::cookie(h, "lang").unwrap_or("fr"))
}

async fn set_lang(Path(lang): Path<String>) -> Response {
    let l = Lang::parse(&lang);
    let mut r = Redirect::to("/").into_response();
    let v = format!(
        "lang={}; Path=/; SameSite=Strict; Max-Age=31536000",
        l.as_str()
    );
    if let Ok(v) = HeaderValue::from_str(&v) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// The redirect an anonymous request for a page gets.
pub fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

fn layout(lang: Lang, me: Option<&Identity>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — leaktrace" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "leaktrace" }
                    nav {
                        @if let Some(me) = me {
                            a href="/" { (t(lang, "incidents")) }
                            @if me.role >= Role::Analyst { a href="/incidents/new" { (t(lang, "new_incident")) } }
                            @if me.role >= Role::Admin {
                                a href="/sources" { (t(lang, "sources")) }
                                a href="/users" { (t(lang, "users")) }
                                a href="/audit" { (t(lang, "audit")) }
                            }
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(me.csrf.as_deref().unwrap_or(""));
                                button type="submit" { (t(lang, "logout")) " (" (me.name) ")" }
                            }
                        }
                        @match lang {
                            Lang::Fr => a href="/lang/en" lang="en" { "English" },
                            Lang::En => a href="/lang/fr" lang="fr" { "Français" },
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

fn page(status: StatusCode, m: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        m.into_string(),
    )
        .into_response()
}

/// The HTML page of an error.
pub fn error_page(e: &ApiError) -> Response {
    let body = html! { p.error { (e.message) } p { code { (e.code.as_str()) } } p { a href="/" { "leaktrace" } } };
    page(
        e.code.status(),
        layout(Lang::Fr, None, "Erreur / Error", body),
    )
}

fn login_form(lang: Lang, error: Option<&str>) -> Markup {
    let body = html! {
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.card method="post" action="/login" {
            label for="name" { (t(lang, "user_name")) }
            input #name name="name" autocomplete="username" required;
            label for="password" { (t(lang, "password")) }
            input #password name="password" type="password" autocomplete="current-password" required;
            button type="submit" { (t(lang, "sign_in")) }
        }
    };
    layout(lang, None, t(lang, "sign_in"), body)
}

/// The login page with the "too many attempts from this address" message (429).
pub fn throttled_page(h: &HeaderMap) -> Response {
    let lang = lang_of(h);
    page(
        ErrorCode::TooManyAttempts.status(),
        login_form(lang, Some(t(lang, "throttled"))),
    )
}

async fn login_page(h: HeaderMap) -> Response {
    page(StatusCode::OK, login_form(lang_of(&h), None))
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
}

async fn login(State(st): St, h: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let lang = lang_of(&h);
    match service::login(&st, &f.name, &f.password).await {
        Ok(s) => {
            let mut r = Redirect::to("/").into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                service::session_cookie(&st, Some(&s.cookie)),
            );
            r
        }
        Err(e) => {
            let msg = match e.code {
                ErrorCode::AccountLocked => t(lang, "locked"),
                ErrorCode::BadCredentials => t(lang, "bad_login"),
                _ => e.message.as_str(),
            };
            page(e.code.status(), login_form(lang, Some(msg)))
        }
    }
}

async fn logout(State(st): St, Extension(me): Extension<Identity>) -> PageResult {
    service::logout(&st, &me)?;
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, service::session_cookie(&st, None));
    Ok(r)
}

fn verdict_of(a: &serde_json::Value) -> (&str, &str) {
    let v = &a["verdict"];
    (
        v["status"].as_str().unwrap_or(""),
        v["summary"].as_str().unwrap_or(""),
    )
}

async fn home(State(st): St, h: HeaderMap, Extension(me): Extension<Identity>) -> PageResult {
    let lang = lang_of(&h);
    let rows = st.store().incidents()?;
    st.audit(&me.name, crate::audit::Action::View, "incidents");
    let body = html! {
        @if rows.is_empty() { p { (t(lang, "no_incident")) } }
        @else {
            table {
                thead { tr { th { "#" } th { (t(lang, "title")) } th { (t(lang, "discovered_at")) } th { (t(lang, "verdict")) } } }
                tbody {
                    @for r in &rows {
                        @let a = st.analyses.get(&crate::upload::incident_dir(&st, &r.id).join("report/analysis.json"));
                        tr {
                            td { (r.number) }
                            td { a href={ "/incidents/" (r.id) } { (r.title) } }
                            td { (r.discovered_at) }
                            td { @if let Some(a) = &a { span class={ "verdict " (verdict_of(a).0) } { (verdict_of(a).0) } } @else { "—" } }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout(lang, Some(&me), t(lang, "incidents"), body),
    ))
}

async fn new_incident(h: HeaderMap, Extension(me): Extension<Identity>) -> Response {
    let lang = lang_of(&h);
    let csrf = me.csrf.clone().unwrap_or_default();
    let text = |name: &'static str, required: bool| {
        html! {
            label for=(name) { (t(lang, name)) }
            input id=(name) name=(name) required[required];
        }
    };
    let area = |name: &'static str| {
        html! {
            label for=(name) { (t(lang, name)) }
            textarea id=(name) name=(name) rows="3" {}
        }
    };
    let body = html! {
        form.card method="post" action={ "/incidents?csrf=" (csrf) } enctype="multipart/form-data" {
            label for="file" { (t(lang, "file")) }
            input #file name="file" type="file" required;
            (text("title", false))
            label for="discovered_at" { (t(lang, "discovered_at")) " (AAAA-MM-JJTHH:MM+01:00)" }
            input #discovered_at name="discovered_at" required placeholder="2026-11-20T09:30+01:00";
            (text("organisation", false))
            (text("contact", false))
            (area("nature"))
            (area("measures_taken"))
            (area("measures_proposed"))
            (area("delay_reasons"))
            button type="submit" { (t(lang, "upload_analyse")) }
        }
    };
    page(
        StatusCode::OK,
        layout(lang, Some(&me), t(lang, "new_incident"), body),
    )
}

async fn create(State(st): St, Extension(me): Extension<Identity>, mp: Multipart) -> PageResult {
    let row = crate::upload::receive(&st, &me.name, mp).await?;
    crate::jobs::start(&st, &row, &me.name)?;
    Ok(Redirect::to(&format!("/incidents/{}", row.id)).into_response())
}

async fn incident(
    State(st): St,
    h: HeaderMap,
    Extension(me): Extension<Identity>,
    Path(id): Path<String>,
) -> PageResult {
    let lang = lang_of(&h);
    let row = service::incident(&st, &id)?;
    let v = service::view(&st, &me, row)?;
    let title = format!("#{} {}", v.incident.number, v.incident.title);
    let body = crate::incident_page::render(lang, &me, &v);
    Ok(page(StatusCode::OK, layout(lang, Some(&me), &title, body)))
}

#[derive(Deserialize, Default)]
struct Dl {
    #[serde(default)]
    download: Option<String>,
}

async fn report(
    State(st): St,
    Extension(me): Extension<Identity>,
    Path(id): Path<String>,
    Query(q): Query<Dl>,
) -> PageResult {
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
    Extension(me): Extension<Identity>,
    Path((id, name)): Path<(String, String)>,
    Query(q): Query<Dl>,
) -> PageResult {
    let out = service::draft(&name)?;
    Ok(service::serve_output(
        &st,
        &me,
        &id,
        out,
        q.download.is_some(),
    )?)
}

async fn edit_draft(
    State(st): St,
    h: HeaderMap,
    Extension(me): Extension<Identity>,
    Path((id, name)): Path<(String, String)>,
) -> PageResult {
    let lang = lang_of(&h);
    let crate::drafts_edit::Opened {
        incident: row,
        version,
        text,
        versions,
    } = crate::drafts_edit::open(&st, &me, &id, &name)?;
    let stem = name.trim_end_matches(".md");
    let base = format!("/incidents/{}", row.id);
    let body = html! {
        p {
            a href=(base) { "← #" (row.number) " " (row.title) }
            " · " a href={ (base) "/drafts/" (name) } { (t(lang, "original")) }
        }
        @match version {
            Some(v) => p { (t(lang, "editing_version")) " " (v) " (" (versions.len()) ")" " · "
                a href={ (base) "/edited/" (name) } { (t(lang, "download")) " .md" } " · "
                a href={ (base) "/edited/" (stem) ".html" } { (t(lang, "download")) " .html" } },
            None => p.note { (t(lang, "editing_original")) },
        }
        form method="post" action={ (base) "/drafts/" (name) "/edit" } {
            input type="hidden" name="csrf" value=(me.csrf.as_deref().unwrap_or(""));
            label for="text" { (name) }
            textarea.draft #text name="text" { (text) }
            button type="submit" { (t(lang, "save_version")) }
        }
    };
    let title = format!("{} — {name}", t(lang, "edit_draft"));
    Ok(page(StatusCode::OK, layout(lang, Some(&me), &title, body)))
}

#[derive(Deserialize)]
struct DraftForm {
    text: String,
}

async fn save_draft(
    State(st): St,
    Extension(me): Extension<Identity>,
    Path((id, name)): Path<(String, String)>,
    Form(f): Form<DraftForm>,
) -> PageResult {
    crate::drafts_edit::save(&st, &me, &id, &name, &f.text)?;
    Ok(Redirect::to(&format!("/incidents/{id}/drafts/{name}/edit")).into_response())
}

async fn edited(
    State(st): St,
    Extension(me): Extension<Identity>,
    Path((id, name)): Path<(String, String)>,
) -> PageResult {
    Ok(crate::drafts_edit::serve_edited(&st, &me, &id, &name)?)
}

async fn affected(
    State(st): St,
    Extension(me): Extension<Identity>,
    Path(id): Path<String>,
) -> PageResult {
    Ok(service::serve_output(&st, &me, &id, AFFECTED, true)?)
}

async fn analyse(
    State(st): St,
    Extension(me): Extension<Identity>,
    Path(id): Path<String>,
) -> PageResult {
    service::rerun(&st, &me, &id)?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

async fn cancel(
    State(st): St,
    Extension(me): Extension<Identity>,
    Path(id): Path<String>,
) -> PageResult {
    service::cancel(&st, &me, &id)?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
}

async fn status(
    State(st): St,
    Extension(me): Extension<Identity>,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> PageResult {
    service::set_step(&st, &me, &id, &f.status)?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

#[derive(Deserialize)]
struct SelfcheckForm {
    open: String,
}

async fn selfcheck(
    State(st): St,
    Extension(me): Extension<Identity>,
    Path(id): Path<String>,
    Form(f): Form<SelfcheckForm>,
) -> PageResult {
    let open = crate::selfcheck::parse_flag(&f.open)
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "open is 1 or 0"))?;
    crate::selfcheck::set_open(&st, &me, &id, open)?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

async fn users(State(st): St, h: HeaderMap, Extension(me): Extension<Identity>) -> PageResult {
    let lang = lang_of(&h);
    let users = st.store().users()?;
    st.audit(&me.name, crate::audit::Action::View, "users");
    let body = html! {
        table {
            thead { tr { th { (t(lang, "user_name")) } th { (t(lang, "role")) } th { (t(lang, "created")) } } }
            tbody { @for u in &users { tr { td { (u.name) } td { (u.role.as_str()) } td { (u.created_at) } } } }
        }
        h2 { (t(lang, "add_user")) }
        form.card method="post" action="/users" {
            input type="hidden" name="csrf" value=(me.csrf.as_deref().unwrap_or(""));
            label for="name" { (t(lang, "user_name")) }
            input #name name="name" required;
            label for="role" { (t(lang, "role")) }
            select #role name="role" { @for r in Role::ALL { option value=(r.as_str()) { (r.as_str()) } } }
            label for="password" { (t(lang, "password")) " (≥ 12)" }
            input #password name="password" type="password" autocomplete="new-password" required;
            button type="submit" { (t(lang, "add_user")) }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout(lang, Some(&me), t(lang, "users"), body),
    ))
}

#[derive(Deserialize)]
struct UserForm {
    name: String,
    role: String,
    password: String,
}

async fn add_user(
    State(st): St,
    Extension(me): Extension<Identity>,
    Form(f): Form<UserForm>,
) -> PageResult {
    service::add_user(&st, &me, &f.name, &f.role, &f.password)?;
    Ok(Redirect::to("/users").into_response())
}

/// Entries shown on the audit page (the newest).
const AUDIT_PAGE: usize = 500;

async fn audit(State(st): St, h: HeaderMap, Extension(me): Extension<Identity>) -> PageResult {
    let lang = lang_of(&h);
    let (entries, verified) = {
        let s = st.store();
        (
            crate::audit::entries(&s.conn, None)?,
            crate::audit::verify(&s.conn)?,
        )
    };
    st.audit(&me.name, crate::audit::Action::View, "audit");
    let body = html! {
        @match &verified {
            Ok(v) => p.ok { (t(lang, "chain_ok")) " — " (v.entries) " · " code { (v.head) } },
            Err(e) => p.error role="alert" { (t(lang, "chain_bad")) " " (e.to_string()) },
        }
        table {
            thead { tr { th { "#" } th { (t(lang, "when")) } th { (t(lang, "user_name")) } th { "action" } th { "objet / object" } } }
            tbody {
                @for e in entries.iter().rev().take(AUDIT_PAGE) {
                    tr { td { (e.id) } td { (e.at) } td { (e.user) } td { (e.action) } td { code { (e.object) } } }
                }
            }
        }
    };
    Ok(page(
        StatusCode::OK,
        layout(lang, Some(&me), t(lang, "audit"), body),
    ))
}

async fn sources(State(st): St, h: HeaderMap, Extension(me): Extension<Identity>) -> PageResult {
    let lang = lang_of(&h);
    let list = crate::sources::list(&st)?;
    let enrolments = st.enrolments.views();
    st.audit(&me.name, crate::audit::Action::View, "sources");
    let body = crate::sources_page::render(lang, &me, &list, &enrolments);
    let mut r = page(
        StatusCode::OK,
        layout(lang, Some(&me), t(lang, "sources"), body),
    );
    if st.enrolments.any_running() {
        // The page follows a running enrolment by reloading itself (no script needed).
        r.headers_mut()
            .insert(header::REFRESH, HeaderValue::from_static("2"));
    }
    Ok(r)
}

async fn enrol(State(st): St, Extension(me): Extension<Identity>, mp: Multipart) -> PageResult {
    crate::sources::receive(&st, &me.name, mp).await?;
    Ok(Redirect::to("/sources").into_response())
}

/// The timeline steps as the incident page shows them.
pub fn step_label(lang: Lang, s: Step) -> &'static str {
    t(lang, s.as_str())
}

/// Links to the drafts of an incident.
pub fn draft_links(lang: Lang, v: &IncidentView) -> Markup {
    html! {
        ul {
            @for d in DRAFTS {
                li {
                    a href={ "/incidents/" (v.incident.id) "/drafts/" (d.name) } { (d.name) }
                    " · "
                    a href={ "/incidents/" (v.incident.id) "/drafts/" (d.name) "?download=1" } { (t(lang, "download")) }
                    @if d.name.ends_with(".md") {
                        " · "
                        a href={ "/incidents/" (v.incident.id) "/drafts/" (d.name) "/edit" } { (t(lang, "edit")) }
                    }
                }
            }
        }
    }
}
