//! Attribution and dating on small hand-made link sets.

use super::*;
use leaktrace_link::dump::{SnapshotAgreement, NF};
use leaktrace_link::MISSING;

fn profile() -> FormatProfile {
    FormatProfile {
        format: "csv".into(),
        compression: None,
        encoding: "utf-8".into(),
        delimiter: Some(','),
        has_header: true,
        table: "t".into(),
        columns: Vec::new(),
    }
}

fn snap(id: i64, source: &str, recipient: Option<&str>, as_of: &str, persons: u64) -> SnapshotInfo {
    SnapshotInfo {
        id,
        source: source.into(),
        recipient: recipient.map(str::to_string),
        as_of: as_of.into(),
        enrolled_at: "2026-11-01T00:00:00Z".into(),
        file_name: format!("{source}.csv"),
        file_bytes: 0,
        file_blake3: String::new(),
        rows: persons,
        persons,
        id_column: "id".into(),
        segment: format!("seg{id}"),
        segment_bytes: 0,
        fingerprints: 0,
        profile: profile(),
        kind: SnapshotKind::Extract,
    }
}

fn bit(name: &str) -> u16 {
    1 << FIELDS.iter().position(|f| f.name == name).unwrap()
}

/// A linked row of person `p` with its value versions: (snapshot, fields held, fields agreeing).
fn row(r: u64, p: &str, versions: &[(u16, u16, u16)]) -> RowLink {
    RowLink {
        row: r,
        person_id: Some(p.to_string()),
        match_probability: 0.99,
        agreeing_fields: Vec::new(),
        disagreeing_fields: Vec::new(),
        foreign_identifiers: Vec::new(),
        candidates: 1,
        row_fields: 0,
        versions: versions
            .iter()
            .map(|&(snapshot, held, agree)| SnapshotAgreement {
                snapshot,
                held,
                agree,
            })
            .collect(),
        levels: [MISSING; NF],
        fragments: Vec::new(),
    }
}

/// The world of the tests: 0 = registry (1000 persons), 1 = a provider delivery of 50 persons
/// (names + NIR), 2 and 3 = the website delivered twice (400 persons, phones change).
fn world() -> Vec<SnapshotInfo> {
    vec![
        snap(1, "registry", None, "2026-10-01", 1000),
        snap(2, "provider", Some("Prestataire"), "2022-03-05", 50),
        snap(3, "website", Some("Site"), "2024-03-01", 400),
        snap(4, "website", Some("Site"), "2025-09-01", 400),
    ]
}

fn names_nir() -> u16 {
    bit("last_name") | bit("first_name") | bit("nir")
}

/// 40 rows of provider persons: names and NIR, held by the registry and the provider.
fn provider_rows() -> Vec<RowLink> {
    (0..40)
        .map(|i| {
            let f = names_nir();
            row(i, &format!("P{i}"), &[(0, f, f), (1, f, f)])
        })
        .collect()
}

/// 40 rows of website persons with the 2024 phone, which the 2025 delivery replaced.
fn website_2024_rows() -> Vec<RowLink> {
    let f = bit("last_name") | bit("phone");
    (0..40)
        .map(|i| {
            row(
                i,
                &format!("W{i}"),
                &[
                    (0, f, bit("last_name")),
                    (2, f, f),
                    (3, f, bit("last_name")),
                ],
            )
        })
        .collect()
}

fn refs(s: &[SnapshotInfo]) -> Vec<&SnapshotInfo> {
    s.iter().collect()
}

#[test]
fn attribution_table() {
    type Check = fn(&Attribution) -> bool;
    let w = world();
    let cases: Vec<(&str, Vec<RowLink>, Check)> = vec![
        ("nothing linked", Vec::new(), |a| {
            a.candidates.len() == 1
                && a.candidates[0].kind == CandidateKind::Unknown
                && a.candidates[0].posterior == 1.0
                && a.false_accusation_bound == 1.0
        }),
        (
            "a small delivery holding every person",
            provider_rows(),
            |a| {
                a.candidates[0].kind == CandidateKind::Delivery
                    && a.candidates[0].source == "provider"
                    && a.candidates[0].posterior > 0.99
                    && a.false_accusation_bound < 0.01
            },
        ),
        (
            "the delivery with the row's phone versions",
            website_2024_rows(),
            |a| {
                a.candidates[0].snapshots.len() == 1
                    && a.candidates[0].snapshots[0].as_of == "2024-03-01"
                    && a.candidates[0].posterior > 0.99
            },
        ),
    ];
    for (name, links, check) in cases {
        let a = attribute(&refs(&w), &links, &profile());
        assert!(check(&a), "{name}: {a:#?}");
        let unknowns = a
            .candidates
            .iter()
            .filter(|c| c.kind == CandidateKind::Unknown)
            .count();
        assert_eq!(unknowns, 1, "{name}: one never-enrolled hypothesis");
        let total: f64 = a.candidates.iter().map(|c| c.posterior).sum();
        assert!(
            (total - 1.0).abs() < 1e-4,
            "{name}: posteriors sum to {total}"
        );
    }
}

