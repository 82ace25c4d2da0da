//! The self-check on a real loopback listener: found, not found and a wrong second fact answer
//! with the same status, keys and byte length (JSON and HTML); the limits answer 429 with a
//! stable code; counters only reach the catalog; the OPRF client finds a person through the
//! export and the server's evaluation, and a bucket file alone (a wrong key) finds nothing.

mod support;

use axum::http::{Method, StatusCode};
use leaktrace_reach::check::{Facts, SecondKind};
use leaktrace_reach::client::{check_oprf, find_in_bucket};
use leaktrace_reach::export::{export, Manifest};
use leaktrace_reach::limits::{nz, Limits};
use leaktrace_reach::oprf::{OprfKey, OPRF_KEY_CONTEXT};
use leaktrace_reach::store::ReachStore;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn found_not_found_and_wrong_second_fact_look_the_same() {
    let fx = fixture().await;
    let l = listen(&fx, Limits::per_second(1000), None).await;
    let http = l.http();
    let p = &fx.affected;
    let cases = [
        (
            "found by e-mail",
            p.email.clone(),
            "birth_date",
            p.birth.clone(),
            true,
        ),
        (
            "found by mobile and name",
            p.mobile.clone(),
            "last_name",
            p.last.to_lowercase(),
            true,
        ),
        (
            "found by NIR",
            p.nir.clone(),
            "birth_date",
            p.birth.clone(),
            true,
        ),
        (
            "wrong birth date",
            p.email.clone(),
            "birth_date",
            next_day(&p.birth),
            false,
        ),
        (
            "wrong last name",
            p.mobile.clone(),
            "last_name",
            "Zzyzx".into(),
            false,
        ),
        (
            "unaffected person",
            fx.unaffected.email.clone(),
            "birth_date",
            fx.unaffected.birth.clone(),
            false,
        ),
        (
            "unknown e-mail",
            "personne.inconnue@example.org".into(),
            "birth_date",
            p.birth.clone(),
            false,
        ),
    ];
    let mut sizes = Vec::new();
    for (what, id, kind, second, found) in &cases {
        let (status, body) = check(&http, id, kind, second).await;
        assert_eq!(status, StatusCode::OK, "{what}");
        let v = json(&body);
        assert_eq!(
            keys(&v),
            ["advice", "found", "incidents", "padding"],
            "{what}"
        );
        assert_eq!(v["found"], *found, "{what}: {}", v["incidents"]);
        let incidents = v["incidents"].as_array().unwrap();
        assert_eq!(incidents.is_empty(), !found, "{what}");
        if *found {
            let cats = incidents[0]["categories"].as_array().unwrap();
            assert!(!cats.is_empty(), "{what}: categories named");
            assert!(
                incidents[0]["date"]
                    .as_str()
                    .unwrap()
                    .starts_with("2026-11-20"),
                "{what}"
            );
            assert!(
                incidents[0]["notice"]
                    .as_str()
                    .unwrap()
                    .contains("article 34")
                    || !incidents[0]["notice"].as_str().unwrap().is_empty()
            );
        }
        sizes.push(body.len());
    }
    assert!(
        sizes.iter().all(|s| *s == sizes[0]),
        "same byte length: {sizes:?}"
    );
    assert_eq!(sizes[0] % leaktrace_reach::check::PAD_BUCKET, 0);
    // The page: same status and length for found and not found; escaped, no inline script.
    let form = |id: &str, second: &str| {
        format!(
            "identifier={}&second_kind=birth_date&second={}",
            id.replace('@', "%40").replace('+', "%2B"),
            second
        )
    };
    let mut page_sizes = Vec::new();
    for (id, second) in [
        (p.email.as_str(), p.birth.clone()),
        (p.email.as_str(), next_day(&p.birth)),
        ("nobody@example.org", p.birth.clone()),
    ] {
        let (s, b) = send_form(&http, &form(id, &second)).await;
        assert_eq!(s, StatusCode::OK);
        let text = String::from_utf8(b).unwrap();
        assert!(
            !text.contains("<script") && !text.contains("style="),
            "strict CSP"
        );
        page_sizes.push(text.len());
    }
    assert!(
        page_sizes.iter().all(|s| *s == page_sizes[0]),
        "{page_sizes:?}"
    );
    // Bad input is a stable JSON error that depends on the input alone.
    let (s, b) = check(&http, "pas un identifiant", "birth_date", &p.birth).await;
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_identifier"))
    );
    let (s, b) = check(&http, &p.email, "birth_date", "hier").await;
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_second_fact"))
    );
    let (s, b) = http
        .send(Method::POST, "/api/v1/selfcheck", Some(b"{".to_vec()))
        .await
        .unwrap();
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    // The page itself, with its headers.
    let (s, b) = http.send(Method::GET, "/", None).await.unwrap();
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&b).contains("Mes données sont-elles dans la fuite ?"));
    l.stop().await;
    // Counters reached the catalog: 3 + 3 found, the rest not found.
    let counters = ReachStore::open(&fx.app.home())
        .unwrap()
        .counters()
        .unwrap();
    let n = |o: &str| {
        counters
            .iter()
            .filter(|c| c.1 == o)
            .map(|c| c.2)
            .sum::<i64>()
    };
    assert_eq!((n("found"), n("not_found")), (4, 6), "{counters:?}");
}

