//! The delivery log in the workspace's `catalog.sqlite`: per campaign, per person id, a status
//! and the SMTP reply code — never an address, a subject or a reply text (a server's reply may
//! quote the address). The tables have their own migrations, counted in `campaign_meta`, beside
//! the index's (`PRAGMA user_version`) and the service's (`server_meta`).

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::CampaignError;

/// The campaign tables' migrations, applied in order; `campaign_meta.schema_version` records how
/// many ran.
const MIGRATIONS: &[&str] = &[
    // 1: campaigns and their deliveries
    "CREATE TABLE campaigns (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
     );
     CREATE TABLE campaign_deliveries (
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
        person_id TEXT NOT NULL,
        status TEXT NOT NULL,
        smtp_code INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (campaign_id, person_id)
     );",
];

/// Where one person's notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Recorded just before the SMTP transaction; still there after it means the run stopped
    /// mid-transaction: the server may or may not have accepted the message.
    Sending,
    /// The server accepted the message (2xx reply to the end of DATA).
    Sent,
    /// The server refused it for good (5xx): not retried.
    Rejected,
    /// The server refused it for now (4xx): retried by the next run.
    Deferred,
}

impl Status {
    /// The value stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Rejected => "rejected",
            Status::Deferred => "deferred",
        }
    }
    fn parse(s: &str) -> Option<Status> {
        [
            Status::Sending,
            Status::Sent,
            Status::Rejected,
            Status::Deferred,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// The delivery log of one campaign.
#[derive(Debug)]
pub struct Log {
    conn: Connection,
    campaign: i64,
}

fn migrate(conn: &mut Connection) -> Result<(), CampaignError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS campaign_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    let v: i64 = conn
        .query_row(
            "SELECT value FROM campaign_meta WHERE key = 'schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if v as usize > MIGRATIONS.len() {
        return Err(CampaignError::Schema(v));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(v as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(m)?;
        tx.execute(
            "INSERT INTO campaign_meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(i + 1).to_string()],
        )?;
        tx.commit()?;
    }
    Ok(())
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl Log {
    /// Open the log of campaign `scope` in the workspace `home` (created on first use; the
    /// tables are migrated). Every write is committed with `synchronous = FULL`: a status read
    /// back after a crash is the one the disk holds.
    pub fn open(home: &Path, scope: &str) -> Result<Log, CampaignError> {
        let db = home.join("catalog.sqlite");
        if !db.is_file() {
            return Err(CampaignError::Source(format!(
                "{}: no leaktrace workspace here (run `leaktrace init` first)",
                home.display()
            )));
        }
        let mut conn = Connection::open(&db)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        migrate(&mut conn)?;
        conn.execute(
            "INSERT INTO campaigns (scope, created_at) VALUES (?1, ?2) ON CONFLICT (scope) DO NOTHING",
            params![scope, now()],
        )?;
        let campaign =
            conn.query_row("SELECT id FROM campaigns WHERE scope = ?1", [scope], |r| {
                r.get(0)
            })?;
        Ok(Log { conn, campaign })
    }

    /// Every person id of this campaign with its status.
    pub fn statuses(&self) -> Result<HashMap<String, Status>, CampaignError> {
        let mut st = self
            .conn
            .prepare("SELECT person_id, status FROM campaign_deliveries WHERE campaign_id = ?1")?;
        let rows = st.query_map([self.campaign], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (id, s) = row?;
            let status = Status::parse(&s).ok_or_else(|| CampaignError::BadStatus(s.clone()))?;
            out.insert(id, status);
        }
        Ok(out)
    }

    /// Record `status` (and the SMTP reply code) for `person`; [`Status::Sending`] also counts
    /// an attempt. Committed before returning.
    pub fn set(
        &self,
        person: &str,
        status: Status,
        code: Option<u16>,
    ) -> Result<(), CampaignError> {
        let attempt = i64::from(status == Status::Sending);
        self.conn.execute(
            "INSERT INTO campaign_deliveries (campaign_id, person_id, status, smtp_code, attempts, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (campaign_id, person_id) DO UPDATE SET status = excluded.status,
                smtp_code = excluded.smtp_code, attempts = attempts + excluded.attempts,
                updated_at = excluded.updated_at",
            params![self.campaign, person, status.as_str(), code, attempt, now()],
        )?;
        Ok(())
    }
}
