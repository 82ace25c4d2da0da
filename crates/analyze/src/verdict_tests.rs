//! Row readings and verdicts on small hand-made link sets.

use super::*;
use leaktrace_link::dump::Fragment;

/// Levels from `field=level` specs: `exact`, `near` (the first non-exact agreeing level) or
/// `disagree`; unnamed fields are missing.
fn lv(spec: &str) -> [u8; NF] {
    let mut out = [MISSING; NF];
    for part in spec.split_whitespace() {
        let (f, l) = part.split_once('=').unwrap();
        let i = fi(f);
        assert_eq!(FIELDS[i].name, f, "unknown field {f}");
        out[i] = match l {
            "exact" => 0,
            "near" => 1.min(FIELDS[i].levels.len() as u8),
            "disagree" => FIELDS[i].levels.len() as u8,
            _ => panic!("level {l}"),
        };
    }
    out
}

/// A row whose best candidate `best` (linked when `linked`) has levels `spec`, with other
/// candidates `(person, levels, probability without identifiers)`; the best one's own
/// probability without identifiers is `best_names`.
fn row(
    linked: bool,
    spec: &str,
    best_names: f64,
    others: &[(&str, &str, f64)],
    foreign: &[&str],
) -> RowLink {
    let levels = lv(spec);
    let fragments = if others.is_empty() {
        Vec::new()
    } else {
        std::iter::once(Fragment {
            person: "BEST".into(),
            levels,
            without_identifiers: best_names,
        })
        .chain(others.iter().map(|(p, s, q)| Fragment {
            person: p.to_string(),
            levels: lv(s),
            without_identifiers: *q,
        }))
        .collect()
    };
    RowLink {
        row: 0,
        person_id: linked.then(|| "BEST".to_string()),
        match_probability: if linked { 0.99 } else { 0.01 },
        agreeing_fields: Vec::new(),
        disagreeing_fields: Vec::new(),
        foreign_identifiers: foreign.iter().map(|s| s.to_string()).collect(),
        candidates: 1 + others.len() as u32,
        row_fields: 0,
        versions: Vec::new(),
        levels,
        fragments,
    }
}

const IDS: FileShape = FileShape {
    has_identifiers: true,
    has_birth_date: true,
};
const NAMES_ONLY: FileShape = FileShape {
    has_identifiers: false,
    has_birth_date: false,
};

