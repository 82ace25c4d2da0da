//! Every route of the access table × anonymous, viewer, analyst, admin (sessions) and a viewer's
//! bearer token: refused below the route's role (401 or the login redirect for anonymous, 403
//! for a signed-in user), let through at or above it, and no incident data in any refusal.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use leaktrace_server::auth::{Access, Role, Verb, ROUTES};

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    User(Role),
    ViewerToken,
}

impl Who {
    fn role(self) -> Option<Role> {
        match self {
            Who::Anonymous => None,
            Who::User(r) => Some(r),
            Who::ViewerToken => Some(Role::Viewer),
        }
    }
}

fn concrete(path: &str, id: &str) -> String {
    path.replace("{id}", id)
        .replace("/drafts/{name}", "/drafts/art33_fr.md")
        .replace("/edited/{name}", "/edited/art33_fr.md")
        .replace("/assets/{name}", "/assets/app.css")
        .replace("{lang}", "en")
}

/// Values that must never appear in an answer to someone below the route's role.
struct Secrets {
    sha256: String,
    title: String,
    person_ids: Vec<String>,
}

fn leaks(body: &str, s: &Secrets) -> Option<String> {
    if body.contains(&s.sha256) {
        return Some("evidence hash".into());
    }
    if body.contains(&s.title) {
        return Some("title".into());
    }
    s.person_ids
        .iter()
        .find(|p| body.contains(p.as_str()))
        .map(|p| format!("person id {p}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_checks_the_role_and_refusals_leak_nothing() {
    let app = app();
    let id = analysed_incident(&app).await;
    let admin = login(&app, "admin").await;
    let inc = get(&app, &format!("/api/v1/incidents/{id}"), &admin)
        .await
        .json();
    let csv = get(
        &app,
        &format!("/api/v1/incidents/{id}/affected_persons.csv"),
        &admin,
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    let person_ids: Vec<String> = csv
        .text()
        .lines()
        .skip(1)
        .take(50)
        .filter_map(|l| l.split(',').next().map(String::from))
        .filter(|p| p.len() >= 4)
        .collect();
    assert!(person_ids.len() >= 10, "{}", csv.text());
    let secrets = Secrets {
        sha256: inc["incident"]["sha256"].as_str().unwrap().to_string(),
        title: "Fuite test".into(),
        person_ids,
    };
    let token = leaktrace_server::admin::new_token(&app.home(), "viewer", "matrix").unwrap();
    let mut checked = 0;
    for who in [
        Who::Anonymous,
        Who::User(Role::Viewer),
        Who::User(Role::Analyst),
        Who::User(Role::Admin),
        Who::ViewerToken,
    ] {
        for route in ROUTES {
            // A fresh session per request: logout routes end theirs.
            let auth = match who {
                Who::Anonymous => Auth::default(),
                Who::User(r) => login(&app, r.as_str()).await,
                Who::ViewerToken => Auth {
                    bearer: Some(token.clone()),
                    ..Auth::default()
                },
            };
            let uri = concrete(route.path, &id);
            let method = route.verb.method();
            let r = if route.verb == Verb::Post {
                // An empty JSON object: enough to pass the guard, never a valid change.
                send(
                    &app,
                    Method::POST,
                    &uri,
                    &auth,
                    Some("application/json"),
                    b"{}".to_vec(),
                )
                .await
            } else {
                get(&app, &uri, &auth).await
            };
            let allowed = match (route.access, who.role()) {
                (Access::Public, _) => true,
                (Access::AtLeast(_), None) => false,
                (Access::AtLeast(min), Some(role)) => role >= min,
            };
            let api = uri.starts_with("/api/");
            let ctx = format!("{who:?} {method} {uri}: {} {}", r.status, r.text());
            if allowed {
                assert!(
                    r.status != StatusCode::UNAUTHORIZED
                        && r.status != StatusCode::FORBIDDEN
                        && (r.location() != Some("/login") || route.path == "/logout")
                        && r.status != StatusCode::NOT_FOUND,
                    "should pass: {ctx}"
                );
            } else {
                match who {
                    Who::Anonymous if api => {
                        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{ctx}");
                        assert_eq!(r.code(), "unauthenticated", "{ctx}");
                    }
                    Who::Anonymous => {
                        assert_eq!(r.status, StatusCode::SEE_OTHER, "{ctx}");
                        assert_eq!(r.location(), Some("/login"), "{ctx}");
                    }
                    _ => {
                        assert_eq!(r.status, StatusCode::FORBIDDEN, "{ctx}");
                        if api {
                            assert_eq!(r.code(), "forbidden", "{ctx}");
                        }
                    }
                }
                assert_eq!(leaks(&r.text(), &secrets), None, "{ctx}");
            }
            if who == Who::Anonymous {
                assert_eq!(leaks(&r.text(), &secrets), None, "{ctx}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * ROUTES.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_by_role_and_no_guessing() {
    let app = app();
    let id = analysed_incident(&app).await;
    let viewer = login(&app, "viewer").await;
    let analyst = login(&app, "analyst").await;
    // The viewer reads the report and the aggregates, not the drafts nor the persons.
    let rep = get(&app, &format!("/incidents/{id}/report"), &viewer).await;
    assert_eq!(rep.status, StatusCode::OK);
    assert!(rep.text().contains("<svg"), "report.html has its charts");
    let csp = rep.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("sandbox") && csp.starts_with("default-src 'none'"),
        "{csp}"
    );
    for p in [
        format!("/incidents/{id}/affected_persons.csv"),
        format!("/incidents/{id}/drafts/art34_fr.md"),
        format!("/api/v1/incidents/{id}/affected_persons.csv"),
    ] {
        assert_eq!(
            get(&app, &p, &viewer).await.status,
            StatusCode::FORBIDDEN,
            "{p}"
        );
    }
    let csv = get(
        &app,
        &format!("/incidents/{id}/affected_persons.csv"),
        &analyst,
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text().starts_with("person_id,categories\n"));
    assert!(csv.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let md = get(
        &app,
        &format!("/api/v1/incidents/{id}/drafts/art33_fr.md?download=1"),
        &analyst,
    )
    .await;
    assert_eq!(md.status, StatusCode::OK);
    assert!(
        md.text().contains("CNIL") || md.text().contains("personnes"),
        "{}",
        md.text()
    );
    // Ids are not guessable, unknown ones are 404 without data, and names outside the drafts
    // list (traversal included) are refused.
    assert_eq!(id.len(), 24);
    let other = "0".repeat(24);
    let r = get(&app, &format!("/api/v1/incidents/{other}"), &viewer).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    for name in [
        "..%2F..%2Fcatalog.sqlite",
        "analysis.json",
        "matches.csv",
        "report.html",
    ] {
        let r = get(
            &app,
            &format!("/api/v1/incidents/{id}/drafts/{name}"),
            &analyst,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}: {}", r.text());
    }
    // Pages: the viewer's incident page shows the verdict but no links to drafts or persons.
    let page = get(&app, &format!("/incidents/{id}"), &viewer).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("authentic"), "verdict shown");
    assert!(!html.contains("affected_persons.csv") && !html.contains("/drafts/"));
    let page = get(&app, &format!("/incidents/{id}"), &analyst)
        .await
        .text();
    assert!(page.contains("affected_persons.csv") && page.contains("/drafts/art33_fr.md"));
}
