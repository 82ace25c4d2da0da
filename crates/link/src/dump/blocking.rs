//! Blocking: the candidate persons of a row, from the postings of its blocking fingerprints
//! in every segment.

use rustc_hash::FxHashMap;

use leaktrace_index::segment::{postings_batch, prefetch_bytes, IdHash};
use leaktrace_index::{Domain, Fp, NameKind, Postings, RowPrints, Segment};

use super::hits::{count_blocks, Hits, Key};
use super::{truncate_keeping, Known, Linker, Locations, HOLDERS_MAX, MAX_CANDIDATES};

impl<'a> Linker<'a> {
    /// Candidate persons of a row: id → locations (segment, ordinal) in every segment holding them.
    ///
    /// Hits are counted per (segment, ordinal) — no id is read for the thousands of persons a
    /// common block holds — then the best are resolved to ids, merged across segments, and
    /// located in the other segments through their id tables.
    ///
    /// Also returns the postings of the row's identifiers (NIR, e-mail, phone, IBAN, generic
    /// identifier) per segment, looked up for blocking and needed again to compare.
    pub(super) fn candidates(&self, p: &RowPrints) -> (Vec<(String, Locations)>, Known<'a>) {
        let (mut hits, known) = self.block_hits(p);
        if hits.top() < NEAR_BIRTH_BELOW {
            self.near_birth_hits(p, &mut hits);
        }
        (self.resolve(hits, &holders_of(&known)), known)
    }

