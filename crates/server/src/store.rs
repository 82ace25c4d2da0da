//! The service's tables in the workspace's SQLite catalog (`catalog.sqlite`): users, sessions,
//! API tokens, incidents and their status timeline, analysis jobs and the audit trail.
//!
//! The index's own tables are migrated by `leaktrace-index` through `PRAGMA user_version`; the
//! service keeps its own migration list and records its version in `server_meta`, so both lists
//! grow independently on the same file. No table here holds a value of a leaked file.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::auth::Role;
use crate::ServerError;

/// The service's schema migrations, applied in order; `server_meta.schema_version` records how
/// many ran.
const MIGRATIONS: &[&str] = &[
    // 1: accounts, sessions, tokens, incidents, jobs, audit trail
    "CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
     );
     CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        csrf TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
     );
     CREATE TABLE api_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        label TEXT NOT NULL,
        created_at TEXT NOT NULL
     );
     CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        public_id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        file_name TEXT NOT NULL,
        file_bytes INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        discovered_at TEXT NOT NULL,
        fields TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
     );
     CREATE TABLE incident_status (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        status TEXT NOT NULL,
        at TEXT NOT NULL,
        user TEXT NOT NULL,
        UNIQUE (incident_id, status)
     );
     CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id),
        status TEXT NOT NULL,
        rows INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        finished_at TEXT
     );
     CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user TEXT NOT NULL,
        action TEXT NOT NULL,
        object TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
     );",
    // 2: incidents the DPO opened to the self-check (the public listener reads it; `IF NOT
    // EXISTS`: workspaces made before this migration have it from leaktrace-reach's)
    "CREATE TABLE IF NOT EXISTS selfcheck_incidents (
        incident INTEGER PRIMARY KEY,
        opened_by TEXT NOT NULL,
        opened_at TEXT NOT NULL
     );",
];

/// Who opened an incident to the self-check, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelfcheckRow {
    pub opened_by: String,
    pub opened_at: String,
}

/// An account.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    #[serde(skip)]
    pub failed_logins: i64,
    /// Unix seconds until which logins are refused.
    #[serde(skip)]
    pub locked_until: i64,
    pub disabled: bool,
    pub created_at: String,
}

/// A live session found from its cookie.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: User,
    pub csrf: String,
    pub expires_at: i64,
}

/// An incident as the catalog holds it.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentRow {
    /// Sequential number (shown as `#N`, used by `leaktrace audit export --incident N`).
    pub number: i64,
    /// Random, unguessable id used in every URL.
    pub id: String,
    pub title: String,
    pub file_name: String,
    pub file_bytes: i64,
    /// SHA-256 of the uploaded file, computed as it arrived: the evidence hash.
    pub sha256: String,
    pub discovered_at: String,
    /// The incident fields of the form (JSON of [`crate::IncidentFields`]).
    #[serde(skip)]
    pub fields: String,
    pub created_by: String,
    pub created_at: String,
}

/// One step of an incident's status timeline.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub status: String,
    pub at: String,
    pub user: String,
}

/// An analysis job.
#[derive(Debug, Clone, Serialize)]
pub struct JobRow {
    pub id: i64,
    pub incident: i64,
    pub status: String,
    pub rows: i64,
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// The service's connection to the catalog.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
}

fn migrate(conn: &mut Connection) -> Result<(), ServerError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    let v: i64 = conn
        .query_row(
            "SELECT value FROM server_meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if v as usize > MIGRATIONS.len() {
        return Err(ServerError::Schema(v));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(v as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(m)?;
        tx.execute(
            "INSERT INTO server_meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(i + 1).to_string()],
        )?;
        tx.commit()?;
    }
    Ok(())
}

fn user_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        password_hash: r.get(3)?,
        failed_logins: r.get(4)?,
        locked_until: r.get(5)?,
        disabled: r.get::<_, i64>(6)? != 0,
        created_at: r.get(7)?,
    })
}

const USER_COLS: &str =
    "u.id, u.name, u.role, u.password_hash, u.failed_logins, u.locked_until, u.disabled, u.created_at";
const INCIDENT_COLS: &str = "id, public_id, title, file_name, file_bytes, sha256, discovered_at, \
                             fields, created_by, created_at";

fn incident_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
    Ok(IncidentRow {
        number: r.get(0)?,
        id: r.get(1)?,
        title: r.get(2)?,
        file_name: r.get(3)?,
        file_bytes: r.get(4)?,
        sha256: r.get(5)?,
        discovered_at: r.get(6)?,
        fields: r.get(7)?,
        created_by: r.get(8)?,
        created_at: r.get(9)?,
    })
}

const JOB_COLS: &str = "id, incident_id, status, rows, error, created_by, created_at, finished_at";

