//! Generic identifiers of a person that are not a NIR, an e-mail, a phone or an IBAN: customer
//! and account numbers, foreign social security numbers, matricules, membership numbers.
//!
//! Such values have no checksum in common, so the normal form only removes what a file's
//! layout changes: case, spaces and the usual separators (`-`, `.`, `/`, `_`), and the leading
//! zeros a spreadsheet drops from all-digit values (`0012 345` → `12345`).

/// Fewest characters an identifier has once normalised: shorter codes (`1`, `42`) are held by
/// too many persons to identify one.
pub const MIN_LEN: usize = 4;
/// Most characters an identifier has once normalised (longer values are free text or hashes).
pub const MAX_LEN: usize = 40;

/// Whether `c` is a separator that layouts add or remove inside identifiers.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '/' | '_' | '\u{a0}' | '\u{202f}')
}

/// The normal form of an identifier: ASCII letters upper-cased, digits kept, separators
/// dropped, leading zeros of an all-digit value dropped; `None` when the value holds another
/// character, has no digit, or is shorter than [`MIN_LEN`] or longer than [`MAX_LEN`].
pub fn normalize(v: &str) -> Option<String> {
    let mut out = String::with_capacity(v.len());
    for c in v.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else if !is_separator(c) {
            return None;
        }
    }
    if !out.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    if out.bytes().all(|b| b.is_ascii_digit()) {
        let zeros = out.bytes().take_while(|&b| b == b'0').count();
        out.drain(..zeros.min(out.len() - 1));
    }
    (MIN_LEN..=MAX_LEN).contains(&out.len()).then_some(out)
}

/// Whether `v` reads as an identifier (see [`normalize`]).
pub fn is_valid(v: &str) -> bool {
    normalize(v).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layouts_give_one_form() {
        for v in [
            "5304218",
            " 530-4218 ",
            "0005304218",
            "530.42.18",
            "530 4218",
        ] {
            assert_eq!(normalize(v).as_deref(), Some("5304218"), "{v}");
        }
        assert_eq!(normalize("ab-12 cd").as_deref(), Some("AB12CD"));
        assert_eq!(normalize("C0012").as_deref(), Some("C0012"));
        for v in [
            "",
            "12",
            "0000042",
            "ABCDEF",
            "12@34",
            "hello world",
            &"9".repeat(41),
        ] {
            assert_eq!(normalize(v), None, "{v}");
        }
    }

    proptest! {
        #[test]
        fn normal_form_is_stable(s in "[0-9A-Za-z .\\-/_]{0,30}") {
            if let Some(n) = normalize(&s) {
                prop_assert_eq!(normalize(&n), Some(n.clone()));
                prop_assert!(n.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
                prop_assert!((MIN_LEN..=MAX_LEN).contains(&n.len()));
            }
        }

        #[test]
        fn separators_and_case_do_not_matter(d in "[0-9]{4,12}", a in "[a-z]{0,3}", sep in "[ .\\-/_]") {
            let v = format!("{a}{d}");
            let spaced: String = v.chars().flat_map(|c| [c, sep.chars().next().unwrap()]).collect();
            prop_assert_eq!(normalize(&spaced), normalize(&v.to_uppercase()));
        }

        #[test]
        fn never_panics(s in ".{0,48}") {
            let _ = normalize(&s);
        }
    }
}
