//! The incident page: verdict first, then the evidence hash, the analysis job, the attribution
//! as a waterfall of evidence per candidate, the extraction window, the CNIL deadline, the
//! status timeline, and the drafts and affected-persons list for analysts. Built from
//! `analysis.json` (aggregates only) and the catalog.

use maud::{html, Markup};
use serde_json::Value;

use crate::auth::{Identity, Role};
use crate::i18n::{t, Lang};
use crate::service::{IncidentView, Step};

/// Candidates drawn in the waterfall.
const WATERFALL_CANDIDATES: usize = 4;
/// Width of the waterfall's bar area, in SVG units.
const BAR_WIDTH: f64 = 420.0;
/// Height of one waterfall row.
const ROW_HEIGHT: f64 = 22.0;
/// Width of the label column.
const LABEL_WIDTH: f64 = 150.0;

/// The page body.
pub fn render(lang: Lang, me: &Identity, v: &IncidentView) -> Markup {
    let csrf = me.csrf.as_deref().unwrap_or("");
    let id = &v.incident.id;
    let analyst = me.role >= Role::Analyst;
    html! {
        @if let Some(a) = &v.analysis { (verdict(a)) } @else { p.muted { (t(lang, "no_analysis")) } }
        section {
            h2 { (t(lang, "evidence")) }
            dl {
                dt { (t(lang, "file")) } dd { (v.incident.file_name) " · " (v.incident.file_bytes) " " (t(lang, "bytes")) }
                dt { (t(lang, "evidence_hash")) } dd { code.hash { (v.incident.sha256) } }
                @if !v.evidence_kept { dt {} dd.muted { (t(lang, "evidence_gone")) } }
            }
        }
        section #job data-incident=(id) data-csrf=(csrf) {
            h2 { (t(lang, "analysis")) }
            @if let Some(j) = &v.job {
                p {
                    span #phase class={ "phase " (j.phase.as_str()) } { (j.phase.as_str()) }
                    " · " span #rows { (j.rows) } " " (t(lang, "rows"))
                    " · " span #eta data-label=(t(lang, "eta")) {
                        @if let Some(e) = j.eta_seconds { (t(lang, "eta")) " " (e) " s" }
                    }
                }
                progress #bar max="1" value=(if j.phase.is_terminal() { "1" } else { "0" }) {}
                @if let Some(e) = &j.error { p.error role="alert" { (e) } }
                @if analyst {
                    @if !j.phase.is_terminal() {
                        form.inline method="post" action={ "/incidents/" (id) "/cancel" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { (t(lang, "cancel")) }
                        }
                    } @else if j.phase != crate::jobs::Phase::Done && v.evidence_kept {
                        form.inline method="post" action={ "/incidents/" (id) "/analyse" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { (t(lang, "rerun")) }
                        }
                    }
                }
            }
        }
        @if let Some(a) = &v.analysis {
            (categories(lang, a))
            (attribution(lang, a))
            section {
                h2 { (t(lang, "extraction")) }
                p { (a["extraction_window"]["explanation"].as_str().unwrap_or("")) }
            }
        }
        (deadline(lang, v))
        (timeline(lang, v, analyst, csrf))
        @if v.analysis.is_some() { (selfcheck(lang, v, analyst, csrf)) }
        section {
            h2 { (t(lang, "report")) }
            @if v.analysis.is_some() {
                p { a href={ "/incidents/" (id) "/report" } { "report.html" } }
                @if analyst {
                    h3 { (t(lang, "drafts")) }
                    (crate::pages::draft_links(lang, v))
                    p { a href={ "/incidents/" (id) "/affected_persons.csv" } { (t(lang, "affected")) } }
                }
            } @else { p.muted { (t(lang, "no_analysis")) } }
        }
    }
}

