//! French social security number (NIR, "numéro de sécurité sociale").
//!
//! Layout: sex (1), birth year (2), birth month (2), department (2, `2A`/`2B` for Corsica),
//! commune (3), order (3) and key (2), where key = 97 − (first 13 digits mod 97) and Corsica's
//! `2A`/`2B` count as `19`/`18` for the key. Overseas births use a 3-digit department (97x) and a
//! 2-digit commune. Written forms accepted: plain, with spaces, dots or dashes.

/// A syntactically valid NIR with a correct key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nir {
    /// The 15 canonical characters (13 + key), upper case, no separators.
    canonical: String,
}

impl Nir {
    /// The canonical 15-character form, no separators.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// Sex digit: 1 male, 2 female (3, 7, 8 for provisional numbers).
    pub fn sex_digit(&self) -> u8 {
        self.canonical.as_bytes()[0] - b'0'
    }

    /// Two-digit birth year.
    pub fn birth_year2(&self) -> u8 {
        self.canonical[1..3].parse().unwrap_or(0)
    }

    /// Birth month (01–12, or 20+/99 for unknown months as allowed by INSEE).
    pub fn birth_month(&self) -> u8 {
        self.canonical[3..5].parse().unwrap_or(0)
    }

    /// Department of birth: 2 characters, or 3 for overseas (97x/98x).
    pub fn department(&self) -> &str {
        let rest = &self.canonical[5..];
        if rest.starts_with("97") || rest.starts_with("98") {
            &self.canonical[5..8]
        } else {
            &self.canonical[5..7]
        }
    }

    /// The 2-digit key.
    pub fn key(&self) -> &str {
        &self.canonical[13..15]
    }

    /// The usual spaced display form: `2 89 05 2A 123 456 78`.
    pub fn spaced(&self) -> String {
        let c = &self.canonical;
        format!(
            "{} {} {} {} {} {} {}",
            &c[0..1],
            &c[1..3],
            &c[3..5],
            &c[5..7],
            &c[7..10],
            &c[10..13],
            &c[13..15]
        )
    }
}

/// Numeric value of the 13 body characters, with 2A → 19 and 2B → 18.
fn body_number(body: &[u8; 13]) -> Option<u64> {
    let mut digits = *body;
    let corsica_adjust: i64 = match (digits[5], digits[6]) {
        (b'2', b'A') => {
            digits[6] = b'0';
            -1_000_000
        }
        (b'2', b'B') => {
            digits[6] = b'0';
            -2_000_000
        }
        _ => 0,
    };
    let mut n: u64 = 0;
    for d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(d - b'0');
    }
    Some((n as i64 + corsica_adjust) as u64)
}

/// The key (1–97) of a 13-character NIR body such as `1890575123456` or `2890520A12345`.
/// Returns `None` when the body is malformed.
pub fn compute_key(body: &str) -> Option<u8> {
    let bytes: &[u8; 13] = body.as_bytes().try_into().ok()?;
    let n = body_number(&upper13(bytes))?;
    Some((97 - (n % 97)) as u8)
}

fn upper13(b: &[u8; 13]) -> [u8; 13] {
    let mut out = *b;
    out.make_ascii_uppercase();
    out
}

/// Strip the separators a NIR is commonly written with (spaces, dots, dashes, NBSP).
fn compact(s: &str) -> Option<[u8; 15]> {
    let s = crate::text::trim(s);
    if s.is_ascii() {
        // The same rules byte by byte (no character decoding): the common case.
        return compact_ascii(s.as_bytes());
    }
    compact_chars(s)
}

/// [`compact`] character by character: any string (and the reference of the ASCII path).
fn compact_chars(s: &str) -> Option<[u8; 15]> {
    let mut out = [0u8; 15];
    let mut n = 0;
    for ch in s.chars() {
        match ch {
            ' ' | '.' | '-' | '\u{a0}' | '\u{202f}' | '\t' => continue,
            c if c.is_ascii_alphanumeric() => {
                if n == 15 {
                    return None;
                }
                out[n] = c.to_ascii_uppercase() as u8;
                n += 1;
            }
            _ => return None,
        }
    }
    (n == 15).then_some(out)
}

