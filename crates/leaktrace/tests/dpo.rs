//! The DPO's first-day path: incident file, configuration, completions and manual, removing a
//! snapshot, and `analyze --json` against its JSON Schema (docs/analysis.schema.json).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_leaktrace");

/// A command with a clean environment for leaktrace (no user configuration is read).
fn lt(home: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("LEAKTRACE_KEY_FILE")
        .env_remove("LEAKTRACE_CONFIG")
        .env("XDG_CONFIG_HOME", home.join("xdg"))
        .env("LEAKTRACE_HOME", home.join("ws"))
        .env("LEAKTRACE_KEY_FILE", home.join("k.key"));
    c
}

/// Run with a hang guard: a command still running after `limit` is killed and fails the test.
/// Its output is drained while it runs (a completion script outgrows a pipe's buffer).
fn run(mut c: Command, limit: Duration) -> (Output, Duration) {
    use std::io::Read as _;
    let start = Instant::now();
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out_t = drain(Box::new(child.stdout.take().unwrap()));
    let err_t = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{c:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    };
    (out, start.elapsed())
}

fn ok(c: Command) -> String {
    let (out, _) = run(c, Duration::from_secs(300));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_and_manual_cover_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_leaktrace()"),
        ("zsh", "#compdef leaktrace"),
        ("fish", "complete -c leaktrace"),
    ] {
        let mut c = lt(tmp.path());
        c.args(["completions", shell]);
        let s = ok(c);
        assert!(s.contains(marker), "{shell}");
        for cmd in [
            "scan", "enroll", "analyze", "sources", "incident", "config", "remove",
        ] {
            assert!(s.contains(cmd), "{shell} completion lacks {cmd}");
        }
    }
    let mut c = lt(tmp.path());
    c.arg("man");
    let man = ok(c);
    assert!(
        man.starts_with(".ie") || man.contains(".TH leaktrace 1"),
        "{man}"
    );
    assert!(man.contains(".TH leaktrace 1") && man.contains("analyze"));
    let mut c = lt(tmp.path());
    c.args(["man", "--out"]).arg(tmp.path().join("man"));
    ok(c);
    let page = std::fs::read_to_string(tmp.path().join("man/leaktrace-analyze.1")).unwrap();
    assert!(
        page.contains("discovered\\-at"),
        "per-command page with its options"
    );
}

/// A FIFO nobody writes to: opening it to read would block, so a command that must fail
/// before reading its input hangs (and the guard fails the test) if it ever opens it.
#[cfg(unix)]
fn fifo(dir: &Path) -> PathBuf {
    let p = dir.join("leak.csv");
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    p
}

#[cfg(unix)]
#[test]
fn bad_incident_and_timestamps_fail_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let leak = fifo(tmp.path());
    // The example parses as it is.
    let mut c = lt(tmp.path());
    c.args(["incident", "init"]);
    let example = ok(c);
    let good = tmp.path().join("incident.toml");
    std::fs::write(&good, &example).unwrap();
    let mut c = lt(tmp.path());
    c.args(["incident", "check"]).arg(&good);
    assert!(ok(c).contains("notify the CNIL by 2026-11-23 09:30+01:00"));
    // Each invalid file: exit 1, the key named, before the leak (a FIFO) is opened.
    for (text, key) in [
        ("[severity]\ndpc = 9\n", "severity.dpc = 9"),
        ("organisaton = \"x\"\n", "organisaton"),
        (
            "discovered_at = \"2026-11-20T09:30+garbage\"\n",
            "discovered_at",
        ),
    ] {
        let bad = tmp.path().join("bad.toml");
        std::fs::write(&bad, text).unwrap();
        let mut c = lt(tmp.path());
        c.arg("analyze").arg(&leak).arg("--incident").arg(&bad);
        let (out, took) = run(c, Duration::from_secs(30));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(key) && err.contains("bad.toml"), "{err}");
        assert!(took < Duration::from_secs(30));
    }
    // A bad offset is a usage error (exit 2), also before any work.
    let mut c = lt(tmp.path());
    c.arg("analyze")
        .arg(&leak)
        .args(["--discovered-at", "2026-11-20T09:30+garbage"]);
    let (out, _) = run(c, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("+garbage") && err.contains("YYYY-MM-DDTHH:MM"),
        "{err}"
    );
}

