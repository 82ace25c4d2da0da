//! The one SMTP configuration of leaktrace, shared by the Art. 34 campaign (`leaktrace notify`,
//! crate `leaktrace-campaign`) and the folder watcher's e-mail alerts (`leaktrace watch`,
//! `serve --watch`, crate `leaktrace-watch`): host, port, connection security ([`TlsMode`]),
//! credentials from [`USER_ENV`] / [`PASSWORD_ENV`] (or a password file), an optional extra CA
//! certificate (PEM) to trust for a private relay, and [`SmtpConfig::transport`] building the
//! `lettre` transport. [`failure`] names what went wrong with a send without quoting the
//! server (a reply may quote an address).
//!
//! The password is never printed: `Debug` shows it as `***`, and it comes from the environment
//! or a file, never from a command-line flag (which `ps` would show).

use std::error::Error as _;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::SmtpTransport;

/// The environment variable holding the SMTP user name.
pub const USER_ENV: &str = "LEAKTRACE_SMTP_USER";
/// The environment variable holding the SMTP password.
pub const PASSWORD_ENV: &str = "LEAKTRACE_SMTP_PASSWORD";
/// The time-out of one SMTP command (connection, each reply).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest password file read.
const MAX_PASSWORD_FILE_BYTES: u64 = 4096;
/// The largest CA certificate file read.
const MAX_CA_FILE_BYTES: u64 = 1 << 20;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain SMTP: only to a loopback address (a local relay, the tests' servers).
    None,
    /// Plain connection upgraded with STARTTLS (required: refused if the server lacks it);
    /// port 587 by default.
    StartTls,
    /// TLS from the first byte (SMTPS); port 465 by default.
    Tls,
}

impl TlsMode {
    /// Every mode.
    pub const ALL: [TlsMode; 3] = [TlsMode::None, TlsMode::StartTls, TlsMode::Tls];
    /// The older name of [`TlsMode::None`] (`leaktrace notify --smtp-security plain`), still read.
    pub const NONE_ALIAS: &'static str = "plain";

    /// The name used on the command line and in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::None => "none",
            TlsMode::StartTls => "starttls",
            TlsMode::Tls => "tls",
        }
    }

    /// Parse a name of [`TlsMode::as_str`] (or [`TlsMode::NONE_ALIAS`]).
    pub fn parse(s: &str) -> Option<TlsMode> {
        if s == Self::NONE_ALIAS {
            return Some(TlsMode::None);
        }
        TlsMode::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The port used when none is given.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Tls => 465,
        }
    }
}

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, for the transport only.
    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Errors of the SMTP configuration (before anything is sent).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Plain SMTP to a host that is not a loopback address.
    #[error("smtp: plain SMTP (--smtp-security none) is only allowed to a loopback address (127.0.0.1, ::1, localhost), not {0}; use --smtp-security starttls or tls")]
    PlainNotLoopback(String),
    /// A user name without a password, or the reverse.
    #[error("smtp: a user name needs a password and the reverse (set {USER_ENV} and {PASSWORD_ENV}, or --smtp-password-file)")]
    HalfCredentials,
    /// The password file could not be read (its content is never shown).
    #[error("smtp: password file {path}: {message}")]
    PasswordFile { path: String, message: String },
    /// The CA certificate file could not be read or holds no PEM certificate.
    #[error("smtp: CA certificate file {path}: {message}")]
    CaFile { path: String, message: String },
    /// A CA file with plain SMTP: nothing would use it.
    #[error("smtp: --smtp-ca-file is for starttls or tls, not plain SMTP")]
    CaWithoutTls,
    /// `lettre` refused the TLS parameters.
    #[error("smtp: {0}")]
    Transport(#[from] lettre::transport::smtp::Error),
}

/// Where and how to reach the SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Host name or address (the TLS certificate must name it).
    pub host: String,
    /// Port; `None`: the mode's default.
    pub port: Option<u16>,
    /// Plain (loopback only), STARTTLS or TLS.
    pub tls: TlsMode,
    /// User name, if the server wants authentication.
    pub user: Option<String>,
    /// Password (never printed).
    pub password: Option<Secret>,
    /// A PEM file of CA certificates trusted besides the bundled web PKI roots (a private
    /// relay's own CA, or its self-signed certificate).
    pub ca_file: Option<PathBuf>,
    /// Time-out of each SMTP command.
    pub timeout: Duration,
}

impl SmtpConfig {
    /// A configuration without credentials or extra CA, with the default time-out.
    pub fn new(host: &str, port: Option<u16>, tls: TlsMode) -> SmtpConfig {
        SmtpConfig {
            host: host.to_string(),
            port,
            tls,
            user: None,
            password: None,
            ca_file: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Take the user name and password from [`USER_ENV`] and [`PASSWORD_ENV`], the password
    /// from `password_file` instead when given (first line, trailing newline removed). A user
    /// given already (a flag) wins over the environment.
    pub fn with_credentials(mut self, password_file: Option<&Path>) -> Result<Self, MailError> {
        if self.user.is_none() {
            self.user = std::env::var(USER_ENV).ok().filter(|u| !u.is_empty());
        }
        self.password = match password_file {
            Some(p) => Some(read_password(p)?),
            None => std::env::var(PASSWORD_ENV)
                .ok()
                .filter(|p| !p.is_empty())
                .map(Secret::new),
        };
        if self.user.is_some() != self.password.is_some() {
            return Err(MailError::HalfCredentials);
        }
        Ok(self)
    }

    /// The port in use.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.tls.default_port())
    }

    /// `host:port`, for messages.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port())
    }

