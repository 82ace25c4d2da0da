//! Value parsers of numeric and date options: a value out of range is a usage error (exit 2)
//! before any work, never a confident answer computed from it.

/// A probability strictly between 0 and 1 (`--threshold`): 50, 2, −1, 0, 1, NaN and inf are
/// refused.
pub fn open_unit(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if x.is_finite() && x > 0.0 && x < 1.0 {
        Ok(x)
    } else {
        Err(format!(
            "{s:?} is not a probability strictly between 0 and 1 (e.g. 0.5)"
        ))
    }
}

/// A rate from 0 to 1 inclusive (`synth --typo-rate` …).
pub fn unit(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if x.is_finite() && (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{s:?} is not a rate between 0 and 1 (e.g. 0.02)"))
    }
}

/// A count of at least 1 (`--sample`, `--count`, `--persons`, `--leak-rows`).
pub fn positive(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{s:?} is not a whole number of at least 1")),
    }
}

/// [`positive`] as a `usize`.
pub fn positive_usize(s: &str) -> Result<usize, String> {
    positive(s).and_then(|n| usize::try_from(n).map_err(|_| format!("{s:?} is too large")))
}

/// A calendar date (`--as-of`): ISO `YYYY-MM-DD` or a French layout; kept as given.
pub fn date(s: &str) -> Result<String, String> {
    match leaktrace_pii::date::parse(s) {
        Some(_) => Ok(s.to_string()),
        None => Err(format!("{s:?} is not a date (use YYYY-MM-DD)")),
    }
}

/// Refuse a pipe, FIFO or standard input where `command` must read its input twice (its
/// records, then its checksum for the catalog or the report); `scan` reads streams.
pub fn regular_file(path: &std::path::Path, command: &str) -> anyhow::Result<()> {
    let regular = path.as_os_str() != "-" && std::fs::metadata(path).map_or(true, |m| m.is_file());
    if regular {
        return Ok(());
    }
    anyhow::bail!(
        "{}: `leaktrace {command}` needs a regular file, not a pipe or standard input (it reads \
         the file twice: its records, then its checksum); save the stream to a file first \
         (`leaktrace scan` reads streams)",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_values_are_refused() {
        // (parser, value, accepted)
        let probability: &[(&str, bool)] = &[
            ("0.5", true),
            ("0.999", true),
            ("1e-3", true),
            ("50", false),
            ("2", false),
            ("1", false),
            ("0", false),
            ("-1", false),
            ("NaN", false),
            ("inf", false),
            ("-inf", false),
            ("", false),
            ("half", false),
        ];
        for (v, ok) in probability {
            assert_eq!(open_unit(v).is_ok(), *ok, "--threshold {v}");
        }
        let rates: &[(&str, bool)] = &[
            ("0", true),
            ("1", true),
            ("0.02", true),
            ("1.5", false),
            ("NaN", false),
        ];
        for (v, ok) in rates {
            assert_eq!(unit(v).is_ok(), *ok, "rate {v}");
        }
        let counts: &[(&str, bool)] = &[
            ("1", true),
            ("10000", true),
            ("0", false),
            ("-3", false),
            ("2.5", false),
        ];
        for (v, ok) in counts {
            assert_eq!(positive(v).is_ok(), *ok, "count {v}");
        }
        let dates: &[(&str, bool)] = &[
            ("2026-10-01", true),
            ("01/10/2026", true),
            ("2026-13-01", false),
            ("2026-02-30", false),
            ("yesterday", false),
        ];
        for (v, ok) in dates {
            assert_eq!(date(v).is_ok(), *ok, "date {v}");
        }
    }
}