/// [`compact`] of an ASCII string.
fn compact_ascii(s: &[u8]) -> Option<[u8; 15]> {
    let mut out = [0u8; 15];
    let mut n = 0;
    for &b in s {
        match b {
            b' ' | b'.' | b'-' | b'\t' => continue,
            c if c.is_ascii_alphanumeric() => {
                if n == 15 {
                    return None;
                }
                out[n] = c.to_ascii_uppercase();
                n += 1;
            }
            _ => return None,
        }
    }
    (n == 15).then_some(out)
}

/// Parse a NIR written in any common form and check its key.
///
/// ```
/// let n = leaktrace_pii::nir::parse("2 89 05 2A 123 456 18").map(|n| n.as_str().to_owned());
/// assert!(n.is_none() || n.unwrap().len() == 15);
/// ```
pub fn parse(s: &str) -> Option<Nir> {
    let c = canonical(s)?;
    Some(Nir {
        canonical: String::from_utf8(c.to_vec()).ok()?,
    })
}

/// The 15 canonical characters of a NIR written in any common form, when its key is right
/// (no allocation: this runs on every value of a NIR column).
fn canonical(s: &str) -> Option<[u8; 15]> {
    match <&[u8; 15]>::try_from(s.as_bytes()) {
        // Fifteen digits (the usual form): nothing to compact.
        Ok(b) if b.iter().all(u8::is_ascii_digit) => checked(*b),
        _ => canonical_general(s),
    }
}

/// [`canonical`] of any written form, always compacted (the reference of its shortcut).
fn canonical_general(s: &str) -> Option<[u8; 15]> {
    checked(compact(s)?)
}

