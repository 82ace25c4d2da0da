//! Incidents opened by something other than an upload — the folder watcher (`leaktrace watch`,
//! `leaktrace serve --watch`, crate `leaktrace-watch`): the analysis already ran, its complete
//! output directory is handed over and becomes the incident's `report/`, with the same rows an
//! analysed upload leaves (incident, a `done` job, the `analysed` step) and the same audit
//! entries, so the team sees it in the web pages like any other incident.
//!
//! Every step is idempotent: opening again the incident of a SHA-256 already known returns the
//! existing one (an interrupted hand-over is completed, never duplicated).

use std::path::{Path, PathBuf};

use crate::audit::Action;
use crate::store::IncidentRow;
use crate::{IncidentFields, ServerError, Store};

/// What the watcher hands over for one file.
#[derive(Debug, Clone)]
pub struct Handover<'a> {
    /// The file's label (last path component, as [`crate::upload::label_of`] cleans it).
    pub file_name: &'a str,
    pub file_bytes: u64,
    /// SHA-256 of the file (hex): the evidence hash.
    pub sha256: &'a str,
    /// When the file landed (ISO 8601 with offset).
    pub discovered_at: &'a str,
    /// Rows of the file the analysis read.
    pub rows: u64,
    /// A complete output directory (analysis, report, drafts) on the same file system.
    pub report: &'a Path,
}

/// The service's tables and files, for a process that is not the web service.
#[derive(Debug)]
pub struct Intake {
    store: Store,
    dir: PathBuf,
}

impl Intake {
    /// Open the workspace's catalog (applies the service's migrations) and the incidents'
    /// directory.
    pub fn open(home: &Path) -> Result<Intake, ServerError> {
        let store = Store::open(home)?;
        let dir = home.join("server").join("incidents");
        std::fs::create_dir_all(&dir).map_err(|e| ServerError::io(&dir, e))?;
        Ok(Intake { store, dir })
    }

    /// The report directory of an incident (may not exist yet).
    pub fn report_dir(&self, public_id: &str) -> PathBuf {
        self.dir.join(public_id).join("report")
    }

    /// The incident whose evidence has this SHA-256, if any (the oldest).
    pub fn incident_by_sha(&self, sha256: &str) -> Result<Option<IncidentRow>, ServerError> {
        Ok(self
            .store
            .incidents()?
            .into_iter()
            .rev()
            .find(|i| i.sha256 == sha256))
    }

    /// Every incident with a published report, oldest first.
    pub fn analysed_incidents(&self) -> Result<Vec<IncidentRow>, ServerError> {
        let mut v: Vec<IncidentRow> = self
            .store
            .incidents()?
            .into_iter()
            .filter(|i| self.report_dir(&i.id).is_dir())
            .collect();
        v.reverse();
        Ok(v)
    }

    /// Open (or complete) the incident of an analysed file as `user`: incident row, report in
    /// place, a `done` job and the `analysed` step, audit entries. Returns the incident.
    pub fn open_incident(
        &mut self,
        h: &Handover<'_>,
        user: &str,
    ) -> Result<IncidentRow, ServerError> {
        let row = match self.incident_by_sha(h.sha256)? {
            Some(row) => row,
            None => self.insert(h, user)?,
        };
        let report = self.report_dir(&row.id);
        if !report.exists() {
            std::fs::rename(h.report, &report).map_err(|e| ServerError::io(&report, e))?;
            let job = self.store.add_job(row.number, user)?;
            self.store.set_job(job, "done", h.rows, None)?;
            self.audit(
                user,
                Action::AnalysisFinished,
                &format!("incident:{}/job:{job}", row.id),
            );
        } else {
            let _ = std::fs::remove_dir_all(h.report);
        }
        self.store
            .add_status(row.number, "analysed", &crate::now_iso(), user)?;
        Ok(row)
    }

    /// Record a timeline step on incident `number` as `user` if it is not there yet, with a
    /// `status_change` audit entry whose object ends with `detail` (counts only — never an
    /// address or a person id). Returns whether it was added (false: already recorded).
    pub fn record_step(
        &mut self,
        number: i64,
        step: crate::service::Step,
        user: &str,
        detail: &str,
    ) -> Result<bool, ServerError> {
        let row = self
            .store
            .incident_by_number(number)?
            .ok_or_else(|| ServerError::Input(format!("no incident #{number}")))?;
        let added = self
            .store
            .add_status(number, step.as_str(), &crate::now_iso(), user)?;
        if added {
            self.audit(
                user,
                Action::StatusChange,
                &format!("incident:{}/status:{} {detail}", row.id, step.as_str()),
            );
        }
        Ok(added)
    }

    fn insert(&mut self, h: &Handover<'_>, user: &str) -> Result<IncidentRow, ServerError> {
        leaktrace_report::deadline(h.discovered_at)
            .map_err(|e| ServerError::Input(e.to_string()))?;
        let label = crate::upload::label_of(h.file_name);
        let fields = IncidentFields {
            title: label.clone(),
            ..IncidentFields::default()
        };
        let public_id = crate::auth::new_secret("")?[..24].to_string();
        let dir = self.dir.join(&public_id);
        std::fs::create_dir_all(&dir).map_err(|e| ServerError::io(&dir, e))?;
        let mut row = IncidentRow {
            number: 0,
            id: public_id,
            title: label.clone(),
            file_name: label,
            file_bytes: h.file_bytes as i64,
            sha256: h.sha256.to_string(),
            discovered_at: h.discovered_at.to_string(),
            fields: serde_json::to_string(&fields)
                .map_err(|e| ServerError::Input(e.to_string()))?,
            created_by: user.to_string(),
            created_at: crate::now_iso(),
        };
        row.number = self.store.add_incident(&row)?;
        self.audit(
            user,
            Action::Upload,
            &format!(
                "incident:{}/evidence sha256:{} bytes:{}",
                row.id, row.sha256, row.file_bytes
            ),
        );
        Ok(row)
    }

    fn audit(&mut self, user: &str, action: Action, object: &str) {
        if let Err(e) = crate::audit::append(&mut self.store.conn, user, action, object) {
            eprintln!("leaktrace: audit append failed: {e}");
        }
    }
}
