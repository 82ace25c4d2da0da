//! `leaktrace completions SHELL` and `leaktrace man`: the shell's view of the CLI, generated
//! from the same clap definition as the parser (so they never drift).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::Global;

/// Print a completion script for a shell.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell
    pub shell: clap_complete::Shell,
}

/// Print the manual page (roff), or write one page per command into a directory.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write leaktrace.1 and leaktrace-<command>.1 into this directory instead
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs, _global: &Global) -> anyhow::Result<ExitCode> {
    let mut cmd = crate::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "leaktrace", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs, global: &Global) -> anyhow::Result<ExitCode> {
    let cmd = crate::Cli::command();
    match args.out {
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
            clap_mangen::generate_to(cmd, &dir).with_context(|| dir.display().to_string())?;
            if !global.quiet {
                println!("manual pages written to {}", dir.display());
            }
        }
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?,
    }
    Ok(ExitCode::SUCCESS)
}
