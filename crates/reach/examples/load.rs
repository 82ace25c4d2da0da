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
//! The listener and the generator run on two runtimes pinned to two different cores
//! (`--server-cpu`, `--client-cpu`; Linux `sched_setaffinity`), so that neither preempts the
//! other: on a 2-core machine that is the nearest thing to a separate load machine.
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
    /// The core the listener's runtime is pinned to (none: not pinned).
    server_cpu: Option<usize>,
    /// The core the generator's runtime is pinned to.
    client_cpu: Option<usize>,
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
        server_cpu: Some(0),
        client_cpu: Some(1),
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
            "--server-cpu" => a.server_cpu = v.parse().ok(),
            "--client-cpu" => a.client_cpu = v.parse().ok(),
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

/// One client's own keep-alive connection (TCP_NODELAY), as a browser or a CDN edge holds.
struct Conn {
    addr: String,
    send: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Conn {
    async fn open(addr: &str) -> Conn {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let (send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        Conn {
            addr: addr.to_string(),
            send,
        }
    }

    /// One request on this connection (reopened if the listener closed it): the status, 0 on error.
    async fn call(&mut self, method: Method, url: &str, body: Option<&str>) -> u16 {
        if self.send.ready().await.is_err() {
            *self = Conn::open(&self.addr).await;
        }
        let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}"));
        let mut r = Request::builder()
            .method(method)
            .uri(path.unwrap_or_else(|| "/".into()))
            .header("host", &self.addr);
        if body.is_some() {
            r = r.header("content-type", "application/json");
        }
        let body = Full::new(Bytes::from(body.unwrap_or("").to_string()));
        match self.send.send_request(r.body(body).unwrap()).await {
            Ok(resp) => {
                let s = resp.status().as_u16();
                match resp.into_body().collect().await {
                    Ok(_) => s,
                    Err(_) => 0,
                }
            }
            Err(_) => 0,
        }
    }
}

/// `users` clients, each on its own connection, for `seconds`: a closed loop (`rate` 0), or
/// together offering `rate` requests per second, each at its own schedule, latency counted
/// from the scheduled time (a late start counts: no coordinated omission).
async fn load(
    addr: &str,
    users: usize,
    seconds: u64,
    rate: f64,
    reqs: Arc<Vec<(Method, String, Option<String>)>>,
) -> String {
    let stop = Instant::now() + Duration::from_secs(seconds);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for u in 0..users {
        let (addr, reqs) = (addr.to_string(), reqs.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(&addr).await;
            let (mut lat, mut sent, mut errors, mut i) = (Vec::new(), Vec::new(), 0u64, u);
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
                let at = Instant::now();
                let s = c.call(m.clone(), url, body.as_deref()).await;
                lat.push(t.elapsed().as_secs_f64() * 1e3);
                sent.push(at.elapsed().as_secs_f64() * 1e3);
                if s != 200 {
                    errors += 1;
                }
                i += 1;
            }
            (lat, sent, errors)
        }));
    }
    let (mut all, mut from_send, mut errors) = (Vec::new(), Vec::new(), 0);
    for t in tasks {
        let (l, s, e) = t.await.unwrap();
        all.extend(l);
        from_send.extend(s);
        errors += e;
    }
    let secs = t.elapsed().as_secs_f64();
    format!(
        "{} requests in {secs:.1} s = {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, errors {errors} (from the send: p50 {:.2} ms, p99 {:.2} ms)",
        all.len(),
        all.len() as f64 / secs,
        pct(&mut all, 0.5),
        pct(&mut all, 0.99),
        pct(&mut all, 0.999),
        pct(&mut from_send, 0.5),
        pct(&mut from_send, 0.99),
    )
}

/// Pin the calling thread to `cpu` (no-op when `None` or not on Linux).
fn pin(cpu: Option<usize>) {
    #[cfg(target_os = "linux")]
    if let Some(cpu) = cpu {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes within it.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                eprintln!("could not pin a thread to core {cpu}");
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

/// A one-worker runtime whose threads (the worker and the blocking pool) are pinned to `cpu`.
fn runtime(cpu: Option<usize>) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_start(move || pin(cpu))
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn main() {
    let a = args();
    let client = runtime(a.client_cpu);
    let server = runtime(a.server_cpu);
    pin(a.client_cpu);
    client.block_on(run(a, server.handle().clone()));
}

async fn run(a: Args, server: tokio::runtime::Handle) {
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
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let base = format!("http://{addr}");
    server.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        public::serve(state, listener, std::future::pending()).await
    });
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let c: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(a.users)
        .build(connector);
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
        load(&addr, a.users, a.seconds, a.rate, Arc::new(buckets)).await
    );
    let checks = vec![
        (Method::POST, url.clone(), Some(found.clone())),
        (Method::POST, url.clone(), Some(not.clone())),
    ];
    println!(
        "server-side check, {} clients: {}",
        a.users,
        load(&addr, a.users, a.seconds, a.rate, Arc::new(checks)).await
    );
    let _ = std::fs::remove_dir_all(&out);
}
