//! The incident report of an analysed leak, for the DPO's next 72 hours: `report.html` (one
//! self-contained file: inline CSS and SVG, no network), the ENISA severity
//! ([`severity`]), drafts of the GDPR Art. 33 notification (French and English) and of the
//! Art. 34 notice to the persons (French), in Markdown and HTML, and `affected_persons.csv`.
//!
//! Everything here is built from aggregates of the analysis: counts, shares, enrolled person
//! ids and column names — never a value of the leaked file.

pub mod severity;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use leaktrace_analyze::{Analysis, ContextSummary, Status};
use leaktrace_pii::ColumnType;
use serde::Deserialize;

pub use severity::{assess, Severity, SeverityInput};

/// Errors of report writing.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Incident { path: String, message: String },
    #[error(
        "--discovered-at {0:?}: use YYYY-MM-DDTHH:MM (optionally :SS and an offset, e.g. +01:00)"
    )]
    DiscoveredAt(String),
}

/// What the DPO knows about the incident (`--incident FILE`, TOML). Every field is optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub organisation: Option<String>,
    /// Contact point for the CNIL and the persons (the DPO).
    pub contact: Option<String>,
    /// When the organisation became aware of the breach (`YYYY-MM-DDTHH:MM[:SS][offset]`).
    pub discovered_at: Option<String>,
    /// How the breach happened, as far as known.
    pub nature: Option<String>,
    pub measures_taken: Option<Vec<String>>,
    pub measures_proposed: Option<Vec<String>>,
    /// Reasons if notifying after 72 hours.
    pub delay_reasons: Option<String>,
    #[serde(default)]
    pub severity: SeverityInput,
}

impl Incident {
    /// Read an incident file.
    pub fn load(path: &Path) -> Result<Incident, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        toml::from_str(&text).map_err(|e| ReportError::Incident {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }
}

/// A date and time as given, and the notification deadline 72 hours later.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    pub discovered: String,
    pub deadline: String,
}

/// Parse `YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]` and add 72 hours (same clock time, three days on).
pub fn deadline(discovered_at: &str) -> Result<Deadline, ReportError> {
    let bad = || ReportError::DiscoveredAt(discovered_at.to_string());
    let s = discovered_at.trim();
    let (date, rest) = s.split_at(s.find(['T', ' ']).ok_or_else(bad)?);
    let rest = &rest[1..];
    let d = leaktrace_pii::date::parse(date).ok_or_else(bad)?;
    let split = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (time, offset) = rest.split_at(split);
    let parts: Vec<&str> = time.split(':').collect();
    let ok = |p: &str, max: u32| p.len() == 2 && p.parse::<u32>().is_ok_and(|v| v <= max);
    if !(parts.len() == 2 || parts.len() == 3)
        || !ok(parts[0], 23)
        || !ok(parts[1], 59)
        || (parts.len() == 3 && !ok(parts[2], 60))
    {
        return Err(bad());
    }
    let end = leaktrace_pii::date::Ymd::from_days(d.days() + 3);
    Ok(Deadline {
        discovered: format!("{} {time}{offset}", d.iso()),
        deadline: format!("{} {time}{offset}", end.iso()),
    })
}

