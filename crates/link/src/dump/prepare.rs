//! A row's evidence, prepared once for all its candidates: the fingerprints of every level of
//! every field, the postings of its exact values (one batch), term frequencies, and who holds
//! its identifiers.

use leaktrace_index::segment::postings_batch;
use leaktrace_index::{Fp, NameKind, Postings, RowPrints, Segment};

use super::Level::{OneEdit, Same, Words};
use super::{domains_of, seg_bit, Known, Linker, FIELDS, HOLDERS_MAX, NF};

/// A row's evidence, prepared once for all its candidates.
pub(super) struct Prepared<'a, 'p> {
    /// The persons holding each of the row's exact values, per (field, segment): see
    /// [`Prepared::exact`].
    pub(super) exact: Vec<Postings<'a>>,
    /// Per (field, segment), `field * segments + segment`: its range in `exact`.
    pub(super) exact_at: Vec<(u32, u32)>,
    pub(super) segments: usize,
    /// Per field, per level: fingerprints (for one-edit levels: per segment).
    pub(super) levels: Vec<Vec<LevelFps<'a>>>,
    /// Per field: the row has the field.
    pub(super) has: [bool; NF],
    /// Per field: term frequency of the row's exact value (max share over segments).
    pub(super) tf: [f32; NF],
    /// Per identifier field: persons holding the row's value, (segment, ordinal).
    pub(super) holders: Vec<Vec<(usize, u32)>>,
    pub(super) email_spells_name: bool,
    /// The row's postal code and town are not a French pair: both count.
    pub(super) places_independent: bool,
    /// The row's names, for one-edit neighbourhoods.
    pub(super) names: &'p [(NameKind, String)],
    /// The fingerprints of the names' deletions, per name kind: computed once for the row,
    /// then looked up in each segment that needs them.
    pub(super) deletions: std::cell::OnceCell<Vec<(NameKind, Vec<Fp>)>>,
    /// The row's address words per column (see [`RowPrints::address`]).
    pub(super) address: &'p [Vec<String>],
}

impl<'a> Prepared<'a, '_> {
    /// The persons holding each of the row's exact values of field `fi` in segment `si`.
    pub(super) fn exact(&self, fi: usize, si: usize) -> &[Postings<'a>] {
        let (a, b) = self.exact_at[fi * self.segments + si];
        &self.exact[a as usize..b.max(a) as usize]
    }
}

pub(super) enum LevelFps<'a> {
    /// The row's exact values (the first level: their postings are in [`Prepared::exact`]).
    Same(Vec<Fp>),
    /// The row's fingerprints of a later shared-value level (a surname's core, a birth
    /// year), per segment: the persons holding each, looked up (in one batch) when a
    /// candidate first needs them, then shared by every candidate of the row.
    Shared {
        fps: Vec<Fp>,
        per: Vec<std::cell::OnceCell<Vec<Postings<'a>>>>,
    },
    /// One-edit neighbours, per segment: the persons holding each, looked up (in one batch)
    /// only when a candidate needs them, then shared by every candidate of the row.
    PerSegment {
        kind: NameKind,
        exact: Vec<Fp>,
        per: Vec<std::cell::OnceCell<Vec<Postings<'a>>>>,
    },
    /// Address word-set variants with this many changes, per segment (only those the
    /// segment holds): the persons holding each, formed and looked up only when a candidate
    /// needs them.
    Words {
        edits: u8,
        per: Vec<std::cell::OnceCell<Vec<Postings<'a>>>>,
    },
}

/// The postings of an exact value in one segment: asked in a batch (index in it), or known
/// from blocking.
enum Lookup<'a> {
    Asked(usize),
    Known(Postings<'a>),
}

