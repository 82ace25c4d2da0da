//! The drafts: Art. 33 notification (French, English) and Art. 34 notice (French) in
//! Markdown, and their HTML rendering. The Art. 33 notification has one builder, [`art33`],
//! and a text table per language ([`ART33_FR`], [`ART33_EN`]).

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

/// The words and sentences of the Art. 33 notification in one language: the headings and
/// fixed phrases as they are, the sentences with numbers as functions of the numbers already
/// formatted the language's way (`num`).
pub(crate) struct Art33Text {
    title: &'static str,
    controller: &'static str,
    contact: &'static str,
    aware: &'static str,
    deadline: &'static str,
    nature_heading: &'static str,
    /// The breach sentence: file, records, verdict.
    nature: fn(&Facts) -> String,
    origin: &'static str,
    period: &'static str,
    source: fn(&Facts) -> String,
    window: fn(&Facts) -> String,
    categories_heading: &'static str,
    /// Persons concerned, records linked, records.
    persons: fn(&str, &str, &str) -> String,
    categories_table: &'static str,
    /// Contradictory records, persons, identifiers without names, names without identifiers.
    fragments: fn(&str, &str, &str, &str) -> String,
    fragments_table: &'static str,
    consequences_heading: &'static str,
    risks: &'static str,
    risk_base: &'static str,
    risk_nir: &'static str,
    risk_phone: &'static str,
    risk_iban: &'static str,
    risk_sep: &'static str,
    severity: &'static str,
    level: fn(&str) -> &str,
    art34: &'static str,
    art34_required: &'static str,
    art34_not_required: &'static str,
    measures_taken: &'static str,
    measures_taken_default: &'static str,
    measures_proposed: &'static str,
    measures_proposed_default: &'static str,
    delay: &'static str,
    delay_default: &'static str,
    /// A count in the language's digit grouping.
    num: fn(u64) -> String,
    /// A data category's name.
    label: fn(ColumnType) -> &'static str,
}

/// The Art. 33 notification in French.
pub(crate) const ART33_FR: Art33Text = Art33Text {
    title: "Notification d'une violation de données personnelles (RGPD, art. 33)",
    controller: "Responsable du traitement : ",
    contact: "Point de contact : ",
    aware: "Prise de connaissance : ",
    deadline: "Échéance de notification (72 heures) : ",
    nature_heading: "Nature de la violation",
    nature: |f| {
        let a = f.a;
        format!(
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
        )
    },
    origin: "Origine présumée : ",
    period: "Période d'extraction estimée : ",
    source: |f| f.source_fr(),
    window: |f| f.window_fr(),
    categories_heading: "Catégories et nombre approximatif de personnes concernées",
    persons: |persons, linked, rows| {
        format!(
            "{persons} personnes concernées ({linked} enregistrements rattachés à une personne, \
             sur {rows})."
        )
    },
    categories_table: "| catégorie de données | personnes |",
    fragments: |rows, persons, ids_alone, names_alone| {
        format!(
            "Le fichier assemble des données de personnes différentes : {rows} enregistrements \
             mêlent des fragments réels de {persons} personnes. Pour {ids_alone} d'entre elles, \
             des identifiants (NIR, courriel, téléphone, IBAN) figurent sans leur nom ; pour \
             {names_alone}, le nom figure à côté d'identifiants qui ne sont pas les leurs. Chaque \
             personne n'est comptée ci-dessus que pour ses propres données."
        )
    },
    fragments_table: "| données réelles présentes (fragments) | personnes |",
    consequences_heading: "Conséquences probables",
    risks: "Risques pour les personnes : ",
    risk_base: "hameçonnage (phishing) ciblé et usurpation de l'identité de l'organisation \
                auprès des personnes",
    risk_nir: "usurpation d'identité et fraude aux prestations à l'aide du NIR",
    risk_phone: "appels et SMS frauduleux",
    risk_iban: "fraude bancaire (prélèvements)",
    risk_sep: " ; ",
    severity: "Gravité (méthode ENISA) : ",
    level: level_fr,
    art34: "Information des personnes (art. 34) : ",
    art34_required: "requise",
    art34_not_required: "non requise à ce stade",
    measures_taken: "Mesures prises",
    measures_taken_default:
        "analyse du fichier avec leaktrace (authenticité, personnes, origine) ; [à compléter]",
    measures_proposed: "Mesures envisagées",
    measures_proposed_default:
        "information des personnes concernées et vigilance contre l'hameçonnage ; [à compléter]",
    delay: "Motifs du retard éventuel",
    delay_default: "Sans objet si la notification intervient dans les 72 heures.",
    num: fr,
    label: |t| category_label(t).0,
};

