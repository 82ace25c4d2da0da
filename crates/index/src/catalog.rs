//! The SQLite catalog: sources, snapshots and their profiles — no personal data.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::profile::FormatProfile;
use crate::IndexError;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        recipient TEXT,
        created_at TEXT NOT NULL
     );
     CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        as_of TEXT NOT NULL,
        enrolled_at TEXT NOT NULL,
        file_name TEXT NOT NULL,
        file_bytes INTEGER NOT NULL,
        file_blake3 TEXT NOT NULL,
        rows INTEGER NOT NULL,
        persons INTEGER NOT NULL,
        id_column TEXT NOT NULL,
        segment TEXT NOT NULL UNIQUE,
        segment_bytes INTEGER NOT NULL,
        fingerprints INTEGER NOT NULL,
        profile TEXT NOT NULL,
        UNIQUE (source_id, as_of)
     );",
    // 2: canary snapshots (synthetic persons planted in a recipient's delivery)
    "ALTER TABLE snapshots ADD COLUMN kind TEXT NOT NULL DEFAULT 'extract';",
];

/// What a snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotKind {
    /// Real persons: the registry or a delivery to a recipient.
    #[default]
    Extract,
    /// Synthetic canary persons planted in a recipient's delivery (`leaktrace canary`).
    Canary,
}

impl SnapshotKind {
    /// The catalog spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotKind::Extract => "extract",
            SnapshotKind::Canary => "canary",
        }
    }

    fn parse(s: &str) -> SnapshotKind {
        if s == "canary" {
            SnapshotKind::Canary
        } else {
            SnapshotKind::Extract
        }
    }
}

/// One enrolled snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotInfo {
    pub id: i64,
    pub source: String,
    pub recipient: Option<String>,
    pub as_of: String,
    pub enrolled_at: String,
    pub file_name: String,
    pub file_bytes: u64,
    pub file_blake3: String,
    pub rows: u64,
    pub persons: u64,
    pub id_column: String,
    pub segment: String,
    pub segment_bytes: u64,
    pub fingerprints: u64,
    pub profile: FormatProfile,
    pub kind: SnapshotKind,
}

/// A source and its snapshots (oldest first).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceInfo {
    pub name: String,
    pub recipient: Option<String>,
    pub snapshots: Vec<SnapshotInfo>,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    conn: Connection,
}

