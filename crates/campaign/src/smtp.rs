//! The SMTP transport: a configuration (host, port, security, credentials, time-out) and the
//! builder of a `lettre` transport from it, for the Art. 34 campaign and any other sender
//! (watch alerts). The password is never printed: `Debug` shows it as `***`, and it comes from
//! the environment or a file, never from a command-line flag (which `ps` would show).

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::SmtpTransport;

/// The environment variable holding the SMTP user name.
pub const USER_ENV: &str = "LEAKTRACE_SMTP_USER";
/// The environment variable holding the SMTP password.
pub const PASSWORD_ENV: &str = "LEAKTRACE_SMTP_PASSWORD";
/// The time-out of one SMTP command (connection, each reply).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest password file read.
const MAX_PASSWORD_FILE_BYTES: u64 = 4096;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP: only to a loopback address (a local relay, the tests' sink).
    Plain,
    /// Plain connection upgraded with STARTTLS (required: refused if the server lacks it);
    /// port 587 by default.
    StartTls,
    /// TLS from the first byte (SMTPS); port 465 by default.
    Tls,
}

impl Security {
    /// The name used on the command line and in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Plain => "plain",
            Security::StartTls => "starttls",
            Security::Tls => "tls",
        }
    }

    /// Parse a name of [`Security::as_str`].
    pub fn parse(s: &str) -> Option<Security> {
        [Security::Plain, Security::StartTls, Security::Tls]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// The port used when none is given.
    pub fn default_port(self) -> u16 {
        match self {
            Security::Plain => 25,
            Security::StartTls => 587,
            Security::Tls => 465,
        }
    }
}

/// A secret string whose `Debug` and `Display` never show it.
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

/// Errors of the SMTP configuration.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// Plain SMTP to a host that is not a loopback address.
    #[error("smtp: plain SMTP is only allowed to a loopback address (127.0.0.1, ::1, localhost), not {0}; use --smtp-security starttls or tls")]
    PlainNotLoopback(String),
    /// A user name without a password, or the reverse.
    #[error("smtp: a user name needs a password and the reverse (set {USER_ENV} and {PASSWORD_ENV}, or --smtp-password-file)")]
    HalfCredentials,
    /// The password file could not be read (its content is never shown).
    #[error("smtp: password file {path}: {message}")]
    PasswordFile { path: String, message: String },
    /// `lettre` refused the relay (TLS parameters).
    #[error("smtp: {0}")]
    Transport(#[from] lettre::transport::smtp::Error),
}

/// Where and how to reach the SMTP server.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Host name or address (the TLS certificate must name it).
    pub host: String,
    /// Port; `None`: the security's default.
    pub port: Option<u16>,
    /// Plain (loopback only), STARTTLS or TLS.
    pub security: Security,
    /// User name, if the server wants authentication.
    pub user: Option<String>,
    /// Password (never printed).
    pub password: Option<Secret>,
    /// Time-out of each SMTP command.
    pub timeout: Duration,
}

impl SmtpConfig {
    /// A configuration without credentials and with the default time-out.
    pub fn new(host: &str, port: Option<u16>, security: Security) -> SmtpConfig {
        SmtpConfig {
            host: host.to_string(),
            port,
            security,
            user: None,
            password: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Take the user name and password from [`USER_ENV`] and [`PASSWORD_ENV`], the password
    /// from `password_file` instead when given (first line, trailing newline removed). A user
    /// given already (a flag) wins over the environment.
    pub fn with_credentials(mut self, password_file: Option<&Path>) -> Result<Self, SmtpError> {
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
            return Err(SmtpError::HalfCredentials);
        }
        Ok(self)
    }

    /// The port in use.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.security.default_port())
    }

    /// Build the transport (connections are opened on the first send and pooled).
    pub fn transport(&self) -> Result<SmtpTransport, SmtpError> {
        let builder = match self.security {
            Security::Plain => {
                if !is_loopback(&self.host) {
                    return Err(SmtpError::PlainNotLoopback(self.host.clone()));
                }
                SmtpTransport::builder_dangerous(&self.host)
            }
            Security::StartTls => SmtpTransport::builder_dangerous(&self.host)
                .tls(Tls::Required(TlsParameters::new(self.host.clone())?)),
            Security::Tls => SmtpTransport::builder_dangerous(&self.host)
                .tls(Tls::Wrapper(TlsParameters::new(self.host.clone())?)),
        };
        let mut builder = builder.port(self.port()).timeout(Some(self.timeout));
        if let (Some(u), Some(p)) = (&self.user, &self.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.expose().to_string()));
        }
        Ok(builder.build())
    }
}

/// Whether `host` names the loopback interface.
fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn read_password(path: &Path) -> Result<Secret, SmtpError> {
    let err = |message: String| SmtpError::PasswordFile {
        path: path.display().to_string(),
        message,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| err(e.to_string()))?
        .len();
    if len > MAX_PASSWORD_FILE_BYTES {
        return Err(err(format!("larger than {MAX_PASSWORD_FILE_BYTES} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(err("empty".into()));
    }
    Ok(Secret::new(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_only_on_loopback_and_password_hidden() {
        for h in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            assert!(is_loopback(h), "{h}");
        }
        let c = SmtpConfig::new("smtp.example.fr", None, Security::Plain);
        assert!(matches!(c.transport(), Err(SmtpError::PlainNotLoopback(_))));
        let mut c = SmtpConfig::new("smtp.example.fr", None, Security::StartTls);
        c.user = Some("dpo".into());
        c.password = Some(Secret::new("hunter2-secret"));
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.port(), 587);
        assert!(c.transport().is_ok());
        assert_eq!(Security::parse("tls"), Some(Security::Tls));
        assert_eq!(Security::parse("ssl"), None);
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
}
