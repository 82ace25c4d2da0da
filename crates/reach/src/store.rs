//! This crate's tables in the workspace's `catalog.sqlite`, with their own migration list
//! (version in `reach_meta`, beside the index's `user_version` and the service's
//! `server_meta`). No table holds an identifier, a fingerprint or an address: the incidents
//! opened to self-check, and counters per day and outcome.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

use leaktrace_server::audit::{self, Action};
use leaktrace_server::auth::Role;
use leaktrace_server::store::IncidentRow;

use crate::ReachError;

/// The migrations, applied in order; `reach_meta.schema_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: incidents opened to self-check (since the service's migration 2 its table, hence
    // `IF NOT EXISTS`); counters of answers per day
    "CREATE TABLE IF NOT EXISTS selfcheck_incidents (
        incident INTEGER PRIMARY KEY,
        opened_by TEXT NOT NULL,
        opened_at TEXT NOT NULL
     );
     CREATE TABLE selfcheck_counters (
        day TEXT NOT NULL,
        outcome TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (day, outcome)
     );",
];

/// What a check came to, for the counters only (a wrong second fact counts as not found).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Found,
    NotFound,
    Limited,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 3] = [Outcome::Found, Outcome::NotFound, Outcome::Limited];

    /// The stable name in the counters table.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Found => "found",
            Outcome::NotFound => "not_found",
            Outcome::Limited => "limited",
        }
    }
}

/// A connection to the catalog for this crate's tables.
#[derive(Debug)]
pub struct ReachStore {
    conn: Connection,
    home: PathBuf,
}

impl ReachStore {
    /// Open the workspace's catalog (the service's migrations first, then ours).
    pub fn open(home: &Path) -> Result<ReachStore, ReachError> {
        drop(leaktrace_server::Store::open(home)?);
        let mut conn = Connection::open(home.join("catalog.sqlite"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        migrate(&mut conn)?;
        Ok(ReachStore {
            conn,
            home: home.to_path_buf(),
        })
    }

    /// The service's store on the same workspace (accounts, incidents).
    pub fn server(&self) -> Result<leaktrace_server::Store, ReachError> {
        Ok(leaktrace_server::Store::open(&self.home)?)
    }

    /// The incident numbered `number`, or an error naming it.
    pub fn incident(&self, number: i64) -> Result<IncidentRow, ReachError> {
        self.server()?
            .incident_by_number(number)?
            .ok_or_else(|| ReachError::Input(format!("incident {number}: no such incident")))
    }

    /// Where an incident's latest analysis outputs are (`affected_persons.csv`, …).
    pub fn report_dir(&self, row: &IncidentRow) -> PathBuf {
        report_dir(&self.home, row)
    }

    /// Open (or close) an incident to the self-check: an analyst's or admin's action, checked
    /// against the service's accounts and appended to the service's audit trail (the same rule
    /// as the incident page's button, `leaktrace_server::selfcheck`). Returns whether it
    /// changed (false: already open, or already closed; nothing audited).
    pub fn set_open(&mut self, number: i64, user: &str, open: bool) -> Result<bool, ReachError> {
        let server = self.server()?;
        let who = server
            .user(user)?
            .filter(|u| !u.disabled && u.role >= Role::Analyst)
            .ok_or_else(|| {
                ReachError::Input(format!(
                    "user {user}: no such analyst or admin account (see `leaktrace user list`)"
                ))
            })?;
        let row = self.incident(number)?;
        if open && !leaktrace_server::selfcheck::analysed(&self.report_dir(&row)) {
            return Err(ReachError::Input(format!(
                "incident {number}: {}",
                leaktrace_server::selfcheck::NOT_ANALYSED
            )));
        }
        if !server.set_selfcheck(number, &who.name, open)? {
            return Ok(false);
        }
        audit::append(
            &mut self.conn,
            &who.name,
            Action::StatusChange,
            &leaktrace_server::selfcheck::audit_object(&row.id, open),
        )?;
        Ok(true)
    }

    /// The incidents open to self-check, by number.
    pub fn open_incidents(&self) -> Result<Vec<IncidentRow>, ReachError> {
        let mut st = self
            .conn
            .prepare("SELECT incident FROM selfcheck_incidents ORDER BY incident")?;
        let numbers: Vec<i64> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        numbers.into_iter().map(|n| self.incident(n)).collect()
    }

    /// Add `n` to today's counter of `outcome`.
    pub fn count(&self, outcome: Outcome, n: u64) -> Result<(), ReachError> {
        let day = &leaktrace_server::now_iso()[..10];
        self.conn.execute(
            "INSERT INTO selfcheck_counters (day, outcome, n) VALUES (?1, ?2, ?3)
             ON CONFLICT (day, outcome) DO UPDATE SET n = n + excluded.n",
            params![day, outcome.as_str(), n as i64],
        )?;
        Ok(())
    }

    /// The counters, `(day, outcome, n)`, oldest first.
    pub fn counters(&self) -> Result<Vec<(String, String, i64)>, ReachError> {
        let mut st = self
            .conn
            .prepare("SELECT day, outcome, n FROM selfcheck_counters ORDER BY day, outcome")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Where an incident's latest analysis outputs are.
pub fn report_dir(home: &Path, row: &IncidentRow) -> PathBuf {
    home.join("server")
        .join("incidents")
        .join(&row.id)
        .join("report")
}

fn migrate(conn: &mut Connection) -> Result<(), ReachError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS reach_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )?;
    let version: i64 = conn
        .query_row(
            "SELECT value FROM reach_meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if version > MIGRATIONS.len() as i64 {
        return Err(ReachError::Schema(version));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(m)?;
        tx.execute(
            "INSERT OR REPLACE INTO reach_meta (key, value) VALUES ('schema_version', ?1)",
            [(i + 1).to_string()],
        )?;
        tx.commit()?;
    }
    Ok(())
}
