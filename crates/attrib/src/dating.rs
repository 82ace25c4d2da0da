//! Dating the extraction: when were a leak's values read?
//!
//! Two kinds of evidence bound the date, each given with its reason ([`BoundReason`]):
//!
//! - **the delivery** — a file attributed (posterior at least [`DATING_MIN_POSTERIOR`]) to a
//!   delivery to a recipient cannot predate that delivery: the lower bound is its date
//!   (inclusive; for a join of two deliveries, the later one). The registry is no delivery:
//!   its snapshot date says when it was enrolled, not when it started to exist;
//! - **value versions** — a row whose values changed between snapshots holds the values of
//!   some snapshots and not of others: the values were read after the last earlier snapshot
//!   they replace, and before the first later snapshot whose values the file does not hold.
//!   The bounds are robust: the [`BOUND_QUANTILE`] quantile of the rows' lower bounds and the
//!   complementary quantile of their upper bounds, so that a few stale values do not decide.

use leaktrace_index::{SnapshotInfo, SnapshotKind};
use leaktrace_link::dump::RowLink;
use serde::Serialize;

use crate::{label, recipient, round3, Attribution, CandidateKind};

/// Posterior from which the attributed delivery bounds the extraction date.
pub const DATING_MIN_POSTERIOR: f64 = 0.9;
/// Quantile of the rows' bounds kept (lower bounds; upper bounds: `1 −` it).
pub const BOUND_QUANTILE: f64 = 0.95;

/// Why a bound holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundReason {
    /// Lower: the file came from this delivery, which it cannot predate.
    Delivery,
    /// Lower: rows hold values that replaced those of this snapshot.
    NewerValues,
    /// Upper: the first later snapshot whose values the file does not hold.
    ReplacedValues,
}

/// One end of the extraction window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bound {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The date itself is in the window (a delivery date), or not (a snapshot's values).
    pub inclusive: bool,
    pub reason: BoundReason,
    /// The snapshot (`source@as_of`) that sets the bound.
    pub snapshot: String,
    /// The reason, in one sentence.
    pub explanation: String,
}

/// `analysis.json` → `extraction_window`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtractionWindow {
    /// The values were read after this date — on or after it when `lower.inclusive` (a
    /// delivery date); `null`: no lower bound.
    pub from: Option<String>,
    /// …and before this date (exclusive); `null`: up to now.
    pub to: Option<String>,
    /// The lower bound with its reason; `null`: none.
    pub lower: Option<Bound>,
    /// The upper bound with its reason; `null`: none.
    pub upper: Option<Bound>,
    /// Share of informative rows whose values fit the value-version bounds.
    pub consistent_share: f64,
    /// Rows whose values changed between snapshots (the only ones that can date a leak by
    /// its values).
    pub informative_rows: u64,
    /// Snapshots whose values the informative rows agree with.
    pub consistent_snapshots: Vec<String>,
    /// One sentence per bound, or why the file is undated.
    pub explanation: String,
}

/// What the value versions of the linked rows say.
#[derive(Debug, Default)]
struct ValueBounds<'a> {
    /// Per dated row: the latest earlier snapshot date it contradicts (`""`: none) and the
    /// earliest later one (`"~"`: none), sorted separately.
    lows: Vec<&'a str>,
    highs: Vec<&'a str>,
    informative: u64,
    contradictory: u64,
    consistent_count: Vec<u64>,
}

