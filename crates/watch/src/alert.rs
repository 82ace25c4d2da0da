//! Alerts to the team: an e-mail (SMTP through `lettre`) and a webhook (JSON POST signed with
//! HMAC-SHA256), each retried with exponential backoff and carrying an idempotency key — the
//! SHA-256 of the file's SHA-256 and the alert kind — so that a retried or restarted delivery
//! is recognisable by the receiver (`Idempotency-Key` header; the e-mail's `Message-ID`).
//!
//! An alert carries the verdict, counts, re-appearance figures and a link to the incident:
//! never a value of the file, nor its name (a name chosen by whoever leaked it may be one).

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{hex, Outcome, WatchError};

/// Attempts per delivery before it is left pending (retried at the next start).
pub const MAX_ATTEMPTS: u32 = 5;
/// Wait before the first retry; doubled at each further one.
pub const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Longest wait for one attempt (connect, send, answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// Header carrying `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "X-Leaktrace-Signature";
/// Header carrying the idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// What an alert announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A new file of ours: an incident was opened.
    IncidentOpened,
}

impl AlertKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::IncidentOpened => "incident_opened",
        }
    }
}

/// The idempotency key of an alert: hex SHA-256 of `<file sha256>:<kind>`.
pub fn idempotency_key(file_sha256: &str, kind: AlertKind) -> String {
    hex(&Sha256::digest(format!("{file_sha256}:{}", kind.as_str())))
}

/// The e-mail alerts' settings: the SMTP connection (the configuration shared with the
/// campaign, [`leaktrace_mail::SmtpConfig`]), the sender and the recipients.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub smtp: leaktrace_mail::SmtpConfig,
    pub from: String,
    pub to: Vec<String>,
}

/// The webhook's settings.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    /// The shared secret of the HMAC signature (`LEAKTRACE_WEBHOOK_SECRET`).
    pub secret: Vec<u8>,
}

/// Re-appearance figures: counts and shares only.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Reappearance {
    /// The earlier incident's number and link.
    pub incident: i64,
    pub incident_url: String,
    /// Persons of the earlier incident found again in this file.
    pub persons_found_again: u64,
    /// Their share of the earlier incident's persons (0–1).
    pub share_found_again: f64,
    /// Persons of this file not in the earlier incident.
    pub new_persons: u64,
}

/// The alert's body (the webhook's JSON; the e-mail says the same in words).
#[derive(Debug, Clone, Serialize)]
pub struct Alert<'a> {
    pub kind: AlertKind,
    pub idempotency_key: &'a str,
    pub file_sha256: &'a str,
    pub file_bytes: u64,
    #[serde(flatten)]
    pub outcome: &'a Outcome,
}

/// HMAC-SHA256 of a body with the secret, as `sha256=<hex>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex(&mac.finalize().into_bytes()))
}

/// POST the alert once; an error names the URL's host and the HTTP status, never the body.
fn post_once(cfg: &WebhookConfig, body: &[u8], key: &str) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(ATTEMPT_TIMEOUT))
        .build()
        .into();
    agent
        .post(&cfg.url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, signature(&cfg.secret, body))
        .header(IDEMPOTENCY_HEADER, key)
        .send(body)
        .map(|_| ())
        .map_err(|e| format!("webhook: {e}"))
}

/// The e-mail's subject and plain-text body.
pub fn email_text(a: &Alert<'_>) -> (String, String) {
    let o = a.outcome;
    let subject = match &o.reappearance {
        Some(r) => format!(
            "[leaktrace] incident #{} opened ({}): re-appearance of #{}",
            o.incident, o.verdict, r.incident
        ),
        None => format!(
            "[leaktrace] incident #{} opened ({})",
            o.incident, o.verdict
        ),
    };
    let mut body = format!(
        "A file landed in the watched folder and was analysed.\n\n\
         Verdict: {} (confidence {:.2})\nRows: {}\nRows linked: {}\nPersons affected: {}\n\
         File SHA-256: {}\nFile size: {} bytes\nIncident #{}: {}\n",
        o.verdict,
        o.confidence,
        o.rows,
        o.rows_linked,
        o.persons_affected,
        a.file_sha256,
        a.file_bytes,
        o.incident,
        o.incident_url
    );
    if let Some(r) = &o.reappearance {
        body.push_str(&format!(
            "\nRe-appearance of incident #{} ({}): {} of its persons found again ({:.1} %), {} new persons.\n",
            r.incident,
            r.incident_url,
            r.persons_found_again,
            r.share_found_again * 100.0,
            r.new_persons
        ));
    }
    body.push_str(&format!("\nIdempotency key: {}\n", a.idempotency_key));
    (subject, body)
}

