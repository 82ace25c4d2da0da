//! Linking a dump's rows to enrolled persons through the fingerprint index.
//!
//! For each row: its fingerprints ([`leaktrace_index::Fingerprinter::row`]) are looked up in
//! every segment; every blocking fingerprint shared with a person makes a candidate pair (values
//! from any snapshot of any source count, so an old phone number still links). Each pair gets a
//! comparison vector over [`FIELDS`] — the best level reached in any snapshot holding the
//! person: exact, folded/core, one edit away, phonetic, year only … or disagree; missing on
//! either side is neutral — with the term frequency of the row's value at the exact level.
//! [`Linker::finish`] estimates `m` and the prior by EM on the pairs themselves and keeps the
//! best candidate per row.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use leaktrace_index::{Domain, Fp, Index, NameKind, Postings, RowPrints, Segment};
use serde::Serialize;

use crate::{estimate, Compared, EmOptions, Field, Model, MISSING};

mod blocking;
mod hits;
mod prepare;
mod rows;

use prepare::{held_postings, LevelFps, Prepared};
use rows::row_link;
pub use rows::NAMES_MAX;
mod text;

/// Where a level's evidence comes from.
#[derive(Debug, Clone, Copy)]
pub enum Level {
    /// The row and the person share a fingerprint of this domain.
    Same(Domain),
    /// The row's name (or town, or postal code) is one edit away from one of the person's.
    OneEdit(NameKind),
    /// The row's address becomes one of the person's address word sets with this many word
    /// changes: a word dropped, or replaced by a word one edit away (see `text.rs`).
    Words(u8),
}

/// A compared field: its levels, best first (disagree is implicit, last), each with the u of the
/// level (share of random pairs reaching it) and the most m may reach (data-quality prior).
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    pub name: &'static str,
    pub levels: &'static [(&'static str, Level, f64, f64)],
    /// A strong identifier: a disagreement while another person holds the value is a
    /// contradiction (recombined rows).
    pub identifier: bool,
    /// Cap on m(disagree): how often the same person's value differs at most (moves, new
    /// phones and e-mails; a NIR never changes).
    pub max_disagree_m: f64,
}

use Level::{OneEdit, Same, Words};

