//! The names table's fan-out: where the (deletion, name) pairs of each 16-bit prefix start in
//! `names.bin`, so that a lookup binary-searches a handful of pairs instead of the whole table.

use crate::Fp;

/// Where the names table's pairs of each 16-bit deletion prefix start: a lookup reads one
/// slot pair here, then binary-searches the handful of pairs between them (deletion
/// fingerprints are keyed, hence uniform: ~9 pairs per prefix at 10 M persons) instead of the
/// whole table. Built in memory from `names.bin` (one sequential pass), so the file format is
/// unchanged.
#[derive(Debug)]
pub(crate) struct NamesFanout(Vec<u32>);

impl NamesFanout {
    /// Bits of a fingerprint's prefix.
    const BITS: u32 = 16;

    fn prefix(fp: Fp) -> usize {
        (fp >> (128 - Self::BITS)) as usize
    }

    /// The fan-out of a sorted table of `n` keys (`key(i)`).
    pub(crate) fn build(n: usize, key: impl Fn(usize) -> Fp) -> NamesFanout {
        let buckets = 1usize << Self::BITS;
        let mut start = Vec::with_capacity(buckets + 1);
        for i in 0..n {
            let p = Self::prefix(key(i));
            while start.len() <= p {
                start.push(i as u32);
            }
        }
        start.resize(buckets + 1, n as u32);
        NamesFanout(start)
    }

    /// The first position of the table (`key(i)`, as built) whose key is not below `fp`: a
    /// binary search within the range of `fp`'s prefix, before which every key is below that
    /// prefix and from whose end on every key is above it.
    pub(crate) fn lower_bound(&self, fp: Fp, key: impl Fn(usize) -> Fp) -> usize {
        let p = Self::prefix(fp);
        let (mut lo, mut hi) = (self.0[p] as usize, self.0[p + 1] as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if key(mid) < fp {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::NamesFanout;
    use crate::Fp;

    /// A small deterministic generator (splitmix64).
    fn next(s: &mut u64) -> u64 {
        *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn agrees_with_partition_point_on_uniform_clustered_and_repeated_tables() {
        let mut s = 7u64;
        let uniform: Vec<Fp> = (0..5000)
            .map(|_| (Fp::from(next(&mut s)) << 64) | Fp::from(next(&mut s)))
            .collect();
        let clustered: Vec<Fp> = (0..5000)
            .map(|i| (Fp::from(if i % 3 == 0 { u64::MAX - 5 } else { 42 }) << 64) | i as Fp)
            .collect();
        // Many keys in one prefix, and prefixes on either side of it empty.
        let one_prefix: Vec<Fp> = (0..3000)
            .map(|i| (0x1234 << 112) | (i * 7919) as Fp)
            .collect();
        let repeated: Vec<Fp> = vec![Fp::from(9u8) << 64; 3000];
        let tables = [
            uniform,
            clustered,
            one_prefix,
            repeated,
            Vec::new(),
            vec![1 << 64],
        ];
        for mut keys in tables {
            keys.sort_unstable();
            let fanout = NamesFanout::build(keys.len(), |i| keys[i]);
            let mut probes: Vec<Fp> = keys.iter().step_by(7).copied().collect();
            probes.extend((0..2000).map(|_| (Fp::from(next(&mut s)) << 64) | 3));
            probes.extend([
                0,
                Fp::MAX,
                42 << 64,
                (42 << 64) + 17,
                Fp::from(u64::MAX - 5) << 64,
            ]);
            for x in probes {
                assert_eq!(
                    fanout.lower_bound(x, |i| keys[i]),
                    keys.partition_point(|k| *k < x),
                    "x = {x:#x}"
                );
            }
        }
    }
}