#[test]
fn row_readings() {
    use Contradiction as C;
    use RowClass as R;
    let full = "email=exact phone=exact last_name=exact first_name=exact birth_date=exact";
    // (case, row, shape, class, set aside)
    let cases: Vec<(&str, RowLink, FileShape, RowClass, Option<SetAside>)> = vec![
        ("one person's values", row(true, full, 0.0, &[], &[]), IDS, R::Strong, None),
        (
            "names and birth date, identifiers missing",
            row(true, "last_name=exact first_name=exact birth_date=exact", 0.0, &[], &[]),
            IDS,
            R::Strong,
            None,
        ),
        (
            "names only where identifiers could agree: chance",
            row(true, "last_name=exact first_name=exact", 0.0, &[], &[]),
            IDS,
            R::Weak,
            None,
        ),
        (
            "names only in a file of names",
            row(true, "last_name=exact first_name=exact", 0.0, &[], &[]),
            NAMES_ONLY,
            R::Strong,
            None,
        ),
        (
            "a NIR that is not the person's is no strong link",
            row(true, "nir=disagree last_name=exact first_name=exact birth_date=exact", 0.0, &[], &[]),
            IDS,
            R::Weak,
            None,
        ),
        ("nothing", row(false, "", 0.0, &[], &[]), IDS, R::Unlinked, None),
        (
            "identifiers of one person, names of nobody",
            row(true, "email=exact phone=exact last_name=disagree first_name=disagree", 0.0, &[], &[]),
            IDS,
            R::Contradictory(C::NamesOfNobody),
            None,
        ),
        (
            "identifiers of one person, names of another",
            row(
                true,
                "email=exact phone=exact last_name=disagree first_name=disagree",
                0.0,
                &[("A", "email=disagree phone=disagree last_name=exact first_name=exact", 0.99)],
                &[],
            ),
            IDS,
            R::Contradictory(C::NamesOfAnother),
            None,
        ),
        (
            "names of two homonyms are no one's",
            row(
                true,
                "email=exact phone=exact last_name=disagree first_name=disagree",
                0.0,
                &[
                    ("A", "email=disagree last_name=exact first_name=exact", 0.9),
                    ("A2", "email=disagree last_name=exact first_name=exact", 0.9),
                ],
                &[],
            ),
            IDS,
            R::Contradictory(C::NamesOfNobody),
            None,
        ),
        (
            "identifiers of two persons, unlinked",
            row(
                false,
                "email=exact phone=disagree last_name=disagree first_name=disagree",
                0.0,
                &[("C", "email=disagree phone=exact last_name=disagree first_name=disagree", 0.0)],
                &["phone"],
            ),
            IDS,
            R::Contradictory(C::IdentifiersOfSeveral),
            None,
        ),
        (
            "linked by names and birth date, phone of someone not found",
            row(true, "phone=disagree last_name=exact first_name=exact birth_date=exact", 0.0, &[], &["phone"]),
            IDS,
            R::Contradictory(C::IdentifierOfAnother),
            None,
        ),
        (
            "household: the phone in both records",
            row(
                true,
                full,
                0.99,
                &[("B", "email=disagree phone=exact last_name=exact first_name=disagree birth_date=disagree", 0.0)],
                &[],
            ),
            IDS,
            R::Strong,
            None,
        ),
        (
            "household: the family phone in the other's record only, with own e-mail",
            row(
                true,
                "email=exact phone=disagree last_name=exact first_name=exact birth_date=exact",
                0.99,
                &[("B", "email=disagree phone=exact last_name=exact first_name=disagree birth_date=disagree", 0.0)],
                &["phone"],
            ),
            IDS,
            R::Strong,
            Some(SetAside::Household),
        ),
        (
            "household: the family phone in the other's record only",
            row(
                true,
                "phone=disagree last_name=exact first_name=exact birth_date=exact",
                0.99,
                &[("B", "phone=exact last_name=exact first_name=disagree birth_date=disagree", 0.0)],
                &["phone"],
            ),
            IDS,
            R::Strong,
            Some(SetAside::Household),
        ),
        (
            "no household shares a NIR",
            row(
                true,
                "nir=disagree last_name=exact first_name=exact birth_date=exact",
                0.99,
                &[("B", "nir=exact last_name=exact first_name=disagree birth_date=disagree", 0.0)],
                &["nir"],
            ),
            IDS,
            R::Contradictory(C::NamesOfAnother),
            None,
        ),
        (
            "a surname a sound away is no household",
            row(
                true,
                "email=exact phone=exact last_name=disagree first_name=disagree",
                0.0,
                &[],
                &[],
            ),
            IDS,
            R::Contradictory(C::NamesOfNobody),
            None,
        ),
        (
            "name change: new surname, same first name, birth date and identifiers",
            row(true, "nir=exact email=exact last_name=disagree first_name=exact birth_date=exact", 0.0, &[], &[]),
            IDS,
            R::Strong,
            Some(SetAside::NameChange),
        ),
        (
            "name change with the first name left out (the e-mail spells it)",
            row(true, "email=exact last_name=disagree birth_date=exact", 0.0, &[], &[]),
            IDS,
            R::Strong,
            Some(SetAside::NameChange),
        ),
        (
            "a 'new surname' that is another enrolled person's full name",
            row(
                true,
                "email=exact phone=exact last_name=disagree first_name=near",
                0.0,
                &[("A", "email=disagree phone=disagree last_name=exact first_name=exact", 0.99)],
                &[],
            ),
            IDS,
            R::Contradictory(C::NamesOfAnother),
            None,
        ),
        (
            "an unlinked row sets nothing aside",
            row(
                false,
                "phone=disagree last_name=exact first_name=exact",
                0.1,
                &[("B", "phone=exact last_name=exact first_name=disagree", 0.0)],
                &["phone"],
            ),
            IDS,
            R::Unlinked,
            None,
        ),
    ];
    for (name, l, shape, class, set_aside) in cases {
        let r = read_row(&l, shape, 0.5);
        assert_eq!(r.class, class, "{name}: {r:?}");
        assert_eq!(r.set_aside, set_aside, "{name}: {r:?}");
    }
}

