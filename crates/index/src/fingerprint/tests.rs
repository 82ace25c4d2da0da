//! Tests of row fingerprints.

use super::*;
use crate::Key;
use ColumnType as T;

fn fpr() -> Fingerprinter {
    Fingerprinter::new(&Key::from_bytes([7; 32]))
}

#[test]
fn domains_separate_and_keys_matter() {
    let f = fpr();
    assert_ne!(
        f.fp(Domain::LastExact, "MARTIN"),
        f.fp(Domain::FirstExact, "MARTIN")
    );
    let g = Fingerprinter::new(&Key::from_bytes([8; 32]));
    assert_ne!(
        f.fp(Domain::LastExact, "MARTIN"),
        g.fp(Domain::LastExact, "MARTIN")
    );
    let long = "X".repeat(500);
    assert_eq!(f.fp(Domain::Address, &long), f.fp(Domain::Address, &long));
    assert_ne!(
        f.fp(Domain::Address, &long),
        f.fp(Domain::Address, &long[1..])
    );
    for (i, d) in Domain::ALL.iter().enumerate() {
        assert!(Domain::ALL[..i].iter().all(|e| e.bit() != d.bit()));
    }
}

#[test]
fn format_drift_gives_the_same_prints() {
    let f = fpr();
    let a = f.row(
        &[
            (T::Nir, "1 82 08 31 184 779 79"),
            (T::Email, " Martin.Vincent@SFR.fr"),
            (T::Phone, "06 63 26 44 24"),
            (T::LastName, "Martin"),
            (T::FirstName, "Vincent"),
            (T::BirthDate, "02/08/1982"),
            (T::PostalCode, "31130"),
            (T::Commune, "St-Orens"),
            (T::Sex, "M."),
        ],
        None,
    );
    let b = f.row(
        &[
            (T::Sex, "1"),
            (T::Commune, "SAINT ORENS"),
            (T::PostalCode, "31130"),
            (T::BirthDate, "1982-08-02"),
            (T::FirstName, "VINCENT"),
            (T::LastName, "MARTIN"),
            (T::Phone, "+33663264424"),
            (T::Email, "martin.vincent@sfr.fr"),
            (T::Nir, "182083118477979"),
        ],
        None,
    );
    assert_eq!(a, b);
    assert!(a.of(Domain::BlockNamesPostal).count() == 1);
    assert!(a.present() & Domain::Nir.bit() != 0);
    // A full name splits on the first-name dictionary into the same names.
    let c = f.row(&[(T::FullName, "Vincent MARTIN")], None);
    assert_eq!(
        c.of(Domain::LastExact).next(),
        a.of(Domain::LastExact).next()
    );
    assert_eq!(
        c.of(Domain::NameTokens).next(),
        a.of(Domain::NameTokens).next()
    );
}

#[test]
fn ages_give_two_birth_years() {
    let f = fpr();
    let at = date::parse("2023-06-15");
    let r = f.row(&[(T::Age, "40")], at);
    assert_eq!(r.of(Domain::BirthYear).count(), 2);
    let y = f.row(&[(T::BirthDate, "1982-08-02")], None);
    let y82 = y.of(Domain::BirthYear).next().unwrap();
    assert!(r.of(Domain::BirthYear).any(|x| x == y82));
    assert!(f.row(&[(T::Age, "40")], None).prints.is_empty());
}

#[test]
fn invalid_values_give_nothing() {
    let f = fpr();
    let r = f.row(
        &[
            (T::Nir, "182083118477978"),
            (T::Email, "nope"),
            (T::Phone, "12"),
            (T::BirthDate, "31/02/1990"),
            (T::PostalCode, "ABCDE"),
            (T::LastName, "  "),
        ],
        None,
    );
    assert!(r.prints.is_empty(), "{r:?}");
}

