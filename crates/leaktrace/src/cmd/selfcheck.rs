//! `leaktrace selfcheck`: the affected persons' self-check (docs/selfcheck.md). Open or close
//! an incident to it, serve the public listener alone, export the OPRF bucket files, and the
//! OPRF client (`leaktrace selfcheck --server URL --id X --birth-date D`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use leaktrace_reach::check::{Facts, SecondKind};
use leaktrace_reach::limits::Limits;
use leaktrace_reach::public::Public;
use leaktrace_reach::store::ReachStore;

use crate::Global;

/// The self-check of affected persons: administration, public listener, OPRF export and client.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<SelfcheckCommand>,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// The OPRF client: check two facts against a listener that serves bucket files.
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    /// The public listener (https://host[:port], or http://host:port on loopback)
    #[arg(long)]
    pub server: Option<String>,
    /// A PEM file of CA certificates to trust besides the web PKI's (a private CA)
    #[arg(long, requires = "server")]
    pub ca: Option<PathBuf>,
    /// E-mail address, mobile number or NIR
    #[arg(long = "id")]
    pub id: Option<String>,
    /// Birth date (second fact)
    #[arg(long, conflicts_with = "last_name")]
    pub birth_date: Option<String>,
    /// Last name (second fact)
    #[arg(long)]
    pub last_name: Option<String>,
}

/// What to do.
#[derive(Debug, clap::Subcommand)]
pub enum SelfcheckCommand {
    /// Open an analysed incident to the self-check (as an analyst or admin account)
    Open {
        #[arg(long)]
        incident: i64,
        /// The service account doing it (recorded in the audit trail)
        #[arg(long = "as")]
        user: String,
    },
    /// Close an incident to the self-check
    Close {
        #[arg(long)]
        incident: i64,
        #[arg(long = "as")]
        user: String,
    },
    /// The incidents open to self-check and the daily counters
    List,
    /// Serve the public listener alone (page, API, OPRF evaluation, bucket files)
    Serve {
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// Bucket files to serve (`leaktrace selfcheck export --out DIR`)
        #[arg(long)]
        buckets: Option<PathBuf>,
        /// A reverse proxy (IP or CIDR, repeatable) whose X-Forwarded-For names the client
        /// for the per-address limit (docs/selfcheck.md)
        #[arg(long = "trusted-proxy", value_name = "IP|CIDR")]
        trusted_proxy: Vec<leaktrace_server::proxy::Cidr>,
    },
    /// Write the OPRF bucket files of the open incidents' affected persons
    Export {
        /// The registry file the organisation enrolled (its facts are needed to evaluate)
        #[arg(long)]
        registry: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(SelfcheckCommand::Open { incident, user }) => set(global, incident, &user, true),
        Some(SelfcheckCommand::Close { incident, user }) => set(global, incident, &user, false),
        Some(SelfcheckCommand::List) => list(global),
        Some(SelfcheckCommand::Serve {
            listen,
            buckets,
            trusted_proxy,
        }) => {
            let trusted = leaktrace_server::proxy::TrustedProxies::new(trusted_proxy);
            let public = open_public(global, buckets.as_deref(), trusted)?;
            runtime()?.block_on(leaktrace_reach::public::run(public, listen))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(SelfcheckCommand::Export { registry, out }) => export(global, &registry, &out),
        None => client(args.client),
    }
}

/// The public listener's state on the workspace of `--home`.
pub fn open_public(
    global: &Global,
    buckets: Option<&std::path::Path>,
    trusted: leaktrace_server::proxy::TrustedProxies,
) -> anyhow::Result<Arc<Public>> {
    let ws = super::open_workspace(global)?;
    let public = Public::new(&ws, Limits::default(), buckets)?.with_trusted_proxies(trusted);
    Ok(Arc::new(public))
}

/// A Tokio runtime with two workers.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")
}

fn set(global: &Global, incident: i64, user: &str, open: bool) -> anyhow::Result<ExitCode> {
    super::open_workspace(global)?;
    let changed = ReachStore::open(&global.home)?.set_open(incident, user, open)?;
    if !global.quiet {
        let what = if open { "open to" } else { "closed to" };
        let already = if changed { "" } else { "already " };
        println!(
            "incident {incident} is {already}{what} the self-check (a running public listener applies it within {} s)",
            leaktrace_reach::public::RELOAD.as_secs()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn list(global: &Global) -> anyhow::Result<ExitCode> {
    super::open_workspace(global)?;
    let store = ReachStore::open(&global.home)?;
    for row in store.open_incidents()? {
        println!("open\t#{}\t{}", row.number, crate::ui::escape(&row.title));
    }
    for (day, outcome, n) in store.counters()? {
        println!("count\t{day}\t{outcome}\t{n}");
    }
    Ok(ExitCode::SUCCESS)
}

fn export(
    global: &Global,
    registry: &std::path::Path,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let ws = super::open_workspace(global)?;
    let checker = leaktrace_reach::check::Checker::open(&ws)?;
    let key = leaktrace_reach::oprf::OprfKey::from_seed(
        &ws.derive_key(leaktrace_reach::oprf::OPRF_KEY_CONTEXT),
    )?;
    let r = leaktrace_reach::export::export(&checker, &key, registry, out)?;
    if !global.quiet {
        println!(
            "{} entries from {} rows in {} buckets of {} entries ({} bytes each) in {}",
            r.entries,
            r.rows,
            r.buckets,
            r.manifest.entries_per_bucket,
            r.manifest.entry_bytes,
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn client(a: ClientArgs) -> anyhow::Result<ExitCode> {
    let (Some(server), Some(id)) = (a.server, a.id) else {
        anyhow::bail!("give --server URL and --id X with --birth-date D or --last-name N (or a subcommand: open, close, list, serve, export)");
    };
    let (kind, second) = match (a.birth_date, a.last_name) {
        (Some(d), None) => (SecondKind::BirthDate, d),
        (None, Some(n)) => (SecondKind::LastName, n),
        _ => anyhow::bail!("give one second fact: --birth-date D or --last-name N"),
    };
    let facts = Facts::parse(&id, kind, &second).map_err(|w| {
        anyhow::anyhow!(if w == "identifier" {
            "--id: not an e-mail address, a mobile number or a NIR"
        } else {
            "the second fact is not a date (JJ/MM/AAAA) or a last name"
        })
    })?;
    let http = leaktrace_reach::client::Http::with_ca(&server, a.ca.as_deref())?;
    let found = runtime()?.block_on(leaktrace_reach::client::check_oprf(&http, &facts))?;
    if found.is_empty() {
        println!("Vos données ne figurent pas dans les fuites ouvertes à la vérification.");
    } else {
        for i in &found {
            println!(
                "Incident découvert le {} : vos données exposées : {}.",
                crate::ui::escape(&i.date),
                crate::ui::escape(&i.categories.join(", "))
            );
        }
        println!("\nQue faire ?");
        for a in leaktrace_reach::answers::ADVICE {
            println!("- {a}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
