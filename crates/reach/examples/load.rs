//! Self-check bench (bench/selfcheck.sh; figures in bench/README.md), loopback only, stops by
//! itself. On a workspace whose incident 1 is analysed: opens it to self-check, exports the
//! bucket files, serves the public listener in-process (limits raised), then
//! 1. timing: `--timing` requests alternating found / not found, one at a time: mean and p50
//!    of each, their difference, and the same difference between two halves of the not-found
//!    requests (the noise);
//! 2. load: `--users` concurrent clients for `--seconds` each on bucket files, then on the
//!    server-side check: requests per second, p50, p99, errors. `--rate N`: the clients
//!    together offer N requests per second (open loop) instead of a closed loop.
//!
//! `cargo run --release -p leaktrace-reach --example load -- --home WS --key-file KEY --registry FILE`

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use leaktrace_reach::limits::Limits;
use leaktrace_reach::public::{self, Public};

struct Args {
    home: PathBuf,
    key: Option<PathBuf>,
    registry: PathBuf,
    users: usize,
    seconds: u64,
    timing: usize,
    /// Requests per second offered by all clients together (0: closed loop, the saturation).
    rate: f64,
}

fn args() -> Args {
    let mut a = Args {
        home: PathBuf::from(".leaktrace"),
        key: None,
        registry: PathBuf::new(),
        users: 200,
        seconds: 10,
        timing: 1000,
        rate: 0.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--home" => a.home = v.into(),
            "--key-file" => a.key = Some(v.into()),
            "--registry" => a.registry = v.into(),
            "--users" => a.users = v.parse().expect("--users N"),
            "--seconds" => a.seconds = v.parse::<u64>().expect("--seconds N").min(120),
            "--timing" => a.timing = v.parse().expect("--timing N"),
            "--rate" => a.rate = v.parse().expect("--rate N"),
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn call(c: &Http, method: Method, url: &str, body: Option<&str>) -> (u16, usize) {
    let mut r = Request::builder().method(method).uri(url);
    if body.is_some() {
        r = r.header("content-type", "application/json");
    }
    let body = Full::new(Bytes::from(body.unwrap_or("").to_string()));
    match c.request(r.body(body).unwrap()).await {
        Ok(resp) => {
            let s = resp.status().as_u16();
            let n = resp
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes().len())
                .unwrap_or(0);
            (s, n)
        }
        Err(_) => (0, 0),
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// (found request body, not-found request body) from the registry and the incident's persons.
fn bodies(a: &Args, affected: &HashSet<String>) -> (String, String) {
    let mut r = csv::Reader::from_path(&a.registry).expect("--registry FILE");
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).expect("registry column");
    let (id, email, birth) = (col("person_id"), col("email"), col("date_naissance"));
    let (mut found, mut not) = (None, None);
    for rec in r.records() {
        let rec = rec.unwrap();
        if rec[email].is_empty() || rec[birth].is_empty() {
            continue;
        }
        let body = serde_json::json!({"identifier": &rec[email], "second_kind": "birth_date", "second": &rec[birth]}).to_string();
        if affected.contains(&rec[id]) {
            found.get_or_insert(body);
        } else {
            not.get_or_insert(body);
        }
        if found.is_some() && not.is_some() {
            break;
        }
    }
    (
        found.expect("an affected person"),
        not.expect("an unaffected person"),
    )
}

/// `users` clients for `seconds`: a closed loop (`rate` 0), or together offering `rate`
/// requests per second, each at its own schedule, latency counted from the scheduled time (a
/// late start counts: no coordinated omission).
async fn load(
    c: &Http,
    users: usize,
    seconds: u64,
    rate: f64,
    reqs: Arc<Vec<(Method, String, Option<String>)>>,
) -> String {
    let stop = Instant::now() + Duration::from_secs(seconds);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for u in 0..users {
        let (c, reqs) = (c.clone(), reqs.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors, mut i) = (Vec::new(), 0u64, u);
            let every = (rate > 0.0).then(|| Duration::from_secs_f64(users as f64 / rate));
            let mut due = t + Duration::from_secs_f64(u as f64 / rate.max(1.0));
            while Instant::now() < stop {
                let (m, url, body) = &reqs[i % reqs.len()];
                let t = match every {
                    Some(every) => {
                        tokio::time::sleep_until(due.into()).await;
                        let at = due;
                        due += every;
                        at
                    }
                    None => Instant::now(),
                };
                let (s, _) = call(&c, m.clone(), url, body.as_deref()).await;
                lat.push(t.elapsed().as_secs_f64() * 1e3);
                if s != 200 {
                    errors += 1;
                }
                i += 1;
            }
            (lat, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let secs = t.elapsed().as_secs_f64();
    format!(
        "{} requests in {secs:.1} s = {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {errors}",
        all.len(),
        all.len() as f64 / secs,
        pct(&mut all, 0.5),
        pct(&mut all, 0.99)
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let _ = leaktrace_server::admin::add_user(
        &a.home,
        "bench-analyst",
        leaktrace_server::auth::Role::Analyst,
        "bench password 123",
    );
    let mut store = leaktrace_reach::store::ReachStore::open(&a.home).unwrap();
    store.set_open(1, "bench-analyst", true).unwrap();
    let row = store.incident(1).unwrap();
    let affected: HashSet<String> =
        csv::Reader::from_path(store.report_dir(&row).join("affected_persons.csv"))
            .unwrap()
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
    let ws = leaktrace_index::Workspace::open(&a.home, a.key.as_deref()).unwrap();
    let out =
        std::env::temp_dir().join(format!("leaktrace-selfcheck-bench-{}", std::process::id()));
    let t = Instant::now();
    {
        let checker = leaktrace_reach::check::Checker::open(&ws).unwrap();
        let key = leaktrace_reach::oprf::OprfKey::from_seed(
            &ws.derive_key(leaktrace_reach::oprf::OPRF_KEY_CONTEXT),
        )
        .unwrap();
        let r = leaktrace_reach::export::export(&checker, &key, &a.registry, &out).unwrap();
        println!(
            "export: {} entries from {} rows, {} buckets of {} entries x {} bytes, {:.1} s",
            r.entries,
            r.rows,
            r.buckets,
            r.manifest.entries_per_bucket,
            r.manifest.entry_bytes,
            t.elapsed().as_secs_f64()
        );
    }
    let state = Arc::new(Public::new(&ws, Limits::per_second(10_000_000), Some(&out)).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(public::serve(state, listener, std::future::pending()));
    let c: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(a.users)
        .build_http();
    let (found, not) = bodies(&a, &affected);
    let url = format!("{base}/api/v1/selfcheck");
    // 1. Timing, one request at a time, found and not found interleaved.
    for _ in 0..50 {
        call(&c, Method::POST, &url, Some(&found)).await;
    }
    let (mut f, mut n, mut sizes) = (Vec::new(), Vec::new(), HashSet::new());
    for i in 0..2 * a.timing {
        let body = if i % 2 == 0 { &found } else { &not };
        let t = Instant::now();
        let (s, len) = call(&c, Method::POST, &url, Some(body)).await;
        let us = t.elapsed().as_secs_f64() * 1e6;
        assert_eq!(s, 200);
        sizes.insert(len);
        if i % 2 == 0 {
            f.push(us)
        } else {
            n.push(us)
        }
    }
    let n1: Vec<f64> = n.iter().copied().step_by(2).collect();
    let n2: Vec<f64> = n.iter().copied().skip(1).step_by(2).collect();
    println!(
        "timing ({} each): found mean {:.1} us p50 {:.1} us; not found mean {:.1} us p50 {:.1} us; difference mean {:+.1} us p50 {:+.1} us; noise (not found vs not found) mean {:+.1} us p50 {:+.1} us; answer sizes {:?}",
        a.timing, mean(&f), pct(&mut f.clone(), 0.5), mean(&n), pct(&mut n.clone(), 0.5),
        mean(&f) - mean(&n), pct(&mut f.clone(), 0.5) - pct(&mut n.clone(), 0.5),
        mean(&n1) - mean(&n2), pct(&mut n1.clone(), 0.5) - pct(&mut n2.clone(), 0.5), sizes
    );
    // 2. Load.
    let digits = serde_json::from_slice::<serde_json::Value>(
        &std::fs::read(out.join("manifest.json")).unwrap(),
    )
    .unwrap()["prefix_digits"]
        .as_u64()
        .unwrap() as usize;
    let buckets: Vec<_> = (0..1usize << (4 * digits))
        .map(|i| {
            (
                Method::GET,
                format!("{base}/selfcheck/buckets/{i:0digits$x}"),
                None,
            )
        })
        .collect();
    println!(
        "buckets, {} clients: {}",
        a.users,
        load(&c, a.users, a.seconds, a.rate, Arc::new(buckets)).await
    );
    let checks = vec![
        (Method::POST, url.clone(), Some(found.clone())),
        (Method::POST, url.clone(), Some(not.clone())),
    ];
    println!(
        "server-side check, {} clients: {}",
        a.users,
        load(&c, a.users, a.seconds, a.rate, Arc::new(checks)).await
    );
    let _ = std::fs::remove_dir_all(&out);
}