async fn send_form(http: &leaktrace_reach::client::Http, body: &str) -> (StatusCode, Vec<u8>) {
    let typed = Some((
        "application/x-www-form-urlencoded",
        body.as_bytes().to_vec(),
    ));
    let (s, b) = http.send_with(Method::POST, "/", typed).await.unwrap();
    (s, b.to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_answer_429_with_a_stable_code() {
    use governor::Quota;
    let fx = fixture().await;
    let p = &fx.affected;
    // Per identifier: 3 checks of one e-mail (however it is written), then refused; another
    // identifier still passes.
    let l = listen(
        &fx,
        Limits {
            per_identifier: Quota::per_hour(nz(3)),
            ..Limits::per_second(1000)
        },
        None,
    )
    .await;
    let http = l.http();
    let forms = [
        p.email.clone(),
        p.email.to_uppercase(),
        format!("  {}  ", p.email),
    ];
    for id in &forms {
        assert_eq!(
            check(&http, id, "birth_date", &p.birth).await.0,
            StatusCode::OK
        );
    }
    let (s, b) = check(&http, &p.email, "birth_date", &p.birth).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json(&b)["error"]["code"], "rate_limited");
    let (s2, b2) = check(&http, &p.email, "birth_date", &next_day(&p.birth)).await;
    assert_eq!(
        (s2, b2.len()),
        (s, b.len()),
        "limited answers do not depend on the facts"
    );
    assert_eq!(
        check(&http, &p.mobile, "birth_date", &p.birth).await.0,
        StatusCode::OK
    );
    l.stop().await;
    // Per address (the OPRF evaluation counts too) and overall.
    for limits in [
        Limits {
            per_address: Quota::per_hour(nz(2)),
            ..Limits::per_second(1000)
        },
        Limits {
            global: Quota::per_hour(nz(2)),
            ..Limits::per_second(1000)
        },
    ] {
        let l = listen(&fx, limits, None).await;
        let http = l.http();
        let mut codes = Vec::new();
        for i in 0..5 {
            let (s, b) = check(
                &http,
                &format!("x{i}@example.org"),
                "birth_date",
                "1980-01-01",
            )
            .await;
            codes.push((
                s.as_u16(),
                json(&b)["error"]["code"].as_str().map(str::to_string),
            ));
        }
        assert_eq!(&codes[..2], &[(200, None), (200, None)]);
        assert!(
            codes[2..]
                .iter()
                .all(|c| *c == (429, Some("rate_limited".into()))),
            "{codes:?}"
        );
        l.stop().await;
    }
    let counters = ReachStore::open(&fx.app.home())
        .unwrap()
        .counters()
        .unwrap();
    let limited: i64 = counters
        .iter()
        .filter(|c| c.1 == "limited")
        .map(|c| c.2)
        .sum();
    assert_eq!(limited, 2 + 3 + 3, "{counters:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oprf_client_finds_a_person_and_a_bucket_alone_gives_nothing() {
    let fx = fixture().await;
    let p = fx.affected.clone();
    let out = fx.app.tmp.path().join("buckets");
    let ws = leaktrace_index::Workspace::open(&fx.app.home(), Some(&fx.app.key())).unwrap();
    let checker = leaktrace_reach::check::Checker::open(&ws).unwrap();
    let key = OprfKey::from_seed(&ws.derive_key(OPRF_KEY_CONTEXT)).unwrap();
    let report = export(&checker, &key, &fx.registry, &out).unwrap();
    assert!(report.entries > 0, "{report:?}");
    // Every bucket the same size.
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let sizes: std::collections::BTreeSet<u64> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .collect();
    assert_eq!(sizes.len(), 1, "{sizes:?}");
    assert_eq!(
        *sizes.first().unwrap() as usize,
        manifest.entry_bytes * manifest.entries_per_bucket
    );
    assert_eq!(report.buckets, 1 << (4 * manifest.prefix_digits));
    drop(checker);
    drop(ws);
    let l = listen(&fx, Limits::per_second(1000), Some(&out)).await;
    let http = l.http();
    let facts = Facts::parse(&p.email, SecondKind::BirthDate, &p.birth).unwrap();
    let found = check_oprf(&http, &facts).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(!found[0].categories.is_empty());
    assert!(found[0].date.starts_with("2026-11-20"));
    // The same answer as the server-side mode.
    let (_, b) = check(&http, &p.email, "birth_date", &p.birth).await;
    let direct = json(&b);
    let cats: Vec<String> = direct["incidents"][0]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(found[0].categories, cats);
    // By last name too; a wrong second fact and an unaffected person find nothing.
    let by_name = Facts::parse(&p.mobile, SecondKind::LastName, &p.last).unwrap();
    assert_eq!(check_oprf(&http, &by_name).await.unwrap().len(), 1);
    let wrong = Facts::parse(&p.email, SecondKind::BirthDate, &next_day(&p.birth)).unwrap();
    assert!(check_oprf(&http, &wrong).await.unwrap().is_empty());
    let u = &fx.unaffected;
    let other = Facts::parse(&u.email, SecondKind::BirthDate, &u.birth).unwrap();
    assert!(check_oprf(&http, &other).await.unwrap().is_empty());
    // Someone holding every bucket file but not the server's key: with any other key the
    // person's output names no entry in any bucket.
    let wrong_key = OprfKey::from_seed(&[42u8; 32]).unwrap();
    let guess = wrong_key.evaluate(&facts.oprf_input()).unwrap();
    for e in std::fs::read_dir(&out).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "bin") {
            let bucket = std::fs::read(&path).unwrap();
            assert!(
                find_in_bucket(&guess, &bucket, &manifest).is_empty(),
                "{}",
                path.display()
            );
        }
    }
    // A blinded element that is not a point is refused with a stable code.
    let (s, b) = http
        .send(
            Method::POST,
            "/api/v1/oprf/evaluate",
            Some(br#"{"blinded":"ffff"}"#.to_vec()),
        )
        .await
        .unwrap();
    assert_eq!(
        (s, json(&b)["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_element"))
    );
    let (s, _) = http
        .send(Method::GET, "/selfcheck/buckets/zz", None)
        .await
        .unwrap();
    assert_eq!(s, StatusCode::NOT_FOUND);
    l.stop().await;
}

/// Closing an open incident takes effect on a running listener, and so does opening it again:
/// the listener reloads the open incidents without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_and_closing_an_incident_reaches_a_running_listener() {
    let fx = fixture().await;
    let l = listen(&fx, Limits::per_second(1000), None).await;
    let http = l.http();
    let p = &fx.affected;
    let found = |http: leaktrace_reach::client::Http| {
        let (email, birth) = (p.email.clone(), p.birth.clone());
        async move {
            let (status, body) = check(&http, &email, "birth_date", &birth).await;
            assert_eq!(status, StatusCode::OK);
            (json(&body)["found"] == true, body.len())
        }
    };
    let (yes, size_open) = found(l.http()).await;
    assert!(yes, "found while the incident is open");
    // Closed from the team's API by an analyst (a viewer may not; twice changes nothing).
    let id = fx
        .app
        .state
        .store()
        .incident_by_number(fx.number)
        .unwrap()
        .unwrap()
        .id;
    let api = format!("/api/v1/incidents/{id}/selfcheck");
    let viewer = common::login(&fx.app, "viewer").await;
    let r = common::post_json(&fx.app, &api, &viewer, serde_json::json!({"open": false})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    let analyst = common::login(&fx.app, "analyst").await;
    for changed in [true, false] {
        let r =
            common::post_json(&fx.app, &api, &analyst, serde_json::json!({"open": false})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["changed"], changed, "{}", r.text());
    }
    let view = common::get(&fx.app, &format!("/api/v1/incidents/{id}"), &analyst).await;
    assert_eq!(view.json()["selfcheck"], serde_json::Value::Null);
    // The listener checks every RELOAD; wait for it (bounded).
    let wait = leaktrace_reach::public::RELOAD * 4;
    let start = std::time::Instant::now();
    let mut closed = None;
    while start.elapsed() < wait {
        let (yes, size) = found(l.http()).await;
        if !yes {
            closed = Some(size);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let size_closed = closed.expect("not found once the incident is closed, without a restart");
    // With no open incident the answers are padded to their own (smaller or equal) size, the
    // same for everyone.
    assert!(size_closed <= size_open, "{size_closed} > {size_open}");
    let (_, other) = found(http.clone()).await;
    assert_eq!(other, size_closed);
    // Reopened from the incident page's button (a form with the session's CSRF token).
    let page = common::get(&fx.app, &format!("/incidents/{id}"), &analyst).await;
    assert!(
        page.text().contains("/selfcheck"),
        "the page has the button"
    );
    let form = format!("csrf={}&open=1", analyst.csrf.clone().unwrap());
    let r = common::send(
        &fx.app,
        Method::POST,
        &format!("/incidents/{id}/selfcheck"),
        &analyst,
        Some("application/x-www-form-urlencoded"),
        form.into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let view = common::get(&fx.app, &format!("/api/v1/incidents/{id}"), &analyst).await;
    assert_eq!(view.json()["selfcheck"]["opened_by"], "analyst");
    let trail: Vec<String> = leaktrace_server::audit::entries(
        &rusqlite::Connection::open(fx.app.home().join("catalog.sqlite")).unwrap(),
        None,
    )
    .unwrap()
    .into_iter()
    .filter(|e| e.object.contains("/selfcheck:"))
    .map(|e| format!("{} {}", e.user, e.object))
    .collect();
    assert_eq!(
        trail,
        [
            format!("analyst incident:{id}/selfcheck:opened"),
            format!("analyst incident:{id}/selfcheck:closed"),
            format!("analyst incident:{id}/selfcheck:opened"),
        ]
    );
    let start = std::time::Instant::now();
    let mut reopened = false;
    while start.elapsed() < wait && !reopened {
        reopened = found(l.http()).await.0;
        if !reopened {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    assert!(reopened, "found again once the incident is reopened");
    l.stop().await;
}
