//! `leaktrace serve`: the incident service on this workspace (see docs/server.md).

use std::net::SocketAddr;
use std::process::ExitCode;

use crate::Global;

/// Serve the incident pages and the JSON API for the DPO's team.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (keep it on loopback behind a TLS reverse proxy)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Largest upload, in MiB
    #[arg(long, default_value_t = 1024)]
    pub upload_max_mb: u64,
    /// Session lifetime, in hours
    #[arg(long, default_value_t = 8)]
    pub session_hours: i64,
    /// Mark cookies Secure (set when the service is reached over HTTPS)
    #[arg(long)]
    pub secure_cookies: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let mut config = leaktrace_server::Config::new(&global.home, global.key_file.as_deref());
    config.upload_max = args.upload_max_mb.saturating_mul(1 << 20);
    config.session_seconds = args.session_hours.clamp(1, 24 * 30) * 3600;
    config.secure_cookies = args.secure_cookies;
    leaktrace_server::run(config, args.listen)?;
    Ok(ExitCode::SUCCESS)
}
