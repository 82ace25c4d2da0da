//! A workspace built as the service's tests build it (synth, init, enrol; an incident analysed
//! through the service's router), opened to self-check, and a public listener on loopback.

#![allow(dead_code)]

#[path = "../../../server/tests/common/mod.rs"]
pub mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use leaktrace_reach::client::Http;
use leaktrace_reach::limits::Limits;
use leaktrace_reach::public::{self, Public};
use leaktrace_reach::store::ReachStore;

/// One registry person's facts (synthetic).
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub last: String,
    pub birth: String,
    pub nir: String,
    pub email: String,
    pub mobile: String,
}

/// The workspace with one incident open to self-check.
pub struct Fixture {
    pub app: common::App,
    pub number: i64,
    pub registry: PathBuf,
    /// Affected by the open incident.
    pub affected: Person,
    /// In the registry, not affected.
    pub unaffected: Person,
}

fn registry_persons(path: &Path) -> Vec<Person> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (id, last, birth, nir, email, mobile) = (
        col("person_id"),
        col("nom"),
        col("date_naissance"),
        col("nir"),
        col("email"),
        col("mobile"),
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            Person {
                id: rec[id].to_string(),
                last: rec[last].to_string(),
                birth: rec[birth].to_string(),
                nir: rec[nir].to_string(),
                email: rec[email].to_string(),
                mobile: rec[mobile].to_string(),
            }
        })
        .collect()
}

/// Analyse a leak through the service, open it to self-check, pick an affected and an
/// unaffected person with every fact filled.
pub async fn fixture() -> Fixture {
    let app = common::app();
    let id = common::analysed_incident(&app).await;
    let row = app.state.store().incident(&id).unwrap().unwrap();
    let mut store = ReachStore::open(&app.home()).unwrap();
    store.set_open(row.number, "analyst", true).unwrap();
    let csv_path = store.report_dir(&row).join("affected_persons.csv");
    let affected: HashSet<String> = csv::Reader::from_path(&csv_path)
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    assert!(!affected.is_empty());
    let m = leaktrace_synth::read_manifest(&common::base().data()).unwrap();
    let registry = common::base().data().join(&m.registry.file);
    let persons = registry_persons(&registry);
    let full = |p: &&Person| {
        !p.email.is_empty() && !p.mobile.is_empty() && !p.nir.is_empty() && !p.birth.is_empty()
    };
    let shared = |p: &Person| {
        persons
            .iter()
            .filter(|q| q.email == p.email || q.mobile == p.mobile)
            .count()
            == 1
    };
    let pick = |want: bool| {
        persons
            .iter()
            .filter(full)
            .find(|p| affected.contains(&p.id) == want && shared(p))
            .cloned()
            .unwrap()
    };
    Fixture {
        number: row.number,
        affected: pick(true),
        unaffected: pick(false),
        registry,
        app,
    }
}

/// A public listener on a loopback port; dropping the sender stops it.
pub struct Listener {
    pub addr: SocketAddr,
    pub state: Arc<Public>,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Listener {
    pub fn http(&self) -> Http {
        Http::new(&format!("http://{}", self.addr)).unwrap()
    }

    /// Stop and wait (the counters are flushed on the way out).
    pub async fn stop(mut self) {
        drop(self.stop.take());
        self.task.await.unwrap();
    }
}

pub async fn listen(fx: &Fixture, limits: Limits, buckets: Option<&Path>) -> Listener {
    let ws = leaktrace_index::Workspace::open(&fx.app.home(), Some(&fx.app.key())).unwrap();
    let state = Arc::new(Public::new(&ws, limits, buckets).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let s = state.clone();
    let task = tokio::spawn(async move {
        public::serve(s, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Listener {
        addr,
        state,
        stop: Some(tx),
        task,
    }
}

/// POST a self-check as JSON.
pub async fn check(
    http: &Http,
    identifier: &str,
    kind: &str,
    second: &str,
) -> (StatusCode, Vec<u8>) {
    let body = serde_json::json!({"identifier": identifier, "second_kind": kind, "second": second});
    let (s, b) = http
        .send(
            Method::POST,
            "/api/v1/selfcheck",
            Some(body.to_string().into_bytes()),
        )
        .await
        .unwrap();
    (s, b.to_vec())
}

/// The JSON of a body.
pub fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

/// The sorted keys of a JSON object (its shape).
pub fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// A birth date one day after `iso` (a wrong second fact).
pub fn next_day(iso: &str) -> String {
    let d = leaktrace_pii::date::parse(iso).unwrap();
    leaktrace_pii::date::Ymd::from_days(d.days() + 1).iso()
}
