//! `leaktrace watch DIR` end to end against real parts: a synthetic enrolled workspace, the
//! binary watching a folder with inotify, a real SMTP server on loopback (Debian's
//! python3-aiosmtpd, started here) and a webhook receiver on loopback checking the HMAC.
//!
//! Without python3-aiosmtpd the tests skip with a message, unless CI is set (then they fail).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use leaktrace_index::{EnrollOptions, Workspace};
use sha2::{Digest, Sha256};

const SECRET: &str = "webhook test secret";
/// Bound of every wait for the watcher (a wait, not a speed assertion).
const WAIT: Duration = Duration::from_secs(300);

struct Base {
    dir: PathBuf,
}

fn base() -> &'static Base {
    static B: OnceLock<Base> = OnceLock::new();
    B.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("watch-base-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let data = dir.join("data");
        leaktrace_synth::generate(
            &leaktrace_synth::Config {
                persons: 1500,
                seed: 11,
                ..leaktrace_synth::Config::default()
            },
            &data,
        )
        .unwrap();
        let (mut ws, _) = Workspace::init(&dir.join("ws"), Some(&dir.join("key"))).unwrap();
        let m = leaktrace_synth::read_manifest(&data).unwrap();
        let mut enroll = |file: &Path, source: String, recipient: Option<String>, as_of: &str| {
            let opts = EnrollOptions {
                source,
                recipient,
                as_of: Some(as_of.to_string()),
                ..EnrollOptions::default()
            };
            ws.enroll(file, &opts, &|_| {}).unwrap();
        };
        enroll(
            &data.join(&m.registry.file),
            "registry".into(),
            None,
            &m.registry.as_of,
        );
        for e in &m.extracts {
            let source = e.source().to_string();
            enroll(
                &data.join(&e.file),
                source,
                Some(e.recipient.clone()),
                &e.as_of,
            );
        }
        Base { dir }
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// Debian's Python (the one python3-aiosmtpd installs into), else the first on the PATH.
fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// Whether the SMTP server's package is there; skips (false) or fails under CI.
fn have_aiosmtpd() -> bool {
    let ok = Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3-aiosmtpd is missing (apt-get install python3-aiosmtpd) and CI is set"
        );
        eprintln!("SKIPPED: python3-aiosmtpd is missing (apt-get install python3-aiosmtpd)");
    }
    ok
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The loopback SMTP server: messages land as files in `dir`.
struct Smtp {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Smtp {
    fn start(dir: PathBuf) -> Smtp {
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/watch/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(port.to_string())
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Smtp { child, port, dir }
    }

