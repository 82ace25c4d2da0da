//! The incident service from the command line: `user add` (password on stdin), `serve` on a
//! loopback port answering real HTTP, `audit verify` (exit 1 naming the first bad entry after
//! the catalog's rows are tampered with) and `audit export`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn leaktrace(home: &Path, key: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leaktrace"));
    c.arg("--home")
        .arg(home)
        .arg("--key-file")
        .arg(key)
        .arg("--quiet");
    c
}

fn user_add(
    home: &Path,
    key: &Path,
    name: &str,
    role: &str,
    password: &str,
) -> std::process::Output {
    let mut child = leaktrace(home, key)
        .args(["user", "add", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn users_serve_and_the_audit_chain_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, key) = (tmp.path().join("ws"), tmp.path().join("key"));
    let st = leaktrace(&home, &key).arg("init").status().unwrap();
    assert!(st.success());
    let out = user_add(&home, &key, "alice", "admin", "correct horse battery");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = user_add(&home, &key, "bob", "viewer", "short");
    assert!(!out.status.success(), "a short password is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("12 to 1024"));
    let out = user_add(&home, &key, "alice", "viewer", "another long password");
    assert!(!out.status.success(), "names are unique");
    let list = leaktrace(&home, &key)
        .args(["user", "list"])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        list.contains("alice") && list.contains("admin") && !list.contains("argon2"),
        "{list}"
    );
    let token = leaktrace(&home, &key)
        .args(["user", "token", "alice"])
        .output()
        .unwrap();
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
    assert!(token.starts_with("lt_") && token.len() == 67, "{token}");

    // A real server on a loopback port chosen by the system.
    let mut server = leaktrace(&home, &key)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("leaktrace serve: listening on http://")
        .and_then(|s| s.strip_suffix('/'))
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    let login = http(
        &addr,
        &format!("GET /login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    let me = http(
        &addr,
        &format!("GET /api/v1/me HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"),
    );
    let anon = http(
        &addr,
        &format!("GET /api/v1/incidents HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    let _ = server.kill();
    let _ = server.wait();
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    assert!(
        login.contains("content-security-policy: default-src 'self'"),
        "{login}"
    );
    assert!(
        me.starts_with("HTTP/1.1 200") && me.contains("\"role\":\"admin\""),
        "{me}"
    );
    assert!(
        anon.starts_with("HTTP/1.1 401") && anon.contains("unauthenticated"),
        "{anon}"
    );

    // The chain verifies, then breaks where a row was altered.
    let ok = leaktrace(&home, &key)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("audit trail intact"));
    let db = rusqlite::Connection::open(home.join("catalog.sqlite")).unwrap();
    db.execute("UPDATE audit SET object = 'user:mallory' WHERE id = 2", [])
        .unwrap();
    let bad = leaktrace(&home, &key)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&bad.stderr).to_string();
    assert!(msg.contains("broken at entry 2"), "{msg}");
    // Exporting an unknown incident is a clear error.
    let x = leaktrace(&home, &key)
        .args(["audit", "export", "--incident", "7", "--out"])
        .arg(tmp.path().join("x.zip"))
        .output()
        .unwrap();
    assert_eq!(x.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&x.stderr).contains("no incident #7"));
}
