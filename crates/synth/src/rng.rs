//! A small, versioned PRNG (SplitMix64) so that output never depends on a crate's algorithm.

/// SplitMix64 stream, seeded from (seed, stream, index) so that any person or purpose has its
/// own independent stream: person `i` is a pure function of `(seed, i)`.
#[derive(Debug, Clone)]
pub struct Rng(u64);

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A stream for `(seed, purpose, index)`.
    pub fn new(seed: u64, purpose: u64, index: u64) -> Rng {
        Rng(mix(seed
            ^ mix(purpose.wrapping_add(0x9E37_79B9_7F4A_7C15))
            ^ mix(index.wrapping_mul(0xD1B5_4A32_D192_ED03))))
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n) (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// Uniform in [lo, hi] inclusive.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
}

/// A table for drawing indices by weight (cumulative sums + binary search).
#[derive(Debug, Clone)]
pub struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    /// Build from weights (at least one positive).
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        let mut acc = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                acc += w.max(0.0);
                acc
            })
            .collect();
        Weighted { cumulative }
    }

    /// Draw an index.
    pub fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let r = rng.f64() * total;
        self.cumulative
            .partition_point(|&c| c <= r)
            .min(self.cumulative.len().saturating_sub(1))
    }
}