/// The compared fields. u at the exact level comes from term frequencies (the listed value is
/// the fallback when the value is in no segment).
pub const FIELDS: [FieldDef; 13] = [
    FieldDef {
        name: "nir",
        levels: &[("exact", Same(Domain::Nir), 1e-7, 1.0)],
        identifier: true,
        max_disagree_m: 0.001,
    },
    FieldDef {
        name: "email",
        levels: &[("exact", Same(Domain::Email), 1e-7, 1.0)],
        identifier: true,
        max_disagree_m: 0.2,
    },
    FieldDef {
        name: "phone",
        levels: &[("exact", Same(Domain::Phone), 1e-7, 1.0)],
        identifier: true,
        max_disagree_m: 0.2,
    },
    FieldDef {
        name: "last_name",
        levels: &[
            ("exact", Same(Domain::LastExact), 1e-4, 1.0),
            ("core", Same(Domain::LastCore), 2e-4, 0.05),
            ("one_edit", OneEdit(NameKind::Last), 1e-3, 0.05),
            ("phonetic", Same(Domain::LastPhonetic), 3e-3, 0.05),
        ],
        identifier: false,
        max_disagree_m: 0.05,
    },
    FieldDef {
        name: "first_name",
        levels: &[
            ("exact", Same(Domain::FirstExact), 1e-3, 1.0),
            ("one_edit", OneEdit(NameKind::First), 5e-3, 0.05),
            ("phonetic", Same(Domain::FirstPhonetic), 1e-2, 0.05),
        ],
        identifier: false,
        max_disagree_m: 0.05,
    },
    FieldDef {
        name: "birth_date",
        levels: &[
            ("exact", Same(Domain::BirthDate), 5e-5, 1.0),
            ("year", Same(Domain::BirthYear), 2e-2, 0.05),
        ],
        identifier: false,
        max_disagree_m: 0.02,
    },
    FieldDef {
        name: "postal_code",
        levels: &[
            ("exact", Same(Domain::PostalCode), 2e-4, 1.0),
            ("one_edit", OneEdit(NameKind::Postal), 2e-3, 0.05),
        ],
        identifier: false,
        max_disagree_m: 0.2,
    },
    FieldDef {
        name: "commune",
        levels: &[
            ("exact", Same(Domain::Commune), 2e-4, 1.0),
            ("one_edit", OneEdit(NameKind::Town), 1e-3, 0.05),
        ],
        identifier: false,
        max_disagree_m: 0.2,
    },
    FieldDef {
        name: "sex",
        levels: &[("exact", Same(Domain::Sex), 0.5, 1.0)],
        identifier: false,
        max_disagree_m: 0.01,
    },
    FieldDef {
        name: "name_tokens",
        levels: &[("exact", Same(Domain::NameTokens), 1e-6, 1.0)],
        identifier: false,
        max_disagree_m: 0.05,
    },
    FieldDef {
        name: "iban",
        levels: &[("exact", Same(Domain::Iban), 1e-7, 1.0)],
        identifier: true,
        max_disagree_m: 0.2,
    },
    FieldDef {
        name: "address",
        levels: &[
            ("exact", Same(Domain::Address), 1e-6, 1.0),
            ("token", Same(Domain::AddressTokens), 2e-6, 0.2),
            ("one_edit", Words(1), 1e-5, 0.2),
            ("two_edits", Words(2), 1e-4, 0.1),
        ],
        identifier: false,
        max_disagree_m: 0.5,
    },
    FieldDef {
        name: "identifier",
        levels: &[
            ("exact", Same(Domain::Identifier), 1e-7, 1.0),
            ("half", Same(Domain::IdentifierHalf), 1e-3, 0.2),
        ],
        identifier: true,
        max_disagree_m: 0.2,
    },
];

/// Number of compared fields.
pub const NF: usize = FIELDS.len();
const _: () = assert!(NF <= 16, "field masks are u16");

/// Initial Fellegi-Sunter model for [`FIELDS`]: u from the table, m spread towards agreement.
pub fn initial_model() -> Model {
    let fields = FIELDS
        .iter()
        .map(|f| {
            let mut names: Vec<&str> = f.levels.iter().map(|l| l.0).collect();
            names.push("disagree");
            let n = names.len();
            let mut u: Vec<f64> = f.levels.iter().map(|l| l.2).collect();
            u.push((1.0 - u.iter().sum::<f64>()).max(1e-3));
            let mut m: Vec<f64> = (0..n)
                .map(|i| if i == 0 { 0.9 } else { 0.1 / (n - 1) as f64 })
                .collect();
            if f.name == "sex" {
                m = vec![0.95, 0.05];
            }
            let mut caps: Vec<f64> = f.levels.iter().map(|l| l.3).collect();
            caps.push(f.max_disagree_m);
            Field::new(f.name, &names)
                .with_u(u)
                .with_m(m)
                .with_max_m(caps)
        })
        .collect();
    Model::new(fields, 0.5)
}

/// Blocking fingerprints whose postings exceed this many persons in a segment are skipped:
/// a value that common does not make a pair worth comparing.
pub const MAX_BLOCK: usize = 1000;
/// Blocks up to this size are enumerated; larger ones only confirm candidates already found.
pub const SMALL_BLOCK: usize = 64;
/// At most this many candidates per row (those sharing the most blocking keys).
pub const MAX_CANDIDATES: usize = 32;

/// A person holding one of a row's identifiers is kept as a candidate when that identifier's
/// postings hold at most this many persons in a segment (a household shares an e-mail or
/// phone; a value held by more is no one's own).
pub const HOLDERS_MAX: usize = 8;

/// Keep the first `n` items and every later one that `keep` selects, in order.
pub(crate) fn truncate_keeping<T>(v: &mut Vec<T>, n: usize, keep: impl Fn(&T) -> bool) {
    let mut k = 0usize;
    v.retain(|x| {
        k += 1;
        k <= n || keep(x)
    });
}

