//! Per-address login throttling, in addition to the per-account lockout: every sign-in attempt
//! (`POST /login`, `POST /api/v1/login`) takes one cell of its client address's budget
//! ([`governor`]'s keyed GCRA limiter), so a host guessing passwords over many account names is
//! slowed down too. The address is the TCP peer's ([`axum::extract::ConnectInfo`]), or behind a
//! trusted reverse proxy the one its `X-Forwarded-For` names ([`crate::proxy`]). A request
//! without a peer address (an in-process router) shares one budget.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::proxy::TrustedProxies;

/// Default sign-in attempts per address per minute (also the burst).
pub const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 20;
/// Addresses remembered before forgetting those whose budget is full again.
const PRUNE_ABOVE: usize = 10_000;

/// The sign-in routes the budget applies to.
pub const LOGIN_ROUTES: [&str; 2] = ["/login", "/api/v1/login"];

/// The limiter of the service (one budget per client address).
#[derive(Debug)]
pub struct LoginThrottle {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl LoginThrottle {
    /// A limiter allowing `per_minute` attempts per address per minute, in a burst or spread.
    pub fn new(per_minute: u32) -> LoginThrottle {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        LoginThrottle {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    /// Take one attempt from `addr`'s budget: `Err(wait)` when it is spent (retry after `wait`).
    pub fn check(&self, addr: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() > PRUNE_ABOVE {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&addr)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The client address of a request: the TCP peer (or the client a trusted proxy names), or
/// the unspecified address without a peer.
pub fn client_addr(req: &axum::extract::Request, trusted: &TrustedProxies) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| trusted.client_ip(c.0.ip(), req.headers()))
        .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
}

/// Whole seconds to wait, at least one (the `Retry-After` value).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Add `Retry-After` to an answer's headers.
pub fn set_retry_after(h: &mut HeaderMap, wait: Duration) {
    if let Ok(v) = retry_after_secs(wait).max(1).to_string().parse() {
        h.insert(axum::http::header::RETRY_AFTER, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_budget() {
        let t = LoginThrottle::new(3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert!(t.check(a).is_ok());
        }
        let wait = t.check(a).unwrap_err();
        // 3 per minute: one cell comes back every 20 s.
        assert!(
            wait <= Duration::from_secs(20) && !wait.is_zero(),
            "{wait:?}"
        );
        assert!(t.check(b).is_ok(), "another address is not slowed down");
        assert_eq!(retry_after_secs(Duration::from_millis(19_001)), 20);
        assert_eq!(retry_after_secs(Duration::from_secs(20)), 20);
    }
}
