//! Column-typing accuracy against the generator's ground truth: the registry, every extract and
//! every leak (CSV/TSV, JSON Lines, JSON, SQL, XLSX).

use leaktrace_scan::{scan_path, ScanOptions};

#[test]
fn types_every_synthetic_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = leaktrace_synth::Config {
        persons: 5_000,
        leak_rows: 500,
        ..Default::default()
    };
    leaktrace_synth::generate(&cfg, dir.path()).unwrap();
    let m = leaktrace_synth::read_manifest(dir.path()).unwrap();
    let mut files: Vec<(String, Vec<leaktrace_synth::ColumnTruth>)> = Vec::new();
    for e in std::iter::once(&m.registry).chain(&m.extracts) {
        files.push((e.file.clone(), e.columns.clone()));
    }
    for s in leaktrace_synth::read_scenarios(dir.path()).unwrap() {
        files.push((s.file.clone(), s.columns.clone()));
    }
    let (mut right, mut total) = (0, 0);
    let mut wrong = Vec::new();
    for (file, truth) in &files {
        let r = scan_path(&dir.path().join(file), &ScanOptions::default()).unwrap();
        assert_eq!(r.tables.len(), 1, "{file}");
        let cols = &r.tables[0].columns;
        assert_eq!(cols.len(), truth.len(), "{file}");
        // Typed on 1,000 rows, every type holds on the whole file (real data, no contradiction).
        let small = scan_path(
            &dir.path().join(file),
            &ScanOptions {
                sample: 1_000,
                confirm: true,
            },
        )
        .unwrap();
        for c in &small.tables[0].columns {
            if let Some(k) = c.confirmation {
                assert!(
                    k.confirmed,
                    "{file}:{} {} not confirmed: {k:?}",
                    c.name, c.ty
                );
                assert_eq!(k.rows, r.tables[0].rows, "{file}:{}", c.name);
            }
        }
        for (c, t) in cols.iter().zip(truth) {
            total += 1;
            if c.ty == t.ty {
                right += 1;
            } else {
                wrong.push(format!("{file}:{} expected {} got {}", t.name, t.ty, c.ty));
            }
        }
    }
    let acc = f64::from(right) / f64::from(total);
    eprintln!(
        "column typing: {right}/{total} right ({:.2} %)",
        acc * 100.0
    );
    assert!(
        acc >= 0.99,
        "accuracy {acc:.3} ({right}/{total}); wrong: {wrong:#?}"
    );
}