/// Where a person is: (segment, ordinal) in every segment holding them.
type Locations = Vec<(usize, u32)>;

/// Postings already looked up for a row: (segment, fingerprint, persons holding it).
type Known<'a> = Vec<(usize, Fp, Postings<'a>)>;

/// A candidate pair, compact.
#[derive(Debug, Clone)]
pub struct Pair {
    pub row: u64,
    pub person: String,
    pub levels: [u8; NF],
    pub tf: [f32; NF],
    /// Bit f: the row's value of identifier field f is held by another person.
    pub foreign: u16,
    /// Bit f: the row has a value for field f.
    pub row_fields: u16,
    /// Per snapshot holding the person: which fields it holds and which agree exactly (value
    /// versions, for attribution and dating). Only filled for plausible pairs.
    pub versions: Vec<SnapshotAgreement>,
}

/// How a row's values compare with one snapshot's values of a person (bit f = field f of
/// [`FIELDS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SnapshotAgreement {
    /// Index of the snapshot in [`Index::snapshots`].
    pub snapshot: u16,
    /// Fields of the row this snapshot holds a value of for the person.
    pub held: u16,
    /// Fields whose exact value equals the snapshot's.
    pub agree: u16,
}

impl Compared for Pair {
    fn levels(&self) -> &[u8] {
        &self.levels
    }
    fn tf(&self, i: usize) -> Option<f64> {
        pair_tf(&self.tf, i)
    }
}

/// A pair's levels and term frequencies on their own (e.g. with some fields masked).
#[derive(Debug, Clone, Copy)]
pub struct Levels {
    pub levels: [u8; NF],
    pub tf: [f32; NF],
}

impl Compared for Levels {
    fn levels(&self) -> &[u8] {
        &self.levels
    }
    fn tf(&self, i: usize) -> Option<f64> {
        pair_tf(&self.tf, i)
    }
}

/// A stored term frequency (0 = none).
fn pair_tf(tf: &[f32; NF], i: usize) -> Option<f64> {
    tf.get(i).filter(|&&t| t > 0.0).map(|&t| f64::from(t))
}

/// Per-row outcome.
#[derive(Debug, Clone, Serialize)]
pub struct RowLink {
    pub row: u64,
    pub person_id: Option<String>,
    pub match_probability: f64,
    /// Fields at a non-disagree level with the best candidate (`last_name:one_edit` when not exact).
    pub agreeing_fields: Vec<String>,
    /// Fields in disagreement with the best candidate.
    pub disagreeing_fields: Vec<String>,
    /// Identifier fields whose value belongs to another enrolled person.
    pub foreign_identifiers: Vec<String>,
    pub candidates: u32,
    /// Bit f: the row has a value for field f of [`FIELDS`].
    #[serde(skip)]
    pub row_fields: u16,
    /// Value versions of the best candidate (see [`Pair::versions`]).
    #[serde(skip)]
    pub versions: Vec<SnapshotAgreement>,
    /// The best candidate's comparison level per field of [`FIELDS`] ([`MISSING`]: either
    /// side lacks the field), also when it is below the threshold.
    #[serde(skip)]
    pub levels: [u8; NF],
    /// When the row's values may not all be its best candidate's — another candidate agrees
    /// exactly with one of its identifiers, or the best disagrees on a name, the birth date or
    /// an identifier: the best candidate first, then every other candidate agreeing exactly
    /// with one of the row's identifiers, then the (at most [`NAMES_MAX`]) candidates the row's
    /// other fields alone link to at the threshold, best first. Empty otherwise.
    #[serde(skip)]
    pub fragments: Vec<Fragment>,
}

/// An enrolled person some of a row's values belong to (see [`RowLink::fragments`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Fragment {
    pub person: String,
    /// Comparison level per field of [`FIELDS`] ([`MISSING`]: either side lacks the field).
    pub levels: [u8; NF],
    /// Match probability with the identifier fields left out: what the row's names, dates
    /// and places alone say about this person.
    pub without_identifiers: f64,
}

