//! Canonical forms of the values whose normalisation lives in the index (sex, full names,
//! postal codes, communes); the other types normalise in `leaktrace_pii`.

use leaktrace_pii::{refdata, text};

/// Sex as the NIR's first digit: `1` (male) or `2` (female).
pub fn canonical_sex(v: &str) -> Option<&'static str> {
    match text::fold(v).replace(' ', "").as_str() {
        "1" | "M" | "H" | "MR" | "MONSIEUR" | "HOMME" | "MASCULIN" | "MALE" => Some("1"),
        "2" | "F" | "MME" | "MLLE" | "MADAME" | "MADEMOISELLE" | "FEMME" | "FEMININ" | "FEMALE" => {
            Some("2")
        }
        _ => None,
    }
}

/// Split a full name into (first names, surname): words in capitals are the surname when the
/// others are not (the French convention `Vincent MARTIN`); otherwise words that are not known
/// first names are. `None` when no split is clear.
pub fn split_full_name(v: &str) -> Option<(String, String)> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if words.len() < 2 {
        return None;
    }
    let upper = |w: &str| {
        w.chars().filter(|c| c.is_alphabetic()).count() > 1 && !w.chars().any(char::is_lowercase)
    };
    let (l, f): (Vec<&str>, Vec<&str>) = words.iter().partition(|w| upper(w));
    if !l.is_empty() && !f.is_empty() {
        return Some((f.join(" "), l.join(" ")));
    }
    let r = refdata::get();
    let (f, l): (Vec<&str>, Vec<&str>) =
        words.iter().partition(|w| r.is_first_name(&text::fold(w)));
    (!f.is_empty() && !l.is_empty()).then(|| (f.join(" "), l.join(" ")))
}

/// Postal code as five digits (a leading zero dropped by a spreadsheet is restored).
pub fn canonical_postal_code(v: &str) -> Option<String> {
    let d: String = v.trim().chars().filter(|c| !c.is_whitespace()).collect();
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match d.len() {
        5 => Some(d),
        4 => Some(format!("0{d}")),
        _ => None,
    }
}

/// Commune name folded, `ST`/`STE` → `SAINT`/`SAINTE`, `CEDEX` and arrondissement numbers dropped.
pub fn canonical_commune(v: &str) -> Option<String> {
    let f = text::fold(v);
    let mut out = String::new();
    for w in f.split(' ') {
        let w = match w {
            "ST" => "SAINT",
            "STE" => "SAINTE",
            "CEDEX" => break,
            w if w.bytes().all(|b| b.is_ascii_digit()) => continue,
            w if w.ends_with("ER") && w[..w.len() - 2].bytes().all(|b| b.is_ascii_digit()) => {
                continue
            }
            w if w.ends_with("E") && w[..w.len() - 1].bytes().all(|b| b.is_ascii_digit()) => {
                continue
            }
            w => w,
        };
        out.push_str(w);
    }
    (!out.is_empty()).then_some(out)
}
