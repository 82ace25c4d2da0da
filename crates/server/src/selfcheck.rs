//! Opening an incident to the affected people's self-check (`leaktrace serve --public`) from
//! the team's pages and API: `POST /incidents/{id}/selfcheck` (form field `open` = `1` or `0`)
//! and `POST /api/v1/incidents/{id}/selfcheck` (`{"open": true|false}`), analysts and up — the
//! same rule as `leaktrace selfcheck open|close`. The public listener reloads the open
//! incidents every few seconds; nothing here holds a personal value.

use crate::audit::Action;
use crate::auth::{Identity, Role};
use crate::error::{ApiError, ErrorCode};
use crate::AppState;

/// The audit object of opening (`open`) or closing incident `public_id` to the self-check.
pub fn audit_object(public_id: &str, open: bool) -> String {
    let what = if open { "opened" } else { "closed" };
    format!("incident:{public_id}/selfcheck:{what}")
}

/// Why an incident without a complete analysis cannot be opened to the self-check.
pub const NOT_ANALYSED: &str = "no complete analysis yet: nothing to check against";

/// Whether an incident's report directory holds a complete analysis: the affected-persons
/// list the self-check answers from (checked by the pages, the API and `leaktrace selfcheck`).
pub fn analysed(report_dir: &std::path::Path) -> bool {
    report_dir.join(crate::service::AFFECTED.name).exists()
}

/// Open or close incident `id` to the self-check as `who`; whether it changed (false: it
/// already was, and nothing is audited). Opening needs a complete analysis: the self-check
/// answers from its affected-persons list.
pub fn set_open(state: &AppState, who: &Identity, id: &str, open: bool) -> Result<bool, ApiError> {
    if who.role < Role::Analyst {
        return Err(ApiError::new(ErrorCode::Forbidden, "not for your role"));
    }
    let row = crate::service::incident(state, id)?;
    if open && !analysed(&crate::upload::incident_dir(state, &row.id).join("report")) {
        return Err(ApiError::new(ErrorCode::NotReady, NOT_ANALYSED));
    }
    let changed = state.store().set_selfcheck(row.number, &who.name, open)?;
    if changed {
        state.audit(
            &who.name,
            Action::StatusChange,
            &audit_object(&row.id, open),
        );
    }
    Ok(changed)
}

/// `open` from the form's field: `1`/`true` opens, `0`/`false` closes.
pub fn parse_flag(s: &str) -> Option<bool> {
    match s {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_audit_objects() {
        let cases: &[(&str, Option<bool>)] = &[
            ("1", Some(true)),
            ("true", Some(true)),
            ("0", Some(false)),
            ("false", Some(false)),
            ("", None),
            ("yes", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_flag(s), *want, "{s:?}");
        }
        assert_eq!(audit_object("ab12", true), "incident:ab12/selfcheck:opened");
        assert_eq!(
            audit_object("ab12", false),
            "incident:ab12/selfcheck:closed"
        );
    }
}
