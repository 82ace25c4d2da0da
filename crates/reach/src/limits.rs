//! Rate limits ([`governor`], GCRA): per client address (IPv6 by /64), per identifier (keyed
//! by a BLAKE3 hash under a random key made at start and never written: the limiter's memory
//! holds 16-byte hashes, never an identifier) and overall. docs/selfcheck.md gives the
//! enumeration cost they imply.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Checks per client address per minute (and the burst allowed).
pub const PER_ADDRESS_PER_MINUTE: u32 = 10;
/// Checks of one identifier per hour (and the burst allowed).
pub const PER_IDENTIFIER_PER_HOUR: u32 = 5;
/// Checks per second overall (and the burst allowed), self-check and OPRF evaluations each.
pub const GLOBAL_PER_SECOND: u32 = 50;

/// How often the keyed limiters forget idle keys.
pub const SWEEP: Duration = Duration::from_secs(60);

/// The quotas of a listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_address: Quota,
    pub per_identifier: Quota,
    pub global: Quota,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_address: Quota::per_minute(nz(PER_ADDRESS_PER_MINUTE)),
            per_identifier: Quota::per_hour(nz(PER_IDENTIFIER_PER_HOUR)),
            global: Quota::per_second(nz(GLOBAL_PER_SECOND)),
        }
    }
}

impl Limits {
    /// Limits of `n` per second for each (benchmarks on loopback; never for a real listener).
    pub fn per_second(n: u32) -> Limits {
        let q = Quota::per_second(nz(n));
        Limits {
            per_address: q,
            per_identifier: q,
            global: q,
        }
    }
}

/// `n` as a quota count (at least 1).
pub fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// Which limit refused a request (for tests; the answer does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Address,
    Identifier,
    Global,
}

/// The limiters of one listener.
pub struct Limiter {
    address: DefaultKeyedRateLimiter<[u8; 16]>,
    identifier: DefaultKeyedRateLimiter<[u8; 16]>,
    global: DefaultDirectRateLimiter,
    oprf_global: DefaultDirectRateLimiter,
    /// Random, in memory only: keys the identifier hashes.
    key: [u8; 32],
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limiter(…)")
    }
}

impl Limiter {
    /// Limiters with `limits` and a fresh random key.
    pub fn new(limits: Limits) -> Limiter {
        let mut key = [0u8; 32];
        // Without randomness a fixed key only weakens the in-memory hashes, never the limits.
        let _ = getrandom::fill(&mut key);
        Limiter {
            address: RateLimiter::keyed(limits.per_address),
            identifier: RateLimiter::keyed(limits.per_identifier),
            global: RateLimiter::direct(limits.global),
            oprf_global: RateLimiter::direct(limits.global),
            key,
        }
    }

    /// The key of a client address: IPv4 whole, IPv6 by its /64 (one subscriber's block).
    fn address_key(ip: IpAddr) -> [u8; 16] {
        match ip {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            IpAddr::V6(v6) => {
                let mut o = v6.octets();
                if v6.to_ipv4_mapped().is_none() {
                    o[8..].fill(0);
                }
                o
            }
        }
    }

    /// One self-check of the canonical identifier `id` from `ip`.
    pub fn check(&self, ip: IpAddr, id: &str) -> Result<(), Refused> {
        self.address
            .check_key(&Self::address_key(ip))
            .map_err(|_| Refused::Address)?;
        let mut h = [0u8; 16];
        h.copy_from_slice(&blake3::keyed_hash(&self.key, id.as_bytes()).as_bytes()[..16]);
        self.identifier
            .check_key(&h)
            .map_err(|_| Refused::Identifier)?;
        self.global.check().map_err(|_| Refused::Global)
    }

    /// One OPRF evaluation from `ip` (the input is blinded: no identifier limit can apply).
    pub fn check_oprf(&self, ip: IpAddr) -> Result<(), Refused> {
        self.address
            .check_key(&Self::address_key(ip))
            .map_err(|_| Refused::Address)?;
        self.oprf_global.check().map_err(|_| Refused::Global)
    }

    /// Forget the keys whose limits are back to full (called every [`SWEEP`]).
    pub fn sweep(&self) {
        self.address.retain_recent();
        self.identifier.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_refuses_after_its_quota() {
        let l = Limiter::new(Limits {
            per_address: Quota::per_hour(nz(3)),
            per_identifier: Quota::per_hour(nz(2)),
            global: Quota::per_hour(nz(100)),
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(l.check(a, "x"), Ok(()));
        assert_eq!(l.check(a, "x"), Ok(()));
        assert_eq!(l.check(a, "x"), Err(Refused::Identifier));
        assert_eq!(l.check(a, "y"), Err(Refused::Address));
        // The same /64 is one address.
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let c: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        assert_eq!(l.check(b, "z1"), Ok(()));
        assert_eq!(l.check(c, "z2"), Ok(()));
        assert_eq!(l.check(b, "z3"), Ok(()));
        assert_eq!(l.check(c, "z4"), Err(Refused::Address));
        let g = Limiter::new(Limits {
            global: Quota::per_hour(nz(1)),
            ..Limits::per_second(100)
        });
        assert_eq!(g.check(a, "x"), Ok(()));
        assert_eq!(g.check(b, "y"), Err(Refused::Global));
    }
}
