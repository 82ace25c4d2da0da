//! The incident service behind `leaktrace serve`: a web application for the DPO's team on an
//! existing workspace. Accounts with roles ([`auth`]), incidents created by uploading the leaked
//! file (its SHA-256 is the evidence hash, [`upload`]), the analysis as a background job with
//! live progress ([`jobs`]), the report and drafts served by role, a hash-chained audit trail
//! ([`audit`], [`export`]), HTML pages ([`pages`]) and a JSON API ([`api`]).
//!
//! State lives in the workspace: the service's tables in `catalog.sqlite` ([`store`]) and the
//! incidents' files under `<home>/server/`. The key is read as the CLI reads it and never sent.

pub mod admin;
pub mod api;
pub mod audit;
pub mod auth;
pub mod drafts_edit;
pub mod error;
pub mod eta;
pub mod export;
pub mod i18n;
pub mod incident_page;
pub mod intake;
pub mod jobs;
pub mod openapi;
pub mod pages;
pub mod proxy;
pub mod selfcheck;
pub mod service;
pub mod sources;
pub mod sources_page;
pub mod store;
pub mod throttle;
pub mod upload;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{header, HeaderValue};
use axum::Router;
use serde::{Deserialize, Serialize};
use tower_http::set_header::SetResponseHeaderLayer;

pub use store::Store;

/// Errors of the service's library.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("catalog: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("{0}: no leaktrace workspace here (run `leaktrace init` first)")]
    NoWorkspace(String),
    #[error("the catalog's service tables are at version {0}, newer than this leaktrace")]
    Schema(i64),
    #[error("{0}")]
    Input(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no randomness: {0}")]
    Random(String),
    #[error("password hashing: {0}")]
    Password(String),
    #[error(transparent)]
    Index(#[from] leaktrace_index::IndexError),
    #[error("archive: {0}")]
    Zip(#[from] zip::result::ZipError),
}

impl ServerError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ServerError {
        ServerError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The workspace directory (catalog, index).
    pub home: PathBuf,
    /// The key file (as the CLI's `--key-file`); `None`: the default path.
    pub key_file: Option<PathBuf>,
    /// Largest upload in bytes.
    pub upload_max: u64,
    /// Session lifetime in seconds.
    pub session_seconds: i64,
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// Sign-in attempts allowed per client address per minute ([`throttle`]).
    pub login_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client ([`proxy`]).
    pub trusted_proxies: proxy::TrustedProxies,
}

impl Config {
    /// Defaults for a workspace: 1 GiB uploads, 8-hour sessions, cookies not `Secure`, 20
    /// sign-in attempts per address per minute.
    pub fn new(home: &Path, key_file: Option<&Path>) -> Config {
        Config {
            home: home.to_path_buf(),
            key_file: key_file.map(Path::to_path_buf),
            upload_max: 1 << 30,
            session_seconds: 8 * 3600,
            secure_cookies: false,
            login_per_minute: throttle::LOGIN_ATTEMPTS_PER_MINUTE,
            trusted_proxies: proxy::TrustedProxies::default(),
        }
    }

    /// Where the service keeps its files: `<home>/server`.
    pub fn dir(&self) -> PathBuf {
        self.home.join("server")
    }
}

/// The service's configuration file (`leaktrace serve --config FILE`, TOML); every key is
/// optional and a flag given on the command line wins.
///
/// ```toml
/// listen = "127.0.0.1:8080"
/// upload_max_mb = 1024
/// session_hours = 8
/// secure_cookies = true
/// ```
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub upload_max_mb: Option<u64>,
    pub session_hours: Option<i64>,
    pub secure_cookies: Option<bool>,
}

impl FileConfig {
    /// Parse a configuration file's text.
    pub fn parse(text: &str) -> Result<FileConfig, ServerError> {
        toml::from_str(text).map_err(|e| ServerError::Input(format!("configuration: {e}")))
    }

    /// Read and parse a configuration file.
    pub fn load(path: &Path) -> Result<FileConfig, ServerError> {
        let text = std::fs::read_to_string(path).map_err(|e| ServerError::io(path, e))?;
        Self::parse(&text).map_err(|e| ServerError::Input(format!("{}: {e}", path.display())))
    }
}

/// What the handlers share.
#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    store: Mutex<Store>,
    pub jobs: jobs::Jobs,
    /// The per-address sign-in budget.
    pub login_throttle: throttle::LoginThrottle,
    /// Enrolments started from the browser.
    pub enrolments: sources::Enrolments,
    /// Parsed `analysis.json` files.
    pub analyses: service::AnalysisCache,
}

impl AppState {
    /// The catalog connection (short critical sections only; never held across an await).
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append an audit entry; a failure is logged, never shown (the action already happened).
    pub fn audit(&self, user: &str, action: audit::Action, object: &str) {
        let mut s = self.store();
        if let Err(e) = audit::append(&mut s.conn, user, action, object) {
            eprintln!("leaktrace serve: audit append failed: {e}");
        }
    }
}