fn job_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: r.get(0)?,
        incident: r.get(1)?,
        status: r.get(2)?,
        rows: r.get(3)?,
        error: r.get(4)?,
        created_by: r.get(5)?,
        created_at: r.get(6)?,
        finished_at: r.get(7)?,
    })
}

impl Store {
    /// Open the workspace's catalog (which `leaktrace init` created) and apply the service's
    /// migrations.
    pub fn open(home: &Path) -> Result<Store, ServerError> {
        let db = home.join("catalog.sqlite");
        if !db.exists() {
            return Err(ServerError::NoWorkspace(home.display().to_string()));
        }
        let mut conn = Connection::open(&db)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        migrate(&mut conn)?;
        Ok(Store { conn })
    }

    /// Create an account; the name must be new.
    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<i64, ServerError> {
        let exists = self.user(name)?.is_some();
        if exists {
            return Err(ServerError::Input(format!("user {name:?} already exists")));
        }
        self.conn.execute(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, role.as_str(), password_hash, crate::now_iso()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Replace a user's password hash and clear its lockout.
    pub fn set_password(&self, name: &str, password_hash: &str) -> Result<bool, ServerError> {
        Ok(self.conn.execute(
            "UPDATE users SET password_hash = ?2, failed_logins = 0, locked_until = 0
             WHERE name = ?1",
            params![name, password_hash],
        )? == 1)
    }

    /// Every account, by name.
    pub fn users(&self) -> Result<Vec<User>, ServerError> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {USER_COLS} FROM users u ORDER BY u.name"))?;
        let rows = st.query_map([], user_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One account by name.
    pub fn user(&self, name: &str) -> Result<Option<User>, ServerError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {USER_COLS} FROM users u WHERE u.name = ?1"),
                [name],
                user_of,
            )
            .optional()?)
    }

    /// Record a failed login: after `max_failures` in a row the account is locked until
    /// `lock_until` (unix seconds).
    pub fn login_failed(
        &self,
        id: i64,
        max_failures: i64,
        lock_until: i64,
    ) -> Result<(), ServerError> {
        self.conn.execute(
            "UPDATE users SET failed_logins = failed_logins + 1,
                locked_until = CASE WHEN failed_logins + 1 >= ?2 THEN ?3 ELSE locked_until END
             WHERE id = ?1",
            params![id, max_failures, lock_until],
        )?;
        Ok(())
    }

