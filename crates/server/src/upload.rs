//! Creating an incident from an upload: the multipart form is streamed — the file straight to
//! disk under `<home>/server/uploads/` with a random name (the client's file name is kept only
//! as a label, never used as a path), its SHA-256 computed as it arrives, the size capped — and
//! the incident fields are read and checked. Nothing is recorded until the whole file is on
//! disk: an interrupted or oversize upload leaves no incident and no file.

use std::path::{Path, PathBuf};

use axum::extract::Multipart;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ErrorCode};
use crate::store::IncidentRow;
use crate::{AppState, IncidentFields, ServerError};

/// Largest text field of the form, in bytes.
pub const FIELD_MAX: usize = 8 * 1024;
/// Longest file label kept, in characters.
const NAME_MAX: usize = 120;

/// An incident's directory: `<home>/server/incidents/<public id>/`.
pub fn incident_dir(state: &AppState, public_id: &str) -> PathBuf {
    state.config.dir().join("incidents").join(public_id)
}

/// The uploaded file of an incident (removed once an analysis succeeded).
pub fn evidence_path(state: &AppState, public_id: &str) -> PathBuf {
    incident_dir(state, public_id).join("evidence")
}

/// Remove upload leftovers and half-written outputs of a stopped server.
pub fn clean_partial(dir: &Path) -> Result<(), ServerError> {
    let up = dir.join("uploads");
    for e in std::fs::read_dir(&up).map_err(|e| ServerError::io(&up, e))? {
        let e = e.map_err(|e| ServerError::io(&up, e))?;
        let _ = std::fs::remove_file(e.path());
    }
    let inc = dir.join("incidents");
    for e in std::fs::read_dir(&inc).map_err(|e| ServerError::io(&inc, e))? {
        let e = e.map_err(|e| ServerError::io(&inc, e))?;
        if let Ok(sub) = std::fs::read_dir(e.path()) {
            for f in sub.flatten() {
                if f.file_name().to_string_lossy().starts_with("report.tmp-") {
                    let _ = std::fs::remove_dir_all(f.path());
                }
            }
        }
    }
    Ok(())
}

/// A file label safe to show: the last path component, control characters dropped, truncated.
pub fn label_of(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(NAME_MAX)
        .collect();
    if clean.is_empty() || clean == "." || clean == ".." {
        "upload".into()
    } else {
        clean
    }
}

/// Removes a file unless disarmed (an upload that did not complete).
pub(crate) struct Partial(pub(crate) Option<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// What the form gave.
#[derive(Debug, Default)]
struct Form {
    fields: IncidentFields,
    discovered_at: Option<String>,
    file: Option<(PathBuf, String, u64, String)>,
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        ErrorCode::UploadTooLarge,
        format!("the file is larger than the service's limit of {max} bytes"),
    )
}

fn interrupted() -> ApiError {
    ApiError::new(
        ErrorCode::UploadInterrupted,
        "the upload was interrupted or malformed; nothing was recorded",
    )
}

/// Most fields a form may have.
pub(crate) const FIELDS_MAX: usize = 32;

fn field_too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("a form field is longer than {FIELD_MAX} bytes"),
    )
}

/// A text field, read chunk by chunk and refused past [`FIELD_MAX`] bytes (never buffered
/// whole).
pub(crate) async fn read_text(
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| interrupted())? {
        if bytes.len() + chunk.len() > FIELD_MAX {
            return Err(field_too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| ApiError::new(ErrorCode::BadRequest, "a form field is not UTF-8"))
}

pub(crate) async fn read_file(
    state: &AppState,
    mut field: axum::extract::multipart::Field<'_>,
    guard: &mut Partial,
) -> Result<(PathBuf, String, u64, String), ApiError> {
    let label = label_of(field.file_name().unwrap_or(""));
    let name = crate::auth::new_secret("")?;
    let path = state
        .config
        .dir()
        .join("uploads")
        .join(format!("{}.part", &name[..32]));
    guard.0 = Some(path.clone());
    let mut out = tokio::fs::File::create(&path)
        .await
        .map_err(|e| ApiError::internal(&ServerError::io(&path, e)))?;
    let mut hash = Sha256::new();
    let mut size = 0u64;
    let max = state.config.upload_max;
    while let Some(chunk) = field.chunk().await.map_err(|_| interrupted())? {
        size += chunk.len() as u64;
        if size > max {
            return Err(too_large(max));
        }
        hash.update(&chunk);
        out.write_all(&chunk)
            .await
            .map_err(|e| ApiError::internal(&ServerError::io(&path, e)))?;
    }
    out.sync_all()
        .await
        .map_err(|e| ApiError::internal(&ServerError::io(&path, e)))?;
    Ok((path, label, size, crate::audit::hex(&hash.finalize())))
}

/// The answer to a multipart stream that failed between fields.
pub(crate) fn next_field_error(
    state: &AppState,
    e: &axum::extract::multipart::MultipartError,
) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        too_large(state.config.upload_max)
    } else {
        interrupted()
    }
}

