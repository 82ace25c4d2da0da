//! Inline SVG charts of the report page: horizontal bars, columns of a month series.

use std::fmt::Write as _;

use leaktrace_analyze::ContextSummary;

use crate::{en, esc};

/// A horizontal bar chart as inline SVG.
pub(crate) fn bars(caption: &str, items: &[(String, f64, String)], color: &str) -> String {
    let max = items.iter().map(|i| i.1).fold(0.0f64, f64::max).max(1e-9);
    let (label_w, bar_w, row_h) = (300.0, 460.0, 24.0);
    let h = row_h * items.len().max(1) as f64 + 8.0;
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg width=\"{}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        esc(caption),
        label_w + bar_w + 120.0,
        esc(caption)
    );
    for (k, (label, v, shown)) in items.iter().enumerate() {
        let y = k as f64 * row_h + 4.0;
        let label: String = if label.chars().count() > 44 {
            format!("{}…", label.chars().take(43).collect::<String>())
        } else {
            label.clone()
        };
        let w = (v / max * bar_w).max(if *v > 0.0 { 2.0 } else { 0.0 });
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"13\" fill=\"#1d2129\">{}</text><rect class=\"bar\" x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"12\" fill=\"#5f6b7a\">{}</text>",
            label_w - 8.0,
            y + 16.0,
            esc(&label),
            row_h - 6.0,
            label_w + w + 6.0,
            y + 16.0,
            esc(shown)
        );
    }
    if items.is_empty() {
        svg.push_str("<text x=\"10\" y=\"20\" font-size=\"13\" fill=\"#5f6b7a\">no data</text>");
    }
    svg.push_str("</svg></figure>\n");
    svg
}

/// A column chart (time series) as inline SVG: one column per bin, labels under the axis
/// (slanted when there are many), the exact count in each column's tooltip.
fn columns(caption: &str, items: &[(String, u64)], color: &str) -> String {
    let (left, top, plot_w, plot_h) = (56.0, 14.0, 820.0, 180.0);
    let slanted = items.len() > 12;
    let label_h = if slanted { 58.0 } else { 24.0 };
    let (w, h) = (left + plot_w + 24.0, top + plot_h + label_h);
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let mut svg = format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        esc(caption),
        esc(caption)
    );
    let base = top + plot_h;
    // Axis, a mid grid line and their values.
    for v in [max, max / 2] {
        let y = base - v as f64 / max as f64 * plot_h;
        let _ = write!(
            svg,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#dde1e6\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"#5f6b7a\">{}</text>",
            left + plot_w,
            left - 6.0,
            y + 4.0,
            en(v)
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{base}\" x2=\"{:.1}\" y2=\"{base}\" stroke=\"#5f6b7a\"/>",
        left + plot_w
    );
    let slot = plot_w / items.len().max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    for (k, (label, v)) in items.iter().enumerate() {
        let x = left + k as f64 * slot + (slot - bar) / 2.0;
        let bh = if *v > 0 {
            (*v as f64 / max as f64 * plot_h).max(2.0)
        } else {
            0.0
        };
        let _ = write!(
            svg,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{color}\"><title>{}: {} persons</title></rect>",
            base - bh,
            esc(label),
            en(*v)
        );
        let cx = x + bar / 2.0;
        if slanted {
            let _ = write!(
                svg,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"#1d2129\" transform=\"rotate(-45 {cx:.1} {:.1})\">{}</text>",
                base + 14.0,
                base + 14.0,
                esc(label)
            );
        } else {
            let _ = write!(
                svg,
                "<text x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#1d2129\">{}</text>",
                base + 16.0,
                esc(label)
            );
        }
    }
    if items.is_empty() {
        svg.push_str("<text x=\"10\" y=\"20\" font-size=\"13\" fill=\"#5f6b7a\">no data</text>");
    }
    svg.push_str("</svg></figure>\n");
    svg
}

/// Most columns a time chart shows: beyond, months are grouped by quarter, then by year.
const MAX_COLUMNS: usize = 36;