/// The Art. 33 notification in English.
pub(crate) const ART33_EN: Art33Text = Art33Text {
    title: "Notification of a personal data breach (GDPR Art. 33)",
    controller: "Controller: ",
    contact: "Contact point: ",
    aware: "Became aware: ",
    deadline: "Notification deadline (72 hours): ",
    nature_heading: "Nature of the breach",
    nature: |f| {
        let a = f.a;
        format!(
            "Loss of confidentiality: a file of {} records ({}, SHA-256 {}) was found outside the \
             organisation. Analysis: {} (verdict: {}).",
            en(a.file.rows),
            md(&a.file.name),
            &a.file.sha256[..16],
            a.verdict.status.as_str(),
            a.verdict.confidence
        )
    },
    origin: "Presumed origin: ",
    period: "Estimated extraction period: ",
    source: |f| f.source_en(),
    window: |f| f.window(),
    categories_heading: "Categories and approximate number of persons concerned",
    persons: |persons, linked, rows| {
        format!("{persons} persons concerned ({linked} records linked to a person, out of {rows}).")
    },
    categories_table: "| data category | persons |",
    fragments: |rows, persons, ids_alone, names_alone| {
        format!(
            "The file stitches together data of different persons: {rows} records mix real \
             fragments of {persons} persons. For {ids_alone} of them, identifiers (NIR, e-mail, \
             phone, IBAN) appear without their name; for {names_alone}, the name appears next to \
             identifiers that are not theirs. Each person is counted above for their own data \
             only."
        )
    },
    fragments_table: "| real data present (fragments) | persons |",
    consequences_heading: "Likely consequences",
    risks: "Risks to the persons: ",
    risk_base: "targeted phishing, impersonating the organisation",
    risk_nir: "identity theft and benefit fraud with the NIR",
    risk_phone: "fraudulent calls and text messages",
    risk_iban: "bank fraud (direct debits)",
    risk_sep: "; ",
    severity: "Severity (ENISA method): ",
    level: |level| level,
    art34: "Communication to the persons (Art. 34): ",
    art34_required: "required",
    art34_not_required: "not required at this stage",
    measures_taken: "Measures taken",
    measures_taken_default:
        "analysis of the file with leaktrace (authenticity, persons, origin); [to complete]",
    measures_proposed: "Measures proposed",
    measures_proposed_default:
        "informing the persons and warning them about phishing; [to complete]",
    delay: "Reasons for any delay",
    delay_default: "Not applicable if notified within 72 hours.",
    num: en,
    label: |t| category_label(t).1,
};

/// The Art. 33 notification (to the CNIL) in the language of `t`, in Markdown.
pub(crate) fn art33(f: &Facts, t: &Art33Text) -> String {
    let (a, num) = (f.a, t.num);
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", t.title);
    let _ = writeln!(s, "{}{}  ", t.controller, org(f));
    let _ = writeln!(s, "{}{}\n", t.contact, contact(f));
    if let Some(d) = &f.deadline {
        let _ = writeln!(s, "{}{}  ", t.aware, d.discovered);
        let _ = writeln!(s, "{}{}\n", t.deadline, d.deadline);
    }
    let _ = writeln!(s, "## {}\n", t.nature_heading);
    let _ = writeln!(s, "{}", (t.nature)(f));
    if let Some(n) = &f.incident.nature {
        let _ = writeln!(s, "\n{}", md(n));
    }
    let (source, window) = ((t.source)(f), (t.window)(f));
    let _ = writeln!(s, "\n{}{source}. {}{window}.\n", t.origin, t.period);
    let _ = writeln!(s, "## {}\n", t.categories_heading);
    let persons = (t.persons)(
        &num(a.linkage.persons_affected),
        &num(a.linkage.rows_linked),
        &num(a.linkage.rows),
    );
    let _ = writeln!(s, "{persons}\n");
    let _ = writeln!(s, "{}\n|---|---|", t.categories_table);
    for (c, n) in &f.categories {
        let _ = writeln!(s, "| {} | {} |", (t.label)(*c), num(*n));
    }
    if let Some(text) = fragments(f, t) {
        let _ = write!(s, "\n{text}");
    }
    let _ = writeln!(s, "\n## {}\n", t.consequences_heading);
    let _ = writeln!(s, "{}\n", consequences(f, t));
    let sv = &f.severity;
    let art34 = if sv.art34 {
        t.art34_required
    } else {
        t.art34_not_required
    };
    let _ = writeln!(
        s,
        "{}{} (score {:.2} = DPC {} × EI {} + CB {}). {}{art34}.\n",
        t.severity,
        (t.level)(&sv.level),
        sv.score,
        sv.dpc,
        sv.ei,
        sv.cb,
        t.art34
    );
    let _ = writeln!(s, "## {}\n", t.measures_taken);
    s.push_str(&list(&f.incident.measures_taken, t.measures_taken_default));
    let _ = writeln!(s, "\n## {}\n", t.measures_proposed);
    s.push_str(&list(
        &f.incident.measures_proposed,
        t.measures_proposed_default,
    ));
    let _ = writeln!(s, "\n## {}\n", t.delay);
    let delay = f.incident.delay_reasons.as_deref().map(md);
    let _ = writeln!(s, "{}", delay.as_deref().unwrap_or(t.delay_default));
    s
}

/// At most this many combinations of fragments are listed in a draft.
const FRAGMENT_ROWS: usize = 8;

/// What real data the contradictory rows hold, when there are any.
fn fragments(f: &Facts, t: &Art33Text) -> Option<String> {
    let (a, num) = (f.a, t.num);
    let r = a.recombination.as_ref()?;
    let mut s = (t.fragments)(
        &num(a.verdict.evidence.contradictory_rows),
        &num(r.persons),
        &num(r.identifiers_without_names),
        &num(r.names_without_identifiers),
    );
    let _ = write!(s, "\n\n{}\n|---|---|\n", t.fragments_table);
    for c in r.combinations.iter().take(FRAGMENT_ROWS) {
        let names: Vec<&str> = c.types.iter().map(|c| (t.label)(*c)).collect();
        let _ = writeln!(s, "| {} | {} |", names.join(", "), num(c.persons));
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

/// The likely consequences: the risks the categories exposed bring.
fn consequences(f: &Facts, t: &Art33Text) -> String {
    let has = |c: ColumnType| f.categories.iter().any(|(k, _)| *k == c);
    let mut v = vec![t.risk_base];
    for (c, risk) in [
        (ColumnType::Nir, t.risk_nir),
        (ColumnType::Phone, t.risk_phone),
        (ColumnType::Iban, t.risk_iban),
    ] {
        if has(c) {
            v.push(risk);
        }
    }
    format!("{}{}.", t.risks, v.join(t.risk_sep))
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