#[test]
fn priors_come_from_the_kind() {
    let w = world();
    let a = attribute(&refs(&w), &provider_rows(), &profile());
    let singles = a
        .candidates
        .iter()
        .filter(|c| c.kind == CandidateKind::Delivery)
        .count();
    assert_eq!(singles, 4);
    for c in &a.candidates {
        let want = match c.kind {
            CandidateKind::Unknown => PRIOR_UNKNOWN,
            CandidateKind::Delivery | CandidateKind::CanaryRecipient => PRIOR_SINGLES / 4.0,
            CandidateKind::Join => {
                PRIOR_JOINS
                    / a.candidates
                        .iter()
                        .filter(|c| c.kind == CandidateKind::Join)
                        .count() as f64
            }
        };
        assert!((c.prior - want).abs() < 1e-12, "{c:#?}");
    }
}

/// An enrolled source may be named `unknown`: it is a delivery like any other, not the
/// never-enrolled hypothesis (which keeps its own prior and accuses nobody).
#[test]
fn a_source_named_unknown_is_a_delivery() {
    let mut w = world();
    w[1].source = "unknown".into();
    let a = attribute(&refs(&w), &provider_rows(), &profile());
    let top = &a.candidates[0];
    assert_eq!(top.source, "unknown");
    assert_eq!(top.kind, CandidateKind::Delivery, "{a:#?}");
    assert_eq!(top.snapshots.len(), 1);
    assert!((top.prior - PRIOR_SINGLES / 4.0).abs() < 1e-12);
    assert!(top.posterior > 0.99);
    assert!(a.false_accusation_bound < 0.01, "{a:#?}");
    assert!(a
        .explanation
        .starts_with("Most likely from unknown (Prestataire)"));
    let never = a
        .candidates
        .iter()
        .find(|c| c.kind == CandidateKind::Unknown)
        .unwrap();
    assert!((never.prior - PRIOR_UNKNOWN).abs() < 1e-12);
    assert!(never.snapshots.is_empty());
    // Dating treats it as the delivery it is.
    let win = extraction_window(&refs(&w), &provider_rows(), &a);
    assert_eq!(
        win.lower.as_ref().map(|l| l.reason),
        Some(BoundReason::Delivery)
    );
}

#[test]
fn a_join_of_two_deliveries() {
    let w = world();
    // Names + NIR as the provider has them, the phone as only the 2024 website has it.
    let f = names_nir() | bit("phone");
    let links: Vec<RowLink> = (0..40)
        .map(|i| {
            row(
                i,
                &format!("J{i}"),
                &[
                    (0, names_nir(), names_nir()),
                    (1, names_nir(), names_nir()),
                    (
                        2,
                        bit("last_name") | bit("phone"),
                        bit("last_name") | bit("phone"),
                    ),
                    (3, bit("last_name") | bit("phone"), bit("last_name")),
                ],
            )
        })
        .collect();
    let _ = f;
    let a = attribute(&refs(&w), &links, &profile());
    let top = &a.candidates[0];
    assert_eq!(top.kind, CandidateKind::Join, "{a:#?}");
    let mut dates: Vec<&str> = top.snapshots.iter().map(|s| s.as_of.as_str()).collect();
    dates.sort_unstable();
    assert_eq!(dates, ["2022-03-05", "2024-03-01"]);
    // The join is dated from its later delivery.
    let win = extraction_window(&refs(&w), &links, &a);
    let lower = win.lower.unwrap();
    assert_eq!(lower.date, "2024-03-01");
    assert_eq!(win.to.as_deref(), Some("2025-09-01"));
}