/// The bins of a month series for a readable chart: every month from the first to the last
/// (empty months count 0) when they are at most [`MAX_COLUMNS`], else quarters (`2023-Q2`), else
/// years. Returns the bin unit (`month`, `quarter`, `year`), the bins and the months spanned.
/// Values that are not `YYYY-MM` are ignored.
fn month_bins(values: &[(String, u64)]) -> (&'static str, Vec<(String, u64)>, usize) {
    let parsed: Vec<(i64, u64)> = values
        .iter()
        .filter_map(|(v, n)| {
            let (y, m) = v.split_once('-')?;
            let (y, m): (i64, i64) = (y.parse().ok()?, m.parse().ok()?);
            ((0..=9999).contains(&y) && (1..=12).contains(&m)).then_some((y * 12 + m - 1, *n))
        })
        .collect();
    let (Some(first), Some(last)) = (
        parsed.iter().map(|p| p.0).min(),
        parsed.iter().map(|p| p.0).max(),
    ) else {
        return ("month", Vec::new(), 0);
    };
    let span = (last - first + 1) as usize;
    let (unit, width) = if span <= MAX_COLUMNS {
        ("month", 1)
    } else if (last / 3 - first / 3 + 1) as usize <= MAX_COLUMNS {
        ("quarter", 3)
    } else {
        ("year", 12)
    };
    let (b0, b1) = (first / width, last / width);
    let mut bins: Vec<(String, u64)> = (b0..=b1)
        .map(|b| {
            let label = match unit {
                "month" => format!("{:04}-{:02}", b / 12, b % 12 + 1),
                "quarter" => format!("{:04}-Q{}", b / 4, b % 4 + 1),
                _ => format!("{b:04}"),
            };
            (label, 0)
        })
        .collect();
    for (m, n) in parsed {
        bins[(m / width - b0) as usize].1 += n;
    }
    (unit, bins, span)
}

/// The chart of affected persons by month of the enrolled context attribute, with a sentence;
/// a sentence alone when there is no context (or no value).
pub(crate) fn context_html(ctx: Option<&ContextSummary>, affected: u64) -> String {
    let mut b = String::new();
    let Some(c) = ctx else {
        let _ = writeln!(
            b,
            "<p class=\"muted\">No enrolled source keeps a non-identifying context attribute (a date column such as a registration date), so the affected persons cannot be shown by registration month.</p>"
        );
        return b;
    };
    let values: Vec<(String, u64)> = c
        .values
        .iter()
        .map(|v| (v.value.clone(), v.persons))
        .collect();
    let with: u64 = values.iter().map(|v| v.1).sum();
    let (unit, bins, span) = month_bins(&values);
    let attr = esc(&c.attribute);
    if bins.is_empty() {
        let _ = writeln!(
            b,
            "<p>None of the {} persons affected has a value of <code>{attr}</code> in the enrolled sources, so no chart by month is shown.</p>",
            en(affected)
        );
        return b;
    }
    let (peak, peak_n) =
        bins.iter().fold(
            (&bins[0].0, 0u64),
            |acc, (l, n)| if *n > acc.1 { (l, *n) } else { acc },
        );
    let first = values.first().map_or("", |v| v.0.as_str());
    let last = values.last().map_or("", |v| v.0.as_str());
    let mut sentence = format!(
        "{} of the {} persons affected have a <code>{attr}</code> in the enrolled sources (the month of the first date column enrolled, a non-identifying context attribute; a person counts once, with the value of the most recent snapshot holding one). Their months run from {} to {}; the busiest {unit} is {} with {} persons.",
        en(with),
        en(affected),
        esc(first),
        esc(last),
        esc(peak),
        en(peak_n)
    );
    if unit != "month" {
        let _ = write!(
            sentence,
            " The chart groups them by {unit} because they span {span} months."
        );
    }
    if c.persons_without_value > 0 {
        let n = c.persons_without_value;
        let _ = write!(
            sentence,
            " {} {} no value.",
            en(n),
            if n == 1 { "person has" } else { "persons have" }
        );
    }
    let _ = writeln!(b, "<p>{sentence}</p>");
    let caption = if unit == "month" {
        format!("Persons affected by month of {}", c.attribute)
    } else {
        format!(
            "Persons affected by month of {}, grouped by {unit}",
            c.attribute
        )
    };
    b.push_str(&columns(&caption, &bins, CONTEXT_COLOR));
    b
}

