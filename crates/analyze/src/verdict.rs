//! The verdict: authentic, partial, recombined or not ours — with the evidence that decided it.
//!
//! The rules, in order (shares are of the file's rows):
//!
//! 1. **recombined** — at least 10 % of rows, and at least 20 % of the linked rows, are
//!    *contradictory*: linked to a person by their names and dates while an identifier of the row
//!    (NIR, e-mail, phone, IBAN) belongs to another enrolled person. Real fragments stitched into
//!    fake records look like this.
//! 2. **authentic** — at least 60 % of rows link with *strong* evidence: an identifier agrees, or
//!    the birth date agrees (exactly) together with the names — and the row's NIR, if any, does
//!    not contradict (a NIR never changes).
//! 3. **partial** — the strongly linked share is at least 3 % and at least three times what
//!    chance gives (see below).
//! 4. **not_ours** — otherwise: links are no more than chance would give.
//!
//! *Chance*: a linked row that agrees only on quasi-identifiers (names, town, postal code,
//! sex) while the file carries identifiers or birth dates that could have agreed is counted as a
//! *weak* link — that is what common names and shared town names produce in a file that is not
//! ours. The weak-link share estimates the chance level.

use leaktrace_link::dump::RowLink;
use leaktrace_pii::ColumnType;
use serde::Serialize;

use crate::Linkage;

/// Verdict status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Authentic,
    Partial,
    Recombined,
    NotOurs,
}

impl Status {
    /// As written in analysis.json.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Authentic => "authentic",
            Status::Partial => "partial",
            Status::Recombined => "recombined",
            Status::NotOurs => "not_ours",
        }
    }
}

/// The numbers a verdict rests on.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub rows: u64,
    pub rows_linked: u64,
    /// Linked with an identifier or birth date + names agreeing.
    pub strong_links: u64,
    /// Linked on quasi-identifiers only although the file could have shown more.
    pub weak_links: u64,
    /// Linked rows with an identifier that belongs to another enrolled person.
    pub contradictory_rows: u64,
    pub strong_share: f64,
    pub chance_share: f64,
    pub contradictory_share: f64,
    pub mean_match_probability: f64,
}

/// `verdict` in analysis.json.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub status: Status,
    /// 0.5–0.99: how far the deciding share is from the rule's threshold.
    pub confidence: f64,
    /// One sentence with the numbers.
    pub summary: String,
    /// The evidence, as sentences.
    pub explanation: Vec<String>,
    pub evidence: Evidence,
}

