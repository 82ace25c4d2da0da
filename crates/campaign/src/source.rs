//! Where a campaign's persons and texts come from: an incident of the service (`--incident N`:
//! its fields in `catalog.sqlite`, its latest analysis under
//! `<home>/server/incidents/<id>/report/`) or an output directory of `leaktrace analyze --out
//! DIR` with its incident file (`--report DIR --incident-file FILE`).

use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use leaktrace_pii::ColumnType;
use sha2::{Digest as _, Sha256};

use crate::CampaignError;

/// The file of the affected persons in an output directory.
pub const AFFECTED_FILE: &str = "affected_persons.csv";
/// The analysis in an output directory (read for `recombination` only).
pub const ANALYSIS_FILE: &str = "analysis.json";

/// What to notify.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Incident number `N` of the incident service (`#N` on its page).
    Incident(i64),
    /// An output directory of `leaktrace analyze --out DIR` and its incident file.
    Report { dir: PathBuf, incident: PathBuf },
}

/// One affected person: the id as `affected_persons.csv` holds it and the categories exposed.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// The enrolled person id, or its keyed pseudonym (`~<16 hex>`).
    pub id: String,
    /// The categories of this person's data found in the file.
    pub categories: Vec<ColumnType>,
}

/// What the notices are built from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The delivery log's key of this campaign: `incident:<public id>`, or
    /// `report:<SHA-256 of affected_persons.csv>` for an output directory.
    pub scope: String,
    /// The controller's name (the incident's `organisation`).
    pub organisation: String,
    /// The contact point (the incident's `contact`).
    pub contact: String,
    /// The incident's measures taken, if any.
    pub measures_taken: Vec<String>,
    /// Whether the analysed file assembles fragments of different persons.
    pub recombined: bool,
    /// The affected persons, in the file's order.
    pub persons: Vec<Person>,
}

/// Load the persons and the incident's fields of `origin` in the workspace `home`.
pub fn load(home: &Path, origin: &Origin) -> Result<Loaded, CampaignError> {
    let (dir, scope_of, organisation, contact, measures) = match origin {
        Origin::Incident(n) => {
            let store = leaktrace_server::store::Store::open(home)
                .map_err(|e| CampaignError::Source(e.to_string()))?;
            let row = store
                .incident_by_number(*n)
                .map_err(|e| CampaignError::Source(e.to_string()))?
                .ok_or_else(|| CampaignError::Source(format!("no incident #{n}")))?;
            let f: leaktrace_server::IncidentFields = serde_json::from_str(&row.fields)
                .map_err(|e| CampaignError::Source(format!("incident #{n}: fields: {e}")))?;
            let dir = home
                .join("server")
                .join("incidents")
                .join(&row.id)
                .join("report");
            if !dir.join(AFFECTED_FILE).is_file() {
                return Err(CampaignError::Source(format!(
                    "incident #{n} has no complete analysis yet (run it in the service first)"
                )));
            }
            let scope = format!("incident:{}", row.id);
            (
                dir,
                Some(scope),
                f.organisation,
                f.contact,
                f.measures_taken,
            )
        }
        Origin::Report { dir, incident } => {
            let i = leaktrace_report::Incident::load(incident)
                .map_err(|e| CampaignError::Source(e.to_string()))?;
            let m = i.measures_taken.unwrap_or_default();
            (dir.clone(), None, i.organisation, i.contact, m)
        }
    };
    let missing = |what: &str| {
        CampaignError::Source(format!(
            "the notice needs the incident's {what} (the persons are told who to contact): set it \
             on the incident's page or in the incident file"
        ))
    };
    let organisation = organisation
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| missing("organisation"))?;
    let contact = contact
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| missing("contact"))?;
    let path = dir.join(AFFECTED_FILE);
    let bytes = std::fs::read(&path).map_err(|e| CampaignError::io(&path, e))?;
    let persons = parse_affected(&path, &bytes)?;
    let scope = scope_of.unwrap_or_else(|| {
        let h = Sha256::digest(&bytes);
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        format!("report:{hex}")
    });
    Ok(Loaded {
        scope,
        organisation,
        contact,
        measures_taken: measures,
        recombined: recombined(&dir.join(ANALYSIS_FILE)),
        persons,
    })
}

/// Whether `analysis.json` reports a recombination (absent or unreadable: no).
fn recombined(path: &Path) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("recombination").is_some_and(|r| !r.is_null()))
}

/// Parse `affected_persons.csv` (`person_id,categories`, categories separated by `;`).
pub fn parse_affected(path: &Path, bytes: &[u8]) -> Result<Vec<Person>, CampaignError> {
    let bad = |line: u64, message: String| CampaignError::Affected {
        path: path.display().to_string(),
        line,
        message,
    };
    let mut r = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = r.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    if headers.get(0) != Some("person_id") || headers.get(1) != Some("categories") {
        return Err(bad(1, "expected the header person_id,categories".into()));
    }
    let mut out = Vec::new();
    for rec in r.records() {
        let rec =
            rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), "unreadable".into()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let id = rec.get(0).unwrap_or("").trim();
        if id.is_empty() {
            return Err(bad(line, "empty person id".into()));
        }
        let mut categories = Vec::new();
        for c in rec
            .get(1)
            .unwrap_or("")
            .split(';')
            .filter(|c| !c.is_empty())
        {
            let t = ColumnType::from_str(c)
                .map_err(|_| bad(line, format!("unknown category {c:?}")))?;
            categories.push(t);
        }
        out.push(Person {
            id: id.to_string(),
            categories,
        });
    }
    Ok(out)
}

/// Whether an id is a keyed pseudonym as enrolment writes them (`~` and 16 hex digits).
pub fn is_pseudonym(id: &str) -> bool {
    id.len() == 17 && id.starts_with('~') && id[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affected_file() {
        let p = Path::new("affected_persons.csv");
        let v = parse_affected(
            p,
            b"person_id,categories\nP1,email;nir\n~0123456789abcdef,phone\n",
        )
        .unwrap();
        assert_eq!(v[0].categories, vec![ColumnType::Email, ColumnType::Nir]);
        assert!(is_pseudonym(&v[1].id) && !is_pseudonym("P1"));
        let e = parse_affected(p, b"person_id,categories\nP1,email\nP2,shoe_size\n").unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
    }
}