    fn messages(&self) -> Vec<String> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        v.sort();
        v.iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request the webhook receiver got.
#[derive(Debug, Clone)]
struct Hook {
    key: String,
    body: String,
    signature_ok: bool,
    answered: u16,
}

/// The loopback webhook receiver: answers 500 to the first `fail_first` requests, then 200.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Hook>>>,
}

/// Header names (lower case) and values.
type Headers = Vec<(String, String)>;

fn read_request(s: &mut TcpStream) -> Option<(Headers, Vec<u8>)> {
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut r = BufReader::new(s.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    Some((headers, body))
}

impl Receiver {
    fn start(fail_first: usize) -> Receiver {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let got: Arc<Mutex<Vec<Hook>>> = Arc::default();
        let g = got.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let Some((headers, body)) = read_request(&mut s) else {
                    continue;
                };
                let h = |name: &str| {
                    headers
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
                mac.update(&body);
                let want: String = mac
                    .finalize()
                    .into_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let mut got = g.lock().unwrap();
                let answered = if got.len() < fail_first { 500 } else { 200 };
                got.push(Hook {
                    key: h("idempotency-key"),
                    body: String::from_utf8_lossy(&body).to_string(),
                    signature_ok: h("x-leaktrace-signature") == format!("sha256={want}"),
                    answered,
                });
                drop(got);
                let _ = write!(
                    s,
                    "HTTP/1.1 {answered} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Receiver { port, got }
    }

    fn delivered(&self) -> Vec<Hook> {
        let g = self.got.lock().unwrap();
        g.iter().filter(|h| h.answered == 200).cloned().collect()
    }
}

/// A test's workspace copy, watched folder and servers.
struct Setup {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    key: PathBuf,
    dir: PathBuf,
    smtp: Smtp,
    hooks: Receiver,
}

impl Setup {
    fn new(fail_first: usize) -> Option<Setup> {
        if !have_aiosmtpd() {
            return None;
        }
        let tmp = tempfile::tempdir().unwrap();
        let b = base();
        copy_dir(&b.dir.join("ws"), &tmp.path().join("ws"));
        std::fs::copy(b.dir.join("key"), tmp.path().join("key")).unwrap();
        let dir = tmp.path().join("inbox");
        std::fs::create_dir_all(&dir).unwrap();
        let smtp = Smtp::start(tmp.path().join("mail"));
        Some(Setup {
            home: tmp.path().join("ws"),
            key: tmp.path().join("key"),
            dir,
            smtp,
            hooks: Receiver::start(fail_first),
            _tmp: tmp,
        })
    }

    fn watcher(&self) -> Watcher {
        self.spawn(&["watch".into(), self.dir.display().to_string()])
    }

    /// `leaktrace watch DIR --poll SECS`.
    fn poller(&self, secs: u32) -> Watcher {
        self.spawn(&[
            "watch".into(),
            self.dir.display().to_string(),
            "--poll".into(),
            secs.to_string(),
        ])
    }

    /// `leaktrace serve --watch DIR` on a loopback port.
    fn server(&self, port: u16) -> Watcher {
        self.spawn(&[
            "serve".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            "--watch".into(),
            self.dir.display().to_string(),
        ])
    }

    fn spawn(&self, command: &[String]) -> Watcher {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.home.join("watch-test.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_leaktrace"))
            .arg("--home")
            .arg(&self.home)
            .arg("--key-file")
            .arg(&self.key)
            .args(command)
            .args([
                "--debounce-ms",
                "200",
                "--smtp-host",
                "127.0.0.1",
                "--smtp-tls",
                "none",
            ])
            .args(["--smtp-port", &self.smtp.port.to_string()])
            .args([
                "--smtp-from",
                "leaktrace@dpo.example",
                "--smtp-to",
                "team@dpo.example",
            ])
            .arg("--webhook-url")
            .arg(format!("http://127.0.0.1:{}/hook", self.hooks.port))
            .args(["--base-url", "https://leaktrace.example"])
            .env("LEAKTRACE_WEBHOOK_SECRET", SECRET)
            .stderr(log)
            .spawn()
            .unwrap();
        Watcher(child)
    }

    fn leak(&self, name: &str) -> PathBuf {
        base().dir.join("data/leaks").join(name)
    }

    fn db(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self.home.join("catalog.sqlite")).unwrap();
        c.busy_timeout(Duration::from_secs(30)).unwrap();
        c
    }

    /// (status, times_seen, analyses) of a content, if the watcher has it.
    fn file(&self, sha: &str) -> Option<(String, i64, i64)> {
        let c = self.db();
        let has = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'watch_files'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap();
        if has == 0 {
            return None;
        }
        c.query_row(
            "SELECT status, times_seen, analyses FROM watch_files WHERE sha256 = ?1",
            [sha],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok()
    }

    fn incidents_of(&self, sha: &str) -> i64 {
        self.db()
            .query_row(
                "SELECT count(*) FROM incidents WHERE sha256 = ?1",
                [sha],
                |r| r.get(0),
            )
            .unwrap_or(0)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.home.join("watch-test.log")).unwrap_or_default()
    }

    fn wait(&self, what: &str, cond: impl Fn() -> bool) {
        let t = Instant::now();
        while !cond() {
            assert!(
                t.elapsed() < WAIT,
                "timed out waiting for {what}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

struct Watcher(Child);

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Write a file into the folder (create, write, close).
fn drop_file(dir: &Path, name: &str, bytes: &[u8]) {
    let mut f = std::fs::File::create(dir.join(name)).unwrap();
    f.write_all(bytes).unwrap();
}

/// Write a file beside the folder, then rename it in.
fn rename_in(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.parent().unwrap().join(format!("{name}.writing"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

/// The personal values of a leak: every field of at least 4 characters with a letter or an @,
/// and every one of at least 8 characters (identifiers, phone numbers).
fn values_of(path: &Path) -> Vec<String> {
    let mut r = leaktrace_io::open(path, &leaktrace_io::ReadOptions::default()).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = r.next_record() {
        for f in rec.unwrap().fields {
            let f = f.trim().to_string();
            let n = f.chars().count();
            if n >= 8 || (n >= 4 && f.chars().any(|c| c.is_alphabetic() || c == '@')) {
                out.push(f);
            }
        }
    }
    out.sort();
    out.dedup();
    assert!(out.len() > 20, "the leak has values to look for");
    out
}

fn assert_no_value(text: &str, values: &[String]) {
    let lower = text.to_lowercase();
    for v in values {
        assert!(
            !lower.contains(&v.to_lowercase()),
            "an alert carries a value of the leak (masked here: {} chars)",
            v.chars().count()
        );
    }
}

#[test]
fn landed_files_are_alerted_once_each_by_email_and_signed_webhook() {
    let Some(s) = Setup::new(0) else { return };
    let _w = s.watcher();
    let a = std::fs::read(s.leak("app_reshaped.csv")).unwrap();
    let b = std::fs::read(s.leak("provider_noheader.csv")).unwrap();
    let (sa, sb) = (sha256(&a), sha256(&b));
    drop_file(&s.dir, "export.csv", &a);
    rename_in(&s.dir, "fournisseur.csv", &b);
    let alerted = |sha: &str| s.file(sha).is_some_and(|f| f.0 == "alerted");
    s.wait("both files alerted", || alerted(&sa) && alerted(&sb));
    // The same content again, under another name: counted, not analysed or alerted again.
    drop_file(&s.dir, "export-copy.csv", &a);
    s.wait("the copy seen", || s.file(&sa).is_some_and(|f| f.1 == 2));
    assert_eq!(s.file(&sa).unwrap(), ("alerted".into(), 2, 1));
    assert_eq!((s.incidents_of(&sa), s.incidents_of(&sb)), (1, 1));

    let mails = s.smtp.messages();
    let hooks = s.hooks.delivered();
    assert_eq!(mails.len(), 2, "one e-mail per file");
    assert_eq!(hooks.len(), 2, "one webhook per file");
    assert!(
        hooks.iter().all(|h| h.signature_ok),
        "every webhook is signed"
    );
    let mut keys: Vec<&str> = hooks.iter().map(|h| h.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 2, "one idempotency key per file");
    for h in &hooks {
        let j: serde_json::Value = serde_json::from_str(&h.body).unwrap();
        assert!(j["file_sha256"] == sa.as_str() || j["file_sha256"] == sb.as_str());
        assert_ne!(j["verdict"], "not_ours");
        assert!(j["persons_affected"].as_u64().unwrap() > 0, "{j}");
        let url = j["incident_url"].as_str().unwrap();
        assert!(
            url.starts_with("https://leaktrace.example/incidents/"),
            "{url}"
        );
        assert!(
            mails.iter().any(|m| m.contains(url)),
            "the e-mail links the incident"
        );
        assert!(mails
            .iter()
            .any(|m| m.contains(&format!("<{}@leaktrace.watch>", h.key))));
    }
    let mut values = values_of(&s.leak("app_reshaped.csv"));
    values.extend(values_of(&s.leak("provider_noheader.csv")));
    for text in mails.iter().chain(hooks.iter().map(|h| &h.body)) {
        assert_no_value(text, &values);
    }
    assert_no_value(&s.log(), &values);
}

#[test]
fn a_sample_of_an_earlier_leak_is_its_reappearance_and_a_failing_webhook_is_retried() {
    let Some(s) = Setup::new(2) else { return };
    let _w = s.watcher();
    let a = std::fs::read(s.leak("app_reshaped.csv")).unwrap();
    let sa = sha256(&a);
    drop_file(&s.dir, "first.csv", &a);
    s.wait("the first leak alerted", || {
        s.file(&sa).is_some_and(|f| f.0 == "alerted")
    });
    // The first two webhook attempts failed: the third delivered, with the same key.
    let all = s.hooks.got.lock().unwrap().clone();
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(all.iter().filter(|h| h.answered == 200).count(), 1);
    assert!(all.iter().all(|h| h.key == all[0].key && h.signature_ok));
    assert!(all.iter().all(|h| h.body == all[0].body));
    // A 10 % sample of its rows (header kept) lands later.
    let text = String::from_utf8(a).unwrap();
    let mut lines = text.lines();
    let mut sample = format!("{}\n", lines.next().unwrap());
    for l in lines.step_by(10) {
        sample.push_str(l);
        sample.push('\n');
    }
    let ss = sha256(sample.as_bytes());
    drop_file(&s.dir, "sample.csv", sample.as_bytes());
    s.wait("the sample alerted", || {
        s.file(&ss).is_some_and(|f| f.0 == "alerted")
    });
    let hooks = s.hooks.delivered();
    assert_eq!(hooks.len(), 2);
    let first: serde_json::Value = serde_json::from_str(&hooks[0].body).unwrap();
    let j: serde_json::Value = serde_json::from_str(&hooks[1].body).unwrap();
    let r = &j["reappearance"];
    assert_eq!(r["incident"], first["incident"], "{j}");
    let share = r["share_found_again"].as_f64().unwrap();
    let again = r["persons_found_again"].as_u64().unwrap();
    let earlier = first["persons_affected"].as_u64().unwrap();
    assert!(
        (0.05..=0.15).contains(&share),
        "share {share} of a 10 % sample"
    );
    assert!((share - again as f64 / earlier as f64).abs() < 1e-3, "{j}");
    assert_eq!(r["new_persons"], 0, "a sample has no new person: {j}");
    let mails = s.smtp.messages();
    assert_eq!(mails.len(), 2);
    assert!(
        mails[1].contains("Re-appearance of incident"),
        "{}",
        mails[1]
    );
}

#[test]
fn a_watcher_killed_mid_analysis_analyses_and_alerts_once_after_restart() {
    let Some(s) = Setup::new(0) else { return };
    // A file large enough for the analysis to be caught running: the leak's rows many times.
    let a = String::from_utf8(std::fs::read(s.leak("app_reshaped.csv")).unwrap()).unwrap();
    let mut lines = a.lines();
    let mut big = format!("{}\n", lines.next().unwrap());
    let rows: Vec<&str> = lines.collect();
    for _ in 0..40 {
        for l in &rows {
            big.push_str(l);
            big.push('\n');
        }
    }
    let sb = sha256(big.as_bytes());
    let mut w = s.watcher();
    drop_file(&s.dir, "big.csv", big.as_bytes());
    s.wait("the analysis started", || {
        s.file(&sb).is_some_and(|f| f.0 == "analysing")
    });
    w.0.kill().unwrap();
    w.0.wait().unwrap();
    assert_eq!(s.file(&sb).unwrap().0, "analysing", "killed mid-analysis");
    assert_eq!(s.smtp.messages().len(), 0);

    let w2 = s.watcher();
    s.wait("the file alerted after the restart", || {
        s.file(&sb).is_some_and(|f| f.0 == "alerted")
    });
    drop(w2);
    assert_eq!(s.file(&sb).unwrap().2, 1, "analysed once");
    assert_eq!(s.incidents_of(&sb), 1);
    // A third start sends nothing again: a new not-ours file shows it is past its start.
    let _w3 = s.watcher();
    let f = std::fs::read(s.leak("fabricated.csv")).unwrap();
    let sf = sha256(&f);
    drop_file(&s.dir, "other.csv", &f);
    s.wait("the other file handled", || {
        s.file(&sf)
            .is_some_and(|f| f.0 != "seen" && f.0 != "analysing")
    });
    assert_eq!(
        s.file(&sf).unwrap().0,
        "not_ours",
        "invented people are not ours"
    );
    assert_eq!(s.incidents_of(&sf), 0, "no incident for a file not ours");
    assert_eq!(s.smtp.messages().len(), 1, "alerted once");
    assert_eq!(s.hooks.delivered().len(), 1, "alerted once");
}

fn http_get(port: u16, path: &str, token: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serve_with_a_watched_folder_opens_incidents_the_team_sees() {
    let Some(s) = Setup::new(0) else { return };
    use leaktrace_server::auth::Role;
    leaktrace_server::admin::add_user(&s.home, "alice", Role::Viewer, "a long enough password")
        .unwrap();
    let token = leaktrace_server::admin::new_token(&s.home, "alice", "test").unwrap();
    let port = free_port();
    let _srv = s.server(port);
    let a = std::fs::read(s.leak("app_reshaped.csv")).unwrap();
    let sa = sha256(&a);
    drop_file(&s.dir, "export.csv", &a);
    s.wait("the file alerted", || {
        s.file(&sa).is_some_and(|f| f.0 == "alerted")
    });
    let hook: serde_json::Value = serde_json::from_str(&s.hooks.delivered()[0].body).unwrap();
    let url = hook["incident_url"].as_str().unwrap();
    let id = url.rsplit('/').next().unwrap();
    s.wait("the service listening", || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let list = http_get(port, "/api/v1/incidents", &token);
    assert!(list.starts_with("HTTP/1.1 200"), "{list}");
    assert!(list.contains(&sa) && list.contains(id), "{list}");
    let one = http_get(port, &format!("/api/v1/incidents/{id}"), &token);
    assert!(
        one.starts_with("HTTP/1.1 200") && one.contains("analysed"),
        "{one}"
    );
    let report = http_get(port, &format!("/api/v1/incidents/{id}/report"), &token);
    assert!(report.starts_with("HTTP/1.1 200"), "{report}");
}

#[test]
fn polling_takes_a_landed_file_once_it_is_stable() {
    let Some(s) = Setup::new(0) else { return };
    let _w = s.poller(1);
    let b = std::fs::read(s.leak("provider_noheader.csv")).unwrap();
    let sb = sha256(&b);
    // Written in two steps with a pause: taken once, complete.
    let (head, tail) = b.split_at(b.len() / 2);
    let mut f = std::fs::File::create(s.dir.join("share.csv")).unwrap();
    f.write_all(head).unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    f.write_all(tail).unwrap();
    drop(f);
    s.wait("the polled file alerted", || {
        s.file(&sb).is_some_and(|f| f.0 == "alerted")
    });
    assert_eq!(s.file(&sb).unwrap().2, 1);
    assert_eq!(s.smtp.messages().len(), 1);
    assert_eq!(s.hooks.delivered().len(), 1);
    let c = s.db();
    let partial: i64 = c
        .query_row(
            "SELECT count(*) FROM watch_files WHERE sha256 != ?1",
            [&sb],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(partial, 0, "the half-written file was never taken");
}
