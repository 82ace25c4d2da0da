//! The drafts of a stitched file (names of one registry person, e-mail and phone of another):
//! they say the file is recombined and which fragments of which persons it holds, and count
//! each person for their own data only. Snapshot-tested.

mod common;

use common::{registry_workspace, stitched_names_and_contacts};
use leaktrace_analyze::{analyze, AnalyzeOptions, Status};
use leaktrace_report::{write_report, Incident};

#[test]
fn drafts_of_a_stitched_file_name_its_fragments() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let ws = registry_workspace(&data, &tmp.path().join("ws"), &tmp.path().join("k"));
    let index = ws.load(false).unwrap();
    let leak = tmp.path().join("stitched.csv");
    stitched_names_and_contacts(&data, &leak, 200);
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
