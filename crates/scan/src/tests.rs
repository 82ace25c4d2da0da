//! Tests of the detectors and decision rules.

use super::*;

fn ty(name: &str, values: &[&str]) -> ColumnType {
    let mut t = ColumnTyper::new(0, name);
    for v in values {
        t.observe(v);
    }
    t.finish().ty
}

#[test]
fn detectors() {
    let nir1 = nir::build(1, 89, 5, "75056", 12).unwrap();
    let nir2 = nir::build(2, 70, 1, "2A004", 7).unwrap();
    assert_eq!(ty("x", &[&nir1, &nir2]), ColumnType::Nir);
    assert_eq!(
        ty("x", &["06 12 34 56 78", "+33745345678"]),
        ColumnType::Phone
    );
    assert_eq!(ty("x", &["a.b@free.fr", "c@orange.fr"]), ColumnType::Email);
    assert_eq!(
        ty("x", &["75001", "69007", "13001"]),
        ColumnType::PostalCode
    );
    assert_eq!(
        ty("code_insee", &["75056", "69123", "2A004"]),
        ColumnType::InseeCode
    );
    assert_eq!(ty("x", &["A1101", "M1805"]), ColumnType::RomeCode);
    assert_eq!(
        ty("x", &["12/05/1989", "01/01/1970"]),
        ColumnType::BirthDate
    );
    assert_eq!(ty("x", &["2023-05-01", "2024-01-09"]), ColumnType::Date);
    assert_eq!(ty("x", &["oui", "non", "oui"]), ColumnType::Boolean);
    assert_eq!(ty("x", &["Mme", "M.", "Mme"]), ColumnType::Sex);
    assert_eq!(
        ty("x", &["Bac+2", "CAP/BEP", "Sans diplôme", "Bac"]),
        ColumnType::EducationLevel
    );
    assert_eq!(
        ty("x", &["Lyon", "Saint-Étienne", "Marseille"]),
        ColumnType::Commune
    );
    assert_eq!(
        ty("x", &["Hélène", "Jean-Pierre", "Kevin", "Nathalie"]),
        ColumnType::FirstName
    );
    assert_eq!(
        ty("x", &["DUPONT", "LEFEBVRE", "GAUTHIER", "ROUSSEAU"]),
        ColumnType::LastName
    );
    assert_eq!(
        ty(
            "x",
            &["FT000000001", "FT000000002", "FT000000003", "FT000000004"]
        ),
        ColumnType::PersonId
    );
    assert_eq!(
        ty("x", &["5f4dcc3b5aa765d61d8327deb882cf99"]),
        ColumnType::PasswordHash
    );
    assert_eq!(ty("x", &["192.168.1.1", "::1"]), ColumnType::IpAddress);
    assert_eq!(
        ty("x", &["FR76 3000 6000 0112 3456 7890 189"]),
        ColumnType::Iban
    );
    assert_eq!(ty("x", &["", " "]), ColumnType::Unknown);
}

proptest::proptest! {
    #[test]
    fn dates_in_every_layout_conform(days in -25_000i64..47_000, layout in 0usize..7) {
        let d = date::Ymd::from_days(days);
        let (y, m, dd) = (d.year, d.month, d.day);
        let v = match layout {
            0 => format!("{y:04}-{m:02}-{dd:02}"),
            1 => format!("{y:04}{m:02}{dd:02}"),
            2 => format!("{dd:02}.{m:02}.{y:04}"),
            3 => format!("{y:04}/{m:02}/{dd:02}"),
            4 => format!("{dd:02}-{m:02}-{y:04}"),
            5 => format!("{dd}/{m}/{y}"),
            _ => format!("{y:04}-{m:02}-{dd:02}T08:00:00"),
        };
        for t in [ColumnType::BirthDate, ColumnType::Date] {
            proptest::prop_assert_eq!(conforms(t, &v), Some(true), "{}", v);
        }
    }

    #[test]
    fn fast_checks_agree_with_folding_every_value(s in "[A-Za-zéÉèç' .-]{0,24}|[0-9A-Za-z@. +()-]{0,20}",
                                                  k in 0usize..DETS.len()) {
        let d = DETS[k];
        if let Some(v) = present(&s) {
            let mut buf = String::from("junk");
            proptest::prop_assert_eq!(check_with(d, v, &mut buf), detect(d, v, &text::fold(v)));
        }
    }
}

