//! `leaktrace demo`: the whole chain on built-in synthetic data. For now: generate a population
//! with its extracts and leak scenarios in a temporary directory, print what it made, and type
//! the columns of every leak against the truth; later stages (enrol, analyse, report)
//! join as they land.

use std::path::PathBuf;
use std::process::ExitCode;

use leaktrace_synth::Config;

use crate::{ui, Global};

/// Run leaktrace on built-in synthetic data.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Persons in the synthetic registry
    #[arg(long, default_value_t = 20_000)]
    pub persons: u64,
    /// Seed of the synthetic data
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Keep the generated files in this directory instead of a temporary one
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let color = ui::use_color(global);
    let tmp;
    let dir = match &args.keep {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("leaktrace-demo-")
                .tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let cfg = Config {
        persons: args.persons,
        seed: args.seed,
        ..Config::default()
    };
    let started = std::time::Instant::now();
    let summary = super::synth::generate(&cfg, &dir, global)?;
    super::synth::print_summary(&summary, color);
    println!(
        "\ngenerated in {:.1} s{}",
        started.elapsed().as_secs_f64(),
        if args.keep.is_some() {
            String::new()
        } else {
            " (temporary directory, removed on exit; --keep DIR to keep it)".to_string()
        }
    );
    println!(
        "\n{}",
        ui::paint(
            color,
            ui::Style::Bold,
            "scan of every leak (column types against the truth):"
        )
    );
    for leak in &summary.leaks {
        let report = leaktrace_scan::scan_path(&dir.join(&leak.file), &Default::default())?;
        let types: Vec<&str> = report.tables[0]
            .columns
            .iter()
            .map(|c| c.ty.as_str())
            .collect();
        let right = report.tables[0]
            .columns
            .iter()
            .zip(&leak.columns)
            .filter(|(c, t)| c.ty == t.ty)
            .count();
        println!(
            "  {:<18} {:>5} records, {}/{} columns typed right: {}",
            leak.name,
            report.tables[0].rows,
            right,
            leak.columns.len(),
            types.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