/// French and English names of a data category.
pub fn category_label(t: ColumnType) -> (&'static str, &'static str) {
    use ColumnType as T;
    match t {
        T::Nir => (
            "numéro de sécurité sociale (NIR)",
            "social security number (NIR)",
        ),
        T::Email => ("adresse électronique", "e-mail address"),
        T::Phone => ("numéro de téléphone", "phone number"),
        T::LastName => ("nom", "surname"),
        T::FirstName => ("prénom", "first name"),
        T::FullName => ("nom complet", "full name"),
        T::BirthDate => ("date de naissance", "date of birth"),
        T::Age => ("âge", "age"),
        T::Sex => ("civilité", "sex / title"),
        T::PostalCode => ("code postal", "postal code"),
        T::InseeCode => ("code commune INSEE", "INSEE commune code"),
        T::Commune => ("commune", "town"),
        T::Address => ("adresse postale", "postal address"),
        T::Latitude | T::Longitude => ("géolocalisation", "geolocation"),
        T::RomeCode => ("métier recherché (code ROME)", "job sought (ROME code)"),
        T::EducationLevel => ("niveau de formation", "education level"),
        T::Boolean => (
            "informations oui/non (permis, véhicule…)",
            "yes/no facts (licence, car…)",
        ),
        T::Iban => ("coordonnées bancaires (IBAN)", "bank account (IBAN)"),
        T::PasswordHash => ("empreinte de mot de passe", "password hash"),
        T::Password => ("mot de passe", "password"),
        T::IpAddress => ("adresse IP", "IP address"),
        T::PersonId => ("identifiant", "identifier"),
        T::Date => ("date", "date"),
        _ => ("autre donnée", "other data"),
    }
}

fn fr(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

fn en(n: u64) -> String {
    fr(n).replace('\u{202f}', ",")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Everything the drafts and the page need, computed once.
struct Facts<'a> {
    a: &'a Analysis,
    incident: &'a Incident,
    severity: Severity,
    deadline: Option<Deadline>,
    categories: Vec<(ColumnType, u64)>,
}

impl Facts<'_> {
    fn organisation(&self) -> &str {
        self.incident
            .organisation
            .as_deref()
            .unwrap_or("[organisation]")
    }
    fn contact(&self) -> &str {
        self.incident
            .contact
            .as_deref()
            .unwrap_or("[contact du DPO / DPO contact]")
    }
    fn source_fr(&self) -> String {
        let at = &self.a.attribution;
        match at.candidates.first() {
            Some(c) if at.rows_used > 0 && c.source != "unknown" => format!(
                "{} ({}), probabilité a posteriori {:.3}",
                c.source, c.recipient, c.posterior
            ),
            _ => "non déterminée".into(),
        }
    }
    fn source_en(&self) -> String {
        let at = &self.a.attribution;
        match at.candidates.first() {
            Some(c) if at.rows_used > 0 && c.source != "unknown" => format!(
                "{} ({}), posterior probability {:.3}",
                c.source, c.recipient, c.posterior
            ),
            _ => "not determined".into(),
        }
    }
    fn window(&self) -> String {
        let w = &self.a.extraction_window;
        match (&w.from, &w.to) {
            (None, None) => "—".into(),
            (f, t) => format!(
                "{} → {}",
                f.as_deref().unwrap_or("…"),
                t.as_deref().unwrap_or("…")
            ),
        }
    }
}

fn list(items: &Option<Vec<String>>, none: &str) -> String {
    match items {
        Some(v) if !v.is_empty() => v.iter().map(|m| format!("- {m}\n")).collect(),
        _ => format!("- {none}\n"),
    }
}

fn art33_fr(f: &Facts) -> String {
    let a = f.a;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Notification d'une violation de données personnelles (RGPD, art. 33)\n"
    );
    let _ = writeln!(s, "Responsable du traitement : {}  ", f.organisation());
    let _ = writeln!(s, "Point de contact : {}\n", f.contact());
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
        a.file.name,
        &a.file.sha256[..16],
        status_fr(a.verdict.status),
        fr(a.linkage.rows_linked),
        fr(a.linkage.rows),
        a.verdict.confidence
    );
    if let Some(n) = &f.incident.nature {
        let _ = writeln!(s, "\n{n}");
    }
    let _ = writeln!(
        s,
        "\nOrigine présumée : {}. Période d'extraction estimée : {}.\n",
        f.source_fr(),
        f.window()
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
            .unwrap_or("Sans objet si la notification intervient dans les 72 heures.")
    );
    s
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

