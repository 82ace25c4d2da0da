//! Severity after ENISA's methodology for personal data breaches (2013):
//! `SE = DPC × EI + CB`, where DPC is the data processing context (1 simple, 2 behavioural,
//! 3 financial, 4 sensitive), EI the ease of identification (0.25 negligible … 1 maximum) and
//! CB the circumstances of the breach (loss of confidentiality, integrity, availability,
//! malicious intent). SE < 2 low, < 3 medium, < 4 high, else very high. GDPR Art. 34 (telling
//! the persons) applies from high.

use leaktrace_pii::ColumnType;
use serde::{Deserialize, Serialize};

/// Inputs a DPO may override in the incident file (`[severity]`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeverityInput {
    /// Data processing context, 1–4 (default: from the categories exposed).
    pub dpc: Option<f64>,
    /// Added to the DPC for the context (e.g. +1 for vulnerable persons, −1 for public data).
    pub dpc_adjust: Option<f64>,
    /// Ease of identification, 0.25–1 (default: from the categories exposed).
    pub ei: Option<f64>,
    /// Loss of confidentiality: 0, 0.25 (to known recipients) or 0.5 (to unknown ones or the
    /// public; default, since the file is out).
    pub confidentiality: Option<f64>,
    /// Loss of integrity: 0, 0.25 or 0.5 (default 0).
    pub integrity: Option<f64>,
    /// Loss of availability: 0, 0.25 or 0.5 (default 0).
    pub availability: Option<f64>,
    /// Malicious intent (default true: a leaked file offered or posted): +0.5.
    pub malicious: Option<bool>,
}

/// The score with its inputs and reasons.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Severity {
    pub dpc: f64,
    pub dpc_reason: String,
    pub ei: f64,
    pub ei_reason: String,
    pub cb: f64,
    pub cb_reason: String,
    pub score: f64,
    /// `low`, `medium`, `high` or `very high`.
    pub level: String,
    /// Whether Art. 34 (communication to the persons) applies: high or very high.
    pub art34: bool,
}

fn base_dpc(t: ColumnType) -> (f64, &'static str) {
    use ColumnType as T;
    match t {
        T::Nir => (
            3.0,
            "NIR (social security number): a national identifier that enables identity fraud",
        ),
        T::Iban => (3.0, "IBAN: financial data"),
        T::Password | T::PasswordHash => (3.0, "passwords: access to accounts"),
        T::Latitude | T::Longitude | T::Address => (2.0, "location data"),
        T::EducationLevel | T::RomeCode => (
            2.0,
            "education and job data: a profile of the person's situation",
        ),
        _ => (1.0, "identification and contact data"),
    }
}

/// Score the exposure of `categories` (the personal types in the file) under `input`.
pub fn assess(categories: &[ColumnType], input: &SeverityInput) -> Severity {
    use ColumnType as T;
    let (mut dpc, mut dpc_reason) = (1.0, "identification and contact data".to_string());
    for t in categories {
        let (d, why) = base_dpc(*t);
        if d > dpc {
            dpc = d;
            dpc_reason = why.to_string();
        }
    }
    if let Some(d) = input.dpc {
        dpc = d;
        dpc_reason = "set in the incident file".into();
    }
    if let Some(a) = input.dpc_adjust {
        dpc = (dpc + a).clamp(1.0, 4.0);
        dpc_reason = format!("{dpc_reason}; adjusted by {a:+} in the incident file");
    }
    let has = |t: T| categories.contains(&t);
    let named = has(T::LastName) || has(T::FullName);
    let (mut ei, ei_reason) = if has(T::Nir) || (named && (has(T::Email) || has(T::Phone))) {
        (
            1.0,
            "maximum: names with a NIR, e-mail or phone identify the person directly",
        )
    } else if named && (has(T::BirthDate) || has(T::FirstName)) {
        (
            0.75,
            "significant: full names (with birth date) identify most persons",
        )
    } else if has(T::Email) || has(T::Phone) || named {
        (0.5, "limited: a contact or a surname alone")
    } else {
        (0.25, "negligible: no direct identifier")
    };
    let mut ei_reason = ei_reason.to_string();
    if let Some(e) = input.ei {
        ei = e;
        ei_reason = "set in the incident file".into();
    }
    let c = input.confidentiality.unwrap_or(0.5);
    let i = input.integrity.unwrap_or(0.0);
    let a = input.availability.unwrap_or(0.0);
    let m = if input.malicious.unwrap_or(true) {
        0.5
    } else {
        0.0
    };
    let cb = c + i + a + m;
    let cb_reason = format!(
        "confidentiality {c}{}, integrity {i}, availability {a}, malicious intent {m}",
        if input.confidentiality.is_none() {
            " (the file is in unknown hands)"
        } else {
            ""
        }
    );
    let score = ((dpc * ei + cb) * 100.0).round() / 100.0;
    let level = if score < 2.0 {
        "low"
    } else if score < 3.0 {
        "medium"
    } else if score < 4.0 {
        "high"
    } else {
        "very high"
    };
    Severity {
        dpc,
        dpc_reason,
        ei,
        ei_reason,
        cb,
        cb_reason,
        score,
        level: level.to_string(),
        art34: score >= 3.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType as T;

    #[test]
    fn nir_with_names_is_very_high() {
        let s = assess(
            &[T::LastName, T::FirstName, T::Nir],
            &SeverityInput::default(),
        );
        assert_eq!((s.dpc, s.ei, s.cb, s.score), (3.0, 1.0, 1.0, 4.0));
        assert_eq!(s.level, "very high");
        assert!(s.art34);
    }

    #[test]
    fn contacts_are_medium_and_overrides_apply() {
        let s = assess(&[T::Email, T::Phone], &SeverityInput::default());
        assert_eq!((s.dpc, s.ei, s.score), (1.0, 0.5, 1.5));
        assert_eq!(s.level, "low");
        let s = assess(
            &[T::LastName, T::Email, T::EducationLevel],
            &SeverityInput {
                malicious: Some(false),
                confidentiality: Some(0.25),
                ..SeverityInput::default()
            },
        );
        assert_eq!((s.dpc, s.ei, s.cb, s.score), (2.0, 1.0, 0.25, 2.25));
        assert_eq!(s.level, "medium");
        assert!(!s.art34);
    }
}
