//! Fellegi-Sunter record linkage.
//!
//! A candidate pair (a dump row and an enrolled person) is described by a [`Comparison`]: for each
//! field, the comparison *level* reached (0 = the best agreement, e.g. exact; higher = weaker; the
//! last level = disagreement) or [`MISSING`] when either side lacks the field (neutral: it adds no
//! evidence). A [`Model`] holds, per field and level, `m` = P(level | same person) and
//! `u` = P(level | different persons), and the prior λ = P(same person) among candidate pairs.
//!
//! * [`Model::weight`] gives the match weight log2(λ/(1−λ)) + Σ log2(m/u) and
//!   [`Model::probability`] the posterior match probability; [`Model::explain`] the per-field
//!   Bayes factors (every verdict is explainable).
//! * A per-pair *term frequency* replaces `u` at the exact level, as in Splink's term-frequency
//!   adjustment: agreeing on a rare surname weighs more than agreeing on MARTIN.
//! * [`estimate`] runs expectation-maximisation over unlabelled pairs to estimate `m` and λ
//!   (and optionally `u`), so no labels are needed.

pub mod dump;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Level value meaning "missing on either side": neutral evidence.
pub const MISSING: u8 = u8::MAX;

/// Smallest probability used in any ratio, so that a level never seen cannot produce ±∞.
const FLOOR: f64 = 1e-6;

/// One field's comparison levels, best first; the last one is "disagree".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Field name, e.g. `last_name`.
    pub name: String,
    /// Level names, best first, e.g. `["exact", "folded", "phonetic", "disagree"]`.
    pub levels: Vec<String>,
    /// P(level | match), one per level, summing to 1.
    pub m: Vec<f64>,
    /// P(level | non-match), one per level, summing to 1.
    pub u: Vec<f64>,
    /// Upper bounds on `m` per level kept by [`estimate`]: what we know of the field whatever the
    /// data says (a NIR almost never disagrees for the same person; a birth date rarely agrees on
    /// the year only). Keeps EM from explaining a file that is not ours as a cluster of
    /// "matches". Empty = no bounds.
    #[serde(default)]
    pub max_m: Vec<f64>,
}

impl Field {
    /// A field with `m` spread towards the best levels and `u` towards disagreement: a neutral
    /// starting point for [`estimate`].
    pub fn new(name: &str, levels: &[&str]) -> Field {
        let n = levels.len().max(1);
        let mut m: Vec<f64> = (0..n).map(|i| 0.5f64.powi(i as i32 + 1)).collect();
        let mut u: Vec<f64> = (0..n).map(|i| 0.5f64.powi((n - i) as i32)).collect();
        normalise(&mut m);
        normalise(&mut u);
        Field {
            name: name.to_string(),
            levels: levels.iter().map(|s| s.to_string()).collect(),
            m,
            u,
            max_m: Vec::new(),
        }
    }

    /// Bound `m` per level (see [`Field::max_m`]).
    pub fn with_max_m(mut self, caps: Vec<f64>) -> Field {
        self.max_m = caps;
        cap_levels(&mut self.m, &self.max_m);
        self
    }

    /// Set `m` (a starting point for [`estimate`]).
    pub fn with_m(mut self, m: Vec<f64>) -> Field {
        self.m = m;
        normalise(&mut self.m);
        self
    }

    /// Set `u` (e.g. from the index's term frequencies, computed without labels).
    pub fn with_u(mut self, u: Vec<f64>) -> Field {
        self.u = u;
        normalise(&mut self.u);
        self
    }
}

/// A candidate pair's comparison vector.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    /// Level per field (same order as [`Model::fields`]); [`MISSING`] = no evidence.
    pub levels: Vec<u8>,
    /// Optional term frequency per field: the share of persons holding the agreed value,
    /// used in place of `u` at level 0.
    pub tf: Vec<Option<f64>>,
}

/// What the model reads of a candidate pair: its level per field and the optional term
/// frequency of the agreed value. Implemented by [`Comparison`] and by the linker's compact
/// pairs, so that scoring millions of pairs allocates nothing.
pub trait Compared {
    /// Level per field (same order as [`Model::fields`]); [`MISSING`] = no evidence.
    fn levels(&self) -> &[u8];
    /// Term frequency of field `i`'s agreed value, if known (used in place of `u` at level 0).
    fn tf(&self, i: usize) -> Option<f64>;
}

