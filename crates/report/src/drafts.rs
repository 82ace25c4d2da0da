//! The drafts: Art. 33 notification (French, English) and Art. 34 notice (French) in
//! Markdown, and their HTML rendering.

use std::fmt::Write as _;

use leaktrace_analyze::Status;
use leaktrace_pii::ColumnType;

use crate::page::CSS;
use crate::{category_label, en, esc, fr, Facts};

/// Escape a quoted value (a file name, a source name, a field of the incident file) for the
/// Markdown drafts, so that it reads as itself and can neither inject HTML nor start a
/// heading, list, table cell, link or emphasis: CommonMark backslash escapes before the
/// characters that mean something (`_` only at a word boundary, where it could emphasise;
/// `-`, `+` and `1.` only at the start), line breaks and tabs as spaces, other control
/// characters shown as `\x1b`. [`markdown_to_html`] reads these escapes back.
pub fn md(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let lead_digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    for (i, &c) in chars.iter().enumerate() {
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        let escape = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '&' | '#' | '~' | '!' => true,
            '_' => !(word(i.checked_sub(1)) && word(Some(i + 1))),
            '-' | '+' | '=' => i == 0,
            '.' | ')' => i > 0 && i == lead_digits,
            _ => false,
        };
        if c == '\n' || c == '\r' || c == '\t' {
            out.push(' ');
        } else if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            if escape {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// Undo [`md`]'s backslash escapes (before ASCII punctuation), as CommonMark reads them.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(&n) = it.peek() {
                if n.is_ascii_punctuation() {
                    out.push(n);
                    it.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

/// Inline Markdown text to HTML text: escapes read back, then HTML-escaped.
fn inline(s: &str) -> String {
    esc(&unescape(s))
}

/// The cells of a table row, split at the pipes that are not escaped.
fn cells(row: &str) -> Vec<String> {
    let row = row.trim().strip_prefix('|').unwrap_or(row);
    let row = row
        .strip_suffix('|')
        .filter(|r| !r.ends_with('\\'))
        .unwrap_or(row);
    let (mut out, mut cur, mut it) = (Vec::new(), String::new(), row.chars());
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = it.next() {
                    cur.push(n);
                }
            }
            '|' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn list(items: &Option<Vec<String>>, none: &str) -> String {
    match items {
        Some(v) if !v.is_empty() => v.iter().map(|m| format!("- {}\n", md(m))).collect(),
        _ => format!("- {none}\n"),
    }
}

/// The organisation as the drafts quote it (escaped; the placeholder as it is).
fn org(f: &Facts) -> String {
    f.incident
        .organisation
        .as_deref()
        .map_or_else(|| f.organisation().to_string(), md)
}

/// The contact point as the drafts quote it.
fn contact(f: &Facts) -> String {
    f.incident
        .contact
        .as_deref()
        .map_or_else(|| f.contact().to_string(), md)
}

pub(crate) fn art33_fr(f: &Facts) -> String {
    let a = f.a;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Notification d'une violation de données personnelles (RGPD, art. 33)\n"
    );
    let _ = writeln!(s, "Responsable du traitement : {}  ", org(f));
    let _ = writeln!(s, "Point de contact : {}\n", contact(f));
    if let Some(d) = &f.deadline {
        let _ = writeln!(s, "Prise de connaissance : {}  ", d.discovered);
        let _ = writeln!(s, "Échéance de notification (72 heures) : {}\n", d.deadline);
    }
    let _ = writeln!(s, "## Nature de la violation\n");
    let _ = writeln!(
        s,
        "Violation de la confidentialité : un fichier de {} enregistrements ({}, SHA-256 {}) a été \
         trouvé hors de l'organisation. Analyse : fichier {} ; {} enregistrements sur {} \
         correspondent à des personnes de nos fichiers (confiance {:.2}).",
        fr(a.file.rows),
        md(&a.file.name),
        &a.file.sha256[..16],
        status_fr(a.verdict.status),
        fr(a.linkage.rows_linked),
        fr(a.linkage.rows),
        a.verdict.confidence
    );
    if let Some(n) = &f.incident.nature {
        let _ = writeln!(s, "\n{}", md(n));
    }
    let _ = writeln!(
        s,
        "\nOrigine présumée : {}. Période d'extraction estimée : {}.\n",
        f.source_fr(),
        f.window_fr()
    );
    let _ = writeln!(
        s,
        "## Catégories et nombre approximatif de personnes concernées\n"
    );
    let _ = writeln!(
        s,
        "{} personnes concernées ({} enregistrements rattachés à une personne, sur {}).\n",
        fr(a.linkage.persons_affected),
        fr(a.linkage.rows_linked),
        fr(a.linkage.rows)
    );
    let _ = writeln!(s, "| catégorie de données | personnes |\n|---|---|");
    for (t, n) in &f.categories {
        let _ = writeln!(s, "| {} | {} |", category_label(*t).0, fr(*n));
    }
    if let Some(text) = fragments_fr(f) {
        let _ = write!(s, "\n{text}");
    }
    let _ = writeln!(s, "\n## Conséquences probables\n");
    let _ = writeln!(s, "{}\n", consequences_fr(f));
    let _ = writeln!(
        s,
        "Gravité (méthode ENISA) : {} (score {:.2} = DPC {} × EI {} + CB {}). Information des \
         personnes (art. 34) : {}.\n",
        level_fr(&f.severity.level),
        f.severity.score,
        f.severity.dpc,
        f.severity.ei,
        f.severity.cb,
        if f.severity.art34 {
            "requise"
        } else {
            "non requise à ce stade"
        }
    );
    let _ = writeln!(s, "## Mesures prises\n");
    s.push_str(&list(
        &f.incident.measures_taken,
        "analyse du fichier avec leaktrace (authenticité, personnes, origine) ; [à compléter]",
    ));
    let _ = writeln!(s, "\n## Mesures envisagées\n");
    s.push_str(&list(
        &f.incident.measures_proposed,
        "information des personnes concernées et vigilance contre l'hameçonnage ; [à compléter]",
    ));
    let _ = writeln!(s, "\n## Motifs du retard éventuel\n");
    let _ = writeln!(
        s,
        "{}",
        f.incident
            .delay_reasons
            .as_deref()
            .map(md)
            .as_deref()
            .unwrap_or("Sans objet si la notification intervient dans les 72 heures.")
    );
    s
}

/// At most this many combinations of fragments are listed in a draft.
const FRAGMENT_ROWS: usize = 8;

/// What real data the contradictory rows hold (French), when there are any.
fn fragments_fr(f: &Facts) -> Option<String> {
    let a = f.a;
    let r = a.recombination.as_ref()?;
    let mut s = format!(
        "Le fichier assemble des données de personnes différentes : {} enregistrements \
         mêlent des fragments réels de {} personnes. Pour {} d'entre elles, des identifiants \
         (NIR, courriel, téléphone, IBAN) figurent sans leur nom ; pour {}, le nom figure à côté \
         d'identifiants qui ne sont pas les leurs. Chaque personne n'est comptée ci-dessus que \
         pour ses propres données.\n\n| données réelles présentes (fragments) | personnes |\n|---|---|\n",
        fr(a.verdict.evidence.contradictory_rows),
        fr(r.persons),
        fr(r.identifiers_without_names),
        fr(r.names_without_identifiers)
    );
    for c in r.combinations.iter().take(FRAGMENT_ROWS) {
        let names: Vec<&str> = c.types.iter().map(|t| category_label(*t).0).collect();
        let _ = writeln!(s, "| {} | {} |", names.join(", "), fr(c.persons));
    }
    Some(s)
}

/// What real data the contradictory rows hold (English), when there are any.
fn fragments_en(f: &Facts) -> Option<String> {
    let a = f.a;
    let r = a.recombination.as_ref()?;
    let mut s = format!(
        "The file stitches together data of different persons: {} records mix real fragments \
         of {} persons. For {} of them, identifiers (NIR, e-mail, phone, IBAN) appear without \
         their name; for {}, the name appears next to identifiers that are not theirs. Each \
         person is counted above for their own data only.\n\n| real data present (fragments) | persons |\n|---|---|\n",
        en(a.verdict.evidence.contradictory_rows),
        en(r.persons),
        en(r.identifiers_without_names),
        en(r.names_without_identifiers)
    );
    for c in r.combinations.iter().take(FRAGMENT_ROWS) {
        let names: Vec<&str> = c.types.iter().map(|t| category_label(*t).1).collect();
        let _ = writeln!(s, "| {} | {} |", names.join(", "), en(c.persons));
    }
    Some(s)
}

fn status_fr(s: Status) -> &'static str {
    match s {
        Status::Authentic => "authentique",
        Status::Partial => "partiellement authentique",
        Status::Recombined => "recombiné (fragments réels assemblés)",
        Status::NotOurs => "étranger à nos fichiers",
    }
}

fn level_fr(level: &str) -> &'static str {
    match level {
        "low" => "faible",
        "medium" => "moyenne",
        "high" => "élevée",
        _ => "très élevée",
    }
}

