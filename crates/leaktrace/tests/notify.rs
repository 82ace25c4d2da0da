//! `leaktrace notify` end to end: 10,000 notices to a real SMTP server on loopback
//! (python3-aiosmtpd), the process killed mid-run and resumed — every person mailed exactly
//! once, each notice naming that person's categories, no address anywhere in the catalog —, the
//! dry run's counts, and a bad contacts line named.

#[path = "../../campaign/tests/sink/mod.rs"]
mod sink;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Persons affected; the last `NO_CONTACT` of them have no address in the contacts file.
const PERSONS: usize = 10_050;
const NO_CONTACT: usize = 50;
/// The run is killed once the server holds this many messages.
const KILL_AFTER: usize = 3_000;
const DOMAIN: &str = "notify-test.example.fr";

/// The categories of person `i` (as affected_persons.csv writes them) and their French labels
/// as the notice lists them.
fn categories(i: usize) -> (&'static str, &'static str) {
    match i % 4 {
        0 => ("email", "adresse électronique"),
        1 => (
            "email;nir",
            "adresse électronique, numéro de sécurité sociale (NIR)",
        ),
        2 => ("phone;birth_date", "numéro de téléphone, date de naissance"),
        _ => (
            "last_name;first_name;email",
            "nom, prénom, adresse électronique",
        ),
    }
}

fn id(i: usize) -> String {
    format!("P{i:06}")
}

fn address(i: usize) -> String {
    format!("person{i:06}@{DOMAIN}")
}

fn leaktrace(home: &Path, key: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leaktrace"));
    c.arg("--home").arg(home).arg("--key-file").arg(key);
    c
}

