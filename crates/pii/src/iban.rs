//! IBAN validation (ISO 13616, mod 97 = 1).

/// Canonical form (upper case, no spaces) of a valid IBAN.
pub fn normalize(s: &str) -> Option<String> {
    let c: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !(15..=34).contains(&c.len()) || !c.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let b = c.as_bytes();
    if !b[0].is_ascii_alphabetic() || !b[1].is_ascii_alphabetic() {
        return None;
    }
    if !b[2].is_ascii_digit() || !b[3].is_ascii_digit() {
        return None;
    }
    let mut rem: u32 = 0;
    for &ch in b[4..].iter().chain(&b[..4]) {
        let v = if ch.is_ascii_digit() {
            u32::from(ch - b'0')
        } else {
            u32::from(ch - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    (rem == 1).then_some(c)
}

/// Whether `s` is a valid IBAN.
pub fn is_valid(s: &str) -> bool {
    normalize(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        assert!(is_valid("FR76 3000 6000 0112 3456 7890 189"));
        assert!(is_valid("GB82WEST12345698765432"));
        assert!(!is_valid("FR76 3000 6000 0112 3456 7890 188"));
        assert!(!is_valid("hello"));
    }
}
