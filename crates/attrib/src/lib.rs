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
//! Candidates carry their [`CandidateKind`]; nothing is inferred from a source's name.
//!
//! The extraction window ([`extraction_window`], in `dating.rs`) takes its lower bound from the
//! attributed delivery (a copy cannot predate it) and from value versions: each row whose values
//! changed between snapshots is consistent with some snapshot dates and not others, which
//! brackets the date its values were read; the upper bound is the first later snapshot whose
//! values the file does not hold.

use std::collections::BTreeMap;

use leaktrace_index::{FormatProfile, SnapshotInfo, SnapshotKind};
use leaktrace_link::dump::{RowLink, FIELDS};

mod dating;

pub use dating::{extraction_window, Bound, BoundReason, ExtractionWindow, DATING_MIN_POSTERIOR};
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
/// Prior of an unknown source (never enrolled).
pub const PRIOR_UNKNOWN: f64 = 0.1;
/// Prior shared by the single deliveries (and recipients known by a canary only).
pub const PRIOR_SINGLES: f64 = 0.7;
/// Prior shared by the joins of two deliveries.
pub const PRIOR_JOINS: f64 = 0.2;
/// Joins are tried between this many of the best single deliveries.
pub const JOIN_TOP: usize = 4;

/// What a candidate stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateKind {
    /// One enrolled snapshot: a delivery to a recipient, or the registry itself.
    Delivery,
    /// A join of two enrolled snapshots (a thief merging two files).
    Join,
    /// A recipient known only by a canary planted for it (its delivery is not enrolled).
    CanaryRecipient,
    /// A source that was never enrolled: the baseline of every ratio.
    Unknown,
}

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
    /// What the candidate stands for (never inferred from `source`: an enrolled source may be
    /// named `unknown`).
    pub kind: CandidateKind,
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

pub(crate) fn label(s: &SnapshotInfo) -> String {
    format!("{}@{}", s.source, s.as_of)
}

pub(crate) fn recipient(s: &SnapshotInfo) -> String {
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

/// Phase 1 of [`attribute`]: what the linked rows say, per snapshot.
#[derive(Debug, Default)]
struct Tallies {
    per_snapshot: Vec<Tally>,
    /// Linked rows used (canary rows excepted).
    rows: u64,
    /// Per field: rows whose value is a real enrolled value of their person somewhere.
    informative: [u64; 16],
    /// Values that changed between snapshots, over all rows.
    changed_values: u64,
    /// Canary rows per canary snapshot.
    canaries: BTreeMap<usize, u64>,
    /// Per row: the snapshots holding its person (bit i, i < 64), for joins of two.
    masks: Vec<u64>,
}

fn tally_rows(snapshots: &[&SnapshotInfo], links: &[RowLink]) -> Tallies {
    let ns = snapshots.len();
    let mut t = Tallies {
        per_snapshot: vec![Tally::default(); ns],
        ..Tallies::default()
    };
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
                *t.canaries.entry(i).or_default() += 1;
            }
            continue;
        }
        t.rows += 1;
        let mut mask = 0u64;
        // Fields whose row value is a real enrolled value of the person somewhere.
        let real = l.versions.iter().fold(0u16, |m, v| m | v.agree);
        // …and of those, the values that changed between snapshots.
        let changed = l.versions.iter().fold(0u16, |m, v| m | (v.held & !v.agree)) & real;
        t.changed_values += u64::from(changed.count_ones());
        for (fi, k) in t.informative.iter_mut().enumerate().take(FIELDS.len()) {
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
            let s = &mut t.per_snapshot[i];
            s.members += 1;
            for fi in 0..FIELDS.len() {
                let bit = 1u16 << fi;
                if real & bit == 0 {
                    continue;
                }
                if v.agree & bit != 0 {
                    s.agree[fi] += 1;
                } else if v.held & bit != 0 {
                    s.differ[fi] += 1;
                } else {
                    s.absent[fi] += 1;
                }
            }
        }
        t.masks.push(mask);
    }
    t
}

/// Phase 2 of [`attribute`]: the log-likelihood ratios of each kind of evidence.
struct Scorer<'a> {
    snapshots: &'a [&'a SnapshotInfo],
    dump: &'a FormatProfile,
    t: &'a Tallies,
    /// Indices of the snapshots of real persons (not canaries).
    extracts: Vec<usize>,
    /// Persons of the largest snapshot: what an unknown source draws from.
    population: f64,
}

