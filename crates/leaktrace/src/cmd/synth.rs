//! `leaktrace synth`: generate a synthetic French population, extracts and leak scenarios.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use leaktrace_synth::{Config, Summary};

use crate::{ui, Global};

/// Generate a synthetic registry, recipient extracts and leak scenarios with ground truth.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of persons in the registry
    #[arg(long, default_value_t = 20_000, value_parser = super::check::positive)]
    pub persons: u64,
    /// Seed: the same seed gives byte-identical files
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output directory (created if missing)
    #[arg(long)]
    pub out: PathBuf,
    /// Share of name and e-mail cells with a typo in the reshaped leak
    #[arg(long, default_value_t = 0.02, value_parser = super::check::unit)]
    pub typo_rate: f64,
    /// Share of empty cells in the reshaped leak
    #[arg(long, default_value_t = 0.02, value_parser = super::check::unit)]
    pub missing_rate: f64,
    /// Share of invented rows in the reshaped leak
    #[arg(long, default_value_t = 0.01, value_parser = super::check::unit)]
    pub invented_rate: f64,
    /// Share of duplicated rows in the reshaped leak
    #[arg(long, default_value_t = 0.02, value_parser = super::check::unit)]
    pub duplicate_rate: f64,
    /// Rows per leak (capped by the size of its source)
    #[arg(long, default_value_t = 2_000, value_parser = super::check::positive_usize)]
    pub leak_rows: usize,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

impl Args {
    fn config(&self) -> Config {
        Config {
            persons: self.persons,
            seed: self.seed,
            typo_rate: self.typo_rate,
            missing_rate: self.missing_rate,
            invented_rate: self.invented_rate,
            duplicate_rate: self.duplicate_rate,
            leak_rows: self.leak_rows,
        }
    }
}

/// Run the generator with a progress bar.
pub fn generate(cfg: &Config, out: &std::path::Path, global: &Global) -> anyhow::Result<Summary> {
    let bar = ui::progress(global, cfg.persons, "generating persons");
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let summary = leaktrace_synth::generate_with_progress(cfg, out, &|done| bar.set_position(done))
        .with_context(|| format!("generating synthetic data into {}", out.display()))?;
    bar.finish_and_clear();
    Ok(summary)
}

/// Print a human summary of what was generated.
pub fn print_summary(s: &Summary, color: bool) {
    println!(
        "{} {} persons (seed {}) in {}",
        ui::paint(color, ui::Style::Bold, "registry:"),
        s.registry_rows,
        s.seed,
        s.out.join("registry.csv").display()
    );
    println!("{}", ui::paint(color, ui::Style::Bold, "extracts:"));
    for e in &s.extracts {
        println!(
            "  {:<24} {:>9} rows  {:<10} {:<6} {:<12} {}",
            e.name, e.rows, e.as_of, e.format, e.encoding, e.file
        );
    }
    println!("{}", ui::paint(color, ui::Style::Bold, "leaks:"));
    for l in &s.leaks {
        println!(
            "  {:<18} {:>6} rows  {:<5} expected {:<10} {}",
            l.name, l.rows, l.format, l.verdict, l.file
        );
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let summary = generate(&args.config(), &args.out, global)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if !global.quiet {
        print_summary(&summary, ui::use_color(global));
    }
    Ok(ExitCode::SUCCESS)
}
