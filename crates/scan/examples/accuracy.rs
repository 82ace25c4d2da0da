//! Column-typing precision and recall per type over every file the generator writes.
//!
//! `cargo run --release -p leaktrace-scan --example accuracy -- [PERSONS] [SEED]`

use std::collections::BTreeMap;

use leaktrace_scan::{scan_path, ScanOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let persons = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(50_000);
    let seeds: Vec<u64> = match args.next() {
        Some(s) => vec![s.parse()?],
        None => vec![1, 2, 3, 4, 5],
    };
    // (true type, predicted type) → count
    let mut confusion: BTreeMap<(String, String), u32> = BTreeMap::new();
    let (mut right, mut total) = (0u32, 0u32);
    for seed in &seeds {
        let dir = tempfile::tempdir()?;
        let cfg = leaktrace_synth::Config {
            persons,
            seed: *seed,
            ..Default::default()
        };
        leaktrace_synth::generate(&cfg, dir.path())?;
        let m = leaktrace_synth::read_manifest(dir.path())?;
        let mut files: Vec<_> = std::iter::once(&m.registry)
            .chain(&m.extracts)
            .map(|e| (e.file.clone(), e.columns.clone()))
            .collect();
        for s in leaktrace_synth::read_scenarios(dir.path())? {
            files.push((s.file, s.columns));
        }
        for (file, truth) in files {
            let r = scan_path(&dir.path().join(&file), &ScanOptions::default())?;
            for (c, t) in r.tables[0].columns.iter().zip(&truth) {
                total += 1;
                right += u32::from(c.ty == t.ty);
                *confusion
                    .entry((t.ty.to_string(), c.ty.to_string()))
                    .or_default() += 1;
            }
        }
    }
    println!(
        "{} seeds × {persons} persons: {right}/{total} columns typed right ({:.2} %)\n",
        seeds.len(),
        100.0 * f64::from(right) / f64::from(total)
    );
    let mut types: Vec<String> = confusion
        .keys()
        .flat_map(|(a, b)| [a.clone(), b.clone()])
        .collect();
    types.sort();
    types.dedup();
    println!("| type | columns | precision | recall |\n|---|---|---|---|");
    for t in &types {
        let tp = confusion.get(&(t.clone(), t.clone())).copied().unwrap_or(0);
        let actual: u32 = confusion
            .iter()
            .filter(|((a, _), _)| a == t)
            .map(|(_, n)| n)
            .sum();
        let predicted: u32 = confusion
            .iter()
            .filter(|((_, p), _)| p == t)
            .map(|(_, n)| n)
            .sum();
        let pct = |n: u32, d: u32| {
            if d == 0 {
                "—".to_string()
            } else {
                format!("{:.3}", f64::from(n) / f64::from(d))
            }
        };
        println!(
            "| {t} | {actual} | {} | {} |",
            pct(tp, predicted),
            pct(tp, actual)
        );
    }
    Ok(())
}
