//! The tests' TLS SMTP server: `tls_sink.py` (Debian's python3-aiosmtpd) on a loopback port
//! with STARTTLS required, or implicit TLS, and a certificate made for the test by
//! /usr/bin/openssl: a throw-away CA and a server certificate it signs for `localhost` and
//! `127.0.0.1`. Shared by crates/mail, crates/campaign and crates/leaktrace tests (`#[path]`).
//!
//! Without python3-aiosmtpd or openssl the tests skip with a message, unless `CI` is set (then
//! they fail: CI installs both).

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// How the server protects its sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plain SMTP offering STARTTLS, refusing MAIL before it.
    StartTls,
    /// TLS from the first byte.
    Tls,
}

/// A running server; killed when dropped.
pub struct TlsSink {
    child: Child,
    pub port: u16,
    /// The CA certificate (PEM) that signed the server's certificate.
    pub ca: PathBuf,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

fn missing(what: &str) -> Option<TlsSink> {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is missing (CI installs it: .ci/run, system packages)");
    }
    eprintln!("SKIPPED: {what} is not installed");
    None
}

fn works(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("/usr/bin/openssl")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA (`ca.pem`) and a server certificate it signs (`server.pem`, `server.key`) for
/// `localhost` and `127.0.0.1`, valid two days.
pub fn make_certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=leaktrace test CA",
    ]);
    openssl(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "1",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
}

impl TlsSink {
    /// Start the server, or `None` (with a message) when a package is missing outside CI.
    pub fn start(mode: Mode) -> Option<TlsSink> {
        if !works("/usr/bin/python3", &["-c", "import aiosmtpd"]) {
            return missing("python3-aiosmtpd (apt-get install python3-aiosmtpd)");
        }
        if !works("/usr/bin/openssl", &["version"]) {
            return missing("/usr/bin/openssl (apt-get install openssl)");
        }
        // A start that fails under load is retried (each time with fresh certificates); the
        // script's stderr goes to a file whose text ends up in the failure message.
        let mut errors = Vec::new();
        for attempt in 1..=3 {
            match Self::try_start(mode) {
                Ok(sink) => return Some(sink),
                Err(e) => {
                    eprintln!("tls_sink.py start {attempt} failed: {e}");
                    errors.push(e);
                    std::thread::sleep(std::time::Duration::from_millis(500 * attempt));
                }
            }
        }
        panic!("tls_sink.py did not start: {errors:#?}")
    }

    fn try_start(mode: Mode) -> Result<TlsSink, String> {
        let dir = tempfile::tempdir().unwrap();
        make_certificates(dir.path());
        let out = dir.path().join("mail");
        std::fs::create_dir_all(&out).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mail/tests/tls_sink.py");
        let stderr_path = dir.path().join("stderr.txt");
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let mut child = Command::new("/usr/bin/python3")
            .arg(&script)
            .arg(&out)
            .arg(dir.path().join("server.pem"))
            .arg(dir.path().join("server.key"))
            .arg(match mode {
                Mode::StartTls => "starttls",
                Mode::Tls => "tls",
            })
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawn python3: {e}"))?;
        let mut line = String::new();
        let read = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
        match line.trim().parse() {
            Ok(port) => Ok(TlsSink {
                child,
                port,
                ca: dir.path().join("ca.pem"),
                out,
                _dir: dir,
            }),
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                Err(format!(
                    "printed no port ({line:?}, read {read:?}, exit {status:?}); stderr:\n{err}"
                ))
            }
        }
    }

    /// Every message received so far: (how its session was protected, message text), in order.
    pub fn messages(&self) -> Vec<(String, String)> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).unwrap();
                let (first, rest) = text.split_once("\r\n").unwrap();
                let how = first.strip_prefix("X-Test-TLS: ").unwrap().to_string();
                (how, rest.to_string())
            })
            .collect()
    }
}

impl Drop for TlsSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