    /// Record a successful login (clears the failure count).
    pub fn login_succeeded(&self, id: i64) -> Result<(), ServerError> {
        self.conn.execute(
            "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    /// Store a new session (by the SHA-256 of its cookie value).
    pub fn add_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), ServerError> {
        self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, user_id, csrf, now, expires_at],
        )?;
        Ok(())
    }

    /// The session with this token hash, expired or not.
    pub fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, ServerError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {USER_COLS}, s.csrf, s.expires_at FROM sessions s
                     JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
                ),
                [token_hash],
                |r| {
                    Ok(SessionRow {
                        user: user_of(r)?,
                        csrf: r.get(8)?,
                        expires_at: r.get(9)?,
                    })
                },
            )
            .optional()?)
    }

    /// End a session.
    pub fn delete_session(&self, token_hash: &str) -> Result<(), ServerError> {
        self.conn
            .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    /// Drop sessions that expired before `now`.
    pub fn purge_sessions(&self, now: i64) -> Result<usize, ServerError> {
        Ok(self
            .conn
            .execute("DELETE FROM sessions WHERE expires_at < ?1", [now])?)
    }

    /// Store an API token (by its SHA-256) for a user.
    pub fn add_token(
        &self,
        token_hash: &str,
        user_id: i64,
        label: &str,
    ) -> Result<(), ServerError> {
        self.conn.execute(
            "INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, user_id, label, crate::now_iso()],
        )?;
        Ok(())
    }

    /// The user owning an API token.
    pub fn token_user(&self, token_hash: &str) -> Result<Option<User>, ServerError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {USER_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id
                     WHERE t.token_hash = ?1"
                ),
                [token_hash],
                user_of,
            )
            .optional()?)
    }

    /// Insert an incident with its first timeline step (`discovered`).
    pub fn add_incident(&mut self, i: &IncidentRow) -> Result<i64, ServerError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO incidents (public_id, title, file_name, file_bytes, sha256, discovered_at,
                fields, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                i.id,
                i.title,
                i.file_name,
                i.file_bytes,
                i.sha256,
                i.discovered_at,
                i.fields,
                i.created_by,
                i.created_at
            ],
        )?;
        let n = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO incident_status (incident_id, status, at, user) VALUES (?1, 'discovered', ?2, ?3)",
            params![n, i.discovered_at, i.created_by],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Every incident, newest first.
    pub fn incidents(&self) -> Result<Vec<IncidentRow>, ServerError> {
        let mut st = self.conn.prepare(&format!(
            "SELECT {INCIDENT_COLS} FROM incidents ORDER BY id DESC"
        ))?;
        let rows = st.query_map([], incident_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// An incident by its public id.
    pub fn incident(&self, public_id: &str) -> Result<Option<IncidentRow>, ServerError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {INCIDENT_COLS} FROM incidents WHERE public_id = ?1"),
                [public_id],
                incident_of,
            )
            .optional()?)
    }

    /// An incident by its number.
    pub fn incident_by_number(&self, number: i64) -> Result<Option<IncidentRow>, ServerError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = ?1"),
                [number],
                incident_of,
            )
            .optional()?)
    }

    /// Add a timeline step; false when the incident already has it.
    pub fn add_status(
        &self,
        incident: i64,
        status: &str,
        at: &str,
        user: &str,
    ) -> Result<bool, ServerError> {
        Ok(self.conn.execute(
            "INSERT OR IGNORE INTO incident_status (incident_id, status, at, user) VALUES (?1, ?2, ?3, ?4)",
            params![incident, status, at, user],
        )? == 1)
    }

    /// Who opened incident `incident` to the self-check and when (`None`: it is closed).
    pub fn selfcheck(&self, incident: i64) -> Result<Option<SelfcheckRow>, ServerError> {
        Ok(self
            .conn
            .query_row(
                "SELECT opened_by, opened_at FROM selfcheck_incidents WHERE incident = ?1",
                [incident],
                |r| {
                    Ok(SelfcheckRow {
                        opened_by: r.get(0)?,
                        opened_at: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Open (`open`) or close incident `incident` to the self-check as `user`; whether that
    /// changed anything (false: it was already open, or already closed).
    pub fn set_selfcheck(
        &self,
        incident: i64,
        user: &str,
        open: bool,
    ) -> Result<bool, ServerError> {
        let n = if open {
            self.conn.execute(
                "INSERT OR IGNORE INTO selfcheck_incidents (incident, opened_by, opened_at)
                 VALUES (?1, ?2, ?3)",
                params![incident, user, crate::now_iso()],
            )?
        } else {
            self.conn.execute(
                "DELETE FROM selfcheck_incidents WHERE incident = ?1",
                [incident],
            )?
        };
        Ok(n == 1)
    }

    /// An incident's timeline, in order of entry.
    pub fn statuses(&self, incident: i64) -> Result<Vec<StatusRow>, ServerError> {
        let mut st = self.conn.prepare(
            "SELECT status, at, user FROM incident_status WHERE incident_id = ?1 ORDER BY id",
        )?;
        let rows = st.query_map([incident], |r| {
            Ok(StatusRow {
                status: r.get(0)?,
                at: r.get(1)?,
                user: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Queue an analysis job.
    pub fn add_job(&self, incident: i64, user: &str) -> Result<i64, ServerError> {
        self.conn.execute(
            "INSERT INTO jobs (incident_id, status, created_by, created_at) VALUES (?1, 'queued', ?2, ?3)",
            params![incident, user, crate::now_iso()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Update a job's status (and rows, error); terminal statuses get a finish time.
    pub fn set_job(
        &self,
        id: i64,
        status: &str,
        rows: u64,
        error: Option<&str>,
    ) -> Result<(), ServerError> {
        let terminal = !matches!(status, "queued" | "running");
        self.conn.execute(
            "UPDATE jobs SET status = ?2, rows = ?3, error = ?4,
                finished_at = CASE WHEN ?5 THEN ?6 ELSE finished_at END WHERE id = ?1",
            params![id, status, rows as i64, error, terminal, crate::now_iso()],
        )?;
        Ok(())
    }

    /// The latest job of an incident.
    pub fn last_job(&self, incident: i64) -> Result<Option<JobRow>, ServerError> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {JOB_COLS} FROM jobs WHERE incident_id = ?1 ORDER BY id DESC LIMIT 1"
                ),
                [incident],
                job_of,
            )
            .optional()?)
    }

    /// A job by id.
    pub fn job(&self, id: i64) -> Result<Option<JobRow>, ServerError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {JOB_COLS} FROM jobs WHERE id = ?1"),
                [id],
                job_of,
            )
            .optional()?)
    }

    /// At startup: jobs left queued or running by a stopped server become `interrupted`.
    pub fn mark_interrupted(&self) -> Result<usize, ServerError> {
        Ok(self.conn.execute(
            "UPDATE jobs SET status = 'interrupted', finished_at = ?1
             WHERE status IN ('queued', 'running')",
            [crate::now_iso()],
        )?)
    }
}