fn migrate(conn: &mut Connection) -> Result<(), IndexError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v as usize > MIGRATIONS.len() {
        return Err(IndexError::Workspace(format!(
            "the catalog is at schema version {v}, newer than this leaktrace ({}); upgrade leaktrace",
            MIGRATIONS.len()
        )));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(v as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(m)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

pub(crate) fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil from days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Catalog {
    fn connect(path: &Path) -> Result<Connection, IndexError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        Ok(conn)
    }

    pub(crate) fn create(
        path: &Path,
        workspace_id: &str,
        key_check: &str,
    ) -> Result<Catalog, IndexError> {
        let mut conn = Self::connect(path)?;
        migrate(&mut conn)?;
        let tx = conn.transaction()?;
        for (k, v) in [
            ("workspace_id", workspace_id.to_string()),
            ("key_check", key_check.to_string()),
            ("created_at", now()),
        ] {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                params![k, v],
            )?;
        }
        tx.commit()?;
        Ok(Catalog { conn })
    }

    pub(crate) fn open(path: &Path) -> Result<Catalog, IndexError> {
        let mut conn = Self::connect(path)?;
        migrate(&mut conn)?;
        Ok(Catalog { conn })
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>, IndexError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub(crate) fn has_snapshot(&self, source: &str, as_of: &str) -> Result<bool, IndexError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM snapshots s JOIN sources o ON o.id = s.source_id
                 WHERE o.name = ?1 AND s.as_of = ?2",
                params![source, as_of],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    pub(crate) fn source_recipient(
        &self,
        source: &str,
    ) -> Result<Option<Option<String>>, IndexError> {
        Ok(self
            .conn
            .query_row(
                "SELECT recipient FROM sources WHERE name = ?1",
                [source],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Record a published snapshot (one transaction).
    pub(crate) fn add_snapshot(&mut self, s: &SnapshotInfo) -> Result<i64, IndexError> {
        let profile =
            serde_json::to_string(&s.profile).map_err(|e| IndexError::Format(e.to_string()))?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO sources (name, recipient, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET recipient = COALESCE(excluded.recipient, recipient)",
            params![s.source, s.recipient, now()],
        )?;
        let source_id: i64 =
            tx.query_row("SELECT id FROM sources WHERE name = ?1", [&s.source], |r| {
                r.get(0)
            })?;
        tx.execute(
            "INSERT INTO snapshots (source_id, as_of, enrolled_at, file_name, file_bytes, file_blake3,
                rows, persons, id_column, segment, segment_bytes, fingerprints, profile, kind)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                source_id,
                s.as_of,
                s.enrolled_at,
                s.file_name,
                s.file_bytes as i64,
                s.file_blake3,
                s.rows as i64,
                s.persons as i64,
                s.id_column,
                s.segment,
                s.segment_bytes as i64,
                s.fingerprints as i64,
                profile,
                s.kind.as_str()
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// Every snapshot, by source name then date.
    pub(crate) fn snapshots(&self) -> Result<Vec<SnapshotInfo>, IndexError> {
        let mut st = self.conn.prepare(
            "SELECT s.id, o.name, o.recipient, s.as_of, s.enrolled_at, s.file_name, s.file_bytes,
                    s.file_blake3, s.rows, s.persons, s.id_column, s.segment, s.segment_bytes,
                    s.fingerprints, s.profile, s.kind
             FROM snapshots s JOIN sources o ON o.id = s.source_id
             ORDER BY o.name, s.as_of",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                SnapshotInfo {
                    id: r.get(0)?,
                    source: r.get(1)?,
                    recipient: r.get(2)?,
                    as_of: r.get(3)?,
                    enrolled_at: r.get(4)?,
                    file_name: r.get(5)?,
                    file_bytes: r.get::<_, i64>(6)? as u64,
                    file_blake3: r.get(7)?,
                    rows: r.get::<_, i64>(8)? as u64,
                    persons: r.get::<_, i64>(9)? as u64,
                    id_column: r.get(10)?,
                    segment: r.get(11)?,
                    segment_bytes: r.get::<_, i64>(12)? as u64,
                    fingerprints: r.get::<_, i64>(13)? as u64,
                    kind: SnapshotKind::parse(&r.get::<_, String>(15)?),
                    profile: FormatProfile {
                        format: String::new(),
                        compression: None,
                        encoding: String::new(),
                        delimiter: None,
                        has_header: false,
                        table: String::new(),
                        columns: Vec::new(),
                    },
                },
                r.get::<_, String>(14)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut s, profile) = row?;
            s.profile = serde_json::from_str(&profile).map_err(|e| {
                IndexError::Corrupt(format!("catalog profile of snapshot {}: {e}", s.id))
            })?;
            out.push(s);
        }
        Ok(out)
    }

    /// Delete the snapshots of `source` (only the one `as_of`, if given) in one transaction,
    /// and the source itself once it has no snapshot left. Returns the snapshots deleted (none
    /// when nothing matched: the catalog is then unchanged).
    pub(crate) fn remove_snapshots(
        &mut self,
        source: &str,
        as_of: Option<&str>,
    ) -> Result<Vec<SnapshotInfo>, IndexError> {
        let doomed: Vec<SnapshotInfo> = self
            .snapshots()?
            .into_iter()
            .filter(|s| s.source == source && as_of.is_none_or(|d| s.as_of == d))
            .collect();
        if doomed.is_empty() {
            return Ok(doomed);
        }
        let tx = self.conn.transaction()?;
        for s in &doomed {
            tx.execute("DELETE FROM snapshots WHERE id = ?1", [s.id])?;
        }
        tx.execute(
            "DELETE FROM sources WHERE name = ?1
             AND NOT EXISTS (SELECT 1 FROM snapshots WHERE source_id = sources.id)",
            [source],
        )?;
        tx.commit()?;
        Ok(doomed)
    }

    /// Segment directory names the catalog references.
    pub(crate) fn segments(&self) -> Result<Vec<String>, IndexError> {
        let mut st = self.conn.prepare("SELECT segment FROM snapshots")?;
        let v = st
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(v)
    }

    pub(crate) fn sources(&self) -> Result<Vec<SourceInfo>, IndexError> {
        let mut out: Vec<SourceInfo> = Vec::new();
        for s in self.snapshots()? {
            match out.last_mut() {
                Some(src) if src.name == s.source => src.snapshots.push(s),
                _ => out.push(SourceInfo {
                    name: s.source.clone(),
                    recipient: s.recipient.clone(),
                    snapshots: vec![s],
                }),
            }
        }
        Ok(out)
    }
}
