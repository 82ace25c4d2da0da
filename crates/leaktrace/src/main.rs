//! `leaktrace`: tell whether a leaked file of personal data is yours, who is in it, where it
//! came from and when. See README.md for a tour and ARCHITECTURE.md for the code map.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

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
    /// Use a key file that group or others can read (warned about on every use)
    #[arg(long, global = true)]
    pub allow_insecure_key: bool,
}

impl Global {
    /// The key file policy of `--allow-insecure-key`.
    pub fn key_access(&self) -> leaktrace_index::KeyAccess {
        if self.allow_insecure_key {
            leaktrace_index::KeyAccess::AllowInsecure
        } else {
            leaktrace_index::KeyAccess::OwnerOnly
        }
    }
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
    /// Write or check an incident file (organisation, contact, dates, measures, severity)
    Incident(cmd::incident::Args),
    /// Show the effective configuration: every option's value and where it came from
    Config(cmd::config::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(cmd::shell::CompletionsArgs),
    /// Print the manual page (roff)
    Man(cmd::shell::ManArgs),
    /// Serve the incident service (pages and JSON API) on this workspace
    Serve(cmd::serve::Args),
    /// Manage the incident service's accounts
    User(cmd::user::Args),
    /// Verify the incident service's audit trail, export an incident with it
    Audit(cmd::audit::Args),
    /// Send each affected person the Art. 34 notice by e-mail (throttled, resumable)
    Notify(cmd::notify::Args),
    /// Watch a folder: analyse each file that lands once, open an incident, alert the team
    Watch(cmd::watch::Args),
    /// The affected persons' self-check: open/close an incident, public listener, OPRF export and client
    Selfcheck(cmd::selfcheck::Args),
}

/// Parse the command line over the defaults of the configuration file (`leaktrace.toml`,
/// `cmd::config`); a bad configuration file is a usage error (exit 2) before any work.
fn parse() -> Result<Cli, ExitCode> {
    let (command, config) = match cmd::config::apply(Cli::command()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("leaktrace: error: {e}");
            return Err(ExitCode::from(2));
        }
    };
    let matches = command.clone().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let _ = cmd::config::LOADED.set((config, matches, command));
    Ok(cli)
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
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let result = match cli.command {
        Command::Scan(args) => cmd::scan::run(args, &cli.global),
        Command::Init(args) => cmd::init::run(args, &cli.global),
        Command::Enroll(args) => cmd::enroll::run(args, &cli.global),
        Command::Sources(args) => cmd::sources::run(args, &cli.global),
        Command::Analyze(args) => cmd::analyze::run(args, &cli.global),
        Command::Canary(args) => cmd::canary::run(args, &cli.global),
        Command::Synth(args) => cmd::synth::run(args, &cli.global),
        Command::Demo(args) => cmd::demo::run(args, &cli.global),
        Command::Incident(args) => cmd::incident::run(args, &cli.global),
        Command::Config(args) => cmd::config::run(args, &cli.global),
        Command::Completions(args) => cmd::shell::completions(args, &cli.global),
        Command::Man(args) => cmd::shell::man(args, &cli.global),
        Command::Serve(args) => cmd::serve::run(args, &cli.global),
        Command::User(args) => cmd::user::run(args, &cli.global),
        Command::Audit(args) => cmd::audit::run(args, &cli.global),
        Command::Notify(args) => cmd::notify::run(args, &cli.global),
        Command::Watch(args) => cmd::watch::run(args, &cli.global),
        Command::Selfcheck(args) => cmd::selfcheck::run(args, &cli.global),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // Paths, member names and keys in the message are shown, not obeyed.
            let shown = leaktrace_pii::display::escape_lines(&format!("{err:#}"));
            eprintln!("leaktrace: error: {shown}");
            exit::code_for(&err)
        }
    }
}
