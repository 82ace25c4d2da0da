//! Attribution: which enrolled source (and so which recipient) a leak came from, and when it
//! was extracted.
//!
//! Every candidate is a hypothesis about where the linked rows were drawn from: one enrolled
//! snapshot (a delivery to a recipient, or the registry itself), a join of two snapshots (a
//! thief merging two files), or an unknown source that was never enrolled. Each hypothesis
//! gets a log-likelihood from independent kinds of evidence, all relative to the unknown
//! source:
//!
//! - **membership** — under "drawn from snapshot s" a linked person is one of its `n_s`
//!   persons (probability `(1 − ε)/n_s`, or `ε/N` for a mislink); an unknown source draws
//!   from all `N`. A small extract holding every linked person is strongly favoured; a
//!   superset explains the same persons less well (the size principle), which handles
//!   extracts that are subsets of one another;
//! - **fields** — a row's value that matches the person's enrolled value in *some* snapshot,
//!   for a field this snapshot never held, had to come from elsewhere (probability `η`);
//! - **value versions** — a field the snapshot holds but whose value differs from the row's
//!   (while another snapshot has the row's value) is an old or newer value (probability `δ`):
//!   this separates deliveries of the same recipient at different dates;
//! - **format profile** — how alike the dump's dialect, column names and value styles are to
//!   the snapshot's: weak, capped at ±2 nats, since re-exporting destroys it;
//! - **canaries** — a row linked to a canary person planted in one recipient's delivery.
//!
//! Posteriors follow from the log-likelihoods and priors. The `false_accusation_bound` is
//! `exp(−ΔLL)` between the top candidate and the best candidate sharing none of its
//! snapshots: by Ville's inequality, if the rows really came from that alternative, evidence
//! this strong for the accused arises with at most that probability (under the model).
//!
//! The extraction window comes from value versions too: each row whose values changed between
//! snapshots is consistent with some snapshot dates and not others, which brackets the date
//! its values were read.

use std::collections::BTreeMap;

use leaktrace_index::{FormatProfile, SnapshotInfo, SnapshotKind};
use leaktrace_link::dump::{RowLink, FIELDS};
use serde::Serialize;

/// Probability that a linked row's person is not in the source it came from (a mislink).
pub const EPSILON: f64 = 0.02;
/// Probability that a row's value differs from its source's value although another snapshot
/// holds it (a coincidence or an update the source saw late).
pub const DELTA: f64 = 0.02;
/// Probability that a row holds a real value of a field its source never had (joined in).
pub const ETA: f64 = 0.02;
/// Log-likelihood ratio of one canary row for its recipient (a canary leaks by another route
/// with probability about one in a million).
pub const CANARY_LLR: f64 = 13.8;
/// At most this many canary rows count (they may have been copied together).
pub const CANARY_MAX: usize = 3;
/// Cap of the format-profile evidence, in nats.
pub const PROFILE_CAP: f64 = 2.0;

/// One enrolled delivery a candidate stands for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotRef {
    pub source: String,
    pub recipient: Option<String>,
    pub as_of: String,
}

/// What kind of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Membership,
    Fields,
    ValueVersions,
    FormatProfile,
    Canary,
}

/// One piece of evidence for or against a candidate, relative to an unknown source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub detail: String,
    /// Natural log of the likelihood ratio against the unknown source (positive: for).
    pub log_likelihood_ratio: f64,
}

/// A hypothesis about where the leak came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Source name, `a + b` for a join of two, or `unknown` (a source never enrolled).
    pub source: String,
    /// Recipient(s), `(the organisation)` for the registry.
    pub recipient: String,
    pub snapshots: Vec<SnapshotRef>,
    pub prior: f64,
    pub posterior: f64,
    /// Sum of the evidence, against the unknown source.
    pub log_likelihood_ratio: f64,
    pub evidence: Vec<Evidence>,
}

/// `analysis.json` → `attribution`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attribution {
    /// Sorted by posterior, highest first.
    pub candidates: Vec<Candidate>,
    /// Probability bound of accusing the top candidate when the rows came from the best
    /// alternative sharing none of its snapshots (see the crate documentation).
    pub false_accusation_bound: f64,
    /// `log10` of the bound (it underflows to 0 for large samples).
    pub false_accusation_log10: f64,
    /// Linked rows used as evidence (canary rows included).
    pub rows_used: u64,
    pub canary_rows: u64,
    pub explanation: String,
}

