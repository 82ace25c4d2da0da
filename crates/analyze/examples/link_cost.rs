//! The analysis of one leak repeated in one process, to compare linkers with less noise than
//! whole runs (bench/README.md, "Before and after issue 14's linker"): the index is opened
//! once, then the leak is analysed `RUNS` times; per run, wall time, the process's CPU time
//! and the phases. Same inputs → same analysis, so the last runs show the warm cost.
//!
//! Usage: `link_cost HOME KEY_FILE LEAK [RUNS]`

use std::path::Path;
use std::time::Instant;

use leaktrace_analyze::{analyze, AnalyzeOptions};
use leaktrace_index::Workspace;

/// The allocator of the `leaktrace` binary, so that costs compare.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU time of this process so far (user + system), from /proc/self/stat, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 4 {
        eprintln!("usage: link_cost HOME KEY_FILE LEAK [RUNS]");
        std::process::exit(2);
    }
    let runs: usize = a.get(4).and_then(|r| r.parse().ok()).unwrap_or(5);
    let ws = Workspace::open(Path::new(&a[1]), Some(Path::new(&a[2]))).expect("workspace");
    let (t, c) = (Instant::now(), cpu_seconds());
    let index = ws.load(true).expect("index");
    println!(
        "load (verified): wall {:.3} s, cpu {:.2} s",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c
    );
    let opts = AnalyzeOptions {
        threshold: Some(0.5),
        ..Default::default()
    };
    for run in 1..=runs {
        let (t, c) = (Instant::now(), cpu_seconds());
        let (an, links) = analyze(&index, Path::new(&a[3]), &opts, &|_| {}).expect("analysis");
        let linked = links.iter().filter(|l| l.person_id.is_some()).count();
        println!(
            "run {run}: wall {:.3} s, cpu {:.2} s; link {:.2} s, model {:.2} s, summaries {:.2} s; {linked} rows linked",
            t.elapsed().as_secs_f64(),
            cpu_seconds() - c,
            an.phases.link,
            an.phases.model,
            an.phases.summary
        );
    }
}
