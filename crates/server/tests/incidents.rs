//! An incident from upload to verdict: evidence hash, background job with server-sent events,
//! report and drafts, the page (verdict first, waterfall, deadline, timeline), a restart that
//! marks an interrupted job, and the pages' headers (CSP, cookies, language switch).

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use sha2::Digest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_to_verdict_with_progress_and_outputs() {
    let app = app();
    let analyst = login(&app, "analyst").await;
    let bytes = std::fs::read(base().leak("app_reshaped.csv")).unwrap();
    let r = upload(&app, &analyst, "app_reshaped.csv", &bytes).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let inc = r.json()["incident"].clone();
    let want: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(inc["sha256"], want, "evidence hash computed on arrival");
    assert_eq!(inc["file_bytes"], bytes.len());
    let id = inc["id"].as_str().unwrap().to_string();
    let job = wait_job(&app, &analyst, &id).await;
    assert_eq!(job["phase"], "done", "{job}");
    assert!(job["rows"].as_u64().unwrap() > 0);
    // The events stream of a finished job: one progress event, then it ends.
    let ev = get(&app, &format!("/api/v1/incidents/{id}/events"), &analyst).await;
    assert_eq!(ev.status, StatusCode::OK);
    assert!(ev.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let text = ev.text();
    assert!(
        text.contains("event: progress") && text.contains("\"phase\":\"done\""),
        "{text}"
    );
    let v = get(&app, &format!("/api/v1/incidents/{id}"), &analyst)
        .await
        .json();
    assert_eq!(
        v["analysis"]["verdict"]["status"], "authentic",
        "{}",
        v["analysis"]["verdict"]
    );
    assert_eq!(v["analysis"]["file"]["name"], "app_reshaped.csv");
    assert_eq!(v["cnil_deadline"], "2026-11-23 09:30+01:00");
    assert_eq!(
        v["evidence_kept"], false,
        "the leaked file is removed once analysed"
    );
    assert!(!app
        .home()
        .join("server/incidents")
        .join(&id)
        .join("evidence")
        .exists());
    let top = &v["analysis"]["attribution"]["candidates"][0];
    assert_eq!(top["source"], "app_backend", "{top}");
    // The page: verdict before evidence, a waterfall per candidate, the timeline.
    let page = get(&app, &format!("/incidents/{id}"), &analyst)
        .await
        .text();
    let verdict_at = page.find("verdict-box authentic").expect("verdict box");
    let hash_at = page.find(&want).expect("evidence hash shown");
    assert!(verdict_at < hash_at, "verdict first");
    assert!(page.contains("svg class=\"waterfall\"") && page.contains("membership"));
    assert!(page.contains("2026-11-23 09:30+01:00"));
    assert!(page.contains("CNIL notifiée") && page.contains("Analysé"));
    assert!(!page.contains("style="), "no inline style (CSP)");
    assert!(!page.contains("<script>"), "no inline script (CSP)");
    // Outputs are complete files; no temporary directory is left.
    let dir = app.home().join("server/incidents").join(&id);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["report"]);
    let report = get(&app, &format!("/api/v1/incidents/{id}/report"), &analyst).await;
    assert!(report.text().contains("app_reshaped.csv"));
    // Rerunning a finished analysis is refused: its file is gone.
    let r = post_json(
        &app,
        &format!("/api/v1/incidents/{id}/analyse"),
        &analyst,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.code(), "evidence_gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_left_running_is_interrupted_at_restart_and_can_be_rerun() {
    let app = app();
    let analyst = login(&app, "analyst").await;
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let r = upload(&app, &analyst, "x.csv", &junk).await;
    let id = r.json()["incident"]["id"].as_str().unwrap().to_string();
    let _ = wait_job(&app, &analyst, &id).await;
    // No complete analysis: nothing the self-check could answer from.
    let r = post_json(
        &app,
        &format!("/api/v1/incidents/{id}/selfcheck"),
        &analyst,
        serde_json::json!({"open": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "not_ready");
    // Simulate a crash mid-analysis: the job row says running, a half-written output exists.
    let db = rusqlite::Connection::open(app.home().join("catalog.sqlite")).unwrap();
    db.execute("UPDATE jobs SET status = 'running'", [])
        .unwrap();
    let half = app
        .home()
        .join("server/incidents")
        .join(&id)
        .join("report.tmp-9");
    std::fs::create_dir_all(&half).unwrap();
    std::fs::write(half.join("report.html"), "<html>half").unwrap();
    let config = app.state.config.clone();
    let state = leaktrace_server::open(config).unwrap();
    let job = state.store().last_job(1).unwrap().unwrap();
    assert_eq!(job.status, "interrupted");
    assert!(!half.exists(), "half-written outputs removed at start");
    let app2 = App {
        router: leaktrace_server::router(state.clone()),
        state,
        tmp: tempfile::tempdir().unwrap(),
    };
    let analyst = login(&app2, "analyst").await;
    let v = get(&app2, &format!("/api/v1/incidents/{id}"), &analyst)
        .await
        .json();
    assert_eq!(v["job"]["phase"], "interrupted");
    let page = get(&app2, &format!("/incidents/{id}"), &analyst)
        .await
        .text();
    assert!(
        page.contains(&format!("/incidents/{id}/analyse")),
        "rerun offered"
    );
    let r = post_json(
        &app2,
        &format!("/api/v1/incidents/{id}/analyse"),
        &analyst,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let job = wait_job(&app2, &analyst, &id).await;
    assert_eq!(job["phase"], "failed", "this file is no dump: {job}");
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_headers_cookies_language_and_assets() {
    let app = app();
    let anon = Auth::default();
    let r = get(&app, "/login", &anon).await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert_eq!(r.headers["x-frame-options"], "DENY");
    let html = r.text();
    assert!(html.contains("<html lang=\"fr\"") && html.contains("Mot de passe"));
    assert!(html.contains("<label for=\"name\"") && html.contains("<label for=\"password\""));
    assert!(html.contains("name=\"viewport\""), "usable on a phone");
    for (a, ct) in [("app.css", "text/css"), ("app.js", "text/javascript")] {
        let r = get(&app, &format!("/assets/{a}"), &anon).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.headers["content-type"].to_str().unwrap().starts_with(ct));
    }
    assert_eq!(
        get(&app, "/assets/../catalog.sqlite", &anon).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/assets/secret.txt", &anon).await.status,
        StatusCode::NOT_FOUND
    );
    let r = get(&app, "/lang/en", &anon).await;
    assert!(r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("lang=en"));
    // Form login sets the session cookie and lands on the incidents list.
    let r = send(
        &app,
        Method::POST,
        "/login",
        &anon,
        Some("application/x-www-form-urlencoded"),
        format!("name=viewer&password={}", PASSWORD.replace(' ', "+")).into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), Some("/"));
    let cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && !cookie.contains("Secure")
    );
    let secure = app_with(|c| c.secure_cookies = true);
    let r = post_json(
        &secure,
        "/api/v1/login",
        &anon,
        serde_json::json!({"name": "viewer", "password": PASSWORD}),
    )
    .await;
    assert!(r.headers["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
    // The OpenAPI document is served and lists the incidents routes.
    let doc = get(&app, "/api/v1/openapi.json", &anon).await.json();
    assert!(doc["paths"]["/api/v1/incidents/{id}/events"]["get"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_job_shows_nothing_and_can_be_rerun() {
    let app = app();
    let analyst = login(&app, "analyst").await;
    let bytes = std::fs::read(base().leak("website_dump.sql")).unwrap();
    // Two uploads: the second waits for the first (one analysis at a time) and is cancelled.
    let first = upload(&app, &analyst, "a.sql", &bytes).await.json()["incident"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = upload(&app, &analyst, "b.sql", &bytes).await;
    let second = r.json()["incident"]["id"].as_str().unwrap().to_string();
    // A live job's progress carries the evidence size for the ETA.
    let v = get(&app, &format!("/api/v1/incidents/{second}"), &analyst)
        .await
        .json();
    assert_eq!(v["job"]["bytes_total"], bytes.len() as u64, "{v}");
    assert!(v["job"].get("eta_seconds").is_some(), "{v}");
    let r = post_json(
        &app,
        &format!("/api/v1/incidents/{second}/cancel"),
        &analyst,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let job = wait_job(&app, &analyst, &second).await;
    assert_eq!(job["phase"], "cancelled", "{job}");
    assert_eq!(wait_job(&app, &analyst, &first).await["phase"], "done");
    let v = get(&app, &format!("/api/v1/incidents/{second}"), &analyst)
        .await
        .json();
    assert!(v["analysis"].is_null() && v["evidence_kept"] == true, "{v}");
    let dir = app.home().join("server/incidents").join(&second);
    assert!(!dir.join("report").exists());
    let r = post_json(
        &app,
        &format!("/api/v1/incidents/{second}/cancel"),
        &analyst,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.code(), "conflict", "nothing left to cancel");
    let r = post_json(
        &app,
        &format!("/api/v1/incidents/{second}/analyse"),
        &analyst,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(wait_job(&app, &analyst, &second).await["phase"], "done");
    assert!(dir.join("report/report.html").exists());
}
