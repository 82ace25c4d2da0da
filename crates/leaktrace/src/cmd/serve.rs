//! `leaktrace serve`: the incident service on this workspace (see docs/server.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::Global;

/// Serve the incident pages and the JSON API for the DPO's team.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (TOML: listen, upload_max_mb, session_hours, secure_cookies); flags win
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080] (keep it on loopback behind a TLS proxy)
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Largest upload, in MiB [default: 1024]
    #[arg(long)]
    pub upload_max_mb: Option<u64>,
    /// Session lifetime, in hours [default: 8]
    #[arg(long)]
    pub session_hours: Option<i64>,
    /// Mark cookies Secure (set when the service is reached over HTTPS)
    #[arg(long)]
    pub secure_cookies: bool,
    /// Also watch this folder (as `leaktrace watch DIR`): landed files become incidents here
    #[arg(long, value_name = "DIR")]
    pub watch: Option<PathBuf>,
    #[command(flatten)]
    pub watch_opts: super::watch::WatchOpts,
    /// Also serve the public self-check (page, API, OPRF) on this address, a listener of its
    /// own that an organisation can expose alone (docs/selfcheck.md)
    #[arg(long)]
    pub public: Option<SocketAddr>,
    /// Bucket files for the public listener's OPRF mode (`leaktrace selfcheck export`)
    #[arg(long, requires = "public")]
    pub buckets: Option<PathBuf>,
    /// A reverse proxy (IP or CIDR, repeatable) in front of either listener: only a request
    /// from it has its client taken from X-Forwarded-For, for the per-address limits
    #[arg(long = "trusted-proxy", value_name = "IP|CIDR")]
    pub trusted_proxy: Vec<leaktrace_server::proxy::Cidr>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let file = match &args.config {
        Some(p) => leaktrace_server::FileConfig::load(p)?,
        None => leaktrace_server::FileConfig::default(),
    };
    let mut config = leaktrace_server::Config::new(&global.home, global.key_file.as_deref());
    let mb = args.upload_max_mb.or(file.upload_max_mb).unwrap_or(1024);
    config.upload_max = mb.saturating_mul(1 << 20);
    let hours = args.session_hours.or(file.session_hours).unwrap_or(8);
    config.session_seconds = hours.clamp(1, 24 * 30) * 3600;
    config.secure_cookies = args.secure_cookies || file.secure_cookies.unwrap_or(false);
    let trusted = leaktrace_server::proxy::TrustedProxies::new(args.trusted_proxy);
    config.trusted_proxies = trusted.clone();
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    // The watcher runs beside the service on its own thread and opens incidents through the
    // service's tables; its analyses wait for the service's one-at-a-time gate, so a watched
    // file and an uploaded one are never analysed at once. It stops with the process.
    let team = leaktrace_server::open(config)?;
    if let Some(dir) = args.watch.clone() {
        let mut cfg = args.watch_opts.config(global, dir)?;
        cfg.gate = Some(team.jobs.gate());
        let global = global.clone();
        std::thread::spawn(move || {
            let stop = std::sync::atomic::AtomicBool::new(false);
            if let Err(e) = super::watch::watch(&cfg, &global, &stop) {
                eprintln!("leaktrace serve: the folder watcher stopped: {e:#}");
            }
        });
    }
    let Some(public) = args.public else {
        leaktrace_server::run_open(team, listen)?;
        return Ok(ExitCode::SUCCESS);
    };
    // Both listeners in one runtime; each stops on Ctrl-C.
    let state = super::selfcheck::open_public(global, args.buckets.as_deref(), trusted)?;
    let rt = super::selfcheck::runtime()?;
    let result = rt.block_on(async {
        let (a, b) = tokio::join!(
            leaktrace_server::serve(team, listen),
            leaktrace_reach::public::run(state, public)
        );
        a?;
        b?;
        anyhow::Ok(())
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    result?;
    Ok(ExitCode::SUCCESS)
}
