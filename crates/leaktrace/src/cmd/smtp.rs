//! The SMTP options shared by `leaktrace notify`, `leaktrace watch` and `leaktrace serve
//! --watch` (one configuration: `leaktrace_mail::SmtpConfig`, docs/mail.md).

use std::path::PathBuf;

use leaktrace_watch::{SmtpConfig, TlsMode};

/// How the SMTP server is reached (flattened into each command that sends mail).
#[derive(Debug, Clone, clap::Args)]
pub struct SmtpArgs {
    /// SMTP server host (the TLS certificate must name it)
    #[arg(long)]
    pub smtp_host: Option<String>,
    /// SMTP port [default: 25 none, 587 starttls, 465 tls]
    #[arg(long)]
    pub smtp_port: Option<u16>,
    /// Connection security: none (loopback only; `plain` is read too), starttls (required:
    /// a server without it is refused) or tls
    #[arg(long, visible_alias = "smtp-tls", default_value = "starttls", value_parser = parse_tls)]
    pub smtp_security: TlsMode,
    /// SMTP user name [default: $LEAKTRACE_SMTP_USER]; the password is $LEAKTRACE_SMTP_PASSWORD
    #[arg(long)]
    pub smtp_user: Option<String>,
    /// Read the SMTP password from this file's first line instead of $LEAKTRACE_SMTP_PASSWORD
    #[arg(long)]
    pub smtp_password_file: Option<PathBuf>,
    /// A PEM file of CA certificates to trust besides the web PKI roots (a private relay)
    #[arg(long)]
    pub smtp_ca_file: Option<PathBuf>,
}

/// `--smtp-security`: none, starttls, tls (or the older `plain`).
fn parse_tls(s: &str) -> Result<TlsMode, String> {
    TlsMode::parse(s).ok_or_else(|| "none, starttls or tls".into())
}

impl SmtpArgs {
    /// The configuration for `host` (credentials read from the environment or the file now).
    pub fn config(&self, host: &str) -> anyhow::Result<SmtpConfig> {
        let mut c = SmtpConfig::new(host, self.smtp_port, self.smtp_security);
        c.user = self.smtp_user.clone();
        c.ca_file = self.smtp_ca_file.clone();
        let c = c.with_credentials(self.smtp_password_file.as_deref())?;
        // Refuse a bad host/CA combination now, before any work.
        c.transport()?;
        Ok(c)
    }
}
