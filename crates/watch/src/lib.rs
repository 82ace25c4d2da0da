//! The folder watcher of `leaktrace watch DIR` and `leaktrace serve --watch DIR` (docs/watch.md):
//! a file that lands in the folder — closed after writing or renamed in, debounced; or, with
//! [`Detection::Poll`], seen unchanged over a poll interval — is hashed, analysed once per
//! content, opened as an incident of the incident service ([`leaktrace_server::intake`])
//! unless the verdict is `not_ours`, compared with earlier incidents (re-appearance) and
//! announced to the team by e-mail and signed webhook ([`alert`]).
//!
//! State lives in the workspace's catalog ([`state`]): a content goes `seen → analysing →
//! analysed → alerted`; a watcher stopped mid-analysis redoes it at the next start, and an
//! alert delivered is never sent again.

pub mod alert;
pub mod detect;
pub mod process;
pub mod state;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

pub use alert::{Channels, EmailConfig, Reappearance, WebhookConfig};
pub use detect::Detection;
pub use leaktrace_mail::{SmtpConfig, TlsMode};

/// Errors of the watcher.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("catalog: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("{0}: no leaktrace workspace here (run `leaktrace init` first)")]
    NoWorkspace(String),
    #[error("the catalog's watcher tables are at version {0}, newer than this leaktrace")]
    Schema(i64),
    #[error("watcher state: {0}")]
    State(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: the file changed while it was analysed; it is taken again once it is stable")]
    Changed(String),
    #[error("{path}: {message}")]
    Report { path: String, message: String },
    #[error(
        "{dir}: the inotify watch limit is reached (fs.inotify.max_user_watches); raise it with \
         `sysctl fs.inotify.max_user_watches=524288` (and in /etc/sysctl.d/ to keep it), or watch \
         by polling with --poll SECS"
    )]
    InotifyWatches { dir: String },
    #[error(
        "{dir}: no inotify instance left (fs.inotify.max_user_instances); raise it with \
         `sysctl fs.inotify.max_user_instances=1024`, or watch by polling with --poll SECS"
    )]
    InotifyInstances { dir: String },
    #[error("{dir}: cannot watch: {message}")]
    Notify { dir: String, message: String },
    #[error(transparent)]
    Index(#[from] leaktrace_index::IndexError),
    #[error(transparent)]
    Analyze(#[from] leaktrace_analyze::AnalyzeError),
    #[error(transparent)]
    ReportWrite(#[from] leaktrace_report::ReportError),
    #[error(transparent)]
    Server(#[from] leaktrace_server::ServerError),
}

impl WatchError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> WatchError {
        WatchError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// How the watcher runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The workspace directory.
    pub home: PathBuf,
    /// The watched folder (not recursive).
    pub dir: PathBuf,
    pub detection: Detection,
    /// Quiet time after a file's last event before it is taken.
    pub debounce: std::time::Duration,
    /// Where the service's pages are reached: links are `<base_url>/incidents/<id>`.
    pub base_url: String,
    pub channels: Channels,
    /// The incident service's one-at-a-time gate (`serve --watch`): each analysis waits for
    /// it, so a watched file and an uploaded one are never analysed at once. `None` for the
    /// standalone `leaktrace watch`.
    pub gate: Option<leaktrace_server::jobs::Gate>,
}

impl Config {
    /// The link to an incident's page.
    pub fn incident_url(&self, public_id: &str) -> String {
        format!(
            "{}/incidents/{public_id}",
            self.base_url.trim_end_matches('/')
        )
    }
}

/// What an analysed file gave (stored in the watcher's table; the alerts' figures): counts,
/// the verdict and links only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub verdict: String,
    pub confidence: f64,
    pub rows: u64,
    pub rows_linked: u64,
    pub persons_affected: u64,
    /// The incident's number and link.
    pub incident: i64,
    pub incident_url: String,
    pub reappearance: Option<Reappearance>,
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Watch until `stop` is set: the files already in the folder are taken first (a content
/// already handled is only counted), then each file that lands. Alerts left pending by a
/// stopped watcher are sent at the start.
pub fn run(
    cfg: &Config,
    ws: &leaktrace_index::Workspace,
    stop: &AtomicBool,
    log: &(dyn Fn(&str) + Sync),
) -> Result<(), WatchError> {
    let mut st = state::State::open(&cfg.home)?;
    let redone = st.recover()?;
    if redone > 0 {
        log(&format!(
            "{redone} analysis(es) interrupted by the last stop will be redone"
        ));
    }
    for sha in st.pending_alerts()? {
        process::send_pending(cfg, &st, &sha)?;
    }
    let mut take = |path: &Path| match process::handle(cfg, ws, &mut st, path) {
        Ok(h) => log(&format!("sha256 {}: {:?}", &h.sha256[..12], h.landed)),
        // Errors name the path given (the folder's own files), never a value of a file.
        Err(e) => log(&e.to_string()),
    };
    detect::watch(cfg, stop, &mut take)
}
