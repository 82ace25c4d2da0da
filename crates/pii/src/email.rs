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
    let s = crate::text::trim(s);
    if s.is_ascii() {
        return is_valid_ascii(s.as_bytes());
    }
    is_valid_chars(s)
}

/// Byte classes of [`is_valid_ascii`]: allowed in the local part, allowed in the host.
const LOCAL: u8 = 1;
const HOST: u8 = 2;
const CLASS: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut c = 0;
    while c < 128 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() {
            t[c] = LOCAL | HOST;
        }
        c += 1;
    }
    let specials = b"._%+-'!#$&*=?^`{|}~";
    let mut i = 0;
    while i < specials.len() {
        t[specials[i] as usize] |= LOCAL;
        i += 1;
    }
    t[b'-' as usize] |= HOST;
    t[b'.' as usize] |= HOST;
    t
};

/// [`is_valid`] of a trimmed ASCII string, byte by byte (this runs on every value of an
/// e-mail column).
fn is_valid_ascii(s: &[u8]) -> bool {
    if s.len() > 254 || s.len() < 6 {
        return false;
    }
    let class = |c: u8| CLASS[usize::from(c & 0x7f)];
    // The local part: allowed bytes up to the first `@`.
    let mut at = 0;
    while at < s.len() && s[at] != b'@' {
        if class(s[at]) & LOCAL == 0 {
            return false;
        }
        at += 1;
    }
    if at == 0 || at > 64 || at == s.len() {
        return false;
    }
    let domain = &s[at + 1..];
    // The domain: host bytes up to the last dot, then 2+ letters (no `@` anywhere).
    let Some(dot) = domain.iter().rposition(|&c| c == b'.') else {
        return false;
    };
    let (host, tld) = (&domain[..dot], &domain[dot + 1..]);
    !host.is_empty()
        && host[0] != b'.'
        && host[host.len() - 1] != b'.'
        && host.iter().all(|&c| class(c) & HOST != 0)
        && tld.len() >= 2
        && tld.iter().all(u8::is_ascii_alphabetic)
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
