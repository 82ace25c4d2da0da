//! What the DPO knows about the incident (`--incident FILE`, TOML), its validation, the
//! commented example that `leaktrace incident init` prints, and the notification deadline.

use std::path::Path;

use jiff::civil::DateTime;
use jiff::fmt::temporal::{Pieces, PiecesOffset};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

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

/// Largest incident file read (a hand-written TOML file is a few kilobytes).
pub const MAX_INCIDENT_BYTES: u64 = 1 << 20;

/// The ENISA scales of the `[severity]` inputs: key, lowest and highest value accepted.
/// DPC 1 (simple) … 4 (sensitive); its adjustment keeps it on that scale; EI 0.25 (negligible)
/// … 1 (maximum); each loss of the circumstances 0, 0.25 or 0.5.
pub const SEVERITY_SCALES: &[(&str, f64, f64)] = &[
    ("severity.dpc", 1.0, 4.0),
    ("severity.dpc_adjust", -3.0, 3.0),
    ("severity.ei", 0.25, 1.0),
    ("severity.confidentiality", 0.0, 0.5),
    ("severity.integrity", 0.0, 0.5),
    ("severity.availability", 0.0, 0.5),
];

/// The commented example of `leaktrace incident init`: every key, with what it means. It
/// parses and validates as it is (a test checks it).
pub const INCIDENT_TEMPLATE: &str = r#"# leaktrace incident file: what the DPO knows about the breach.
# Use it with `leaktrace analyze LEAK --incident incident.toml`. Every key is optional; an
# unknown key, a value outside its scale or a bad date is refused before any work.

# Controller named in the drafts (Art. 33 notification, Art. 34 notice).
organisation = "Exemple SA"
# Contact point for the CNIL and the persons (the DPO).
contact = "dpo@exemple.fr, 01 23 45 67 89"
# When the organisation became aware of the breach: YYYY-MM-DDTHH:MM[:SS], with an offset
# (+01:00, Z) when known. The CNIL deadline is 72 hours later. --discovered-at overrides it.
discovered_at = "2026-11-20T09:30+01:00"
# How the breach happened, as far as known.
nature = "Fichier publié sur un forum ; origine en cours d'analyse."
measures_taken = [
    "analyse du fichier avec leaktrace (authenticité, personnes, origine)",
]
measures_proposed = [
    "information des personnes concernées et vigilance contre l'hameçonnage",
]
# Reasons, if notifying after 72 hours.
# delay_reasons = ""

# Override any input of the ENISA severity (SE = DPC x EI + CB); leave out to compute it
# from the categories of data exposed.
[severity]
# Data processing context, 1 (simple) to 4 (sensitive).
# dpc = 2
# Added to the DPC for the context (+1 vulnerable persons, -1 public data), -3 to 3.
# dpc_adjust = 0
# Ease of identification, 0.25 (negligible) to 1 (maximum).
# ei = 1
# Circumstances: each loss 0, 0.25 or 0.5.
confidentiality = 0.5
integrity = 0
availability = 0
# Malicious intent (a file offered or posted): true adds 0.5.
malicious = true
"#;

