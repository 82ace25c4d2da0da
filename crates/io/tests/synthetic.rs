//! Every file the generator writes (CSV/TSV, JSON Lines, JSON, SQL, XLSX) is read back with the right dialect, header
//! detection, encoding and record count.

use leaktrace_io::{open, ReadOptions};

fn count(path: &std::path::Path) -> (leaktrace_io::FileInfo, Vec<String>, u64) {
    let mut r = open(path, &ReadOptions::default()).unwrap();
    let mut n = 0;
    while let Some(x) = r.next_record() {
        assert_eq!(x.unwrap().index, n);
        n += 1;
    }
    assert_eq!(r.tables().len(), 1, "{}", path.display());
    (r.info().clone(), r.tables()[0].columns.clone(), n)
}

#[test]
fn reads_every_synthetic_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = leaktrace_synth::Config {
        persons: 5_000,
        leak_rows: 400,
        ..Default::default()
    };
    leaktrace_synth::generate(&cfg, dir.path()).unwrap();
    let m = leaktrace_synth::read_manifest(dir.path()).unwrap();
    for e in std::iter::once(&m.registry).chain(&m.extracts) {
        let (info, cols, n) = count(&dir.path().join(&e.file));
        assert_eq!(n, e.rows, "{}", e.file);
        assert!(info.has_header, "{}", e.file);
        assert_eq!(info.format, e.format, "{}", e.file);
        assert_eq!(
            info.delimiter.map(|d| d.to_string()),
            e.delimiter,
            "{}",
            e.file
        );
        if e.format != "xlsx" {
            assert_eq!(info.encoding, e.encoding, "{}", e.file);
        }
        let names: Vec<&str> = e.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cols, names, "{}", e.file);
    }
    for s in leaktrace_synth::read_scenarios(dir.path()).unwrap() {
        let (info, cols, n) = count(&dir.path().join(&s.file));
        assert_eq!(info.format, s.format, "{}", s.file);
        assert_eq!(n, s.rows, "{}", s.file);
        assert_eq!(info.has_header, s.header, "{}", s.file);
        let names: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(cols, names, "{}", s.file);
    }
}
