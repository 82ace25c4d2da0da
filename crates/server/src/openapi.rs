//! The hand-written OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.
//! A test checks that it lists every API route of the access table, with its method.

use serde_json::{json, Value};

use crate::error::ERROR_CODES;

fn op(summary: &str, role: &str) -> Value {
    json!({
        "summary": summary,
        "x-min-role": role,
        "responses": {
            "200": {"description": "success"},
            "default": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
    })
}

/// The document.
pub fn document() -> Value {
    let codes: Vec<&str> = ERROR_CODES.iter().map(|c| c.as_str()).collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "leaktrace incident service",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Authenticate with `Authorization: Bearer <token>` (scripts; `POST /api/v1/tokens`, or `leaktrace user token NAME`) or with the session cookie of `POST /api/v1/login` plus its CSRF token in `X-CSRF-Token` on every POST. Errors are `{\"error\": {\"code\", \"message\"}}`; `x-min-role` is the least role a route needs."
        },
        "paths": {
            "/api/v1/openapi.json": {"get": op("This document", "public")},
            "/api/v1/login": {"post": op("Sign in with {name, password}: sets the session cookie, returns {user, role, csrf}", "public")},
            "/api/v1/logout": {"post": op("End the session", "viewer")},
            "/api/v1/me": {"get": op("The signed-in user, role and CSRF token", "viewer")},
            "/api/v1/tokens": {"post": op("Create an API token {label} for yourself; returned once, stored hashed", "viewer")},
            "/api/v1/incidents": {
                "get": op("Incidents with their latest job", "viewer"),
                "post": op("Create an incident: multipart form with `file` and `discovered_at` (YYYY-MM-DDTHH:MM[+HH:MM]), optional title, organisation, contact, nature, measures_taken, measures_proposed, delay_reasons; starts the analysis (201 {incident, job}); 413 upload_too_large over the cap", "analyst")
            },
            "/api/v1/incidents/{id}": {"get": op("An incident: fields, evidence hash, timeline, job progress, CNIL deadline, analysis.json", "viewer")},
            "/api/v1/incidents/{id}/events": {"get": op("Server-sent events `progress` {job, phase, rows, error} until the job ends", "viewer")},
            "/api/v1/incidents/{id}/report": {"get": op("report.html of the latest complete analysis (`?download=1`: as attachment)", "viewer")},
            "/api/v1/incidents/{id}/drafts/{name}": {"get": op("A draft: art33_fr, art33_en, art34_fr as .md or .html", "analyst")},
            "/api/v1/incidents/{id}/drafts/{name}/edit": {
                "get": op("A Markdown draft to edit (art33_fr.md, art33_en.md, art34_fr.md): {name, version (null: as generated), versions, text}", "analyst"),
                "post": op("Save an edited draft {text} as a new version (201 {name, version}); the generated original stays; 413 payload_too_large over 256 KiB", "analyst")
            },
            "/api/v1/incidents/{id}/edited/{name}": {"get": op("The latest edited version of a draft as .md, or rendered as .html; 409 not_ready before any edit", "analyst")},
            "/api/v1/incidents/{id}/affected_persons.csv": {"get": op("Enrolled person ids with the categories exposed", "analyst")},
            "/api/v1/incidents/{id}/analyse": {"post": op("Run the analysis again (after a failure, cancel or interruption)", "analyst")},
            "/api/v1/incidents/{id}/cancel": {"post": op("Cancel the running analysis (its results are discarded)", "analyst")},
            "/api/v1/incidents/{id}/status": {"post": op("Record a timeline step {status: cnil_notified | persons_informed}", "analyst")},
            "/api/v1/incidents/{id}/selfcheck": {"post": op("Open or close the incident to the affected people's self-check {open: true | false}; 409 not_ready before a complete analysis", "analyst")},
            "/api/v1/users": {
                "get": op("Accounts", "admin"),
                "post": op("Create an account {name, role, password}", "admin")
            },
            "/api/v1/audit": {"get": op("The audit trail and whether its hash chain verifies", "admin")},
            "/api/v1/sources": {
                "get": op("The enrolled sources and their snapshots (rows, persons, segment bytes, format profile), and this server's enrolments {sources, enrolments}", "admin"),
                "post": op("Enrol a file: multipart form with `file`, `source`, `as_of` (YYYY-MM-DD), optional `recipient`; runs as a background job (202 {enrolment}); the uploaded file is removed when it ends", "admin")
            }
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string", "enum": codes},
                                "message": {"type": "string"}
                            },
                            "required": ["code", "message"]
                        }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::auth::{Access, Verb, ROUTES};

    #[test]
    fn lists_every_api_route_with_its_role() {
        let doc = super::document();
        let paths = doc["paths"].as_object().unwrap();
        let mut n = 0;
        for r in ROUTES.iter().filter(|r| r.path.starts_with("/api/")) {
            let m = match r.verb {
                Verb::Get => "get",
                Verb::Post => "post",
            };
            let op = &paths[r.path][m];
            assert!(op.is_object(), "{m} {} missing from openapi.json", r.path);
            let role = match r.access {
                Access::Public => "public",
                Access::AtLeast(role) => role.as_str(),
            };
            assert_eq!(op["x-min-role"], role, "{m} {}", r.path);
            n += 1;
        }
        let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(
            documented, n,
            "openapi.json documents a route the table lacks"
        );
    }
}
