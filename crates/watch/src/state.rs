//! The watcher's own tables in the workspace's `catalog.sqlite`: one row per file content
//! (SHA-256) with its state machine, and one row per alert delivery. Migrations are versioned in
//! `watch_meta`, beside the index's `user_version` and the service's `server_meta`.
//!
//! Only hashes, states, counts and incident ids are stored — never a file name or a value.
//!
//! ```text
//!  seen ──► analysing ──► analysed ──► alerted
//!                 │            (deliveries pending: resent at start, until delivered)
//!                 ├──► not_ours (no incident, no alert)
//!                 └──► failed   (the analysis refused the file: named error kept)
//!  at start: analysing ──► seen (redone)
//! ```

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::WatchError;

/// The watcher's schema migrations; `watch_meta.schema_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: files by content, alert deliveries
    "CREATE TABLE watch_files (
        sha256 TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        times_seen INTEGER NOT NULL DEFAULT 1,
        first_seen TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        analyses INTEGER NOT NULL DEFAULT 0,
        outcome TEXT
     );
     CREATE TABLE watch_alerts (
        sha256 TEXT NOT NULL REFERENCES watch_files(sha256),
        channel TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at TEXT,
        PRIMARY KEY (sha256, channel)
     );",
];

/// Where a file is in the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Seen,
    Analysing,
    Analysed,
    Alerted,
    NotOurs,
    Failed,
}

impl FileStatus {
    /// The stable name stored in `watch_files.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Seen => "seen",
            FileStatus::Analysing => "analysing",
            FileStatus::Analysed => "analysed",
            FileStatus::Alerted => "alerted",
            FileStatus::NotOurs => "not_ours",
            FileStatus::Failed => "failed",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Option<FileStatus> {
        Some(match s {
            "seen" => FileStatus::Seen,
            "analysing" => FileStatus::Analysing,
            "analysed" => FileStatus::Analysed,
            "alerted" => FileStatus::Alerted,
            "not_ours" => FileStatus::NotOurs,
            "failed" => FileStatus::Failed,
            _ => return None,
        })
    }

    /// Whether the file still needs an analysis.
    pub fn needs_analysis(self) -> bool {
        matches!(self, FileStatus::Seen | FileStatus::Analysing)
    }
}

/// An alert channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    /// The stable name stored in `watch_alerts.channel`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }
}

/// One delivery's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub channel: String,
    pub key: String,
    pub delivered: bool,
    pub attempts: i64,
}

/// A file row.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRow {
    pub sha256: String,
    pub status: FileStatus,
    pub bytes: i64,
    pub times_seen: i64,
    /// How many analyses completed and were published (1 once analysed).
    pub analyses: i64,
    /// The outcome (JSON of [`crate::Outcome`]) once analysed.
    pub outcome: Option<String>,
}

/// The watcher's connection to the catalog.
#[derive(Debug)]
pub struct State {
    conn: Connection,
}

fn now() -> String {
    leaktrace_server::now_iso()
}

impl State {
    /// Open the catalog of a workspace and apply the watcher's migrations.
    pub fn open(home: &Path) -> Result<State, WatchError> {
        let db = home.join("catalog.sqlite");
        if !db.exists() {
            return Err(WatchError::NoWorkspace(home.display().to_string()));
        }
        let mut conn = Connection::open(&db)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        migrate(&mut conn)?;
        Ok(State { conn })
    }

    /// At start: analyses a stopped watcher left running are redone (`analysing` → `seen`).
    pub fn recover(&self) -> Result<usize, WatchError> {
        Ok(self.conn.execute(
            "UPDATE watch_files SET status = 'seen', updated_at = ?1 WHERE status = 'analysing'",
            [now()],
        )?)
    }

