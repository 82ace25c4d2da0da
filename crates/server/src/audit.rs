//! The audit trail: every login, view, download, upload, edit and status change, appended with
//! user, time, action and object — never a personal value — and hash-chained: each entry holds
//! the SHA-256 of the previous entry and of its own content, so an altered, inserted or removed
//! entry breaks the chain at that point ([`verify`]). The head (last id and hash) is also kept in
//! `server_meta`, so that removing the last entries shows too.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ServerError;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    LoginSucceeded,
    LoginFailed,
    LoginLocked,
    LoginThrottled,
    Logout,
    View,
    Download,
    Upload,
    AnalysisStarted,
    AnalysisFinished,
    AnalysisFailed,
    AnalysisCancelled,
    StatusChange,
    UserAdded,
    PasswordChanged,
    TokenCreated,
    Export,
    EnrolmentStarted,
    EnrolmentFinished,
    EnrolmentFailed,
    DraftEdited,
}

impl Action {
    /// The stable name stored in the trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::LoginSucceeded => "login_succeeded",
            Action::LoginFailed => "login_failed",
            Action::LoginLocked => "login_locked",
            Action::LoginThrottled => "login_throttled",
            Action::Logout => "logout",
            Action::View => "view",
            Action::Download => "download",
            Action::Upload => "upload",
            Action::AnalysisStarted => "analysis_started",
            Action::AnalysisFinished => "analysis_finished",
            Action::AnalysisFailed => "analysis_failed",
            Action::AnalysisCancelled => "analysis_cancelled",
            Action::StatusChange => "status_change",
            Action::UserAdded => "user_added",
            Action::PasswordChanged => "password_changed",
            Action::TokenCreated => "token_created",
            Action::Export => "export",
            Action::EnrolmentStarted => "enrolment_started",
            Action::EnrolmentFinished => "enrolment_finished",
            Action::EnrolmentFailed => "enrolment_failed",
            Action::DraftEdited => "draft_edited",
        }
    }
}

/// One entry of the trail.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub at: String,
    pub user: String,
    pub action: String,
    pub object: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry: SHA-256 over its id, time, user, action, object and the previous hash.
pub fn entry_hash(id: i64, at: &str, user: &str, action: &str, object: &str, prev: &str) -> String {
    let mut h = Sha256::new();
    for part in [id.to_string().as_str(), at, user, action, object, prev] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Action {
    /// Whether the entry is committed with `synchronous=FULL` (the WAL synced before the
    /// answer). Views and downloads — nearly every entry, one per page served — are committed
    /// with `NORMAL`: durable if the service crashes, and synced by the next entry that is not a
    /// view or by the next checkpoint; a power cut can lose the last ones. Measured in
    /// bench/README.md (the sync per view capped the service at ~260 pages/s).
    pub fn synced(self) -> bool {
        !matches!(self, Action::View | Action::Download)
    }
}

/// Append an entry (one transaction with the head update). Returns its id.
pub fn append(
    conn: &mut Connection,
    user: &str,
    action: Action,
    object: &str,
) -> Result<i64, ServerError> {
    conn.pragma_update(
        None,
        "synchronous",
        if action.synced() { "FULL" } else { "NORMAL" },
    )?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (id, prev) = match last {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let at = crate::now_iso();
    let hash = entry_hash(id, &at, user, action.as_str(), object, &prev);
    tx.execute(
        "INSERT INTO audit (id, at, user, action, object, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![id, at, user, action.as_str(), object, prev, hash],
    )?;
    tx.execute(
        "INSERT INTO server_meta (key, value) VALUES ('audit_head', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [format!("{id} {hash}")],
    )?;
    tx.commit()?;
    Ok(id)
}

/// Every entry in order, optionally only those about one object prefix (`incident:ID`).
pub fn entries(conn: &Connection, object_prefix: Option<&str>) -> Result<Vec<Entry>, ServerError> {
    let mut st = conn
        .prepare("SELECT id, at, user, action, object, prev_hash, hash FROM audit ORDER BY id")?;
    let rows = st.query_map([], |r| {
        Ok(Entry {
            id: r.get(0)?,
            at: r.get(1)?,
            user: r.get(2)?,
            action: r.get(3)?,
            object: r.get(4)?,
            prev_hash: r.get(5)?,
            hash: r.get(6)?,
        })
    })?;
    let mut out = Vec::new();
    for e in rows {
        let e = e?;
        if object_prefix.is_none_or(|p| e.object == p || e.object.starts_with(&format!("{p}/"))) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("audit entry {id}: expected id {expected} (an entry before it was removed)")]
    Gap { id: i64, expected: i64 },
    #[error("audit entry {id}: its previous-entry hash does not match entry {prev}")]
    PrevMismatch { id: i64, prev: i64 },
    #[error("audit entry {id}: its content does not match its hash (altered)")]
    Altered { id: i64 },
    #[error(
        "audit trail ends at entry {last} but its head says {head} (entries removed at the end)"
    )]
    Truncated { last: i64, head: i64 },
    #[error("audit head {0:?} does not match the last entry")]
    Head(String),
}

impl ChainError {
    /// The id of the first bad entry.
    pub fn entry(&self) -> i64 {
        match self {
            ChainError::Gap { id, .. }
            | ChainError::PrevMismatch { id, .. }
            | ChainError::Altered { id } => *id,
            ChainError::Truncated { last, .. } => last + 1,
            ChainError::Head(_) => 0,
        }
    }
}

/// The result of a good verification: how many entries and the head hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub entries: i64,
    pub head: String,
}

/// Check the whole chain: ids consecutive from 1, each `prev_hash` the previous entry's hash,
/// each hash recomputed from the content, and the last entry the recorded head.
pub fn verify(conn: &Connection) -> Result<Result<Verified, ChainError>, ServerError> {
    let all = entries(conn, None)?;
    let mut prev = GENESIS.to_string();
    let mut expected = 1;
    for e in &all {
        if e.id != expected {
            return Ok(Err(ChainError::Gap { id: e.id, expected }));
        }
        if e.prev_hash != prev {
            return Ok(Err(ChainError::PrevMismatch {
                id: e.id,
                prev: e.id - 1,
            }));
        }
        if entry_hash(e.id, &e.at, &e.user, &e.action, &e.object, &e.prev_hash) != e.hash {
            return Ok(Err(ChainError::Altered { id: e.id }));
        }
        prev = e.hash.clone();
        expected += 1;
    }
    let head: Option<String> = conn
        .query_row(
            "SELECT value FROM server_meta WHERE key = 'audit_head'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let last = expected - 1;
    if let Some(h) = head {
        let (hid, hhash) = h.split_once(' ').unwrap_or(("", ""));
        let hid: i64 = hid.parse().unwrap_or(-1);
        if hid > last {
            return Ok(Err(ChainError::Truncated { last, head: hid }));
        }
        if hid != last || hhash != prev {
            return Ok(Err(ChainError::Head(h)));
        }
    } else if last > 0 {
        return Ok(Err(ChainError::Head(String::new())));
    }
    Ok(Ok(Verified {
        entries: last,
        head: prev,
    }))
}
