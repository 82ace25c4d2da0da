//! The sources page and enrolment from the browser (admins), and drafts edited in the browser
//! (analysts): real router, real workspace, real enrolment and analysis.

mod common;

use std::time::Duration;

use axum::http::{header, Method, StatusCode};
use common::*;

fn uploads_left(app: &App) -> Vec<String> {
    std::fs::read_dir(app.home().join("server/uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn enrol_form(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    multipart(fields, file)
}

async fn enrol(app: &App, auth: &Auth, fields: &[(&str, &str)], file: &[u8]) -> Resp {
    send(
        app,
        Method::POST,
        "/api/v1/sources",
        auth,
        Some(&multipart_type()),
        enrol_form(fields, Some(("extract.csv", file))),
    )
    .await
}

/// Wait for an enrolment of this server to end; returns it.
async fn wait_enrolment(app: &App, auth: &Auth, id: u64) -> serde_json::Value {
    for _ in 0..600 {
        let v = get(app, "/api/v1/sources", auth).await.json();
        let e = v["enrolments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap();
        if ["done", "failed"].contains(&e["phase"].as_str().unwrap()) {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("enrolment {id} did not end within 60 s");
}

fn audit_objects(app: &App, action: &str) -> Vec<String> {
    let db = rusqlite::Connection::open(app.home().join("catalog.sqlite")).unwrap();
    let mut stmt = db
        .prepare("SELECT object FROM audit WHERE action = ?1 ORDER BY id")
        .unwrap();
    let out: Vec<String> = stmt
        .query_map([action], |r| r.get(0))
        .unwrap()
        .map(|x| x.unwrap())
        .collect();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_list_sources_and_enrol_from_the_browser() {
    let app = app();
    let admin = login(&app, "admin").await;
    let v = get(&app, "/api/v1/sources", &admin).await.json();
    let sources = v["sources"].as_array().unwrap();
    let registry = sources.iter().find(|s| s["name"] == "registry").unwrap();
    let snap = &registry["snapshots"][0];
    assert!(snap["rows"].as_u64().unwrap() >= 1000, "{snap}");
    assert!(snap["persons"].as_u64().unwrap() >= 1000, "{snap}");
    assert!(snap["segment_bytes"].as_u64().unwrap() > 0, "{snap}");
    assert_eq!(snap["profile"]["format"], "csv", "{snap}");
    let before = sources.len();
    // The page lists them with their profile and has the form.
    let page = get(&app, "/sources", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("registry") && html.contains("csv"), "{html}");
    assert!(html.contains("action=\"/sources?csrf="), "{html}");
    // Enrol an extract as a new source.
    let data = base().data();
    let m = leaktrace_synth::read_manifest(&data).unwrap();
    let file = std::fs::read(data.join(&m.extracts[0].file)).unwrap();
    let fields = [
        ("source", "crm_web"),
        ("as_of", "2026-01-15"),
        ("recipient", "Prestataire Web"),
    ];
    // Analysts and viewers are refused, and their upload leaves no file.
    for who in ["analyst", "viewer"] {
        let a = login(&app, who).await;
        let r = enrol(&app, &a, &fields, &file).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::FORBIDDEN, "forbidden")
        );
        assert_eq!(
            get(&app, "/sources", &a).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let r = enrol(&app, &admin, &fields, &file).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let id = r.json()["enrolment"].as_u64().unwrap();
    let e = wait_enrolment(&app, &admin, id).await;
    assert_eq!(e["phase"], "done", "{e}");
    assert!(e["rows"].as_u64().unwrap() > 0, "{e}");
    let v = get(&app, "/api/v1/sources", &admin).await.json();
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources.len(), before + 1);
    let crm = sources.iter().find(|s| s["name"] == "crm_web").unwrap();
    assert_eq!(crm["recipient"], "Prestataire Web");
    assert_eq!(crm["snapshots"][0]["as_of"], "2026-01-15");
    assert_eq!(crm["snapshots"][0]["rows"], e["rows"]);
    // The uploaded file (plaintext personal data) is gone.
    assert_eq!(uploads_left(&app), Vec::<String>::new());
    assert_eq!(
        audit_objects(&app, "enrolment_finished"),
        ["source:crm_web@2026-01-15"]
    );
    // Bad forms are refused at once and leave nothing.
    for (fields, want) in [
        (vec![("source", "x")], "bad_request"),
        (vec![("as_of", "2026-01-15")], "bad_request"),
        (
            vec![("source", "x"), ("as_of", "15/01/2026")],
            "bad_request",
        ),
    ] {
        let r = enrol(&app, &admin, &fields, &file).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::BAD_REQUEST, want),
            "{fields:?}"
        );
        assert_eq!(uploads_left(&app), Vec::<String>::new());
    }
    // A file that is no table fails its job with a message that does not name the path.
    let r = enrol(
        &app,
        &admin,
        &[("source", "junk"), ("as_of", "2026-01-16")],
        &[0u8, 1, 2, 3, 0xff, 0xfe, 9, 9][..],
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let e = wait_enrolment(&app, &admin, r.json()["enrolment"].as_u64().unwrap()).await;
    assert_eq!(e["phase"], "failed", "{e}");
    let err = e["error"].as_str().unwrap();
    assert!(
        !err.contains("/uploads/") && !err.contains(".part"),
        "{err}"
    );
    assert_eq!(uploads_left(&app), Vec::<String>::new());
    // The page form: multipart with the CSRF token in the query, back to the page.
    let csrf = admin.csrf.clone().unwrap();
    let cookie_only = Auth {
        csrf: None,
        ..admin.clone()
    };
    let r = send(
        &app,
        Method::POST,
        &format!("/sources?csrf={csrf}"),
        &cookie_only,
        Some(&multipart_type()),
        enrol_form(
            &[("source", "crm_page"), ("as_of", "2026-02-01")],
            Some(("x.csv", &file)),
        ),
    )
    .await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, Some("/sources"))
    );
    let e = wait_enrolment(&app, &admin, 3).await;
    assert_eq!(e["phase"], "done", "{e}");
    let html = get(&app, "/sources", &admin).await.text();
    assert!(
        html.contains("crm_page") && html.contains("Prestataire Web"),
        "{html}"
    );
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_edit_drafts_as_new_versions() {
    let app = app();
    let id = analysed_incident(&app).await;
    let analyst = login(&app, "analyst").await;
    let viewer = login(&app, "viewer").await;
    let original_path = app
        .home()
        .join("server/incidents")
        .join(&id)
        .join("report/art33_fr.md");
    let original = std::fs::read_to_string(&original_path).unwrap();
    let base = format!("/incidents/{id}");
    // Nothing edited yet.
    let r = get(&app, &format!("{base}/edited/art33_fr.md"), &analyst).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    // The form shows the generated text.
    let page = get(&app, &format!("{base}/drafts/art33_fr.md/edit"), &analyst).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let first_line = original
        .lines()
        .find(|l| l.len() > 10 && !l.contains(['&', '<', '>', '"', '\'']))
        .unwrap();
    assert!(page.text().contains("<textarea") && page.text().contains(first_line));
    let save = |text: &str, auth: &Auth| {
        let body = format!(
            "csrf={}&text={}",
            auth.csrf.clone().unwrap_or_default(),
            form_encode(text)
        );
        let auth = Auth {
            csrf: None,
            ..auth.clone()
        };
        let app = &app;
        let uri = format!("{base}/drafts/art33_fr.md/edit");
        async move {
            send(
                app,
                Method::POST,
                &uri,
                &auth,
                Some("application/x-www-form-urlencoded"),
                body.into_bytes(),
            )
            .await
        }
    };
    let v1 = format!("{original}\nAjout de l'analyste : mesure de confinement prise à 10 h.\n");
    let r = save(&v1, &analyst).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let v2 = "# Notification modifiée\n\nTexte <script>alert(1)</script> revu.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
    assert_eq!(save(v2, &analyst).await.status, StatusCode::SEE_OTHER);
    // A viewer may not edit, nor read the form; the HTML draft is not editable.
    assert_eq!(save("x", &viewer).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&app, &format!("{base}/drafts/art33_fr.md/edit"), &viewer)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&app, &format!("{base}/drafts/art33_fr.html/edit"), &analyst)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Both versions are kept, the original untouched.
    let dir = app.home().join("server/incidents").join(&id).join("drafts");
    assert_eq!(
        std::fs::read_to_string(dir.join("art33_fr.v1.md")).unwrap(),
        v1
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("art33_fr.v2.md")).unwrap(),
        v2
    );
    assert_eq!(std::fs::read_to_string(&original_path).unwrap(), original);
    let orig = get(&app, &format!("{base}/drafts/art33_fr.md"), &analyst).await;
    assert_eq!(orig.text(), original);
    let generated = get(&app, &format!("{base}/drafts/art33_fr.html"), &analyst).await;
    assert!(
        generated.text().contains("@media print"),
        "the generated HTML prints too"
    );
    // The latest edit downloads as Markdown and as HTML (raw HTML escaped).
    let md = get(&app, &format!("{base}/edited/art33_fr.md"), &analyst).await;
    assert_eq!((md.status, md.text().as_str()), (StatusCode::OK, v2));
    assert!(md.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("art33_fr.v2.md"));
    let h = get(&app, &format!("{base}/edited/art33_fr.html"), &analyst).await;
    assert_eq!(h.status, StatusCode::OK);
    let html = h.text();
    assert!(
        html.contains("<h1>Notification modifiée</h1>") && html.contains("<table>"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;") && !html.contains("<script"),
        "{html}"
    );
    assert!(html.contains("@media print"), "prints cleanly");
    assert_eq!(
        get(&app, &format!("{base}/edited/art33_fr.html"), &viewer)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The page now edits version 2; the audit trail has both saves with their hashes.
    let page = get(&app, &format!("{base}/drafts/art33_fr.md/edit"), &analyst)
        .await
        .text();
    assert!(page.contains("Notification modifiée"), "{page}");
    let edits = audit_objects(&app, "draft_edited");
    assert_eq!(edits.len(), 2, "{edits:?}");
    assert!(edits[0].starts_with(&format!(
        "incident:{id}/drafts/art33_fr.md version:1 sha256:"
    )));
    assert!(edits[1].contains("version:2"));
    // The incident page links the editor; the stylesheet has print rules.
    let page = get(&app, &base, &analyst).await.text();
    assert!(page.contains(&format!("{base}/drafts/art33_fr.md/edit")));
    let css = get(&app, "/assets/app.css", &analyst).await.text();
    assert!(css.contains("@media print") && css.contains("header.top, nav, form"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_edits_drafts_as_the_pages_do() {
    let app = app();
    let id = analysed_incident(&app).await;
    let analyst = login(&app, "analyst").await;
    let viewer = login(&app, "viewer").await;
    let base = format!("/api/v1/incidents/{id}");
    let uri = format!("{base}/drafts/art34_fr.md/edit");
    // The generated text, no version yet.
    let r = get(&app, &uri, &analyst).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    assert!(j["version"].is_null(), "{j}");
    assert_eq!(j["versions"], serde_json::json!([]));
    let original = j["text"].as_str().unwrap().to_string();
    assert!(
        original.starts_with("# Information sur une violation de vos données personnelles"),
        "{original}"
    );
    // Saved as version 1, read back, downloaded; the original stays.
    let edited = format!("{original}\nNuméro vert : 0 800 000 000.\n");
    let r = post_json(&app, &uri, &analyst, serde_json::json!({ "text": edited })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["version"], 1);
    let j = get(&app, &uri, &analyst).await.json();
    assert_eq!(
        (j["version"].as_u64(), j["text"].as_str()),
        (Some(1), Some(edited.as_str()))
    );
    let md = get(&app, &format!("{base}/edited/art34_fr.md"), &analyst).await;
    assert_eq!((md.status, md.text()), (StatusCode::OK, edited.clone()));
    let generated = get(&app, &format!("{base}/drafts/art34_fr.md"), &analyst).await;
    assert_eq!(generated.text(), original);
    // Refused to a viewer (JSON error with its code); only Markdown drafts are edited.
    let r = post_json(&app, &uri, &viewer, serde_json::json!({ "text": "x" })).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let html = format!("{base}/drafts/art34_fr.html/edit");
    assert_eq!(
        get(&app, &html, &analyst).await.status,
        StatusCode::NOT_FOUND
    );
    // The edit is in the audit trail with its version.
    assert!(
        audit_objects(&app, "draft_edited")
            .iter()
            .any(|o| o.contains("drafts/art34_fr.md version:1")),
        "{:?}",
        audit_objects(&app, "draft_edited")
    );
}