/// Send the e-mail once.
fn mail_once(cfg: &EmailConfig, a: &Alert<'_>) -> Result<(), String> {
    use lettre::message::header::ContentType;
    use lettre::{Message, Transport};
    let (subject, body) = email_text(a);
    let from = cfg
        .from
        .parse()
        .map_err(|e| format!("e-mail: the sender address is not valid: {e}"))?;
    let mut m = Message::builder()
        .from(from)
        .subject(subject)
        .message_id(Some(format!("<{}@leaktrace.watch>", a.idempotency_key)))
        .header(ContentType::TEXT_PLAIN);
    for to in &cfg.to {
        let addr = to
            .parse()
            .map_err(|e| format!("e-mail: a recipient address is not valid: {e}"))?;
        m = m.to(addr);
    }
    let msg = m.body(body).map_err(|e| format!("e-mail: {e}"))?;
    let transport = cfg.smtp.transport().map_err(|e| format!("e-mail: {e}"))?;
    transport.send(&msg).map(|_| ()).map_err(|e| {
        let shown = match e.status() {
            Some(code) => format!("the server replied {code}"),
            None => leaktrace_mail::failure(&e).to_string(),
        };
        format!("e-mail: {}: {shown}", cfg.smtp.address())
    })
}

/// Where alerts go.
#[derive(Debug, Clone, Default)]
pub struct Channels {
    pub email: Option<EmailConfig>,
    pub webhook: Option<WebhookConfig>,
}

impl Channels {
    /// The configured channels.
    pub fn list(&self) -> Vec<crate::state::Channel> {
        let mut v = Vec::new();
        if self.email.is_some() {
            v.push(crate::state::Channel::Email);
        }
        if self.webhook.is_some() {
            v.push(crate::state::Channel::Webhook);
        }
        v
    }

    /// One attempt on a channel.
    pub fn send_once(&self, channel: &str, a: &Alert<'_>) -> Result<(), String> {
        match (channel, &self.email, &self.webhook) {
            ("email", Some(c), _) => mail_once(c, a),
            ("webhook", _, Some(c)) => {
                let body = serde_json::to_vec(a).map_err(|e| format!("webhook: {e}"))?;
                post_once(c, &body, a.idempotency_key)
            }
            _ => Err(format!("{channel}: not configured any more")),
        }
    }
}

/// Told of each delivery attempt: delivered, or the error (a message naming no value).
pub type Recorder<'a> = dyn FnMut(Result<(), &str>) -> Result<(), WatchError> + 'a;

/// Deliver an alert on a channel, with up to [`MAX_ATTEMPTS`] attempts spaced by an
/// exponential backoff; `record` is told of every attempt (so a restart knows). Returns
/// whether it was delivered.
pub fn deliver(
    channels: &Channels,
    channel: &str,
    a: &Alert<'_>,
    record: &mut Recorder<'_>,
) -> Result<bool, WatchError> {
    let mut wait = BACKOFF_BASE;
    for attempt in 1..=MAX_ATTEMPTS {
        match channels.send_once(channel, a) {
            Ok(()) => {
                record(Ok(()))?;
                return Ok(true);
            }
            Err(e) => {
                eprintln!("leaktrace watch: alert {channel} attempt {attempt}/{MAX_ATTEMPTS}: {e}");
                record(Err(&e))?;
                if attempt < MAX_ATTEMPTS {
                    std::thread::sleep(wait);
                    wait *= 2;
                }
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_the_rfc_4231_hmac() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn keys_differ_by_file_and_are_stable() {
        let a = idempotency_key("aa", AlertKind::IncidentOpened);
        assert_eq!(a, idempotency_key("aa", AlertKind::IncidentOpened));
        assert_ne!(a, idempotency_key("ab", AlertKind::IncidentOpened));
        assert_eq!(a.len(), 64);
    }
}
