//! `leaktrace scan` as a user runs it: the whole-file check and its warning, masked output,
//! JSON, and exit codes on bad input.

use std::io::Write;
use std::process::Command;

fn leaktrace() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leaktrace"));
    c.arg("--color").arg("never");
    c
}

/// A NIR with its key.
fn nir(n: u64) -> String {
    format!("{n}{:02}", 97 - n % 97)
}

#[test]
fn a_column_the_rest_of_the_file_contradicts_is_reported_masked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "id;secu").unwrap();
    let mut nirs = Vec::new();
    for i in 0..30_000u64 {
        let v = if i < 12_000 {
            let v = nir(1_890_575_056_000 + i % 999 + 1);
            nirs.push(v.clone());
            v
        } else {
            format!("X{i}")
        };
        writeln!(f, "FT{i:09};{v}").unwrap();
    }
    drop(f);
    let out = leaktrace().arg("scan").arg(&path).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("warning: column secu looked like nir on the first rows, but only 40.0% of its 30000 non-empty values"),
        "{text}"
    );
    assert!(
        text.contains("1 89 05 ** *** ***"),
        "masked examples: {text}"
    );
    for v in &nirs {
        assert!(
            !text.contains(v.as_str()) && !text.contains(&v[..13]),
            "plaintext NIR in {text}"
        );
    }
    let out = leaktrace()
        .args(["scan", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secu = &json["tables"][0]["columns"][1];
    assert_eq!(secu["type"], "nir");
    assert_eq!(secu["confirmation"]["confirmed"], false);
    assert_eq!(secu["confirmation"]["filled"], 30_000);
    assert!((secu["confirmation"]["valid_share"].as_f64().unwrap() - 0.4).abs() < 1e-9);
    // --no-confirm: the sample's word only.
    let out = leaktrace()
        .args(["scan", "--json", "--no-confirm"])
        .arg(&path)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["tables"][0]["columns"][1]["confirmation"].is_null());
}

#[test]
fn bad_input_exits_non_zero_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, b"").unwrap();
    let out = leaktrace().arg("scan").arg(&empty).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("empty.csv"), "{err}");
    let missing = dir.path().join("missing.csv");
    let out = leaktrace().arg("scan").arg(&missing).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"));
    // A workbook that makes calamine panic inside: a format error, not a crash.
    let sheet = br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="ZZZZZZZZZZZZZZZZ1"/><sheetData><row r="1"><c r="ZZZZZZZZZZZZZZZZ1" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>"#;
    let bad = dir.path().join("bad.xlsx");
    std::fs::write(
        &bad,
        leaktrace_io::fuzzing::frame(leaktrace_io::fuzzing::Target::Xlsx, sheet),
    )
    .unwrap();
    let out = leaktrace().arg("scan").arg(&bad).output().unwrap();
    assert!(out.status.code().is_some(), "killed by a signal");
    assert_ne!(
        out.status.code(),
        Some(101),
        "panicked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
