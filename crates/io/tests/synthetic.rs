//! Every delimited file the generator writes is read back with the right dialect, header
//! detection, encoding and record count.

use leaktrace_io::{open, ReadOptions};

fn count(path: &std::path::Path) -> (leaktrace_io::FileInfo, Vec<String>, u64) {
    let mut r = open(path, &ReadOptions::default()).unwrap();
    let mut n = 0;
    while let Some(x) = r.next_record() {
        x.unwrap();
        n += 1;
    }
    (r.info().clone(), r.columns().to_vec(), n)
}

#[test]
fn reads_every_synthetic_csv() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = leaktrace_synth::Config {
        persons: 5_000,
        leak_rows: 400,
        ..Default::default()
    };
    leaktrace_synth::generate(&cfg, dir.path()).unwrap();
    let m = leaktrace_synth::read_manifest(dir.path()).unwrap();
    for e in std::iter::once(&m.registry).chain(&m.extracts) {
        if e.format != "csv" {
            continue;
        }
        let (info, cols, n) = count(&dir.path().join(&e.file));
        assert_eq!(n, e.rows, "{}", e.file);
        assert!(info.has_header, "{}", e.file);
        assert_eq!(Some(info.delimiter.to_string()), e.delimiter, "{}", e.file);
        assert_eq!(info.encoding, e.encoding, "{}", e.file);
        let names: Vec<&str> = e.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cols, names, "{}", e.file);
    }
    for s in leaktrace_synth::read_scenarios(dir.path()).unwrap() {
        if s.format != "csv" {
            continue;
        }
        let (info, cols, n) = count(&dir.path().join(&s.file));
        assert_eq!(n, s.rows, "{}", s.file);
        assert_eq!(info.has_header, s.header, "{}", s.file);
        let names: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cols, names, "{}", s.file);
    }
}
