//! The OPRF client (`leaktrace selfcheck --server URL --id X --birth-date D`): normalise the
//! two facts, blind them, have the server evaluate the blinded element, unblind, fetch the
//! bucket named by the output's prefix and look the entry up. The server sees a random
//! element and a prefix, never the facts (docs/selfcheck.md, threat model).
//!
//! HTTP/1.1 over TLS (`https://`, the web PKI's roots plus an optional CA file for a private
//! one) or in the clear (`http://`, for loopback and tunnels: a network observer then sees
//! what the server sees, docs/selfcheck.md).

use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::check::Facts;
use crate::export::{EntryIncident, Manifest};
use crate::oprf;
use crate::ReachError;

/// Largest answer the client reads, in bytes.
const MAX_BODY: usize = 64 << 20;
/// Largest CA file read, in bytes.
const MAX_CA_FILE: u64 = 1 << 20;

/// Lower-case hex.
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Bytes of a hex string; `None` when it is not one (odd length, other characters, or more
/// than 1 KiB).
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 2048 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The connector: TLS for `https://`, TCP for `http://`.
type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// An HTTP client of one server.
#[derive(Debug, Clone)]
pub struct Http {
    base: String,
    client: Client<Connector, Full<Bytes>>,
}

impl Http {
    /// A client of `base` (`https://host[:port]` or `http://host:port`, without a trailing
    /// slash), trusting the web PKI's roots.
    pub fn new(base: &str) -> Result<Http, ReachError> {
        Http::with_ca(base, None)
    }

    /// A client of `base` that also trusts the CA certificates of the PEM file `ca` (a
    /// private CA in front of the listener).
    pub fn with_ca(base: &str, ca: Option<&Path>) -> Result<Http, ReachError> {
        let base = base.trim_end_matches('/').to_string();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return Err(ReachError::Http {
                url: base,
                message: "not an https:// (or http://) URL".into(),
            });
        }
        let tls = tls_config(ca)?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Http {
            base,
            client: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// Send a request (a body as JSON); the status and body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), ReachError> {
        let typed = body.map(|b| ("application/json", b));
        self.send_with(method, path, typed).await
    }

    /// Send a request with a body of the given content type; the status and body.
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<(StatusCode, Bytes), ReachError> {
        let url = format!("{}{path}", self.base);
        let err = |m: String| ReachError::Http {
            url: url.clone(),
            message: m,
        };
        let mut req = Request::builder().method(method).uri(&url);
        let mut bytes = Vec::new();
        if let Some((ct, b)) = body {
            req = req.header("content-type", ct);
            bytes = b;
        }
        let req = req
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| err(e.to_string()))?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| err(e.to_string()))?;
        let status = resp.status();
        let limited = http_body_util::Limited::new(resp.into_body(), MAX_BODY);
        let bytes = limited
            .collect()
            .await
            .map_err(|e| err(e.to_string()))?
            .to_bytes();
        Ok((status, bytes))
    }

    async fn ok(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Bytes, ReachError> {
        let (status, bytes) = self.send(method, path, body).await?;
        if status != StatusCode::OK {
            let code = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
                .unwrap_or_default();
            return Err(ReachError::Http {
                url: format!("{}{path}", self.base),
                message: format!("HTTP {status} {code}"),
            });
        }
        Ok(bytes)
    }
}

/// The TLS configuration: the web PKI's roots, plus `ca`'s certificates.
fn tls_config(ca: Option<&Path>) -> Result<rustls::ClientConfig, ReachError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca {
        for cert in read_ca(path)? {
            roots
                .add(cert)
                .map_err(|e| ReachError::file(path, format!("not a usable CA certificate: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ReachError::Http {
            url: String::new(),
            message: format!("TLS: {e}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The certificates of a PEM file (at least one; at most [`MAX_CA_FILE`] bytes).
fn read_ca(path: &Path) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, ReachError> {
    use rustls::pki_types::pem::PemObject;
    let size = std::fs::metadata(path)
        .map_err(|e| ReachError::file(path, e))?
        .len();
    if size > MAX_CA_FILE {
        return Err(ReachError::file(path, "larger than 1 MiB: not a CA file"));
    }
    let pem = std::fs::read(path).map_err(|e| ReachError::file(path, e))?;
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ReachError::file(path, format!("not a PEM certificate file: {e:?}")))?;
    if certs.is_empty() {
        return Err(ReachError::file(path, "no PEM certificate in it"));
    }
    Ok(certs)
}

/// Check `facts` in the OPRF mode: the incidents found (empty when not found).
pub async fn check_oprf(http: &Http, facts: &Facts) -> Result<Vec<EntryIncident>, ReachError> {
    let m = http
        .ok(Method::GET, "/selfcheck/manifest.json", None)
        .await?;
    let manifest: Manifest =
        serde_json::from_slice(&m).map_err(|e| ReachError::Oprf(format!("manifest: {e}")))?;
    let input = facts.oprf_input();
    let blinded = oprf::blind(&input)?;
    let body = serde_json::json!({"blinded": to_hex(&blinded.message)}).to_string();
    let ev = http
        .ok(
            Method::POST,
            "/api/v1/oprf/evaluate",
            Some(body.into_bytes()),
        )
        .await?;
    let ev: serde_json::Value =
        serde_json::from_slice(&ev).map_err(|e| ReachError::Oprf(format!("evaluation: {e}")))?;
    let evaluated = ev["evaluated"]
        .as_str()
        .and_then(from_hex)
        .ok_or_else(|| ReachError::Oprf("evaluation: no element".into()))?;
    let output = blinded.finalize(&input, &evaluated)?;
    let prefix = oprf::prefix(&output, manifest.prefix_digits);
    let bucket = http
        .ok(Method::GET, &format!("/selfcheck/buckets/{prefix}"), None)
        .await?;
    Ok(find_in_bucket(&output, &bucket, &manifest))
}

/// The incidents of `output`'s entry in `bucket` (empty when it holds none).
pub fn find_in_bucket(output: &[u8; 64], bucket: &[u8], manifest: &Manifest) -> Vec<EntryIncident> {
    oprf::open_entry(output, bucket, manifest.entry_bytes)
        .and_then(|plain| serde_json::from_slice(plain.trim_ascii_end()).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_refusals() {
        assert_eq!(
            from_hex(&to_hex(&[0, 1, 254, 255])).unwrap(),
            vec![0, 1, 254, 255]
        );
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex("é1"), None);
        assert!(Http::new("https://example.org").is_ok());
        assert!(Http::new("ftp://example.org").is_err());
        assert!(Http::new("example.org").is_err());
    }

    #[test]
    fn bad_ca_files_are_refused_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(&str, &[u8])] = &[
            ("empty.pem", b""),
            ("text.pem", b"hello"),
            (
                "broken.pem",
                b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            ),
        ];
        for (name, bytes) in cases {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let e = Http::with_ca("https://example.org", Some(&p)).unwrap_err();
            assert!(e.to_string().contains(name), "{name}: {e}");
        }
        let missing = dir.path().join("missing.pem");
        let e = Http::with_ca("https://example.org", Some(&missing)).unwrap_err();
        assert!(e.to_string().contains("missing.pem"), "{e}");
    }
}
