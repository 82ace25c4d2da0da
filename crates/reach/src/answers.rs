//! What an affected person is told: for each incident open to self-check, its date, the
//! categories of *their* data it exposed (from the incident's `affected_persons.csv`), what to
//! do, and the incident's Art. 34 notice (`art34_fr.md`). Loaded once when the listener starts
//! (and again on `reload`), kept in memory.

use std::collections::HashMap;
use std::path::Path;

use leaktrace_pii::ColumnType;
use serde::Serialize;

use crate::store::{report_dir, ReachStore};
use crate::ReachError;

/// Largest Art. 34 notice kept per incident, in bytes (a longer one is cut at a line end):
/// it bounds the size every answer is padded to.
pub const MAX_NOTICE_BYTES: usize = 8192;

/// What to do, shown with every incident found (phishing advice).
pub const ADVICE: &[&str] = &[
    "Méfiez-vous des messages (courriel, SMS, appel) qui citent vos données pour gagner votre confiance : nous ne vous demanderons jamais votre mot de passe ni vos coordonnées bancaires.",
    "Ne cliquez pas sur les liens et n'ouvrez pas les pièces jointes d'un message inattendu ; en cas de doute, contactez-nous par le numéro habituel.",
    "Changez le mot de passe des comptes qui utilisent la même adresse électronique et activez la double authentification quand elle existe.",
    "Si votre numéro de sécurité sociale ou vos coordonnées bancaires sont concernés, surveillez vos relevés et signalez toute opération inconnue à votre banque.",
];

/// One incident open to self-check.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentNotice {
    /// The date the incident was discovered (ISO, day only).
    pub date: String,
    /// The incident's Art. 34 notice (Markdown), at most [`MAX_NOTICE_BYTES`].
    pub notice: String,
    /// Every category exposed in this incident (for the size bound of answers).
    #[serde(skip)]
    pub all_categories: Vec<ColumnType>,
}

/// One incident as told to a person found in it.
#[derive(Debug, Clone, Serialize)]
pub struct Exposure {
    pub date: String,
    /// French names of the categories of this person's data exposed.
    pub categories: Vec<&'static str>,
    pub notice: String,
}

/// The affected persons of every open incident, by enrolled person id.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub incidents: Vec<IncidentNotice>,
    /// person id → (index in `incidents`, categories exposed)
    pub persons: HashMap<String, Vec<(usize, Vec<ColumnType>)>>,
}

impl Answers {
    /// Read the open incidents' outputs from the workspace.
    pub fn load(home: &Path) -> Result<Answers, ReachError> {
        let store = ReachStore::open(home)?;
        let mut out = Answers::default();
        for row in store.open_incidents()? {
            let dir = report_dir(home, &row);
            let idx = out.incidents.len();
            let mut all: Vec<ColumnType> = Vec::new();
            let csv_path = dir.join("affected_persons.csv");
            let mut r =
                csv::Reader::from_path(&csv_path).map_err(|e| ReachError::file(&csv_path, e))?;
            for (line, rec) in r.records().enumerate() {
                let rec = rec.map_err(|e| ReachError::file(&csv_path, e))?;
                let (Some(id), Some(cats)) = (rec.get(0), rec.get(1)) else {
                    return Err(ReachError::file(
                        &csv_path,
                        format!("line {}: expected person_id,categories", line + 2),
                    ));
                };
                let cats = parse_categories(cats)
                    .map_err(|m| ReachError::file(&csv_path, format!("line {}: {m}", line + 2)))?;
                for c in &cats {
                    if !all.contains(c) {
                        all.push(*c);
                    }
                }
                out.persons
                    .entry(id.to_string())
                    .or_default()
                    .push((idx, cats));
            }
            let notice_path = dir.join("art34_fr.md");
            let notice = match std::fs::read_to_string(&notice_path) {
                Ok(t) => cut(&t, MAX_NOTICE_BYTES),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(ReachError::file(&notice_path, e)),
            };
            out.incidents.push(IncidentNotice {
                date: row.discovered_at.chars().take(10).collect(),
                notice,
                all_categories: all,
            });
        }
        Ok(out)
    }

    /// What to tell the person `id` (empty when not affected by an open incident).
    pub fn exposures(&self, id: &str) -> Vec<Exposure> {
        let Some(list) = self.persons.get(id) else {
            return Vec::new();
        };
        list.iter()
            .map(|(i, cats)| exposure(&self.incidents[*i], cats))
            .collect()
    }

    /// The largest answer possible: every open incident with every category it exposed (any
    /// real answer lists a subset of it, so padding to its size hides which one it is).
    pub fn largest(&self) -> Vec<Exposure> {
        self.incidents
            .iter()
            .map(|n| exposure(n, &n.all_categories))
            .collect()
    }
}

fn exposure(n: &IncidentNotice, cats: &[ColumnType]) -> Exposure {
    let mut categories: Vec<&'static str> = cats
        .iter()
        .map(|c| leaktrace_report::category_label(*c).0)
        .collect();
    categories.dedup();
    Exposure {
        date: n.date.clone(),
        categories,
        notice: n.notice.clone(),
    }
}

/// `email;phone` → the column types.
fn parse_categories(s: &str) -> Result<Vec<ColumnType>, String> {
    s.split(';')
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<ColumnType>().map_err(|_| {
                format!(
                    "unknown category {:?}",
                    c.chars().take(40).collect::<String>()
                )
            })
        })
        .collect()
}

/// `t` cut to at most `max` bytes at a line end.
fn cut(t: &str, max: usize) -> String {
    if t.len() <= max {
        return t.to_string();
    }
    let mut end = max;
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    let end = t[..end].rfind('\n').unwrap_or(end);
    t[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_cuts() {
        assert_eq!(
            parse_categories("email;phone").unwrap(),
            vec![ColumnType::Email, ColumnType::Phone]
        );
        assert!(parse_categories("email;bogus").is_err());
        assert_eq!(cut("ab\ncd\nef", 7), "ab\ncd");
        assert_eq!(cut("abc", 7), "abc");
    }
}
