//! Blocking hits: how many of a row's blocking keys each (segment, ordinal) shares, counted in
//! a sorted vector (one sort per batch of blocks instead of a hash-map update per member, and a
//! large block's confirmations touch only its own segment's hits, in ordinal order).

use leaktrace_index::Postings;

use super::{MAX_BLOCK, SMALL_BLOCK};

/// A person in one segment, (segment, ordinal).
pub(super) type Key = (usize, u32);

/// A key as one integer ordered as the key (segments number far fewer than 2³²).
fn pack(k: Key) -> u64 {
    ((k.0 as u64) << 32) | u64::from(k.1)
}

fn unpack(x: u64) -> Key {
    ((x >> 32) as usize, x as u32)
}

/// Blocking keys shared with each (segment, ordinal), sorted by key, keys distinct.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Hits(Vec<(Key, u32)>);

/// The persons of one block: what [`count_blocks`] needs of a posting list.
pub(super) trait Block {
    /// Number of persons.
    fn size(&self) -> usize;
    /// Append the persons' ordinals, ascending.
    fn members(&self, out: &mut Vec<u32>);
    /// Whether `o` is one of them.
    fn holds(&self, o: u32) -> bool;
}

impl Block for Postings<'_> {
    fn size(&self) -> usize {
        self.len()
    }
    fn members(&self, out: &mut Vec<u32>) {
        out.extend(self.iter());
    }
    fn holds(&self, o: u32) -> bool {
        self.contains(o)
    }
}

impl Hits {
    /// The best count (0 when empty).
    pub(super) fn top(&self) -> u32 {
        self.0.iter().map(|h| h.1).max().unwrap_or(0)
    }

    /// The hits, sorted by key.
    #[cfg(test)]
    fn into_vec(self) -> Vec<(Key, u32)> {
        self.0
    }

