//! French phone numbers: `06 12 34 56 78`, `06.12.34.56.78`, `+33 6 12 34 56 78`,
//! `0033612345678`, `+33 (0)6…`. Normalised to E.164 (`+33612345678`).

/// Kind of French number, from its first significant digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneKind {
    /// 01–05: geographic landline.
    Landline,
    /// 06, 073–079: mobile.
    Mobile,
    /// 08: special-rate services.
    Special,
    /// 09: non-geographic (VoIP boxes).
    NonGeographic,
}

/// Parse a French phone number written with any common separators and prefix, returning its
/// E.164 form (`+33` followed by 9 digits). Overseas numbers written with `+262`, `+590`, …
/// are returned with their own country code.
pub fn normalize(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 40 {
        return None;
    }
    let mut digits = String::with_capacity(16);
    let mut plus = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !plus => plus = true,
            ' ' | '.' | '-' | '/' | '\u{a0}' | '\u{202f}' => {}
            '(' => {
                // "(0)" trunk prefix after a country code
                let inner: String = chars.by_ref().take_while(|&c| c != ')').collect();
                if inner != "0" {
                    digits.push_str(&inner);
                    if !inner.chars().all(|c| c.is_ascii_digit()) {
                        return None;
                    }
                }
            }
            _ => return None,
        }
    }
    let national = if plus {
        let rest = digits.strip_prefix("33")?;
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix("0033") {
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix('0') {
        rest.to_string()
    } else if digits.len() == 11 && digits.starts_with("33") {
        digits[2..].to_string()
    } else {
        return None;
    };
    let national = national.strip_prefix('0').unwrap_or(&national);
    if national.len() != 9 || !national.starts_with(|c: char| ('1'..='9').contains(&c)) {
        return None;
    }
    Some(format!("+33{national}"))
}

/// The kind of a normalised (`+33…`) number.
pub fn kind(e164: &str) -> Option<PhoneKind> {
    kind_of_national(e164.strip_prefix("+33")?.as_bytes())
}

/// [`kind`] of the national digits (after `+33`).
#[inline]
fn kind_of_national(n: &[u8]) -> Option<PhoneKind> {
    Some(match n.first()? {
        b'1'..=b'5' => PhoneKind::Landline,
        b'6' => PhoneKind::Mobile,
        b'7' if matches!(n.get(1), Some(b'3'..=b'9')) => PhoneKind::Mobile,
        b'8' => PhoneKind::Special,
        b'9' => PhoneKind::NonGeographic,
        _ => return None,
    })
}

/// Whether `s` is a French phone number in any common written form.
pub fn is_valid(s: &str) -> bool {
    let t = crate::text::trim(s);
    if t.is_ascii() {
        return national_ascii(t.as_bytes()).is_some_and(|n| kind_of_national(&n).is_some());
    }
    normalize(s).is_some_and(|n| kind(&n).is_some())
}

/// The 9 national digits of a trimmed ASCII number, by the rules of [`normalize`] but without
/// allocating (this runs on every value of a phone column).
fn national_ascii(s: &[u8]) -> Option<[u8; 9]> {
    if s.is_empty() || s.len() > 40 {
        return None;
    }
    let mut digits = [0u8; 40];
    let mut n = 0;
    let mut plus = false;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        match c {
            b'0'..=b'9' => {
                digits[n] = c;
                n += 1;
            }
            b'+' if n == 0 && !plus => plus = true,
            b' ' | b'.' | b'-' | b'/' => {}
            b'(' => {
                // "(0)" trunk prefix after a country code; the group runs to `)` or the end.
                let end = s[i..].iter().position(|&c| c == b')');
                let inner = &s[i..end.map_or(s.len(), |e| i + e)];
                i = end.map_or(s.len(), |e| i + e + 1);
                if inner != b"0" {
                    if !inner.iter().all(u8::is_ascii_digit) {
                        return None;
                    }
                    digits[n..n + inner.len()].copy_from_slice(inner);
                    n += inner.len();
                }
            }
            _ => return None,
        }
    }
    let digits = &digits[..n];
    let national = if plus {
        digits.strip_prefix(b"33")?
    } else if let Some(rest) = digits.strip_prefix(b"0033") {
        rest
    } else if let Some(rest) = digits.strip_prefix(b"0") {
        rest
    } else if digits.len() == 11 && digits.starts_with(b"33") {
        &digits[2..]
    } else {
        return None;
    };
    let national = national.strip_prefix(b"0").unwrap_or(national);
    if national.len() != 9 || !(b'1'..=b'9').contains(&national[0]) {
        return None;
    }
    national.try_into().ok()
}

/// National format with spaces: `06 12 34 56 78`.
pub fn national_spaced(e164: &str) -> Option<String> {
    let n = e164.strip_prefix("+33")?;
    if n.len() != 9 {
        return None;
    }
    Some(format!(
        "0{} {} {} {} {}",
        &n[0..1],
        &n[1..3],
        &n[3..5],
        &n[5..7],
        &n[7..9]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn common_forms() {
        for s in [
            "06 12 34 56 78",
            "0612345678",
            "06.12.34.56.78",
            "06-12-34-56-78",
            "+33612345678",
            "+33 6 12 34 56 78",
            "+33 (0)6 12 34 56 78",
            "0033 6 12 34 56 78",
            "33612345678",
        ] {
            assert_eq!(normalize(s).as_deref(), Some("+33612345678"), "{s}");
        }
        assert_eq!(kind("+33612345678"), Some(PhoneKind::Mobile));
        assert_eq!(kind("+33745000000"), Some(PhoneKind::Mobile));
        assert_eq!(kind("+33145000000"), Some(PhoneKind::Landline));
        assert_eq!(
            national_spaced("+33612345678").as_deref(),
            Some("06 12 34 56 78")
        );
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "12345",
            "0012345678",
            "06 12 34 56",
            "+44 20 7946 0958",
            "abc",
        ] {
            assert!(!is_valid(s), "{s}");
        }
    }

    proptest! {
        #[test]
        fn any_separator_style_normalises_the_same(d in proptest::collection::vec(0u8..10, 8),
                                                   first in 1u8..10, sep in "[ .\\-]?") {
            let nat: String = std::iter::once(first).chain(d).map(|x| (b'0' + x) as char).collect();
            let e164 = format!("+33{nat}");
            let spaced = national_spaced(&e164).unwrap().replace(' ', &sep);
            prop_assert_eq!(normalize(&spaced), Some(e164.clone()));
            prop_assert_eq!(normalize(&format!("0033{nat}")), Some(e164));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = normalize(&s);
        }

        #[test]
        fn ascii_path_agrees_with_normalize(s in "[0-9 .\\-/+()x]{0,44}") {
            let slow = normalize(&s).is_some_and(|n| kind(&n).is_some());
            prop_assert_eq!(is_valid(&s), slow);
        }

        #[test]
        fn ascii_path_agrees_on_numbers(nat in "[0-9]{9}", pre in "(\\+33|0033|0|33|\\+33 ?\\(0\\)|\\+33\\(|\\+|)",
                                        sep in "[ .\\-]?") {
            let spaced: String = nat.chars().flat_map(|c| [c, sep.chars().next().unwrap_or('x')]).collect();
            for s in [format!("{pre}{nat}"), format!(" {pre}{spaced} "), format!("{pre}0{nat}")] {
                let slow = normalize(&s).is_some_and(|n| kind(&n).is_some());
                prop_assert_eq!(is_valid(&s), slow, "{}", s);
            }
        }
    }
}
