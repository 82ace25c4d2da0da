//! No silent wrong answer (issue 18): a damaged index, a bad option, a pipe, a hostile archive,
//! an exposed key or a failing disk each stop the command with a clear message and the
//! documented exit code — never a confident wrong result.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A synthetic data set and a workspace with the registry and one delivery enrolled.
struct Bench {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    home: PathBuf,
    key: PathBuf,
}

fn leaktrace(home: &Path, key: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leaktrace"))
        .args(["--color", "never", "--quiet", "--home"])
        .arg(home)
        .arg("--key-file")
        .arg(key)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Exit code and stderr of a command expected to fail.
fn fails(out: &Output) -> (i32, String) {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "succeeded: {err}");
    (out.status.code().unwrap_or(-1), err)
}

fn bench(persons: &str) -> Bench {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let home = tmp.path().join("ws");
    let key = tmp.path().join("ws.key");
    let d = data.to_str().unwrap();
    ok(&leaktrace(
        &home,
        &key,
        &["synth", "--persons", persons, "--seed", "7", "--out", d],
    ));
    ok(&leaktrace(&home, &key, &["init"]));
    ok(&leaktrace(
        &home,
        &key,
        &[
            "enroll",
            "--source",
            "registry",
            "--as-of",
            "2026-10-01",
            &format!("{d}/registry.csv"),
        ],
    ));
    ok(&leaktrace(
        &home,
        &key,
        &[
            "enroll",
            "--source",
            "provider_docs",
            "--recipient",
            "Prestataire Docs",
            "--as-of",
            "2022-03-05",
            &format!("{d}/extracts/provider_docs_2022-02.csv"),
        ],
    ));
    Bench {
        _tmp: tmp,
        data,
        home,
        key,
    }
}

impl Bench {
    fn run(&self, args: &[&str]) -> Output {
        leaktrace(&self.home, &self.key, args)
    }

    fn leak(&self, name: &str) -> String {
        self.data.join("leaks").join(name).display().to_string()
    }

    /// The registry's segment directory.
    fn registry_segment(&self) -> PathBuf {
        let v: serde_json::Value =
            serde_json::from_str(&ok(&self.run(&["sources", "--json"]))).unwrap();
        let seg = v
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "registry")
            .unwrap()["snapshots"][0]["segment"]
            .as_str()
            .unwrap()
            .to_string();
        self.home.join("index").join(seg)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            fs::copy(e.path(), t).unwrap();
        }
    }
}

#[test]
fn a_damaged_segment_stops_the_analysis_naming_the_file() {
    let b = bench("1500");
    let leak = b.leak("app_reshaped.csv");
    let pristine = b._tmp.path().join("pristine");
    copy_dir(&b.home, &pristine);
    let seg = b.registry_segment();
    let files = [
        "ids.bin",
        "ids.off",
        "ids.hash",
        "present.bin",
        "fps.bin",
        "fanout.bin",
        "post.bin",
        "names.bin",
        "context.bin",
        "meta.json",
    ];
    for name in files {
        for damage in ["flip", "truncate"] {
            fs::remove_dir_all(&b.home).unwrap();
            copy_dir(&pristine, &b.home);
            let p = seg.join(name);
            let mut bytes = fs::read(&p).unwrap();
            assert!(bytes.len() > 8, "{name}");
            if damage == "flip" {
                // meta.json: a digit of a count or checksum; elsewhere the middle byte.
                let i = if name == "meta.json" {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    text.find("\"persons\": ").unwrap() + 11
                } else {
                    bytes.len() / 2
                };
                bytes[i] ^= if name == "meta.json" { 0x01 } else { 0x80 };
            } else {
                bytes.truncate(bytes.len() / 2);
            }
            fs::write(&p, &bytes).unwrap();
            let out_dir = b._tmp.path().join(format!("report-{name}-{damage}"));
            let (code, err) =
                fails(&b.run(&["analyze", "--out", out_dir.to_str().unwrap(), &leak]));
            assert_eq!(code, 1, "{name} {damage}: {err}");
            assert!(
                err.contains("registry@2026-10-01"),
                "{name} {damage}: {err}"
            );
            assert!(err.contains("sources --verify"), "{name} {damage}: {err}");
            if name != "meta.json" {
                assert!(err.contains(name), "{name} {damage}: {err}");
            }
            assert!(
                !out_dir.exists(),
                "{name} {damage}: a partial result was written"
            );
            // `sources --verify` names the same damage.
            let (code, _) = fails(&b.run(&["sources", "--verify"]));
            assert_eq!(code, 1, "{name} {damage}");
        }
    }
    // Restored, the same analysis runs.
    fs::remove_dir_all(&b.home).unwrap();
    copy_dir(&pristine, &b.home);
    let out_dir = b._tmp.path().join("report-ok");
    ok(&b.run(&["analyze", "--out", out_dir.to_str().unwrap(), &leak]));
}
