//! `leaktrace enroll`: fingerprint a source (the registry or an extract) into the index.

use std::path::PathBuf;
use std::process::ExitCode;

use leaktrace_index::{EnrollOptions, EnrollReport};
use leaktrace_pii::ColumnType;

use crate::{ui, Global};

/// Enrol a file as a snapshot of a source: every row becomes keyed fingerprints of its person.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file: any format `scan` reads
    pub file: PathBuf,
    /// Source name, e.g. `registry` or `provider_docs`
    #[arg(long)]
    pub source: String,
    /// Who received this extract (omit for the registry itself)
    #[arg(long)]
    pub recipient: Option<String>,
    /// Date the data was true (extraction date), YYYY-MM-DD; default today
    #[arg(long, value_parser = super::check::date)]
    pub as_of: Option<String>,
    /// Column holding the person id (name, col_N or number); found automatically otherwise
    #[arg(long)]
    pub id_column: Option<String>,
    /// Override a column's type: COL=TYPE (repeatable), e.g. --column tel=phone
    #[arg(long = "column", value_parser = parse_override)]
    pub columns: Vec<(String, ColumnType)>,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

/// Parse `COL=TYPE`.
pub fn parse_override(s: &str) -> Result<(String, ColumnType), String> {
    let (col, ty) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("{s:?}: expected COL=TYPE"))?;
    let ty: ColumnType = ty.trim().parse().map_err(|_| {
        format!(
            "{ty:?} is not a column type (one of: {})",
            ColumnType::ALL.map(|t| t.as_str()).join(", ")
        )
    })?;
    Ok((col.trim().to_string(), ty))
}

fn print_human(r: &EnrollReport, secs: f64, color: bool) {
    let s = &r.snapshot;
    println!(
        "{} {} as of {}{}: {} rows, {} persons, {} fingerprints, segment {:.1} MB ({} B/person), {:.1} s",
        ui::paint(color, ui::Style::Bold, "enrolled"),
        s.source,
        s.as_of,
        s.recipient
            .as_ref()
            .map(|r| format!(" (recipient {r})"))
            .unwrap_or_default(),
        s.rows,
        s.persons,
        s.fingerprints,
        s.segment_bytes as f64 / 1e6,
        s.segment_bytes / s.persons.max(1),
        secs
    );
    println!(
        "  id column: {}; read+fingerprint {:.1} s, sort+write+sync {:.1} s",
        ui::escape(&s.id_column),
        r.timings.stream,
        r.timings.finish
    );
    for c in &s.profile.columns {
        let styles: Vec<String> = c
            .styles
            .iter()
            .map(|(k, v)| format!("{k} {:.0}%", v * 100.0))
            .collect();
        println!(
            "  {:>3}  {:<22} {:<16}{} {}",
            c.index + 1,
            ui::escape(&c.name),
            c.ty.as_str(),
            if c.overridden { " (--column)" } else { "" },
            styles.join(", ")
        );
    }
    for (n, what) in [
        (
            r.skipped_records,
            "records of other tables were not enrolled",
        ),
        (
            r.ragged_records,
            "records had a different number of fields than the header",
        ),
        (
            r.undecodable_records,
            "records held bytes invalid in the detected encoding",
        ),
    ] {
        if n > 0 {
            println!(
                "  {} {n} {what}",
                ui::paint(color, ui::Style::Yellow, "warning:")
            );
        }
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    super::check::regular_file(&args.file, "enroll")?;
    let mut ws = super::open_workspace(global)?;
    let opts = EnrollOptions {
        source: args.source.clone(),
        recipient: args.recipient.clone(),
        as_of: args.as_of.clone(),
        id_column: args.id_column.clone(),
        columns: args.columns.clone(),
        canary: false,
    };
    let bar = ui::FileProgress::start(
        global,
        &args.file,
        "reading and fingerprinting",
        "sorting and writing the segment",
    );
    let started = std::time::Instant::now();
    let report = ws.enroll(&args.file, &opts, &|_| {});
    bar.finish();
    let report = report?;
    for c in &report.columns {
        if let Some(k) = c.confirmation {
            super::warn_override(&c.name, c.ty, k.valid_share, Some(k.filled));
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !global.quiet {
        print_human(
            &report,
            started.elapsed().as_secs_f64(),
            ui::use_color(global),
        );
    }
    Ok(ExitCode::SUCCESS)
}
