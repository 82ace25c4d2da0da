//! Nothing of what a person types is kept: after many checks (found, not found, wrong second
//! fact, bad input, limited, OPRF evaluations) a byte scan of the listener's stderr and of every
//! file of the workspace and of the bucket export finds no identifier, in any of its written
//! forms, and no fingerprint of one (16 bytes either way round, or hex). The enrolled person's
//! fingerprints are in the index segments by design, so for them the index is left out of the
//! scan; identifiers never enrolled must appear nowhere, the index included.
//!
//! The listener runs in a child process (this test binary run again on
//! `listener_child_process`) whose stderr goes to a file: everything it writes is scanned.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use leaktrace_index::Domain;
use leaktrace_reach::check::{Facts, SecondKind};
use leaktrace_reach::limits::Limits;
use support::*;

const CHILD_HOME: &str = "LEAKTRACE_REACH_CHILD_HOME";
const CHILD_KEY: &str = "LEAKTRACE_REACH_CHILD_KEY";
const CHILD_BUCKETS: &str = "LEAKTRACE_REACH_CHILD_BUCKETS";

/// Not a test of its own: the listener of `nothing_is_kept`, started by it in a child
/// process (does nothing when run without its environment).
#[test]
fn listener_child_process() {
    let (Some(home), Some(key)) = (std::env::var_os(CHILD_HOME), std::env::var_os(CHILD_KEY))
    else {
        return;
    };
    let buckets = std::env::var_os(CHILD_BUCKETS).map(PathBuf::from);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let ws = leaktrace_index::Workspace::open(Path::new(&home), Some(Path::new(&key))).unwrap();
        let limits = Limits {
            per_identifier: governor::Quota::per_hour(leaktrace_reach::limits::nz(20)),
            ..Limits::per_second(10_000)
        };
        let state = std::sync::Arc::new(
            leaktrace_reach::public::Public::new(&ws, limits, buckets.as_deref()).unwrap(),
        );
        drop(ws);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("LISTENING {}", listener.local_addr().unwrap());
        std::io::stdout().flush().unwrap();
        // Stops when the parent closes our stdin.
        let stop = tokio::task::spawn_blocking(|| {
            let mut s = String::new();
            let _ = std::io::stdin().read_line(&mut s);
        });
        leaktrace_reach::public::serve(state, listener, async {
            let _ = stop.await;
        })
        .await
        .unwrap();
    });
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(hay, needle).is_some()
}

