//! Person-name normal forms used for fingerprints and comparisons.
//!
//! * [`canonical`]: folded, upper-case, letters and digits only (`Le Goff-Hervé` → `LEGOFFHERVE`),
//!   so that case, accents, hyphens, apostrophes and spaces never matter;
//! * [`core`]: the canonical form without leading particles (`de La Fontaine` → `FONTAINE`);
//! * [`deletions`]: the canonical form and every form with one character deleted: two names whose
//!   sets intersect are at most one edit apart (insertion, deletion, substitution or swap of
//!   neighbours), which tolerates typos with equality tests only — so it works on fingerprints;
//! * [`phonetic`]: a French phonetic code (`LEFEBVRE`, `LEFEVRE` → `LFV`; `DUPOND`, `DUPONT`);
//! * [`tokens`]: the folded words sorted, for full names written in any order.

use crate::text::fold;

const PARTICLES: [&str; 14] = [
    "DE", "DU", "DES", "LA", "LE", "LES", "D", "L", "VAN", "VON", "DER", "DI", "DA", "DEL",
];

/// Folded, upper case, letters and digits only.
pub fn canonical(s: &str) -> String {
    fold(s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// The canonical form without leading particles (`D'ALEMBERT` → `ALEMBERT`); the canonical form
/// itself when nothing would remain.
pub fn core(s: &str) -> String {
    let folded = fold(s);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let start = words
        .iter()
        .position(|w| !PARTICLES.contains(w))
        .unwrap_or(0);
    let start = if start >= words.len() { 0 } else { start };
    words[start..].concat()
}

/// Sorted folded words (`MARTIN Jean-Pierre` → `JEAN MARTIN PIERRE`).
pub fn tokens(s: &str) -> String {
    let folded = fold(s);
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    words.join(" ")
}

/// The canonical form and all forms with one character deleted (deduplicated, sorted).
/// Empty for an empty name. Names longer than 40 characters only yield themselves.
pub fn deletions(canonical: &str) -> Vec<String> {
    let chars: Vec<char> = canonical.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let mut out = vec![canonical.to_string()];
    if chars.len() > 1 && chars.len() <= 40 {
        for i in 0..chars.len() {
            let s: String = chars
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| *c)
                .collect();
            out.push(s);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A French phonetic code: silent letters and spelling variants that sound alike map to the
/// same code (`PH`→`F`, `C`/`QU`/`K`, `EAU`/`AU`/`O`, final `T`/`D`/`S`/`X`/`Z`, `Y`→`I`,
/// doubled letters, …). Vowels are kept only at the start; nasal vowels keep their nasal
/// consonant. Empty when the name has no letter.
pub fn phonetic(s: &str) -> String {
    let word: Vec<u8> = canonical(s)
        .bytes()
        .filter(|b| b.is_ascii_uppercase())
        .collect();
    if word.is_empty() {
        return String::new();
    }
    let w = String::from_utf8(word).unwrap_or_default();
    // Multi-letter spellings first (order matters).
    const RULES: [(&str, &str); 27] = [
        ("SCH", "CH"),
        ("EAU", "O"),
        ("AU", "O"),
        ("OU", "U"),
        ("PH", "F"),
        ("TH", "T"),
        ("GUE", "KE"),
        ("GUI", "KI"),
        ("QU", "K"),
        ("Q", "K"),
        ("CK", "K"),
        ("CE", "SE"),
        ("CI", "SI"),
        ("CY", "SI"),
        ("CH", "$"),
        ("C", "K"),
        ("GN", "NI"),
        ("GE", "JE"),
        ("GI", "JI"),
        ("AI", "E"),
        ("EI", "E"),
        ("Y", "I"),
        ("W", "V"),
        ("Z", "S"),
        ("X", "KS"),
        ("H", ""),
        ("BV", "V"),
    ];
    let mut w = w;
    for (from, to) in RULES {
        if w.contains(from) {
            w = w.replace(from, to);
        }
    }
    // Silent endings.
    for end in ["ENT", "ER", "EZ", "ET"] {
        if w.len() > end.len() + 2 && w.ends_with(end) {
            w.truncate(w.len() - end.len());
            w.push('E');
            break;
        }
    }
    while w.len() > 2 && matches!(w.as_bytes()[w.len() - 1], b'T' | b'D' | b'S' | b'P' | b'E') {
        w.pop();
    }
    // First letter kept; later vowels dropped; runs collapsed.
    let bytes = w.as_bytes();
    let mut out = String::with_capacity(bytes.len());
    let mut last = 0u8;
    for (i, &b) in bytes.iter().enumerate() {
        let vowel = matches!(b, b'A' | b'E' | b'I' | b'O' | b'U');
        if i > 0 && vowel {
            last = b;
            continue;
        }
        if b != last {
            out.push(if b == b'$' { 'X' } else { b as char });
        }
        last = b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("Le Goff-Hervé"), "LEGOFFHERVE");
        assert_eq!(canonical("  d'Orléans "), "DORLEANS");
        assert_eq!(core("de La Fontaine"), "FONTAINE");
        assert_eq!(core("D'ALEMBERT"), "ALEMBERT");
        assert_eq!(core("Le"), "LE");
        assert_eq!(core("Martin"), "MARTIN");
        assert_eq!(tokens("MARTIN Jean-Pierre"), "JEAN MARTIN PIERRE");
        assert_eq!(tokens("Jean Pierre martin"), "JEAN MARTIN PIERRE");
    }

    #[test]
    fn phonetic_variants_agree() {
        for (a, b) in [
            ("LEFEBVRE", "LEFEVRE"),
            ("DUPOND", "DUPONT"),
            ("PHILIPPE", "FILIPE"),
            ("GAUTHIER", "GAUTIER"),
            ("MEUNIER", "MEUNIE"),
            ("Rousseau", "ROUSSOT"),
            ("Schmitt", "Chmit"),
            ("Thomas", "TOMAS"),
            ("Camille", "KAMILLE"),
            ("Grégory", "GREGORI"),
            ("Mathieu", "Matthieu"),
        ] {
            assert_eq!(phonetic(a), phonetic(b), "{a} vs {b}");
        }
        for (a, b) in [
            ("MARTIN", "BERNARD"),
            ("DURAND", "DUBOIS"),
            ("PETIT", "PERRIN"),
        ] {
            assert_ne!(phonetic(a), phonetic(b), "{a} vs {b}");
        }
        assert_eq!(phonetic("--"), "");
    }

    fn one_edit(s: &str, op: u8, i: usize) -> String {
        let mut c: Vec<char> = s.chars().collect();
        let i = i % c.len();
        match op % 4 {
            0 => {
                c.remove(i);
            }
            1 => c.insert(i, 'X'),
            2 => c[i] = 'Q',
            _ => {
                if i + 1 < c.len() {
                    c.swap(i, i + 1)
                }
            }
        }
        c.into_iter().collect()
    }

    proptest! {
        #[test]
        fn one_edit_apart_deletion_sets_intersect(s in "[A-Z]{2,12}", op in 0u8..4, i in 0usize..12) {
            let t = one_edit(&s, op, i);
            let a = deletions(&s);
            let b = deletions(&t);
            prop_assert!(a.iter().any(|x| b.contains(x)), "{} / {}", s, t);
        }

        #[test]
        fn canonical_is_idempotent(s in "\\PC{0,20}") {
            let c = canonical(&s);
            prop_assert_eq!(canonical(&c), c.clone());
            let _ = phonetic(&s);
            let _ = core(&s);
        }
    }

    #[test]
    fn far_names_do_not_intersect() {
        let a = deletions("MARTIN");
        let b = deletions("MARCEL");
        assert!(!a.iter().any(|x| b.contains(x)));
        assert!(deletions("").is_empty());
    }
}