fn consequences_fr(f: &Facts) -> String {
    let has = |t: ColumnType| f.categories.iter().any(|(c, _)| *c == t);
    let mut v = vec!["hameçonnage (phishing) ciblé et usurpation de l'identité de l'organisation auprès des personnes"];
    if has(ColumnType::Nir) {
        v.push("usurpation d'identité et fraude aux prestations à l'aide du NIR");
    }
    if has(ColumnType::Phone) {
        v.push("appels et SMS frauduleux");
    }
    if has(ColumnType::Iban) {
        v.push("fraude bancaire (prélèvements)");
    }
    format!("Risques pour les personnes : {}.", v.join(" ; "))
}

fn consequences_en(f: &Facts) -> String {
    let has = |t: ColumnType| f.categories.iter().any(|(c, _)| *c == t);
    let mut v = vec!["targeted phishing, impersonating the organisation"];
    if has(ColumnType::Nir) {
        v.push("identity theft and benefit fraud with the NIR");
    }
    if has(ColumnType::Phone) {
        v.push("fraudulent calls and text messages");
    }
    if has(ColumnType::Iban) {
        v.push("bank fraud (direct debits)");
    }
    format!("Risks to the persons: {}.", v.join("; "))
}

pub(crate) fn art33_en(f: &Facts) -> String {
    let a = f.a;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Notification of a personal data breach (GDPR Art. 33)\n"
    );
    let _ = writeln!(s, "Controller: {}  ", org(f));
    let _ = writeln!(s, "Contact point: {}\n", contact(f));
    if let Some(d) = &f.deadline {
        let _ = writeln!(s, "Became aware: {}  ", d.discovered);
        let _ = writeln!(s, "Notification deadline (72 hours): {}\n", d.deadline);
    }
    let _ = writeln!(s, "## Nature of the breach\n");
    let _ = writeln!(
        s,
        "Loss of confidentiality: a file of {} records ({}, SHA-256 {}) was found outside the \
         organisation. Analysis: {} (verdict: {}).",
        en(a.file.rows),
        md(&a.file.name),
        &a.file.sha256[..16],
        a.verdict.status.as_str(),
        a.verdict.confidence
    );
    if let Some(n) = &f.incident.nature {
        let _ = writeln!(s, "\n{}", md(n));
    }
    let _ = writeln!(
        s,
        "\nPresumed origin: {}. Estimated extraction period: {}.\n",
        f.source_en(),
        f.window()
    );
    let _ = writeln!(
        s,
        "## Categories and approximate number of persons concerned\n"
    );
    let _ = writeln!(
        s,
        "{} persons concerned ({} records linked to a person, out of {}).\n",
        en(a.linkage.persons_affected),
        en(a.linkage.rows_linked),
        en(a.linkage.rows)
    );
    let _ = writeln!(s, "| data category | persons |\n|---|---|");
    for (t, n) in &f.categories {
        let _ = writeln!(s, "| {} | {} |", category_label(*t).1, en(*n));
    }
    if let Some(text) = fragments_en(f) {
        let _ = write!(s, "\n{text}");
    }
    let _ = writeln!(s, "\n## Likely consequences\n");
    let _ = writeln!(s, "{}\n", consequences_en(f));
    let _ =
        writeln!(
        s,
        "Severity (ENISA method): {} (score {:.2} = DPC {} × EI {} + CB {}). Communication to the \
         persons (Art. 34): {}.\n",
        f.severity.level,
        f.severity.score,
        f.severity.dpc,
        f.severity.ei,
        f.severity.cb,
        if f.severity.art34 { "required" } else { "not required at this stage" }
    );
    let _ = writeln!(s, "## Measures taken\n");
    s.push_str(&list(
        &f.incident.measures_taken,
        "analysis of the file with leaktrace (authenticity, persons, origin); [to complete]",
    ));
    let _ = writeln!(s, "\n## Measures proposed\n");
    s.push_str(&list(
        &f.incident.measures_proposed,
        "informing the persons and warning them about phishing; [to complete]",
    ));
    let _ = writeln!(s, "\n## Reasons for any delay\n");
    let _ = writeln!(
        s,
        "{}",
        f.incident
            .delay_reasons
            .as_deref()
            .map(md)
            .as_deref()
            .unwrap_or("Not applicable if notified within 72 hours.")
    );
    s
}

