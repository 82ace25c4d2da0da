//! `leaktrace analyze`: is this leaked file ours, and who is in it?

use std::path::PathBuf;
use std::process::ExitCode;

use leaktrace_analyze::{analyze, write_outputs, Analysis, AnalyzeOptions, Status};
use leaktrace_pii::ColumnType;

use crate::{ui, Global};

/// Link a leaked file's rows to enrolled persons and judge it: authentic, partial, recombined or
/// not ours, with the evidence and the persons affected per data category.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The leaked file: any format `scan` reads
    pub file: PathBuf,
    /// Output directory for matches.csv and analysis.json (default ./leaktrace-report-<file stem>)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a column's type: COL=TYPE (repeatable)
    #[arg(long = "column", value_parser = super::enroll::parse_override)]
    pub columns: Vec<(String, ColumnType)>,
    /// Match probability from which a row counts as linked
    #[arg(long, default_value_t = 0.5, value_parser = super::check::open_unit)]
    pub threshold: f64,
    /// Print analysis.json to stdout
    #[arg(long)]
    pub json: bool,
    /// Incident file (TOML: organisation, contact, discovered_at, nature, measures, [severity])
    #[arg(long)]
    pub incident: Option<PathBuf>,
    /// When the breach became known (YYYY-MM-DDTHH:MM[+01:00]): the CNIL deadline is 72 h later
    #[arg(long, value_parser = super::incident::parse_discovered_at)]
    pub discovered_at: Option<String>,
}

/// Print the human summary of an analysis.
pub fn print_human(a: &Analysis, out: &std::path::Path, color: bool) {
    let style = match a.verdict.status {
        Status::Authentic | Status::Partial => ui::Style::Red,
        Status::Recombined => ui::Style::Yellow,
        Status::NotOurs => ui::Style::Green,
    };
    println!("{}", ui::paint(color, style, &a.verdict.summary));
    let f = &a.file;
    println!(
        "\n{} {} ({} rows, {}, {}; sha256 {}…)",
        ui::paint(color, ui::Style::Bold, "file:"),
        ui::escape(&f.name),
        f.rows,
        f.format,
        f.encoding,
        &f.sha256[..16]
    );
    let cols: Vec<String> = a
        .columns
        .iter()
        .map(|c| format!("{}:{}", ui::escape(&c.name), c.ty.as_str()))
        .collect();
    println!(
        "{} {}",
        ui::paint(color, ui::Style::Bold, "columns:"),
        cols.join(", ")
    );
    let l = &a.linkage;
    println!(
        "{} {} rows linked, {} persons, {} duplicate rows, {} candidate pairs; against {}",
        ui::paint(color, ui::Style::Bold, "linkage:"),
        l.rows_linked,
        l.persons_affected,
        l.duplicate_rows,
        l.candidate_pairs,
        a.index.snapshots.join(", ")
    );
    let agree: Vec<String> = l
        .field_agreement
        .iter()
        .map(|(k, v)| format!("{k} {:.0}%", v * 100.0))
        .collect();
    if !agree.is_empty() {
        println!("  field agreement among linked rows: {}", agree.join(", "));
    }
    println!("{}", ui::paint(color, ui::Style::Bold, "evidence:"));
    for e in &a.verdict.explanation {
        println!("  - {e}");
    }
    if !a.categories.is_empty() {
        let cats: Vec<String> = a
            .categories
            .iter()
            .map(|c| format!("{} {}", c.ty.as_str(), c.persons))
            .collect();
        println!(
            "{} {}",
            ui::paint(color, ui::Style::Bold, "persons affected per category:"),
            cats.join(", ")
        );
    }
    if let Some(ctx) = &a.context {
        if let (Some((from, to)), Some(peak)) = (ctx.span(0.99), ctx.peak()) {
            let span = if from == to {
                format!("in {from}")
            } else {
                format!("between {from} and {to}")
            };
            println!(
                "{} 99 % of the affected persons have {} {span}; most in {} ({} persons){}",
                ui::paint(color, ui::Style::Bold, "context:"),
                ctx.attribute,
                peak.value,
                peak.persons,
                if ctx.persons_without_value > 0 {
                    format!("; {} without a value", ctx.persons_without_value)
                } else {
                    String::new()
                }
            );
        }
    }
    let at = &a.attribution;
    println!(
        "{} {}",
        ui::paint(color, ui::Style::Bold, "attribution:"),
        at.explanation
    );
    for c in at.candidates.iter().take(4) {
        println!(
            "  {:>7.3}  {} — {} (evidence {:+.1} nats)",
            c.posterior, c.source, c.recipient, c.log_likelihood_ratio
        );
    }
    println!(
        "{} {}",
        ui::paint(color, ui::Style::Bold, "extraction date:"),
        a.extraction_window.explanation
    );
    println!(
        "\nwritten: {}/matches.csv, {}/analysis.json ({:.1} s: linking {:.1} s, model {:.1} s, \
         summaries {:.1} s)",
        out.display(),
        out.display(),
        a.seconds,
        a.phases.link,
        a.phases.model,
        a.phases.summary
    );
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    // The incident file is checked before any work: a typo must not cost a whole analysis.
    let incident = match &args.incident {
        Some(p) => leaktrace_report::Incident::load(p)?,
        None => leaktrace_report::Incident::default(),
    };
    super::check::regular_file(&args.file, "analyze")?;
    let ws = super::open_workspace(global)?;
    let index = ws.load(true)?;
    let opts = AnalyzeOptions {
        columns: args.columns.clone(),
        threshold: Some(args.threshold),
        stop: None,
    };
    let bar = ui::FileProgress::start(
        global,
        &args.file,
        "reading and linking",
        "linking, model, summaries",
    );
    let (analysis, links) = analyze(&index, &args.file, &opts, &|_| {})?;
    bar.phase("report");
    for c in &analysis.columns {
        if let Some(share) = c.override_valid_share {
            super::warn_override(&c.name, c.ty, share, None);
        }
    }
    // The audit trail: every analysis is a line in the catalog (when, which file, how many
    // rows), so that testing guesses with the key leaves a trace (docs/index-format.md).
    ws.record_analysis(&leaktrace_index::AnalysisRecord {
        at: String::new(),
        file_name: analysis.file.name.clone(),
        file_sha256: analysis.file.sha256.clone(),
        rows: analysis.file.rows,
        rows_linked: analysis.linkage.rows_linked,
        persons: analysis.linkage.persons_affected,
    })?;
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .file
            .file_stem()
            .map_or_else(|| "leak".to_string(), |s| s.to_string_lossy().to_string());
        PathBuf::from(format!("leaktrace-report-{stem}"))
    });
    write_outputs(&out, &analysis, &links)?;
    let report =
        leaktrace_report::write_report(&out, &analysis, &incident, args.discovered_at.as_deref())?;
    bar.finish();
    if args.json {
        // analysis.json and the report's decisions (docs/analysis-json.md, `decisions`).
        let decisions =
            leaktrace_report::decisions(&analysis, &incident, args.discovered_at.as_deref())?;
        let mut v = serde_json::to_value(&analysis)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("decisions".into(), serde_json::to_value(&decisions)?);
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if !global.quiet {
        print_human(&analysis, &out, ui::use_color(global));
        println!(
            "report: {} (severity {}, Art. 34 {}{})",
            report.html.display(),
            report.severity.level,
            if report.severity.art34 {
                "applies"
            } else {
                "does not apply"
            },
            report.deadline.map_or_else(String::new, |d| format!(
                "; notify the CNIL by {}",
                d.deadline
            ))
        );
    }
    Ok(ExitCode::SUCCESS)
}
