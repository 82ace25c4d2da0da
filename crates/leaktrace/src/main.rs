//! `leaktrace`: tell whether a leaked file of personal data is yours, who is in it, where it
//! came from and when. See README.md for a tour and ARCHITECTURE.md for the code map.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: the pipeline allocates many small strings on every core.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cmd;
mod exit;
pub mod ui;

/// Options shared by every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Workspace directory (catalog, index, key). Defaults to $LEAKTRACE_HOME, else ./.leaktrace
    #[arg(
        long,
        global = true,
        env = "LEAKTRACE_HOME",
        default_value = ".leaktrace"
    )]
    pub home: PathBuf,
    /// Secret key file. Defaults to $LEAKTRACE_KEY_FILE, else ~/.config/leaktrace/<workspace id>.key
    #[arg(long, global = true, env = "LEAKTRACE_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Colour output: auto (only on a terminal), always or never
    #[arg(long, global = true, default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    /// Print nothing but errors and the requested output
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Parser)]
#[command(
    name = "leaktrace",
    version,
    about = "Tell whether a leaked file of personal data is yours, who is in it, where it came from and when.",
    propagate_version = true
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read a file of any supported format and type every column (no workspace needed)
    Scan(cmd::scan::Args),
    /// Create a workspace: catalog, index and secret key
    Init(cmd::init::Args),
    /// Fingerprint a source (registry or extract) into the index
    Enroll(cmd::enroll::Args),
    /// List enrolled sources and snapshots
    Sources(cmd::sources::Args),
    /// Link a leaked file to enrolled persons and judge it
    Analyze(cmd::analyze::Args),
    /// Plant canary persons in a recipient's delivery (enrolled as its canaries)
    Canary(cmd::canary::Args),
    /// Generate a synthetic French population, recipient extracts and leak scenarios
    Synth(cmd::synth::Args),
    /// Run the whole chain on built-in synthetic data
    Demo(cmd::demo::Args),
    /// Serve the incident service (pages and JSON API) on this workspace
    Serve(cmd::serve::Args),
    /// Manage the incident service's accounts
    User(cmd::user::Args),
    /// Verify the incident service's audit trail, export an incident with it
    Audit(cmd::audit::Args),
}

fn main() -> ExitCode {
    // Like other Unix tools, stop quietly when the reader of our output goes away
    // (`leaktrace sources | head -1`) instead of panicking on a broken pipe. Published state
    // is never at risk: a snapshot exists once its catalog row is committed.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => cmd::scan::run(args, &cli.global),
        Command::Init(args) => cmd::init::run(args, &cli.global),
        Command::Enroll(args) => cmd::enroll::run(args, &cli.global),
        Command::Sources(args) => cmd::sources::run(args, &cli.global),
        Command::Analyze(args) => cmd::analyze::run(args, &cli.global),
        Command::Canary(args) => cmd::canary::run(args, &cli.global),
        Command::Synth(args) => cmd::synth::run(args, &cli.global),
        Command::Demo(args) => cmd::demo::run(args, &cli.global),
        Command::Serve(args) => cmd::serve::run(args, &cli.global),
        Command::User(args) => cmd::user::run(args, &cli.global),
        Command::Audit(args) => cmd::audit::run(args, &cli.global),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("leaktrace: error: {err:#}");
            exit::code_for(&err)
        }
    }
}