#[test]
fn who_the_fragments_belong_to() {
    let l = row(
        true,
        "email=exact phone=exact last_name=disagree first_name=disagree",
        0.0,
        &[(
            "A",
            "email=disagree phone=disagree last_name=exact first_name=exact",
            0.99,
        )],
        &[],
    );
    let r = read_row(&l, IDS, 0.5);
    assert_eq!(r.identifiers_of, Some(Who::Best));
    assert_eq!(r.names_of, Some(Who::Fragment(1)));
    let l = row(
        true,
        "nir=disagree last_name=exact first_name=exact birth_date=exact",
        0.99,
        &[(
            "B",
            "nir=exact last_name=disagree first_name=disagree birth_date=disagree",
            0.0,
        )],
        &["nir"],
    );
    let r = read_row(&l, IDS, 0.5);
    assert_eq!(
        r.class,
        RowClass::Contradictory(Contradiction::NamesOfAnother)
    );
    assert_eq!(r.identifiers_of, Some(Who::Fragment(1)));
    assert_eq!(r.names_of, Some(Who::Best));
}

fn linkage(links: &[RowLink]) -> Linkage {
    let linked = links.iter().filter(|l| l.person_id.is_some()).count() as u64;
    Linkage {
        rows: links.len() as u64,
        rows_linked: linked,
        persons_affected: linked,
        duplicate_rows: 0,
        rows_with_candidates: linked,
        candidate_pairs: linked,
        field_agreement: Default::default(),
        threshold: 0.5,
    }
}

/// `n` copies of a row.
fn rows(n: usize, l: &RowLink) -> Vec<RowLink> {
    (0..n).map(|_| l.clone()).collect()
}

