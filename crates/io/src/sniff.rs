//! Encoding, dialect and header sniffing on a decoded sample.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};
use leaktrace_pii::{email, nir, phone};

/// Pick the encoding of a byte sample: BOM first, then valid UTF-8, else Windows-1252.
/// Returns the encoding and its label for reports.
pub(crate) fn encoding(sample: &[u8]) -> (&'static Encoding, &'static str) {
    if sample.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return (UTF_8, "utf-8-bom");
    }
    if sample.starts_with(&[0xFF, 0xFE]) {
        return (UTF_16LE, "utf-16le");
    }
    if sample.starts_with(&[0xFE, 0xFF]) {
        return (UTF_16BE, "utf-16be");
    }
    // A sample cut in the middle of a multi-byte character is still UTF-8.
    match std::str::from_utf8(sample) {
        Ok(_) => (UTF_8, "utf-8"),
        Err(e) if e.error_len().is_none() => (UTF_8, "utf-8"),
        Err(_) => (WINDOWS_1252, "windows-1252"),
    }
}

/// Decode a sample (BOM removed).
pub(crate) fn decode_sample(sample: &[u8], enc: &'static Encoding) -> String {
    enc.decode_with_bom_removal(sample).0.into_owned()
}

/// Offset of the first character that no text table holds (NUL or most C0 controls), if the
/// sample has more than a few of them.
pub(crate) fn binary_offset(text: &str) -> Option<usize> {
    let mut first = None;
    let mut count = 0usize;
    for (i, c) in text.char_indices() {
        if (c < ' ' && !matches!(c, '\t' | '\n' | '\r' | '\x0c')) || c == '\u{fffd}' {
            count += 1;
            first.get_or_insert(i);
        }
    }
    (count * 100 > text.len().max(1) || text.contains('\0')).then(|| first.unwrap_or(0))
}

/// Split a sample into at most `max` records with a small quote-aware parser.
fn records(text: &str, delim: u8, max: usize) -> Vec<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut complete = text.ends_with('\n');
    for r in rdr.records().take(max + 1) {
        match r {
            Ok(r) => out.push(r.iter().map(str::to_string).collect()),
            Err(_) => break,
        }
    }
    // The sample's last record may be cut: drop it unless the sample ended a line.
    if out.len() > max {
        out.truncate(max);
        complete = true;
    }
    if !complete && out.len() > 1 {
        out.pop();
    }
    out
}

/// The delimiter (among `,` `;` tab `|`) that splits the sample's lines into the most
/// consistent number (> 1) of fields.
pub fn sniff_delimiter(text: &str) -> u8 {
    let mut best = (b',', 0.0f64);
    for d in [b',', b';', b'\t', b'|'] {
        let recs = records(text, d, 200);
        if recs.is_empty() {
            continue;
        }
        let mut counts = std::collections::HashMap::new();
        for r in &recs {
            *counts.entry(r.len()).or_insert(0usize) += 1;
        }
        let (&width, &n) = counts
            .iter()
            .max_by_key(|(w, n)| (**n, **w))
            .unwrap_or((&1, &0));
        if width < 2 {
            continue;
        }
        // Consistency first, then more fields.
        let score = n as f64 / recs.len() as f64 + (width as f64).ln() / 100.0;
        if score > best.1 {
            best = (d, score);
        }
    }
    best.0
}

/// Width of the first record of the sample.
pub(crate) fn first_record_width(text: &str, delim: u8) -> usize {
    records(text, delim, 1).first().map_or(1, Vec::len)
}

/// Whether a cell looks like data rather than a column name.
fn data_like(cell: &str) -> bool {
    let c = cell.trim();
    let digits = c.chars().filter(char::is_ascii_digit).count();
    digits >= 3
        || email::is_valid(c)
        || phone::is_valid(c)
        || nir::is_valid(c)
        || c.parse::<f64>().is_ok()
}

/// Whether the sample's first record is a header: none of its cells looks like data while some
/// column's values below do, or its cells are all distinct short labels unlike the values below.
pub fn detect_header(text: &str, delim: u8) -> bool {
    detect_header_rows(&records(text, delim, 50))
}

/// [`detect_header`] on rows already split into cells.
pub fn detect_header_rows(recs: &[Vec<String>]) -> bool {
    let recs = &recs[..recs.len().min(50)];
    let Some(first) = recs.first() else {
        return false;
    };
    if first.iter().any(|c| data_like(c)) {
        return false;
    }
    if recs.len() < 2 {
        return true;
    }
    let body = &recs[1..];
    let mut data_columns = 0;
    let mut label_diff = 0;
    for (j, h) in first.iter().enumerate() {
        let vals: Vec<&str> = body
            .iter()
            .filter_map(|r| r.get(j))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        if vals.is_empty() {
            continue;
        }
        let share = vals.iter().filter(|v| data_like(v)).count() as f64 / vals.len() as f64;
        if share > 0.5 {
            data_columns += 1;
        }
        // A header cell that never occurs among the column's values.
        if !vals.iter().any(|v| v.eq_ignore_ascii_case(h.trim())) {
            label_diff += 1;
        }
    }
    let distinct: std::collections::HashSet<&String> = first.iter().collect();
    data_columns > 0
        || (distinct.len() == first.len()
            && label_diff == first.len()
            && first.len() > 1
            && header_words(first))
}

/// Whether cells read like column names (words with `_`, spaces or accents, no digits-only).
fn header_words(cells: &[String]) -> bool {
    const HINTS: [&str; 24] = [
        "nom",
        "prenom",
        "prénom",
        "name",
        "mail",
        "tel",
        "phone",
        "mobile",
        "ville",
        "city",
        "commune",
        "cp",
        "code",
        "date",
        "naissance",
        "birth",
        "age",
        "id",
        "adresse",
        "address",
        "sexe",
        "civilite",
        "niveau",
        "diplome",
    ];
    cells.iter().any(|c| {
        let l = c.to_lowercase();
        HINTS.iter().any(|h| l.contains(h))
    })
}