impl Scorer<'_> {
    /// Per snapshot, per field: (value versions, fields) log-likelihood against the unknown
    /// source.
    fn field_ll(&self, i: usize, fi: usize) -> (f64, f64) {
        let t = &self.t.per_snapshot[i];
        let versions = t.differ[fi] as f64 * (DELTA.ln() - (1.0 - DELTA).ln());
        let fields = t.absent[fi] as f64 * (ETA.ln() - (1.0 - DELTA).ln());
        (versions, fields)
    }

    /// Membership: `inside` of the rows' persons are in a snapshot of `size` persons.
    fn membership_ll(&self, inside: u64, size: f64) -> f64 {
        let (ln_eps, ln_keep) = (EPSILON.ln(), (1.0 - EPSILON).ln());
        let n = self.t.rows as f64;
        let inside = inside as f64;
        inside * (ln_keep - size.ln()) + (n - inside) * (ln_eps - self.population.ln())
            - n * (ln_keep - self.population.ln())
    }

    /// An unknown source read its values at an unknown date: a value that changed between
    /// snapshots is one of (at least) two versions for it, but the one expected for a snapshot.
    fn unknown_dating(&self) -> f64 {
        self.t.changed_values as f64 * ((1.0 - DELTA).ln() - 0.5f64.ln())
    }

    /// (similarity, capped log-likelihood ratio) of the dump's format against snapshot `i`'s.
    fn profile_llr(&self, i: usize) -> (f64, f64) {
        let sim = self.dump.similarity(&self.snapshots[i].profile);
        (sim, (4.0 * (sim - 0.5)).clamp(-PROFILE_CAP, PROFILE_CAP))
    }

    /// Canary rows supporting snapshot `i`, and the canary snapshots they come from.
    fn canary_for(&self, i: usize) -> (u64, Vec<String>) {
        let s = self.snapshots[i];
        let mut hits = 0;
        let mut names = Vec::new();
        for (&c, &k) in &self.t.canaries {
            let cs = self.snapshots[c];
            let same_recipient = cs.recipient.is_some() && cs.recipient == s.recipient;
            // A canary enrolled for a delivery date supports that delivery only.
            let delivery = self.extracts.iter().any(|&e| {
                self.snapshots[e].recipient == cs.recipient && self.snapshots[e].as_of == cs.as_of
            });
            if same_recipient && (!delivery || cs.as_of == s.as_of) {
                hits += k;
                names.push(label(cs));
            }
        }
        (hits, names)
    }
}

fn canary_llr(hits: u64) -> f64 {
    CANARY_LLR * hits.min(CANARY_MAX as u64) as f64
}

