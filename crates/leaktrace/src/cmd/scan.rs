//! `leaktrace scan`: read a file and type every column (no workspace needed).

use std::path::PathBuf;
use std::process::ExitCode;

use leaktrace_scan::{scan_path, ScanOptions, ScanReport};

use crate::{ui, Global};

/// Read a file and type every column; values are shown masked.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to scan: CSV/TSV (any delimiter and encoding), JSON Lines, JSON, SQL dump, XLSX/ODS; plain or in gzip, zstd or zip; a pipe or `-` (standard input) for text formats
    pub file: PathBuf,
    /// Print the report as JSON (schema: docs/scan-json.md)
    #[arg(long)]
    pub json: bool,
    /// Rows used to type the columns (all rows are counted, and checked against the types)
    #[arg(long, default_value_t = 10_000, value_parser = super::check::positive)]
    pub sample: u64,
    /// Do not check the types on every row (type on the sample, only count the rest)
    #[arg(long)]
    pub no_confirm: bool,
}

fn print_human(r: &ScanReport, color: bool) {
    let f = &r.format;
    let dialect = match f.delimiter {
        Some('\t') => ", delimiter tab".to_string(),
        Some(c) => format!(", delimiter '{c}'"),
        None => String::new(),
    };
    let compression = f
        .compression
        .and_then(|c| serde_json::to_value(c).ok())
        .and_then(|v| v.as_str().map(|s| format!(" ({s})")))
        .unwrap_or_default();
    println!(
        "{} {}{}, {}{}, {}",
        ui::paint(color, ui::Style::Bold, "format:"),
        f.format,
        compression,
        f.encoding,
        dialect,
        if f.has_header { "header" } else { "no header" }
    );
    for t in &r.tables {
        println!(
            "{} {} — {} records",
            ui::paint(color, ui::Style::Bold, "table:"),
            ui::escape(&t.name),
            t.rows
        );
        println!(
            "  {:>3}  {:<24} {:<16} {:>5} {:>6} {:>9} {:>6}  examples",
            "#", "column", "type", "conf", "fill", "distinct", "valid"
        );
        for c in &t.columns {
            let valid = c.confirmation.map_or("-".to_string(), |k| {
                format!("{:.0}%", k.valid_share * 100.0)
            });
            println!(
                "  {:>3}  {:<24} {:<16} {:>5.2} {:>5.0}% {:>9} {:>6}  {}",
                c.index + 1,
                truncate(&ui::escape(&c.name), 24),
                c.ty.as_str(),
                c.confidence,
                c.fill_rate * 100.0,
                c.distinct_estimate,
                valid,
                c.examples.join(", ")
            );
        }
        for c in &t.columns {
            if let Some(k) = c.confirmation.filter(|k| !k.confirmed) {
                println!(
                    "{} column {} looked like {} on the first rows, but only {:.1}% of its {} non-empty values in the whole table pass the {} check",
                    ui::paint(color, ui::Style::Yellow, "warning:"),
                    ui::escape(&c.name),
                    c.ty.as_str(),
                    k.valid_share * 100.0,
                    k.filled,
                    c.ty.as_str()
                );
            }
        }
    }
    let w = &r.warnings;
    for (n, what) in [
        (
            w.ragged_records,
            "records have a different number of fields than the header",
        ),
        (
            w.undecodable_records,
            "records hold bytes invalid in the detected encoding (shown as �)",
        ),
    ] {
        if n > 0 {
            println!(
                "{} {n} {what}",
                ui::paint(color, ui::Style::Yellow, "warning:")
            );
        }
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
    let bar = ui::FileProgress::start(global, &args.file, "reading and typing", "typing");
    let report = scan_path(
        &args.file,
        &ScanOptions {
            sample: args.sample,
            confirm: !args.no_confirm,
        },
    )?; // errors already name the file
    bar.finish();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report, ui::use_color(global));
    }
    Ok(ExitCode::SUCCESS)
}
