//! The OPRF client (`leaktrace selfcheck --server URL --id X --birth-date D`): normalise the
//! two facts, blind them, have the server evaluate the blinded element, unblind, fetch the
//! bucket named by the output's prefix and look the entry up. The server sees a random
//! element and a prefix, never the facts (docs/selfcheck.md, threat model).
//!
//! Plain HTTP/1.1 (`http://` URLs): put the listener behind a TLS proxy on a public network.

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

/// An HTTP client of one server.
#[derive(Debug, Clone)]
pub struct Http {
    base: String,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
}

impl Http {
    /// A client of `base` (`http://host:port`, without a trailing slash).
    pub fn new(base: &str) -> Result<Http, ReachError> {
        let base = base.trim_end_matches('/').to_string();
        if !base.starts_with("http://") {
            return Err(ReachError::Http {
                url: base,
                message: "only http:// URLs (a TLS proxy in front of the listener, a local tunnel)"
                    .into(),
            });
        }
        Ok(Http {
            base,
            client: Client::builder(TokioExecutor::new()).build_http(),
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
        assert!(Http::new("https://example.org").is_err());
    }
}
