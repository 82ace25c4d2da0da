//! The public listener: the self-check page and API, the OPRF evaluation and the bucket files,
//! on an address of its own (`leaktrace serve --public ADDR`, or `leaktrace selfcheck serve`),
//! so that an organisation can expose it alone. No route writes a log line about a request;
//! the counters (found, not found, limited, per day) are kept in memory and added to the
//! catalog every [`FLUSH`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use leaktrace_server::proxy::TrustedProxies;
use serde::Deserialize;

use crate::check::{Checker, Facts, SecondKind};
use crate::export::{Manifest, MANIFEST};
use crate::limits::{Limiter, Limits, SWEEP};
use crate::oprf::OprfKey;
use crate::store::{Outcome, ReachStore};
use crate::{page, ReachError};

/// How often the in-memory counters are added to the catalog.
pub const FLUSH: Duration = Duration::from_secs(10);
/// How often the listener checks whether the open incidents changed (opened, closed, analysed
/// again) and reloads their answers.
pub const RELOAD: Duration = Duration::from_secs(5);
/// Largest request body, in bytes.
pub const BODY_MAX: usize = 4096;
/// How long a client may cache a bucket file, in seconds.
pub const BUCKET_MAX_AGE: u32 = 3600;

/// The bucket files of an export, in memory.
#[derive(Debug, Clone)]
pub struct Buckets {
    pub manifest: Manifest,
    manifest_json: Bytes,
    files: HashMap<String, Bytes>,
}

impl Buckets {
    /// Read an export directory (`leaktrace selfcheck export --out DIR`).
    pub fn load(dir: &Path) -> Result<Buckets, ReachError> {
        let mpath = dir.join(MANIFEST);
        let json = std::fs::read(&mpath).map_err(|e| ReachError::file(&mpath, e))?;
        let manifest: Manifest =
            serde_json::from_slice(&json).map_err(|e| ReachError::file(&mpath, e))?;
        let size = manifest.entry_bytes * manifest.entries_per_bucket;
        let mut files = HashMap::new();
        for i in 0..1usize << (4 * manifest.prefix_digits) {
            let prefix = format!("{i:0w$x}", w = manifest.prefix_digits);
            let p = dir.join(format!("{prefix}.bin"));
            let b = std::fs::read(&p).map_err(|e| ReachError::file(&p, e))?;
            if b.len() != size {
                return Err(ReachError::file(
                    &p,
                    format!("{} bytes, the manifest says {size}", b.len()),
                ));
            }
            files.insert(prefix, Bytes::from(b));
        }
        Ok(Buckets {
            manifest,
            manifest_json: Bytes::from(json),
            files,
        })
    }
}

/// What the public handlers share.
pub struct Public {
    checker: Checker,
    limiter: Limiter,
    oprf: OprfKey,
    buckets: Option<Buckets>,
    home: PathBuf,
    counters: [AtomicU64; 3],
    /// Held for the whole of a [`Public::flush`], so that the last flush at shutdown returns
    /// only once a periodic one still writing (its task aborted, its blocking write not) has
    /// committed what it took.
    flushing: std::sync::Mutex<()>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (none by default).
    trusted: TrustedProxies,
}

impl std::fmt::Debug for Public {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Public")
            .field("checker", &self.checker)
            .finish()
    }
}

impl Public {
    /// The state on an open workspace: the checker, the OPRF key derived from the workspace
    /// key, and the bucket files of `buckets` if given.
    pub fn new(
        ws: &leaktrace_index::Workspace,
        limits: Limits,
        buckets: Option<&Path>,
    ) -> Result<Public, ReachError> {
        let checker = Checker::open(ws)?;
        let oprf = OprfKey::from_seed(&ws.derive_key(crate::oprf::OPRF_KEY_CONTEXT))?;
        let buckets = buckets.map(Buckets::load).transpose()?;
        Ok(Public {
            checker,
            limiter: Limiter::new(limits),
            oprf,
            buckets,
            home: ws.home().to_path_buf(),
            counters: Default::default(),
            flushing: std::sync::Mutex::new(()),
            trusted: TrustedProxies::default(),
        })
    }

    /// Key the per-address limit on the client a trusted proxy names
    /// ([`leaktrace_server::proxy`]) rather than on the TCP peer.
    pub fn with_trusted_proxies(mut self, trusted: TrustedProxies) -> Public {
        self.trusted = trusted;
        self
    }

    /// The checker (for the export).
    pub fn checker(&self) -> &Checker {
        &self.checker
    }