/// `analysis.json` → `extraction_window`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtractionWindow {
    /// The values were read after this date (exclusive); `null`: no lower bound.
    pub from: Option<String>,
    /// …and before this date (exclusive); `null`: up to now.
    pub to: Option<String>,
    /// Share of informative rows whose values fit the window.
    pub consistent_share: f64,
    /// Rows whose values changed between snapshots (the only ones that can date a leak).
    pub informative_rows: u64,
    /// Snapshots whose values the informative rows agree with.
    pub consistent_snapshots: Vec<String>,
    pub explanation: String,
}

fn label(s: &SnapshotInfo) -> String {
    format!("{}@{}", s.source, s.as_of)
}

fn recipient(s: &SnapshotInfo) -> String {
    s.recipient
        .clone()
        .unwrap_or_else(|| "(the organisation)".to_string())
}

fn field_name(fi: usize) -> &'static str {
    FIELDS[fi].name
}

/// Counts over the linked rows, per snapshot.
#[derive(Debug, Default, Clone)]
struct Tally {
    members: u64,
    /// Per field: rows agreeing / held but differing / real value the snapshot never held.
    agree: [u64; 16],
    differ: [u64; 16],
    absent: [u64; 16],
}

/// Attribute the linked rows of a leak to the enrolled snapshots.
///
/// `snapshots` are the index's snapshots in order (the indices of
/// [`leaktrace_link::dump::SnapshotAgreement::snapshot`]); `dump` is the leak's format profile.
pub fn attribute(
    snapshots: &[&SnapshotInfo],
    links: &[RowLink],
    dump: &FormatProfile,
) -> Attribution {
    let ns = snapshots.len();
    let extracts: Vec<usize> = (0..ns)
        .filter(|&i| snapshots[i].kind == SnapshotKind::Extract)
        .collect();
    let population = extracts
        .iter()
        .map(|&i| snapshots[i].persons)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut tally = vec![Tally::default(); ns];
    let mut rows = 0u64;
    let mut informative = [0u64; 16];
    let mut changed_values = 0u64;
    // Canary rows per canary snapshot.
    let mut canaries: BTreeMap<usize, u64> = BTreeMap::new();
    // Member masks of the rows (for joins of two snapshots).
    let mut masks: Vec<u64> = Vec::new();
    for l in links {
        if l.person_id.is_none() || l.versions.is_empty() {
            continue;
        }
        let canary: Vec<usize> = l
            .versions
            .iter()
            .map(|v| usize::from(v.snapshot))
            .filter(|&i| i < ns && snapshots[i].kind == SnapshotKind::Canary)
            .collect();
        if !canary.is_empty() {
            for i in canary {
                *canaries.entry(i).or_default() += 1;
            }
            continue;
        }
        rows += 1;
        let mut mask = 0u64;
        // Fields whose row value is a real enrolled value of the person somewhere.
        let real = l.versions.iter().fold(0u16, |m, v| m | v.agree);
        // …and of those, the values that changed between snapshots.
        let changed = l.versions.iter().fold(0u16, |m, v| m | (v.held & !v.agree)) & real;
        changed_values += u64::from(changed.count_ones());
        for (fi, k) in informative.iter_mut().enumerate().take(FIELDS.len()) {
            if real & (1 << fi) != 0 {
                *k += 1;
            }
        }
        for v in &l.versions {
            let i = usize::from(v.snapshot);
            if i >= ns {
                continue;
            }
            if i < 64 {
                mask |= 1 << i;
            }
            let t = &mut tally[i];
            t.members += 1;
            for fi in 0..FIELDS.len() {
                let bit = 1u16 << fi;
                if real & bit == 0 {
                    continue;
                }
                if v.agree & bit != 0 {
                    t.agree[fi] += 1;
                } else if v.held & bit != 0 {
                    t.differ[fi] += 1;
                } else {
                    t.absent[fi] += 1;
                }
            }
        }
        masks.push(mask);
    }
    if rows == 0 && canaries.is_empty() {
        return Attribution {
            candidates: vec![Candidate {
                posterior: 1.0,
                ..unknown(1.0)
            }],
            false_accusation_bound: 1.0,
            false_accusation_log10: 0.0,
            rows_used: 0,
            canary_rows: 0,
            explanation: "No row links to an enrolled person: nothing to attribute.".to_string(),
        };
    }
    let (ln_eps, ln_keep) = (EPSILON.ln(), (1.0 - EPSILON).ln());
    let (ln_delta, ln_ok, ln_eta) = (DELTA.ln(), (1.0 - DELTA).ln(), ETA.ln());
    let n = rows as f64;
    // Per snapshot, per field: log-likelihood of that field's values against the unknown source.
    let field_ll = |i: usize, fi: usize| -> (f64, f64) {
        let t = &tally[i];
        let versions = t.differ[fi] as f64 * (ln_delta - ln_ok);
        let fields = t.absent[fi] as f64 * (ln_eta - ln_ok);
        (versions, fields)
    };
    let membership_ll = |inside: u64, size: f64| -> f64 {
        let inside = inside as f64;
        inside * (ln_keep - size.ln()) + (n - inside) * (ln_eps - population.ln())
            - n * (ln_keep - population.ln())
    };
    // An unknown source read its values at an unknown date: a value that changed between
    // snapshots is one of (at least) two versions for it, but the one expected for a snapshot.
    let unknown_dating = changed_values as f64 * (ln_ok - 0.5f64.ln());
    let profile_llr = |i: usize| -> (f64, f64) {
        let sim = dump.similarity(&snapshots[i].profile);
        (sim, (4.0 * (sim - 0.5)).clamp(-PROFILE_CAP, PROFILE_CAP))
    };
    let canary_for = |i: usize| -> (u64, Vec<String>) {
        let s = snapshots[i];
        let mut hits = 0;
        let mut names = Vec::new();
        for (&c, &k) in &canaries {
            let cs = snapshots[c];
            let same_recipient = cs.recipient.is_some() && cs.recipient == s.recipient;
            // A canary enrolled for a delivery date supports that delivery only.
            let delivery = extracts
                .iter()
                .any(|&e| snapshots[e].recipient == cs.recipient && snapshots[e].as_of == cs.as_of);
            if same_recipient && (!delivery || cs.as_of == s.as_of) {
                hits += k;
                names.push(label(cs));
            }
        }
        (hits, names)
    };
    let fmt_fields = |list: &[(usize, u64)]| -> String {
        list.iter()
            .map(|(fi, k)| format!("{} ({k} rows)", field_name(*fi)))
            .collect::<Vec<_>>()
            .join(", ")
    };

    let mut candidates: Vec<Candidate> = Vec::new();
    // Single snapshots.
    for &i in &extracts {
        let s = snapshots[i];
        let t = &tally[i];
        let size = s.persons.max(1) as f64;
        let mut evidence = Vec::new();
        let m = membership_ll(t.members, size);
        evidence.push(Evidence {
            kind: EvidenceKind::Membership,
            detail: format!(
                "{} of {} linked persons are in this snapshot of {} persons (1 in {} each, against 1 in {} for an unknown source)",
                t.members, rows, s.persons, s.persons, population as u64
            ),
            log_likelihood_ratio: m,
        });
        let (mut vsum, mut fsum) = (unknown_dating, 0.0);
        let (mut vlist, mut flist) = (Vec::new(), Vec::new());
        for fi in 0..FIELDS.len() {
            let (v, f) = field_ll(i, fi);
            vsum += v;
            fsum += f;
            if t.differ[fi] > 0 {
                vlist.push((fi, t.differ[fi]));
            }
            if t.absent[fi] > 0 {
                flist.push((fi, t.absent[fi]));
            }
        }
        if !flist.is_empty() {
            evidence.push(Evidence {
                kind: EvidenceKind::Fields,
                detail: format!(
                    "rows hold real values of fields this snapshot never held for those persons: {}",
                    fmt_fields(&flist)
                ),
                log_likelihood_ratio: fsum,
            });
        }
        evidence.push(Evidence {
            kind: EvidenceKind::ValueVersions,
            detail: if vlist.is_empty() {
                "every value this snapshot holds for the linked persons equals the row's"
                    .to_string()
            } else {
                format!(
                    "rows hold another version of values this snapshot has (older or newer): {}",
                    fmt_fields(&vlist)
                )
            },
            log_likelihood_ratio: vsum,
        });
        let (sim, p) = profile_llr(i);
        evidence.push(Evidence {
            kind: EvidenceKind::FormatProfile,
            detail: format!("format similarity {sim:.2} (dialect, column names, value styles)"),
            log_likelihood_ratio: p,
        });
        let (hits, names) = canary_for(i);
        if hits > 0 {
            evidence.push(Evidence {
                kind: EvidenceKind::Canary,
                detail: format!(
                    "{hits} row(s) are canaries planted for this recipient ({})",
                    names.join(", ")
                ),
                log_likelihood_ratio: CANARY_LLR * hits.min(CANARY_MAX as u64) as f64,
            });
        }
        candidates.push(Candidate {
            source: s.source.clone(),
            recipient: recipient(s),
            snapshots: vec![SnapshotRef {
                source: s.source.clone(),
                recipient: s.recipient.clone(),
                as_of: s.as_of.clone(),
            }],
            prior: 0.0,
            posterior: 0.0,
            log_likelihood_ratio: 0.0,
            evidence,
        });
    }
    for c in &mut candidates {
        c.log_likelihood_ratio = c.evidence.iter().map(|e| e.log_likelihood_ratio).sum();
    }
    // Joins of two of the best single snapshots: each field comes from one of them (the one
    // explaining it better), and the persons must be in both.
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        candidates[b]
            .log_likelihood_ratio
            .total_cmp(&candidates[a].log_likelihood_ratio)
    });
    let top: Vec<usize> = order.into_iter().take(4).collect();
    let singles = candidates.len();
    let mut joins = Vec::new();
    for (x, &a) in top.iter().enumerate() {
        for &b in &top[x + 1..] {
            let (ia, ib) = (extracts[a], extracts[b]);
            if ia >= 64 || ib >= 64 {
                continue;
            }
            let both = masks
                .iter()
                .filter(|&&m| m & (1 << ia) != 0 && m & (1 << ib) != 0)
                .count() as u64;
            let size = snapshots[ia].persons.min(snapshots[ib].persons).max(1) as f64;
            let m = membership_ll(both, size);
            let (mut vsum, mut fsum) = (unknown_dating, 0.0);
            let (mut from_a, mut from_b) = (0, Vec::new());
            let mut choices = 0;
            for (fi, &k) in informative.iter().enumerate().take(FIELDS.len()) {
                if k == 0 {
                    continue;
                }
                choices += 1;
                let (va, fa) = field_ll(ia, fi);
                let (vb, fb) = field_ll(ib, fi);
                if vb + fb > va + fa {
                    vsum += vb;
                    fsum += fb;
                    from_b.push(field_name(fi));
                } else {
                    vsum += va;
                    fsum += fa;
                    from_a += 1;
                }
            }
            // A join that takes every field from one side is that side alone.
            if from_a == 0 || from_b.is_empty() {
                continue;
            }
            // Choosing the side of each field is a free parameter: pay ln 2 per field.
            fsum -= choices as f64 * std::f64::consts::LN_2;
            let (sa, pa) = profile_llr(ia);
            let (sb, pb) = profile_llr(ib);
            let (ca, na) = canary_for(ia);
            let (cb, nb) = canary_for(ib);
            let mut evidence = vec![
                Evidence {
                    kind: EvidenceKind::Membership,
                    detail: format!(
                        "{both} of {rows} linked persons are in both snapshots (at most {} in common)",
                        size as u64
                    ),
                    log_likelihood_ratio: m,
                },
                Evidence {
                    kind: EvidenceKind::Fields,
                    detail: format!(
                        "each field taken from the snapshot explaining it better; from {}: {}",
                        label(snapshots[ib]),
                        if from_b.is_empty() { "none".to_string() } else { from_b.join(", ") }
                    ),
                    log_likelihood_ratio: fsum,
                },
                Evidence {
                    kind: EvidenceKind::ValueVersions,
                    detail: "values of the chosen snapshot per field".to_string(),
                    log_likelihood_ratio: vsum,
                },
                Evidence {
                    kind: EvidenceKind::FormatProfile,
                    detail: format!("format similarity {:.2}", sa.max(sb)),
                    log_likelihood_ratio: pa.max(pb),
                },
            ];
            if ca + cb > 0 {
                let mut names = na;
                names.extend(nb);
                evidence.push(Evidence {
                    kind: EvidenceKind::Canary,
                    detail: format!("{} canary row(s): {}", ca + cb, names.join(", ")),
                    log_likelihood_ratio: CANARY_LLR * (ca + cb).min(CANARY_MAX as u64) as f64,
                });
            }
            let (sa, sb) = (snapshots[ia], snapshots[ib]);
            let llr = evidence.iter().map(|e| e.log_likelihood_ratio).sum();
            joins.push(Candidate {
                source: format!("{} + {}", sa.source, sb.source),
                recipient: format!("{} + {}", recipient(sa), recipient(sb)),
                snapshots: candidates[a]
                    .snapshots
                    .iter()
                    .chain(&candidates[b].snapshots)
                    .cloned()
                    .collect(),
                prior: 0.0,
                posterior: 0.0,
                log_likelihood_ratio: llr,
                evidence,
            });
        }
    }
    candidates.extend(joins);
    // Canaries of recipients without an enrolled delivery still name them.
    for (&c, &k) in &canaries {
        let cs = snapshots[c];
        if extracts
            .iter()
            .any(|&e| snapshots[e].recipient == cs.recipient)
        {
            continue;
        }
        candidates.push(Candidate {
            source: cs.source.clone(),
            recipient: recipient(cs),
            snapshots: Vec::new(),
            prior: 0.0,
            posterior: 0.0,
            log_likelihood_ratio: CANARY_LLR * k.min(CANARY_MAX as u64) as f64,
            evidence: vec![Evidence {
                kind: EvidenceKind::Canary,
                detail: format!("{k} row(s) are canaries planted for this recipient, whose delivery is not enrolled"),
                log_likelihood_ratio: CANARY_LLR * k.min(CANARY_MAX as u64) as f64,
            }],
        });
    }
    candidates.push(unknown(0.0));
    // Priors: 10 % for an unknown source, 70 % shared by single snapshots, 20 % by joins.
    let joins_n = candidates.len() - singles - 1;
    for (k, c) in candidates.iter_mut().enumerate() {
        c.prior = if c.source == "unknown" {
            0.1
        } else if k < singles || c.snapshots.len() < 2 {
            0.7 / singles.max(1) as f64
        } else {
            0.2 / joins_n.max(1) as f64
        };
    }
    let best = candidates
        .iter()
        .map(|c| c.prior.ln() + c.log_likelihood_ratio)
        .fold(f64::NEG_INFINITY, f64::max);
    let total: f64 = candidates
        .iter()
        .map(|c| (c.prior.ln() + c.log_likelihood_ratio - best).exp())
        .sum();
    for c in &mut candidates {
        c.posterior = round6((c.prior.ln() + c.log_likelihood_ratio - best).exp() / total);
        c.log_likelihood_ratio = round3(c.log_likelihood_ratio);
        for e in &mut c.evidence {
            e.log_likelihood_ratio = round3(e.log_likelihood_ratio);
        }
    }
    candidates.sort_by(|a, b| {
        (b.prior.ln() + b.log_likelihood_ratio)
            .total_cmp(&(a.prior.ln() + a.log_likelihood_ratio))
            .then_with(|| a.source.cmp(&b.source))
    });
    let top = &candidates[0];
    let alt = candidates[1..]
        .iter()
        .filter(|c| c.snapshots.iter().all(|s| !top.snapshots.contains(s)))
        .map(|c| c.log_likelihood_ratio)
        .fold(f64::NEG_INFINITY, f64::max);
    let gap = (top.log_likelihood_ratio - alt).max(0.0);
    let bound = if top.source == "unknown" || rows == 0 {
        1.0
    } else {
        (-gap).exp()
    };
    let explanation = if rows == 0 && canaries.is_empty() {
        "No row links to an enrolled person: nothing to attribute.".to_string()
    } else if top.source == "unknown" {
        format!(
            "The {rows} linked rows fit no enrolled source better than an unknown one: the file probably came from a system or recipient that is not enrolled."
        )
    } else {
        format!(
            "Most likely from {} ({}), posterior {:.3}. If the rows had come from the best alternative not involving it, evidence this strong would arise with probability at most {}.",
            top.source,
            top.recipient,
            top.posterior,
            fmt_prob(bound, -gap / std::f64::consts::LN_10)
        )
    };
    Attribution {
        false_accusation_bound: bound,
        false_accusation_log10: round3(if bound >= 1.0 {
            0.0
        } else {
            -gap / std::f64::consts::LN_10
        }),
        rows_used: rows,
        canary_rows: canaries.values().sum(),
        candidates,
        explanation,
    }
}

