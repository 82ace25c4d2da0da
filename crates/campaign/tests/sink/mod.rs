//! The tests' SMTP server: `smtp_sink.py` (Debian's python3-aiosmtpd) on a loopback port,
//! writing each accepted message to a directory. Shared by crates/campaign and
//! crates/leaktrace tests (`#[path]`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running sink; killed when dropped.
pub struct Sink {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

/// A Python that has aiosmtpd: Debian's first (`python3-aiosmtpd`), then the one on PATH.
fn python() -> Option<PathBuf> {
    ["/usr/bin/python3", "python3"].iter().find_map(|p| {
        Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()
            .filter(|s| s.success())
            .map(|_| PathBuf::from(p))
    })
}

impl Sink {
    /// Start the sink, or `None` (with a message) when python3-aiosmtpd is missing outside CI;
    /// under CI (`CI=true`) a missing package fails the test.
    pub fn start() -> Option<Sink> {
        let Some(py) = python() else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("python3-aiosmtpd is missing (CI installs it: .ci/run, system packages)");
            }
            eprintln!(
                "SKIPPED: python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)"
            );
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../campaign/tests/smtp_sink.py");
        let mut child = Command::new(py)
            .arg(&script)
            .arg(dir.path())
            // ACK at once: see smtp_sink.py (lettre's Nagle stall, 40 ms per message).
            .arg("--quickack")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start smtp_sink.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("smtp_sink.py printed no port: {line:?}")
        });
        Some(Sink { child, port, dir })
    }

    /// Every message received so far: (envelope recipient, message text), in order.
    pub fn messages(&self) -> Vec<(String, String)> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
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
                let to = first.strip_prefix("X-Envelope-To: ").unwrap().to_string();
                (to, rest.to_string())
            })
            .collect()
    }

    /// How many messages have arrived (cheap: a directory listing).
    pub fn count(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .count()
    }

    /// Messages per envelope recipient.
    pub fn per_recipient(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for (to, _) in self.messages() {
            *m.entry(to).or_insert(0) += 1;
        }
        m
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of a message's body, quoted-printable or base64 transfer encoding undone, with
/// `\n` line ends.
pub fn body_text(message: &str) -> String {
    decoded_body(message).replace("\r\n", "\n")
}

fn decoded_body(message: &str) -> String {
    let (head, body) = message.split_once("\r\n\r\n").unwrap_or((message, ""));
    let head_l = head.to_ascii_lowercase();
    if head_l.contains("content-transfer-encoding: base64") {
        let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        String::from_utf8(decode_base64(&clean)).unwrap()
    } else if head_l.contains("content-transfer-encoding: quoted-printable") {
        decode_qp(body)
    } else {
        body.to_string()
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let b: Vec<u8> = s.bytes().filter(|c| *c != b'=').collect();
    let mut out = Vec::new();
    for chunk in b.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(val(*c)) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(h, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