impl Compared for Comparison {
    fn levels(&self) -> &[u8] {
        &self.levels
    }
    fn tf(&self, i: usize) -> Option<f64> {
        self.tf.get(i).copied().flatten()
    }
}

impl<T: Compared + ?Sized> Compared for &T {
    fn levels(&self) -> &[u8] {
        (**self).levels()
    }
    fn tf(&self, i: usize) -> Option<f64> {
        (**self).tf(i)
    }
}

/// Fellegi-Sunter model: fields with their m/u, and the prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub fields: Vec<Field>,
    /// λ = P(match) among candidate pairs.
    pub prior: f64,
}

/// One field's contribution to a pair's weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    pub field: String,
    /// Level name, or `missing`.
    pub level: String,
    /// log2(m/u) (0 when missing).
    pub log2_bayes_factor: f64,
}

/// Errors from model estimation.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LinkError {
    #[error("comparison has {got} levels but the model has {want} fields")]
    Width { got: usize, want: usize },
    #[error("field `{field}` has no level {level}")]
    Level { field: String, level: u8 },
    #[error("no candidate pairs to estimate from")]
    Empty,
}

/// Cap each level's share at its bound, giving the excess to the levels below their bound in
/// proportion (repeated until stable; the shares keep summing to 1).
fn cap_levels(m: &mut [f64], caps: &[f64]) {
    if caps.len() != m.len() {
        return;
    }
    for _ in 0..m.len() {
        let mut excess = 0.0;
        let mut free = 0.0;
        for (x, &c) in m.iter_mut().zip(caps) {
            if *x > c {
                excess += *x - c;
                *x = c;
            } else if *x < c {
                free += *x;
            }
        }
        if excess <= 0.0 {
            return;
        }
        let open: Vec<usize> = (0..m.len()).filter(|&i| m[i] < caps[i]).collect();
        if open.is_empty() {
            return;
        }
        for &i in &open {
            let share = if free > 0.0 {
                m[i] / free
            } else {
                1.0 / open.len() as f64
            };
            m[i] += excess * share;
        }
    }
}

fn normalise(v: &mut [f64]) {
    for x in v.iter_mut() {
        *x = x.max(FLOOR);
    }
    let s: f64 = v.iter().sum();
    for x in v.iter_mut() {
        *x /= s;
    }
}

impl Model {
    /// A model over `fields` with prior `prior`.
    pub fn new(fields: Vec<Field>, prior: f64) -> Model {
        Model {
            fields,
            prior: prior.clamp(FLOOR, 1.0 - FLOOR),
        }
    }

    /// Check a comparison's shape against the model.
    pub fn validate<C: Compared + ?Sized>(&self, c: &C) -> Result<(), LinkError> {
        let levels = c.levels();
        if levels.len() != self.fields.len() {
            return Err(LinkError::Width {
                got: levels.len(),
                want: self.fields.len(),
            });
        }
        for (f, &l) in self.fields.iter().zip(levels) {
            if l != MISSING && usize::from(l) >= f.m.len() {
                return Err(LinkError::Level {
                    field: f.name.clone(),
                    level: l,
                });
            }
        }
        Ok(())
    }

    /// log2 Bayes factor of field `i` at `level` for this pair.
    fn log2_bf<C: Compared + ?Sized>(&self, i: usize, level: u8, c: &C) -> f64 {
        if level == MISSING {
            return 0.0;
        }
        let f = &self.fields[i];
        let u = match (level, c.tf(i)) {
            (0, Some(tf)) => tf_u(tf),
            _ => f.u[usize::from(level)],
        };
        log2_ratio(f.m[usize::from(level)], u)
    }

    fn log2_prior_odds(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }

    /// Match weight: log2 prior odds + Σ log2(m/u).
    pub fn weight<C: Compared + ?Sized>(&self, c: &C) -> f64 {
        self.log2_prior_odds()
            + c.levels()
                .iter()
                .enumerate()
                .map(|(i, &l)| self.log2_bf(i, l, c))
                .sum::<f64>()
    }

