//! `leaktrace scan`: read a file and type every column (no workspace needed).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use leaktrace_scan::{scan_path, ScanOptions, ScanReport};

use crate::{ui, Global};

/// Read a file and type every column; values are shown masked.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to scan (delimited text, optionally gzip-compressed)
    pub file: PathBuf,
    /// Print the report as JSON (schema: docs/scan-json.md)
    #[arg(long)]
    pub json: bool,
    /// Rows used to type the columns (all rows are counted)
    #[arg(long, default_value_t = 10_000)]
    pub sample: u64,
}

fn print_human(r: &ScanReport, color: bool) {
    let f = &r.format;
    let delim = match f.delimiter {
        '\t' => "tab".to_string(),
        c => format!("'{c}'"),
    };
    println!(
        "{} {}{}, {}, delimiter {}, {}",
        ui::paint(color, ui::Style::Bold, "format:"),
        f.format,
        f.compression
            .map(|c| format!(
                " ({})",
                serde_json::to_value(c)
                    .unwrap_or_default()
                    .as_str()
                    .unwrap_or("")
            ))
            .unwrap_or_default(),
        f.encoding,
        delim,
        if f.has_header { "header" } else { "no header" }
    );
    for t in &r.tables {
        println!(
            "{} {} — {} records",
            ui::paint(color, ui::Style::Bold, "table:"),
            t.name,
            t.rows
        );
        println!(
            "  {:>3}  {:<24} {:<16} {:>5} {:>6} {:>9}  examples",
            "#", "column", "type", "conf", "fill", "distinct"
        );
        for c in &t.columns {
            println!(
                "  {:>3}  {:<24} {:<16} {:>5.2} {:>5.0}% {:>9}  {}",
                c.index + 1,
                truncate(&c.name, 24),
                c.ty.as_str(),
                c.confidence,
                c.fill_rate * 100.0,
                c.distinct_estimate,
                c.examples.join(", ")
            );
        }
    }
    if r.warnings.ragged_records > 0 {
        println!(
            "{} {} records have a different number of fields than the header",
            ui::paint(color, ui::Style::Yellow, "warning:"),
            r.warnings.ragged_records
        );
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let report = scan_path(
        &args.file,
        &ScanOptions {
            sample: args.sample,
        },
    )
    .with_context(|| format!("scanning {}", args.file.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report, ui::use_color(global));
    }
    Ok(ExitCode::SUCCESS)
}
