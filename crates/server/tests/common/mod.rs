//! A synthetic workspace (built once per test binary, copied for each test), accounts of every
//! role, and helpers to send requests through the real router with `tower::ServiceExt::oneshot`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leaktrace_index::{EnrollOptions, Workspace};
use leaktrace_server::auth::Role;
use leaktrace_server::{AppState, Config};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";
pub const DISCOVERED: &str = "2026-11-20T09:30+01:00";

/// The synthetic data and the enrolled workspace shared by a test binary.
pub struct Base {
    pub dir: PathBuf,
}

impl Base {
    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
    pub fn leak(&self, name: &str) -> PathBuf {
        self.data().join("leaks").join(name)
    }
}

fn build_base() -> Base {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "server-base-{}-{}",
        std::process::id(),
        std::thread::current()
            .name()
            .unwrap_or("t")
            .replace("::", "_")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    leaktrace_synth::generate(
        &leaktrace_synth::Config {
            persons: 1500,
            seed: 11,
            ..leaktrace_synth::Config::default()
        },
        &data,
    )
    .unwrap();
    let (mut ws, _) = Workspace::init(&dir.join("ws"), Some(&dir.join("key"))).unwrap();
    let m = leaktrace_synth::read_manifest(&data).unwrap();
    ws.enroll(
        &data.join(&m.registry.file),
        &EnrollOptions {
            source: "registry".into(),
            as_of: Some(m.registry.as_of.clone()),
            ..EnrollOptions::default()
        },
        &|_| {},
    )
    .unwrap();
    for e in &m.extracts {
        ws.enroll(
            &data.join(&e.file),
            &EnrollOptions {
                source: e.source().to_string(),
                recipient: Some(e.recipient.clone()),
                as_of: Some(e.as_of.clone()),
                ..EnrollOptions::default()
            },
            &|_| {},
        )
        .unwrap();
    }
    drop(ws);
    let home = dir.join("ws");
    for (name, role) in [
        ("admin", Role::Admin),
        ("analyst", Role::Analyst),
        ("viewer", Role::Viewer),
    ] {
        leaktrace_server::admin::add_user(&home, name, role, PASSWORD).unwrap();
    }
    Base { dir }
}

/// The shared base (built on first use).
pub fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(build_base)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// A test's own copy of the workspace and a running application.
pub struct App {
    pub tmp: tempfile::TempDir,
    pub state: Arc<AppState>,
    pub router: Router,
}

impl App {
    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("ws")
    }
    pub fn key(&self) -> PathBuf {
        self.tmp.path().join("key")
    }
}

/// A fresh copy of the base workspace, opened with `tune` applied to the config.
pub fn app_with(tune: impl FnOnce(&mut Config)) -> App {
    let b = base();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&b.dir.join("ws"), &tmp.path().join("ws"));
    std::fs::copy(b.dir.join("key"), tmp.path().join("key")).unwrap();
    let mut config = Config::new(&tmp.path().join("ws"), Some(&tmp.path().join("key")));
    // The matrix signs in hundreds of times from no address (one shared budget); tests of the
    // per-address throttle set their own budget.
    config.login_per_minute = 100_000;
    tune(&mut config);
    let state = leaktrace_server::open(config).unwrap();
    let router = leaktrace_server::router(state.clone());
    App { tmp, state, router }
}

pub fn app() -> App {
    app_with(|_| {})
}

/// How a request authenticates.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
    /// The client address the request comes from (as `serve` records it per connection).
    pub peer: Option<std::net::SocketAddr>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }
}

/// Send a request through the router.
pub async fn send(
    app: &App,
    method: Method,
    uri: &str,
    auth: &Auth,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(c) = &auth.cookie {
        req = req.header(header::COOKIE, format!("lt_session={c}"));
    }
    if let Some(c) = &auth.csrf {
        req = req.header("x-csrf-token", c);
    }
    if let Some(b) = &auth.bearer {
        req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
    }
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    if let Some(p) = auth.peer {
        req = req.extension(axum::extract::ConnectInfo(p));
    }
    let resp = app
        .router
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

pub async fn get(app: &App, uri: &str, auth: &Auth) -> Resp {
    send(app, Method::GET, uri, auth, None, Vec::new()).await
}

pub async fn post_json(app: &App, uri: &str, auth: &Auth, v: serde_json::Value) -> Resp {
    send(
        app,
        Method::POST,
        uri,
        auth,
        Some("application/json"),
        serde_json::to_vec(&v).unwrap(),
    )
    .await
}

/// Sign in through the API; returns the session cookie and CSRF token.
pub async fn login(app: &App, name: &str) -> Auth {
    let r = post_json(
        app,
        "/api/v1/login",
        &Auth::default(),
        serde_json::json!({"name": name, "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("lt_session=")
        .unwrap()
        .to_string();
    Auth {
        cookie: Some(cookie),
        csrf: r.json()["csrf"].as_str().map(String::from),
        bearer: None,
        peer: None,
    }
}

pub const BOUNDARY: &str = "XleaktraceBoundaryX";

/// A multipart body: text fields, then the file (name as the client sends it).
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// Upload a file as a new incident through the API; returns the response.
pub async fn upload(app: &App, auth: &Auth, name: &str, bytes: &[u8]) -> Resp {
    let body = multipart(
        &[("title", "Fuite test"), ("discovered_at", DISCOVERED)],
        Some((name, bytes)),
    );
    send(
        app,
        Method::POST,
        "/api/v1/incidents",
        auth,
        Some(&multipart_type()),
        body,
    )
    .await
}

/// Wait until the incident's latest job has ended; returns its progress.
pub async fn wait_job(app: &App, auth: &Auth, id: &str) -> serde_json::Value {
    for _ in 0..600 {
        let r = get(app, &format!("/api/v1/incidents/{id}"), auth).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let j = r.json()["job"].clone();
        let phase = j["phase"].as_str().unwrap_or("");
        if ["done", "failed", "cancelled", "interrupted"].contains(&phase) {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job of {id} did not end within 60 s");
}

/// Upload the reshaped app leak as the analyst, wait for its analysis; returns the incident id.
pub async fn analysed_incident(app: &App) -> String {
    let analyst = login(app, "analyst").await;
    let bytes = std::fs::read(base().leak("app_reshaped.csv")).unwrap();
    let r = upload(app, &analyst, "app_reshaped.csv", &bytes).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["incident"]["id"].as_str().unwrap().to_string();
    let job = wait_job(app, &analyst, &id).await;
    assert_eq!(job["phase"], "done", "{job}");
    id
}