    /// Posterior match probability.
    pub fn probability<C: Compared + ?Sized>(&self, c: &C) -> f64 {
        weight_to_probability(self.weight(c))
    }

    /// The model's Bayes factors computed once, to score many pairs (see [`Scorer`]).
    pub fn scorer(&self) -> Scorer {
        Scorer {
            prior: self.log2_prior_odds(),
            m0: self.fields.iter().map(|f| f.m[0]).collect(),
            bf: self
                .fields
                .iter()
                .map(|f| {
                    f.m.iter()
                        .zip(&f.u)
                        .map(|(m, u)| log2_ratio(*m, *u))
                        .collect()
                })
                .collect(),
        }
    }

    /// Per-field contributions to the weight, in field order.
    pub fn explain<C: Compared + ?Sized>(&self, c: &C) -> Vec<Contribution> {
        self.fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let l = c.levels().get(i).copied().unwrap_or(MISSING);
                Contribution {
                    field: f.name.clone(),
                    level: if l == MISSING {
                        "missing".to_string()
                    } else {
                        f.levels
                            .get(usize::from(l))
                            .cloned()
                            .unwrap_or_else(|| l.to_string())
                    },
                    log2_bayes_factor: self.log2_bf(i, l, c),
                }
            })
            .collect()
    }
}

/// A [`Model`]'s log2 Bayes factors per field and level, computed once: scores a pair with
/// additions only (a logarithm only for an agreed value with a term frequency). Gives the same
/// weights as [`Model::weight`], bit for bit.
#[derive(Debug, Clone)]
pub struct Scorer {
    prior: f64,
    /// `m` at level 0 per field (the numerator of a term-frequency factor).
    m0: Vec<f64>,
    bf: Vec<Vec<f64>>,
}

impl Scorer {
    /// Match weight, as [`Model::weight`].
    pub fn weight<C: Compared + ?Sized>(&self, c: &C) -> f64 {
        let mut sum = 0.0;
        for (i, &l) in c.levels().iter().enumerate() {
            sum += match l {
                MISSING => 0.0,
                0 => match c.tf(i) {
                    Some(tf) => log2_ratio(self.m0[i], tf_u(tf)),
                    None => self.bf[i][0],
                },
                _ => self.bf[i][usize::from(l)],
            };
        }
        self.prior + sum
    }

    /// Posterior match probability, as [`Model::probability`].
    pub fn probability<C: Compared + ?Sized>(&self, c: &C) -> f64 {
        weight_to_probability(self.weight(c))
    }
}

/// log2(m / u), both floored at [`FLOOR`]: one field's Bayes factor.
fn log2_ratio(m: f64, u: f64) -> f64 {
    (m.max(FLOOR) / u.max(FLOOR)).log2()
}

/// The `u` of an agreed value with term frequency `tf` (the share of records holding it).
fn tf_u(tf: f64) -> f64 {
    tf.clamp(FLOOR, 1.0)
}

/// Convert a match weight (log2 odds) into a probability.
pub fn weight_to_probability(w: f64) -> f64 {
    let odds = w.exp2();
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

/// Options for [`estimate`].
#[derive(Debug, Clone, Copy)]
pub struct EmOptions {
    /// Maximum EM iterations.
    pub max_iterations: usize,
    /// Stop when no parameter moves by more than this.
    pub tolerance: f64,
    /// Also re-estimate `u` (otherwise `u` stays as given, e.g. from term frequencies).
    pub estimate_u: bool,
}

impl Default for EmOptions {
    fn default() -> Self {
        EmOptions {
            max_iterations: 50,
            tolerance: 1e-5,
            estimate_u: false,
        }
    }
}

/// What [`estimate`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmTrace {
    pub iterations: usize,
    pub converged: bool,
    /// Largest parameter change in the last iteration.
    pub last_change: f64,
}

/// Sufficient statistics of one E-step.
#[derive(Clone)]
struct Stats {
    match_mass: f64,
    total: f64,
    m: Vec<Vec<f64>>,
    u: Vec<Vec<f64>>,
}

