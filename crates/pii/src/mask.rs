//! Masking: how a personal value may be shown in terminals, reports and errors.
//! A masked value never shows the whole value; it keeps just enough to recognise its shape.

use crate::ColumnType;

/// Mask a value according to its column type.
///
/// * NIR: `2 89 05 ** *** *** 31` (sex, year and month of birth, key)
/// * e-mail: `ma***@orange.fr`
/// * phone: `06 ** ** ** 78`
/// * names and other text: first letter then `***`
pub fn mask(ty: ColumnType, value: &str) -> String {
    let v = value.trim();
    if v.is_empty() {
        return String::new();
    }
    match ty {
        ColumnType::Nir => match crate::nir::parse(v) {
            Some(n) => {
                let c = n.as_str();
                format!(
                    "{} {} {} ** *** *** {}",
                    &c[0..1],
                    &c[1..3],
                    &c[3..5],
                    &c[13..15]
                )
            }
            None => generic(v, 2),
        },
        ColumnType::Email => match v.split_once('@') {
            Some((local, domain)) => {
                let keep: String = local
                    .chars()
                    .take(2.min(local.chars().count() / 2))
                    .collect();
                format!("{keep}***@{domain}")
            }
            None => generic(v, 1),
        },
        ColumnType::Phone => match crate::phone::normalize(v) {
            Some(e) => {
                let n = &e[3..];
                format!("0{} ** ** ** {}", &n[0..1], &n[7..9])
            }
            None => generic(v, 2),
        },
        ColumnType::Iban => {
            let c: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            let head: String = c.chars().take(4).collect();
            let tail: String = c
                .chars()
                .rev()
                .take(2)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("{head} **** **** {tail}")
        }
        ColumnType::Password | ColumnType::PasswordHash => "********".to_string(),
        ColumnType::PostalCode | ColumnType::InseeCode => {
            let head: String = v.chars().take(2).collect();
            format!("{head}***")
        }
        ColumnType::BirthDate => {
            // keep the year only
            let digits: Vec<&str> = v
                .split(|c: char| !c.is_ascii_digit())
                .filter(|p| !p.is_empty())
                .collect();
            match (digits.iter().find(|p| p.len() == 4), crate::date::parse(v)) {
                (Some(y), _) => format!("**/**/{y}"),
                (None, Some(d)) => format!("**/**/{}", d.year),
                (None, None) => generic(v, 0),
            }
        }
        ColumnType::Sex
        | ColumnType::Boolean
        | ColumnType::EducationLevel
        | ColumnType::RomeCode
        | ColumnType::Number
        | ColumnType::Date
        | ColumnType::Age => generic(v, 3),
        _ => generic(v, 1),
    }
}

/// Keep the first `keep` characters (at most a third of the value) and replace the rest with
/// `***`.
fn generic(v: &str, keep: usize) -> String {
    let n = v.chars().count();
    let keep = keep.min(n / 3);
    let head: String = v.chars().take(keep).collect();
    format!("{head}***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        let nir = crate::nir::build(2, 89, 5, "75056", 123).unwrap();
        let m = mask(ColumnType::Nir, &nir);
        assert!(m.starts_with("2 89 05 ** *** *** "), "{m}");
        assert_eq!(&m[m.len() - 2..], &nir[13..]);
        assert_eq!(
            mask(ColumnType::Email, "marie.dupont@orange.fr"),
            "ma***@orange.fr"
        );
        assert_eq!(mask(ColumnType::Phone, "+33612345678"), "06 ** ** ** 78");
        assert_eq!(mask(ColumnType::LastName, "Dupont"), "D***");
        assert_eq!(mask(ColumnType::BirthDate, "12/05/1989"), "**/**/1989");
        assert_eq!(mask(ColumnType::BirthDate, "19890512"), "**/**/1989");
        assert_eq!(mask(ColumnType::Identifier, "5304218"), "5***");
        assert_eq!(mask(ColumnType::Password, "hunter2"), "********");
    }

    #[test]
    fn never_whole() {
        for t in ColumnType::ALL {
            for v in ["Dupont", "x", "ab", "75001", "marie@free.fr", "0612345678"] {
                let m = mask(t, v);
                assert_ne!(m, v, "{t} {v}");
            }
        }
    }
}