#[test]
fn dating_table() {
    let w = world();
    // (case, links, from, from inclusive, to, lower reason, words in the explanation)
    type Case<'a> = (
        &'a str,
        Vec<RowLink>,
        Option<&'a str>,
        bool,
        Option<&'a str>,
        Option<BoundReason>,
        &'a [&'a str],
    );
    let registry_only: Vec<RowLink> = (0..40)
        .map(|i| row(i, &format!("R{i}"), &[(0, names_nir(), names_nir())]))
        .collect();
    let cases: Vec<Case> = vec![
        (
            "names + NIR dump of a known delivery: the delivery bounds it from below",
            provider_rows(),
            Some("2022-03-05"),
            true,
            None,
            Some(BoundReason::Delivery),
            &[
                "Not before 2022-03-05",
                "provider@2022-03-05",
                "cannot predate",
                "No upper bound",
            ],
        ),
        (
            "old phones: the later snapshot bounds it from above",
            website_2024_rows(),
            Some("2024-03-01"),
            true,
            Some("2025-09-01"),
            Some(BoundReason::Delivery),
            &[
                "Before 2025-09-01",
                "website@2025-09-01",
                "first later snapshot",
            ],
        ),
        (
            "the registry is no delivery: undated, and why",
            registry_only,
            None,
            false,
            None,
            None,
            &["Undated", "registry", "no delivery date"],
        ),
        (
            "nothing linked: undated, and why",
            Vec::new(),
            None,
            false,
            None,
            None,
            &["Undated", "no enrolled delivery"],
        ),
    ];
    for (name, links, from, inclusive, to, reason, words) in cases {
        let a = attribute(&refs(&w), &links, &profile());
        let win = extraction_window(&refs(&w), &links, &a);
        assert_eq!(win.from.as_deref(), from, "{name}: {win:#?}");
        assert_eq!(win.to.as_deref(), to, "{name}: {win:#?}");
        assert_eq!(win.lower.as_ref().map(|l| l.reason), reason, "{name}");
        assert_eq!(
            win.lower.as_ref().is_some_and(|l| l.inclusive),
            inclusive,
            "{name}"
        );
        if let Some(u) = &win.upper {
            assert_eq!(u.reason, BoundReason::ReplacedValues);
            assert!(!u.inclusive);
        }
        for w in words {
            assert!(
                win.explanation.contains(w),
                "{name}: {w:?} in {:?}",
                win.explanation
            );
        }
    }
}

/// Newer values than the delivery's: the value bound is later than the delivery and wins.
#[test]
fn a_later_value_bound_beats_the_delivery() {
    let w = world();
    // Phones as the 2025 delivery has them, replacing the 2024 ones.
    let f = bit("last_name") | bit("phone");
    let links: Vec<RowLink> = (0..40)
        .map(|i| row(i, &format!("W{i}"), &[(2, f, bit("last_name")), (3, f, f)]))
        .collect();
    let a = attribute(&refs(&w), &links, &profile());
    assert_eq!(a.candidates[0].snapshots[0].as_of, "2025-09-01", "{a:#?}");
    let win = extraction_window(&refs(&w), &links, &a);
    // The delivery (2025-09-01, inclusive) is later than the value bound (after 2024-03-01).
    let lower = win.lower.unwrap();
    assert_eq!(lower.date, "2025-09-01");
    assert_eq!(lower.reason, BoundReason::Delivery);
    assert!(lower.inclusive);
    assert_eq!(win.informative_rows, 40);
}

/// A weakly attributed file is not dated by its delivery.
#[test]
fn a_weak_attribution_does_not_date() {
    let w = world();
    // Two rows in both website deliveries with identical values: the deliveries tie.
    let f = bit("last_name") | bit("phone");
    let links: Vec<RowLink> = (0..2)
        .map(|i| row(i, &format!("W{i}"), &[(2, f, f), (3, f, f)]))
        .collect();
    let a = attribute(&refs(&w), &links, &profile());
    assert!(a.candidates[0].posterior < DATING_MIN_POSTERIOR, "{a:#?}");
    let win = extraction_window(&refs(&w), &links, &a);
    assert_eq!(win.from, None);
    assert!(
        win.explanation.contains("below the 0.9"),
        "{}",
        win.explanation
    );
}