impl Stats {
    fn zero(model: &Model) -> Stats {
        Stats {
            match_mass: 0.0,
            total: 0.0,
            m: model.fields.iter().map(|f| vec![0.0; f.m.len()]).collect(),
            u: model.fields.iter().map(|f| vec![0.0; f.u.len()]).collect(),
        }
    }

    fn add(mut self, o: Stats) -> Stats {
        self.match_mass += o.match_mass;
        self.total += o.total;
        for (a, b) in self.m.iter_mut().zip(o.m) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self.u.iter_mut().zip(o.u) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        self
    }
}

/// Estimate `m` and the prior (and `u` if asked) by expectation-maximisation over unlabelled
/// candidate pairs. Deterministic whatever the thread count: chunks of 4096 pairs are summed in
/// parallel, then the chunk sums are added in chunk order.
pub fn estimate<C: Compared + Sync>(
    model: &Model,
    pairs: &[C],
    opts: EmOptions,
) -> Result<(Model, EmTrace), LinkError> {
    if pairs.is_empty() {
        return Err(LinkError::Empty);
    }
    for c in pairs {
        model.validate(c)?;
    }
    let mut cur = model.clone();
    let mut trace = EmTrace {
        iterations: 0,
        converged: false,
        last_change: f64::INFINITY,
    };
    for it in 0..opts.max_iterations {
        let scorer = cur.scorer();
        let stats = pairs
            .par_chunks(4096)
            .map(|chunk| {
                let mut s = Stats::zero(&cur);
                for c in chunk {
                    let p = scorer.probability(c);
                    s.match_mass += p;
                    s.total += 1.0;
                    for (i, &l) in c.levels().iter().enumerate() {
                        if l != MISSING {
                            s.m[i][usize::from(l)] += p;
                            s.u[i][usize::from(l)] += 1.0 - p;
                        }
                    }
                }
                s
            })
            .collect::<Vec<_>>()
            .into_iter()
            .fold(Stats::zero(&cur), Stats::add);
        let mut next = cur.clone();
        next.prior = round((stats.match_mass / stats.total).clamp(FLOOR, 1.0 - FLOOR));
        for (i, f) in next.fields.iter_mut().enumerate() {
            let mut m = stats.m[i].clone();
            if m.iter().sum::<f64>() > 0.0 {
                normalise(&mut m);
                cap_levels(&mut m, &f.max_m);
                f.m = m.into_iter().map(round).collect();
            }
            if opts.estimate_u {
                let mut u = stats.u[i].clone();
                if u.iter().sum::<f64>() > 0.0 {
                    normalise(&mut u);
                    f.u = u.into_iter().map(round).collect();
                }
            }
        }
        let change = max_change(&cur, &next);
        cur = next;
        trace.iterations = it + 1;
        trace.last_change = change;
        if change < opts.tolerance {
            trace.converged = true;
            break;
        }
    }
    Ok((cur, trace))
}

fn round(x: f64) -> f64 {
    (x * 1e12).round() / 1e12
}