    /// Phase 1 of [`Linker::candidates`]: hits per (segment, ordinal) of the row's own
    /// blocking fingerprints, and the postings of its identifiers.
    fn block_hits(&self, p: &RowPrints) -> (Hits, Known<'a>) {
        let segs: &'a [(leaktrace_index::SnapshotInfo, Segment)] = &self.index.snapshots;
        let mut reqs: Vec<(&'a Segment, Fp)> = Vec::new();
        let mut seg_of: Vec<(usize, Domain)> = Vec::new();
        for (d, fp) in &p.prints {
            if !d.is_blocking() {
                continue;
            }
            for (si, (_, seg)) in segs.iter().enumerate() {
                if seg.has_domain(*d) {
                    reqs.push((seg, *fp));
                    seg_of.push((si, *d));
                }
            }
        }
        let found = postings_batch(&reqs);
        let known: Known<'a> = seg_of
            .iter()
            .zip(&reqs)
            .zip(&found)
            .filter(|(((_, d), _), _)| {
                matches!(
                    d,
                    Domain::Nir | Domain::Email | Domain::Phone | Domain::Iban | Domain::Identifier
                )
            })
            .map(|(((si, _), (_, fp)), post)| (*si, *fp, *post))
            .collect();
        let blocks: Vec<(usize, Postings<'a>)> =
            seg_of.into_iter().map(|(si, _)| si).zip(found).collect();
        let mut hits = Hits::default();
        count_blocks(blocks, &mut hits);
        (hits, known)
    }

    /// Phase 2, for a row whose best candidate shares fewer than [`NEAR_BIRTH_BELOW`] keys:
    /// the persons born the same day whose surname or first name is one edit away from the
    /// row's (`JOE`/`JOEL`, `LODGW`/`LODGE`), or equal to or one edit away from its other name
    /// (names swapped), through each segment's name neighbourhoods and the near-birth keys
    /// keyed by name fingerprints.
    fn near_birth_hits(&self, p: &RowPrints, hits: &mut Hits) {
        let births: Vec<Fp> = p.of(Domain::BirthDate).collect();
        if births.is_empty() {
            return;
        }
        let fpr = &self.index.fingerprinter;
        let segs = &self.index.snapshots;
        let kinds = [
            (NameKind::Last, Domain::BlockLastNearBirth),
            (NameKind::First, Domain::BlockFirstNearBirth),
        ];
        if !segs
            .iter()
            .any(|(_, s)| kinds.iter().any(|(_, d)| s.has_domain(*d)))
        {
            return;
        }
        // Per kind, once for the row: its own names, and the names to look for — the row's
        // other name (first and last names swapped: `GRAHAM-JONES AMELUA` for `AMELIA
        // GRAHAM-JONES`) and the deletions of both, to find neighbours one edit away.
        let wanted: Vec<(Vec<Fp>, Vec<Fp>, Vec<Fp>)> = kinds
            .iter()
            .map(|(kind, _)| {
                let own: Vec<Fp> = p.of(kind.domains().0).collect();
                let (mut other, mut dels) = (Vec::new(), Vec::new());
                for (k, name) in &p.names {
                    if matches!(k, NameKind::Last | NameKind::First) {
                        if k != kind {
                            other.push(fpr.fp(kind.domains().0, name));
                        }
                        dels.extend(fpr.deletions(*kind, name));
                    }
                }
                (own, other, dels)
            })
            .collect();
        let mut reqs: Vec<(&'a Segment, Fp)> = Vec::new();
        let mut seg_of: Vec<usize> = Vec::new();
        for (si, (_, seg)) in segs.iter().enumerate() {
            for ((_, d), (own, other, dels)) in kinds.iter().zip(&wanted) {
                if !seg.has_domain(*d) {
                    continue;
                }
                let mut near = other.clone();
                for del in dels {
                    seg.neighbours(*del, &mut near);
                }
                near.sort_unstable();
                near.dedup();
                near.retain(|x| !own.contains(x));
                near.truncate(MAX_NEAR_NAMES);
                for n in &near {
                    for b in &births {
                        reqs.push((seg, fpr.pair_key(*d, *n, *b)));
                        seg_of.push(si);
                    }
                }
            }
        }
        if reqs.is_empty() {
            return;
        }
        let found = postings_batch(&reqs);
        count_blocks(seg_of.into_iter().zip(found).collect(), hits);
    }

    /// Phase 3: the best hits resolved to ids, merged across segments and located in the
    /// other segments; `holders` (persons holding one of the row's identifiers) are kept
    /// whatever their count.
    fn resolve(&self, hits: Hits, holders: &[Holder]) -> Vec<(String, Locations)> {
        let segs: &'a [(leaktrace_index::SnapshotInfo, Segment)] = &self.index.snapshots;
        // Within one segment too, far fewer shared keys than the best cannot win.
        let mut ranked = hits.ranked(holders);
        truncate_keeping(&mut ranked, MAX_CANDIDATES * segs.len().max(1), |r| {
            r.2 != 0
        });
        // Merge a person's hits across segments by id. Each step's memory is requested for
        // all of them before it is read.
        for ((si, o), _, _) in &ranked {
            segs[*si].1.prefetch_id(*o);
        }
        let ids: Vec<&'a [u8]> = ranked
            .iter()
            .map(|((si, o), _, _)| {
                let id = segs[*si].1.id_bytes(*o);
                prefetch_bytes(id);
                id
            })
            .collect();
        let mut by_id: Vec<(&'a [u8], u32, Locations, u32)> = Vec::new();
        let mut pos: FxHashMap<&[u8], usize> = FxHashMap::default();
        for (((si, o), n, holder), id) in ranked.into_iter().zip(ids) {
            match pos.get(id) {
                Some(&i) => {
                    by_id[i].1 += n;
                    by_id[i].2.push((si, o));
                    by_id[i].3 |= holder;
                }
                None => {
                    pos.insert(id, by_id.len());
                    by_id.push((id, n, vec![(si, o)], holder));
                }
            }
        }
        by_id.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        // A person sharing four blocking keys with the row leaves no chance to the hundreds
        // sharing one common name: keep those with at least half the best count.
        let best = by_id.first().map_or(0, |c| c.1);
        // Holders stay whatever their count while the row's identifiers may point elsewhere
        // than its best candidate; once that candidate holds every one of them, the others
        // (a household's shared phone, homonyms' e-mail) are weighed like anyone else.
        let all = holders.iter().fold(0u32, |m, h| m | h.1);
        let keep = by_id.first().is_some_and(|c| c.3 & all != all);
        by_id.retain(|c| 2 * c.1 >= best || (keep && c.3 != 0));
        truncate_keeping(&mut by_id, MAX_CANDIDATES, |c| keep && c.3 != 0);
        // Locate each candidate in the segments where blocking did not find them.
        let mut cands: Vec<(String, Locations)> = by_id
            .into_iter()
            .map(|(id, _, locs, _)| (String::from_utf8_lossy(id).into_owned(), locs))
            .collect();
        // One keyed hash per id: the segments of a workspace share its key.
        let hashes: Vec<Option<IdHash>> = cands
            .iter()
            .map(|(id, _)| segs.first().map(|(_, s)| s.id_hash(id)))
            .collect();
        for ((_, locs), h) in cands.iter().zip(&hashes) {
            for (si, (_, seg)) in segs.iter().enumerate() {
                if let (false, Some(h)) = (locs.iter().any(|l| l.0 == si), h) {
                    seg.prefetch_ordinal(*h);
                }
            }
        }
        for ((id, locs), h) in cands.iter_mut().zip(&hashes) {
            for (si, (_, seg)) in segs.iter().enumerate() {
                if let (false, Some(h)) = (locs.iter().any(|l| l.0 == si), h) {
                    if let Some(o) = seg.ordinal_hashed(id, *h) {
                        locs.push((si, o));
                    }
                }
            }
            locs.sort_unstable();
        }
        cands
    }
}

/// A person holding one of the row's identifier values: (segment, ordinal), and the bits of
/// the values it holds among the row's identifier values.
type Holder = (Key, u32);

/// The persons holding each of the row's identifier values, where a value is held by at most
/// [`HOLDERS_MAX`] persons in a segment (a value held by more is no one's own), sorted by key,
/// each once. The same value in several segments has one bit; values past the 32nd share the
/// last.
fn holders_of(known: &Known<'_>) -> Vec<Holder> {
    let mut values: Vec<Fp> = Vec::new();
    let mut holders: Vec<Holder> = Vec::new();
    for (si, fp, post) in known {
        if post.is_empty() || post.len() > HOLDERS_MAX {
            continue;
        }
        let v = values.iter().position(|x| x == fp).unwrap_or_else(|| {
            values.push(*fp);
            values.len() - 1
        });
        let bit = 1u32 << v.min(31);
        holders.extend(post.iter().map(|o| ((*si, o), bit)));
    }
    holders.sort_unstable();
    holders.dedup_by(|b, a| {
        let same = a.0 == b.0;
        if same {
            a.1 |= b.1;
        }
        same
    });
    holders
}

/// Rows whose best candidate shares fewer blocking keys than this also look for persons born
/// the same day with a name one edit away (most rows of a genuine leak share more, and skip it).
pub const NEAR_BIRTH_BELOW: u32 = 3;
/// At most this many neighbour names per name and segment are tried for near-birth keys.
pub const MAX_NEAR_NAMES: usize = 32;