fn verdict(a: &Value) -> Markup {
    let v = &a["verdict"];
    let status = v["status"].as_str().unwrap_or("");
    html! {
        section class={ "verdict-box " (status) } {
            p.verdict-status { (status) " · " (v["confidence"].as_f64().unwrap_or(0.0)) }
            p.summary { (v["summary"].as_str().unwrap_or("")) }
            ul { @for e in v["explanation"].as_array().into_iter().flatten() { li { (e.as_str().unwrap_or("")) } } }
        }
    }
}

fn categories(lang: Lang, a: &Value) -> Markup {
    html! {
        section {
            h2 { (t(lang, "categories")) }
            table {
                tbody {
                    @for c in a["categories"].as_array().into_iter().flatten() {
                        tr { td { (c["type"].as_str().unwrap_or("")) } td.num { (c["persons"].as_u64().unwrap_or(0)) } }
                    }
                }
            }
        }
    }
}

/// One candidate's evidence as a waterfall: each kind a bar from the running total, then the
/// total. Drawn in SVG with attributes only (the CSP allows no inline style).
fn waterfall(c: &Value) -> Markup {
    let ev: Vec<(&str, f64)> = c["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or("?"),
                e["log_likelihood_ratio"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    let mut cum = 0.0f64;
    let mut lo = 0.0f64;
    let mut hi = 0.0f64;
    for (_, x) in &ev {
        cum += x;
        lo = lo.min(cum);
        hi = hi.max(cum);
    }
    let span = (hi - lo).max(1e-9);
    let x = |v: f64| LABEL_WIDTH + (v - lo) / span * BAR_WIDTH;
    let rows = ev.len() + 1;
    let height = ROW_HEIGHT * rows as f64 + 4.0;
    let mut bars = Vec::with_capacity(rows);
    let mut run = 0.0;
    for (kind, llr) in &ev {
        let (a, b) = (x(run), x(run + llr));
        bars.push((
            kind.to_string(),
            a.min(b),
            (a - b).abs().max(1.0),
            *llr,
            if *llr >= 0.0 { "#2e7d32" } else { "#c62828" },
        ));
        run += llr;
    }
    let (a, b) = (x(0.0), x(run));
    bars.push((
        "total".into(),
        a.min(b),
        (a - b).abs().max(1.0),
        run,
        "#1f4e79",
    ));
    let total_width = LABEL_WIDTH + BAR_WIDTH + 90.0;
    html! {
        svg.waterfall viewBox={ "0 0 " (total_width) " " (height) } role="img" aria-label={ "evidence of " (c["source"].as_str().unwrap_or("")) } {
            @for (i, (kind, left, w, llr, fill)) in bars.iter().enumerate() {
                @let y = i as f64 * ROW_HEIGHT + 2.0;
                text x="0" y=(y + 15.0) font-size="12" { (kind) }
                rect x=(format!("{left:.1}")) y=(y + 3.0) width=(format!("{w:.1}")) height=(ROW_HEIGHT - 6.0) fill=(fill) {}
                text x=(format!("{:.1}", LABEL_WIDTH + BAR_WIDTH + 6.0)) y=(y + 15.0) font-size="12" { (format!("{llr:+.1}")) }
            }
        }
    }
}

fn attribution(lang: Lang, a: &Value) -> Markup {
    let at = &a["attribution"];
    html! {
        section {
            h2 { (t(lang, "attribution")) }
            p { (at["explanation"].as_str().unwrap_or("")) }
            h3 { (t(lang, "waterfall")) }
            @for c in at["candidates"].as_array().into_iter().flatten().take(WATERFALL_CANDIDATES) {
                figure {
                    figcaption {
                        strong { (c["source"].as_str().unwrap_or("")) } " — " (c["recipient"].as_str().unwrap_or(""))
                        " · posterior " (format!("{:.3}", c["posterior"].as_f64().unwrap_or(0.0)))
                        " · " (format!("{:+.1}", c["log_likelihood_ratio"].as_f64().unwrap_or(0.0))) " nats"
                    }
                    (waterfall(c))
                    ul.small { @for e in c["evidence"].as_array().into_iter().flatten() {
                        li { code { (e["kind"].as_str().unwrap_or("")) } " " (e["detail"].as_str().unwrap_or("")) }
                    } }
                }
            }
        }
    }
}

/// Hours from now to the deadline (negative: late), when the discovery time has an offset.
fn hours_left(discovered_at: &str) -> Option<i64> {
    let ts: jiff::Timestamp = discovered_at.trim().replace(' ', "T").parse().ok()?;
    let deadline = ts.as_second() + 72 * 3600;
    Some((deadline - crate::now_unix()) / 3600)
}

fn deadline(lang: Lang, v: &IncidentView) -> Markup {
    let done = v
        .timeline
        .iter()
        .any(|s| s.status == Step::CnilNotified.as_str());
    html! {
        section {
            h2 { (t(lang, "deadline")) }
            p {
                @if let Some(d) = &v.cnil_deadline { strong { (d) } }
                @if !done {
                    @if let Some(h) = hours_left(&v.incident.discovered_at) {
                        " — "
                        @if h >= 0 { span.ok { (h) " " (t(lang, "hours_left")) } }
                        @else { span.error { (-h) " " (t(lang, "hours_late")) } }
                    }
                }
            }
        }
    }
}

fn timeline(lang: Lang, v: &IncidentView, analyst: bool, csrf: &str) -> Markup {
    html! {
        section {
            h2 { (t(lang, "timeline")) }
            ol.timeline {
                @for s in Step::ALL {
                    @let got = v.timeline.iter().find(|r| r.status == s.as_str());
                    li class=(if got.is_some() { "done" } else { "todo" }) {
                        strong { (t(lang, s.as_str())) }
                        @if let Some(r) = got { " — " (r.at) " · " (r.user) }
                        @else {
                            " — " (t(lang, "pending"))
                            @if analyst && s.is_manual() {
                                form.inline method="post" action={ "/incidents/" (v.incident.id) "/status" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="status" value=(s.as_str());
                                    button type="submit" { (t(lang, "mark")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Whether the affected people can check this incident on the public listener, and for
/// analysts the button that opens or closes it.
fn selfcheck(lang: Lang, v: &IncidentView, analyst: bool, csrf: &str) -> Markup {
    html! {
        section #selfcheck {
            h2 { (t(lang, "selfcheck")) }
            @if let Some(s) = &v.selfcheck {
                p.ok { (t(lang, "selfcheck_open")) " — " (s.opened_at) " · " (s.opened_by) }
            } @else {
                p.muted { (t(lang, "selfcheck_closed")) }
            }
            @if analyst {
                form.inline method="post" action={ "/incidents/" (v.incident.id) "/selfcheck" } {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="open" value=(if v.selfcheck.is_some() { "0" } else { "1" });
                    button type="submit" {
                        (t(lang, if v.selfcheck.is_some() { "selfcheck_do_close" } else { "selfcheck_do_open" }))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waterfall_draws_one_bar_per_kind_and_a_total() {
        let c = serde_json::json!({
            "source": "app", "evidence": [
                {"kind": "membership", "log_likelihood_ratio": 30.0},
                {"kind": "fields", "log_likelihood_ratio": -10.0},
                {"kind": "canary", "log_likelihood_ratio": 5.0}
            ]
        });
        let svg = waterfall(&c).into_string();
        assert_eq!(svg.matches("<rect").count(), 4);
        assert!(svg.contains("+25.0"), "{svg}");
        assert!(svg.contains("#c62828"));
        assert!(!svg.contains("style="));
    }

    #[test]
    fn deadline_hours_need_an_offset() {
        assert!(hours_left("2026-11-20T09:30+01:00").is_some());
        assert!(hours_left("2026-11-20 09:30Z").is_some());
        assert_eq!(hours_left("2026-11-20T09:30"), None);
    }
}