/// Options of a link run.
#[derive(Debug, Clone, Copy)]
pub struct LinkOptions {
    /// Probability from which a row counts as linked.
    pub threshold: f64,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions { threshold: 0.5 }
    }
}

/// Accumulates pairs over a streamed dump, then decides.
pub struct Linker<'a> {
    index: &'a Index,
    /// The pairs, one chunk per [`Linker::add`]: appending never copies what is stored.
    chunks: Vec<Vec<Pair>>,
    pairs: usize,
    rows: u64,
    candidates: FxHashMap<u64, u32>,
    /// Per field: the bits of its levels' domains (see [`Segment::present`]).
    field_domains: [u64; NF],
}

impl std::fmt::Debug for Linker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linker")
            .field("pairs", &self.pairs)
            .finish()
    }
}

/// Whether a fuzzy level applies to the row: towns and postal codes one edit away only count
/// for foreign places (French postal codes one edit apart are other real places nearby, and
/// French towns are checked against their postal code).
fn level_applies(level: Level, prep: &Prepared<'_, '_>) -> bool {
    match level {
        OneEdit(NameKind::Town | NameKind::Postal) => prep.places_independent,
        _ => true,
    }
}

/// Bit of segment `si` in a set of segments (segments from the 64th on share the last bit).
fn seg_bit(si: usize) -> u64 {
    1 << si.min(63)
}

fn domains_of(f: &FieldDef) -> impl Iterator<Item = Domain> + '_ {
    f.levels.iter().map(|l| match l.1 {
        Same(d) => d,
        OneEdit(k) => k.domains().0,
        Words(_) => Domain::AddressTokens,
    })
}

impl<'a> Linker<'a> {
    /// A linker over every segment of `index`.
    pub fn new(index: &'a Index) -> Linker<'a> {
        Linker {
            index,
            chunks: Vec::new(),
            pairs: 0,
            rows: 0,
            candidates: FxHashMap::default(),
            field_domains: std::array::from_fn(|fi| {
                domains_of(&FIELDS[fi]).fold(0u64, |m, d| m | d.bit())
            }),
        }
    }

    fn compare(
        &self,
        prep: &Prepared<'a, '_>,
        locs: &[(usize, u32)],
    ) -> ([u8; NF], u16, Vec<SnapshotAgreement>) {
        let segs = &self.index.snapshots;
        let mut out = [MISSING; NF];
        let mut foreign = 0u16;
        // Exact agreement in every snapshot first: it is also the value-version evidence.
        let versions = self.versions(prep, locs);
        for (fi, f) in FIELDS.iter().enumerate() {
            if !prep.has[fi] {
                continue;
            }
            let bit = 1u16 << fi;
            if !versions.iter().any(|v| v.held & bit != 0) {
                continue;
            }
            let mut level = f.levels.len() as u8;
            if versions.iter().any(|v| v.agree & bit != 0) {
                level = 0;
            } else {
                'levels: for (li, fps) in prep.levels[fi].iter().enumerate().skip(1) {
                    if !level_applies(f.levels[li].1, prep) {
                        continue;
                    }
                    for v in versions.iter().filter(|v| v.held & bit != 0) {
                        let si = usize::from(v.snapshot);
                        let Some(&(_, o)) = locs.iter().find(|l| l.0 == si) else {
                            continue;
                        };
                        let seg: &'a Segment = &segs[si].1;
                        let held = self
                            .level_postings(prep, fps, si, seg)
                            .iter()
                            .any(|p| p.contains(o));
                        if held {
                            level = li as u8;
                            break 'levels;
                        }
                    }
                }
            }
            out[fi] = level;
            if f.identifier && level as usize == f.levels.len() {
                let mine = |h: &(usize, u32)| locs.contains(h);
                if prep.holders[fi].iter().any(|h| !mine(h)) {
                    foreign |= 1 << fi;
                }
            }
        }
        // Conditional dependence: an e-mail spelling the names implies them, a postal code
        // mostly implies the commune. Counting both would count the same evidence twice.
        let idx = |n: &str| FIELDS.iter().position(|f| f.name == n).unwrap_or(0);
        // The surname still counts: another person with that address would rarely share it.
        if prep.email_spells_name && out[idx("email")] == 0 {
            for n in ["first_name", "name_tokens"] {
                if out[idx(n)] == 0 {
                    out[idx(n)] = MISSING;
                }
            }
        }
        // A move changes both the postal code and the commune: one event, counted once.
        let (pc, cm) = (idx("postal_code"), idx("commune"));
        let disagree = |fi: usize| usize::from(out[fi]) == FIELDS[fi].levels.len();
        // Not so for a foreign postcode and town (or a town outside the postal code's list):
        // each is its own evidence.
        let dependent = !prep.places_independent;
        if dependent && ((out[pc] == 0 && out[cm] == 0) || (disagree(pc) && disagree(cm))) {
            out[cm] = MISSING;
        }
        (out, foreign, versions)
    }

