//! Addresses compared as text without their plaintext in the index: a person's address is held
//! as keyed word sets ([`Domain::AddressTokens`]: the sorted fingerprints of its words, for the
//! whole address and for each of its columns), and each segment's neighbourhood table maps the
//! one-deletion forms of every address word to that word's fingerprint. A row's address then
//! reaches a person's with `k` word changes — a word dropped, or replaced by a word one edit
//! away (`setreet` → `street`) — when one of its variants with `k` changes is a word set the
//! person holds.

use leaktrace_index::{Domain, Fp, NameKind, Segment};

use super::{Linker, Prepared};

/// Addresses with more words are only compared exactly and as word sets.
pub const MAX_WORDS: usize = 12;
/// At most this many neighbour words are tried per word of the row's address.
pub const MAX_NEIGHBOURS: usize = 8;
/// At most this many variants are formed per row, segment and number of changes.
pub const MAX_VARIANTS: usize = 1024;

impl<'a> Linker<'a> {
    /// The word-set keys of the row's address with exactly `edits` (1 or 2) word changes that
    /// segment `seg` holds for someone (so that comparing a candidate tests only those).
    pub(super) fn address_variants(
        &self,
        prep: &Prepared<'a, '_>,
        edits: u8,
        seg: &Segment,
    ) -> Vec<Fp> {
        let fpr = &self.index.fingerprinter;
        let words: Vec<&str> = prep.address.iter().flatten().map(String::as_str).collect();
        if words.is_empty() || words.len() > MAX_WORDS {
            return Vec::new();
        }
        let base: Vec<Fp> = words
            .iter()
            .map(|w| fpr.fp(Domain::AddressWord, w))
            .collect();
        // Per word: what it may become — dropped (None) or a neighbour word.
        let alts: Vec<Vec<Option<Fp>>> = words
            .iter()
            .zip(&base)
            .map(|(w, own)| {
                let mut near = Vec::new();
                for d in fpr.deletions(NameKind::Word, w) {
                    seg.neighbours(d, &mut near);
                }
                near.sort_unstable();
                near.dedup();
                near.retain(|x| x != own);
                near.truncate(MAX_NEIGHBOURS);
                std::iter::once(None)
                    .chain(near.into_iter().map(Some))
                    .collect()
            })
            .collect();
        let key = |changes: &[(usize, Option<Fp>)]| {
            let ws: Vec<Fp> = base
                .iter()
                .enumerate()
                .filter_map(|(i, w)| match changes.iter().find(|c| c.0 == i) {
                    Some((_, alt)) => *alt,
                    None => Some(*w),
                })
                .collect();
            (!ws.is_empty()).then(|| fpr.words_key(&ws))
        };
        let mut out = Vec::new();
        'all: for i in 0..words.len() {
            for a in &alts[i] {
                if edits == 1 {
                    out.extend(key(&[(i, *a)]));
                } else {
                    for (j, alts_j) in alts.iter().enumerate().skip(i + 1) {
                        for b in alts_j {
                            out.extend(key(&[(i, *a), (j, *b)]));
                        }
                    }
                }
                if out.len() >= MAX_VARIANTS {
                    break 'all;
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out.retain(|fp| !seg.postings(*fp).is_empty());
        out
    }
}