/// The incident fields of the form (those of `--incident FILE` in the CLI, plus a title).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IncidentFields {
    pub title: String,
    pub organisation: Option<String>,
    pub contact: Option<String>,
    pub nature: Option<String>,
    pub measures_taken: Vec<String>,
    pub measures_proposed: Vec<String>,
    pub delay_reasons: Option<String>,
}

impl IncidentFields {
    /// The report crate's incident description.
    pub fn to_incident(&self, discovered_at: &str) -> leaktrace_report::Incident {
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        leaktrace_report::Incident {
            organisation: self.organisation.clone(),
            contact: self.contact.clone(),
            discovered_at: Some(discovered_at.to_string()),
            nature: self.nature.clone(),
            measures_taken: list(&self.measures_taken),
            measures_proposed: list(&self.measures_proposed),
            delay_reasons: self.delay_reasons.clone(),
            ..Default::default()
        }
    }
}

/// Now as unix seconds.
pub fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Now as an ISO 8601 UTC time to the second.
pub fn now_iso() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Open the service on a workspace: checks the key against the catalog (as the CLI does), applies
/// the service's migrations, marks jobs a stopped server left running as `interrupted`, removes
/// half-written files, and builds the state.
pub fn open(config: Config) -> Result<Arc<AppState>, ServerError> {
    leaktrace_index::Workspace::open(&config.home, config.key_file.as_deref())?;
    let store = Store::open(&config.home)?;
    let interrupted = store.mark_interrupted()?;
    if interrupted > 0 {
        eprintln!("leaktrace serve: {interrupted} job(s) interrupted by the last stop, marked `interrupted` (rerun from the incident page)");
    }
    store.purge_sessions(now_unix())?;
    let dir = config.dir();
    for sub in ["uploads", "incidents"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| ServerError::io(&dir, e))?;
    }
    upload::clean_partial(&dir)?;
    Ok(Arc::new(AppState {
        login_throttle: throttle::LoginThrottle::new(config.login_per_minute),
        config,
        store: Mutex::new(store),
        jobs: jobs::Jobs::default(),
        enrolments: sources::Enrolments::default(),
        analyses: service::AnalysisCache::default(),
    }))
}

/// The whole application: pages, API, assets, every route behind [`auth::guard`], and the
/// security headers (CSP `default-src 'self'`, no framing, no sniffing, no referrer).
pub fn router(state: Arc<AppState>) -> Router {
    let app = pages::routes()
        .merge(api::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .with_state(state);
    with_security_headers(
        app,
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
}

/// `app` with the headers every response of leaktrace's listeners carries unless its handler
/// set its own: `csp` as the Content-Security-Policy, no content sniffing, no framing, no
/// referrer, no caching.
pub fn with_security_headers(app: Router, csp: &'static str) -> Router {
    let headers: [(header::HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    let mut app = app;
    for (name, value) in headers {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    app
}

/// Serve until Ctrl-C or SIGTERM (with each connection's peer address, for [`throttle`]).
pub async fn serve(state: Arc<AppState>, listen: SocketAddr) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| ServerError::io(Path::new(&listen.to_string()), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServerError::io(Path::new(&listen.to_string()), e))?;
    eprintln!("leaktrace serve: listening on http://{addr}/");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| ServerError::io(Path::new(&addr.to_string()), e))
}

/// Run the service from a synchronous caller (the CLI): a Tokio runtime with two workers, the
/// state opened on the workspace, served until Ctrl-C; running analyses get a few seconds to
/// stop, and any still running is marked `interrupted` at the next start.
pub fn run(config: Config, listen: SocketAddr) -> Result<(), ServerError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ServerError::io(Path::new("tokio runtime"), e))?;
    let result = rt.block_on(async {
        let state = open(config)?;
        serve(state, listen).await
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    result
}

/// [`run`] with a state already [`open`]ed (so that the caller could take its job gate first).
pub fn run_open(state: Arc<AppState>, listen: SocketAddr) -> Result<(), ServerError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ServerError::io(Path::new("tokio runtime"), e))?;
    let result = rt.block_on(serve(state, listen));
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_files() {
        let full = "listen = \"127.0.0.1:9000\"\nupload_max_mb = 5\nsession_hours = 2\nsecure_cookies = true\n";
        let cases: &[(&str, Option<FileConfig>)] = &[
            ("", Some(FileConfig::default())),
            (
                full,
                Some(FileConfig {
                    listen: Some("127.0.0.1:9000".parse().unwrap()),
                    upload_max_mb: Some(5),
                    session_hours: Some(2),
                    secure_cookies: Some(true),
                }),
            ),
            ("port = 80", None),
            ("listen = \"localhost\"", None),
            ("upload_max_mb = \"big\"", None),
        ];
        for (text, want) in cases {
            assert_eq!(FileConfig::parse(text).ok(), *want, "{text}");
        }
    }
}