fn value_bounds<'a>(snapshots: &[&'a SnapshotInfo], links: &[RowLink]) -> ValueBounds<'a> {
    let ns = snapshots.len();
    let mut b = ValueBounds {
        consistent_count: vec![0; ns],
        ..ValueBounds::default()
    };
    for l in links.iter().filter(|l| l.person_id.is_some()) {
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
        b.informative += 1;
        let (mut cons, mut incons): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for v in &vs {
            let f = v.held & changed;
            if f == 0 {
                continue;
            }
            let date = snapshots[usize::from(v.snapshot)].as_of.as_str();
            if v.agree & f == f {
                cons.push(date);
                b.consistent_count[usize::from(v.snapshot)] += 1;
            } else {
                incons.push(date);
            }
        }
        let (Some(&cmin), Some(&cmax)) = (cons.iter().min(), cons.iter().max()) else {
            continue;
        };
        if incons.iter().any(|d| *d > cmin && *d < cmax) {
            b.contradictory += 1;
            continue;
        }
        b.lows.push(
            incons
                .iter()
                .filter(|d| **d < cmin)
                .max()
                .copied()
                .unwrap_or(""),
        );
        b.highs.push(
            incons
                .iter()
                .filter(|d| **d > cmax)
                .min()
                .copied()
                .unwrap_or("~"),
        );
    }
    b.lows.sort_unstable();
    b.highs.sort_unstable();
    b
}

/// The first snapshot of real persons dated `date` (for the bound's label).
fn snapshot_at(snapshots: &[&SnapshotInfo], date: &str) -> String {
    snapshots
        .iter()
        .find(|s| s.kind == SnapshotKind::Extract && s.as_of == date)
        .map_or_else(|| date.to_string(), |s| label(s))
}

/// The lower bound from the attributed delivery, or why there is none.
fn delivery_bound(snapshots: &[&SnapshotInfo], at: &Attribution) -> Result<Bound, String> {
    let Some(top) = at.candidates.first() else {
        return Err("nothing is attributed".into());
    };
    if !matches!(top.kind, CandidateKind::Delivery | CandidateKind::Join) {
        return Err(format!(
            "the file is attributed to no enrolled delivery (top candidate: {})",
            top.source
        ));
    }
    if top.snapshots.iter().any(|s| s.recipient.is_none()) {
        return Err(format!(
            "it is attributed to {}, which includes the organisation's own registry (no delivery date)",
            top.source
        ));
    }
    if top.posterior < DATING_MIN_POSTERIOR {
        return Err(format!(
            "its attribution to {} (posterior {:.3}) is below the {DATING_MIN_POSTERIOR} needed to date it",
            top.source, top.posterior
        ));
    }
    let Some(last) = top.snapshots.iter().max_by(|a, b| a.as_of.cmp(&b.as_of)) else {
        return Err("the attributed candidate has no snapshot".into());
    };
    let shown = snapshots
        .iter()
        .find(|s| s.source == last.source && s.as_of == last.as_of)
        .map_or_else(|| format!("{}@{}", last.source, last.as_of), |s| label(s));
    let to = snapshots
        .iter()
        .find(|s| s.source == last.source && s.as_of == last.as_of)
        .map_or_else(|| "its recipient".to_string(), |s| recipient(s));
    Ok(Bound {
        date: last.as_of.clone(),
        inclusive: true,
        reason: BoundReason::Delivery,
        snapshot: shown.clone(),
        explanation: format!(
            "Not before {}: the file is attributed to the delivery {shown} to {to} (posterior {:.3}), and a file taken from a delivery cannot predate it.",
            last.as_of, top.posterior
        ),
    })
}

