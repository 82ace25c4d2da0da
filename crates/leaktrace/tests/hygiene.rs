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

#[cfg(unix)]
fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[test]
fn key_files_others_can_read_are_refused_or_warned_about() {
    let b = bench("300");
    let key = b.key.display().to_string();
    // (mode, accepted without --allow-insecure-key)
    let table: &[(u32, bool)] = &[
        (0o600, true),
        (0o400, true),
        (0o640, false),
        (0o604, false),
        (0o644, false),
        (0o666, false),
    ];
    for &(mode, accepted) in table {
        chmod(&b.key, mode);
        let out = b.run(&["sources"]);
        if accepted {
            ok(&out);
            assert!(!String::from_utf8_lossy(&out.stderr).contains("WARNING"));
            continue;
        }
        let (code, err) = fails(&out);
        assert_eq!(code, 1, "{mode:o}: {err}");
        assert!(err.contains(&format!("mode {mode:04o}")), "{err}");
        assert!(err.contains(&format!("chmod 600 {key}")), "{err}");
        // Allowed, it works and says so loudly, even with --quiet.
        let out = b.run(&["--allow-insecure-key", "sources"]);
        ok(&out);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("WARNING") && err.contains(&format!("mode {mode:04o}")),
            "{err}"
        );
    }
    chmod(&b.key, 0o600);
    // A device is not a key, and is not read forever.
    for dev in ["/dev/zero", "/dev/urandom"] {
        let t = std::time::Instant::now();
        let out = leaktrace(
            &b.home,
            Path::new(dev),
            &["--allow-insecure-key", "sources"],
        );
        let (code, err) = fails(&out);
        assert_eq!(code, 1, "{dev}: {err}");
        assert!(err.contains("not a leaktrace key"), "{dev}: {err}");
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "{dev}");
        let (_, err) = fails(&leaktrace(&b.home, Path::new(dev), &["sources"]));
        assert!(err.contains("mode 0666"), "{dev}: {err}");
    }
    // `init` tells the mode the key really has.
    let home = b._tmp.path().join("ws2");
    let key2 = b._tmp.path().join("k2");
    let out = Command::new(env!("CARGO_BIN_EXE_leaktrace"))
        .arg("--home")
        .arg(&home)
        .arg("--key-file")
        .arg(&key2)
        .args(["init", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(v["key_mode"], "0600");
    // An existing key others can read is refused by `init` too.
    let home3 = b._tmp.path().join("ws3");
    chmod(&key2, 0o644);
    let (code, err) = fails(&leaktrace(&home3, &key2, &["init"]));
    assert_eq!(code, 1, "{err}");
    assert!(!home3.join("catalog.sqlite").exists());
}

#[test]
fn every_analysis_leaves_an_audit_line_without_values() {
    let b = bench("300");
    let out_dir = b._tmp.path().join("r");
    for _ in 0..2 {
        ok(&b.run(&[
            "analyze",
            "--out",
            out_dir.to_str().unwrap(),
            &b.leak("provider_noheader.csv"),
        ]));
    }
    let listing = Command::new(env!("CARGO_BIN_EXE_leaktrace"))
        .args(["--color", "never", "--home"])
        .arg(&b.home)
        .arg("--key-file")
        .arg(&b.key)
        .arg("sources")
        .output()
        .unwrap();
    let text = ok(&listing);
    assert!(
        text.contains("audit: 2 analyses recorded") && text.contains("provider_noheader.csv"),
        "{text}"
    );
}

#[test]
fn a_concurrent_enrolment_of_the_same_snapshot_is_refused_clearly() {
    let b = bench("300");
    let reg = b.data.join("registry.csv").display().to_string();
    let args = [
        "enroll",
        "--source",
        "crm",
        "--as-of",
        "2026-11-01",
        reg.as_str(),
    ];
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_leaktrace"))
            .args(["--quiet", "--home"])
            .arg(&b.home)
            .arg("--key-file")
            .arg(&b.key)
            .args(args)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (one, two) = (spawn(), spawn());
    let outs = [
        one.wait_with_output().unwrap(),
        two.wait_with_output().unwrap(),
    ];
    let won = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(won, 1, "exactly one enrolment wins");
    let lost = outs.iter().find(|o| !o.status.success()).unwrap();
    let (code, err) = fails(lost);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("already has a snapshot as of 2026-11-01"),
        "{err}"
    );
    assert!(!err.contains("UNIQUE"), "{err}");
}

/// A catalog that cannot be written (here: a file-size limit makes SQLite's writes fail, as
/// a full disk would) is an I/O error: exit 3, the reason given once.
#[cfg(target_os = "linux")]
#[test]
fn catalog_io_errors_exit_3_with_the_reason_once() {
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leaktrace"));
    cmd.arg("--home")
        .arg(tmp.path().join("ws"))
        .arg("--key-file")
        .arg(tmp.path().join("k"))
        .arg("init");
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: 2048,
                rlim_max: 2048,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            Ok(())
        });
    }
    let (code, err) = fails(&cmd.output().unwrap());
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("catalog"), "{err}");
    let reason = err.trim().rsplit(": ").next().unwrap().to_string();
    assert!(err.matches(reason.as_str()).count() == 1, "{err}");
}

