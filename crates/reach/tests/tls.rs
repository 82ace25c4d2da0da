//! The OPRF client over TLS: the public listener behind a TLS-terminating proxy (tokio-rustls,
//! a certificate for `localhost` signed by a throw-away CA made by /usr/bin/openssl), reached
//! at `https://localhost:PORT`. With the CA given (`--ca`) the person is found as over plain
//! HTTP; without it the certificate is refused and nothing is sent.

mod support;

#[path = "../../mail/tests/tlssink/mod.rs"]
mod tlssink;

use std::net::SocketAddr;
use std::sync::Arc;

use leaktrace_reach::check::{Facts, SecondKind};
use leaktrace_reach::client::{check_oprf, Http};
use leaktrace_reach::export::export;
use leaktrace_reach::limits::Limits;
use leaktrace_reach::oprf::{OprfKey, OPRF_KEY_CONTEXT};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use support::*;

/// A TLS proxy on a loopback port in front of `upstream`; its port.
async fn tls_proxy(dir: &std::path::Path, upstream: SocketAddr) -> u16 {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake (the client distrusts the certificate) just ends.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut up = tokio::net::TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_checks_over_https_with_a_private_ca() {
    if !std::path::Path::new("/usr/bin/openssl").exists() {
        assert!(std::env::var_os("CI").is_none(), "CI has /usr/bin/openssl");
        eprintln!("SKIPPED: /usr/bin/openssl is not installed");
        return;
    }
    let fx = fixture().await;
    let p = fx.affected.clone();
    let out = fx.app.tmp.path().join("buckets");
    {
        let ws = leaktrace_index::Workspace::open(&fx.app.home(), Some(&fx.app.key())).unwrap();
        let checker = leaktrace_reach::check::Checker::open(&ws).unwrap();
        let key = OprfKey::from_seed(&ws.derive_key(OPRF_KEY_CONTEXT)).unwrap();
        export(&checker, &key, &fx.registry, &out).unwrap();
    }
    let l = listen(&fx, Limits::per_second(1000), Some(&out)).await;
    let certs = tempfile::tempdir().unwrap();
    tlssink::make_certificates(certs.path());
    let port = tls_proxy(certs.path(), l.addr).await;
    let url = format!("https://localhost:{port}");
    let facts = Facts::parse(&p.email, SecondKind::BirthDate, &p.birth).unwrap();

    let trusted = Http::with_ca(&url, Some(&certs.path().join("ca.pem"))).unwrap();
    let found = check_oprf(&trusted, &facts).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let plain = check_oprf(&l.http(), &facts).await.unwrap();
    assert_eq!(found[0].categories, plain[0].categories);

    // Without the private CA the handshake fails: an error, never an answer.
    let e = check_oprf(&Http::new(&url).unwrap(), &facts)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(&url), "{e}");
    l.stop().await;
}