/// The written forms of a fingerprint.
fn fp_forms(fp: u128) -> Vec<Vec<u8>> {
    vec![
        fp.to_be_bytes().to_vec(),
        fp.to_le_bytes().to_vec(),
        format!("{fp:032x}").into_bytes(),
        format!("{fp:032X}").into_bytes(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_kept() {
    let fx = fixture().await;
    let p = fx.affected.clone();
    let buckets = fx.app.tmp.path().join("buckets");
    let ws = leaktrace_index::Workspace::open(&fx.app.home(), Some(&fx.app.key())).unwrap();
    {
        let checker = leaktrace_reach::check::Checker::open(&ws).unwrap();
        let key = leaktrace_reach::oprf::OprfKey::from_seed(
            &ws.derive_key(leaktrace_reach::oprf::OPRF_KEY_CONTEXT),
        )
        .unwrap();
        leaktrace_reach::export::export(&checker, &key, &fx.registry, &buckets).unwrap();
    }
    let log = fx.app.tmp.path().join("listener.stderr");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "listener_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_HOME, fx.app.home())
        .env(CHILD_KEY, fx.app.key())
        .env(CHILD_BUCKETS, &buckets)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "child ended: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        // The harness may print "test … " on the same line first.
        if let Some(a) = line.trim().split("LISTENING ").nth(1) {
            break a.to_string();
        }
    };
    let http = leaktrace_reach::client::Http::new(&format!("http://{addr}")).unwrap();
    // Identifiers never enrolled, of every kind.
    let unknown: Vec<String> = (0..40)
        .map(|i| match i % 3 {
            0 => format!("inconnu.{i}.zq@example.net"),
            1 => format!("07 99 {:02} {:02} 1{}", i, 99 - i, i % 10),
            _ => leaktrace_pii::nir::build(1, 77, 7, "75056", 900 + i as u16).unwrap(),
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    for round in 0..25 {
        for (id, kind, second) in [
            (p.email.clone(), "birth_date", p.birth.clone()),
            (p.mobile.clone(), "last_name", p.last.clone()),
            (p.nir.clone(), "birth_date", next_day(&p.birth)),
            (
                unknown[round % unknown.len()].clone(),
                "birth_date",
                p.birth.clone(),
            ),
            (
                unknown[(round + 7) % unknown.len()].clone(),
                "last_name",
                p.last.clone(),
            ),
            (format!("{}x", p.email), "birth_date", "pas une date".into()),
        ] {
            let (s, _) = check(&http, &id, kind, &second).await;
            *statuses.entry(s.as_u16()).or_insert(0) += 1;
        }
        let facts = Facts::parse(&p.email, SecondKind::BirthDate, &p.birth).unwrap();
        assert_eq!(
            leaktrace_reach::client::check_oprf(&http, &facts)
                .await
                .unwrap()
                .len(),
            1
        );
    }
    assert!(
        statuses.contains_key(&200) && statuses.contains_key(&400) && statuses.contains_key(&429),
        "{statuses:?}"
    );
    drop(child.stdin.take());
    assert!(
        child.wait().unwrap().success(),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
    let counters = leaktrace_reach::store::ReachStore::open(&fx.app.home())
        .unwrap()
        .counters()
        .unwrap();
    assert!(
        counters.iter().any(|c| c.1 == "found") && counters.iter().any(|c| c.1 == "limited"),
        "{counters:?}"
    );

    // What to look for.
    let fpr = ws.fingerprinter();
    let mut plain: Vec<String> = vec![p.email.clone(), p.mobile.clone(), p.nir.clone()];
    let mut enrolled_fps = Vec::new();
    let mut unknown_fps = Vec::new();
    for (id, enrolled) in [(&p.email, true), (&p.mobile, true), (&p.nir, true)]
        .into_iter()
        .chain(unknown.iter().map(|u| (u, false)))
    {
        let f = Facts::parse(id, SecondKind::BirthDate, &p.birth).unwrap();
        plain.push(f.id.clone());
        if !enrolled {
            plain.push(id.clone());
        }
        let d = match f.id_kind {
            leaktrace_reach::check::IdKind::Email => Domain::Email,
            leaktrace_reach::check::IdKind::Phone => Domain::Phone,
            leaktrace_reach::check::IdKind::Nir => Domain::Nir,
        };
        let fp = fpr.fp(d, &f.id);
        if enrolled {
            enrolled_fps.push(fp)
        } else {
            unknown_fps.push(fp)
        }
    }
    let mut scanned = vec![log.clone()];
    files(&fx.app.home(), &mut scanned);
    files(&buckets, &mut scanned);
    let index = fx.app.home().join("index");
    let mut bytes_scanned = 0;
    for path in &scanned {
        let hay = std::fs::read(path).unwrap();
        bytes_scanned += hay.len();
        for v in &plain {
            assert!(
                !find(&hay, v.as_bytes()),
                "{} holds an identifier typed",
                path.display()
            );
        }
        for fp in &unknown_fps {
            for form in fp_forms(*fp) {
                assert!(
                    !find(&hay, &form),
                    "{} holds a fingerprint of a checked identifier",
                    path.display()
                );
            }
        }
        if !path.starts_with(&index) {
            for fp in &enrolled_fps {
                for form in fp_forms(*fp) {
                    assert!(
                        !find(&hay, &form),
                        "{} holds a fingerprint of a checked identifier",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(scanned.iter().any(|p| p.ends_with("catalog.sqlite")));
    assert!(
        bytes_scanned > 100_000,
        "the scan read the workspace ({bytes_scanned} bytes)"
    );
}
