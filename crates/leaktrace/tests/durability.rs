//! An enrolment killed with SIGKILL at any point leaves the previous state intact and usable.

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

fn snapshots(home: &Path, key: &Path) -> usize {
    let out = leaktrace(home, key)
        .args(["sources", "--json", "--verify"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["snapshots"].as_array().unwrap().len())
        .sum()
}

#[test]
fn sigkill_during_enrolment_keeps_the_previous_state() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let home = tmp.path().join("ws");
    let key = tmp.path().join("ws.key");
    let st = Command::new(env!("CARGO_BIN_EXE_leaktrace"))
        .args(["synth", "--quiet", "--persons", "40000", "--out"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(st.success());
    assert!(leaktrace(&home, &key)
        .arg("init")
        .status()
        .unwrap()
        .success());
    let reg = data.join("registry.csv");
    let ok = leaktrace(&home, &key)
        .args(["enroll", "--source", "registry", "--as-of", "2025-01-01"])
        .arg(&reg)
        .status()
        .unwrap();
    assert!(ok.success());
    let mut expected = 1;
    assert_eq!(snapshots(&home, &key), expected);
    // Kill enrolments at increasing delays: during reading, fingerprinting, sorting, publishing.
    for (i, ms) in [5u64, 40, 120, 250, 400, 600, 900, 1400, 2200]
        .into_iter()
        .enumerate()
    {
        let mut child = leaktrace(&home, &key)
            .args(["enroll", "--source", "registry", "--as-of"])
            .arg(format!("2026-01-{:02}", i + 1))
            .arg(&reg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let finished = child.try_wait().unwrap().is_some_and(|s| s.success());
        child.kill().ok(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let now = snapshots(&home, &key);
        if finished || status.success() {
            expected += 1;
        }
        // Either the kill came before the catalog commit (nothing changed) or after it.
        assert!(
            now == expected || now == expected + 1,
            "after {ms} ms: {now} snapshots, expected {expected}"
        );
        expected = now;
    }
    // The workspace stays usable: a new enrolment succeeds and cleans up what the kills left.
    let ok = leaktrace(&home, &key)
        .args(["enroll", "--source", "registry", "--as-of", "2026-06-01"])
        .arg(&reg)
        .status()
        .unwrap();
    assert!(ok.success());
    assert_eq!(snapshots(&home, &key), expected + 1);
    let leftovers: Vec<String> = std::fs::read_dir(home.join("index"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn enrol_errors_name_the_file_and_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("ws");
    let key = tmp.path().join("ws.key");
    assert!(leaktrace(&home, &key)
        .arg("init")
        .status()
        .unwrap()
        .success());
    let f = tmp.path().join("dup.csv");
    std::fs::write(&f, "id,nom\nA1,MARTIN\nA1,DURAND\n").unwrap();
    let out = leaktrace(&home, &key)
        .args(["enroll", "--source", "x", "--id-column", "id"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dup.csv") && err.contains("duplicate person id in records 0 and 1"),
        "{err}"
    );
    // A second init refuses to touch the key.
    let out = leaktrace(&home, &key).arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Wrong key.
    let other = tmp.path().join("other.key");
    let out = Command::new(env!("CARGO_BIN_EXE_leaktrace"))
        .arg("--home")
        .arg(tmp.path().join("ws2"))
        .arg("--key-file")
        .arg(&other)
        .arg("init")
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = leaktrace(&home, &other).arg("sources").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong key"));
}
