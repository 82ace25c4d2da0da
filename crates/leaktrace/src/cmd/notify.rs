//! `leaktrace notify`: the Art. 34 campaign (crates/campaign, docs/campaign.md) — each affected
//! person's notice by e-mail, throttled, resumable, logged by id and status only.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use leaktrace_campaign::{Options, Origin};
use leaktrace_report::notice::Lang;

use crate::Global;

/// The SMTP host when `--smtp-host` is not given (a local relay).
const DEFAULT_SMTP_HOST: &str = "localhost";
/// How often (in messages) progress is printed.
const PROGRESS_EVERY: u64 = 1000;
/// At most this many uncertain ids are listed.
const UNCERTAIN_SHOWN: usize = 20;

/// Send the Art. 34 notice to every affected person of an incident.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("origin").required(true).args(["incident", "report"])))]
pub struct Args {
    /// The incident number of the incident service (#N on its page)
    #[arg(long)]
    pub incident: Option<i64>,
    /// Instead: an output directory of `leaktrace analyze --out DIR`
    #[arg(long, requires = "incident_file")]
    pub report: Option<PathBuf>,
    /// With --report: the incident file (organisation, contact, measures taken)
    #[arg(long)]
    pub incident_file: Option<PathBuf>,
    /// The organisation's contacts: a CSV with an id column (the person id as enrolled) and an e-mail column
    #[arg(long)]
    pub contacts: PathBuf,
    /// Print the counts (affected, with/without a contact, already sent) and send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also send to persons an interrupted run left `sending` (they may get the notice twice)
    #[arg(long)]
    pub retry_uncertain: bool,
    /// The notice's language
    #[arg(long, default_value = "fr", value_parser = ["fr", "en"])]
    pub lang: String,
    /// The sender address (From:)
    #[arg(long, visible_alias = "smtp-from", required_unless_present = "dry_run")]
    pub from: Option<String>,
    /// Messages per second at most (0: no limit)
    #[arg(long, default_value_t = leaktrace_campaign::DEFAULT_RATE, value_parser = parse_rate)]
    pub rate: f64,
    /// How the SMTP server is reached (the same options as `watch`; host default: localhost)
    #[command(flatten)]
    pub smtp: super::smtp::SmtpArgs,
}

/// `--rate`: a finite number of messages per second, 0 or more (a usage error otherwise).
fn parse_rate(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r >= 0.0)
        .ok_or_else(|| "give a number of messages per second, 0 or more (0: no limit)".into())
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let ws = super::open_workspace(global)?;
    let origin = match (args.incident, &args.report, &args.incident_file) {
        (Some(n), _, _) => Origin::Incident(n),
        (None, Some(dir), Some(f)) => Origin::Report {
            dir: dir.clone(),
            incident: f.clone(),
        },
        _ => anyhow::bail!("give --incident N, or --report DIR with --incident-file FILE"),
    };
    let opts = Options {
        origin,
        contacts: args.contacts.clone(),
        lang: if args.lang == "en" {
            Lang::En
        } else {
            Lang::Fr
        },
        retry_uncertain: args.retry_uncertain,
    };
    let prepared = leaktrace_campaign::prepare(ws.home(), &ws.fingerprinter(), &opts)?;
    let c = &prepared.counts;
    println!(
        "persons affected: {}\n  with a contact: {}\n  without a contact: {}\n  already sent: {}\n  uncertain (left `sending`): {}\n  rejected earlier: {}\nto send now: {}",
        c.affected, c.with_contact, c.without_contact, c.already_sent, c.uncertain, c.rejected, c.to_send
    );
    if !prepared.uncertain_ids.is_empty() {
        let shown: Vec<&str> = prepared
            .uncertain_ids
            .iter()
            .take(UNCERTAIN_SHOWN)
            .map(String::as_str)
            .collect();
        eprintln!(
            "leaktrace: warning: {} person(s) left `sending` by an interrupted run (the server may have accepted their notice): {}{}; {}",
            prepared.uncertain_ids.len(),
            crate::ui::escape(&shown.join(", ")),
            if prepared.uncertain_ids.len() > UNCERTAIN_SHOWN { ", …" } else { "" },
            if args.retry_uncertain {
                "sending to them again (--retry-uncertain)"
            } else {
                "skipped: check the SMTP server's log, rerun with --retry-uncertain to send again"
            }
        );
    }
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    let host = args.smtp.smtp_host.as_deref().unwrap_or(DEFAULT_SMTP_HOST);
    let transport = args.smtp.config(host)?.transport()?;
    let from = args.from.as_deref().unwrap_or_default();
    let t0 = Instant::now();
    let quiet = global.quiet;
    let progress = |o: &leaktrace_campaign::Outcome| {
        let n = o.sent + o.rejected + o.deferred;
        if !quiet && n.is_multiple_of(PROGRESS_EVERY) {
            eprintln!("leaktrace: {n} of {} done", c.to_send);
        }
    };
    let out = prepared.send(&transport, from, args.rate, &progress)?;
    println!(
        "sent: {}\nrejected (5xx, not retried): {}\ndeferred (4xx, retried by the next run): {}\ntime: {:.1} s",
        out.sent,
        out.rejected,
        out.deferred,
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
