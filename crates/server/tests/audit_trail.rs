//! The audit trail records logins, views, downloads, uploads and status changes without a
//! personal value; its hash chain shows an altered, removed or truncated entry; an incident
//! exports as one archive with its outputs, evidence hash and audit entries.

mod common;

use std::io::Read;

use axum::http::StatusCode;
use common::*;
use leaktrace_server::audit::ChainError;

fn chain(app: &App) -> Result<leaktrace_server::audit::Verified, ChainError> {
    leaktrace_server::admin::verify_audit(&app.home()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_are_chained_and_tampering_shows() {
    let app = app();
    let id = analysed_incident(&app).await;
    let analyst = login(&app, "analyst").await;
    let r = get(
        &app,
        &format!("/incidents/{id}/affected_persons.csv"),
        &analyst,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let person = r
        .text()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let _ = post_json(
        &app,
        "/api/v1/login",
        &Auth::default(),
        serde_json::json!({"name": "analyst", "password": "not the password"}),
    )
    .await;
    let admin = login(&app, "admin").await;
    let trail = get(&app, "/api/v1/audit", &admin).await.json();
    assert_eq!(trail["chain"]["ok"], true, "{}", trail["chain"]);
    let entries = trail["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "user_added",
        "login_succeeded",
        "upload",
        "analysis_started",
        "analysis_finished",
        "view",
        "download",
        "login_failed",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let dl = entries.iter().find(|e| e["action"] == "download").unwrap();
    assert_eq!(dl["user"], "analyst");
    assert_eq!(dl["object"], format!("incident:{id}/affected_persons.csv"));
    let all = serde_json::to_string(entries).unwrap();
    assert!(!all.contains(&person), "no person id in the trail");
    assert!(!all.contains("not the password"));
    // The CLI's check agrees, then each kind of tampering is named at its entry.
    let good = chain(&app).unwrap();
    assert!(good.entries >= entries.len() as i64);
    let db = rusqlite::Connection::open(app.home().join("catalog.sqlite")).unwrap();
    db.execute("UPDATE audit SET user = 'someone' WHERE id = 3", [])
        .unwrap();
    assert_eq!(chain(&app), Err(ChainError::Altered { id: 3 }));
    // Put entry 3 back as the API listed it: the chain holds again.
    let e3 = &entries[2];
    db.execute(
        "UPDATE audit SET user = ?1 WHERE id = 3",
        [e3["user"].as_str().unwrap()],
    )
    .unwrap();
    assert!(chain(&app).is_ok(), "restored");
    db.execute("DELETE FROM audit WHERE id = 5", []).unwrap();
    assert_eq!(chain(&app), Err(ChainError::Gap { id: 6, expected: 5 }));
    // Removing the last entries is caught by the recorded head.
    let last: i64 = db
        .query_row("SELECT MAX(id) FROM audit", [], |r| r.get(0))
        .unwrap();
    db.execute("DELETE FROM audit WHERE id >= 5", []).unwrap();
    assert_eq!(
        chain(&app),
        Err(ChainError::Truncated {
            last: 4,
            head: last
        })
    );
    // A forged entry with a recomputed hash but the wrong previous hash.
    db.execute(
        "INSERT INTO audit (id, at, user, action, object, prev_hash, hash) VALUES (5, 'x', 'u', 'view', 'o', 'bad', 'bad')",
        [],
    )
    .unwrap();
    assert_eq!(chain(&app).unwrap_err().entry(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_holds_outputs_hashes_and_the_incident_trail() {
    let app = app();
    let id = analysed_incident(&app).await;
    // An analyst's edit of a draft goes into the archive beside the generated original.
    let edited = "# Notification\n\nTexte revu par l'analyste.\n";
    let r = post_json(
        &app,
        &format!("/api/v1/incidents/{id}/drafts/art33_fr.md/edit"),
        &login(&app, "analyst").await,
        serde_json::json!({ "text": edited }),
    )
    .await;
    assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.text());
    let out = app.tmp.path().join("incident-1.zip");
    let x = leaktrace_server::export::export_incident(&app.home(), 1, &out).unwrap();
    assert!(x.chain_ok && x.files >= 9, "{x:?}");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut manifest = String::new();
    zip.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let inc = get(
        &app,
        &format!("/api/v1/incidents/{id}"),
        &login(&app, "viewer").await,
    )
    .await
    .json();
    assert_eq!(m["evidence_sha256"], inc["incident"]["sha256"]);
    assert_eq!(m["chain"]["ok"], true);
    let audit = m["audit"].as_array().unwrap();
    assert!(audit.iter().all(|e| e["object"]
        .as_str()
        .unwrap()
        .starts_with(&format!("incident:{id}"))));
    assert!(audit.iter().any(|e| e["action"] == "upload"));
    assert!(audit.iter().any(|e| e["action"] == "export"));
    for f in m["files"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        let mut bytes = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut bytes).unwrap();
        use sha2::Digest;
        let h: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f["sha256"], h, "{name}");
    }
    assert!(zip.by_name("outputs/report.html").is_ok());
    let mut text = String::new();
    zip.by_name("drafts/art33_fr.v1.md")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, edited);
    assert!(m["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "drafts/art33_fr.v1.md"));
    assert!(leaktrace_server::export::export_incident(&app.home(), 99, &out).is_err());
}
