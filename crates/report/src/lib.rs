//! The incident report of an analysed leak, for the DPO's next 72 hours: `report.html` (one
//! self-contained file: inline CSS and SVG, no network), the ENISA severity
//! ([`severity`]), drafts of the GDPR Art. 33 notification (French and English) and of the
//! Art. 34 notice to the persons (French), in Markdown and HTML, and `affected_persons.csv`.
//!
//! Everything here is built from aggregates of the analysis: counts, shares, enrolled person
//! ids and column names — never a value of the leaked file.

mod charts;
mod drafts;
mod incident;
pub mod notice;
mod page;
pub mod severity;

use std::path::{Path, PathBuf};

use leaktrace_analyze::{Analysis, BoundReason, CandidateKind};
use leaktrace_pii::ColumnType;
use serde::Serialize;

pub use drafts::markdown_to_html;
pub use incident::{
    deadline, Deadline, Incident, DISCOVERED_AT_FORMAT, INCIDENT_TEMPLATE, MAX_INCIDENT_BYTES,
    SEVERITY_SCALES,
};
pub use severity::{assess, Severity, SeverityInput};

/// Errors of report writing.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Incident { path: String, message: String },
    /// A discovery time that is not one: what was given and why it was refused.
    #[error("--discovered-at {0}")]
    DiscoveredAt(String),
}

/// French and English names of a data category.
pub fn category_label(t: ColumnType) -> (&'static str, &'static str) {
    use ColumnType as T;
    match t {
        T::Nir => (
            "numéro de sécurité sociale (NIR)",
            "social security number (NIR)",
        ),
        T::Email => ("adresse électronique", "e-mail address"),
        T::Phone => ("numéro de téléphone", "phone number"),
        T::LastName => ("nom", "surname"),
        T::FirstName => ("prénom", "first name"),
        T::FullName => ("nom complet", "full name"),
        T::BirthDate => ("date de naissance", "date of birth"),
        T::Age => ("âge", "age"),
        T::Sex => ("civilité", "sex / title"),
        T::PostalCode => ("code postal", "postal code"),
        T::InseeCode => ("code commune INSEE", "INSEE commune code"),
        T::Commune => ("commune", "town"),
        T::Address => ("adresse postale", "postal address"),
        T::Latitude | T::Longitude => ("géolocalisation", "geolocation"),
        T::RomeCode => ("métier recherché (code ROME)", "job sought (ROME code)"),
        T::EducationLevel => ("niveau de formation", "education level"),
        T::Boolean => (
            "informations oui/non (permis, véhicule…)",
            "yes/no facts (licence, car…)",
        ),
        T::Iban => ("coordonnées bancaires (IBAN)", "bank account (IBAN)"),
        T::PasswordHash => ("empreinte de mot de passe", "password hash"),
        T::Password => ("mot de passe", "password"),
        T::IpAddress => ("adresse IP", "IP address"),
        T::PersonId => ("identifiant", "identifier"),
        T::Date => ("date", "date"),
        _ => ("autre donnée", "other data"),
    }
}

pub(crate) fn fr(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

pub(crate) fn en(n: u64) -> String {
    fr(n).replace('\u{202f}', ",")
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Everything the drafts and the page need, computed once.
pub(crate) struct Facts<'a> {
    a: &'a Analysis,
    incident: &'a Incident,
    severity: Severity,
    deadline: Option<Deadline>,
    categories: Vec<(ColumnType, u64)>,
}

impl Facts<'_> {
    fn organisation(&self) -> &str {
        self.incident
            .organisation
            .as_deref()
            .unwrap_or("[organisation]")
    }
    fn contact(&self) -> &str {
        self.incident
            .contact
            .as_deref()
            .unwrap_or("[contact du DPO / DPO contact]")
    }
    fn source_fr(&self) -> String {
        let at = &self.a.attribution;
        match at.candidates.first() {
            Some(c) if at.rows_used > 0 && c.kind != CandidateKind::Unknown => format!(
                "{} ({}), probabilité a posteriori {:.3}",
                drafts::md(&c.source),
                drafts::md(&c.recipient),
                c.posterior
            ),
            _ => "non déterminée".into(),
        }
    }
    fn source_en(&self) -> String {
        let at = &self.a.attribution;
        match at.candidates.first() {
            Some(c) if at.rows_used > 0 && c.kind != CandidateKind::Unknown => format!(
                "{} ({}), posterior probability {:.3}",
                drafts::md(&c.source),
                drafts::md(&c.recipient),
                c.posterior
            ),
            _ => "not determined".into(),
        }
    }
    /// The extraction window in English: `from … to …`, saying which bound is a delivery
    /// date (the day itself included).
    fn window(&self) -> String {
        let w = &self.a.extraction_window;
        match (&w.lower, &w.upper) {
            (None, None) => "—".into(),
            (lo, hi) => format!(
                "{} → {}",
                lo.as_ref().map_or_else(
                    || "…".to_string(),
                    |l| if l.reason == BoundReason::Delivery {
                        format!("{} (delivery date, included)", l.date)
                    } else {
                        format!("after {}", l.date)
                    }
                ),
                hi.as_ref()
                    .map_or_else(|| "…".to_string(), |h| format!("before {}", h.date))
            ),
        }
    }
    /// The extraction window in French.
    fn window_fr(&self) -> String {
        let w = &self.a.extraction_window;
        match (&w.lower, &w.upper) {
            (None, None) => "—".into(),
            (lo, hi) => format!(
                "{} → {}",
                lo.as_ref().map_or_else(
                    || "…".to_string(),
                    |l| if l.reason == BoundReason::Delivery {
                        format!("à partir du {} (date de livraison)", l.date)
                    } else {
                        format!("après le {}", l.date)
                    }
                ),
                hi.as_ref()
                    .map_or_else(|| "…".to_string(), |h| format!("avant le {}", h.date))
            ),
        }
    }
}

