//! E-mail addresses: a pragmatic syntax check and the canonical form used for fingerprints.

/// Canonical form: trimmed and lower-cased. Returns `None` when `s` is not an address.
pub fn normalize(s: &str) -> Option<String> {
    let s = s.trim();
    if !is_valid(s) {
        return None;
    }
    Some(s.to_lowercase())
}

/// Whether `s` looks like an e-mail address: one `@`, a non-empty local part without spaces,
/// and a domain with a dot and a 2+ letter top-level label.
pub fn is_valid(s: &str) -> bool {
    let s = s.trim();
    if s.is_ascii() {
        return is_valid_ascii(s.as_bytes());
    }
    is_valid_chars(s)
}

/// [`is_valid`] of a trimmed ASCII string, byte by byte (this runs on every value of an
/// e-mail column).
fn is_valid_ascii(s: &[u8]) -> bool {
    if s.len() > 254 || s.len() < 6 {
        return false;
    }
    let Some(at) = memchr_byte(b'@', s) else {
        return false;
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.is_empty() || local.len() > 64 || domain.contains(&b'@') {
        return false;
    }
    let ok_local = local
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || b"._%+-'!#$&*=?^`{|}~".contains(&c));
    let Some(dot) = domain.iter().rposition(|&c| c == b'.') else {
        return false;
    };
    let (host, tld) = (&domain[..dot], &domain[dot + 1..]);
    ok_local
        && !host.is_empty()
        && !host.starts_with(b".")
        && !host.ends_with(b".")
        && host
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        && tld.len() >= 2
        && tld.iter().all(u8::is_ascii_alphabetic)
}

fn memchr_byte(b: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&c| c == b)
}

/// [`is_valid`] by characters, whatever the string.
fn is_valid_chars(s: &str) -> bool {
    let s = s.trim();
    if s.len() > 254 || s.len() < 6 {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return false;
    }
    let ok_local = local
        .chars()
        .all(|c| c.is_alphanumeric() || "._%+-'!#$&*=?^`{|}~".contains(c));
    let Some((host, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    ok_local
        && !host.is_empty()
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
}

/// The domain part, lower-cased.
pub fn domain(s: &str) -> Option<String> {
    normalize(s).and_then(|e| e.split_once('@').map(|(_, d)| d.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_rejects() {
        assert_eq!(
            normalize("  Marie.Dupont@Orange.FR ").as_deref(),
            Some("marie.dupont@orange.fr")
        );
        assert!(is_valid("jean-luc.o'neil+pe@free.fr"));
        for s in [
            "", "a@b", "no at.fr", "x@@y.fr", "x@y.f", "a b@c.fr", "@x.fr", "x@.fr",
        ] {
            assert!(!is_valid(s), "{s}");
        }
        assert_eq!(domain("a.b@SFR.fr").as_deref(), Some("sfr.fr"));
    }

    proptest! {
        #[test]
        fn ascii_path_agrees_with_chars(s in "[a-zA-Z0-9._%+'!#$&*=?^`{|}~ @-]{0,30}") {
            prop_assert_eq!(is_valid(&s), is_valid_chars(&s));
        }

        #[test]
        fn ascii_path_agrees_on_addresses(s in "[a-z0-9._'+ -]{0,12}@[a-z0-9.-]{0,10}\\.?[a-zA-Z0-9]{0,4}") {
            prop_assert_eq!(is_valid(&s), is_valid_chars(&s));
        }

        #[test]
        fn normalize_is_idempotent(s in "[a-zA-Z0-9._-]{1,20}@[a-zA-Z0-9-]{1,10}\\.[a-z]{2,4}") {
            if let Some(n) = normalize(&s) {
                prop_assert_eq!(normalize(&n), Some(n.clone()));
            }
        }
    }
}
