//! The sources page (admins): what `leaktrace sources` prints — each source with its
//! recipient and snapshots (as-of date, rows, persons, segment size, format profile and column
//! types) — this server's enrolments with their progress, and the enrolment form.

use leaktrace_index::SourceInfo;
use maud::{html, Markup};

use crate::auth::Identity;
use crate::i18n::{t, Lang};
use crate::sources::EnrolmentView;

/// The format profile in one line: format, compression, encoding, delimiter.
fn profile_line(p: &leaktrace_index::FormatProfile) -> String {
    let mut s = p.format.clone();
    if let Some(c) = &p.compression {
        s.push_str(&format!(" ({c})"));
    }
    s.push(' ');
    s.push_str(&p.encoding);
    match p.delimiter {
        Some('\t') => s.push_str(" tab"),
        Some(d) => s.push_str(&format!(" '{d}'")),
        None => {}
    }
    s
}

/// The page body.
pub fn render(
    lang: Lang,
    me: &Identity,
    sources: &[SourceInfo],
    enrolments: &[EnrolmentView],
) -> Markup {
    let csrf = me.csrf.clone().unwrap_or_default();
    html! {
        @if sources.is_empty() { p { (t(lang, "no_source")) } }
        @for src in sources {
            section.card {
                h2 {
                    (src.name)
                    @if let Some(r) = &src.recipient { " → " (r) }
                }
                table {
                    thead { tr {
                        th { (t(lang, "as_of")) } th { (t(lang, "rows")) } th { (t(lang, "persons")) }
                        th { "MB" } th { (t(lang, "format")) } th { (t(lang, "columns")) }
                    } }
                    tbody {
                        @for s in &src.snapshots {
                            tr {
                                td { (s.as_of) }
                                td.num { (s.rows) }
                                td.num { (s.persons) }
                                td.num { (format!("{:.1}", s.segment_bytes as f64 / 1e6)) }
                                td { (profile_line(&s.profile)) }
                                td {
                                    @for (i, c) in s.profile.columns.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        (c.name) ":" code { (c.ty.as_str()) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !enrolments.is_empty() {
            h2 { (t(lang, "enrolments")) }
            table {
                thead { tr {
                    th { "#" } th { (t(lang, "source")) } th { (t(lang, "as_of")) } th { (t(lang, "file")) }
                    th { (t(lang, "phase")) } th { (t(lang, "rows")) }
                } }
                tbody {
                    @for e in enrolments {
                        tr {
                            td { (e.id) }
                            td { (e.source) @if let Some(r) = &e.recipient { " → " (r) } }
                            td { (e.as_of) }
                            td { (e.file_name) " (" (e.file_bytes) " " (t(lang, "bytes")) ")" }
                            td { span class={ "phase " (e.phase.as_str()) } { (e.phase.as_str()) } }
                            td.num { (e.rows) }
                        }
                        @if let Some(err) = &e.error { tr { td colspan="6" { p.error { (err) } } } }
                    }
                }
            }
        }
        h2 { (t(lang, "enrol")) }
        form.card method="post" action={ "/sources?csrf=" (csrf) } enctype="multipart/form-data" {
            label for="file" { (t(lang, "registry_file")) }
            input #file name="file" type="file" required;
            label for="source" { (t(lang, "source")) }
            input #source name="source" required placeholder="registry";
            label for="as_of" { (t(lang, "as_of")) " (AAAA-MM-JJ)" }
            input #as_of name="as_of" type="date" required;
            label for="recipient" { (t(lang, "recipient")) }
            input #recipient name="recipient";
            p.note { (t(lang, "enrol_note")) }
            button type="submit" { (t(lang, "enrol")) }
        }
    }
}
