//! Posting lists: the sorted ordinals of the persons of a segment holding one fingerprint.
//!
//! Most fingerprints (an NIR, an e-mail, a phone number) belong to one person: their ordinal is
//! stored inline in the fingerprint's record ([`SINGLE`] flag, see `segment.rs`). Longer lists
//! live in `post.bin`, each 4-byte aligned and starting with its length `n` (u32):
//!
//! - `n ≤ PLAIN_MAX`: the `n` ordinals, u32 each — short lists are the blocking candidates,
//!   read in full;
//! - longer lists (a first name, a postal code, a birth year, the sex) are *packed*: the
//!   differences between consecutive ordinals as LEB128 varints, about one or two bytes per
//!   ordinal instead of four, with a directory that finds any ordinal's neighbourhood:
//!   - **by value** when the ordinals spread evenly (the usual case): the ordinal range is cut
//!     into buckets of `2^s` ordinals, about eight list members each, and the directory holds
//!     the byte offset of each bucket's varints; a membership test reads one directory entry and
//!     decodes a handful of varints — two cache misses, no search;
//!   - **by position** when some bucket would hold more than [`BUCKET_MAX`] members (a file
//!     sorted by region makes a postal code's ordinals contiguous): one (first ordinal, byte
//!     offset) entry per block of [`BLOCK`] members, found by interpolation search.
//!
//! Header of a packed list: `n`, the varints' byte length `d`, then `s` and the bucket count
//! (by value) or `u32::MAX` and 0 (by position); the directory; the `d` bytes, padded to 4.
//!
//! Decoding never panics: a list that points outside its file reads as empty (checksums catch
//! altered files when a segment is opened with `verify`).

use crate::IndexError;

/// Flag of an inline record value: the low 31 bits are the only person's ordinal.
pub const SINGLE: u32 = 1 << 31;
/// Lists up to this length are stored as plain u32 ordinals.
pub(crate) const PLAIN_MAX: usize = 64;
/// Members per block of a list packed by position.
pub(crate) const BLOCK: usize = 32;
/// Target members per bucket of a list packed by value.
const BUCKET_MEAN: usize = 8;
/// A list packed by value has no bucket with more members than this (else: by position).
pub(crate) const BUCKET_MAX: usize = 64;
/// Header word of a list packed by position.
const BY_POSITION: u32 = u32::MAX;

#[inline]
pub(crate) fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

