//! Text folding for names, communes and other free text.

use unicode_normalization::UnicodeNormalization;

/// Fold text for comparison: NFKD, drop combining marks, upper-case, map `Œ`/`Æ`/`ß`,
/// turn punctuation (apostrophes, hyphens, dots, commas) into spaces and collapse runs of
/// white space. `"  Hélène-Marie d'Orléans "` → `"HELENE MARIE D ORLEANS"`.
///
/// Characters are decomposed one at a time (ASCII needs none): since combining marks are
/// dropped, this equals folding the NFKD of the whole string, without its buffering — the
/// hot path of typing, enrolment and analysis.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_ascii() {
            push_folded(c, &mut out, &mut pending_space);
        } else {
            unicode_normalization::char::decompose_compatible(c, |d| {
                push_folded(d, &mut out, &mut pending_space)
            });
        }
    }
    out
}

/// `s.trim()`, without looking for Unicode blanks when `s` starts and ends with a printable
/// ASCII character (the common case: `trim` decodes characters from both ends).
#[inline]
pub fn trim(s: &str) -> &str {
    let printable = |b: Option<&u8>| b.is_some_and(|&b| (0x21..0x7f).contains(&b));
    if printable(s.as_bytes().first()) && printable(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// [`fold`] of an ASCII string into `out` (cleared first), byte by byte and without
/// allocating once `out` has grown: the hot path of checking names and communes. The result is
/// ASCII and its own fold. Returns `false` (and leaves `out` empty) when `s` is not ASCII.
pub fn fold_ascii_into(s: &str, out: &mut String) -> bool {
    out.clear();
    if !s.is_ascii() {
        return false;
    }
    let mut pending_space = false;
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(char::from(b.to_ascii_uppercase()));
        } else {
            pending_space = true;
        }
    }
    true
}

/// One character of an NFKD decomposition into [`fold`]'s output.
fn push_folded(c: char, out: &mut String, pending_space: &mut bool) {
    // A separator pending since the last word becomes one space before the next word.
    let mut word = |out: &mut String| {
        if *pending_space && !out.is_empty() {
            out.push(' ');
        }
        *pending_space = false;
    };
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            word(out);
            out.push(c.to_ascii_uppercase());
        } else {
            *pending_space = true;
        }
        return;
    }
    if unicode_normalization::char::is_combining_mark(c) {
        return;
    }
    let mapped: &str = match c {
        'œ' | 'Œ' => "OE",
        'æ' | 'Æ' => "AE",
        'ß' => "SS",
        'ø' | 'Ø' => "O",
        'ł' | 'Ł' => "L",
        'đ' | 'Đ' => "D",
        _ => "",
    };
    if !mapped.is_empty() {
        word(out);
        out.push_str(mapped);
    } else if c.is_alphanumeric() {
        word(out);
        out.extend(c.to_uppercase());
    } else {
        *pending_space = true;
    }
}

/// ASCII upper case without accents, keeping hyphens and apostrophes as written — the style
/// of legacy exports (`HÉLÈNE` → `HELENE`, `Saint-Étienne` → `SAINT-ETIENNE`).
pub fn upper_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        match c {
            'œ' | 'Œ' => out.push_str("OE"),
            'æ' | 'Æ' => out.push_str("AE"),
            _ => out.extend(c.to_uppercase()),
        }
    }
    out
}

/// Strip accents only, keeping case and punctuation (`Hélène` → `Helene`).
pub fn strip_accents(s: &str) -> String {
    s.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

/// Title case for a name: first letter of each word (after space, hyphen or apostrophe)
/// upper, the rest lower (`JEAN-PIERRE` → `Jean-Pierre`).
pub fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = matches!(c, ' ' | '-' | '\'' | '’');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds() {
        assert_eq!(fold("  Hélène-Marie d'Orléans "), "HELENE MARIE D ORLEANS");
        assert_eq!(fold("Cœur"), "COEUR");
        assert_eq!(fold("ÉLODIE"), fold("élodie"));
        assert_eq!(upper_ascii("Saint-Étienne"), "SAINT-ETIENNE");
        assert_eq!(strip_accents("Hélène"), "Helene");
        assert_eq!(title_case("JEAN-PIERRE"), "Jean-Pierre");
        assert_eq!(title_case("d'ARTAGNAN"), "D'Artagnan");
    }

    /// [`fold`] by its definition: the NFKD of the whole string (with the canonical reordering
    /// of combining marks), character by character.
    fn fold_reference(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut pending_space = false;
        for c in s.nfkd() {
            push_folded(c, &mut out, &mut pending_space);
        }
        out
    }

    proptest! {
        #[test]
        fn fold_agrees_with_whole_string_nfkd(s in "\\PC{0,40}") {
            prop_assert_eq!(fold(&s), fold_reference(&s));
        }

        #[test]
        fn fold_agrees_on_french_names(s in "[a-zA-Z0-9éèêëàâäçôöîïùûüÿœæÉÈÊÀÇÔÎÙŒÆß'., -]{0,40}") {
            prop_assert_eq!(fold(&s), fold_reference(&s));
        }

        #[test]
        fn trim_agrees(s in "[ \t\u{a0}\u{2003}\u{85}\u{1c}a-z!~é]{0,12}") {
            prop_assert_eq!(trim(&s), s.trim());
        }

        #[test]
        fn ascii_fold_agrees(s in "[ -~\t]{0,40}") {
            let mut out = String::from("junk");
            prop_assert!(fold_ascii_into(&s, &mut out));
            prop_assert_eq!(&out, &fold(&s));
            prop_assert_eq!(fold(&out), out);
        }

        #[test]
        fn fold_is_idempotent(s in "\\PC{0,30}") {
            let f = fold(&s);
            prop_assert_eq!(fold(&f), f);
        }

        #[test]
        fn fold_ignores_case_and_accents(s in "[a-zA-Zéèêàçôîùï' -]{0,30}") {
            prop_assert_eq!(fold(&s.to_uppercase()), fold(&strip_accents(&s)));
        }
    }
}
