//! Drafts edited in the browser (analysts): the Markdown drafts of an analysis
//! (`art33_fr.md`, `art33_en.md`, `art34_fr.md`) are edited in a form and each save is a new
//! version, `<home>/server/incidents/<id>/drafts/<stem>.v<N>.md`; the generated original in
//! `report/` is never changed. Every save is audited with its version and the SHA-256 of its
//! text. The latest edited version downloads as Markdown, or as HTML rendered with
//! `pulldown-cmark` (raw HTML in the text is shown as text, never passed through).

use std::path::PathBuf;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pulldown_cmark::{html, Event, Options, Parser};
use sha2::{Digest, Sha256};

use crate::audit::Action;
use crate::auth::{Identity, Role};
use crate::error::{ApiError, ErrorCode};
use crate::service::{self, Output, DRAFTS};
use crate::{AppState, ServerError};

/// Largest edited draft accepted, in bytes.
pub const DRAFT_MAX: usize = 256 * 1024;

/// The CSS of a rendered edited draft: readable on screen, clean on paper.
const CSS: &str = "body{font:15px/1.5 system-ui,sans-serif;color:#1d2129;margin:0}main{max-width:48rem;margin:0 auto;padding:24px}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 8px}@media print{body{font:11pt/1.4 Georgia,serif;color:#000}main{max-width:none;padding:0}h1,h2,h3{break-after:avoid}table,ul,ol{break-inside:avoid}}";

/// A Markdown draft by name (only those can be edited).
pub fn editable(name: &str) -> Result<Output, ApiError> {
    service::draft(name)?;
    DRAFTS
        .iter()
        .find(|d| d.name == name && d.name.ends_with(".md"))
        .copied()
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "only the Markdown drafts are edited"))
}

fn stem(name: &str) -> &str {
    name.strip_suffix(".md")
        .or_else(|| name.strip_suffix(".html"))
        .unwrap_or(name)
}

fn dir(state: &AppState, id: &str) -> PathBuf {
    crate::upload::incident_dir(state, id).join("drafts")
}

fn version_path(state: &AppState, id: &str, name: &str, v: u32) -> PathBuf {
    dir(state, id).join(format!("{}.v{v}.md", stem(name)))
}

/// The saved versions of a draft, oldest first.
pub fn versions(state: &AppState, id: &str, name: &str) -> Vec<u32> {
    let prefix = format!("{}.v", stem(name));
    let mut v: Vec<u32> = std::fs::read_dir(dir(state, id))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let f = e.file_name().to_string_lossy().into_owned();
            f.strip_prefix(&prefix)?.strip_suffix(".md")?.parse().ok()
        })
        .collect();
    v.sort_unstable();
    v
}

/// The text to edit: the latest saved version, else the generated draft (`None` as version).
pub fn current(state: &AppState, id: &str, name: &str) -> Result<(Option<u32>, String), ApiError> {
    if let Some(&v) = versions(state, id, name).last() {
        let p = version_path(state, id, name, v);
        let text =
            std::fs::read_to_string(&p).map_err(|e| ApiError::internal(&ServerError::io(&p, e)))?;
        return Ok((Some(v), text));
    }
    let p = crate::upload::incident_dir(state, id)
        .join("report")
        .join(name);
    let text = std::fs::read_to_string(p)
        .map_err(|_| ApiError::new(ErrorCode::NotReady, "no complete analysis yet"))?;
    Ok((None, text))
}

/// A draft opened for editing, its view audited.
#[derive(Debug)]
pub struct Opened {
    /// The incident.
    pub incident: crate::store::IncidentRow,
    /// The version shown (`None`: the draft as generated).
    pub version: Option<u32>,
    /// Its text.
    pub text: String,
    /// Every saved version, oldest first.
    pub versions: Vec<u32>,
}

/// Open draft `name` of incident `id` for editing (what the page's form and the API show).
pub fn open(state: &AppState, who: &Identity, id: &str, name: &str) -> Result<Opened, ApiError> {
    let row = service::incident(state, id)?;
    editable(name)?;
    let (version, text) = current(state, &row.id, name)?;
    let versions = versions(state, &row.id, name);
    state.audit(
        &who.name,
        Action::View,
        &format!("incident:{}/drafts/{name}/edit", row.id),
    );
    Ok(Opened {
        incident: row,
        version,
        text,
        versions,
    })
}