fn u32_get(b: &[u8], i: usize) -> Option<u32> {
    let x = b.get(4 * i..4 * i + 4)?;
    Some(u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

fn push_varint(out: &mut Vec<u8>, mut g: u32) {
    while g >= 0x80 {
        out.push((g as u8 & 0x7f) | 0x80);
        g >>= 7;
    }
    out.push(g as u8);
}

fn too_big() -> IndexError {
    IndexError::Format("a posting list over 4 GiB".into())
}

/// Append the encoding of a sorted list of distinct ordinals (at least two) to `out`, which is
/// 4-byte aligned before and after.
pub(crate) fn encode(list: &[u32], out: &mut Vec<u8>) -> Result<(), IndexError> {
    debug_assert!(list.len() >= 2 && out.len().is_multiple_of(4));
    debug_assert!(list.windows(2).all(|w| w[0] < w[1]));
    let put = |out: &mut Vec<u8>, x: u32| out.extend_from_slice(&x.to_le_bytes());
    put(out, list.len() as u32);
    if list.len() <= PLAIN_MAX {
        for &o in list {
            put(out, o);
        }
        return Ok(());
    }
    let last = u64::from(list[list.len() - 1]);
    // Smallest bucket width with at least BUCKET_MEAN members per bucket on average.
    let mut shift = 0u32;
    while ((last >> shift) + 1) * BUCKET_MEAN as u64 > list.len() as u64 {
        shift += 1;
    }
    let buckets = (last >> shift) as usize + 1;
    let mut fullest = 0;
    let mut run = 0;
    for (i, &o) in list.iter().enumerate() {
        run = if i > 0 && o >> shift == list[i - 1] >> shift {
            run + 1
        } else {
            1
        };
        fullest = fullest.max(run);
    }
    let mut gaps = Vec::with_capacity(list.len() * 2);
    let mut dir: Vec<u32> = Vec::new();
    if fullest <= BUCKET_MAX {
        // By value: directory entry b = offset of the first varint of bucket b.
        dir.reserve(buckets + 1);
        let mut it = list.iter().peekable();
        for b in 0..buckets {
            dir.push(u32::try_from(gaps.len()).map_err(|_| too_big())?);
            let mut cur = ((b as u64) << shift) as u32;
            while let Some(&&o) = it.peek() {
                if (o >> shift) as usize != b {
                    break;
                }
                push_varint(&mut gaps, o - cur);
                cur = o;
                it.next();
            }
        }
        dir.push(u32::try_from(gaps.len()).map_err(|_| too_big())?);
    } else {
        // By position: (first member, offset of the block's other members) per block.
        for block in list.chunks(BLOCK) {
            dir.push(block[0]);
            dir.push(u32::try_from(gaps.len()).map_err(|_| too_big())?);
            for w in block.windows(2) {
                push_varint(&mut gaps, w[1] - w[0]);
            }
        }
    }
    put(out, u32::try_from(gaps.len()).map_err(|_| too_big())?);
    if fullest <= BUCKET_MAX {
        put(out, shift);
        put(out, buckets as u32);
    } else {
        put(out, BY_POSITION);
        put(out, 0);
    }
    for x in dir {
        put(out, x);
    }
    out.extend_from_slice(&gaps);
    out.resize(out.len().next_multiple_of(4), 0);
    Ok(())
}

/// Hint the CPU to load the cache line holding `b[byte]` (nothing if out of range).
#[inline]
pub(crate) fn prefetch(b: &[u8], byte: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = b.get(byte) {
        // SAFETY: a prefetch is only a hint: it never faults and reads nothing into the
        // program; the pointer comes from a live slice.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                (x as *const u8).cast::<i8>(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (b, byte);
}

/// One LEB128 varint at `pos`: (value, next position).
#[inline]
fn varint(data: &[u8], mut pos: usize) -> Option<(u32, usize)> {
    let mut v = 0u32;
    let mut shift = 0;
    loop {
        let b = *data.get(pos)?;
        pos += 1;
        v |= u32::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some((v, pos));
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
}

/// Index of the last of `n` sorted values `get(i)` that is ≤ `x`, if any. Ordinals spread
/// evenly over a segment, so a few interpolation steps land next to it before a binary
/// search finishes (a list of millions in a handful of probes).
fn last_le(n: usize, get: impl Fn(usize) -> u32, x: u32) -> Option<usize> {
    if n == 0 || get(0) > x {
        return None;
    }
    // get(lo) ≤ x, and every value from hi on is > x.
    let (mut lo, mut hi) = (0usize, n);
    let mut probes = 0;
    while hi - lo > 16 && probes < 4 {
        probes += 1;
        let (a, b) = (get(lo), get(hi - 1));
        if x >= b {
            return Some(hi - 1);
        }
        let guess = lo + ((u64::from(x - a) * (hi - 1 - lo) as u64) / u64::from(b - a)) as usize;
        if get(guess) <= x {
            lo = guess;
        } else {
            hi = guess;
        }
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if get(mid) <= x {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

/// The persons holding a fingerprint in one segment: sorted ordinals.
#[derive(Clone, Copy, Default)]
pub struct Postings<'a> {
    len: u32,
    repr: Repr<'a>,
}

#[derive(Clone, Copy)]
enum Repr<'a> {
    One(u32),
    Plain(&'a [u8]),
    /// Directory of (first member, varint offset) per block of [`BLOCK`] members.
    ByPosition {
        dir: &'a [u8],
        gaps: &'a [u8],
    },
    /// Directory of varint offsets per bucket of `2^shift` ordinals (buckets + 1 entries).
    ByValue {
        shift: u32,
        dir: &'a [u8],
        gaps: &'a [u8],
    },
}

impl Default for Repr<'_> {
    fn default() -> Self {
        Repr::Plain(&[])
    }
}

impl<'a> Postings<'a> {
    /// The list of one person.
    pub(crate) fn one(ord: u32) -> Postings<'a> {
        Postings {
            len: 1,
            repr: Repr::One(ord),
        }
    }

    /// The list stored at u32 word `word` of `post.bin` (empty if it does not fit the file).
    pub(crate) fn at(post: &'a [u8], word: usize) -> Postings<'a> {
        Postings::read(post, word).unwrap_or_default()
    }

    fn read(post: &'a [u8], word: usize) -> Option<Postings<'a>> {
        let len = u32_get(post, word)?;
        let start = 4 * word + 4;
        if len as usize <= PLAIN_MAX {
            let b = post.get(start..start + 4 * len as usize)?;
            return Some(Postings {
                len,
                repr: Repr::Plain(b),
            });
        }
        let d = u32_get(post, word + 1)? as usize;
        let kind = u32_get(post, word + 2)?;
        let dir_bytes = if kind == BY_POSITION {
            (len as usize).div_ceil(BLOCK) * 8
        } else {
            4 * (u32_get(post, word + 3)? as usize + 1)
        };
        let dir_at = start + 12;
        let dir = post.get(dir_at..dir_at + dir_bytes)?;
        let gaps = post.get(dir_at + dir_bytes..dir_at + dir_bytes + d)?;
        let repr = if kind == BY_POSITION {
            Repr::ByPosition { dir, gaps }
        } else if kind < 32 {
            Repr::ByValue {
                shift: kind,
                dir,
                gaps,
            }
        } else {
            return None;
        };
        Some(Postings { len, repr })
    }

    /// Number of persons (the term frequency in this segment).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The i-th ordinal, if `i < len`. Plain lists read it directly, packed ones decode up to it.
    pub fn get(&self, i: usize) -> Option<u32> {
        match self.repr {
            Repr::One(o) => (i == 0).then_some(o),
            Repr::Plain(b) => u32_get(b, i),
            _ => self.iter().nth(i),
        }
    }

    /// Whether `ord` is in the list.
    pub fn contains(&self, ord: u32) -> bool {
        // Decode varints from `pos` (up to `end` bytes, `n` values) on top of `cur`.
        let scan = |gaps: &[u8], mut pos: usize, end: usize, mut cur: u32, n: usize| {
            for _ in 0..n {
                if pos >= end {
                    break;
                }
                let Some((g, next)) = varint(gaps, pos) else {
                    return false;
                };
                cur = cur.wrapping_add(g);
                if cur >= ord {
                    return cur == ord;
                }
                pos = next;
            }
            false
        };
        match self.repr {
            Repr::One(o) => o == ord,
            Repr::Plain(b) => {
                last_le(b.len() / 4, |i| u32_at(b, i), ord).is_some_and(|i| u32_at(b, i) == ord)
            }
            Repr::ByPosition { dir, gaps } => {
                let Some(blk) = last_le(dir.len() / 8, |k| u32_at(dir, 2 * k), ord) else {
                    return false;
                };
                let first = u32_at(dir, 2 * blk);
                first == ord || {
                    let n = BLOCK.min(self.len() - blk * BLOCK) - 1;
                    scan(
                        gaps,
                        u32_at(dir, 2 * blk + 1) as usize,
                        gaps.len(),
                        first,
                        n,
                    )
                }
            }
            Repr::ByValue { shift, dir, gaps } => {
                let b = (ord >> shift) as usize;
                if b + 1 >= dir.len() / 4 {
                    return false;
                }
                let (a, z) = (u32_at(dir, b) as usize, u32_at(dir, b + 1) as usize);
                scan(gaps, a, z, ((b as u64) << shift) as u32, usize::MAX)
            }
        }
    }

    /// Iterate over the ordinals.
    pub fn iter(&self) -> PostingsIter<'a> {
        PostingsIter {
            list: *self,
            i: 0,
            pos: 0,
            end: 0,
            bucket: 0,
            cur: 0,
        }
    }

    /// Ask the CPU to fetch the directory entry a membership test of `ord` reads first (lists
    /// packed by value; the others' first bytes are fetched with the lookup).
    pub fn prefetch(&self, ord: u32) {
        if let Repr::ByValue { shift, dir, .. } = self.repr {
            prefetch(dir, 4 * (ord >> shift) as usize);
        }
    }

    /// The first bytes a membership test or an iteration reads (to prefetch them).
    pub(crate) fn head(&self) -> &'a [u8] {
        match self.repr {
            Repr::One(_) => &[],
            Repr::Plain(b) => b,
            Repr::ByPosition { dir, .. } | Repr::ByValue { dir, .. } => dir,
        }
    }
}

/// Iterator over a posting list.
pub struct PostingsIter<'a> {
    list: Postings<'a>,
    /// Members returned so far.
    i: usize,
    /// Next varint and the end of the current bucket (packed lists).
    pos: usize,
    end: usize,
    /// Next bucket to enter (lists packed by value).
    bucket: usize,
    cur: u32,
}

impl PostingsIter<'_> {
    fn next_packed(&mut self) -> Option<u32> {
        match self.list.repr {
            Repr::ByPosition { dir, gaps } => {
                if self.i.is_multiple_of(BLOCK) {
                    let k = self.i / BLOCK;
                    self.cur = u32_at(dir, 2 * k);
                    self.pos = u32_at(dir, 2 * k + 1) as usize;
                    return Some(self.cur);
                }
                let (g, next) = varint(gaps, self.pos)?;
                self.pos = next;
                self.cur = self.cur.wrapping_add(g);
                Some(self.cur)
            }
            Repr::ByValue { shift, dir, gaps } => {
                while self.pos >= self.end {
                    let b = self.bucket;
                    if b + 1 >= dir.len() / 4 {
                        return None;
                    }
                    self.pos = u32_at(dir, b) as usize;
                    self.end = u32_at(dir, b + 1) as usize;
                    self.cur = ((b as u64) << shift) as u32;
                    self.bucket += 1;
                }
                let (g, next) = varint(gaps, self.pos)?;
                self.pos = next;
                self.cur = self.cur.wrapping_add(g);
                Some(self.cur)
            }
            _ => None,
        }
    }
}

impl Iterator for PostingsIter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.i >= self.list.len() {
            return None;
        }
        let v = match self.list.repr {
            Repr::One(o) => Some(o),
            Repr::Plain(b) => Some(u32_at(b, self.i)),
            _ => self.next_packed(),
        };
        match v {
            Some(_) => self.i += 1,
            None => self.i = self.list.len(),
        }
        v
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.list.len() - self.i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stored(list: &[u32]) -> (Vec<u8>, Postings<'static>) {
        let mut buf = vec![0u8; 4]; // the list at word 1, as any list after the first
        encode(list, &mut buf).unwrap();
        let leaked: &'static [u8] = Box::leak(buf.clone().into_boxed_slice());
        (buf, Postings::at(leaked, 1))
    }

    fn kind(p: &Postings) -> &'static str {
        match p.repr {
            Repr::One(_) => "one",
            Repr::Plain(_) => "plain",
            Repr::ByPosition { .. } => "by position",
            Repr::ByValue { .. } => "by value",
        }
    }

    fn check(list: &[u32], p: &Postings) {
        assert_eq!(p.len(), list.len());
        assert_eq!(p.iter().collect::<Vec<_>>(), list);
        for (i, &o) in list.iter().enumerate().step_by(97) {
            assert!(p.contains(o), "{o}");
            assert_eq!(p.contains(o + 1), list.binary_search(&(o + 1)).is_ok());
            assert_eq!(p.get(i), Some(o));
        }
        assert!(!p.contains(SINGLE - 1));
    }

    #[test]
    fn long_lists_are_packed_by_value_or_by_position() {
        let spread: Vec<u32> = (0..100_000u32).map(|i| i * 37 + (i % 5)).collect();
        // A file sorted by region: a postal code's persons are one run of ordinals.
        let mut clustered: Vec<u32> = (9_000_000..9_004_000u32).collect();
        clustered.extend([9_500_000, 9_999_999]);
        for (list, packing) in [(spread, "by value"), (clustered, "by position")] {
            let (buf, p) = stored(&list);
            assert_eq!(kind(&p), packing);
            assert!(buf.len() < list.len() * 2, "{} bytes", buf.len());
            check(&list, &p);
        }
    }

    #[test]
    fn plain_lists_and_singletons() {
        let (_, p) = stored(&[3, 9, 12]);
        assert_eq!(kind(&p), "plain");
        assert_eq!(p.iter().collect::<Vec<_>>(), vec![3, 9, 12]);
        assert!(p.contains(9) && !p.contains(10) && !p.contains(0));
        let one = Postings::one(7);
        assert!(one.contains(7) && !one.contains(8));
        assert_eq!(one.iter().collect::<Vec<_>>(), vec![7]);
        let empty = Postings::default();
        assert!(empty.is_empty() && !empty.contains(0) && empty.iter().next().is_none());
    }

    #[test]
    fn truncated_or_altered_lists_read_without_panic() {
        for list in [
            (0..1000u32).map(|i| i * 3).collect::<Vec<_>>(),
            (5000..7000u32).collect(),
        ] {
            let mut buf = Vec::new();
            encode(&list, &mut buf).unwrap();
            for cut in [0, 3, 4, 8, 12, 16, 100, buf.len() - 1] {
                let p = Postings::at(&buf[..cut], 0);
                let _ = p.contains(300);
                assert!(p.iter().count() <= list.len());
            }
            for at in [8, 12, 16, 20, 40, buf.len() - 8] {
                let mut bad = buf.clone();
                bad[at] ^= 0xff;
                let p = Postings::at(&bad, 0);
                let _ = (p.contains(300), p.contains(6000), p.get(5));
                assert!(p.iter().count() <= list.len());
            }
        }
    }

    /// Sorted distinct ordinals below 2³¹: spread at random, or in runs (clustered).
    fn lists() -> impl Strategy<Value = Vec<u32>> {
        let spread = proptest::collection::vec(0u32..SINGLE, 2..800);
        let runs =
            proptest::collection::vec((0u32..SINGLE - 1000, 1u32..300), 1..8).prop_map(|runs| {
                runs.into_iter()
                    .flat_map(|(start, n)| start..start + n)
                    .collect::<Vec<u32>>()
            });
        prop_oneof![spread, runs].prop_map(|mut v| {
            v.sort_unstable();
            v.dedup();
            v
        })
    }

    proptest! {
        #[test]
        fn any_list_round_trips(v in lists(), probes in proptest::collection::vec(0u32..SINGLE, 0..50)) {
            prop_assume!(v.len() >= 2);
            let (_, p) = stored(&v);
            prop_assert_eq!(p.len(), v.len());
            prop_assert_eq!(p.iter().collect::<Vec<_>>(), v.clone());
            let near = v.iter().map(|x| x + 1);
            for x in probes.iter().copied().chain(v.iter().copied()).chain(near) {
                prop_assert_eq!(p.contains(x), v.binary_search(&x).is_ok(), "{}", x);
            }
            for i in (0..v.len()).step_by(7) {
                prop_assert_eq!(p.get(i), Some(v[i]));
            }
        }
    }
}
