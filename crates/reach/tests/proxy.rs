//! Behind a trusted reverse proxy (`--trusted-proxy`), the per-address limit keys on the client
//! the proxy names in `X-Forwarded-For`: two clients behind the proxy have separate budgets,
//! while a direct client forging the header stays on its own (its TCP peer's) budget. The
//! "proxy" is a real socket bound to 127.0.0.2 (all of 127/8 is loopback on Linux).

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use governor::Quota;
use leaktrace_reach::limits::{nz, Limits};
use leaktrace_reach::public::{self, Public};
use leaktrace_server::proxy::TrustedProxies;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The proxy's address (trusted); the direct client connects from 127.0.0.1.
const PROXY: &str = "127.0.0.2";

/// One JSON check over a fresh connection from `from`, with `X-Forwarded-For: xff`; the status.
async fn check_from(addr: SocketAddr, from: &str, xff: &str, n: u32) -> u16 {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    // A distinct identifier each time: only the address limit can refuse.
    let body = format!(
        r#"{{"identifier":"nobody{n}@example.org","second_kind":"last_name","second":"Martin"}}"#
    );
    let req = format!(
        "POST /api/v1/selfcheck HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/json\r\nX-Forwarded-For: {xff}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status = text.split(' ').nth(1).unwrap_or_default();
    status
        .parse()
        .unwrap_or_else(|_| panic!("no status in {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_behind_a_trusted_proxy_have_their_own_limits() {
    let fx = fixture().await;
    let ws = leaktrace_index::Workspace::open(&fx.app.home(), Some(&fx.app.key())).unwrap();
    let limits = Limits {
        per_address: Quota::per_hour(nz(2)),
        ..Limits::per_second(1000)
    };
    let trusted = TrustedProxies::new(vec![PROXY.parse().unwrap()]);
    let state = Arc::new(
        Public::new(&ws, limits, None)
            .unwrap()
            .with_trusted_proxies(trusted),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(public::serve(state, listener, async {
        let _ = rx.await;
    }));
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    // Client A behind the proxy (with a forged entry on its left): two, then refused.
    let a = "203.0.113.1, 192.0.2.10";
    assert_eq!(check_from(addr, PROXY, a, next()).await, 200);
    assert_eq!(check_from(addr, PROXY, a, next()).await, 200);
    assert_eq!(check_from(addr, PROXY, "192.0.2.10", next()).await, 429);
    // Client B behind the same proxy has a budget of its own.
    assert_eq!(check_from(addr, PROXY, "192.0.2.11", next()).await, 200);
    assert_eq!(check_from(addr, PROXY, "192.0.2.11", next()).await, 200);
    assert_eq!(check_from(addr, PROXY, "192.0.2.11", next()).await, 429);
    // A direct client forging a new address each time stays on its peer's budget.
    for (i, want) in [200, 200, 429, 429].into_iter().enumerate() {
        let forged = format!("198.51.100.{i}");
        assert_eq!(
            check_from(addr, "127.0.0.1", &forged, next()).await,
            want,
            "{forged}"
        );
    }
    drop(tx);
    task.await.unwrap().unwrap();
}
