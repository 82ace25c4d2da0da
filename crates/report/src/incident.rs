//! What the DPO knows about the incident (`--incident FILE`, TOML) and the notification
//! deadline.

use std::path::Path;

use serde::Deserialize;

use crate::{ReportError, SeverityInput};

/// What the DPO knows about the incident (`--incident FILE`, TOML). Every field is optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub organisation: Option<String>,
    /// Contact point for the CNIL and the persons (the DPO).
    pub contact: Option<String>,
    /// When the organisation became aware of the breach (`YYYY-MM-DDTHH:MM[:SS][offset]`).
    pub discovered_at: Option<String>,
    /// How the breach happened, as far as known.
    pub nature: Option<String>,
    pub measures_taken: Option<Vec<String>>,
    pub measures_proposed: Option<Vec<String>>,
    /// Reasons if notifying after 72 hours.
    pub delay_reasons: Option<String>,
    #[serde(default)]
    pub severity: SeverityInput,
}

impl Incident {
    /// Read an incident file.
    pub fn load(path: &Path) -> Result<Incident, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        toml::from_str(&text).map_err(|e| ReportError::Incident {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }
}

/// A date and time as given, and the notification deadline 72 hours later.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    pub discovered: String,
    pub deadline: String,
}

/// Parse `YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]` and add 72 hours (same clock time, three days on).
pub fn deadline(discovered_at: &str) -> Result<Deadline, ReportError> {
    let bad = || ReportError::DiscoveredAt(discovered_at.to_string());
    let s = discovered_at.trim();
    let (date, rest) = s.split_at(s.find(['T', ' ']).ok_or_else(bad)?);
    let rest = &rest[1..];
    let d = leaktrace_pii::date::parse(date).ok_or_else(bad)?;
    let split = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (time, offset) = rest.split_at(split);
    let parts: Vec<&str> = time.split(':').collect();
    let ok = |p: &str, max: u32| p.len() == 2 && p.parse::<u32>().is_ok_and(|v| v <= max);
    if !(parts.len() == 2 || parts.len() == 3)
        || !ok(parts[0], 23)
        || !ok(parts[1], 59)
        || (parts.len() == 3 && !ok(parts[2], 60))
    {
        return Err(bad());
    }
    let end = leaktrace_pii::date::Ymd::from_days(d.days() + 3);
    Ok(Deadline {
        discovered: format!("{} {time}{offset}", d.iso()),
        deadline: format!("{} {time}{offset}", end.iso()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_is_72_hours_later() {
        let d = deadline("2026-11-20T09:30+01:00").unwrap();
        assert_eq!(d.discovered, "2026-11-20 09:30+01:00");
        assert_eq!(d.deadline, "2026-11-23 09:30+01:00");
        let d = deadline("2026-12-30 18:00:05Z").unwrap();
        assert_eq!(d.deadline, "2027-01-02 18:00:05Z");
        assert!(deadline("2026-11-20").is_err());
        assert!(deadline("2026-11-20T25:00").is_err());
    }
}