#[test]
fn config_file_defaults_flags_and_env_override_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("leaktrace.toml");
    std::fs::write(
        &cfg,
        "home = \"/srv/from-config\"\ncolor = \"never\"\n[analyze]\nthreshold = 0.7\n[scan]\nsample = 500\n",
    )
    .unwrap();
    let show = |args: &[&str], env_home: bool| {
        let mut c = lt(tmp.path());
        c.env("LEAKTRACE_CONFIG", &cfg);
        if !env_home {
            c.env_remove("LEAKTRACE_HOME");
        }
        c.args(args).arg("config");
        ok(c)
    };
    let line = |s: &str, key: &str| -> String {
        s.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("{key} missing in\n{s}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let s = show(&[], false);
    assert!(s.contains(&format!("config file: {}", cfg.display())));
    assert_eq!(line(&s, "home"), "home = /srv/from-config (config)");
    assert_eq!(line(&s, "color"), "color = never (config)");
    assert_eq!(
        line(&s, "analyze.threshold"),
        "analyze.threshold = 0.7 (config)"
    );
    assert_eq!(line(&s, "scan.sample"), "scan.sample = 500 (config)");
    assert_eq!(line(&s, "synth.seed"), "synth.seed = 42 (default)");
    // The environment beats the file, a flag beats both.
    let s = show(&[], true);
    assert!(line(&s, "home").ends_with("(env LEAKTRACE_HOME)"), "{s}");
    let s = show(&["--home", "/flag"], true);
    assert_eq!(line(&s, "home"), "home = /flag (flag)");
    // The file's defaults really apply: `color = "always"` from the file; a flag wins.
    let csv = tmp.path().join("t.csv");
    std::fs::write(&csv, "nom,prenom\nDUPONT,Jean\nMARTIN,Ana\n").unwrap();
    std::fs::write(&cfg, "color = \"always\"\n").unwrap();
    let scan = |flag: &[&str]| {
        let mut c = lt(tmp.path());
        c.env("LEAKTRACE_CONFIG", &cfg)
            .args(flag)
            .arg("scan")
            .arg(&csv);
        ok(c)
    };
    assert!(scan(&[]).contains("\x1b[1mformat:"), "colour from the file");
    assert!(
        !scan(&["--color", "never"]).contains('\x1b'),
        "the flag wins"
    );
    // An unknown key is a usage error naming it, before any work.
    std::fs::write(&cfg, "[analyze]\nthreshhold = 0.7\n").unwrap();
    let mut c = lt(tmp.path());
    c.env("LEAKTRACE_CONFIG", &cfg).arg("config");
    let (out, _) = run(c, Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("analyze.threshhold: no such option"), "{err}");
    std::fs::write(&cfg, "[enroll]\nsource = \"x\"\n").unwrap();
    let mut c = lt(tmp.path());
    c.env("LEAKTRACE_CONFIG", &cfg).arg("config");
    let (out, _) = run(c, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("enroll.source: required"));
}

/// Synthetic data and a workspace with the registry and the website deliveries enrolled
/// (`extra`: also the 2025 snapshot), all under the same key.
fn workspace(dir: &Path, data: &Path, key: &Path, extra: bool) -> PathBuf {
    let ws = dir.to_path_buf();
    let cmd = |args: &[&str]| {
        let mut c = lt(dir);
        c.env("LEAKTRACE_HOME", &ws)
            .env("LEAKTRACE_KEY_FILE", key)
            .arg("--quiet")
            .args(args);
        c
    };
    ok(cmd(&["init"]));
    let mut enrol = vec![
        ("registry", "2026-10-01", data.join("registry.csv")),
        (
            "website",
            "2024-03-01",
            data.join("extracts/website_accounts_2024-03-01.tsv"),
        ),
    ];
    if extra {
        enrol.push((
            "website",
            "2025-09-01",
            data.join("extracts/website_accounts_2025-09-01.tsv"),
        ));
    }
    for (source, as_of, file) in enrol {
        let mut c = cmd(&["enroll", "--source", source, "--as-of", as_of]);
        c.arg(file);
        ok(c);
    }
    ws
}

fn analyze_json(ws: &Path, key: &Path, leak: &Path, out: &Path) -> Value {
    let mut c = lt(ws);
    c.env("LEAKTRACE_HOME", ws)
        .env("LEAKTRACE_KEY_FILE", key)
        .arg("analyze")
        .arg(leak)
        .arg("--out")
        .arg(out)
        .args(["--json", "--discovered-at", "2026-11-20T09:30+01:00"]);
    let (out, _) = run(c, Duration::from_secs(300));
    assert!(out.status.success());
    // Progress is drawn only on a terminal: piped, stderr stays empty.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn removing_a_snapshot_is_as_if_it_never_was() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut c = lt(tmp.path());
    c.args([
        "--quiet",
        "synth",
        "--persons",
        "2000",
        "--seed",
        "7",
        "--out",
    ])
    .arg(&data);
    ok(c);
    // The key is created by the first init and shared by the second workspace.
    let key = tmp.path().join("shared.key");
    let with = workspace(&tmp.path().join("with"), &data, &key, true);
    let without = workspace(&tmp.path().join("without"), &data, &key, false);
    let env = |c: &mut Command, ws: &Path| {
        c.env("LEAKTRACE_HOME", ws).env("LEAKTRACE_KEY_FILE", &key);
    };
    // Refused while a reader holds the shared lock (what `analyze` does while it runs).
    let readers = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(with.join("index/.readers"))
        .unwrap();
    readers.lock_shared().unwrap();
    let mut c = lt(tmp.path());
    env(&mut c, &with);
    c.args(["sources", "remove", "website@2025-09-01"]);
    let (out, _) = run(c, Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is reading the index"), "{err}");
    drop(readers);
    let segments = |ws: &Path| {
        std::fs::read_dir(ws.join("index"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("seg-"))
            .count()
    };
    assert_eq!(segments(&with), 3, "nothing removed while refused");
    // Unknown snapshot: an error listing what exists.
    let mut c = lt(tmp.path());
    env(&mut c, &with);
    c.args(["sources", "remove", "website@2023-01-01"]);
    let (out, _) = run(c, Duration::from_secs(60));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2024-03-01, 2025-09-01"));
    // Remove, then the workspace verifies clean and holds what the other one does.
    let mut c = lt(tmp.path());
    env(&mut c, &with);
    c.args(["sources", "remove", "website@2025-09-01", "--json"]);
    let removed: Value = serde_json::from_str(&ok(c)).unwrap();
    assert_eq!(
        removed["removed"],
        serde_json::json!(["website@2025-09-01"])
    );
    assert!(removed["bytes_freed"].as_u64().unwrap() > 0);
    assert_eq!(segments(&with), 2, "the segment was garbage-collected");
    let mut c = lt(tmp.path());
    env(&mut c, &with);
    c.args(["sources", "--verify"]);
    assert!(ok(c).contains("all segments verified"));
    // The same analysis as in a workspace that never had the snapshot.
    let leak = data.join("leaks/website_dump.sql");
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    let a = strip(analyze_json(&with, &key, &leak, &tmp.path().join("r1")));
    let full = analyze_json(&without, &key, &leak, &tmp.path().join("r2"));
    let b = strip(full.clone());
    assert_eq!(a["index"]["snapshots"].as_array().unwrap().len(), 2);
    assert_eq!(a, b);
    // Removing the whole source removes its last snapshot and the source.
    let mut c = lt(tmp.path());
    env(&mut c, &with);
    c.args(["sources", "remove", "website"]);
    ok(c);
    let mut c = lt(tmp.path());
    env(&mut c, &with);
    c.args(["sources", "--json"]);
    let sources: Value = serde_json::from_str(&ok(c)).unwrap();
    let names: Vec<&str> = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["registry"]);

    // analyze --json: analysis.json plus the decisions, valid against the checked-in schema.
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/analysis.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let errors = validate(&schema, &schema, &full, "$");
    assert!(errors.is_empty(), "{errors:#?}");
    let d = &full["decisions"];
    assert_eq!(d["cnil_deadline"]["deadline"], "2026-11-23 09:30+01:00");
    assert_eq!(d["art34_required"], d["severity"]["art34"]);
    assert!(d["severity"]["score"].as_f64().unwrap() > 0.0);
    // The validator can fail: a wrong type, a value out of its enum, a bad pattern, a missing key.
    let mut broken = full.clone();
    broken["decisions"]["art34_required"] = Value::from("yes");
    broken["verdict"]["status"] = Value::from("maybe");
    broken["decisions"]["cnil_deadline"]["deadline"] = Value::from("in three days");
    broken.as_object_mut().unwrap().remove("linkage");
    let errors = validate(&schema, &schema, &broken, "$");
    assert_eq!(errors.len(), 4, "{errors:#?}");
}

/// A small JSON Schema validator for the keywords docs/analysis.schema.json uses: `type`
/// (one or several), `const`, `enum`, `required`, `properties`, `additionalProperties`
/// (boolean or schema), `items`, `oneOf`, `minimum`, `maximum`, `pattern` (anchors, classes,
/// `{n}`, `?`, groups with `|` as the schema spells them) and local `$ref`.
fn validate(root: &Value, s: &Value, v: &Value, at: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        return validate(root, &root["$defs"][name], v, at);
    }
    if let Some(alts) = s.get("oneOf").and_then(Value::as_array) {
        let n = alts
            .iter()
            .filter(|a| validate(root, a, v, at).is_empty())
            .count();
        if n != 1 {
            errs.push(format!("{at}: matches {n} of the oneOf alternatives"));
        }
        return errs;
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            t => vec![t.as_str().unwrap()],
        };
        let is = |t: &str| match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "number" => v.is_number(),
            "integer" => v.is_u64() || v.is_i64(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            other => panic!("type {other} not supported"),
        };
        if !types.iter().any(|t| is(t)) {
            errs.push(format!("{at}: {v} is not of type {types:?}"));
            return errs;
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            errs.push(format!("{at}: {v} is not {c}"));
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errs.push(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let Some(x) = v.as_f64() {
        if s.get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| x < m)
            || s.get("maximum")
                .and_then(Value::as_f64)
                .is_some_and(|m| x > m)
        {
            errs.push(format!("{at}: {x} out of range"));
        }
    }
    if let (Some(p), Some(text)) = (s.get("pattern").and_then(Value::as_str), v.as_str()) {
        if !matches_pattern(p, text) {
            errs.push(format!("{at}: {text:?} does not match {p}"));
        }
    }
    if let Some(o) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        for k in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !o.contains_key(k.as_str().unwrap()) {
                errs.push(format!("{at}: missing {k}"));
            }
        }
        for (k, x) in o {
            let path = format!("{at}.{k}");
            match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                (Some(ps), _) => errs.extend(validate(root, ps, x, &path)),
                (None, Some(Value::Bool(false))) => errs.push(format!("{path}: not allowed")),
                (None, Some(extra @ Value::Object(_))) => {
                    errs.extend(validate(root, extra, x, &path))
                }
                _ => {}
            }
        }
    }
    if let (Some(items), Some(a)) = (s.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            errs.extend(validate(root, items, x, &format!("{at}[{i}]")));
        }
    }
    errs
}

