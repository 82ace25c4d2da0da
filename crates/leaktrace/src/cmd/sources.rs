//! `leaktrace sources`: what the workspace holds.

use std::process::ExitCode;

use leaktrace_index::Workspace;

use crate::{ui, Global};

/// List sources, recipients, snapshots, rows, persons and column types.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the list as JSON
    #[arg(long)]
    pub json: bool,
    /// Also verify every segment's checksums
    #[arg(long)]
    pub verify: bool,
    #[command(subcommand)]
    pub action: Option<Action>,
}

/// What to change in the enrolled sources.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Remove a snapshot enrolled by mistake (SOURCE@DATE) or a whole source (SOURCE): atomic,
    /// its segments deleted; refused while an analysis reads the index
    Remove {
        /// SOURCE or SOURCE@YYYY-MM-DD, as `leaktrace sources` lists them
        target: String,
        /// Print what was removed as JSON
        #[arg(long)]
        json: bool,
    },
}

fn remove(target: &str, json: bool, global: &Global) -> anyhow::Result<ExitCode> {
    let (source, as_of) = leaktrace_index::parse_snapshot_ref(target)?;
    let mut ws = Workspace::open(&global.home, global.key_file.as_deref())?;
    let r = ws.remove(&source, as_of.as_deref())?;
    let names: Vec<String> = r
        .snapshots
        .iter()
        .map(|s| format!("{}@{}", s.source, s.as_of))
        .collect();
    if json {
        println!(
            "{}",
            serde_json::json!({"removed": names, "bytes_freed": r.bytes_freed})
        );
    } else if !global.quiet {
        println!(
            "removed {} ({} segment bytes freed)",
            names.join(", "),
            r.bytes_freed
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    if let Some(Action::Remove { target, json }) = &args.action {
        return remove(target, *json, global);
    }
    let ws = Workspace::open(&global.home, global.key_file.as_deref())?;
    if args.verify {
        ws.load(true)?;
    }
    let sources = ws.sources()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&sources)?);
        return Ok(ExitCode::SUCCESS);
    }
    let color = ui::use_color(global);
    if sources.is_empty() {
        println!("no source enrolled yet (leaktrace enroll --source NAME FILE)");
    }
    for src in &sources {
        let canary = src
            .snapshots
            .iter()
            .any(|s| s.kind == leaktrace_index::SnapshotKind::Canary);
        println!(
            "{}{}{}",
            ui::paint(color, ui::Style::Bold, &src.name),
            src.recipient
                .as_ref()
                .map(|r| format!(" → {r}"))
                .unwrap_or_else(|| " (no recipient)".into()),
            if canary { " (canaries)" } else { "" }
        );
        for s in &src.snapshots {
            let cols: Vec<String> = s
                .profile
                .columns
                .iter()
                .map(|c| format!("{}:{}", c.name, c.ty.as_str()))
                .collect();
            println!(
                "  as of {}  {:>10} rows {:>10} persons  {:>8.1} MB  {} {}{}  [{}]",
                s.as_of,
                s.rows,
                s.persons,
                s.segment_bytes as f64 / 1e6,
                s.profile.format,
                s.profile.encoding,
                s.profile
                    .delimiter
                    .map(|d| if d == '\t' {
                        " tab".to_string()
                    } else {
                        format!(" '{d}'")
                    })
                    .unwrap_or_default(),
                cols.join(", ")
            );
        }
    }
    if args.verify {
        println!("all segments verified against their checksums");
    }
    Ok(ExitCode::SUCCESS)
}
