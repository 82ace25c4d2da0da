//! `leaktrace canary`: plant canary persons in a recipient's delivery.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use leaktrace_analyze::canary::plant;
use leaktrace_synth::canary::{seed_for, CanaryOptions, FICTION_PHONE_PREFIX};
use leaktrace_synth::date::Date;

use crate::{ui, Global};

/// Generate synthetic persons written like a recipient's delivery, enrol them as that
/// recipient's canaries (fingerprints only) and write them to --out, to be appended to the
/// delivery. A leak holding one is attributed to the recipient. To catch a leaked sample of k
/// rows out of a delivery of N rows with probability 1 − p, plant N·ln(1/p)/k canaries (a
/// sample misses all s canaries with probability ≈ exp(−s·k/N)).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recipient of the delivery
    #[arg(long)]
    pub recipient: String,
    /// Number of canaries
    #[arg(long, value_parser = super::check::positive)]
    pub count: u64,
    /// The delivery (or a sample of it) whose columns and formats the canaries imitate
    #[arg(long)]
    pub like: Option<PathBuf>,
    /// Delivery (source) name the canaries are planted in (default: the recipient)
    #[arg(long)]
    pub source: Option<String>,
    /// Delivery date (default today)
    #[arg(long, value_parser = super::check::date)]
    pub as_of: Option<String>,
    /// Domain of the canaries' e-mails: use one the organisation owns and watches
    #[arg(long, default_value = "canari.invalid")]
    pub email_domain: String,
    /// First national digits of the canaries' phones (default: ARCEP's fiction block 06 39 98)
    #[arg(long, default_value = FICTION_PHONE_PREFIX)]
    pub phone_prefix: String,
    /// Where to write the canary rows
    #[arg(long)]
    pub out: PathBuf,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let mut ws = super::open_workspace(global)?;
    let as_of = match &args.as_of {
        Some(s) => {
            let d = leaktrace_pii::date::parse(s)
                .with_context(|| format!("--as-of {s:?}: not a date (use YYYY-MM-DD)"))?;
            Date::new(d.year, d.month, d.day)
        }
        None => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Date::from_days((secs / 86_400) as i64)
        }
    };
    let delivery = args
        .source
        .clone()
        .unwrap_or_else(|| args.recipient.clone());
    let opts = CanaryOptions {
        recipient: args.recipient.clone(),
        delivery: delivery.clone(),
        as_of,
        count: args.count,
        email_domain: args.email_domain.clone(),
        phone_prefix: args.phone_prefix.clone(),
        id_like: None,
        seed: seed_for(&args.recipient, &delivery, as_of),
    };
    let report = plant(&mut ws, args.like.as_deref(), &opts, &args.out)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !global.quiet {
        let color = ui::use_color(global);
        println!(
            "{} {} canaries for {} (delivery {}, {}) written to {} and enrolled as {}",
            ui::paint(color, ui::Style::Bold, "planted"),
            report.count,
            report.recipient,
            delivery,
            report.as_of,
            report.file.display(),
            report.source
        );
        for (name, how) in &report.columns {
            println!("  {name:<24} {how}");
        }
        if args.email_domain == "canari.invalid" {
            println!("note: --email-domain canari.invalid is recognisable; use a domain the organisation owns and watches.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
