//! `leaktrace audit`: check the incident service's hash-chained audit trail, export an incident.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::Global;

/// The audit trail of the incident service.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// What to do with the trail.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain; exit 1 naming the first bad entry
    Verify,
    /// Write one archive with an incident's outputs, evidence hash and audit entries
    Export {
        /// The incident number (#N on its page)
        #[arg(long)]
        incident: i64,
        /// The archive to write (zip)
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    match args.command {
        AuditCommand::Verify => match leaktrace_server::admin::verify_audit(&global.home)? {
            Ok(v) => {
                println!("audit trail intact: {} entries, head {}", v.entries, v.head);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("leaktrace: audit trail broken at entry {}: {e}", e.entry());
                Ok(ExitCode::from(1))
            }
        },
        AuditCommand::Export { incident, out } => {
            let x = leaktrace_server::export::export_incident(&global.home, incident, &out)?;
            println!(
                "exported incident #{incident} to {}: {} files, {} audit entries, chain {}",
                x.path.display(),
                x.files,
                x.audit_entries,
                if x.chain_ok { "intact" } else { "BROKEN" }
            );
            Ok(ExitCode::from(if x.chain_ok { 0 } else { 1 }))
        }
    }
}
