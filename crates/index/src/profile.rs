//! Format profiles: how a source writes its file, without any personal value.
//!
//! A profile keeps the dialect (format, encoding, delimiter, header), the column names, order
//! and types, and per column the *styles* of its values with their shares — phone style, date
//! style, name case, NIR spacing — plus the literal tokens of boolean and sex columns (`oui`,
//! `Mme`), which are vocabulary, not personal data. Attribution compares a leak's profile with
//! each source's.

use std::collections::BTreeMap;

use leaktrace_io::FileInfo;
use leaktrace_pii::{phone, ColumnType};
use leaktrace_scan::ColumnReport;
use serde::{Deserialize, Serialize};

/// The profile of one enrolled file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatProfile {
    pub format: String,
    pub compression: Option<String>,
    pub encoding: String,
    pub delimiter: Option<char>,
    pub has_header: bool,
    pub table: String,
    pub columns: Vec<ColumnProfile>,
}

/// One column's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub index: usize,
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Whether the type came from `--column` rather than detection.
    pub overridden: bool,
    /// Style → share of the non-empty values sampled (rounded to 0.001).
    pub styles: BTreeMap<String, f64>,
    /// Share of rows with a value.
    pub fill_rate: f64,
}

impl FormatProfile {
    /// The profile of a file from its reader's facts, its typed columns and a sample of rows.
    pub fn build(
        file: &FileInfo,
        table: &str,
        columns: &[ColumnReport],
        overridden: &[bool],
        rows: &[Vec<String>],
    ) -> FormatProfile {
        FormatProfile {
            format: file.format.clone(),
            compression: file.compression.map(|c| format!("{c:?}").to_lowercase()),
            encoding: file.encoding.clone(),
            delimiter: file.delimiter,
            has_header: file.has_header,
            table: table.to_string(),
            columns: columns
                .iter()
                .map(|c| ColumnProfile {
                    index: c.index,
                    name: c.name.clone(),
                    ty: c.ty,
                    overridden: overridden.get(c.index).copied().unwrap_or(false),
                    styles: styles(
                        c.ty,
                        rows.iter()
                            .map(|r| r.get(c.index).map_or("", String::as_str)),
                    ),
                    fill_rate: c.fill_rate,
                })
                .collect(),
        }
    }

    /// How alike two files are written, in [0, 1]: the dialect (format, encoding, delimiter,
    /// header: a quarter), the column names (a quarter) and, per shared column type, the overlap
    /// of value styles (half). Column names are compared case- and accent-blind.
    pub fn similarity(&self, other: &FormatProfile) -> f64 {
        let dialect = [
            self.format == other.format,
            self.encoding == other.encoding,
            self.delimiter == other.delimiter,
            self.has_header == other.has_header,
        ]
        .iter()
        .filter(|&&b| b)
        .count() as f64
            / 4.0;
        let norm = |n: &str| leaktrace_pii::text::fold(n).to_lowercase();
        let mine: std::collections::BTreeSet<String> =
            self.columns.iter().map(|c| norm(&c.name)).collect();
        let theirs: std::collections::BTreeSet<String> =
            other.columns.iter().map(|c| norm(&c.name)).collect();
        let names = if self.has_header && other.has_header {
            mine.intersection(&theirs).count() as f64 / mine.union(&theirs).count().max(1) as f64
        } else {
            0.5
        };
        let mut overlap = 0.0;
        let mut shared = 0usize;
        for c in &self.columns {
            if c.styles.is_empty() {
                continue;
            }
            if let Some(o) = other
                .columns
                .iter()
                .find(|o| o.ty == c.ty && !o.styles.is_empty())
            {
                shared += 1;
                overlap += c
                    .styles
                    .iter()
                    .map(|(k, v)| v.min(o.styles.get(k).copied().unwrap_or(0.0)))
                    .sum::<f64>();
            }
        }
        let styles = if shared == 0 {
            0.5
        } else {
            overlap / shared as f64
        };
        0.25 * dialect + 0.25 * names + 0.5 * styles
    }
}

fn case_style(v: &str) -> &'static str {
    let letters: Vec<char> = v.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() {
        "none"
    } else if letters.iter().all(|c| c.is_uppercase()) {
        "upper"
    } else if letters.iter().all(|c| c.is_lowercase()) {
        "lower"
    } else if leaktrace_pii::text::title_case(v) == v {
        "title"
    } else {
        "mixed"
    }
}