    /// The persons of segment `seg` (number `si`) who reach a later level of a field with
    /// the row: looked up when a candidate there first needs them, then kept for the row's
    /// other candidates. Nothing for the first level, whose agreement comes from the exact
    /// postings ([`Linker::versions`]).
    fn level_postings<'l>(
        &self,
        prep: &Prepared<'a, '_>,
        fps: &'l LevelFps<'a>,
        si: usize,
        seg: &'a Segment,
    ) -> &'l [Postings<'a>] {
        match fps {
            LevelFps::Same(_) => &[],
            LevelFps::Shared { fps, per } => per[si].get_or_init(|| held_postings(seg, fps)),
            LevelFps::PerSegment { kind, exact, per } => per[si]
                .get_or_init(|| held_postings(seg, &self.neighbours(prep, *kind, exact, seg))),
            LevelFps::Words { edits, per } => per[si]
                .get_or_init(|| held_postings(seg, &self.address_variants(prep, *edits, seg))),
        }
    }

    /// Per snapshot holding the person, the row's fields it holds and those agreeing exactly.
    fn versions(&self, prep: &Prepared<'a, '_>, locs: &[(usize, u32)]) -> Vec<SnapshotAgreement> {
        let segs = &self.index.snapshots;
        locs.iter()
            .map(|&(si, o)| {
                let seg = &segs[si].1;
                let present = seg.present(o);
                let (mut held, mut agree) = (0u16, 0u16);
                for fi in 0..NF {
                    if !prep.has[fi] || present & self.field_domains[fi] == 0 {
                        continue;
                    }
                    held |= 1 << fi;
                    if prep.exact(fi, si).iter().any(|post| post.contains(o)) {
                        agree |= 1 << fi;
                    }
                }
                SnapshotAgreement {
                    snapshot: si as u16,
                    held,
                    agree,
                }
            })
            .collect()
    }

    /// Pairs of one row (thread-safe: call from many threads, then [`Linker::add`]).
    pub fn pairs_of(&self, row: u64, prints: &RowPrints) -> Vec<Pair> {
        let (cands, known) = self.candidates(prints);
        if cands.is_empty() {
            return Vec::new();
        }
        let mut located = 0u64;
        for (_, locs) in &cands {
            for &(si, o) in locs {
                self.index.snapshots[si].1.prefetch_person(o);
                located |= seg_bit(si);
            }
        }
        let prep = self.prepare(prints, located, &known);
        // What the comparisons will test first, for every candidate at once.
        for (_, locs) in &cands {
            for &(si, o) in locs {
                for fi in (0..NF).filter(|&fi| prep.has[fi]) {
                    for post in prep.exact(fi, si) {
                        post.prefetch(o);
                    }
                }
            }
        }
        let row_fields = (0..NF).fold(0u16, |m, fi| m | (u16::from(prep.has[fi]) << fi));
        cands
            .into_iter()
            .map(|(person, locs)| {
                let (levels, foreign, mut versions) = self.compare(&prep, &locs);
                // Keep value versions only for pairs that could be links: two exact
                // agreements, or an identifier.
                let exact = (0..NF).filter(|&fi| levels[fi] == 0).count();
                let ident = (0..NF).any(|fi| FIELDS[fi].identifier && levels[fi] == 0);
                if exact < 2 && !ident {
                    versions = Vec::new();
                }
                Pair {
                    row,
                    person,
                    levels,
                    tf: prep.tf,
                    foreign,
                    row_fields,
                    versions,
                }
            })
            .collect()
    }

    /// Record the pairs of rows processed (in row order for determinism).
    pub fn add(&mut self, rows: u64, pairs: Vec<Vec<Pair>>) {
        self.rows += rows;
        let mut chunk = Vec::with_capacity(pairs.iter().map(Vec::len).sum());
        for p in pairs {
            if let Some(first) = p.first() {
                self.candidates.insert(first.row, p.len() as u32);
            }
            chunk.extend(p);
        }
        self.pairs += chunk.len();
        self.chunks.push(chunk);
    }

    /// Every pair, in row order.
    fn pairs(&self) -> impl Iterator<Item = &Pair> {
        self.chunks.iter().flatten()
    }

    /// The model the pairs are scored with: EM on the pairs, then the prior of two random
    /// records matching.
    fn scoring_model(&self) -> Model {
        let mut model = initial_model();
        if self.pairs > 0 {
            // EM on at most 400 000 pairs, taken at a fixed stride (deterministic).
            let stride = (self.pairs / 400_000).max(1);
            let sample: Vec<&Pair> = self.pairs().step_by(stride).collect();
            if let Ok((m, _)) = estimate(&model, &sample, EmOptions::default()) {
                model = m;
            }
        }
        // EM's prior is P(match) among candidate pairs; u comes from the whole population. To
        // score, use the prior of two *random* records matching (as Splink does): the expected
        // matches over all row × person pairs. A common name then has to overcome the size of
        // the population, not just the handful of candidates blocking found.
        let persons = self
            .index
            .snapshots
            .iter()
            .map(|(s, _)| s.persons)
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let expected_matches = model.prior * self.pairs as f64;
        model.prior = (expected_matches / (self.rows.max(1) as f64 * persons)).clamp(1e-12, 0.5);
        model
    }

    /// Per row: (chunk, start, end) of its pairs (a row's pairs are contiguous in one chunk).
    fn row_spans(&self) -> Vec<(u32, u32, u32)> {
        let mut spans = vec![(0u32, 0u32, 0u32); self.rows as usize];
        for (ci, chunk) in self.chunks.iter().enumerate() {
            let mut start = 0usize;
            while start < chunk.len() {
                let row = chunk[start].row;
                let end = start + chunk[start..].iter().take_while(|p| p.row == row).count();
                if let Some(slot) = spans.get_mut(row as usize) {
                    *slot = (ci as u32, start as u32, end as u32);
                }
                start = end;
            }
        }
        spans
    }

    /// Estimate the model on the pairs and keep the best candidate of every row.
    pub fn finish(self, opts: LinkOptions) -> (Model, Vec<RowLink>) {
        let model = self.scoring_model();
        let scorer = model.scorer();
        // Score every pair (in parallel), then keep each row's best (ties to the smaller id).
        let probs: Vec<Vec<f64>> = self
            .chunks
            .par_iter()
            .map(|c| c.iter().map(|p| scorer.probability(p)).collect())
            .collect();
        let spans = self.row_spans();
        let out: Vec<RowLink> = spans
            .par_iter()
            .enumerate()
            .map(|(row, &(ci, a, b))| {
                let (ci, a, b) = (ci as usize, a as usize, b as usize);
                let (pairs, probs) = match self.chunks.get(ci) {
                    Some(c) if b > a => (&c[a..b], &probs[ci][a..b]),
                    _ => (&[][..], &[][..]),
                };
                let candidates = self.candidates.get(&(row as u64)).copied().unwrap_or(0);
                row_link(row as u64, pairs, probs, candidates, &model, opts)
            })
            .collect();
        (model, out)
    }
}
