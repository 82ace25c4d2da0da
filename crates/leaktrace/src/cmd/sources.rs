//! `leaktrace sources`: what the workspace holds.

use std::process::ExitCode;

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
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let ws = super::open_workspace(global)?;
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
                .map(|c| format!("{}:{}", ui::escape(&c.name), c.ty.as_str()))
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
    let audit = ws.analyses()?;
    if let Some(last) = audit.last() {
        println!(
            "audit: {} analyses recorded in the catalog, the last at {} ({}, {} rows, sha256 {}…)",
            audit.len(),
            last.at,
            ui::escape(&last.file_name),
            last.rows,
            last.file_sha256.get(..16).unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}