fn fmt_fields(list: &[(usize, u64)]) -> String {
    list.iter()
        .map(|(fi, k)| format!("{} ({k} rows)", field_name(*fi)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn snapshot_ref(s: &SnapshotInfo) -> SnapshotRef {
    SnapshotRef {
        source: s.source.clone(),
        recipient: s.recipient.clone(),
        as_of: s.as_of.clone(),
    }
}

/// The candidate "drawn from snapshot `i`".
fn single(sc: &Scorer, i: usize) -> Candidate {
    let s = sc.snapshots[i];
    let t = &sc.t.per_snapshot[i];
    let rows = sc.t.rows;
    let mut evidence = vec![Evidence {
        kind: EvidenceKind::Membership,
        detail: format!(
            "{} of {} linked persons are in this snapshot of {} persons (1 in {} each, against 1 in {} for an unknown source)",
            t.members, rows, s.persons, s.persons, sc.population as u64
        ),
        log_likelihood_ratio: sc.membership_ll(t.members, s.persons.max(1) as f64),
    }];
    let (mut vsum, mut fsum) = (sc.unknown_dating(), 0.0);
    let (mut vlist, mut flist) = (Vec::new(), Vec::new());
    for fi in 0..FIELDS.len() {
        let (v, f) = sc.field_ll(i, fi);
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
            "every value this snapshot holds for the linked persons equals the row's".to_string()
        } else {
            format!(
                "rows hold another version of values this snapshot has (older or newer): {}",
                fmt_fields(&vlist)
            )
        },
        log_likelihood_ratio: vsum,
    });
    let (sim, p) = sc.profile_llr(i);
    evidence.push(Evidence {
        kind: EvidenceKind::FormatProfile,
        detail: format!("format similarity {sim:.2} (dialect, column names, value styles)"),
        log_likelihood_ratio: p,
    });
    let (hits, names) = sc.canary_for(i);
    if hits > 0 {
        evidence.push(Evidence {
            kind: EvidenceKind::Canary,
            detail: format!(
                "{hits} row(s) are canaries planted for this recipient ({})",
                names.join(", ")
            ),
            log_likelihood_ratio: canary_llr(hits),
        });
    }
    Candidate {
        kind: CandidateKind::Delivery,
        source: s.source.clone(),
        recipient: recipient(s),
        snapshots: vec![snapshot_ref(s)],
        prior: 0.0,
        posterior: 0.0,
        log_likelihood_ratio: evidence.iter().map(|e| e.log_likelihood_ratio).sum(),
        evidence,
    }
}

/// The candidate "joined from snapshots `ia` and `ib`": each field comes from the one
/// explaining it better, and the persons must be in both. `None` when every field comes from
/// one side (that side alone).
fn join(sc: &Scorer, ia: usize, ib: usize) -> Option<Candidate> {
    if ia >= 64 || ib >= 64 {
        return None;
    }
    let (sa, sb) = (sc.snapshots[ia], sc.snapshots[ib]);
    let both =
        sc.t.masks
            .iter()
            .filter(|&&m| m & (1 << ia) != 0 && m & (1 << ib) != 0)
            .count() as u64;
    let size = sa.persons.min(sb.persons).max(1) as f64;
    let (mut vsum, mut fsum) = (sc.unknown_dating(), 0.0);
    let (mut from_a, mut from_b) = (0, Vec::new());
    let mut choices = 0;
    for (fi, &k) in sc.t.informative.iter().enumerate().take(FIELDS.len()) {
        if k == 0 {
            continue;
        }
        choices += 1;
        let (va, fa) = sc.field_ll(ia, fi);
        let (vb, fb) = sc.field_ll(ib, fi);
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
    if from_a == 0 || from_b.is_empty() {
        return None;
    }
    // Choosing the side of each field is a free parameter: pay ln 2 per field.
    fsum -= choices as f64 * std::f64::consts::LN_2;
    let (sima, pa) = sc.profile_llr(ia);
    let (simb, pb) = sc.profile_llr(ib);
    let (ca, mut names) = sc.canary_for(ia);
    let (cb, nb) = sc.canary_for(ib);
    let mut evidence = vec![
        Evidence {
            kind: EvidenceKind::Membership,
            detail: format!(
                "{both} of {} linked persons are in both snapshots (at most {} in common)",
                sc.t.rows, size as u64
            ),
            log_likelihood_ratio: sc.membership_ll(both, size),
        },
        Evidence {
            kind: EvidenceKind::Fields,
            detail: format!(
                "each field taken from the snapshot explaining it better; from {}: {}",
                label(sb),
                from_b.join(", ")
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
            detail: format!("format similarity {:.2}", sima.max(simb)),
            log_likelihood_ratio: pa.max(pb),
        },
    ];
    if ca + cb > 0 {
        names.extend(nb);
        evidence.push(Evidence {
            kind: EvidenceKind::Canary,
            detail: format!("{} canary row(s): {}", ca + cb, names.join(", ")),
            log_likelihood_ratio: canary_llr(ca + cb),
        });
    }
    Some(Candidate {
        kind: CandidateKind::Join,
        source: format!("{} + {}", sa.source, sb.source),
        recipient: format!("{} + {}", recipient(sa), recipient(sb)),
        snapshots: vec![snapshot_ref(sa), snapshot_ref(sb)],
        prior: 0.0,
        posterior: 0.0,
        log_likelihood_ratio: evidence.iter().map(|e| e.log_likelihood_ratio).sum(),
        evidence,
    })
}

/// Joins of two of the [`JOIN_TOP`] best single snapshots.
fn joins(sc: &Scorer, singles: &[Candidate]) -> Vec<Candidate> {
    let mut order: Vec<usize> = (0..singles.len()).collect();
    order.sort_by(|&a, &b| {
        singles[b]
            .log_likelihood_ratio
            .total_cmp(&singles[a].log_likelihood_ratio)
    });
    let top: Vec<usize> = order.into_iter().take(JOIN_TOP).collect();
    let mut out = Vec::new();
    for (x, &a) in top.iter().enumerate() {
        for &b in &top[x + 1..] {
            out.extend(join(sc, sc.extracts[a], sc.extracts[b]));
        }
    }
    out
}

/// Canaries of recipients without an enrolled delivery still name them.
fn canary_recipients(sc: &Scorer) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (&c, &k) in &sc.t.canaries {
        let cs = sc.snapshots[c];
        if sc
            .extracts
            .iter()
            .any(|&e| sc.snapshots[e].recipient == cs.recipient)
        {
            continue;
        }
        out.push(Candidate {
            kind: CandidateKind::CanaryRecipient,
            source: cs.source.clone(),
            recipient: recipient(cs),
            snapshots: Vec::new(),
            prior: 0.0,
            posterior: 0.0,
            log_likelihood_ratio: canary_llr(k),
            evidence: vec![Evidence {
                kind: EvidenceKind::Canary,
                detail: format!("{k} row(s) are canaries planted for this recipient, whose delivery is not enrolled"),
                log_likelihood_ratio: canary_llr(k),
            }],
        });
    }
    out
}

/// Phase 3: priors ([`PRIOR_UNKNOWN`], [`PRIOR_SINGLES`], [`PRIOR_JOINS`]), posteriors,
/// rounding, and the order by posterior.
fn posteriors(candidates: &mut [Candidate]) {
    let count = |k: CandidateKind| candidates.iter().filter(|c| c.kind == k).count();
    let singles = count(CandidateKind::Delivery);
    let joins = count(CandidateKind::Join);
    for c in candidates.iter_mut() {
        c.prior = match c.kind {
            CandidateKind::Unknown => PRIOR_UNKNOWN,
            CandidateKind::Delivery | CandidateKind::CanaryRecipient => {
                PRIOR_SINGLES / singles.max(1) as f64
            }
            CandidateKind::Join => PRIOR_JOINS / joins.max(1) as f64,
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
    for c in candidates.iter_mut() {
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
            .then_with(|| a.kind.cmp(&b.kind))
    });
}

/// Attribute the linked rows of a leak to the enrolled snapshots.
///
/// `snapshots` are the index's snapshots in order (the indices of
/// [`leaktrace_link::dump::SnapshotAgreement::snapshot`]); `dump` is the leak's format profile.
/// Phases: tally the rows per snapshot, score every candidate (single deliveries, joins of
/// two, recipients known by a canary only, the unknown source), then posteriors and the
/// false-accusation bound.
pub fn attribute(
    snapshots: &[&SnapshotInfo],
    links: &[RowLink],
    dump: &FormatProfile,
) -> Attribution {
    let t = tally_rows(snapshots, links);
    if t.rows == 0 && t.canaries.is_empty() {
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
    let extracts: Vec<usize> = (0..snapshots.len())
        .filter(|&i| snapshots[i].kind == SnapshotKind::Extract)
        .collect();
    let population = extracts
        .iter()
        .map(|&i| snapshots[i].persons)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let sc = Scorer {
        snapshots,
        dump,
        t: &t,
        extracts,
        population,
    };
    let mut candidates: Vec<Candidate> = sc.extracts.iter().map(|&i| single(&sc, i)).collect();
    let joined = joins(&sc, &candidates);
    candidates.extend(joined);
    candidates.extend(canary_recipients(&sc));
    candidates.push(unknown(0.0));
    posteriors(&mut candidates);
    conclude(candidates, &t)
}

/// Phase 4: the false-accusation bound and the explanation.
fn conclude(candidates: Vec<Candidate>, t: &Tallies) -> Attribution {
    let rows = t.rows;
    let top = &candidates[0];
    let alt = candidates[1..]
        .iter()
        .filter(|c| c.snapshots.iter().all(|s| !top.snapshots.contains(s)))
        .map(|c| c.log_likelihood_ratio)
        .fold(f64::NEG_INFINITY, f64::max);
    let gap = (top.log_likelihood_ratio - alt).max(0.0);
    let bound = if top.kind == CandidateKind::Unknown || rows == 0 {
        1.0
    } else {
        (-gap).exp()
    };
    let explanation = if top.kind == CandidateKind::Unknown {
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
        canary_rows: t.canaries.values().sum(),
        candidates,
        explanation,
    }
}

/// The hypothesis of a source that was never enrolled (the baseline of every ratio).
fn unknown(prior: f64) -> Candidate {
    Candidate {
        kind: CandidateKind::Unknown,
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

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

#[cfg(test)]
mod tests;