const IDENTIFIERS: [&str; 4] = ["nir", "email", "phone", "iban"];

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// Judge a file from its links.
pub fn judge(linkage: &Linkage, links: &[RowLink], types: &[ColumnType]) -> Verdict {
    use ColumnType as T;
    let rows = links.len().max(1) as f64;
    let file_has_ids = types
        .iter()
        .any(|t| matches!(t, T::Nir | T::Email | T::Phone | T::Iban));
    let file_has_birth = types.contains(&T::BirthDate);
    let mut strong = 0u64;
    let mut weak = 0u64;
    let mut contradictory = 0u64;
    let mut prob_sum = 0.0;
    for l in links.iter().filter(|l| l.person_id.is_some()) {
        prob_sum += l.match_probability;
        let agrees = |f: &str| {
            l.agreeing_fields
                .iter()
                .any(|a| a == f || a.starts_with(&format!("{f}:")))
        };
        // A NIR never changes: a row whose NIR differs from the person's is not that person's
        // record, whatever else agrees.
        let nir_disagrees = l.disagreeing_fields.iter().any(|f| f == "nir");
        let id_agrees = !nir_disagrees && IDENTIFIERS.iter().any(|f| agrees(f));
        let birth_names = agrees("birth_date")
            && (agrees("last_name") || agrees("first_name") || agrees("name_tokens"));
        if !l.foreign_identifiers.is_empty() && !id_agrees {
            contradictory += 1;
        }
        if id_agrees
            || (!nir_disagrees
                && l.agreeing_fields.iter().any(|a| a == "birth_date")
                && birth_names
                && l.foreign_identifiers.is_empty())
        {
            strong += 1;
        } else if file_has_ids || file_has_birth {
            weak += 1;
        } else {
            // Names and places are all the file has: such a link is the best evidence there is.
            strong += 1;
        }
    }
    let linked = linkage.rows_linked;
    let strong_share = strong as f64 / rows;
    let chance_share = weak as f64 / rows;
    let contra_share = contradictory as f64 / rows;
    let evidence = Evidence {
        rows: links.len() as u64,
        rows_linked: linked,
        strong_links: strong,
        weak_links: weak,
        contradictory_rows: contradictory,
        strong_share: round3(strong_share),
        chance_share: round3(chance_share),
        contradictory_share: round3(contra_share),
        mean_match_probability: round3(if linked > 0 {
            prob_sum / linked as f64
        } else {
            0.0
        }),
    };
    let mut explanation = vec![format!(
        "{} of {} rows link to an enrolled person ({}), {} persons in all; {} with strong evidence (an identifier, or birth date and names, agree), {} on names and places only.",
        linked,
        links.len(),
        pct(linked as f64 / rows),
        linkage.persons_affected,
        strong,
        weak
    )];
    let scale = |x: f64, lo: f64, hi: f64| {
        round3((0.5 + 0.49 * ((x - lo) / (hi - lo)).clamp(0.0, 1.0)).min(0.99))
    };
    let (status, confidence) = if contra_share >= 0.10
        && contradictory as f64 >= 0.2 * linked.max(1) as f64
    {
        explanation.push(format!(
            "{} rows ({}) are contradictory: their names and dates point to one person while their {} belong to other enrolled persons — real fragments stitched together.",
            contradictory,
            pct(contra_share),
            contradicted_fields(links)
        ));
        (Status::Recombined, scale(contra_share, 0.10, 0.5))
    } else if strong_share >= 0.60 {
        explanation.push(format!(
            "{} of rows link with strong evidence (threshold 60 %): the file holds our persons with values consistent with one person per row.",
            pct(strong_share)
        ));
        (Status::Authentic, scale(strong_share, 0.60, 0.95))
    } else if strong_share >= 0.03 && strong_share >= 3.0 * chance_share {
        explanation.push(format!(
            "A minority of rows ({}) link with strong evidence — above chance ({} weak links) but below the 60 % of an authentic extract: part of the file is ours, the rest is not.",
            pct(strong_share),
            pct(chance_share)
        ));
        (Status::Partial, scale(strong_share, 0.03, 0.3))
    } else {
        explanation.push(format!(
            "Links are no more than chance gives: {} strong, {} on common names and places only; the identifiers in the file match no enrolled person.",
            pct(strong_share),
            pct(chance_share)
        ));
        (Status::NotOurs, scale(0.03 - strong_share, 0.0, 0.03))
    };
    if contradictory > 0 && status != Status::Recombined {
        explanation.push(format!(
            "{contradictory} linked rows carry an identifier of another enrolled person (below the 10 % that makes a file recombined)."
        ));
    }
    if linkage.duplicate_rows > 0 {
        explanation.push(format!(
            "{} rows repeat a person already linked by an earlier row.",
            linkage.duplicate_rows
        ));
    }
    let summary = match status {
        Status::Authentic => format!(
            "Authentic: {} of {} rows are our persons ({} persons affected), confidence {:.2}.",
            linked,
            links.len(),
            linkage.persons_affected,
            confidence
        ),
        Status::Partial => format!(
            "Partial: only {} of {} rows are our persons ({} persons affected); the rest is not ours. Confidence {:.2}.",
            strong,
            links.len(),
            linkage.persons_affected,
            confidence
        ),
        Status::Recombined => format!(
            "Recombined: {} of {} rows stitch one person's names to other persons' identifiers — a fabricated file made of real fragments. Confidence {:.2}.",
            contradictory,
            links.len(),
            confidence
        ),
        Status::NotOurs => format!(
            "Not ours: {} of {} rows link, no more than chance (common names and towns). Confidence {:.2}.",
            linked,
            links.len(),
            confidence
        ),
    };
    Verdict {
        status,
        confidence,
        summary,
        explanation,
        evidence,
    }
}

fn contradicted_fields(links: &[RowLink]) -> String {
    let mut fields: Vec<&str> = links
        .iter()
        .flat_map(|l| l.foreign_identifiers.iter().map(String::as_str))
        .collect();
    fields.sort_unstable();
    fields.dedup();
    if fields.is_empty() {
        "identifiers".into()
    } else {
        fields.join(" and ")
    }
}