/// The hypothesis of a source that was never enrolled (the baseline of every ratio).
fn unknown(prior: f64) -> Candidate {
    Candidate {
        source: "unknown".to_string(),
        recipient: "a source that was never enrolled".to_string(),
        snapshots: Vec::new(),
        prior,
        posterior: 0.0,
        log_likelihood_ratio: 0.0,
        evidence: Vec::new(),
    }
}

fn fmt_prob(p: f64, log10: f64) -> String {
    if p >= 1e-6 {
        format!("{p:.2e}")
    } else {
        format!("10^{log10:.0}")
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// Date the extraction from the rows whose values changed between snapshots.
pub fn extraction_window(snapshots: &[&SnapshotInfo], links: &[RowLink]) -> ExtractionWindow {
    let ns = snapshots.len();
    let mut lows: Vec<&str> = Vec::new();
    let mut highs: Vec<&str> = Vec::new();
    let mut consistent_count = vec![0u64; ns];
    let mut informative = 0u64;
    let mut contradictory = 0u64;
    for l in links {
        if l.person_id.is_none() {
            continue;
        }
        let vs: Vec<_> = l
            .versions
            .iter()
            .filter(|v| {
                let i = usize::from(v.snapshot);
                i < ns && snapshots[i].kind == SnapshotKind::Extract
            })
            .collect();
        // Fields some snapshot agrees with and another (holding the field) does not.
        let agreed = vs.iter().fold(0u16, |m, v| m | v.agree);
        let changed = vs.iter().fold(0u16, |m, v| m | (v.held & !v.agree)) & agreed;
        if changed == 0 {
            continue;
        }
        informative += 1;
        let (mut cons, mut incons): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for v in &vs {
            let f = v.held & changed;
            if f == 0 {
                continue;
            }
            let date = snapshots[usize::from(v.snapshot)].as_of.as_str();
            if v.agree & f == f {
                cons.push(date);
                consistent_count[usize::from(v.snapshot)] += 1;
            } else {
                incons.push(date);
            }
        }
        let (Some(&cmin), Some(&cmax)) = (cons.iter().min(), cons.iter().max()) else {
            continue;
        };
        if incons.iter().any(|d| *d > cmin && *d < cmax) {
            contradictory += 1;
            continue;
        }
        lows.push(
            incons
                .iter()
                .filter(|d| **d < cmin)
                .max()
                .copied()
                .unwrap_or(""),
        );
        highs.push(
            incons
                .iter()
                .filter(|d| **d > cmax)
                .min()
                .copied()
                .unwrap_or("~"),
        );
    }
    if lows.is_empty() {
        return ExtractionWindow {
            from: None,
            to: None,
            consistent_share: 0.0,
            informative_rows: informative,
            consistent_snapshots: Vec::new(),
            explanation: "No linked person's values changed between the enrolled snapshots: the file cannot be dated from its values.".to_string(),
        };
    }
    // Robust bounds: the 95th percentile of the lower bounds, the 5th of the upper ones.
    lows.sort_unstable();
    highs.sort_unstable();
    let k = lows.len();
    let from = lows[((k as f64 * 0.95) as usize).min(k - 1)];
    let to = highs[(k as f64 * 0.05) as usize];
    let fits = lows
        .iter()
        .zip(&highs)
        .filter(|(lo, hi)| **lo <= from && **hi >= to)
        .count();
    let mut consistent: Vec<(String, u64)> = (0..ns)
        .filter(|&i| consistent_count[i] * 2 > informative)
        .map(|i| (label(snapshots[i]), consistent_count[i]))
        .collect();
    consistent.sort();
    let from = (!from.is_empty()).then(|| from.to_string());
    let to = (to != "~").then(|| to.to_string());
    let explanation = format!(
        "{informative} linked rows hold values that changed between snapshots{}; their values were current after {} and before {} ({fits} of {} rows fit).",
        if contradictory > 0 {
            format!(" ({contradictory} contradictory rows set aside)")
        } else {
            String::new()
        },
        from.as_deref().unwrap_or("the earliest snapshot"),
        to.as_deref().unwrap_or("today"),
        lows.len()
    );
    ExtractionWindow {
        from,
        to,
        consistent_share: round3(fits as f64 / informative.max(1) as f64),
        informative_rows: informative,
        consistent_snapshots: consistent.into_iter().map(|(l, _)| l).collect(),
        explanation,
    }
}