impl<'a> Linker<'a> {
    /// The row's evidence. Exact values are looked up in the segments holding a candidate
    /// (bit `si` of `located`) and in the largest one (term frequencies); identifiers in every
    /// segment (who else holds them). `known` are lookups already made for blocking.
    pub(super) fn prepare<'p>(
        &self,
        p: &'p RowPrints,
        located: u64,
        known: &Known<'a>,
    ) -> Prepared<'a, 'p> {
        let segs = &self.index.snapshots;
        let big = (0..segs.len()).max_by_key(|&si| segs[si].0.persons);
        let (levels, has) = row_levels(p, segs.len());
        let (exact, exact_at) = self.exact_postings(&levels, &has, located, big, known);
        let mut prep = Prepared {
            exact,
            exact_at,
            segments: segs.len(),
            levels,
            has,
            tf: [0f32; NF],
            holders: vec![Vec::new(); NF],
            email_spells_name: p.email_spells_name,
            places_independent: p.places_independent,
            names: &p.names,
            deletions: std::cell::OnceCell::new(),
            address: &p.address,
        };
        if let Some(big) = big {
            prep.term_frequencies(big, segs[big].1.persons());
        }
        prep.identifier_holders();
        prep
    }

    /// Phase 2 of [`Linker::prepare`]: the postings of the row's exact values in every
    /// segment wanted (identifiers everywhere; other fields where a candidate is and in the
    /// largest segment), looked up as one batch in (field, segment) order, with the range of
    /// each (field, segment) in the flat list.
    fn exact_postings(
        &self,
        levels: &[Vec<LevelFps<'a>>],
        has: &[bool; NF],
        located: u64,
        big: Option<usize>,
        known: &Known<'a>,
    ) -> ExactPostings<'a> {
        let segs = &self.index.snapshots;
        let mut reqs: Vec<(&'a Segment, Fp)> = Vec::new();
        let mut slots: Vec<(usize, usize, Lookup<'a>)> = Vec::new();
        for (fi, lv) in levels.iter().enumerate() {
            let (Some(LevelFps::Same(fps)), true) = (lv.first(), has[fi]) else {
                continue;
            };
            let d = domains_of(&FIELDS[fi]).next();
            for (si, (_, seg)) in segs.iter().enumerate() {
                let wanted = FIELDS[fi].identifier || located & seg_bit(si) != 0 || Some(si) == big;
                if !wanted || !d.is_none_or(|d| seg.has_domain(d)) {
                    continue;
                }
                for fp in fps {
                    match known.iter().find(|k| k.0 == si && k.1 == *fp) {
                        Some(k) => slots.push((fi, si, Lookup::Known(k.2))),
                        None => {
                            slots.push((fi, si, Lookup::Asked(reqs.len())));
                            reqs.push((seg, *fp));
                        }
                    }
                }
            }
        }
        let looked = postings_batch(&reqs);
        let exact: Vec<Postings<'a>> = slots
            .iter()
            .map(|(_, _, p)| match p {
                Lookup::Asked(k) => looked[*k],
                Lookup::Known(p) => *p,
            })
            .collect();
        let mut exact_at = vec![(0u32, 0u32); NF * segs.len()];
        for (k, &(fi, si, _)) in slots.iter().enumerate() {
            let r = &mut exact_at[fi * segs.len() + si];
            if r.1 == 0 {
                r.0 = k as u32;
            }
            r.1 = k as u32 + 1;
        }
        (exact, exact_at)
    }

    /// Exact-name fingerprints one edit away from the row's names, in one segment.
    pub(super) fn neighbours(
        &self,
        prep: &Prepared<'a, '_>,
        kind: NameKind,
        exact: &[Fp],
        seg: &Segment,
    ) -> Vec<Fp> {
        let fpr = &self.index.fingerprinter;
        let deletions = prep.deletions.get_or_init(|| {
            prep.names
                .iter()
                .map(|(k, name)| (*k, fpr.deletions(*k, name)))
                .collect()
        });
        let mut near = Vec::new();
        for (k, dels) in deletions {
            if *k == kind {
                for d in dels {
                    seg.neighbours(*d, &mut near);
                }
            }
        }
        near.sort_unstable();
        near.dedup();
        near.retain(|x| !exact.contains(x));
        near
    }
}

/// The persons holding each of `fps` in `seg`, looked up as one batch; fingerprints nobody
/// holds are left out.
pub(super) fn held_postings<'a>(seg: &'a Segment, fps: &[Fp]) -> Vec<Postings<'a>> {
    let reqs: Vec<(&'a Segment, Fp)> = fps.iter().map(|fp| (seg, *fp)).collect();
    let mut found = postings_batch(&reqs);
    found.retain(|p| !p.is_empty());
    found
}