/// The regular expressions of the schema (`^`, `$`, classes, `?`, `*`, `{n}`, `(x|y)`).
fn matches_pattern(p: &str, text: &str) -> bool {
    regex_lite(p, text)
}

/// Backtracking match of a pattern with ^/$ anchors, classes, `?`, `{n}` and `(x|y)` groups.
fn regex_lite(p: &str, t: &str) -> bool {
    let p: Vec<char> = p.chars().collect();
    let t: Vec<char> = t.chars().collect();
    let anchored = p.first() == Some(&'^');
    let body = if anchored { &p[1..] } else { &p[..] };
    (0..=t.len())
        .take(if anchored { 1 } else { t.len() + 1 })
        .any(|i| m(body, &t[i..]))
}

/// One element and the rest of the pattern.
fn element(p: &[char]) -> (Vec<Vec<char>>, bool, &[char]) {
    // Returns the element as alternatives (each a sub-pattern), and whether it is a class.
    match p[0] {
        '(' => {
            let mut depth = 0;
            let mut end = 0;
            for (i, &c) in p.iter().enumerate() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let inner: String = p[1..end].iter().collect();
            let alts = inner.split('|').map(|a| a.chars().collect()).collect();
            (alts, false, &p[end + 1..])
        }
        '[' => {
            let end = p.iter().position(|&c| c == ']').unwrap();
            (vec![p[..=end].to_vec()], true, &p[end + 1..])
        }
        '\\' => (vec![p[..2].to_vec()], true, &p[2..]),
        _ => (vec![p[..1].to_vec()], true, &p[1..]),
    }
}