impl Incident {
    /// Read and validate an incident file ([`Incident::parse`]).
    pub fn load(path: &Path) -> Result<Incident, ReportError> {
        let io = |e| ReportError::Io {
            path: path.display().to_string(),
            source: e,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > MAX_INCIDENT_BYTES {
            return Err(incident_error(
                path,
                format!(
                    "{} bytes: not an incident file (at most {MAX_INCIDENT_BYTES} bytes)",
                    meta.len()
                ),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Incident::parse(&text).map_err(|message| incident_error(path, message))
    }

    /// Parse and validate the TOML of an incident file: unknown keys, values outside their
    /// ENISA scale ([`SEVERITY_SCALES`]) and bad dates are refused, each naming its key.
    pub fn parse(text: &str) -> Result<Incident, String> {
        let incident: Incident = toml::from_str(text).map_err(|e| e.to_string())?;
        incident.validate()?;
        Ok(incident)
    }

    /// Check every value against its scale or syntax; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(d) = &self.discovered_at {
            deadline(d).map_err(|e| format!("discovered_at = {d:?}: {}", explain(&e)))?;
        }
        let s = &self.severity;
        let values = [
            s.dpc,
            s.dpc_adjust,
            s.ei,
            s.confidentiality,
            s.integrity,
            s.availability,
        ];
        for (&(key, lo, hi), v) in SEVERITY_SCALES.iter().zip(values) {
            match v {
                Some(x) if !(lo..=hi).contains(&x) => {
                    return Err(format!(
                        "{key} = {x}: outside its ENISA scale ({lo} to {hi})"
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn incident_error(path: &Path, message: String) -> ReportError {
    ReportError::Incident {
        path: path.display().to_string(),
        message,
    }
}

fn explain(e: &ReportError) -> String {
    match e {
        ReportError::DiscoveredAt(why) => why.clone(),
        other => other.to_string(),
    }
}

/// A date and time as given, and the notification deadline 72 hours later.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deadline {
    /// When the breach became known, `YYYY-MM-DD HH:MM[:SS][offset]`.
    pub discovered: String,
    /// 72 hours later, in the same offset.
    pub deadline: String,
}

/// What a `--discovered-at` value or `discovered_at` key must look like.
pub const DISCOVERED_AT_FORMAT: &str =
    "use YYYY-MM-DDTHH:MM (optionally :SS and an offset, e.g. +01:00 or Z)";

/// Largest UTC offset in use anywhere (Kiribati, UTC+14), in seconds.
const MAX_OFFSET_SECONDS: u32 = 14 * 3600;

/// Parse `YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]` (RFC 3339 / ISO 8601 with `jiff`) and add 72 hours:
/// same clock time in the same offset, three days on. A date without a time, an offset that is
/// not one (`+garbage`) or a time-zone name without an offset are refused.
pub fn deadline(discovered_at: &str) -> Result<Deadline, ReportError> {
    let s = discovered_at.trim();
    let bad = |why: String| ReportError::DiscoveredAt(why);
    let pieces =
        Pieces::parse(s).map_err(|e| bad(format!("{s:?}: {e}; {DISCOVERED_AT_FORMAT}")))?;
    let Some(time) = pieces.time() else {
        return Err(bad(format!(
            "{s:?}: no time of day; {DISCOVERED_AT_FORMAT}"
        )));
    };
    if pieces.time_zone_annotation().is_some() && pieces.offset().is_none() {
        return Err(bad(format!(
            "{s:?}: give the offset (e.g. +01:00) rather than a time-zone name"
        )));
    }
    let offset = match pieces.offset() {
        None => String::new(),
        Some(PiecesOffset::Zulu) => "Z".into(),
        Some(PiecesOffset::Numeric(n)) => {
            let secs = n.offset().seconds();
            let sign = if secs < 0 || (secs == 0 && n.is_negative()) {
                '-'
            } else {
                '+'
            };
            let a = secs.unsigned_abs();
            if a > MAX_OFFSET_SECONDS {
                return Err(bad(format!(
                    "{s:?}: offset beyond ±14:00 (no place on Earth uses one)"
                )));
            }
            format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60)
        }
        Some(_) => {
            return Err(bad(format!(
                "{s:?}: unsupported offset; {DISCOVERED_AT_FORMAT}"
            )))
        }
    };
    let start = DateTime::from_parts(pieces.date(), time);
    let end = start
        .checked_add(SignedDuration::from_hours(72))
        .map_err(|e| bad(format!("{s:?}: {e}")))?;
    let show = |dt: DateTime| {
        let mut t = format!("{} {:02}:{:02}", dt.date(), dt.hour(), dt.minute());
        if dt.second() != 0 || dt.subsec_nanosecond() != 0 {
            t.push_str(&format!(":{:02}", dt.second()));
        }
        t + &offset
    };
    Ok(Deadline {
        discovered: show(start),
        deadline: show(end),
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

    /// Timestamps accepted and refused, with what is printed.
    const TIMESTAMPS: &[(&str, Option<(&str, &str)>)] = &[
        (
            "2026-11-20T09:30",
            Some(("2026-11-20 09:30", "2026-11-23 09:30")),
        ),
        (
            "2026-02-27T23:59-05:00",
            Some(("2026-02-27 23:59-05:00", "2026-03-02 23:59-05:00")),
        ),
        (
            "2024-02-27T12:00:00+05:30",
            Some(("2024-02-27 12:00+05:30", "2024-03-01 12:00+05:30")),
        ),
        ("2026-11-20T09:30+garbage", None),
        ("2026-11-20T09:30+1", None),
        ("2026-11-20T09:30+25:00", None),
        ("2026-11-20T09:30[Europe/Paris]", None),
        ("2026-13-01T09:30", None),
        ("2026-02-30T09:30", None),
        ("20 novembre", None),
        ("", None),
    ];

    #[test]
    fn timestamps_table() {
        for (input, want) in TIMESTAMPS {
            let got = deadline(input).ok().map(|d| (d.discovered, d.deadline));
            let want = want.map(|(a, b)| (a.to_string(), b.to_string()));
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn garbage_offset_error_says_what_to_write() {
        let e = deadline("2026-11-20T09:30+garbage")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("+garbage") && e.contains("YYYY-MM-DDTHH:MM"),
            "{e}"
        );
    }

    #[test]
    fn template_parses_and_validates() {
        let i = Incident::parse(INCIDENT_TEMPLATE).unwrap();
        assert_eq!(i.organisation.as_deref(), Some("Exemple SA"));
        assert_eq!(i.severity.confidentiality, Some(0.5));
        assert_eq!(i.severity.malicious, Some(true));
    }

    /// Invalid incident files and the key their error must name.
    const INVALID: &[(&str, &str)] = &[
        ("[severity]\ndpc = 9\n", "severity.dpc = 9"),
        ("[severity]\nei = 0.1\n", "severity.ei = 0.1"),
        (
            "[severity]\nconfidentiality = 1\n",
            "severity.confidentiality = 1",
        ),
        ("[severity]\ndpc_adjust = -7\n", "severity.dpc_adjust = -7"),
        ("[severity]\nintegrity = nan\n", "severity.integrity = NaN"),
        ("[severity]\nmalicous = true\n", "malicous"),
        ("organization = \"x\"\n", "organization"),
        (
            "discovered_at = \"2026-11-20T09:30+garbage\"\n",
            "discovered_at",
        ),
        ("discovered_at = \"hier\"\n", "discovered_at"),
        ("measures_taken = \"not a list\"\n", "measures_taken"),
    ];

    #[test]
    fn invalid_files_name_the_key() {
        for (text, key) in INVALID {
            let e = Incident::parse(text).expect_err(text);
            assert!(e.contains(key), "{text:?}: {e}");
        }
    }
}