    /// The hits worth resolving, best first (count descending, then key): those sharing at
    /// least half the best count, and those holding one of the row's identifier values,
    /// whatever their count. `held`: the bits of the values each key holds, sorted by key;
    /// each hit comes with its bits (0 for none).
    pub(super) fn ranked(self, held: &[(Key, u32)]) -> Vec<(Key, u32, u32)> {
        let top = self.top();
        let mut held = held.iter().peekable();
        let mut out: Vec<(Key, u32, u32)> = Vec::new();
        for (k, n) in self.0 {
            while held.next_if(|h| h.0 < k).is_some() {}
            let bits = held.next_if(|h| h.0 == k).map_or(0, |h| h.1);
            if 2 * n >= top || bits != 0 {
                out.push((k, n, bits));
            }
        }
        out.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// The range of segment `si`'s hits.
    fn segment(&mut self, si: usize) -> &mut [(Key, u32)] {
        let a = self.0.partition_point(|h| h.0 .0 < si);
        let z = self.0.partition_point(|h| h.0 .0 <= si);
        &mut self.0[a..z]
    }

    /// Add one to the count of every key of `keys` (packed by [`pack`], sorted, repeats
    /// allowed), inserting those not yet hit.
    fn add_sorted(&mut self, keys: &[u64]) {
        if keys.is_empty() {
            return;
        }
        let mut out = Vec::with_capacity(self.0.len() + keys.len());
        let mut old = std::mem::take(&mut self.0).into_iter().peekable();
        let mut i = 0;
        while i < keys.len() {
            let run = keys[i..].iter().take_while(|&&x| x == keys[i]).count();
            let k = unpack(keys[i]);
            i += run;
            while let Some(h) = old.next_if(|h| h.0 < k) {
                out.push(h);
            }
            let before = old.next_if(|h| h.0 == k).map_or(0, |h| h.1);
            out.push((k, before + run as u32));
        }
        out.extend(old);
        self.0 = out;
    }
}

/// Add the persons of `blocks` to `hits`. Small blocks first; a large block (a common name)
/// only adds to the counts of the persons small blocks found — unless they found none; blocks
/// over [`MAX_BLOCK`] persons are skipped.
///
/// The same counts as adding the blocks one by one, smallest first, each either enumerated
/// (at most [`SMALL_BLOCK`] persons, or nothing hit yet) or confirming the hits so far.
pub(super) fn count_blocks<B: Block>(mut blocks: Vec<(usize, B)>, hits: &mut Hits) {
    blocks.retain(|(_, b)| b.size() > 0 && b.size() <= MAX_BLOCK);
    blocks.sort_by_key(|(si, b)| (b.size(), *si));
    // Enumerated: the small blocks, or the smallest block when nothing else hits.
    let small = blocks.partition_point(|(_, b)| b.size() <= SMALL_BLOCK);
    let listed = if small == 0 && hits.0.is_empty() {
        blocks.len().min(1)
    } else {
        small
    };
    let mut keys: Vec<u64> = Vec::new();
    let mut ords: Vec<u32> = Vec::new();
    for (si, b) in &blocks[..listed] {
        ords.clear();
        b.members(&mut ords);
        keys.extend(ords.iter().map(|&o| pack((*si, o))));
    }
    keys.sort_unstable();
    hits.add_sorted(&keys);
    for (si, b) in &blocks[listed..] {
        for (k, n) in hits.segment(*si) {
            if b.holds(k.1) {
                *n += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    impl Block for Vec<u32> {
        fn size(&self) -> usize {
            self.len()
        }
        fn members(&self, out: &mut Vec<u32>) {
            out.extend(self.iter().copied());
        }
        fn holds(&self, o: u32) -> bool {
            self.binary_search(&o).is_ok()
        }
    }

    /// The rule as first written: one hash-map update per member, blocks one by one.
    fn reference(mut blocks: Vec<(usize, Vec<u32>)>, hits: &mut HashMap<Key, u32>) {
        blocks.retain(|(_, b)| !b.is_empty() && b.len() <= MAX_BLOCK);
        blocks.sort_by_key(|(si, b)| (b.len(), *si));
        for (si, b) in blocks {
            if b.len() <= SMALL_BLOCK || hits.is_empty() {
                for o in b {
                    *hits.entry((si, o)).or_default() += 1;
                }
            } else {
                for ((s, o), n) in hits.iter_mut() {
                    if *s == si && b.contains(o) {
                        *n += 1;
                    }
                }
            }
        }
    }

    /// One round of blocks: (segment, ordinals).
    type Blocks = Vec<(usize, Vec<u32>)>;

    fn block(start: u32, step: u32, n: usize) -> Vec<u32> {
        (0..n as u32).map(|i| start + i * step).collect()
    }

    fn same(rounds: &[Blocks]) {
        let (mut got, mut want) = (Hits::default(), HashMap::new());
        for blocks in rounds {
            count_blocks(blocks.clone(), &mut got);
            reference(blocks.clone(), &mut want);
        }
        let mut want: Vec<(Key, u32)> = want.into_iter().collect();
        want.sort_unstable();
        assert_eq!(got.into_vec(), want);
    }

    #[test]
    fn counts_equal_the_one_by_one_rule() {
        let cases: Vec<Vec<Blocks>> = vec![
            // Small blocks overlapping in one segment and across two.
            vec![vec![
                (0, block(1, 2, 10)),
                (0, block(1, 3, 10)),
                (1, block(1, 2, 5)),
            ]],
            // Large blocks confirm only the hits of their own segment.
            vec![vec![
                (0, block(0, 5, 4)),
                (1, block(0, 5, 4)),
                (0, block(0, 1, 200)),
                (1, block(1, 1, 300)),
            ]],
            // Only large blocks: the smallest is listed, the others confirm it.
            vec![vec![
                (2, block(0, 3, 500)),
                (2, block(0, 2, 100)),
                (2, block(0, 7, 90)),
            ]],
            // Empty and oversized blocks count for nothing.
            vec![vec![
                (0, vec![]),
                (0, block(0, 1, MAX_BLOCK + 1)),
                (0, vec![4]),
            ]],
            // A second round adds to the first's hits (near-birth keys), large ones confirm.
            vec![
                vec![(0, block(10, 1, 3))],
                vec![
                    (0, block(11, 1, 3)),
                    (0, block(0, 1, 100)),
                    (1, block(0, 1, 100)),
                ],
            ],
            // A second round with nothing hit before lists its smallest large block.
            vec![vec![], vec![(3, block(0, 4, 80)), (3, block(0, 8, 70))]],
        ];
        for rounds in &cases {
            same(rounds);
        }
    }

    #[test]
    fn ranked_keeps_the_best_half_and_the_holders() {
        let mut h = Hits::default();
        let keys = |k: &[Key]| k.iter().map(|&k| pack(k)).collect::<Vec<u64>>();
        h.add_sorted(&keys(&[
            (0, 1),
            (0, 1),
            (0, 1),
            (0, 1),
            (0, 2),
            (0, 2),
            (1, 5),
            (1, 9),
        ]));
        h.add_sorted(&keys(&[(1, 9), (2, 0), (2, 0), (2, 0), (2, 0)]));
        // (0, 1) and (2, 0) share 4 keys, (0, 2) and (1, 9) 2, (1, 5) 1 but holds a value.
        let held = [((1, 5), 0b10), ((3, 3), 0b1)];
        assert_eq!(
            h.ranked(&held),
            vec![
                ((0, 1), 4, 0),
                ((2, 0), 4, 0),
                ((0, 2), 2, 0),
                ((1, 9), 2, 0),
                ((1, 5), 1, 0b10)
            ]
        );
    }

    #[test]
    fn repeated_members_add_up() {
        let mut h = Hits::default();
        h.add_sorted(&[pack((0, 1)), pack((0, 1)), pack((0, 3)), pack((1, 0))]);
        h.add_sorted(&[pack((0, 1)), pack((0, 2))]);
        assert_eq!(
            h.into_vec(),
            vec![((0, 1), 3), ((0, 2), 1), ((0, 3), 1), ((1, 0), 1)]
        );
    }
}