    /// Build the transport (connections are opened on the first send and pooled). Reads the
    /// CA file now, so a bad one is refused before anything is sent.
    pub fn transport(&self) -> Result<SmtpTransport, MailError> {
        let builder = SmtpTransport::builder_dangerous(&self.host);
        let builder = match self.tls {
            TlsMode::None => {
                if !is_loopback(&self.host) {
                    return Err(MailError::PlainNotLoopback(self.host.clone()));
                }
                if self.ca_file.is_some() {
                    return Err(MailError::CaWithoutTls);
                }
                builder
            }
            TlsMode::StartTls => builder.tls(Tls::Required(self.tls_parameters()?)),
            TlsMode::Tls => builder.tls(Tls::Wrapper(self.tls_parameters()?)),
        };
        let mut builder = builder.port(self.port()).timeout(Some(self.timeout));
        if let (Some(u), Some(p)) = (&self.user, &self.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.expose().to_string()));
        }
        Ok(builder.build())
    }

    fn tls_parameters(&self) -> Result<TlsParameters, MailError> {
        let mut b = TlsParameters::builder(self.host.clone());
        if let Some(path) = &self.ca_file {
            b = b.add_root_certificate(read_ca(path)?);
        }
        Ok(b.build()?)
    }
}

/// Whether `host` names the loopback interface.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn read_small(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if len > max {
        return Err(format!("larger than {max} bytes"));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

fn read_password(path: &Path) -> Result<Secret, MailError> {
    let err = |message: String| MailError::PasswordFile {
        path: path.display().to_string(),
        message,
    };
    let bytes = read_small(path, MAX_PASSWORD_FILE_BYTES).map_err(err)?;
    let text = String::from_utf8(bytes).map_err(|_| err("not UTF-8".into()))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(err("empty".into()));
    }
    Ok(Secret::new(line))
}

/// The PEM certificates of a CA file (at least one).
fn read_ca(path: &Path) -> Result<Certificate, MailError> {
    let err = |message: String| MailError::CaFile {
        path: path.display().to_string(),
        message,
    };
    let pem = read_small(path, MAX_CA_FILE_BYTES).map_err(err)?;
    if !pem
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(err(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into(),
        ));
    }
    Certificate::from_pem(&pem).map_err(|_| err("not a valid PEM certificate".into()))
}

/// What went wrong with an SMTP exchange that got no 4xx/5xx reply, told without the server's
/// text (which may quote an address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A command timed out.
    Timeout,
    /// The server's certificate is not trusted (unknown issuer, wrong name, expired…).
    Certificate,
    /// Another TLS failure (STARTTLS not offered, handshake refused).
    Tls,
    /// A reply the client did not expect.
    Response,
    /// The connection failed (refused, reset, closed).
    Connection,
}

impl Failure {
    /// A short description for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Timeout => "time-out",
            Failure::Certificate => "TLS: the server's certificate is not trusted (give its CA with --smtp-ca-file for a private relay)",
            Failure::Tls => "TLS",
            Failure::Response => "unexpected reply",
            Failure::Connection => "connection",
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classify an SMTP error (for one that is neither a 4xx nor a 5xx reply).
pub fn failure(e: &lettre::transport::smtp::Error) -> Failure {
    if certificate_refused(e) {
        Failure::Certificate
    } else if e.is_timeout() {
        Failure::Timeout
    } else if e.is_tls() {
        Failure::Tls
    } else if e.is_response() {
        Failure::Response
    } else {
        Failure::Connection
    }
}

/// Whether a rustls certificate refusal is somewhere in the error's chain (lettre wraps the
/// handshake's `rustls::Error` in an I/O error).
fn certificate_refused(e: &lettre::transport::smtp::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(c) = cause {
        let tls = c.downcast_ref::<rustls::Error>().or_else(|| {
            c.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if matches!(
            tls,
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        ) {
            return true;
        }
        cause = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_only_on_loopback_and_password_hidden() {
        for h in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            assert!(is_loopback(h), "{h}");
        }
        assert!(!is_loopback("smtp.example.fr") && !is_loopback("10.0.0.1"));
        let c = SmtpConfig::new("smtp.example.fr", None, TlsMode::None);
        assert!(matches!(c.transport(), Err(MailError::PlainNotLoopback(_))));
        let mut c = SmtpConfig::new("smtp.example.fr", None, TlsMode::StartTls);
        c.user = Some("dpo".into());
        c.password = Some(Secret::new("hunter2-secret"));
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.port(), 587);
        assert!(c.transport().is_ok());
        assert_eq!(TlsMode::parse("tls"), Some(TlsMode::Tls));
        assert_eq!(TlsMode::parse("plain"), Some(TlsMode::None));
        assert_eq!(TlsMode::parse("none"), Some(TlsMode::None));
        assert_eq!(TlsMode::parse("ssl"), None);
    }

    #[test]
    fn password_file_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret\nignored\n").unwrap();
        assert_eq!(read_password(&p).unwrap().expose(), "s3cret");
        std::fs::write(&p, "\n").unwrap();
        let e = read_password(&p).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn a_bad_ca_file_is_refused_before_any_connection() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ca.pem");
        std::fs::write(&p, "not a certificate\n").unwrap();
        let mut c = SmtpConfig::new("smtp.example.fr", None, TlsMode::StartTls);
        c.ca_file = Some(p.clone());
        let e = c.transport().unwrap_err();
        assert!(matches!(e, MailError::CaFile { .. }), "{e}");
        assert!(e.to_string().contains("ca.pem"), "{e}");
        c.ca_file = Some(dir.path().join("missing.pem"));
        assert!(matches!(c.transport(), Err(MailError::CaFile { .. })));
        let mut plain = SmtpConfig::new("127.0.0.1", None, TlsMode::None);
        plain.ca_file = Some(p);
        assert!(matches!(plain.transport(), Err(MailError::CaWithoutTls)));
    }
}