fn art33_en(f: &Facts) -> String {
    let a = f.a;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Notification of a personal data breach (GDPR Art. 33)\n"
    );
    let _ = writeln!(s, "Controller: {}  ", f.organisation());
    let _ = writeln!(s, "Contact point: {}\n", f.contact());
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
        a.file.name,
        &a.file.sha256[..16],
        a.verdict.status.as_str(),
        a.verdict.confidence
    );
    if let Some(n) = &f.incident.nature {
        let _ = writeln!(s, "\n{n}");
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
            .unwrap_or("Not applicable if notified within 72 hours.")
    );
    s
}

fn art34_fr(f: &Facts) -> String {
    let mut cats: Vec<&str> = f
        .categories
        .iter()
        .map(|(t, _)| category_label(*t).0)
        .collect();
    cats.dedup();
    let has = |t: ColumnType| f.categories.iter().any(|(c, _)| *c == t);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Information sur une violation de vos données personnelles\n"
    );
    let _ = writeln!(s, "Madame, Monsieur,\n");
    let _ = writeln!(
        s,
        "Nous avons découvert qu'un fichier contenant des données personnelles de personnes \
         inscrites auprès de {} circule hors de nos systèmes. Vos données en font partie.\n",
        f.organisation()
    );
    let _ = writeln!(s, "## Quelles données ?\n");
    let _ = writeln!(s, "Les données concernées sont : {}.\n", cats.join(", "));
    let _ = writeln!(
        s,
        "Aucun mot de passe ni aucune coordonnée bancaire ne figure dans ce fichier, sauf \
         mention contraire ci-dessus.\n"
    );
    let _ = writeln!(s, "## Ce que vous pouvez faire\n");
    let _ = writeln!(
        s,
        "- Méfiez-vous des messages (courriel, SMS, appel) qui se présentent comme venant de \
         {} ou d'un organisme public et vous demandent des informations : nous ne vous \
         demanderons jamais votre mot de passe ni vos coordonnées bancaires par message ou par \
         téléphone.",
        f.organisation()
    );
    let _ = writeln!(
        s,
        "- Ne cliquez pas sur les liens d'un message inattendu ; connectez-vous à votre espace en \
         tapant vous-même l'adresse du site."
    );
    if has(ColumnType::Phone) {
        let _ = writeln!(
            s,
            "- En cas d'appel suspect, raccrochez et rappelez le numéro officiel."
        );
    }
    if has(ColumnType::Nir) {
        let _ = writeln!(
            s,
            "- Votre numéro de sécurité sociale figure dans le fichier : surveillez vos relevés \
             (ameli, caisse de retraite) et signalez toute démarche que vous n'avez pas faite."
        );
    }
    let _ = writeln!(
        s,
        "- Vous pouvez signaler un message frauduleux sur cybermalveillance.gouv.fr et déposer \
         plainte en cas de préjudice.\n"
    );
    let _ = writeln!(s, "## Ce que nous faisons\n");
    s.push_str(&list(
        &f.incident.measures_taken,
        "Nous avons analysé le fichier, identifié les personnes concernées et informé la CNIL.",
    ));
    let _ = writeln!(s, "\n## Nous contacter\n");
    let _ = writeln!(
        s,
        "Pour toute question ou pour exercer vos droits : {}.",
        f.contact()
    );
    s
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
            let _ = writeln!(body, "<h1>{}</h1>", esc(h));
        } else if let Some(h) = l.strip_prefix("## ") {
            let _ = writeln!(body, "<h2>{}</h2>", esc(h));
        } else if let Some(item) = l.strip_prefix("- ") {
            if !in_list {
                body.push_str("<ul>\n");
                in_list = true;
            }
            let _ = writeln!(body, "<li>{}</li>", esc(item));
        } else if l.starts_with('|') {
            if l.starts_with("|---") {
                continue;
            }
            if !in_table {
                body.push_str("<table>\n");
                in_table = true;
            }
            let cells: Vec<String> = l
                .trim_matches('|')
                .split('|')
                .map(|c| format!("<td>{}</td>", esc(c.trim())))
                .collect();
            let _ = writeln!(body, "<tr>{}</tr>", cells.concat());
        } else if !l.is_empty() {
            let _ = writeln!(body, "<p>{}</p>", esc(l));
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

const CSS: &str = "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2129;background:#f6f7f9;margin:0}main{max-width:960px;margin:0 auto;padding:24px;background:#fff}h1{font-size:24px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde1e6;padding-bottom:4px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #dde1e6;padding:4px 10px;text-align:left}th{background:#f0f2f5}.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.kpi{flex:1 1 150px;border:1px solid #dde1e6;border-radius:6px;padding:10px}.kpi b{display:block;font-size:22px}.verdict{font-size:18px;padding:12px;border-radius:6px;background:#fdecea;border-left:6px solid #c0392b}.ok{background:#eaf7ee;border-left-color:#2e7d32}.muted{color:#5f6b7a;font-size:13px}figure{margin:12px 0}figcaption{font-weight:600;margin-bottom:4px}";

/// A horizontal bar chart as inline SVG.
fn bars(caption: &str, items: &[(String, f64, String)], color: &str) -> String {
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
fn context_html(ctx: Option<&ContextSummary>, affected: u64) -> String {
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

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn report_html(f: &Facts) -> String {
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

/// The files [`write_report`] wrote.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    pub html: PathBuf,
    pub severity: Severity,
    pub deadline: Option<Deadline>,
}

/// Write `report.html`, the drafts (`art33_fr`, `art33_en`, `art34_fr`, `.md` and `.html`) and
/// `affected_persons.csv` into `dir`.
pub fn write_report(
    dir: &Path,
    a: &Analysis,
    incident: &Incident,
    discovered_at: Option<&str>,
) -> Result<ReportFiles, ReportError> {
    let when = discovered_at.or(incident.discovered_at.as_deref());
    let deadline = when.map(deadline).transpose()?;
    let categories: Vec<(ColumnType, u64)> = a
        .categories
        .iter()
        .filter(|c| c.ty != ColumnType::PersonId)
        .map(|c| (c.ty, c.persons))
        .collect();
    let types: Vec<ColumnType> = categories.iter().map(|c| c.0).collect();
    let severity = assess(&types, &incident.severity);
    let f = Facts {
        a,
        incident,
        severity: severity.clone(),
        deadline: deadline.clone(),
        categories,
    };
    let io = |p: &Path, e: std::io::Error| ReportError::Io {
        path: p.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let write = |name: &str, text: &str| -> Result<(), ReportError> {
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, dir.join(name)).map_err(|e| io(&dir.join(name), e))
    };
    for (name, title, md) in [
        ("art33_fr", "Notification art. 33", art33_fr(&f)),
        ("art33_en", "Art. 33 notification", art33_en(&f)),
        ("art34_fr", "Information des personnes", art34_fr(&f)),
    ] {
        write(&format!("{name}.md"), &md)?;
        write(&format!("{name}.html"), &markdown_to_html(title, &md))?;
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| ReportError::Incident {
        path: "affected_persons.csv".into(),
        message: e.to_string(),
    };
    w.write_record(["person_id", "categories"])
        .map_err(csv_err)?;
    for (p, t) in &a.affected {
        let cats: Vec<&str> = t.iter().map(|t| t.as_str()).collect();
        w.write_record([p.as_str(), &cats.join(";")])
            .map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| ReportError::Incident {
        path: "affected_persons.csv".into(),
        message: e.to_string(),
    })?;
    write("affected_persons.csv", &String::from_utf8_lossy(&bytes))?;
    write("report.html", &report_html(&f))?;
    Ok(ReportFiles {
        html: dir.join("report.html"),
        severity,
        deadline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_is_72_hours_later() {
        let d = deadline("2026-11-20T09:30+01:00").unwrap();
        assert_eq!(d.discovered, "2026-11-20 09:30+01:00");
        assert_eq!(d.deadline, "2026-11-23 09:30+01:00");
        let d = deadline("2026-12-30 18:00:05Z").unwrap();
        assert_eq!(d.deadline, "2027-01-02 18:00:05Z");
        assert!(deadline("2026-11-20").is_err());
        assert!(deadline("2026-11-20T25:00").is_err());
    }

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
