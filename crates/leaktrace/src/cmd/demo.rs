use std::process::ExitCode;

use crate::Global;

/// Arguments (placeholder).
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