/// The files [`write_report`] wrote.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub html: PathBuf,
    pub severity: Severity,
    pub deadline: Option<Deadline>,
}

/// The report's decisions, as `analyze --json` gives them beside the analysis
/// (`docs/analysis-json.md`, `decisions`): the ENISA severity with its inputs, whether Art. 34
/// applies, and the CNIL deadline when the discovery time is known.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decisions {
    /// The ENISA score, its inputs (DPC, EI, CB) and the reason for each.
    pub severity: Severity,
    /// Whether the persons must be told (GDPR Art. 34): severity high or very high.
    pub art34_required: bool,
    /// When the breach became known and the Art. 33 deadline (72 hours later); `None` without
    /// `--discovered-at` or the incident file's `discovered_at`.
    pub cnil_deadline: Option<Deadline>,
    /// The personal data categories counted (the analysis' categories without `person_id`).
    #[serde(skip)]
    pub categories: Vec<(ColumnType, u64)>,
}

/// Decide severity, Art. 34 and the deadline for `a` under `incident`; `discovered_at`
/// overrides the incident file's.
pub fn decisions(
    a: &Analysis,
    incident: &Incident,
    discovered_at: Option<&str>,
) -> Result<Decisions, ReportError> {
    let when = discovered_at.or(incident.discovered_at.as_deref());
    let cnil_deadline = when.map(deadline).transpose()?;
    let categories: Vec<(ColumnType, u64)> = a
        .categories
        .iter()
        .filter(|c| c.ty != ColumnType::PersonId)
        .map(|c| (c.ty, c.persons))
        .collect();
    let types: Vec<ColumnType> = categories.iter().map(|c| c.0).collect();
    let severity = assess(&types, &incident.severity);
    Ok(Decisions {
        art34_required: severity.art34,
        severity,
        cnil_deadline,
        categories,
    })
}

/// Write `report.html`, the drafts (`art33_fr`, `art33_en`, `art34_fr`, `.md` and `.html`) and
/// `affected_persons.csv` into `dir`.
pub fn write_report(
    dir: &Path,
    a: &Analysis,
    incident: &Incident,
    discovered_at: Option<&str>,
) -> Result<ReportFiles, ReportError> {
    let d = decisions(a, incident, discovered_at)?;
    let (severity, deadline) = (d.severity.clone(), d.cnil_deadline.clone());
    let f = Facts {
        a,
        incident,
        severity: d.severity,
        deadline: d.cnil_deadline,
        categories: d.categories,
    };
    let io = |p: &Path, e: std::io::Error| ReportError::Io {
        path: p.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let write = |name: &str, text: &str| -> Result<(), ReportError> {
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, dir.join(name)).map_err(|e| io(&dir.join(name), e))
    };
    for (name, title, md) in [
        (
            "art33_fr",
            "Notification art. 33",
            drafts::art33(&f, &drafts::ART33_FR),
        ),
        (
            "art33_en",
            "Art. 33 notification",
            drafts::art33(&f, &drafts::ART33_EN),
        ),
        (
            "art34_fr",
            "Information des personnes",
            drafts::art34_fr(&f),
        ),
    ] {
        write(&format!("{name}.md"), &md)?;
        write(&format!("{name}.html"), &markdown_to_html(title, &md))?;
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| ReportError::Incident {
        path: "affected_persons.csv".into(),
        message: e.to_string(),
    };
    w.write_record(["person_id", "categories"])
        .map_err(csv_err)?;
    for (p, t) in &a.affected {
        let cats: Vec<&str> = t.iter().map(|t| t.as_str()).collect();
        w.write_record([p.as_str(), &cats.join(";")])
            .map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| ReportError::Incident {
        path: "affected_persons.csv".into(),
        message: e.to_string(),
    })?;
    write("affected_persons.csv", &String::from_utf8_lossy(&bytes))?;
    write("report.html", &page::report_html(&f))?;
    Ok(ReportFiles {
        html: dir.join("report.html"),
        severity,
        deadline,
    })
}
