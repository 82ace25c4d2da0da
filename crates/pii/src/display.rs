//! Names from a file shown on a terminal or in a report: a file name, a zip member name, a
//! JSON key or a header may hold control characters (an ANSI escape sequence that rewrites
//! the terminal, a carriage return that hides the start of a line) or bidirectional overrides
//! that reorder what is read. [`escape`] shows them as visible escapes instead.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal or a report raw: C0 and C1 controls, DEL, and the
/// bidirectional embedding, override and isolate characters.
pub fn is_hostile(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every [`is_hostile`] character written as a visible escape — `\x1b` for ASCII
/// controls, `\u{9b}` for others — and backslashes that could be mistaken for one doubled
/// only when something was escaped (a clean name is returned unchanged, borrowed).
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_hostile) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if is_hostile(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_hostile(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for a multi-line message: line feeds are kept, every other hostile character
/// is escaped.
pub fn escape_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| escape(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        let table: &[(&str, &str)] = &[
            ("leak.csv", "leak.csv"),
            ("caf\u{e9} \\ ok", "caf\u{e9} \\ ok"),
            ("\x1b[2J\x1b[31mleak", "\\x1b[2J\\x1b[31mleak"),
            ("a\rb\tc\nd", "a\\x0db\\x09c\\x0ad"),
            ("x\u{7f}\u{9b}y", "x\\x7f\\u{9b}y"),
            ("cod\u{202e}fdp.exe", "cod\\u{202e}fdp.exe"),
            ("\\x1b\x1b", "\\\\x1b\\x1b"),
        ];
        for (raw, shown) in table {
            assert_eq!(escape(raw), *shown, "{raw:?}");
        }
        assert_eq!(escape_lines("a\x1b\nb"), "a\\x1b\nb");
    }

    proptest! {
        #[test]
        fn nothing_hostile_survives(s in any::<String>()) {
            let e = escape(&s);
            prop_assert!(!e.chars().any(is_hostile));
            if !s.chars().any(is_hostile) {
                prop_assert_eq!(e.as_ref(), s.as_str());
            }
        }
    }
}