/// The style of one value of type `ty`, or `None` when the type has no styles. Styles are
/// shapes (`0X XX XX XX XX`, `DD/MM/YYYY`, `upper`), never content — except for booleans and
/// sex, whose tokens are vocabulary.
pub fn style(ty: ColumnType, v: &str) -> Option<String> {
    use ColumnType as T;
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let digits = v.chars().filter(char::is_ascii_digit).count();
    Some(match ty {
        T::Phone => {
            let s = if v.starts_with("+33") {
                if v.contains(' ') {
                    "+33 X XX XX XX XX"
                } else {
                    "+33XXXXXXXXX"
                }
            } else if v.starts_with("0033") {
                "0033XXXXXXXXX"
            } else if v.starts_with("33") && digits == 11 {
                "33XXXXXXXXX"
            } else if v.contains('.') {
                "0X.XX.XX.XX.XX"
            } else if v.contains(' ') {
                "0X XX XX XX XX"
            } else if v.contains('-') {
                "0X-XX-XX-XX-XX"
            } else if digits == 9 && phone::normalize(v).is_some() {
                "XXXXXXXXX"
            } else {
                "0XXXXXXXXX"
            };
            s.to_string()
        }
        T::BirthDate | T::Date => {
            let shape: String = v
                .chars()
                .map(|c| if c.is_ascii_digit() { '9' } else { c })
                .collect();
            match shape.as_str() {
                "9999-99-99" => "YYYY-MM-DD",
                "99/99/9999" => "DD/MM/YYYY",
                "99-99-9999" => "DD-MM-YYYY",
                "99.99.9999" => "DD.MM.YYYY",
                "99999999" => "YYYYMMDD",
                s if s.starts_with("9999-99-99T") || s.starts_with("9999-99-99 ") => {
                    "YYYY-MM-DD hh:mm:ss"
                }
                _ => "other",
            }
            .to_string()
        }
        T::Nir => if v.contains(' ') {
            "spaced"
        } else if v.contains('.') {
            "dotted"
        } else {
            "compact"
        }
        .to_string(),
        T::LastName | T::FirstName | T::FullName | T::Commune | T::Address => {
            let accents = if v.is_ascii() { "ascii" } else { "accented" };
            format!("{}/{accents}", case_style(v))
        }
        T::Email => if v.chars().any(|c| c.is_uppercase()) {
            "mixed_case"
        } else {
            "lower"
        }
        .to_string(),
        T::PostalCode | T::InseeCode => format!("{digits}_digits"),
        T::Boolean | T::Sex | T::EducationLevel => {
            let t: String = v.chars().take(24).collect();
            t
        }
        T::Latitude | T::Longitude => {
            let decimals = v.split(['.', ',']).nth(1).map_or(0, str::len);
            format!("{decimals}_decimals")
        }
        _ => return None,
    })
}

/// Style shares of a column's values.
pub fn styles<'a>(ty: ColumnType, values: impl Iterator<Item = &'a str>) -> BTreeMap<String, f64> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut n = 0u64;
    for v in values {
        if let Some(s) = style(ty, v) {
            *counts.entry(s).or_default() += 1;
            n += 1;
        }
    }
    // Token styles of booleans/sex: keep at most 12 tokens; the rest would not be vocabulary.
    if counts.len() > 12
        && matches!(
            ty,
            ColumnType::Boolean | ColumnType::Sex | ColumnType::EducationLevel
        )
    {
        return BTreeMap::new();
    }
    counts
        .into_iter()
        .map(|(k, c)| (k, ((c as f64 / n.max(1) as f64) * 1000.0).round() / 1000.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ColumnType as T;

    #[test]
    fn styles_are_shapes() {
        assert_eq!(
            style(T::Phone, "06 12 34 56 78").as_deref(),
            Some("0X XX XX XX XX")
        );
        assert_eq!(
            style(T::Phone, "+33612345678").as_deref(),
            Some("+33XXXXXXXXX")
        );
        assert_eq!(style(T::Phone, "0612345678").as_deref(), Some("0XXXXXXXXX"));
        assert_eq!(
            style(T::BirthDate, "02/08/1982").as_deref(),
            Some("DD/MM/YYYY")
        );
        assert_eq!(style(T::LastName, "MARTIN").as_deref(), Some("upper/ascii"));
        assert_eq!(
            style(T::FirstName, "Hélène").as_deref(),
            Some("title/accented")
        );
        assert_eq!(
            style(T::Nir, "1 82 08 31 184 779 79").as_deref(),
            Some("spaced")
        );
        assert_eq!(style(T::Text, "whatever"), None);
        let s = styles(
            T::Phone,
            ["0612345678", "06 12 34 56 78", "0711223344", ""].into_iter(),
        );
        assert_eq!(s.get("0XXXXXXXXX"), Some(&0.667));
    }
}
