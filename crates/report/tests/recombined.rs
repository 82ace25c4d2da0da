//! The drafts of a stitched file (names of one registry person, e-mail and phone of another):
//! they say the file is recombined and which fragments of which persons it holds, and count
//! each person for their own data only. Snapshot-tested.

use std::path::Path;

use leaktrace_analyze::{analyze, AnalyzeOptions, Status};
use leaktrace_index::{EnrollOptions, Workspace};
use leaktrace_report::{write_report, Incident};
use leaktrace_synth::{generate, read_manifest, Config};

/// A synthetic population with its registry enrolled.
fn registry_workspace(data: &Path, home: &Path, key: &Path) -> Workspace {
    generate(
        &Config {
            persons: 2_000,
            seed: 23,
            ..Config::default()
        },
        data,
    )
    .unwrap();
    let (mut ws, _) = Workspace::init(home, Some(key)).unwrap();
    let m = read_manifest(data).unwrap();
    ws.enroll(
        &data.join(&m.registry.file),
        &EnrollOptions {
            source: "registry".into(),
            as_of: Some(m.registry.as_of.clone()),
            ..EnrollOptions::default()
        },
        &|_| {},
    )
    .unwrap();
    ws
}

#[test]
fn drafts_of_a_stitched_file_name_its_fragments() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let ws = registry_workspace(&data, &tmp.path().join("ws"), &tmp.path().join("k"));
    let index = ws.load(false).unwrap();
    let mut rdr = csv::Reader::from_path(data.join("registry.csv")).unwrap();
    let header = rdr.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (nom, prenom, email, mobile) = (col("nom"), col("prenom"), col("email"), col("mobile"));
    let reg: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let leak = tmp.path().join("stitched.csv");
    let mut w = csv::Writer::from_path(&leak).unwrap();
    w.write_record(["nom", "prenom", "email", "telephone"])
        .unwrap();
    let n = reg.len();
    let mut rows = 0;
    for i in 0..n {
        let (a, b) = (&reg[i], &reg[(i + n / 2) % n]);
        if a[nom] == b[nom] || a[prenom] == b[prenom] {
            continue;
        }
        w.write_record([&a[nom], &a[prenom], &b[email], &b[mobile]])
            .unwrap();
        rows += 1;
        if rows == 200 {
            break;
        }
    }
    w.flush().unwrap();
    let (a, _) = analyze(&index, &leak, &AnalyzeOptions::default(), &|_| {}).unwrap();
    assert_eq!(a.verdict.status, Status::Recombined, "{:#?}", a.verdict);
    let out = tmp.path().join("report");
    write_report(
        &out,
        &a,
        &Incident::default(),
        Some("2026-11-20T09:30+01:00"),
    )
    .unwrap();
    for name in ["art33_fr.md", "art33_en.md", "art34_fr.md"] {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        insta::assert_snapshot!(format!("recombined_{name}"), text);
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("real data present (fragments)"));
    // The owners of the e-mails and phones are listed with those only.
    let affected = std::fs::read_to_string(out.join("affected_persons.csv")).unwrap();
    let with_contact = affected
        .lines()
        .filter(|l| l.contains("email") && l.contains("phone"))
        .count();
    assert!(with_contact >= 180, "{affected}");
    assert!(
        affected
            .lines()
            .filter(|l| l.contains("email"))
            .all(|l| !l.contains("last_name")),
        "{affected}"
    );
}