#[test]
fn communes_and_postal_codes() {
    assert_eq!(
        canonical_commune("Saint-Étienne CEDEX 2").as_deref(),
        Some("SAINTETIENNE")
    );
    assert_eq!(
        canonical_commune("ST ETIENNE").as_deref(),
        Some("SAINTETIENNE")
    );
    assert_eq!(canonical_commune("Paris 11e").as_deref(), Some("PARIS"));
    assert_eq!(canonical_postal_code("1000").as_deref(), Some("01000"));
    assert_eq!(canonical_postal_code("123"), None);
    assert_eq!(canonical_sex("Mme"), Some("2"));
    assert_eq!(canonical_sex("x"), None);
}

#[test]
fn identifiers_in_any_layout_meet() {
    let f = fpr();
    let a = f.row(&[(T::Identifier, "530-4218")], None);
    let b = f.row(&[(T::Identifier, " 0005304218")], None);
    assert_eq!(a, b);
    assert_eq!(a.of(Domain::Identifier).count(), 1);
    // Halves: a typo in the tail leaves the head.
    let c = f.row(&[(T::Identifier, "5304219")], None);
    assert_ne!(
        c.of(Domain::Identifier).next(),
        a.of(Domain::Identifier).next()
    );
    let shared = c
        .of(Domain::IdentifierHalf)
        .filter(|h| a.of(Domain::IdentifierHalf).any(|x| x == *h))
        .count();
    assert_eq!(shared, 1);
    assert!(f.row(&[(T::Identifier, "12")], None).prints.is_empty());
    assert!(identifier_halves("12345").is_empty());
}

#[test]
fn near_birth_keys_are_keyed_by_name_fingerprints() {
    let f = fpr();
    let cells = [
        (T::LastName, "Lodge"),
        (T::FirstName, "Joel"),
        (T::BirthDate, "19280505"),
        (T::Commune, "Balwyn North"),
    ];
    // Enrolment writes the near-birth keys only; lookups also form the keys of older segments.
    let enrolled = f.row(&cells, None);
    assert_eq!(enrolled.of(Domain::BlockLastBirth).count(), 0);
    let looked = f.row_cached(&cells, None, &mut Cache::for_lookup());
    assert_eq!(looked.of(Domain::BlockLastBirth).count(), 1);
    let last = f.fp(Domain::LastExact, "LODGE");
    let birth = f.fp(Domain::BirthDate, "1928-05-05");
    let key = f.pair_key(Domain::BlockLastNearBirth, last, birth);
    assert_eq!(
        enrolled.of(Domain::BlockLastNearBirth).collect::<Vec<_>>(),
        [key]
    );
    assert_eq!(
        looked.of(Domain::BlockLastNearBirth).collect::<Vec<_>>(),
        [key]
    );
    // Names + town, and the places reported for the neighbourhood table.
    assert_eq!(enrolled.of(Domain::BlockNamesCommune).count(), 1);
    assert!(enrolled
        .names
        .contains(&(NameKind::Town, "BALWYNNORTH".to_string())));
}

#[test]
fn addresses_join_their_columns_and_sort_their_words() {
    let f = fpr();
    let a = f.row(
        &[(T::Address, "8 Stanley Street"), (T::Address, "Miami")],
        None,
    );
    let b = f.row(&[(T::Address, "Street Stanley 8 Miami")], None);
    assert_ne!(a.of(Domain::Address).next(), b.of(Domain::Address).next());
    let whole_b = b.of(Domain::AddressTokens).next().unwrap();
    assert!(a.of(Domain::AddressTokens).any(|k| k == whole_b));
    // One key for the whole address and one per column.
    assert_eq!(a.of(Domain::AddressTokens).count(), 3);
    assert_eq!(a.address, [vec!["8", "STANLEY", "STREET"], vec!["MIAMI"]]);
}

#[test]
fn foreign_places_are_independent() {
    let f = fpr();
    let au = f.row(
        &[(T::PostalCode, "4223"), (T::Commune, "winston hills")],
        None,
    );
    assert!(
        !f.row(&[(T::Commune, "winston hills")], None)
            .places_independent
    );
    assert!(au.places_independent);
    let lyon = f.row(&[(T::PostalCode, "69007"), (T::Commune, "Lyon")], None);
    assert!(!lyon.places_independent);
}
