//! FEBRL4 (the public record-linkage benchmark vendored in `data/febrl/`, BSD-3): enrol
//! `dataset4a.csv` (5,000 Australian records, id column `rec_id`), analyse `dataset4b.csv`
//! (one corrupted duplicate of each, `rec-N-dup-0` ↔ `rec-N-org`) with no column override, and
//! score the links against that truth. Nothing in the linker knows this schema: `soc_sec_id` is
//! typed `identifier` from its header and values, suburbs and postcodes are compared as text,
//! dates read as `YYYYMMDD`.

use std::path::{Path, PathBuf};

use leaktrace_analyze::{analyze, AnalyzeOptions};
use leaktrace_index::{EnrollOptions, Workspace};
use leaktrace_pii::ColumnType;

/// Floors, with some margin under the measured figures (bench/README.md: 5000 of 5000 linked,
/// no false link).
const MIN_PRECISION: f64 = 0.999;
const MIN_RECALL: f64 = 0.995;

fn febrl(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/febrl")
        .join(name)
}

/// The rec_id of every record of `file`, in order.
fn rec_ids(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').next().unwrap().trim().to_string())
        .collect()
}

#[test]
fn febrl4_links_without_any_mapping() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut ws, _) = Workspace::init(&tmp.path().join("ws"), Some(&tmp.path().join("k"))).unwrap();
    let enrolled = ws
        .enroll(
            &febrl("dataset4a.csv"),
            &EnrollOptions {
                source: "febrl4a".into(),
                as_of: Some("2026-01-01".into()),
                ..EnrollOptions::default()
            },
            &|_| {},
        )
        .unwrap();
    assert_eq!(enrolled.snapshot.id_column, "rec_id");
    let index = ws.load(true).unwrap();
    let (a, links) = analyze(
        &index,
        &febrl("dataset4b.csv"),
        &AnalyzeOptions::default(),
        &|_| {},
    )
    .unwrap();
    let ty = |name: &str| {
        a.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.ty)
            .unwrap_or(ColumnType::Unknown)
    };
    assert_eq!(ty("soc_sec_id"), ColumnType::Identifier);
    assert_eq!(ty("date_of_birth"), ColumnType::BirthDate);
    assert_eq!(ty("suburb"), ColumnType::Commune);
    let truth: Vec<String> = rec_ids(&febrl("dataset4b.csv"))
        .into_iter()
        .map(|id| id.replace("-dup-0", "-org"))
        .collect();
    assert_eq!(links.len(), truth.len());
    let (mut tp, mut fp) = (0usize, 0usize);
    for l in &links {
        match &l.person_id {
            Some(p) if *p == truth[l.row as usize] => tp += 1,
            Some(_) => fp += 1,
            None => {}
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / truth.len() as f64;
    eprintln!("FEBRL4: {tp} true links, {fp} false; precision {precision:.4}, recall {recall:.4}");
    assert!(
        precision >= MIN_PRECISION,
        "precision {precision:.4} ({tp} tp, {fp} fp)"
    );
    assert!(
        recall >= MIN_RECALL,
        "recall {recall:.4} ({tp} of {})",
        truth.len()
    );
}