    fn count(&self, o: Outcome) {
        self.counters[o as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Add the counters kept in memory to the catalog (and zero them). A count that could not
    /// be written is kept in memory for the next flush.
    pub fn flush(&self) -> Result<(), ReachError> {
        let _one_at_a_time = self.flushing.lock().unwrap_or_else(|e| e.into_inner());
        let taken: Vec<(Outcome, u64)> = Outcome::ALL
            .iter()
            .map(|o| (*o, self.counters[*o as usize].swap(0, Ordering::Relaxed)))
            .collect();
        if taken.iter().all(|(_, n)| *n == 0) {
            return Ok(());
        }
        let keep = |from: usize| {
            for (o, n) in &taken[from..] {
                self.counters[*o as usize].fetch_add(*n, Ordering::Relaxed);
            }
        };
        let store = match ReachStore::open(&self.home) {
            Ok(s) => s,
            Err(e) => {
                keep(0);
                return Err(e);
            }
        };
        for (k, (o, n)) in taken.iter().enumerate() {
            if *n > 0 {
                if let Err(e) = store.count(*o, *n) {
                    keep(k);
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

type St = State<Arc<Public>>;

/// A stable JSON error: `{"error": {"code": "...", "message": "..."}}`.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"error": {"code": code, "message": message}});
    (status, Json(body)).into_response()
}

fn limited() -> Response {
    let mut r = error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        "trop de vérifications : réessayez plus tard",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    r
}

/// The public routes, with their security headers.
pub fn router(state: Arc<Public>) -> Router {
    let app = Router::new()
        .route("/", get(form_page).post(form_check))
        .route("/selfcheck.css", get(css))
        .route("/api/v1/selfcheck", post(api_check))
        .route("/api/v1/oprf/evaluate", post(oprf_evaluate))
        .route("/selfcheck/manifest.json", get(manifest))
        .route("/selfcheck/buckets/{prefix}", get(bucket))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found", "no such page") })
        .layer(DefaultBodyLimit::max(BODY_MAX))
        .with_state(state);
    leaktrace_server::with_security_headers(
        app,
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
}

/// A check request (the form's fields and the API's JSON keys).
#[derive(Debug, Deserialize)]
pub struct CheckRequest {
    pub identifier: String,
    pub second_kind: SecondKind,
    pub second: String,
}

/// Why a request was not checked.
enum Refusal {
    Identifier,
    Second,
    Limited,
}

/// Parse, limit and check: the same work for found, not found and a wrong second fact.
fn run_check(
    st: &Public,
    ip: std::net::IpAddr,
    req: &CheckRequest,
) -> Result<Vec<crate::answers::Exposure>, Refusal> {
    let facts = Facts::parse(&req.identifier, req.second_kind, &req.second).map_err(|w| {
        if w == "identifier" {
            Refusal::Identifier
        } else {
            Refusal::Second
        }
    })?;
    if st.limiter.check(ip, &facts.id).is_err() {
        st.count(Outcome::Limited);
        return Err(Refusal::Limited);
    }
    let found = st.checker.lookup(&facts);
    st.count(if found.is_empty() {
        Outcome::NotFound
    } else {
        Outcome::Found
    });
    Ok(found)
}

const BAD_IDENTIFIER: &str = "identifiant non reconnu : donnez une adresse électronique, un numéro de mobile ou un numéro de sécurité sociale";
const BAD_SECOND: &str =
    "seconde information non reconnue : une date de naissance (JJ/MM/AAAA) ou un nom de famille";

async fn api_check(
    State(st): St,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<CheckRequest>, JsonRejection>,
) -> Response {
    let Ok(Json(req)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "expected JSON {\"identifier\", \"second_kind\": \"birth_date\"|\"last_name\", \"second\"}",
        );
    };
    match run_check(&st, st.trusted.client_ip(addr.ip(), &headers), &req) {
        Ok(found) => (
            [(header::CONTENT_TYPE, "application/json")],
            st.checker.answer_json(&found),
        )
            .into_response(),
        Err(Refusal::Identifier) => {
            error(StatusCode::BAD_REQUEST, "bad_identifier", BAD_IDENTIFIER)
        }
        Err(Refusal::Second) => error(StatusCode::BAD_REQUEST, "bad_second_fact", BAD_SECOND),
        Err(Refusal::Limited) => limited(),
    }
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn form_page() -> Response {
    html(StatusCode::OK, page::form(None))
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        page::CSS,
    )
        .into_response()
}

async fn form_check(
    State(st): St,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Form<CheckRequest>, FormRejection>,
) -> Response {
    let Ok(Form(req)) = body else {
        return html(
            StatusCode::BAD_REQUEST,
            page::form(Some(
                "Formulaire incomplet : remplissez les deux informations.",
            )),
        );
    };
    match run_check(&st, st.trusted.client_ip(addr.ip(), &headers), &req) {
        Ok(found) => html(
            StatusCode::OK,
            page::answer(&found, st.checker.html_bytes()),
        ),
        Err(Refusal::Identifier) => html(StatusCode::BAD_REQUEST, page::form(Some(BAD_IDENTIFIER))),
        Err(Refusal::Second) => html(StatusCode::BAD_REQUEST, page::form(Some(BAD_SECOND))),
        Err(Refusal::Limited) => html(
            StatusCode::TOO_MANY_REQUESTS,
            page::form(Some("Trop de vérifications : réessayez dans une heure.")),
        ),
    }
}

/// `{"blinded": "<64 hex digits>"}`.
#[derive(Debug, Deserialize)]
pub struct EvaluateRequest {
    pub blinded: String,
}

async fn oprf_evaluate(
    State(st): St,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Json<EvaluateRequest>, JsonRejection>,
) -> Response {
    let bad = || {
        error(
            StatusCode::BAD_REQUEST,
            "bad_element",
            "expected {\"blinded\": 32 bytes in hex}",
        )
    };
    let Ok(Json(req)) = body else { return bad() };
    let Some(bytes) = crate::client::from_hex(&req.blinded) else {
        return bad();
    };
    if st
        .limiter
        .check_oprf(st.trusted.client_ip(addr.ip(), &headers))
        .is_err()
    {
        st.count(Outcome::Limited);
        return limited();
    }
    match st.oprf.blind_evaluate(&bytes) {
        Some(e) => {
            Json(serde_json::json!({"evaluated": crate::client::to_hex(&e)})).into_response()
        }
        None => bad(),
    }
}

fn cacheable(content_type: &'static str, body: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn manifest(State(st): St) -> Response {
    match &st.buckets {
        Some(b) => cacheable("application/json", b.manifest_json.clone()),
        None => error(
            StatusCode::NOT_FOUND,
            "no_buckets",
            "this listener serves no bucket files",
        ),
    }
}

async fn bucket(State(st): St, UrlPath(prefix): UrlPath<String>) -> Response {
    let Some(b) = &st.buckets else {
        return error(
            StatusCode::NOT_FOUND,
            "no_buckets",
            "this listener serves no bucket files",
        );
    };
    match b.files.get(&prefix) {
        Some(bytes) => cacheable("application/octet-stream", bytes.clone()),
        None => error(StatusCode::NOT_FOUND, "not_found", "no such bucket"),
    }
}

/// Serve `state` on `listener` until `shutdown` completes; counters are flushed every
/// [`FLUSH`] and at the end, idle limiter keys swept every [`SWEEP`].
pub async fn serve(
    state: Arc<Public>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ReachError> {
    let bg = state.clone();
    let ticker = tokio::spawn(async move {
        let mut flush = tokio::time::interval(FLUSH);
        let mut sweep = tokio::time::interval(SWEEP);
        let mut reload = tokio::time::interval(RELOAD);
        loop {
            tokio::select! {
                _ = flush.tick() => {
                    let s = bg.clone();
                    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || s.flush()).await {
                        eprintln!("leaktrace selfcheck: counters not saved: {e}");
                    }
                }
                _ = sweep.tick() => bg.limiter.sweep(),
                _ = reload.tick() => {
                    let s = bg.clone();
                    match tokio::task::spawn_blocking(move || s.checker.reload_if_changed()).await {
                        Ok(Ok(true)) => eprintln!("leaktrace selfcheck: open incidents reloaded"),
                        Ok(Err(e)) => eprintln!("leaktrace selfcheck: open incidents not reloaded: {e}"),
                        _ => {}
                    }
                }
            }
        }
    });
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    // TCP_NODELAY: a small answer is never held back waiting for the client's delayed ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    ticker.abort();
    let s = state.clone();
    let _ = tokio::task::spawn_blocking(move || s.flush()).await;
    result.map_err(|e| ReachError::Http {
        url: "listener".into(),
        message: e.to_string(),
    })
}

/// Bind `addr` and serve until Ctrl-C.
pub async fn run(state: Arc<Public>, addr: SocketAddr) -> Result<(), ReachError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ReachError::file(Path::new(&addr.to_string()), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| ReachError::file(Path::new(&addr.to_string()), e))?;
    eprintln!("leaktrace selfcheck: public listener on http://{local}/");
    serve(state, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
