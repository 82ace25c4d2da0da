//! Types chosen on the sample are checked on every row of the file: streamed formats, plain
//! CSV, and large CSVs checked on every core.

use std::io::Write;

use leaktrace_pii::{nir, ColumnType};
use leaktrace_scan::{scan_path, ScanOptions, TableReport};

fn scan(path: &std::path::Path, sample: u64, confirm: bool) -> TableReport {
    let r = scan_path(path, &ScanOptions { sample, confirm }).unwrap();
    assert_eq!(r.tables.len(), 1);
    r.tables.into_iter().next().unwrap()
}

/// Rows whose NIR column is valid for the first `good` rows and garbage after.
fn rows(n: usize, good: usize) -> Vec<(String, String, String)> {
    (0..n)
        .map(|i| {
            let id = format!("FT{i:09}");
            let v = if i < good {
                nir::build(
                    1 + (i % 2) as u8,
                    80 + (i % 19) as u8,
                    1 + (i % 12) as u8,
                    "75056",
                    1 + (i % 900) as u16,
                )
                .unwrap()
            } else {
                format!("X{i}")
            };
            (id, v, ["75001", "69007", "13001"][i % 3].to_string())
        })
        .collect()
}

#[test]
fn a_type_the_rest_of_the_file_contradicts_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("leak.csv");
    let mut f = std::fs::File::create(&csv).unwrap();
    writeln!(f, "id;secu;cp").unwrap();
    for (id, v, cp) in rows(2_000, 200) {
        writeln!(f, "{id};{v};{cp}").unwrap();
    }
    drop(f);
    let t = scan(&csv, 200, true);
    assert_eq!(t.rows, 2_000);
    let secu = &t.columns[1];
    assert_eq!(secu.ty, ColumnType::Nir, "typed on the sample");
    let k = secu.confirmation.expect("checked");
    assert_eq!((k.rows, k.filled), (2_000, 2_000));
    assert!((k.valid_share - 0.1).abs() < 1e-9, "{k:?}");
    assert!(!k.confirmed);
    assert!(
        secu.confidence <= 0.1,
        "confidence lowered: {}",
        secu.confidence
    );
    // The postal codes hold on every row.
    let cp = t.columns[2].confirmation.unwrap();
    assert!(cp.confirmed && cp.valid_share == 1.0 && cp.filled == 2_000);
    // Without confirmation: the sample's word only.
    let t = scan(&csv, 200, false);
    assert!(t.columns.iter().all(|c| c.confirmation.is_none()));
    assert_eq!(t.columns[1].ty, ColumnType::Nir);
    assert!(t.columns[1].confidence > 0.9);
}

#[test]
fn streamed_json_lines_are_checked_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leak.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    for (id, v, cp) in rows(30_000, 29_000) {
        writeln!(f, "{{\"id\":\"{id}\",\"secu\":\"{v}\",\"cp\":\"{cp}\"}}").unwrap();
    }
    drop(f);
    let t = scan(&path, 1_000, true);
    assert_eq!(t.rows, 30_000);
    let k = t.columns[1].confirmation.unwrap();
    assert_eq!(k.filled, 30_000);
    assert!((k.valid_share - 29.0 / 30.0).abs() < 1e-4, "{k:?}");
    assert!(k.confirmed, "96.7 % valid is consistent with the sample");
}

#[test]
fn a_large_csv_is_checked_on_every_core_like_the_streaming_reader() {
    // ≥ 64 MiB of plain CSV takes the parallel path; the same rows gzip-free but under the
    // size threshold would stream. Compare the parallel counts with what the rows say.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    writeln!(f, "email,cp,note").unwrap();
    let (mut n, mut bytes, mut bad) = (0u64, 0usize, 0u64);
    let pad = "x".repeat(40);
    while bytes < (65 << 20) {
        let cp = if n % 10 == 3 {
            bad += 1;
            "ABCDE"
        } else {
            "75011"
        };
        let line = format!("p{n}@exemple.fr,{cp},{pad}\n");
        bytes += line.len();
        f.write_all(line.as_bytes()).unwrap();
        n += 1;
    }
    drop(f);
    let t = scan(&csv, 10_000, true);
    assert_eq!(t.rows, n);
    assert_eq!(t.columns[0].ty, ColumnType::Email);
    let e = t.columns[0].confirmation.unwrap();
    assert_eq!((e.rows, e.filled, e.valid_share), (n, n, 1.0));
    let cp = t.columns[1].confirmation.unwrap();
    assert_eq!(t.columns[1].ty, ColumnType::PostalCode);
    assert_eq!(cp.filled, n);
    let want = (n - bad) as f64 / n as f64;
    assert!((cp.valid_share - want).abs() < 1e-4, "{cp:?} vs {want}");
    assert!(cp.confirmed);
}

#[test]
fn an_empty_column_reports_no_share() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("leak.csv");
    let mut f = std::fs::File::create(&csv).unwrap();
    writeln!(f, "id;email;telephone").unwrap();
    for i in 0..500 {
        writeln!(f, "FT{i:09};p{i}@exemple.fr;").unwrap();
    }
    drop(f);
    let t = scan(&csv, 100, true);
    assert!(t.columns[1]
        .confirmation
        .is_some_and(|k| k.confirmed && k.filled == 500));
    assert_eq!(t.columns[2].fill_rate, 0.0);
    assert!(t.columns[2].confirmation.is_none(), "{:?}", t.columns[2]);
}
