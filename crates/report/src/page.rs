//! `report.html`: one self-contained page (inline CSS and SVG, no network).

use std::fmt::Write as _;

use leaktrace_analyze::Status;

use crate::charts::{bars, context_html};
use crate::{category_label, en, esc, Facts};

/// The style sheet shared by the page and the drafts' HTML.
pub(crate) const CSS: &str = "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2129;background:#f6f7f9;margin:0}main{max-width:960px;margin:0 auto;padding:24px;background:#fff}h1{font-size:24px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde1e6;padding-bottom:4px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #dde1e6;padding:4px 10px;text-align:left}th{background:#f0f2f5}.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.kpi{flex:1 1 150px;border:1px solid #dde1e6;border-radius:6px;padding:10px}.kpi b{display:block;font-size:22px}.verdict{font-size:18px;padding:12px;border-radius:6px;background:#fdecea;border-left:6px solid #c0392b}.ok{background:#eaf7ee;border-left-color:#2e7d32}.muted{color:#5f6b7a;font-size:13px}figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}@media print{body{background:#fff;font-size:11pt}main{max-width:none;padding:0}h1,h2{break-after:avoid}table,figure,.kpi,.verdict{break-inside:avoid}}";

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

pub(crate) fn report_html(f: &Facts) -> String {
    let a = f.a;
    let l = &a.linkage;
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>Incident report — {}</h1><p class=\"muted\">leaktrace {} · file SHA-256 {} · {} · no personal value appears in this report</p>",
        esc(&a.file.name),
        env!("CARGO_PKG_VERSION"),
        esc(&a.file.sha256),
        esc(f.organisation())
    );
    let ok = matches!(a.verdict.status, Status::NotOurs);
    let _ = writeln!(
        b,
        "<p class=\"verdict{}\">{}</p>",
        if ok { " ok" } else { "" },
        esc(&a.verdict.summary)
    );
    let _ = writeln!(b, "<div class=\"kpis\">");
    for (k, v) in [
        ("persons affected", en(l.persons_affected)),
        (
            "rows linked",
            format!("{} / {}", en(l.rows_linked), en(l.rows)),
        ),
        (
            "severity (ENISA)",
            format!("{} ({:.2})", f.severity.level, f.severity.score),
        ),
        (
            "Art. 34 notice",
            if f.severity.art34 {
                "required"
            } else {
                "not required"
            }
            .into(),
        ),
        (
            "CNIL deadline",
            f.deadline
                .as_ref()
                .map_or("set --discovered-at".into(), |d| d.deadline.clone()),
        ),
    ] {
        let _ = writeln!(b, "<div class=\"kpi\">{}<b>{}</b></div>", esc(k), esc(&v));
    }
    let _ = writeln!(b, "</div>");
    let _ = writeln!(b, "<h2>Why this verdict</h2><ul>");
    for e in &a.verdict.explanation {
        let _ = writeln!(b, "<li>{}</li>", esc(e));
    }
    let _ = writeln!(b, "</ul>");
    b.push_str(&bars(
        "Rows linked to an enrolled person vs not",
        &[
            ("linked".into(), l.rows_linked as f64, en(l.rows_linked)),
            (
                "not linked".into(),
                (l.rows - l.rows_linked) as f64,
                en(l.rows - l.rows_linked),
            ),
            (
                "duplicates of a linked person".into(),
                l.duplicate_rows as f64,
                en(l.duplicate_rows),
            ),
        ],
        "#c0392b",
    ));
    let agree: Vec<(String, f64, String)> = l
        .field_agreement
        .iter()
        .map(|(k, v)| (k.clone(), *v, pct(*v)))
        .collect();
    b.push_str(&bars(
        "Field agreement among linked rows (share agreeing with the enrolled person)",
        &agree,
        "#2e7d32",
    ));
    // Attribution.
    let at = &a.attribution;
    let _ = writeln!(
        b,
        "<h2>Where it came from</h2><p>{}</p>",
        esc(&at.explanation)
    );
    let post: Vec<(String, f64, String)> = at
        .candidates
        .iter()
        .take(8)
        .map(|c| {
            let label = if c.snapshots.is_empty() {
                c.source.clone()
            } else {
                c.snapshots
                    .iter()
                    .map(|s| format!("{}@{}", s.source, s.as_of))
                    .collect::<Vec<_>>()
                    .join(" + ")
            };
            (label, c.posterior, format!("{:.3}", c.posterior))
        })
        .collect();
    b.push_str(&bars(
        "Attribution: posterior probability per candidate source",
        &post,
        "#1f5fa8",
    ));
    if let Some(c) = at.candidates.first() {
        let _ = writeln!(
            b,
            "<table><tr><th>evidence for {}</th><th>log-likelihood ratio vs. unknown source</th></tr>",
            esc(&c.source)
        );
        for e in &c.evidence {
            let _ = writeln!(
                b,
                "<tr><td>{:?}: {}</td><td>{:+.1}</td></tr>",
                e.kind,
                esc(&e.detail),
                e.log_likelihood_ratio
            );
        }
        let _ = writeln!(
            b,
            "</table><p class=\"muted\">Chance of accusing an innocent recipient (bound): 10^{:.0}. Extraction window: {} — {}</p>",
            at.false_accusation_log10,
            esc(&f.window()),
            esc(&a.extraction_window.explanation)
        );
    }
    // Categories.
    let _ = writeln!(b, "<h2>Who and what is exposed</h2>");
    if let Some(r) = &a.recombination {
        let _ = writeln!(
            b,
            "<p>{} records mix real fragments of {} persons: {} appear by their identifiers without their name, {} by their name next to identifiers that are not theirs. Each person is counted for their own data only.</p><table><tr><th>real data present (fragments)</th><th>persons</th></tr>",
            en(a.verdict.evidence.contradictory_rows),
            en(r.persons),
            en(r.identifiers_without_names),
            en(r.names_without_identifiers)
        );
        for c in r.combinations.iter().take(8) {
            let names: Vec<&str> = c.types.iter().map(|t| category_label(*t).1).collect();
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&names.join(", ")),
                en(c.persons)
            );
        }
        let _ = writeln!(b, "</table>");
    }
    let cats: Vec<(String, f64, String)> = f
        .categories
        .iter()
        .map(|(t, n)| (category_label(*t).1.to_string(), *n as f64, en(*n)))
        .collect();
    b.push_str(&bars(
        "Persons affected per data category",
        &cats,
        "#8e44ad",
    ));
    let _ = writeln!(
        b,
        "<table><tr><th>combination of categories</th><th>persons</th></tr>"
    );
    for c in a.combinations.iter().take(10) {
        let names: Vec<&str> = c.types.iter().map(|t| category_label(*t).1).collect();
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&names.join(" + ")),
            en(c.persons)
        );
    }
    let _ = writeln!(b, "</table>");
    let mut depts: Vec<&leaktrace_analyze::Department> = a.departments.iter().collect();
    depts.sort_by(|x, y| y.persons.cmp(&x.persons).then(x.code.cmp(&y.code)));
    let dep: Vec<(String, f64, String)> = depts
        .iter()
        .take(15)
        .map(|d| {
            (
                format!("département {}", d.code),
                d.persons as f64,
                en(d.persons),
            )
        })
        .collect();
    b.push_str(&bars(
        "Persons affected by department (15 largest, from the file's postal codes)",
        &dep,
        "#d35400",
    ));
    b.push_str(&context_html(a.context.as_ref(), l.persons_affected));
    // Severity.
    let s = &f.severity;
    let _ = writeln!(
        b,
        "<h2>Severity (ENISA)</h2><table><tr><th>input</th><th>value</th><th>why</th></tr><tr><td>DPC (data processing context)</td><td>{}</td><td>{}</td></tr><tr><td>EI (ease of identification)</td><td>{}</td><td>{}</td></tr><tr><td>CB (circumstances)</td><td>{}</td><td>{}</td></tr><tr><td><b>SE = DPC × EI + CB</b></td><td><b>{:.2}</b></td><td>{} — Art. 34 {}</td></tr></table><p class=\"muted\">Override any input in the incident file's [severity] table.</p>",
        s.dpc,
        esc(&s.dpc_reason),
        s.ei,
        esc(&s.ei_reason),
        s.cb,
        esc(&s.cb_reason),
        s.score,
        esc(&s.level),
        if s.art34 { "applies" } else { "does not apply" }
    );
    let _ = writeln!(
        b,
        "<h2>Drafts</h2><ul><li><a href=\"art33_fr.html\">Notification CNIL (art. 33), français</a></li><li><a href=\"art33_en.html\">CNIL notification (Art. 33), English</a></li><li><a href=\"art34_fr.html\">Information des personnes (art. 34)</a></li><li>affected_persons.csv: the {} person ids with the categories exposed</li></ul>",
        en(l.persons_affected)
    );
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>leaktrace — {}</title><style>{CSS}</style></head><body><main>\n{b}</main></body></html>\n",
        esc(&a.file.name)
    )
}