/// Compacted characters `c` if they make a NIR with the right key.
#[inline]
fn checked(c: [u8; 15]) -> Option<[u8; 15]> {
    if !matches!(c[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
        return None;
    }
    let body: [u8; 13] = c[..13].try_into().ok()?;
    // Only positions 5-6 may hold letters (2A / 2B).
    for (i, b) in body.iter().enumerate() {
        if !(b.is_ascii_digit() || (i == 6 && body[5] == b'2' && (*b == b'A' || *b == b'B'))) {
            return None;
        }
    }
    if !c[13].is_ascii_digit() || !c[14].is_ascii_digit() {
        return None;
    }
    let key = (c[13] - b'0') * 10 + (c[14] - b'0');
    let n = body_number(&body)?;
    (u64::from(key) == 97 - (n % 97)).then_some(c)
}

/// Whether `s` is a valid NIR (any common written form, correct key).
pub fn is_valid(s: &str) -> bool {
    canonical(s).is_some()
}

/// Build a full NIR (15 characters) from its parts, computing the key.
///
/// `department` is 2 characters (`01`…`95`, `2A`, `2B`) or 3 for overseas (`971`…`976`);
/// `commune` is the rest of the INSEE code (3 or 2 digits), so that department + commune
/// is always 5 characters. Returns `None` if the parts are malformed.
pub fn build(sex: u8, year2: u8, month: u8, insee_code: &str, order: u16) -> Option<String> {
    if insee_code.len() != 5 || order == 0 || order > 999 || year2 > 99 {
        return None;
    }
    let body = format!(
        "{}{:02}{:02}{}{:03}",
        sex,
        year2,
        month,
        insee_code.to_ascii_uppercase(),
        order
    );
    let key = compute_key(&body)?;
    Some(format!("{body}{key:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_key() {
        // 1 84 12 76 451 089 → key 97 - (1841276451089 mod 97)
        let body = "1841276451089";
        let n: u64 = body.parse().unwrap();
        let key = 97 - (n % 97) as u8;
        assert_eq!(compute_key(body), Some(key));
        let full = format!("{body}{key:02}");
        assert!(is_valid(&full));
        let spaced = parse(&full).unwrap().spaced();
        assert!(is_valid(&spaced));
        assert_eq!(parse(&spaced).unwrap().as_str(), full);
    }

    #[test]
    fn corsica_counts_as_19_and_18() {
        let a = build(2, 89, 5, "2A004", 123).unwrap();
        let as19 = build(2, 89, 5, "19004", 123).unwrap();
        let b = build(1, 70, 1, "2B033", 7).unwrap();
        let as18 = build(1, 70, 1, "18033", 7).unwrap();
        assert_eq!(a[13..], as19[13..]);
        assert_eq!(b[13..], as18[13..]);
        assert!(is_valid(&a) && is_valid(&b));
        assert_eq!(parse(&a.to_lowercase()).unwrap().department(), "2A");
    }

    #[test]
    fn overseas_department() {
        let n = build(1, 95, 12, "97411", 42).unwrap();
        assert_eq!(parse(&n).unwrap().department(), "974");
    }

    #[test]
    fn rejects_bad_keys_and_shapes() {
        let n = build(1, 80, 3, "75056", 1).unwrap();
        let mut bad = n.clone().into_bytes();
        bad[14] = if bad[14] == b'9' { b'0' } else { bad[14] + 1 };
        assert!(!is_valid(std::str::from_utf8(&bad).unwrap()));
        assert!(!is_valid("123"));
        assert!(!is_valid(""));
        assert!(!is_valid("5 80 03 75 056 001 00"));
        assert!(!is_valid("1800375056001"));
        assert!(!is_valid("1 80 03 75 056 001 XX"));
    }

    proptest! {
        #[test]
        fn built_nirs_always_validate(sex in 1u8..=2, y in 0u8..100, m in 1u8..=12,
                                      dep in 1u32..=95, com in 1u32..=999, ord in 1u16..=999,
                                      corsica in 0u8..3) {
            let insee = match (dep, corsica) {
                (20, 1) => format!("2A{com:03}"),
                (20, 2) => format!("2B{com:03}"),
                _ => format!("{dep:02}{com:03}"),
            };
            let n = build(sex, y, m, &insee, ord).unwrap();
            prop_assert!(is_valid(&n));
            let p = parse(&n).unwrap();
            prop_assert!(is_valid(&p.spaced()));
            prop_assert_eq!(p.as_str(), n.as_str());
        }

        #[test]
        fn single_digit_change_is_detected(sex in 1u8..=2, y in 0u8..100, m in 1u8..=12,
                                           dep in 1u32..=95, com in 1u32..=999, ord in 1u16..=999,
                                           pos in 1usize..13, delta in 1u8..10) {
            let insee = format!("{dep:02}{com:03}");
            let n = build(sex, y, m, &insee, ord).unwrap();
            let mut b = n.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            prop_assert!(!is_valid(std::str::from_utf8(&b).unwrap()));
        }

        #[test]
        fn ascii_compaction_agrees_with_decoding(s in "[0-9AaBb .\\-\t_x]{0,24}") {
            prop_assert_eq!(compact_ascii(s.trim().as_bytes()), compact_chars(s.trim()));
        }

        #[test]
        fn digit_path_agrees_with_compaction(s in "[1-8][0-9]{14}", pos in 0usize..15, d in 0u8..10) {
            // Valid NIRs and single-digit variations, through both paths.
            let mut b = s.into_bytes();
            let body = std::str::from_utf8(&b[..13]).unwrap().to_string();
            let key = compute_key(&body).unwrap();
            b[13..].copy_from_slice(format!("{key:02}").as_bytes());
            for v in [b.clone(), { let mut x = b.clone(); x[pos] = b'0' + d; x }] {
                let v = String::from_utf8(v).unwrap();
                prop_assert_eq!(canonical(&v), canonical_general(&v));
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = parse(&s);
        }
    }
}
