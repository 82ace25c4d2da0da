//! Load bench of the incident service (bench/serve-load.sh; figures in bench/README.md).
//!
//! Serves a copy-free workspace in-process on a loopback port, uploads one leak and waits for its
//! verdict (the CLI-comparable "upload to verdict" time), then for `--seconds` has `--users`
//! concurrent clients browse the incident page, its report and the list while two more analyses
//! of the same leak run, and prints p50/p99/max latency per kind of page and the error count.
//! `--think-ms N`: each user pauses N ms between pages (0, the default: a closed loop that
//! measures the service at saturation).
//! Loopback only; stops by itself.
//!
//! `cargo run --release -p leaktrace-server --example load -- --home WS --key-file KEY --leak FILE`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use leaktrace_server::auth::Role;

struct Args {
    home: PathBuf,
    key: Option<PathBuf>,
    leak: PathBuf,
    users: usize,
    seconds: u64,
    /// Pause of each user between two pages (0: closed loop, the service's saturation).
    think_ms: u64,
}

fn args() -> Args {
    let mut a = Args {
        home: PathBuf::from(".leaktrace"),
        key: None,
        leak: PathBuf::new(),
        users: 200,
        seconds: 20,
        think_ms: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--home" => a.home = v.into(),
            "--key-file" => a.key = Some(v.into()),
            "--leak" => a.leak = v.into(),
            "--users" => a.users = v.parse().expect("--users N"),
            "--seconds" => a.seconds = v.parse::<u64>().expect("--seconds N").min(300),
            "--think-ms" => a.think_ms = v.parse().expect("--think-ms N"),
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn call(
    c: &Http,
    method: Method,
    url: &str,
    token: &str,
    ct: Option<&str>,
    body: Vec<u8>,
) -> (u16, Vec<u8>) {
    let mut r = Request::builder()
        .method(method)
        .uri(url)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(ct) = ct {
        r = r.header(header::CONTENT_TYPE, ct);
    }
    match c
        .request(r.body(Full::new(Bytes::from(body))).unwrap())
        .await
    {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes().to_vec())
                .unwrap_or_default();
            (status, body)
        }
        Err(_) => (0, Vec::new()),
    }
}

async fn upload(c: &Http, base: &str, token: &str, leak: &[u8]) -> String {
    let b = "XloadX";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"discovered_at\"\r\n\r\n2026-11-20T09:30+01:00\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"leak.csv\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(leak);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    let (s, out) = call(
        c,
        Method::POST,
        &format!("{base}/api/v1/incidents"),
        token,
        Some(&format!("multipart/form-data; boundary={b}")),
        body,
    )
    .await;
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&out));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    v["incident"]["id"].as_str().unwrap().to_string()
}

async fn wait_done(c: &Http, base: &str, token: &str, id: &str) -> Duration {
    let t = Instant::now();
    loop {
        let (_, out) = call(
            c,
            Method::GET,
            &format!("{base}/api/v1/incidents/{id}"),
            token,
            None,
            Vec::new(),
        )
        .await;
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        let phase = v["job"]["phase"].as_str().unwrap_or("").to_string();
        if ["done", "failed", "cancelled", "interrupted"].contains(&phase.as_str()) {
            assert_eq!(phase, "done", "{}", v["job"]);
            return t.elapsed();
        }
        assert!(
            t.elapsed() < Duration::from_secs(1800),
            "analysis did not end"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let _ = leaktrace_server::admin::add_user(
        &a.home,
        "bench-analyst",
        Role::Analyst,
        "bench password 123",
    );
    let token = leaktrace_server::admin::new_token(&a.home, "bench-analyst", "load bench").unwrap();
    let state =
        leaktrace_server::open(leaktrace_server::Config::new(&a.home, a.key.as_deref())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = leaktrace_server::router(state);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let c: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(a.users)
        .build_http();
    let leak = std::fs::read(&a.leak).expect("--leak FILE");
    let t = Instant::now();
    let id = upload(&c, &base, &token, &leak).await;
    let first = wait_done(&c, &base, &token, &id).await;
    println!(
        "upload to verdict (idle server): {:.2} s (upload {} bytes)",
        t.elapsed().as_secs_f64(),
        leak.len()
    );
    let _ = first;
    // Two analyses in the background while the users browse.
    let busy: Vec<_> = {
        let mut v = Vec::new();
        for _ in 0..2 {
            let (c, base, token, leak) = (c.clone(), base.clone(), token.clone(), leak.clone());
            v.push(tokio::spawn(async move {
                let t = Instant::now();
                let id = upload(&c, &base, &token, &leak).await;
                wait_done(&c, &base, &token, &id).await;
                t.elapsed()
            }));
        }
        v
    };
    let stop = Instant::now() + Duration::from_secs(a.seconds);
    let pages = Arc::new([
        ("incident page", format!("{base}/incidents/{id}")),
        ("report.html", format!("{base}/incidents/{id}/report")),
        ("incidents list", format!("{base}/")),
        ("incident JSON", format!("{base}/api/v1/incidents/{id}")),
    ]);
    let mut tasks = Vec::new();
    let a_users = a.users.max(1) as u64;
    for u in 0..a.users {
        let (c, token, pages) = (c.clone(), token.clone(), pages.clone());
        let think = a.think_ms;
        tasks.push(tokio::spawn(async move {
            // Users start spread over one think time.
            if think > 0 {
                tokio::time::sleep(Duration::from_millis(think * u as u64 / a_users)).await;
            }
            let mut out: Vec<(usize, f64, bool)> = Vec::new();
            let mut i = u;
            while Instant::now() < stop {
                let k = i % pages.len();
                let t = Instant::now();
                let (s, _) = call(&c, Method::GET, &pages[k].1, &token, None, Vec::new()).await;
                out.push((k, t.elapsed().as_secs_f64() * 1000.0, s == 200));
                i += 1;
                if think > 0 {
                    tokio::time::sleep(Duration::from_millis(think)).await;
                }
            }
            out
        }));
    }
    let mut all: Vec<(usize, f64, bool)> = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let errors = all.iter().filter(|x| !x.2).count();
    println!(
        "{} users ({} ms between pages) for {} s: {} requests ({:.0}/s), {} errors",
        a.users,
        a.think_ms,
        a.seconds,
        all.len(),
        all.len() as f64 / a.seconds as f64,
        errors
    );
    for (k, (name, _)) in pages.iter().enumerate() {
        let mut v: Vec<f64> = all.iter().filter(|x| x.0 == k).map(|x| x.1).collect();
        let n = v.len();
        println!(
            "  {name:<15} n={n:<7} p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms",
            pct(&mut v, 0.5),
            pct(&mut v, 0.99),
            pct(&mut v, 1.0)
        );
    }
    for (i, b) in busy.into_iter().enumerate() {
        println!(
            "background analysis {}: upload to verdict {:.2} s",
            i + 1,
            b.await.unwrap().as_secs_f64()
        );
    }
}