fn max_change(a: &Model, b: &Model) -> f64 {
    let mut d = (a.prior - b.prior).abs();
    for (fa, fb) in a.fields.iter().zip(&b.fields) {
        for (x, y) in fa.m.iter().zip(&fb.m).chain(fa.u.iter().zip(&fb.u)) {
            d = d.max((x - y).abs());
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiny deterministic PRNG for tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
        fn pick(&mut self, p: &[f64]) -> u8 {
            let r = self.next();
            let mut acc = 0.0;
            for (i, x) in p.iter().enumerate() {
                acc += x;
                if r < acc {
                    return i as u8;
                }
            }
            (p.len() - 1) as u8
        }
    }

    fn truth() -> (Vec<[f64; 3]>, Vec<[f64; 3]>, f64) {
        let m = vec![[0.90, 0.07, 0.03], [0.85, 0.10, 0.05], [0.95, 0.0, 0.05]];
        let u = vec![[0.01, 0.04, 0.95], [0.02, 0.08, 0.90], [0.001, 0.0, 0.999]];
        (m, u, 0.3)
    }

    fn simulate(n: usize) -> (Vec<Comparison>, Vec<bool>) {
        let (m, u, prior) = truth();
        let mut rng = Rng(42);
        let mut pairs = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let is_match = rng.next() < prior;
            let levels = (0..3)
                .map(|i| {
                    if rng.next() < 0.05 {
                        MISSING
                    } else {
                        rng.pick(if is_match { &m[i] } else { &u[i] })
                    }
                })
                .collect();
            pairs.push(Comparison {
                levels,
                tf: vec![None; 3],
            });
            labels.push(is_match);
        }
        (pairs, labels)
    }

    fn start() -> Model {
        Model::new(
            vec![
                Field::new("last_name", &["exact", "fuzzy", "disagree"]),
                Field::new("first_name", &["exact", "fuzzy", "disagree"]),
                Field::new("nir", &["exact", "fuzzy", "disagree"]),
            ],
            0.1,
        )
    }

    #[test]
    fn em_recovers_parameters_and_classifies() {
        let (pairs, labels) = simulate(50_000);
        let opts = EmOptions {
            estimate_u: true,
            ..EmOptions::default()
        };
        let (model, trace) = estimate(&start(), &pairs, opts).unwrap();
        assert!(trace.converged, "{trace:?}");
        let (m, _, prior) = truth();
        assert!((model.prior - prior).abs() < 0.02, "prior {}", model.prior);
        for (i, truth_m) in m.iter().enumerate() {
            assert!(
                (model.fields[i].m[0] - truth_m[0]).abs() < 0.03,
                "field {i}: m0 {} vs {}",
                model.fields[i].m[0],
                truth_m[0]
            );
        }
        let errors = pairs
            .iter()
            .zip(&labels)
            .filter(|(c, &l)| (model.probability(c) > 0.5) != l)
            .count();
        assert!(errors < pairs.len() / 100, "{errors} errors");
    }

    #[test]
    fn estimation_is_deterministic() {
        let (pairs, _) = simulate(20_000);
        let a = estimate(&start(), &pairs, EmOptions::default()).unwrap();
        let b = estimate(&start(), &pairs, EmOptions::default()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn scorer_gives_the_model_weights_bit_for_bit() {
        let (mut pairs, _) = simulate(5_000);
        for (k, c) in pairs.iter_mut().enumerate() {
            c.tf = (0..3)
                .map(|i| (k % (i + 2) == 0).then_some(1e-7 * (k as f64 + 1.0)))
                .collect();
            if k % 7 == 0 {
                c.levels[k % 3] = MISSING;
            }
        }
        let (model, _) = estimate(&start(), &pairs, EmOptions::default()).unwrap();
        let scorer = model.scorer();
        for c in &pairs {
            assert_eq!(
                scorer.weight(c).to_bits(),
                model.weight(c).to_bits(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn missing_is_neutral_and_rare_values_weigh_more() {
        let model = start();
        let all_missing = Comparison {
            levels: vec![MISSING; 3],
            tf: vec![None; 3],
        };
        assert!((model.weight(&all_missing) - (0.1f64 / 0.9).log2()).abs() < 1e-12);
        let common = Comparison {
            levels: vec![0, MISSING, MISSING],
            tf: vec![Some(0.01), None, None],
        };
        let rare = Comparison {
            levels: vec![0, MISSING, MISSING],
            tf: vec![Some(0.00001), None, None],
        };
        assert!(model.weight(&rare) > model.weight(&common) + 5.0);
        let ex = model.explain(&rare);
        assert_eq!(ex[0].level, "exact");
        assert_eq!(ex[1].level, "missing");
        assert_eq!(ex[1].log2_bayes_factor, 0.0);
    }

    #[test]
    fn shape_errors() {
        let model = start();
        let bad = Comparison {
            levels: vec![0, 1],
            tf: vec![],
        };
        assert_eq!(
            estimate(&model, &[bad], EmOptions::default()).unwrap_err(),
            LinkError::Width { got: 2, want: 3 }
        );
        let bad = Comparison {
            levels: vec![0, 7, 0],
            tf: vec![],
        };
        assert!(matches!(model.validate(&bad), Err(LinkError::Level { .. })));
        assert_eq!(
            estimate::<Comparison>(&model, &[], EmOptions::default()).unwrap_err(),
            LinkError::Empty
        );
    }
}
