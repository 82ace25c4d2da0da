//! Bad input gets a clear error with a stable code, leaves nothing half-recorded, and the
//! service keeps serving: oversize, interrupted and empty uploads, a file that is not a dump, a
//! traversal file name, a wrong or missing CSRF token, an expired session, repeated bad logins.

mod common;

use axum::http::{header, Method, StatusCode};
use common::*;

fn uploads_empty(app: &App) -> bool {
    std::fs::read_dir(app.home().join("server/uploads"))
        .unwrap()
        .next()
        .is_none()
}

fn incident_count(app: &App) -> usize {
    app.state.store().incidents().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_interrupted_and_empty_uploads_record_nothing() {
    let app = app_with(|c| c.upload_max = 1000);
    let analyst = login(&app, "analyst").await;
    let r = upload(&app, &analyst, "big.csv", &vec![b'a'; 5000]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert_eq!(r.code(), "upload_too_large");
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("1000 bytes"));
    // Cut in the middle of the file part: no closing boundary.
    let mut body = multipart(
        &[("discovered_at", DISCOVERED)],
        Some(("leak.csv", b"nom;prenom\n")),
    );
    body.truncate(body.len() - 30);
    let r = send(
        &app,
        Method::POST,
        "/api/v1/incidents",
        &analyst,
        Some(&multipart_type()),
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.code(), "upload_interrupted");
    let r = upload(&app, &analyst, "empty.csv", b"").await;
    assert_eq!(r.code(), "empty_file");
    let body = multipart(&[("discovered_at", DISCOVERED)], None);
    let r = send(
        &app,
        Method::POST,
        "/api/v1/incidents",
        &analyst,
        Some(&multipart_type()),
        body,
    )
    .await;
    assert_eq!(r.code(), "missing_file");
    let body = multipart(
        &[("discovered_at", "hier soir")],
        Some(("x.csv", b"a,b\n1,2\n")),
    );
    let r = send(
        &app,
        Method::POST,
        "/api/v1/incidents",
        &analyst,
        Some(&multipart_type()),
        body,
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::BAD_REQUEST, "bad_discovered_at")
    );
    // A text field far over its cap, and too many fields: refused, never buffered whole.
    let huge = "x".repeat(200_000);
    let body = multipart(
        &[("nature", huge.as_str()), ("discovered_at", DISCOVERED)],
        Some(("x.csv", b"a\n")),
    );
    let r = send(
        &app,
        Method::POST,
        "/api/v1/incidents",
        &analyst,
        Some(&multipart_type()),
        body,
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let many: Vec<(String, &str)> = (0..40).map(|i| (format!("f{i}"), "v")).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let body = multipart(&many, Some(("x.csv", b"a\n")));
    let r = send(
        &app,
        Method::POST,
        "/api/v1/incidents",
        &analyst,
        Some(&multipart_type()),
        body,
    )
    .await;
    assert_eq!(r.code(), "payload_too_large");
    assert_eq!(incident_count(&app), 0);
    assert!(uploads_empty(&app), "no partial upload left behind");
    // Still serving.
    assert_eq!(
        get(&app, "/api/v1/me", &analyst).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_dump_fails_its_job_clearly() {
    let app = app();
    let analyst = login(&app, "analyst").await;
    let junk: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let r = upload(&app, &analyst, "dump.bin", &junk).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["incident"]["id"].as_str().unwrap().to_string();
    let job = wait_job(&app, &analyst, &id).await;
    assert_eq!(job["phase"], "failed", "{job}");
    let err = job["error"].as_str().unwrap();
    assert!(
        !err.is_empty() && !err.contains(app.home().to_str().unwrap()),
        "{err}"
    );
    // No report shown, the evidence kept for a rerun, and the server still serves.
    let v = get(&app, &format!("/api/v1/incidents/{id}"), &analyst)
        .await
        .json();
    assert!(v["analysis"].is_null() && v["evidence_kept"] == true, "{v}");
    let r = get(&app, &format!("/api/v1/incidents/{id}/report"), &analyst).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::CONFLICT, "not_ready")
    );
    let page = get(&app, &format!("/incidents/{id}"), &analyst).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("failed"));
    // A good upload after it works.
    let good = analysed_incident(&app).await;
    assert_ne!(good, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_file_names_are_labels_not_paths() {
    let app = app();
    let analyst = login(&app, "analyst").await;
    let bytes = std::fs::read(base().leak("provider_noheader.csv")).unwrap();
    let r = upload(&app, &analyst, "../../../../tmp/evil/../passwd", &bytes).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let inc = &r.json()["incident"];
    assert_eq!(inc["file_name"], "passwd");
    let id = inc["id"].as_str().unwrap();
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let dir = app.home().join("server/incidents").join(id);
    assert!(dir.join("evidence").exists() || dir.join("report").exists());
    assert!(!app.tmp.path().join("passwd").exists());
    assert!(
        !std::path::Path::new("/tmp/passwd").exists()
            || std::fs::read("/tmp/passwd").unwrap() != bytes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_need_the_session_csrf_token() {
    let app = app();
    let analyst = login(&app, "analyst").await;
    let id = analysed_incident(&app).await;
    let uri = format!("/api/v1/incidents/{id}/status");
    let body = serde_json::json!({"status": "cnil_notified"});
    for csrf in [Some("0".repeat(64)), Some("short".into()), None] {
        let auth = Auth {
            csrf,
            ..analyst.clone()
        };
        let r = post_json(&app, &uri, &auth, body.clone()).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::FORBIDDEN, "csrf_mismatch"),
            "{}",
            r.text()
        );
    }
    // A page form with a wrong token in its body is refused too.
    let form = format!("csrf={}&status=cnil_notified", "1".repeat(64));
    let no_header = Auth {
        csrf: None,
        ..analyst.clone()
    };
    let r = send(
        &app,
        Method::POST,
        &format!("/incidents/{id}/status"),
        &no_header,
        Some("application/x-www-form-urlencoded"),
        form.into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let v = get(&app, &format!("/api/v1/incidents/{id}"), &analyst)
        .await
        .json();
    assert_eq!(
        v["timeline"].as_array().unwrap().len(),
        2,
        "nothing recorded: {v}"
    );
    // With the right token (header, then form field) it is recorded, once.
    let r = post_json(&app, &uri, &analyst, body.clone()).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let form = format!(
        "csrf={}&status=persons_informed",
        analyst.csrf.as_deref().unwrap()
    );
    let r = send(
        &app,
        Method::POST,
        &format!("/incidents/{id}/status"),
        &no_header,
        Some("application/x-www-form-urlencoded"),
        form.into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = post_json(&app, &uri, &analyst, body).await;
    assert_eq!(r.code(), "conflict");
    let v = get(&app, &format!("/api/v1/incidents/{id}"), &analyst)
        .await
        .json();
    let steps: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "discovered",
            "analysed",
            "cnil_notified",
            "persons_informed"
        ]
    );
    assert_eq!(v["timeline"][2]["user"], "analyst");
    // A bearer token needs no CSRF token (no cookie to ride on).
    let token = leaktrace_server::admin::new_token(&app.home(), "viewer", "t").unwrap();
    let bearer = Auth {
        bearer: Some(token),
        ..Auth::default()
    };
    assert_eq!(
        post_json(&app, "/api/v1/tokens", &bearer, serde_json::json!({}))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_and_lockout() {
    let app = app();
    let viewer = login(&app, "viewer").await;
    assert_eq!(
        get(&app, "/api/v1/me", &viewer).await.status,
        StatusCode::OK
    );
    app.state.store().purge_sessions(i64::MAX).unwrap();
    let r = get(&app, "/api/v1/me", &viewer).await;
    assert_eq!(
        r.code(),
        "unauthenticated",
        "a removed session is no session"
    );
    let viewer = login(&app, "viewer").await;
    let db = rusqlite::Connection::open(app.home().join("catalog.sqlite")).unwrap();
    db.execute("UPDATE sessions SET expires_at = 0", [])
        .unwrap();
    let r = get(&app, "/api/v1/me", &viewer).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::UNAUTHORIZED, "session_expired")
    );
    let r = get(&app, "/", &viewer).await;
    assert_eq!(r.location(), Some("/login"));
    // Five wrong passwords lock the account, even against the right one, for 15 minutes.
    let bad = serde_json::json!({"name": "viewer", "password": "wrong password here"});
    for _ in 0..5 {
        let r = post_json(&app, "/api/v1/login", &Auth::default(), bad.clone()).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::UNAUTHORIZED, "bad_credentials")
        );
    }
    let good = serde_json::json!({"name": "viewer", "password": PASSWORD});
    let r = post_json(&app, "/api/v1/login", &Auth::default(), good.clone()).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "account_locked")
    );
    // An unknown name is the same answer as a wrong password.
    let r = post_json(
        &app,
        "/api/v1/login",
        &Auth::default(),
        serde_json::json!({"name": "nobody", "password": "x"}),
    )
    .await;
    assert_eq!(r.code(), "bad_credentials");
    // An admin's password reset clears the lock.
    leaktrace_server::admin::set_password(&app.home(), "viewer", PASSWORD).unwrap();
    let r = post_json(&app, "/api/v1/login", &Auth::default(), good).await;
    assert_eq!(r.status, StatusCode::OK);
    // The page login answers in French by default.
    let r = send(
        &app,
        Method::POST,
        "/login",
        &Auth::default(),
        Some("application/x-www-form-urlencoded"),
        b"name=viewer&password=nope".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("Identifiant ou mot de passe incorrect"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zip_bomb_fails_its_job_and_the_server_keeps_serving() {
    use std::io::Write;
    let app = app();
    let analyst = login(&app, "analyst").await;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("bomb.csv", opts).unwrap();
    let zeros = vec![b'0'; 1 << 20];
    for _ in 0..100 {
        zip.write_all(&zeros).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    assert!(
        bytes.len() < 1 << 20,
        "a small upload ({} bytes)",
        bytes.len()
    );
    let r = upload(&app, &analyst, "archive.zip", &bytes).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["incident"]["id"].as_str().unwrap().to_string();
    let job = wait_job(&app, &analyst, &id).await;
    assert_eq!(job["phase"], "failed", "{job}");
    assert!(job["error"].as_str().unwrap().contains("zip bomb"), "{job}");
    assert_eq!(
        get(&app, "/api/v1/me", &analyst).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_are_throttled_per_address() {
    // The service's default budget, not the matrix tests' large one.
    let app =
        app_with(|c| c.login_per_minute = leaktrace_server::throttle::LOGIN_ATTEMPTS_PER_MINUTE);
    let from = |ip: &str| Auth {
        peer: Some(format!("{ip}:40000").parse().unwrap()),
        ..Auth::default()
    };
    let guesser = from("192.0.2.7");
    // Wrong passwords spread over five names: no account reaches its own lockout (5 in a
    // row), but the address spends its budget.
    let budget = leaktrace_server::throttle::LOGIN_ATTEMPTS_PER_MINUTE as usize;
    for i in 0..budget {
        let name = ["viewer", "analyst", "admin", "nobody", "ghost"][i % 5];
        let r = post_json(
            &app,
            "/api/v1/login",
            &guesser,
            serde_json::json!({"name": name, "password": "wrong password here"}),
        )
        .await;
        assert_eq!(r.code(), "bad_credentials", "attempt {i}: {}", r.text());
    }
    // Past it, even the right password is refused, with a stable code and Retry-After.
    let good = serde_json::json!({"name": "viewer", "password": PASSWORD});
    let r = post_json(&app, "/api/v1/login", &guesser, good.clone()).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
        "{}",
        r.text()
    );
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // The login page answers 429 with a French message.
    let r = send(
        &app,
        Method::POST,
        "/login",
        &guesser,
        Some("application/x-www-form-urlencoded"),
        format!("name=viewer&password={}", PASSWORD.replace(' ', "+")).into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.text()
            .contains("Trop de tentatives de connexion depuis cette adresse"),
        "{}",
        r.text()
    );
    assert!(r.headers.get(header::SET_COOKIE).is_none(), "no session");
    // Another address signs in; the accounts themselves are not locked.
    let r = post_json(&app, "/api/v1/login", &from("198.51.100.3"), good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The refusals are in the audit trail, without the address.
    let db = rusqlite::Connection::open(app.home().join("catalog.sqlite")).unwrap();
    let objects: Vec<String> = db
        .prepare("SELECT object FROM audit WHERE action = 'login_throttled'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|x| x.unwrap())
        .collect();
    assert_eq!(objects, ["login", "login"]);
    let all: String = db
        .query_row("SELECT group_concat(object, ' ') FROM audit", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!all.contains("192.0.2.7"), "{all}");
}