fn one(class: &[char], c: char) -> bool {
    match class[0] {
        '[' => {
            let inner = &class[1..class.len() - 1];
            let mut i = 0;
            while i < inner.len() {
                if i + 2 < inner.len() && inner[i + 1] == '-' {
                    if (inner[i]..=inner[i + 2]).contains(&c) {
                        return true;
                    }
                    i += 3;
                } else {
                    if inner[i] == c {
                        return true;
                    }
                    i += 1;
                }
            }
            false
        }
        '\\' => class[1] == c,
        '.' => true,
        x => x == c,
    }
}

fn m(p: &[char], t: &[char]) -> bool {
    if p.is_empty() {
        return true;
    }
    if p == ['$'] {
        return t.is_empty();
    }
    let (alts, is_class, mut rest) = element(p);
    let (mut lo, mut hi) = (1usize, 1usize);
    if rest.first() == Some(&'?') {
        (lo, hi, rest) = (0, 1, &rest[1..]);
    } else if rest.first() == Some(&'*') {
        (lo, hi, rest) = (0, t.len(), &rest[1..]);
    } else if rest.first() == Some(&'{') {
        let end = rest.iter().position(|&c| c == '}').unwrap();
        let n: usize = rest[1..end].iter().collect::<String>().parse().unwrap();
        (lo, hi, rest) = (n, n, &rest[end + 1..]);
    }
    // Expand repetition into a sequence and try each count.
    (lo..=hi).rev().any(|n| rep(&alts, is_class, n, t, rest))
}

fn rep(alts: &[Vec<char>], is_class: bool, n: usize, t: &[char], rest: &[char]) -> bool {
    if n == 0 {
        return m(rest, t);
    }
    if is_class {
        return !t.is_empty() && one(&alts[0], t[0]) && rep(alts, is_class, n - 1, &t[1..], rest);
    }
    // A group: each alternative followed by the remaining repetitions and the rest.
    (0..=t.len()).any(|k| {
        alts.iter().any(|a| m_exact(a, &t[..k])) && rep(alts, is_class, n - 1, &t[k..], rest)
    })
}

/// Whether the sub-pattern `p` matches all of `t`.
fn m_exact(p: &[char], t: &[char]) -> bool {
    let mut anchored: Vec<char> = p.to_vec();
    anchored.push('$');
    m(&anchored, t)
}