/// Bar colour of the context chart (teal).
const CONTEXT_COLOR: &str = "#00897b";

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(values: &[(&str, u64)], missing: u64) -> ContextSummary {
        ContextSummary {
            attribute: "date_inscription".into(),
            unit: "month".into(),
            values: values
                .iter()
                .map(|(v, n)| leaktrace_analyze::ContextValue {
                    value: v.to_string(),
                    persons: *n,
                })
                .collect(),
            persons_without_value: missing,
        }
    }

    #[test]
    fn months_are_binned_readably() {
        let own = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
            v.iter().map(|(a, n)| (a.to_string(), *n)).collect()
        };
        // A year: every month, gaps as zeros.
        let (unit, bins, span) = month_bins(&own(&[("2023-01", 3), ("2023-04", 5)]));
        assert_eq!((unit, span), ("month", 4));
        assert_eq!(
            bins,
            own(&[
                ("2023-01", 3),
                ("2023-02", 0),
                ("2023-03", 0),
                ("2023-04", 5)
            ])
        );
        // 36 months stay months; 37 become quarters.
        assert_eq!(
            month_bins(&own(&[("2020-01", 1), ("2022-12", 1)])).0,
            "month"
        );
        let (unit, bins, span) = month_bins(&own(&[
            ("2018-01", 1),
            ("2018-03", 2),
            ("2021-01", 4),
            ("2026-09", 7),
        ]));
        assert_eq!((unit, span), ("quarter", 105));
        assert_eq!(bins.len(), 35);
        assert_eq!(bins[0], ("2018-Q1".to_string(), 3));
        assert_eq!(bins[12], ("2021-Q1".to_string(), 4));
        assert_eq!(bins[34], ("2026-Q3".to_string(), 7));
        // Beyond 36 quarters: years; the total is kept.
        let (unit, bins, _) = month_bins(&own(&[("2001-05", 2), ("2026-09", 1), ("2010-12", 4)]));
        assert_eq!(unit, "year");
        assert_eq!(bins.len(), 26);
        assert_eq!(bins.iter().map(|b| b.1).sum::<u64>(), 7);
        assert_eq!(bins[9], ("2010".to_string(), 4));
        // Nothing parseable: no bins.
        assert!(month_bins(&own(&[("soon", 1)])).1.is_empty());
    }

    #[test]
    fn context_section_has_a_chart_only_with_values() {
        let none = context_html(None, 10);
        assert!(!none.contains("<svg"));
        assert!(none.contains("cannot be shown by registration month"));
        let empty = context_html(Some(&ctx(&[], 10)), 10);
        assert!(!empty.contains("<svg"));
        assert!(empty.contains("None of the 10 persons"));
        let h = context_html(Some(&ctx(&[("2023-02", 4), ("2023-05", 9)], 1)), 14);
        assert_eq!(h.matches("<svg").count(), 1);
        assert_eq!(h.matches("<rect class=\"bar\"").count(), 4, "Feb to May");
        assert!(h.contains("Persons affected by month of date_inscription"));
        assert!(h.contains("13 of the 14 persons affected"));
        assert!(h.contains("busiest month is 2023-05 with 9 persons"));
        assert!(h.contains("1 person has no value"));
        assert!(h.contains(CONTEXT_COLOR));
        let many: Vec<(String, u64)> = (0..60)
            .map(|i| (format!("{:04}-{:02}", 2019 + i / 12, i % 12 + 1), 1))
            .collect();
        let refs: Vec<(&str, u64)> = many.iter().map(|(v, n)| (v.as_str(), *n)).collect();
        let h = context_html(Some(&ctx(&refs, 0)), 60);
        assert!(h.contains("grouped by quarter"), "{h}");
        assert!(h.contains("span 60 months"));
        assert_eq!(h.matches("<rect class=\"bar\"").count(), 20);
    }
}