#[test]
fn verdict_table() {
    let strong = row(
        true,
        "email=exact last_name=exact first_name=exact",
        0.0,
        &[],
        &[],
    );
    let weak = row(true, "last_name=exact first_name=exact", 0.0, &[], &[]);
    let stitched = row(
        true,
        "email=exact phone=exact last_name=disagree first_name=disagree",
        0.0,
        &[],
        &[],
    );
    let none = row(false, "", 0.0, &[], &[]);
    let mix = |parts: &[(usize, &RowLink)]| -> Vec<RowLink> {
        parts.iter().flat_map(|(n, l)| rows(*n, l)).collect()
    };
    let types = [
        ColumnType::Email,
        ColumnType::LastName,
        ColumnType::FirstName,
    ];
    // (case, links, status, words of the deciding sentence)
    let cases: Vec<(&str, Vec<RowLink>, Status, Vec<String>)> = vec![
        (
            "all strong",
            mix(&[(100, &strong)]),
            Status::Authentic,
            vec![pct(AUTHENTIC_MIN_STRONG)],
        ),
        (
            "half stitched",
            mix(&[(50, &stitched), (50, &strong)]),
            Status::Recombined,
            vec![
                pct(RECOMBINED_MIN_SHARE),
                pct(RECOMBINED_MIN_SHARE_OF_ENROLLED),
            ],
        ),
        (
            "stitched at both thresholds",
            mix(&[(20, &stitched), (80, &strong)]),
            Status::Recombined,
            vec!["20 rows (20.0 %".into()],
        ),
        (
            "stitched just below the share of enrolled rows",
            mix(&[(19, &stitched), (81, &strong)]),
            Status::Authentic,
            vec![pct(AUTHENTIC_MIN_STRONG)],
        ),
        (
            "stitched at the share of rows, nothing else linked",
            mix(&[(10, &stitched), (90, &none)]),
            Status::Recombined,
            vec![pct(RECOMBINED_MIN_SHARE)],
        ),
        (
            "stitched just below the share of rows",
            mix(&[(9, &stitched), (91, &none)]),
            Status::NotOurs,
            vec!["9 rows hold an identifier".into()],
        ),
        (
            "stitched rows few among linked ones are not enough",
            mix(&[(10, &stitched), (60, &strong), (30, &none)]),
            Status::Authentic,
            vec![],
        ),
        (
            "a minority strong",
            mix(&[(10, &strong), (90, &none)]),
            Status::Partial,
            vec![
                pct(PARTIAL_MIN_STRONG),
                format!("{PARTIAL_CHANCE_FACTOR} times"),
            ],
        ),
        (
            "strong no more than chance",
            mix(&[(10, &strong), (10, &weak), (80, &none)]),
            Status::NotOurs,
            vec!["10 rows hold an identifier of an enrolled person".into()],
        ),
        (
            "nothing links",
            mix(&[(100, &none)]),
            Status::NotOurs,
            vec!["no identifier in the file belongs to an enrolled person".into()],
        ),
    ];
    for (name, links, status, words) in cases {
        let readings = read_rows(&links, &types, 0.5);
        let v = judge(&linkage(&links), &links, &readings);
        assert_eq!(v.status, status, "{name}: {v:#?}");
        assert_eq!(
            is_recombined(&links, &readings),
            status == Status::Recombined,
            "{name}"
        );
        assert!(
            (0.5..=0.99).contains(&v.confidence),
            "{name}: {}",
            v.confidence
        );
        for w in &words {
            assert!(
                v.explanation[1].contains(w.as_str()),
                "{name}: {w:?} in {:?}",
                v.explanation
            );
        }
        let e = &v.evidence;
        assert_eq!(e.rows, links.len() as u64);
        assert!(e.strong_links + e.weak_links + e.contradictory_rows <= e.rows);
        assert!(!v.summary.is_empty());
        // Contradictions below the threshold are still told.
        if status != Status::Recombined && e.contradictory_rows > 0 {
            let below = format!("below the {} of rows", pct(RECOMBINED_MIN_SHARE));
            assert!(v.explanation.iter().any(|s| s.contains(&below)), "{name}");
        }
    }
}

#[test]
fn confidence_grows_with_the_deciding_share() {
    let strong = row(
        true,
        "email=exact last_name=exact first_name=exact",
        0.0,
        &[],
        &[],
    );
    let none = row(false, "", 0.0, &[], &[]);
    let conf = |n: usize| {
        let links: Vec<RowLink> = rows(n, &strong)
            .into_iter()
            .chain(rows(100 - n, &none))
            .collect();
        let readings = read_rows(&links, &[ColumnType::Email], 0.5);
        judge(&linkage(&links), &links, &readings).confidence
    };
    assert_eq!(conf(60), 0.5);
    assert!(conf(80) > conf(70));
    assert_eq!(conf(100), 0.99);
}

#[test]
fn contradictions_are_counted_by_kind() {
    let links = vec![
        row(
            true,
            "email=exact phone=exact last_name=disagree first_name=disagree",
            0.0,
            &[],
            &[],
        ),
        row(
            false,
            "email=exact phone=disagree last_name=disagree first_name=disagree",
            0.0,
            &[(
                "C",
                "email=disagree phone=exact last_name=disagree first_name=disagree",
                0.0,
            )],
            &["phone"],
        ),
        row(
            true,
            "nir=exact email=exact last_name=disagree first_name=exact birth_date=exact",
            0.0,
            &[],
            &[],
        ),
    ];
    let readings = read_rows(&links, &[ColumnType::Email, ColumnType::Phone], 0.5);
    let v = judge(&linkage(&links), &links, &readings);
    let k = &v.evidence.contradictions;
    assert_eq!(k.names_of_no_enrolled_person, 1);
    assert_eq!(k.identifiers_of_several_persons, 1);
    assert_eq!(k.name_changes_set_aside, 1);
    assert_eq!(v.evidence.contradictory_rows, 2);
    // The unlinked contradictory row holds enrolled values too.
    assert_eq!(v.evidence.rows_with_enrolled_values, 3);
    assert_eq!(v.status, Status::Recombined);
}
