//! Reaching the affected people (issue 17): the public self-check.
//!
//! * [`store`]: the incidents the DPO opened to self-check and the daily counters, in the
//!   workspace's `catalog.sqlite` (own migration list, version in `reach_meta`).
//! * [`answers`]: what an affected person is told, per open incident (date, their categories,
//!   advice, the Art. 34 notice), read from the incidents' `affected_persons.csv`.
//! * [`check`]: the server-side check of two facts, normalised and fingerprinted as enrolment
//!   does, with the same work and a same-size answer whatever the outcome.
//! * [`limits`]: rate limits per client address, per identifier (keyed hash, memory only) and
//!   overall.
//! * [`public`]: the public listener (French page and JSON API), separate from the team's.
//! * [`oprf`], [`export`], [`client`]: the OPRF mode (RFC 9497, Ristretto255-SHA512), padded
//!   bucket files and the client that unblinds and looks its entry up.
//!
//! Nothing here writes an identifier, a fingerprint of one or a client address: only counters.

pub mod answers;
pub mod check;
pub mod client;
pub mod export;
pub mod limits;
pub mod oprf;
pub mod page;
pub mod public;
pub mod store;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum ReachError {
    #[error("catalog: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("the catalog's self-check tables are at version {0}, newer than this leaktrace")]
    Schema(i64),
    #[error("{0}")]
    Input(String),
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Index(#[from] leaktrace_index::IndexError),
    #[error(transparent)]
    Server(#[from] leaktrace_server::ServerError),
    #[error(transparent)]
    Read(#[from] leaktrace_io::ReadError),
    #[error("oprf: {0}")]
    Oprf(String),
    #[error("{url}: {message}")]
    Http { url: String, message: String },
}

impl ReachError {
    pub(crate) fn file(path: &std::path::Path, message: impl std::fmt::Display) -> ReachError {
        ReachError::File {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }
}