/// Date the extraction: the attributed delivery and the rows whose values changed between
/// snapshots bound it (see the module documentation).
pub fn extraction_window(
    snapshots: &[&SnapshotInfo],
    links: &[RowLink],
    attribution: &Attribution,
) -> ExtractionWindow {
    let b = value_bounds(snapshots, links);
    let delivery = delivery_bound(snapshots, attribution);
    let k = b.lows.len();
    let (mut lower, mut upper, mut fits) = (None, None, 0usize);
    if k > 0 {
        let from = b.lows[((k as f64 * BOUND_QUANTILE) as usize).min(k - 1)];
        let to = b.highs[((k as f64 * (1.0 - BOUND_QUANTILE)) as usize).min(k - 1)];
        fits = b
            .lows
            .iter()
            .zip(&b.highs)
            .filter(|(lo, hi)| **lo <= from && **hi >= to)
            .count();
        if !from.is_empty() {
            let n = b.lows.iter().filter(|d| **d >= from).count();
            let snapshot = snapshot_at(snapshots, from);
            lower = Some(Bound {
                date: from.to_string(),
                inclusive: false,
                reason: BoundReason::NewerValues,
                explanation: format!(
                    "After {from}: {n} linked rows hold values that replaced those of {snapshot}."
                ),
                snapshot,
            });
        }
        if to != "~" {
            let n = b.highs.iter().filter(|d| **d <= to).count();
            let snapshot = snapshot_at(snapshots, to);
            upper = Some(Bound {
                date: to.to_string(),
                inclusive: false,
                reason: BoundReason::ReplacedValues,
                explanation: format!(
                    "Before {to}: {n} linked rows hold values that {snapshot} had already replaced — the first later snapshot whose values the file does not hold."
                ),
                snapshot,
            });
        }
    }
    let mut notes = Vec::new();
    if let Ok(d) = &delivery {
        // The delivery is a fact; a value bound only counts when it is later (exclusive wins
        // on the same date).
        if lower.as_ref().is_none_or(|l| l.date < d.date) {
            lower = Some(d.clone());
        }
        if upper.as_ref().is_some_and(|u| u.date <= d.date) {
            let u = upper.take().map(|u| u.date).unwrap_or_default();
            notes.push(format!(
                "The values point to before {u}, which is not after the delivery: the delivery carried older values, so they set no upper bound."
            ));
        }
    }
    let explanation = explain(&b, &lower, &upper, &delivery, notes, fits, k);
    let mut consistent: Vec<String> = (0..snapshots.len())
        .filter(|&i| b.consistent_count[i] * 2 > b.informative)
        .map(|i| label(snapshots[i]))
        .collect();
    consistent.sort();
    ExtractionWindow {
        from: lower.as_ref().map(|l| l.date.clone()),
        to: upper.as_ref().map(|u| u.date.clone()),
        lower,
        upper,
        consistent_share: round3(fits as f64 / b.informative.max(1) as f64),
        informative_rows: b.informative,
        consistent_snapshots: if k > 0 { consistent } else { Vec::new() },
        explanation,
    }
}

/// The window's explanation: one sentence per bound, or why the file is undated.
fn explain(
    b: &ValueBounds,
    lower: &Option<Bound>,
    upper: &Option<Bound>,
    delivery: &Result<Bound, String>,
    notes: Vec<String>,
    fits: usize,
    k: usize,
) -> String {
    let mut out: Vec<String> = Vec::new();
    if k > 0 {
        out.push(format!(
            "{} linked rows hold values that changed between snapshots{} ({fits} of {k} rows fit the bounds their values set).",
            b.informative,
            if b.contradictory > 0 {
                format!(" ({} contradictory rows set aside)", b.contradictory)
            } else {
                String::new()
            },
        ));
    }
    out.extend(
        lower
            .iter()
            .chain(upper.iter())
            .map(|x| x.explanation.clone()),
    );
    out.extend(notes);
    if lower.is_none() && upper.is_none() {
        let values = if k == 0 {
            "no linked person's values changed between the enrolled snapshots"
        } else {
            "the values that changed fit every enrolled snapshot date"
        };
        let why = delivery.as_ref().err().cloned().unwrap_or_default();
        out.push(format!("Undated: {values}, and {why}."));
    } else if lower.is_none() {
        out.push(format!(
            "No lower bound: {}.",
            delivery.as_ref().err().cloned().unwrap_or_default()
        ));
    } else if upper.is_none() {
        out.push(if k == 0 {
            "No upper bound: no linked person's values changed between the enrolled snapshots."
                .into()
        } else {
            "No upper bound: no later snapshot holds values the file lacks.".into()
        });
    }
    out.join(" ")
}
