//! The client address behind trusted reverse proxies (`leaktrace serve --trusted-proxy`).
//!
//! Rate limits are kept per client address. Behind a reverse proxy every TCP peer is the
//! proxy, so when — and only when — the peer is a trusted proxy, the client is the rightmost
//! address of `X-Forwarded-For` that is not itself a trusted proxy (the standard algorithm: the
//! entries left of it were written by the client and can be forged). A header from an
//! untrusted peer is ignored; a malformed header falls back to the peer. The address only keys
//! an in-memory limiter: it is never logged nor stored.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// The header a reverse proxy appends the client's address to.
pub const FORWARDED_FOR: &str = "x-forwarded-for";
/// Entries of `X-Forwarded-For` read at most (a longer chain is treated as malformed).
pub const MAX_HOPS: usize = 32;

/// A `--trusted-proxy` value that is neither an IP address nor a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address or CIDR block (e.g. 10.0.0.1, 10.0.0.0/8, fd00::/8): {0:?}")]
pub struct BadProxy(pub String);

/// An IP network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = BadProxy;

    fn from_str(s: &str) -> Result<Cidr, BadProxy> {
        let bad = || BadProxy(s.to_string());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let net = IpAddr::from_str(addr).map_err(|_| bad())?.to_canonical();
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { net, prefix })
    }
}

/// The trusted reverse proxies (none by default: the TCP peer is the client).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Trust these networks.
    pub fn new(nets: Vec<Cidr>) -> TrustedProxies {
        TrustedProxies(nets)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client address of a request from TCP peer `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let Some(chain) = forwarded_chain(headers) else {
            return peer;
        };
        // The rightmost untrusted hop; if every hop is a proxy, the leftmost one.
        chain
            .iter()
            .rev()
            .find(|ip| !self.contains(**ip))
            .or(chain.first())
            .copied()
            .unwrap_or(peer)
    }
}

/// Every `X-Forwarded-For` entry, in order over all the header's lines; `None` when one entry
/// is not an address (with an optional port), a value is not text, or the chain is too long.
fn forwarded_chain(headers: &HeaderMap) -> Option<Vec<IpAddr>> {
    let mut chain = Vec::new();
    for value in headers.get_all(FORWARDED_FOR) {
        for entry in value.to_str().ok()?.split(',') {
            chain.push(parse_hop(entry.trim())?);
            if chain.len() > MAX_HOPS {
                return None;
            }
        }
    }
    Some(chain)
}

/// `192.0.2.1`, `2001:db8::1`, `192.0.2.1:4711` or `[2001:db8::1]:4711`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    IpAddr::from_str(s)
        .ok()
        .or_else(|| SocketAddr::from_str(s).ok().map(|a| a.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    #[test]
    fn cidrs_parse_and_match() {
        let cases: &[(&str, &str, bool)] = &[
            ("10.0.0.0/8", "10.200.3.4", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("192.0.2.7", "192.0.2.7", true),
            ("192.0.2.7", "192.0.2.8", false),
            ("0.0.0.0/0", "198.51.100.1", true),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "fe80::1", false),
            ("::/0", "2001:db8::1", true),
            ("127.0.0.1", "::ffff:127.0.0.1", true),
            ("10.0.0.0/8", "::1", false),
        ];
        for (net, ip, want) in cases {
            let c: Cidr = net.parse().unwrap();
            assert_eq!(c.contains(ip.parse().unwrap()), *want, "{net} ∋ {ip}");
        }
        for bad in [
            "",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0/8",
            "host",
            "10.0.0.0/x",
            "/8",
        ] {
            assert_eq!(bad.parse::<Cidr>(), Err(BadProxy(bad.into())), "{bad:?}");
        }
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let t = trusted(&["10.0.0.0/8", "fd00::/8"]);
        // (peer, X-Forwarded-For lines, client)
        let cases: &[(&str, &[&str], &str)] = &[
            // An untrusted peer's header is ignored (spoofing).
            ("198.51.100.9", &["203.0.113.5"], "198.51.100.9"),
            // A trusted peer without the header is the client.
            ("10.0.0.1", &[], "10.0.0.1"),
            ("10.0.0.1", &["203.0.113.5"], "203.0.113.5"),
            // The client forged the left part; the proxy appended the real address.
            ("10.0.0.1", &["1.2.3.4, 203.0.113.5"], "203.0.113.5"),
            // Chains of proxies are skipped from the right.
            (
                "10.0.0.1",
                &["203.0.113.5, 10.0.0.7, 10.9.9.9"],
                "203.0.113.5",
            ),
            ("10.0.0.1", &["203.0.113.5", "10.0.0.7"], "203.0.113.5"),
            // Every hop is a proxy: the leftmost.
            ("10.0.0.1", &["10.0.0.3, 10.0.0.2"], "10.0.0.3"),
            // IPv6, ports, mapped addresses.
            ("fd00::1", &["2001:db8::5"], "2001:db8::5"),
            (
                "::ffff:10.0.0.1",
                &["[2001:db8::5]:443, fd00::2"],
                "2001:db8::5",
            ),
            ("10.0.0.1", &["203.0.113.5:55000"], "203.0.113.5"),
            ("10.0.0.1", &["::ffff:203.0.113.5"], "203.0.113.5"),
            // Garbage: the peer.
            ("10.0.0.1", &["unknown"], "10.0.0.1"),
            ("10.0.0.1", &["203.0.113.5, "], "10.0.0.1"),
            ("10.0.0.1", &["203.0.113.5,,10.0.0.2"], "10.0.0.1"),
            ("10.0.0.1", &[""], "10.0.0.1"),
            ("10.0.0.1", &["2001:db8::5%eth0"], "10.0.0.1"),
            ("10.0.0.1", &["999.1.1.1"], "10.0.0.1"),
        ];
        for (peer, lines, want) in cases {
            let mut h = HeaderMap::new();
            for l in *lines {
                h.append(FORWARDED_FOR, l.parse().unwrap());
            }
            let got = t.client_ip(peer.parse().unwrap(), &h);
            assert_eq!(got, want.parse::<IpAddr>().unwrap(), "{peer} {lines:?}");
        }
    }

    #[test]
    fn odd_headers_fall_back_to_the_peer() {
        let t = trusted(&["10.0.0.1"]);
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            FORWARDED_FOR,
            axum::http::HeaderValue::from_bytes(b"203.0.113.\xff").unwrap(),
        );
        assert_eq!(t.client_ip(peer, &h), peer);
        let long = vec!["203.0.113.5"; MAX_HOPS + 1].join(",");
        let mut h = HeaderMap::new();
        h.insert(FORWARDED_FOR, long.parse().unwrap());
        assert_eq!(t.client_ip(peer, &h), peer);
        // No proxies trusted: the header never counts.
        let mut h = HeaderMap::new();
        h.insert(FORWARDED_FOR, "203.0.113.5".parse().unwrap());
        assert_eq!(TrustedProxies::default().client_ip(peer, &h), peer);
    }
}