pub(crate) fn art34_fr(f: &Facts) -> String {
    let types: Vec<ColumnType> = f.categories.iter().map(|(t, _)| *t).collect();
    let measures: Option<Vec<String>> = f
        .incident
        .measures_taken
        .as_ref()
        .filter(|v| !v.is_empty())
        .map(|v| v.iter().map(|m| md(m)).collect());
    crate::notice::art34_text(
        &crate::notice::Art34 {
            organisation: &org(f),
            contact: &contact(f),
            categories: &types,
            recombined: f.a.recombination.is_some(),
            measures_taken: measures.as_deref(),
        },
        crate::notice::Lang::Fr,
    )
}

/// Minimal Markdown (headings, lists, tables, paragraphs) to a self-contained HTML page.
pub fn markdown_to_html(title: &str, md: &str) -> String {
    let mut body = String::new();
    let mut in_list = false;
    let mut in_table = false;
    for line in md.lines() {
        let l = line.trim_end();
        if in_list && !l.starts_with("- ") {
            body.push_str("</ul>\n");
            in_list = false;
        }
        if in_table && !l.starts_with('|') {
            body.push_str("</table>\n");
            in_table = false;
        }
        if let Some(h) = l.strip_prefix("# ") {
            let _ = writeln!(body, "<h1>{}</h1>", inline(h));
        } else if let Some(h) = l.strip_prefix("## ") {
            let _ = writeln!(body, "<h2>{}</h2>", inline(h));
        } else if let Some(item) = l.strip_prefix("- ") {
            if !in_list {
                body.push_str("<ul>\n");
                in_list = true;
            }
            let _ = writeln!(body, "<li>{}</li>", inline(item));
        } else if l.starts_with('|') {
            if l.starts_with("|---") {
                continue;
            }
            if !in_table {
                body.push_str("<table>\n");
                in_table = true;
            }
            let row: Vec<String> = cells(l)
                .iter()
                .map(|c| format!("<td>{}</td>", inline(c.trim())))
                .collect();
            let _ = writeln!(body, "<tr>{}</tr>", row.concat());
        } else if !l.is_empty() {
            let _ = writeln!(body, "<p>{}</p>", inline(l));
        }
    }
    if in_list {
        body.push_str("</ul>\n");
    }
    if in_table {
        body.push_str("</table>\n");
    }
    format!(
        "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body><main>\n{body}</main></body></html>\n",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_cannot_inject() {
        let name =
            "<img src=x onerror=alert(1)>_*leak*_ [x](http://e.vil) | # h\n- item\x1b[31m.csv";
        let m = md(name);
        assert!(!m.contains('<') || m.matches("\\<").count() == m.matches('<').count());
        assert!(!m.contains('\n') && !m.contains('\x1b'), "{m}");
        for bad in ["*leak*", "_*", "| #", " [x]"] {
            assert!(!m.contains(bad), "{bad} in {m}");
        }
        let page = markdown_to_html(
            "t",
            &format!("# Title\n\nfile {m}\n\n| a | {m} |\n|---|---|\n- {m}\n"),
        );
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;_*leak*_ [x](http://e.vil) | # h - item\\x1b[31m.csv"), "{page}");
        assert_eq!(
            page.matches("<td>").count(),
            2,
            "the quoted pipe stays in its cell"
        );
        // Leading list and heading markers, words with underscores left as they are.
        assert_eq!(md("- x"), "\\- x");
        assert_eq!(md("1. x"), "1\\. x");
        assert_eq!(md("app_reshaped.csv"), "app_reshaped.csv");
        assert_eq!(md("_x"), "\\_x");
    }

    proptest::proptest! {
        #[test]
        fn escaping_reads_back(s in "\\PC{0,40}") {
            let m = md(&s);
            proptest::prop_assert_eq!(unescape(&m), s.replace(['\n', '\r', '\t'], " "));
            let raw_lt = m.match_indices('<').filter(|(i, _)| !m[..*i].ends_with('\\')).count();
            proptest::prop_assert_eq!(raw_lt, 0);
        }
    }

    #[test]
    fn markdown_becomes_escaped_html() {
        let h = markdown_to_html(
            "t",
            "# A <b>\n\n- x & y\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(h.contains("<h1>A &lt;b&gt;</h1>"));
        assert!(h.contains("<li>x &amp; y</li>"));
        assert!(h.contains("<tr><td>1</td><td>2</td></tr>"));
        assert!(!h.contains("http"), "no external resource");
    }
}
