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

/// A registry of FEBRL-style records: `decoys` others, then the target (rec-target).
fn registry(decoys: usize) -> String {
    const FIRST: [&str; 8] = [
        "amelia", "charles", "vanessa", "mitchell", "courtney", "oliver", "madeline", "ruby",
    ];
    const LAST: [&str; 8] = [
        "neumann", "painter", "green", "parr", "white", "menzies", "burford", "hanna",
    ];
    const TOWN: [&str; 4] = ["dapto", "richlands", "kedron", "mentone"];
    let mut s =
        String::from("rec_id,given_name,surname,date_of_birth,suburb,postcode,soc_sec_id\n");
    for i in 0..decoys {
        s.push_str(&format!(
            "rec-{i},{},{},19{:02}{:02}{:02},{},{},{}\n",
            FIRST[i % 8],
            LAST[(i / 8) % 8],
            30 + i % 60,
            1 + i % 12,
            1 + i % 28,
            TOWN[i % 4],
            2000 + i % 900,
            3_000_000 + 7 * i
        ));
    }
    s.push_str("rec-target,joel,lodge,19280505,balwyn north,2025,9100106\n");
    s
}

/// (what the row agrees on, the leak row): each must get rec-target as a candidate.
const ROUTES: &[(&str, &str)] = &[
    (
        "identifier only",
        "xavier,quinn,19990101,perth,6000,9100106",
    ),
    (
        "birth date + names one edit away",
        "joe,lodgw,19280505,perth,6000,1234567",
    ),
    (
        "birth date + names swapped",
        "lodge,joel,19280505,perth,6000,1234567",
    ),
    ("names + town", "joel,lodge,,balwyn north,6000,1234567"),
    (
        "identifier one typo",
        "xavier,quinn,19990101,perth,6000,9100107",
    ),
];

#[test]
fn blocking_finds_the_record_on_each_route() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("registry.csv");
    std::fs::write(&file, registry(400)).unwrap();
    let (mut ws, _) = Workspace::init(&tmp.path().join("ws"), Some(&tmp.path().join("k"))).unwrap();
    let r = ws
        .enroll(
            &file,
            &EnrollOptions {
                source: "registry".into(),
                as_of: Some("2026-01-01".into()),
                ..EnrollOptions::default()
            },
            &|_| {},
        )
        .unwrap();
    let types: Vec<ColumnType> = r.columns.iter().skip(1).map(|c| c.ty).collect();
    use ColumnType as T;
    assert_eq!(
        types,
        [
            T::FirstName,
            T::LastName,
            T::BirthDate,
            T::Commune,
            T::PostalCode,
            T::Identifier
        ]
    );
    let index = ws.load(true).unwrap();
    let linker = leaktrace_link::dump::Linker::new(&index);
    for (route, row) in ROUTES {
        let cells: Vec<(ColumnType, &str)> = types.iter().copied().zip(row.split(',')).collect();
        let prints =
            index
                .fingerprinter
                .row_cached(&cells, None, &mut leaktrace_index::Cache::for_lookup());
        let pairs = linker.pairs_of(0, &prints);
        assert!(
            pairs.iter().any(|p| p.person == "rec-target"),
            "{route}: candidates {:?}",
            pairs.iter().map(|p| &p.person).collect::<Vec<_>>()
        );
    }
}

/// A registry whose only id is a customer number: it is the person id (stored as a keyed
/// pseudonym) and also fingerprinted as an identifier, so a leak holding it links on it.
#[test]
fn a_customer_number_is_both_the_id_and_an_identifier() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = tmp.path().join("customers.csv");
    let mut s = String::from("customer_number,given_name,surname\n");
    for i in 0..300 {
        s.push_str(&format!("C-{:06},amelia,parr{}\n", 100_000 + 37 * i, i % 7));
    }
    std::fs::write(&reg, s).unwrap();
    let (mut ws, _) = Workspace::init(&tmp.path().join("ws"), Some(&tmp.path().join("k"))).unwrap();
    let r = ws
        .enroll(
            &reg,
            &EnrollOptions {
                source: "crm".into(),
                as_of: Some("2026-01-01".into()),
                ..EnrollOptions::default()
            },
            &|_| {},
        )
        .unwrap();
    assert_eq!(r.snapshot.id_column, "customer_number");
    assert_eq!(r.columns[0].ty, ColumnType::Identifier);
    let index = ws.load(true).unwrap();
    let linker = leaktrace_link::dump::Linker::new(&index);
    let candidates = |v: &str| -> Vec<String> {
        let prints = index.fingerprinter.row_cached(
            &[(ColumnType::Identifier, v)],
            None,
            &mut leaktrace_index::Cache::for_lookup(),
        );
        let pairs = linker.pairs_of(0, &prints);
        pairs.into_iter().map(|p| p.person).collect()
    };
    let (a, b) = (candidates("c-100037"), candidates("C 100074"));
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(b.len(), 1, "{b:?}");
    assert_ne!(a, b);
    assert!(a[0].starts_with('~'), "the id is a keyed pseudonym: {a:?}");
    assert!(candidates("QQ-1234-QQ").is_empty());
}