proptest::proptest! {
    #[test]
    fn fast_checks_agree_on_dictionary_words(k in 0usize..20_000, lower in proptest::bool::ANY,
                                             extra in "( [A-Za-z]{1,8})?") {
        let r = refdata::get();
        let words = [
            r.last_names[k].clone(),
            r.first_names[k % r.first_names.len()].name.clone(),
            r.communes[k % r.communes.len()].name.clone(),
            format!("{} {}", r.first_names[k % r.first_names.len()].name, r.last_names[k]),
        ];
        for w in words {
            let w = format!("{w}{extra}");
            let w = if lower { w.to_lowercase() } else { w };
            for d in DETS {
                let mut buf = String::new();
                proptest::prop_assert_eq!(check_with(d, &w, &mut buf), detect(d, &w, &text::fold(&w)));
            }
        }
    }
}

/// (header, values, expected type): the schemas of files `synth` does not make.
const FOREIGN_SCHEMAS: &[(&str, &[&str], ColumnType)] = &[
    (
        "soc_sec_id",
        &["5304218", "4066625", "4365168", "9239102"],
        ColumnType::Identifier,
    ),
    (
        "customer_number",
        &["C-0012", "C-0013", "C-0977", "C-1204"],
        ColumnType::Identifier,
    ),
    (
        "account",
        &["12345", "98765", "55555", "31337"],
        ColumnType::Identifier,
    ),
    // Repeated codes under an identifier header are a category, not an identifier.
    (
        "client",
        &["1001", "1001", "1001", "1002", "1001"],
        ColumnType::Number,
    ),
    (
        "date_of_birth",
        &["19151111", "19161214", "19480930"],
        ColumnType::BirthDate,
    ),
    ("dob", &["11.11.1915", "14.12.1916"], ColumnType::BirthDate),
    (
        "driving_licence",
        &["Y", "N", "N", "Y"],
        ColumnType::Boolean,
    ),
    ("car", &["y", "n", "n", "n"], ColumnType::Boolean),
    ("x", &["Y", "N", "Y"], ColumnType::Boolean),
    (
        "suburb",
        &["winston hills", "richlands", "dapto"],
        ColumnType::Commune,
    ),
    // A person id stays a person id (the enrolment id column).
    (
        "user_id",
        &["u-1001", "u-1002", "u-1003"],
        ColumnType::PersonId,
    ),
];

#[test]
fn foreign_schemas() {
    for (header, values, want) in FOREIGN_SCHEMAS {
        assert_eq!(ty(header, values), *want, "{header}");
    }
    assert_eq!(conforms(ColumnType::Identifier, "530-4218"), Some(true));
    assert_eq!(conforms(ColumnType::Identifier, "Y"), Some(false));
}

#[test]
fn values_decide_when_the_header_lies() {
    assert_eq!(
        ty("name", &["Hélène", "Kevin", "Nathalie", "Sébastien"]),
        ColumnType::FirstName
    );
    assert_eq!(
        ty("telephone", &["a.b@free.fr", "c@orange.fr"]),
        ColumnType::Email
    );
}

#[test]
fn examples_are_masked_and_merge_adds_up() {
    let mut a = ColumnTyper::new(0, "email");
    a.observe("marie.dupont@orange.fr");
    let mut b = ColumnTyper::new(0, "email");
    b.observe("jean.martin@free.fr");
    b.observe("");
    a.merge(&b);
    let r = a.finish();
    assert_eq!(r.ty, ColumnType::Email);
    assert_eq!(r.examples, ["ma***@orange.fr", "je***@free.fr"]);
    assert!((r.fill_rate - 0.667).abs() < 1e-9);
    assert_eq!(r.distinct_estimate, 2);
}