#[test]
fn out_of_range_options_are_usage_errors_before_any_work() {
    let b = bench("300");
    let leak = b.leak("provider_noheader.csv");
    let out_dir = b._tmp.path().join("r");
    let out = out_dir.to_str().unwrap();
    let reg = b.data.join("registry.csv").display().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["analyze", "--out", out, "--threshold", "50", &leak],
        vec!["analyze", "--out", out, "--threshold", "2", &leak],
        vec!["analyze", "--out", out, "--threshold=-1", &leak],
        vec!["analyze", "--out", out, "--threshold", "NaN", &leak],
        vec!["analyze", "--out", out, "--threshold", "inf", &leak],
        vec!["analyze", "--out", out, "--threshold", "0", &leak],
        vec!["analyze", "--out", out, "--column", "col_1=nonsense", &leak],
        vec!["scan", "--sample", "0", &leak],
        vec!["scan", "--sample=-5", &leak],
        vec!["enroll", "--source", "x", "--as-of", "2026-13-45", &reg],
        vec!["synth", "--persons", "0", "--out", out],
        vec!["synth", "--typo-rate", "1.5", "--out", out],
    ];
    for args in &cases {
        let (code, err) = fails(&b.run(args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!out_dir.exists(), "{args:?}: work was done");
    }
    // Nothing was analysed or enrolled.
    let text = ok(&b.run(&["sources"]));
    assert!(!text.contains("audit:"), "{text}");
    assert!(!text.contains("\nx "), "{text}");
}

#[test]
fn a_forced_type_that_the_values_fail_is_warned_about_and_an_unknown_column_refused() {
    let b = bench("300");
    let leak = b.leak("provider_noheader.csv");
    let out_dir = b._tmp.path().join("r");
    // col_2 holds last names: forced to NIR, almost none pass.
    let out = b.run(&[
        "analyze",
        "--out",
        out_dir.to_str().unwrap(),
        "--column",
        "col_2=nir",
        &leak,
    ]);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "warning: --column col_2=nir: only 0.0% sampled values of col_2 pass the nir check"
        ),
        "{err}"
    );
    // col_4 holds NIRs: forcing what they are says nothing.
    let out = b.run(&[
        "analyze",
        "--out",
        out_dir.to_str().unwrap(),
        "--column",
        "col_4=nir",
        &leak,
    ]);
    ok(&out);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    // Enrolment warns the same way, with the count of values checked.
    let reg = b.data.join("registry.csv").display().to_string();
    let out = b.run(&[
        "enroll",
        "--source",
        "crm",
        "--as-of",
        "2026-11-01",
        "--column",
        "nom=email",
        &reg,
    ]);
    ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--column nom=email: only 0.0% of the 300 sampled values"),
        "{err}"
    );
    // An unknown column is an error naming the columns there are.
    let (code, err) = fails(&b.run(&[
        "analyze",
        "--out",
        out_dir.to_str().unwrap(),
        "--column",
        "soc_sec_id=nir",
        &leak,
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("has no column \"soc_sec_id\""), "{err}");
}

/// `scan --json` of a stream (a FIFO of the same name, and standard input) is the file's,
/// byte for byte (standard input's table is named `stdin`), for every text format and for a
/// compressed one; `analyze` and `enroll` refuse a stream clearly.
#[cfg(unix)]
#[test]
fn a_pipe_reads_like_the_file() {
    use std::io::Write;
    let b = bench("2000");
    let gz = b._tmp.path().join("app_reshaped.csv.gz");
    let mut enc = flate2_writer(&gz);
    enc.write_all(&fs::read(b.leak("app_reshaped.csv")).unwrap())
        .unwrap();
    enc.finish().unwrap();
    let fifo_dir = b._tmp.path().join("fifo");
    fs::create_dir(&fifo_dir).unwrap();
    let files = [
        PathBuf::from(b.leak("provider_noheader.csv")),
        PathBuf::from(b.leak("app_reshaped.csv")),
        PathBuf::from(b.leak("app_dump.json")),
        PathBuf::from(b.leak("website_dump.sql")),
        PathBuf::from(b.leak("partial.tsv")),
        gz,
    ];
    for f in &files {
        let want = ok(&b.run(&["scan", "--json", f.to_str().unwrap()]));
        // A FIFO with the same file name.
        let fifo = fifo_dir.join(f.file_name().unwrap());
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let (src, dst) = (f.clone(), fifo.clone());
        let writer = std::thread::spawn(move || {
            let data = fs::read(src).unwrap();
            fs::OpenOptions::new()
                .write(true)
                .open(dst)
                .unwrap()
                .write_all(&data)
                .unwrap();
        });
        let got = ok(&b.run(&["scan", "--json", fifo.to_str().unwrap()]));
        writer.join().unwrap();
        assert_eq!(got, want, "{}", f.display());
        fs::remove_file(&fifo).unwrap();
        // Standard input.
        let mut child = Command::new(env!("CARGO_BIN_EXE_leaktrace"))
            .args(["scan", "--json", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let data = fs::read(f).unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || stdin.write_all(&data).unwrap());
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        let stem = f.file_stem().unwrap().to_str().unwrap().to_string();
        // The one table of a text file is named after the file: `stdin` here.
        let want_stdin = want.replacen(&format!("\"name\": \"{stem}\""), "\"name\": \"stdin\"", 1);
        assert_eq!(ok(&out), want_stdin, "stdin {}", f.display());
    }
    // analyze and enroll need a file: a clear refusal before any work.
    for args in [
        vec!["analyze", "-"],
        vec!["enroll", "--source", "s", "-"],
        vec!["analyze", "/dev/stdin"],
    ] {
        let (code, err) = fails(&b.run(&args));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains("needs a regular file"), "{err}");
    }
}

fn flate2_writer(p: &Path) -> GzFile {
    GzFile::new(fs::File::create(p).unwrap(), Default::default())
}

type GzFile = flate2::write::GzEncoder<fs::File>;
