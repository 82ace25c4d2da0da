//! Interpolation search over sorted tables of keyed fingerprints: keys are uniform, so a few
//! probes narrow a lookup to a small range before the binary search, instead of ~20 cache
//! misses across the whole table.

use crate::Fp;

/// At most this many interpolation probes narrow a search of a sorted fingerprint table before
/// the binary search takes over (keyed fingerprints are uniform: a few probes suffice).
const INTERPOLATION_PROBES: usize = 6;

/// A range `[lo, hi)` of a sorted table of `n` fingerprints (`key(i)`) that holds the first
/// position whose key is not below `x`: every key before `lo` is below `x`, every key from `hi`
/// on is not. Interpolation on the keys' top 64 bits, at most [`INTERPOLATION_PROBES`] probes;
/// a table that is not uniform only narrows less (the caller's binary search stays correct).
pub(crate) fn narrow(n: usize, x: Fp, key: impl Fn(usize) -> Fp) -> (usize, usize) {
    let top = |f: Fp| (f >> 64) as u64;
    let (mut lo, mut hi) = (0usize, n);
    for _ in 0..INTERPOLATION_PROBES {
        if hi - lo <= 16 {
            break;
        }
        let (a, b, t) = (top(key(lo)), top(key(hi - 1)), top(x));
        if t <= a || t > b {
            break;
        }
        let span = (hi - 1 - lo) as u128;
        let p = lo + ((u128::from(t - a) * span) / u128::from(b - a)) as usize;
        let p = p.clamp(lo, hi - 1);
        if key(p) < x {
            lo = p + 1;
        } else {
            hi = p;
        }
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::narrow;
    use crate::Fp;

    /// The first position not below `x`, found as `Segment::neighbours` does: interpolation,
    /// then a binary search in the range it leaves.
    fn lower_bound(keys: &[Fp], x: Fp) -> usize {
        let (mut lo, mut hi) = narrow(keys.len(), x, |i| keys[i]);
        assert!(lo <= hi && hi <= keys.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if keys[mid] < x {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        lo
    }

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
        let repeated: Vec<Fp> = vec![Fp::from(9u8) << 64; 3000];
        let tables = [uniform, clustered, repeated, Vec::new(), vec![1 << 64]];
        for mut keys in tables {
            keys.sort_unstable();
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
                    lower_bound(&keys, x),
                    keys.partition_point(|k| *k < x),
                    "x = {x:#x}"
                );
            }
        }
    }
}