fn run(c: &mut Command) -> Output {
    c.stdin(Stdio::null()).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn ten_thousand_notices_killed_and_resumed_reach_everyone_exactly_once() {
    let Some(sink) = sink::Sink::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (home, key) = (dir.path().join("ws"), dir.path().join("k.key"));
    let o = run(leaktrace(&home, &key).arg("init"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let report = dir.path().join("report");
    std::fs::create_dir_all(&report).unwrap();
    let mut affected = String::from("person_id,categories\n");
    let mut contacts = String::from("id,email\n");
    for i in 0..PERSONS {
        affected.push_str(&format!("{},{}\n", id(i), categories(i).0));
        if i < PERSONS - NO_CONTACT {
            contacts.push_str(&format!("{},{}\n", id(i), address(i)));
        }
    }
    std::fs::write(report.join("affected_persons.csv"), affected).unwrap();
    let incident = dir.path().join("incident.toml");
    std::fs::write(
        &incident,
        "organisation = \"Agence Démo\"\ncontact = \"dpo@agence.example.org\"\n",
    )
    .unwrap();
    let contacts_path = dir.path().join("contacts.csv");
    std::fs::write(&contacts_path, contacts).unwrap();
    let notify_with = |contacts: &Path| {
        let mut c = leaktrace(&home, &key);
        c.arg("notify")
            .arg("--report")
            .arg(&report)
            .arg("--incident-file")
            .arg(&incident)
            .arg("--contacts")
            .arg(contacts)
            .args(["--from", "dpo@agence.example.org", "--rate", "0"])
            .args(["--smtp-host", "127.0.0.1", "--smtp-security", "plain"])
            .args(["--smtp-port", &sink.port.to_string()]);
        c
    };
    let notify = || notify_with(&contacts_path);

    // Dry run: the counts, nothing sent.
    let o = run(notify().arg("--dry-run"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    for line in [
        "persons affected: 10050",
        "with a contact: 10000",
        "without a contact: 50",
        "already sent: 0",
        "to send now: 10000",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    assert_eq!(sink.count(), 0);

    // A bad contacts line: named, exit 1, nothing sent, the address not shown in clear.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "id,email\nP000001,a@x.fr\nP000002,b@x.fr\nP000003,secret.name@@x.fr\n",
    )
    .unwrap();
    let o = run(&mut notify_with(&bad));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("bad.csv: line 4: not an e-mail address"),
        "{err}"
    );
    assert!(!err.contains("secret.name"), "{err}");

    // A rate that is not one: a usage error before any work.
    let o = run(leaktrace(&home, &key)
        .args(["notify", "--dry-run", "--rate=-1", "--report"])
        .arg(&report)
        .arg("--incident-file")
        .arg(&incident)
        .arg("--contacts")
        .arg(&contacts_path));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));

    // The real run, killed mid-way.
    let mut child = notify()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while sink.count() < KILL_AFTER {
        if let Some(s) = child.try_wait().unwrap() {
            panic!("notify ended before it was killed: {s}");
        }
        assert!(t0.elapsed() < Duration::from_secs(600), "too slow");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = sink.count();
    assert!(at_kill < PERSONS - NO_CONTACT, "killed mid-run: {at_kill}");

    // Resumed: no one twice, the rest sent; a person caught mid-transaction is reported.
    let o = run(&mut notify());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    let uncertain: Vec<String> = err
        .lines()
        .find_map(|l| l.split_once("interrupted run (the server may have accepted their notice): "))
        .map(|(_, rest)| {
            rest.split(';')
                .next()
                .unwrap()
                .split(", ")
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    assert!(uncertain.len() <= 1, "one message in flight at most: {err}");
    assert!(
        out.contains(&format!("uncertain (left `sending`): {}", uncertain.len())),
        "{out}"
    );
    let per = sink.per_recipient();
    let idx = |a: &str| {
        a.strip_prefix("person")
            .and_then(|s| s.strip_suffix(&format!("@{DOMAIN}")))
            .unwrap()
            .parse::<usize>()
            .unwrap()
    };
    let uncertain_missing: Vec<&String> = uncertain
        .iter()
        .filter(|u| !per.contains_key(&address(u[1..].parse().unwrap())))
        .collect();
    if !uncertain_missing.is_empty() {
        // Killed after `sending` and before the server's acceptance: only the operator's
        // --retry-uncertain sends it (at-most-once by default).
        let o = run(notify().arg("--retry-uncertain"));
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(text(&o.stdout).contains("sent: 1\n"), "{}", text(&o.stdout));
    }
    let per = sink.per_recipient();
    assert_eq!(
        per.len(),
        PERSONS - NO_CONTACT,
        "everyone with a contact reached"
    );
    assert!(per.values().all(|n| *n == 1), "no one mailed twice");
    for i in PERSONS - NO_CONTACT..PERSONS {
        assert!(!per.contains_key(&address(i)));
    }

    // Each notice names that person's categories, and only theirs.
    let mut seen: HashMap<usize, bool> = HashMap::new();
    for (to, m) in sink.messages() {
        let i = idx(&to);
        let body = sink::body_text(&m);
        let want = format!("Les données concernées sont : {}.\n", categories(i).1);
        assert!(body.contains(&want), "{to}: {body}");
        assert_eq!(body.contains("sécurité sociale figure"), i % 4 == 1, "{to}");
        assert!(!body.contains(&id(i)) && !body.contains(DOMAIN), "{to}");
        seen.insert(i, true);
    }
    assert_eq!(seen.len(), PERSONS - NO_CONTACT);

    // A further run sends nothing.
    let o = run(&mut notify());
    assert!(
        text(&o.stdout).contains("to send now: 0"),
        "{}",
        text(&o.stdout)
    );
    assert!(text(&o.stdout).contains("already sent: 10000") || !uncertain.is_empty());

    // No address in the catalog: not one byte sequence of the test domain.
    let mut bytes = Vec::new();
    for name in ["catalog.sqlite", "catalog.sqlite-wal"] {
        if let Ok(b) = std::fs::read(home.join(name)) {
            bytes.extend(b);
        }
    }
    let n = DOMAIN.as_bytes();
    assert!(
        !bytes.windows(n.len()).any(|w| w == n),
        "an address is in the catalog"
    );
    assert!(
        bytes.windows(7).any(|w| w == b"P000001"),
        "the log holds the ids"
    );
}
