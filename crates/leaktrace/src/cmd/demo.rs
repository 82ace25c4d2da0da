//! `leaktrace demo`: the whole chain on built-in synthetic data — generate a population with its
//! extracts and leak scenarios, enrol the registry and every extract into a fresh workspace (key
//! kept in a separate temporary directory), then analyse every scenario and score it against the
//! truth: verdict, rows linked, persons, F1.

use std::path::PathBuf;
use std::process::ExitCode;

use leaktrace_analyze::{analyze, eval, write_outputs, AnalyzeOptions};
use leaktrace_index::{EnrollOptions, Workspace};
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
    /// Keep the generated files and the workspace in this directory instead of a temporary one
    #[arg(long)]
    pub keep: Option<PathBuf>,
    /// Where to write the incident report of the forum sample (app_reshaped)
    #[arg(long, default_value = "leaktrace-demo-report")]
    pub report: PathBuf,
    /// When the demo breach "became known" (default now): the CNIL deadline is 72 h later
    #[arg(long, value_parser = super::incident::parse_discovered_at)]
    pub discovered_at: Option<String>,
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
    let key_dir = tempfile::Builder::new()
        .prefix("leaktrace-demo-key-")
        .tempdir()?;
    let cfg = Config {
        persons: args.persons,
        seed: args.seed,
        ..Config::default()
    };
    let started = std::time::Instant::now();
    let data = dir.join("data");
    let summary = super::synth::generate(&cfg, &data, global)?;
    super::synth::print_summary(&summary, color);
    println!("\ngenerated in {:.1} s", started.elapsed().as_secs_f64());

    // Enrol the registry and every extract.
    let t = std::time::Instant::now();
    let home = dir.join("workspace");
    let (mut ws, _) = Workspace::init(&home, Some(&key_dir.path().join("demo.key")))?;
    let manifest = leaktrace_synth::read_manifest(&data)?;
    let mut deliveries = vec![(manifest.registry.clone(), None)];
    deliveries.extend(
        manifest
            .extracts
            .iter()
            .map(|e| (e.clone(), Some(e.recipient.clone()))),
    );
    for (e, recipient) in &deliveries {
        let source = if recipient.is_none() {
            "registry"
        } else {
            e.source()
        };
        ws.enroll(
            &data.join(&e.file),
            &EnrollOptions {
                source: source.to_string(),
                recipient: recipient.clone(),
                as_of: Some(e.as_of.clone()),
                ..EnrollOptions::default()
            },
            &|_| {},
        )?;
    }
    let sources = ws.sources()?;
    println!(
        "\n{} {} sources, {} snapshots in {:.1} s (keyed fingerprints only; key kept apart)",
        ui::paint(color, ui::Style::Bold, "enrolled:"),
        sources.len(),
        sources.iter().map(|s| s.snapshots.len()).sum::<usize>(),
        t.elapsed().as_secs_f64()
    );

    // Analyse every scenario.
    println!(
        "\n{}",
        ui::paint(
            color,
            ui::Style::Bold,
            "analysis of every leak (against the truth):"
        )
    );
    println!(
        "  {:<18} {:<11} {:<11} {:>6} {:>7} {:>8} {:>6} {:>6}  attributed to (posterior) · extraction window",
        "leak", "expected", "verdict", "rows", "linked", "persons", "F1", "typed"
    );
    let index = ws.load(true)?;
    let mut wrong = 0;
    let mut attributed = (0, 0);
    let mut report = None;
    for leak in &summary.leaks {
        let (a, links) = analyze(
            &index,
            &data.join(&leak.file),
            &AnalyzeOptions::default(),
            &|_| {},
        )?;
        if leak.name == "app_reshaped" {
            write_outputs(&args.report, &a, &links)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let day = leaktrace_pii::date::Ymd::from_days((now / 86_400) as i64);
            let at = args.discovered_at.clone().unwrap_or_else(|| {
                format!(
                    "{}T{:02}:{:02}Z",
                    day.iso(),
                    now % 86_400 / 3600,
                    now % 3600 / 60
                )
            });
            let incident = leaktrace_report::Incident {
                organisation: Some("Agence démo (données synthétiques)".into()),
                contact: Some("dpo@agence-demo.invalid".into()),
                ..leaktrace_report::Incident::default()
            };
            report = Some(leaktrace_report::write_report(
                &args.report,
                &a,
                &incident,
                Some(&at),
            )?);
        }
        let truth = eval::read_truth(&data.join(&leak.truth))?;
        let s = eval::score(&links, &truth);
        let typed = a
            .columns
            .iter()
            .zip(&leak.columns)
            .filter(|(c, t)| c.ty == t.ty)
            .count();
        let ok = a.verdict.status.as_str() == leak.verdict;
        if !ok {
            wrong += 1;
        }
        let top = &a.attribution.candidates[0];
        let named: Vec<String> = top
            .snapshots
            .iter()
            .map(|x| format!("{}@{}", x.source, x.as_of))
            .collect();
        let named = if named.is_empty() {
            top.source.clone()
        } else {
            named.join(" + ")
        };
        let truth: Vec<String> = leak
            .sources
            .iter()
            .map(|e| {
                let src = e
                    .source
                    .trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
                format!("{src}@{}", e.as_of)
            })
            .collect();
        let right = !truth.is_empty() && {
            let mut got: Vec<String> = named.split(" + ").map(str::to_string).collect();
            let mut want = truth.clone();
            got.sort();
            want.sort();
            got == want
        };
        if !truth.is_empty() {
            attributed.1 += 1;
            if right {
                attributed.0 += 1;
            }
        }
        let w = &a.extraction_window;
        let window = match (&w.from, &w.to) {
            (None, None) => "undated".to_string(),
            (None, Some(t)) => format!("before {t}"),
            (Some(f), None) => format!("after {f}"),
            (Some(f), Some(t)) => format!("{f} … {t}"),
        };
        let shown = if a.attribution.rows_used == 0 {
            "nothing to attribute".to_string()
        } else {
            format!("{named} ({:.3})", top.posterior)
        };
        println!(
            "  {:<18} {:<11} {:<11} {:>6} {:>7} {:>8} {:>6.3} {:>6}  {} · {window}",
            leak.name,
            leak.verdict,
            ui::paint(
                color,
                if ok { ui::Style::Green } else { ui::Style::Red },
                &format!("{:<11}", a.verdict.status.as_str())
            ),
            a.linkage.rows,
            a.linkage.rows_linked,
            a.linkage.persons_affected,
            s.f1,
            format!("{typed}/{}", leak.columns.len()),
            if truth.is_empty() {
                shown
            } else {
                ui::paint(
                    color,
                    if right {
                        ui::Style::Green
                    } else {
                        ui::Style::Red
                    },
                    &shown,
                )
            },
        );
    }
    println!(
        "\n{} of {} verdicts right, {} of {} leaks attributed to their true source(s); whole chain in {:.1} s{}",
        summary.leaks.len() - wrong,
        summary.leaks.len(),
        attributed.0,
        attributed.1,
        started.elapsed().as_secs_f64(),
        if args.keep.is_some() {
            String::new()
        } else {
            " (temporary directories removed on exit; --keep DIR to keep them)".to_string()
        }
    );
    if let Some(r) = report {
        println!(
            "\n{} {} (severity {}, Art. 34 {}; CNIL deadline {}) — drafts art33_fr/art33_en/art34_fr and affected_persons.csv beside it",
            ui::paint(color, ui::Style::Bold, "incident report of the forum sample:"),
            r.html.display(),
            r.severity.level,
            if r.severity.art34 { "applies" } else { "does not apply" },
            r.deadline.map_or_else(String::new, |d| d.deadline)
        );
    }
    Ok(ExitCode::SUCCESS)
}