/// The postings of a row's exact values, flat, and the range of each (field, segment) in it.
type ExactPostings<'a> = (Vec<Postings<'a>>, Vec<(u32, u32)>);

/// Phase 1 of [`Linker::prepare`]: which fields the row has, and its fingerprints per level
/// of each of them (nothing for the others: no candidate compares them).
fn row_levels<'a>(p: &RowPrints, segments: usize) -> (Vec<Vec<LevelFps<'a>>>, [bool; NF]) {
    let mut has = [false; NF];
    for (fi, f) in FIELDS.iter().enumerate() {
        has[fi] = matches!(f.levels.first(), Some((_, Same(d), _, _)) if p.of(*d).next().is_some())
            // Birth year alone (an age) still makes the field present.
            || (f.name == "birth_date"
                && p.of(leaktrace_index::Domain::BirthYear).next().is_some());
    }
    // Sorted name tokens only stand in for names the row could not split: with surname or
    // first name present they would count the same evidence twice.
    let idx = |n: &str| FIELDS.iter().position(|f| f.name == n).unwrap_or(0);
    if has[idx("last_name")] || has[idx("first_name")] {
        has[idx("name_tokens")] = false;
    }
    let per = || (0..segments).map(|_| std::cell::OnceCell::new()).collect();
    let levels = FIELDS
        .iter()
        .zip(has)
        .map(|(f, has)| {
            if !has {
                return Vec::new();
            }
            let level =
                |(li, (_, level, _, _)): (usize, &(&str, super::Level, f64, f64))| match *level {
                    Same(d) if li == 0 => LevelFps::Same(p.of(d).collect()),
                    Same(d) => LevelFps::Shared {
                        fps: p.of(d).collect(),
                        per: per(),
                    },
                    OneEdit(kind) => LevelFps::PerSegment {
                        kind,
                        exact: p.of(kind.domains().0).collect(),
                        per: per(),
                    },
                    Words(edits) => LevelFps::Words { edits, per: per() },
                };
            f.levels.iter().enumerate().map(level).collect()
        })
        .collect();
    (levels, has)
}

impl Prepared<'_, '_> {
    /// Phase 3 of [`Linker::prepare`]: term frequency of each exact value in the largest
    /// segment (`big`, of `persons` persons: the population).
    fn term_frequencies(&mut self, big: usize, persons: usize) {
        let n = persons.max(1) as f32;
        for fi in 0..NF {
            self.tf[fi] = self
                .exact(fi, big)
                .iter()
                .map(|p| p.len() as f32 / n)
                .fold(0.0, f32::max);
        }
    }

    /// Phase 4 of [`Linker::prepare`]: who holds the row's identifiers (to tell a
    /// contradiction from a value never enrolled).
    fn identifier_holders(&mut self) {
        for (fi, f) in FIELDS.iter().enumerate() {
            if !f.identifier {
                continue;
            }
            for si in 0..self.segments {
                let held: Vec<(usize, u32)> = self
                    .exact(fi, si)
                    .iter()
                    .flat_map(|post| post.iter().take(HOLDERS_MAX).map(move |o| (si, o)))
                    .collect();
                self.holders[fi].extend(held);
            }
        }
    }
}
