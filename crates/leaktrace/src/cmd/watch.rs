//! `leaktrace watch DIR`: take each file that lands in a folder, analyse it once, open an
//! incident and alert the team (see docs/watch.md). The same options serve
//! `leaktrace serve --watch DIR`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::bail;

use crate::Global;

/// Environment variable holding the webhook's HMAC secret (never a flag: it would show in `ps`).
pub const WEBHOOK_SECRET_ENV: &str = "LEAKTRACE_WEBHOOK_SECRET";

/// How files are detected and where alerts go.
#[derive(Debug, Clone, clap::Args)]
pub struct WatchOpts {
    /// Poll the folder every SECS seconds instead of inotify (network shares)
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub poll: Option<u64>,
    /// Quiet time after a file's last event before it is taken, in milliseconds
    #[arg(long, default_value_t = 500)]
    pub debounce_ms: u64,
    /// Address of the incident pages, for the links in alerts
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
    /// How the SMTP server is reached (the same options as `notify`); without --smtp-host,
    /// no e-mail alerts
    #[command(flatten)]
    pub smtp: super::smtp::SmtpArgs,
    /// Sender of the e-mail alerts
    #[arg(long)]
    pub smtp_from: Option<String>,
    /// Recipient of the e-mail alerts (repeat for several); SMTP credentials come from
    /// $LEAKTRACE_SMTP_USER and $LEAKTRACE_SMTP_PASSWORD
    #[arg(long)]
    pub smtp_to: Vec<String>,
    /// Webhook receiving alerts as signed JSON (secret in $LEAKTRACE_WEBHOOK_SECRET)
    #[arg(long)]
    pub webhook_url: Option<String>,
}

/// Watch a folder: analyse each file that lands once, open an incident, alert the team.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder (not recursive)
    pub dir: PathBuf,
    #[command(flatten)]
    pub opts: WatchOpts,
}

impl WatchOpts {
    /// The watcher's configuration for this workspace and folder.
    pub fn config(&self, global: &Global, dir: PathBuf) -> anyhow::Result<leaktrace_watch::Config> {
        let mut channels = leaktrace_watch::Channels::default();
        if let Some(host) = &self.smtp.smtp_host {
            let Some(from) = self.smtp_from.clone() else {
                bail!("--smtp-host needs --smtp-from");
            };
            if self.smtp_to.is_empty() {
                bail!("--smtp-host needs at least one --smtp-to");
            }
            let mut smtp = self.smtp.config(host)?;
            smtp.timeout = leaktrace_watch::alert::ATTEMPT_TIMEOUT;
            channels.email = Some(leaktrace_watch::EmailConfig {
                smtp,
                from,
                to: self.smtp_to.clone(),
            });
        }
        if let Some(url) = &self.webhook_url {
            let secret = std::env::var(WEBHOOK_SECRET_ENV).unwrap_or_default();
            if secret.is_empty() {
                bail!("--webhook-url needs the signing secret in ${WEBHOOK_SECRET_ENV}");
            }
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                bail!("--webhook-url: an http:// or https:// address");
            }
            channels.webhook = Some(leaktrace_watch::WebhookConfig {
                url: url.clone(),
                secret: secret.into_bytes(),
            });
        }
        if !dir.is_dir() {
            bail!("{}: not a directory", dir.display());
        }
        Ok(leaktrace_watch::Config {
            home: global.home.clone(),
            dir,
            detection: match self.poll {
                Some(s) => leaktrace_watch::Detection::Poll(Duration::from_secs(s)),
                None => leaktrace_watch::Detection::Inotify,
            },
            debounce: Duration::from_millis(self.debounce_ms),
            base_url: self.base_url.clone(),
            channels,
            gate: None,
        })
    }
}

/// Run the watcher until `stop` (or the process ends), logging on stderr unless `--quiet`.
pub fn watch(
    cfg: &leaktrace_watch::Config,
    global: &Global,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let ws = super::open_workspace(global)?;
    let quiet = global.quiet;
    let log = move |m: &str| {
        if !quiet {
            eprintln!("leaktrace watch: {}", crate::ui::escape(m));
        }
    };
    if !quiet {
        eprintln!(
            "leaktrace watch: watching {} ({})",
            crate::ui::escape(&cfg.dir.display().to_string()),
            match cfg.detection {
                leaktrace_watch::Detection::Inotify => "inotify".to_string(),
                leaktrace_watch::Detection::Poll(d) => format!("polling every {} s", d.as_secs()),
            }
        );
    }
    leaktrace_watch::run(cfg, &ws, stop, &log)?;
    Ok(())
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let cfg = args.opts.config(global, args.dir)?;
    watch(&cfg, global, &AtomicBool::new(false))?;
    Ok(ExitCode::SUCCESS)
}