async fn read_form(
    state: &AppState,
    mut mp: Multipart,
    guard: &mut Partial,
) -> Result<Form, ApiError> {
    let mut form = Form::default();
    let mut fields = 0;
    let lines = |s: &str| -> Vec<String> {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    };
    let opt = |s: String| {
        let t = s.trim().to_string();
        (!t.is_empty()).then_some(t)
    };
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| next_field_error(state, &e))?
    {
        fields += 1;
        if fields > FIELDS_MAX {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("a form has at most {FIELDS_MAX} fields"),
            ));
        }
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            if form.file.is_some() {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "one file per incident",
                ));
            }
            form.file = Some(read_file(state, field, guard).await?);
            continue;
        }
        let text = read_text(field).await?;
        let f = &mut form.fields;
        match name.as_str() {
            "title" => f.title = text.trim().to_string(),
            "discovered_at" => form.discovered_at = opt(text),
            "organisation" => f.organisation = opt(text),
            "contact" => f.contact = opt(text),
            "nature" => f.nature = opt(text),
            "measures_taken" => f.measures_taken = lines(&text),
            "measures_proposed" => f.measures_proposed = lines(&text),
            "delay_reasons" => f.delay_reasons = opt(text),
            // The CSRF token (checked by the guard from the query) and unknown fields.
            _ => {}
        }
    }
    Ok(form)
}

/// Receive an upload form and record the incident. Returns its row.
pub async fn receive(state: &AppState, user: &str, mp: Multipart) -> Result<IncidentRow, ApiError> {
    let mut guard = Partial(None);
    let form = read_form(state, mp, &mut guard).await?;
    let Some((part, label, size, sha256)) = form.file else {
        return Err(ApiError::new(
            ErrorCode::MissingFile,
            "the form has no file field",
        ));
    };
    if size == 0 {
        return Err(ApiError::new(
            ErrorCode::EmptyFile,
            "the uploaded file is empty",
        ));
    }
    let discovered_at = form.discovered_at.ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadDiscoveredAt,
            "discovered_at is required (YYYY-MM-DDTHH:MM)",
        )
    })?;
    leaktrace_report::deadline(&discovered_at)
        .map_err(|e| ApiError::new(ErrorCode::BadDiscoveredAt, e.to_string()))?;
    let mut fields = form.fields;
    if fields.title.is_empty() {
        fields.title = label.clone();
    }
    fields.title = fields.title.chars().take(200).collect();
    let public_id = crate::auth::new_secret("")?[..24].to_string();
    let dir = incident_dir(state, &public_id);
    std::fs::create_dir_all(&dir).map_err(|e| ApiError::internal(&ServerError::io(&dir, e)))?;
    let evidence = evidence_path(state, &public_id);
    std::fs::rename(&part, &evidence)
        .map_err(|e| ApiError::internal(&ServerError::io(&evidence, e)))?;
    guard.0 = None;
    let mut row = IncidentRow {
        number: 0,
        id: public_id,
        title: fields.title.clone(),
        file_name: label,
        file_bytes: size as i64,
        sha256,
        discovered_at,
        fields: serde_json::to_string(&fields).map_err(|e| ApiError::internal(&e))?,
        created_by: user.to_string(),
        created_at: crate::now_iso(),
    };
    let added = state.store().add_incident(&row);
    match added {
        Ok(n) => row.number = n,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e.into());
        }
    }
    state.audit(
        user,
        crate::audit::Action::Upload,
        &format!(
            "incident:{}/evidence sha256:{} bytes:{}",
            row.id, row.sha256, row.file_bytes
        ),
    );
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_carry_a_path() {
        for (given, want) in [
            ("../../etc/passwd", "passwd"),
            ("..\\..\\boot.ini", "boot.ini"),
            ("..", "upload"),
            ("", "upload"),
            ("dir/", "upload"),
            ("fuite\u{0}.csv", "fuite.csv"),
            ("leak.csv", "leak.csv"),
        ] {
            assert_eq!(label_of(given), want, "{given:?}");
        }
    }
}
