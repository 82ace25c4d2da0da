//! `leaktrace incident`: the incident file (TOML) that `analyze --incident` reads.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::Global;

/// Write or check an incident file: organisation, contact, discovery time, nature, measures and
/// any override of the ENISA severity inputs.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

/// What to do with an incident file.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Print a commented example (`leaktrace incident init > incident.toml`)
    Init,
    /// Validate a file as `analyze --incident` will, without any analysis
    Check {
        /// The incident file
        file: PathBuf,
    },
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::Init => print!("{}", leaktrace_report::INCIDENT_TEMPLATE),
        Action::Check { file } => {
            let incident = leaktrace_report::Incident::load(&file)?;
            if !global.quiet {
                let deadline = incident
                    .discovered_at
                    .as_deref()
                    .map(leaktrace_report::deadline)
                    .transpose()?;
                println!(
                    "{}: valid incident file{}",
                    file.display(),
                    deadline.map_or_else(String::new, |d| format!(
                        " (notify the CNIL by {})",
                        d.deadline
                    ))
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// clap value parser of `--discovered-at`: refused as a usage error (exit 2) before any work.
pub fn parse_discovered_at(s: &str) -> Result<String, String> {
    leaktrace_report::deadline(s)
        .map(|_| s.trim().to_string())
        .map_err(|e| match e {
            leaktrace_report::ReportError::DiscoveredAt(why) => why,
            other => other.to_string(),
        })
}