    /// A file's row.
    pub fn file(&self, sha256: &str) -> Result<Option<FileRow>, WatchError> {
        Ok(self
            .conn
            .query_row(
                "SELECT sha256, status, bytes, times_seen, analyses, outcome FROM watch_files
                 WHERE sha256 = ?1",
                [sha256],
                |r| {
                    let status: String = r.get(1)?;
                    Ok(FileRow {
                        sha256: r.get(0)?,
                        status: FileStatus::parse(&status).unwrap_or(FileStatus::Seen),
                        bytes: r.get(2)?,
                        times_seen: r.get(3)?,
                        analyses: r.get(4)?,
                        outcome: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// Record that a file with this content landed: a new row (`seen`), or one more sighting
    /// of a known content. Returns the row after the update.
    pub fn sighted(&self, sha256: &str, bytes: u64, again: bool) -> Result<FileRow, WatchError> {
        let t = now();
        self.conn.execute(
            "INSERT INTO watch_files (sha256, status, bytes, first_seen, updated_at)
             VALUES (?1, 'seen', ?2, ?3, ?3)
             ON CONFLICT (sha256) DO UPDATE SET
                times_seen = times_seen + CASE WHEN ?4 THEN 1 ELSE 0 END",
            params![sha256, bytes as i64, t, again],
        )?;
        self.file(sha256)?
            .ok_or_else(|| WatchError::State(format!("file row {sha256} vanished")))
    }

    /// Move a file to a new status.
    pub fn set_status(&self, sha256: &str, status: FileStatus) -> Result<(), WatchError> {
        self.conn.execute(
            "UPDATE watch_files SET status = ?2, updated_at = ?3 WHERE sha256 = ?1",
            params![sha256, status.as_str(), now()],
        )?;
        Ok(())
    }

    /// Record the published outcome of an analysis and its pending deliveries, in one
    /// transaction (`analysing` → `analysed`, or `not_ours` with no delivery).
    pub fn analysed(
        &mut self,
        sha256: &str,
        status: FileStatus,
        outcome: &str,
        deliveries: &[(Channel, String)],
    ) -> Result<(), WatchError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE watch_files SET status = ?2, outcome = ?3, analyses = analyses + 1,
                updated_at = ?4 WHERE sha256 = ?1",
            params![sha256, status.as_str(), outcome, now()],
        )?;
        for (ch, key) in deliveries {
            tx.execute(
                "INSERT OR IGNORE INTO watch_alerts (sha256, channel, idempotency_key, status)
                 VALUES (?1, ?2, ?3, 'pending')",
                params![sha256, ch.as_str(), key],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The deliveries of a file.
    pub fn deliveries(&self, sha256: &str) -> Result<Vec<Delivery>, WatchError> {
        let mut st = self.conn.prepare(
            "SELECT channel, idempotency_key, status, attempts FROM watch_alerts
             WHERE sha256 = ?1 ORDER BY channel",
        )?;
        let rows = st.query_map([sha256], |r| {
            Ok(Delivery {
                channel: r.get(0)?,
                key: r.get(1)?,
                delivered: r.get::<_, String>(2)? == "delivered",
                attempts: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Record one delivery attempt: delivered, or the error (a message naming no value).
    pub fn attempt(
        &self,
        sha256: &str,
        channel: &str,
        result: Result<(), &str>,
    ) -> Result<(), WatchError> {
        let (status, err, at) = match result {
            Ok(()) => ("delivered", None, Some(now())),
            Err(e) => ("pending", Some(e), None),
        };
        self.conn.execute(
            "UPDATE watch_alerts SET status = ?3, attempts = attempts + 1, last_error = ?4,
                delivered_at = ?5 WHERE sha256 = ?1 AND channel = ?2",
            params![sha256, channel, status, err, at],
        )?;
        Ok(())
    }

    /// Files analysed whose alerts are not all delivered yet.
    pub fn pending_alerts(&self) -> Result<Vec<String>, WatchError> {
        let mut st = self.conn.prepare(
            "SELECT sha256 FROM watch_files WHERE status = 'analysed' ORDER BY first_seen",
        )?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), WatchError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS watch_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    let v: i64 = conn
        .query_row(
            "SELECT value FROM watch_meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if v as usize > MIGRATIONS.len() {
        return Err(WatchError::Schema(v));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(v as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(m)?;
        tx.execute(
            "INSERT INTO watch_meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(i + 1).to_string()],
        )?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> (tempfile::TempDir, State) {
        let dir = tempfile::tempdir().unwrap();
        Connection::open(dir.path().join("catalog.sqlite")).unwrap();
        let s = State::open(dir.path()).unwrap();
        (dir, s)
    }

    #[test]
    fn a_content_is_one_row_and_analysing_is_redone_at_start() {
        let (dir, mut s) = state();
        let a = s.sighted("aa", 10, false).unwrap();
        assert_eq!((a.status, a.times_seen), (FileStatus::Seen, 1));
        let a = s.sighted("aa", 10, true).unwrap();
        assert_eq!(a.times_seen, 2);
        s.set_status("aa", FileStatus::Analysing).unwrap();
        assert_eq!(s.recover().unwrap(), 1);
        assert_eq!(s.file("aa").unwrap().unwrap().status, FileStatus::Seen);
        s.analysed(
            "aa",
            FileStatus::Analysed,
            "{}",
            &[(Channel::Email, "k".into()), (Channel::Webhook, "k".into())],
        )
        .unwrap();
        s.attempt("aa", "webhook", Err("HTTP 500")).unwrap();
        s.attempt("aa", "email", Ok(())).unwrap();
        let d = s.deliveries("aa").unwrap();
        assert_eq!(d.len(), 2);
        assert!(d[0].delivered && d[0].channel == "email");
        assert!(!d[1].delivered && d[1].attempts == 1);
        assert_eq!(s.pending_alerts().unwrap(), vec!["aa".to_string()]);
        // A second open runs no migration again and keeps the rows.
        drop(s);
        let s = State::open(dir.path()).unwrap();
        assert_eq!(s.file("aa").unwrap().unwrap().analyses, 1);
        assert_eq!(s.recover().unwrap(), 0);
    }
}