/// Save an edited draft as a new version; returns its number. The original stays as generated.
pub fn save(
    state: &AppState,
    who: &Identity,
    id: &str,
    name: &str,
    text: &str,
) -> Result<u32, ApiError> {
    if who.role < Role::Analyst {
        return Err(ApiError::new(ErrorCode::Forbidden, "not for your role"));
    }
    let row = service::incident(state, id)?;
    editable(name)?;
    if text.len() > DRAFT_MAX {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("a draft has at most {DRAFT_MAX} bytes"),
        ));
    }
    // There is something to edit only once an analysis wrote the drafts.
    current(state, &row.id, name)?;
    let text = text.replace("\r\n", "\n");
    let d = dir(state, &row.id);
    std::fs::create_dir_all(&d).map_err(|e| ApiError::internal(&ServerError::io(&d, e)))?;
    let v = versions(state, &row.id, name).last().copied().unwrap_or(0) + 1;
    let path = version_path(state, &row.id, name, v);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| ApiError::internal(&ServerError::io(&path, e)))?;
    let sha = crate::audit::hex(&Sha256::digest(text.as_bytes()));
    state.audit(
        &who.name,
        Action::DraftEdited,
        &format!("incident:{}/drafts/{name} version:{v} sha256:{sha}", row.id),
    );
    Ok(v)
}

/// Markdown to an HTML document; raw HTML of the text is escaped (shown as text).
pub fn render_html(markdown: &str, title: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        other => other,
    });
    let mut body = String::new();
    html::push_html(&mut body, parser);
    let t = maud::html! { (title) }.into_string();
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title><style>{CSS}</style></head><body><main>\n{body}</main></body></html>\n"
    )
}

/// Serve the latest edited version of a draft: `name` is a draft's `.md` (as written) or
/// `.html` (rendered) name; 409 `not_ready` before any edit.
pub fn serve_edited(
    state: &AppState,
    who: &Identity,
    id: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let out = service::draft(name)?;
    if who.role < out.min {
        return Err(ApiError::new(ErrorCode::Forbidden, "not for your role"));
    }
    let row = service::incident(state, id)?;
    let md_name = format!("{}.md", stem(name));
    editable(&md_name)?;
    let Some(&v) = versions(state, &row.id, &md_name).last() else {
        return Err(ApiError::new(
            ErrorCode::NotReady,
            "this draft has no edited version",
        ));
    };
    let p = version_path(state, &row.id, &md_name, v);
    let text =
        std::fs::read_to_string(&p).map_err(|e| ApiError::internal(&ServerError::io(&p, e)))?;
    let bytes = if name.ends_with(".html") {
        render_html(&text, &format!("{} v{v}", stem(name)))
    } else {
        text
    };
    state.audit(
        &who.name,
        Action::Download,
        &format!("incident:{}/drafts/{name} version:{v}", row.id),
    );
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(out.content_type),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    let disp = format!(
        "attachment; filename=\"{}-{}.v{v}.{}\"",
        row.number,
        stem(name),
        if name.ends_with(".html") {
            "html"
        } else {
            "md"
        }
    );
    if let Ok(v) = HeaderValue::from_str(&disp) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_escapes_raw_html_and_keeps_markdown() {
        let h = render_html(
            "# Titre\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n*x* <img src=x onerror=y>",
            "t<",
        );
        assert!(h.contains("<h1>Titre</h1>"), "{h}");
        assert!(h.contains("<table>") && h.contains("<em>x</em>"), "{h}");
        assert!(!h.contains("<script") && !h.contains("<img"), "{h}");
        assert!(
            h.contains("&lt;script&gt;") && h.contains("<title>t&lt;</title>"),
            "{h}"
        );
        assert!(h.contains("@media print"));
    }

    #[test]
    fn only_markdown_drafts_are_editable() {
        assert!(editable("art33_fr.md").is_ok());
        assert!(editable("art33_fr.html").is_err());
        assert!(editable("../report.html").is_err());
        assert_eq!(stem("art34_fr.html"), "art34_fr");
    }
}
