//! The campaign against a real SMTP server on loopback (python3-aiosmtpd, `sink/`), a real
//! workspace and its real catalog.

mod sink;

use std::path::{Path, PathBuf};

use leaktrace_campaign::smtp::{SmtpConfig, TlsMode};
use leaktrace_campaign::{log, prepare, CampaignError, Counts, Options, Origin, Status};
use leaktrace_index::Workspace;
use leaktrace_report::notice::Lang;

struct Fixture {
    _dir: tempfile::TempDir,
    home: PathBuf,
    ws: Workspace,
    report: PathBuf,
    incident: PathBuf,
    contacts: PathBuf,
}

const INCIDENT: &str =
    "organisation = \"Agence Démo\"\ncontact = \"dpo@agence.example.fr, 01 23 45 67 89\"\n";

/// A workspace, an output directory with `affected` (id, categories) and a contacts file.
fn fixture(affected: &[(&str, &str)], contacts: &[(&str, &str)]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("ws");
    let (ws, _) = Workspace::init(&home, Some(&dir.path().join("k.key"))).unwrap();
    let report = dir.path().join("report");
    std::fs::create_dir_all(&report).unwrap();
    let mut csv = String::from("person_id,categories\n");
    for (id, c) in affected {
        csv.push_str(&format!("{id},{c}\n"));
    }
    std::fs::write(report.join("affected_persons.csv"), csv).unwrap();
    let incident = dir.path().join("incident.toml");
    std::fs::write(&incident, INCIDENT).unwrap();
    let contacts_path = dir.path().join("contacts.csv");
    let mut c = String::from("id,email\n");
    for (id, e) in contacts {
        c.push_str(&format!("{id},{e}\n"));
    }
    std::fs::write(&contacts_path, c).unwrap();
    Fixture {
        _dir: dir,
        home,
        ws,
        report,
        incident,
        contacts: contacts_path,
    }
}

fn options(f: &Fixture, retry: bool) -> Options {
    Options {
        origin: Origin::Report {
            dir: f.report.clone(),
            incident: f.incident.clone(),
        },
        contacts: f.contacts.clone(),
        lang: Lang::Fr,
        retry_uncertain: retry,
    }
}

fn transport(s: &sink::Sink) -> lettre::SmtpTransport {
    SmtpConfig::new("127.0.0.1", Some(s.port), TlsMode::None)
        .transport()
        .unwrap()
}

/// Every byte of the catalog (and its WAL) holds none of `needles`.
fn assert_catalog_clean(home: &Path, needles: &[&str]) {
    let mut bytes = Vec::new();
    for name in ["catalog.sqlite", "catalog.sqlite-wal"] {
        if let Ok(b) = std::fs::read(home.join(name)) {
            bytes.extend(b);
        }
    }
    assert!(!bytes.is_empty());
    for n in needles {
        assert!(
            !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
            "{n} is in the catalog"
        );
    }
}

#[test]
fn dry_run_counts_and_missing_contacts() {
    let f = fixture(
        &[
            ("P1", "email"),
            ("P2", "nir"),
            ("P3", "phone"),
            ("P4", "email"),
        ],
        &[
            ("P1", "p1@example.fr"),
            ("P3", "p3@example.fr"),
            ("X9", "x9@example.fr"),
        ],
    );
    let p = prepare(&f.home, &f.ws.fingerprinter(), &options(&f, false)).unwrap();
    assert_eq!(
        p.counts,
        Counts {
            affected: 4,
            with_contact: 2,
            without_contact: 2,
            to_send: 2,
            ..Counts::default()
        }
    );
}

#[test]
fn each_notice_names_its_own_categories_and_the_log_holds_no_address() {
    let Some(s) = sink::Sink::start() else { return };
    let affected = [
        ("P1", "email;nir"),
        ("P2", "phone"),
        ("P3", "email;birth_date"),
        ("P4", "email"),
        ("P5", "iban"),
    ];
    let contacts = [
        ("P1", "anne.martin@example.fr"),
        ("P2", "bruno.petit@example.fr"),
        ("P3", "claire.roux@example.fr"),
        ("P4", "reject.denis@example.fr"),
        ("P5", "defer.emma@example.fr"),
    ];
    let f = fixture(&affected, &contacts);
    let p = prepare(&f.home, &f.ws.fingerprinter(), &options(&f, false)).unwrap();
    let out = p
        .send(&transport(&s), "dpo@agence.example.fr", 0.0, &|_| {})
        .unwrap();
    assert_eq!((out.sent, out.rejected, out.deferred), (3, 1, 1));
    let msgs = s.messages();
    assert_eq!(msgs.len(), 3);
    let expect = [
        (
            "anne.martin@example.fr",
            "adresse électronique, numéro de sécurité sociale (NIR).",
            true,
        ),
        ("bruno.petit@example.fr", "numéro de téléphone.", false),
        (
            "claire.roux@example.fr",
            "adresse électronique, date de naissance.",
            false,
        ),
    ];
    for (to, cats, nir) in expect {
        let (_, m) = msgs.iter().find(|(t, _)| t == to).expect(to);
        let body = sink::body_text(m);
        assert!(
            body.contains(&format!("Les données concernées sont : {cats}\n")),
            "{body}"
        );
        assert_eq!(
            body.contains("numéro de sécurité sociale figure"),
            nir,
            "{body}"
        );
        assert!(
            body.contains("Agence Démo") && body.contains("01 23 45 67 89"),
            "{body}"
        );
        for (_, other) in contacts.iter().filter(|(_, a)| *a != to) {
            assert!(
                !m.contains(other),
                "another person's address in {to}'s notice"
            );
        }
        assert!(
            !body.contains("P1") && !body.contains("P2"),
            "no person id in a notice"
        );
    }
    drop(p);
    let log = log::Log::open(&f.home, &format!("report:{}", sha(&f))).unwrap();
    let st = log.statuses().unwrap();
    assert_eq!(st["P1"], Status::Sent);
    assert_eq!(st["P4"], Status::Rejected);
    assert_eq!(st["P5"], Status::Deferred);
    drop(log);
    // A second run sends only the deferred one again, which the server defers again.
    let p = prepare(&f.home, &f.ws.fingerprinter(), &options(&f, false)).unwrap();
    assert_eq!(
        (p.counts.already_sent, p.counts.rejected, p.counts.to_send),
        (3, 1, 1)
    );
    let out = p
        .send(&transport(&s), "dpo@agence.example.fr", 0.0, &|_| {})
        .unwrap();
    assert_eq!((out.sent, out.deferred), (0, 1));
    assert_eq!(s.count(), 3);
    let addresses: Vec<&str> = contacts.iter().map(|c| c.1).collect();
    assert_catalog_clean(&f.home, &addresses);
}

fn sha(f: &Fixture) -> String {
    use sha2::Digest as _;
    let b = std::fs::read(f.report.join("affected_persons.csv")).unwrap();
    sha2::Sha256::digest(&b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[test]
fn uncertain_ids_are_reported_and_retried_only_when_asked() {
    let Some(s) = sink::Sink::start() else { return };
    let f = fixture(
        &[("P1", "email"), ("P2", "email")],
        &[("P1", "p1@example.fr"), ("P2", "p2@example.fr")],
    );
    let log = log::Log::open(&f.home, &format!("report:{}", sha(&f))).unwrap();
    log.set("P1", Status::Sending, None).unwrap();
    drop(log);
    let p = prepare(&f.home, &f.ws.fingerprinter(), &options(&f, false)).unwrap();
    assert_eq!(p.uncertain_ids, vec!["P1".to_string()]);
    assert_eq!((p.counts.uncertain, p.counts.to_send), (1, 1));
    p.send(&transport(&s), "dpo@agence.example.fr", 0.0, &|_| {})
        .unwrap();
    assert_eq!(s.per_recipient().get("p1@example.fr"), None);
    drop(p);
    let p = prepare(&f.home, &f.ws.fingerprinter(), &options(&f, true)).unwrap();
    assert_eq!((p.counts.uncertain, p.counts.to_send), (1, 1));
    p.send(&transport(&s), "dpo@agence.example.fr", 0.0, &|_| {})
        .unwrap();
    let per = s.per_recipient();
    assert_eq!((per["p1@example.fr"], per["p2@example.fr"]), (1, 1));
}

#[test]
fn pseudonymous_ids_match_contacts_by_their_keyed_pseudonym() {
    let f0 = fixture(&[], &[]);
    let fpr = f0.ws.fingerprinter();
    let nir = "1 85 05 78 006 084 36";
    let email = "zoe.blanc@example.fr";
    let (pn, pe) = (fpr.pseudonym(nir), fpr.pseudonym(email));
    assert!(pn.starts_with('~') && pn.len() == 17 && pn != pe);
    std::fs::write(
        f0.report.join("affected_persons.csv"),
        format!("person_id,categories\n{pn},nir\n{pe},email\n~00000000000000ff,phone\n"),
    )
    .unwrap();
    std::fs::write(
        &f0.contacts,
        format!("id,email\n{nir},a@example.fr\n{email},{email}\n"),
    )
    .unwrap();
    let p = prepare(&f0.home, &fpr, &options(&f0, false)).unwrap();
    assert_eq!((p.counts.with_contact, p.counts.without_contact), (2, 1));
}

#[test]
fn an_incident_of_the_service_is_read_from_the_catalog() {
    let f = fixture(&[("P1", "email")], &[("P1", "p1@example.fr")]);
    let id = "00112233445566778899aabb";
    let n = add_incident(&f.home, id, None);
    let mut opts = options(&f, false);
    opts.origin = Origin::Incident(n);
    let err = |o: &Options| {
        prepare(&f.home, &f.ws.fingerprinter(), o)
            .err()
            .unwrap()
            .to_string()
    };
    assert!(
        err(&opts).contains("no complete analysis"),
        "{}",
        err(&opts)
    );
    put_report(&f.home, id, &f.report);
    assert!(
        err(&opts).contains("contact"),
        "the contact is required: {}",
        err(&opts)
    );
    // A second incident with its contact, analysed: ready, keyed by its public id.
    let id2 = "ffeeddccbbaa998877665544";
    let n2 = add_incident(&f.home, id2, Some("dpo@agence.example.fr"));
    put_report(&f.home, id2, &f.report);
    opts.origin = Origin::Incident(n2);
    let p = prepare(&f.home, &f.ws.fingerprinter(), &opts).unwrap();
    assert_eq!((p.counts.affected, p.counts.to_send), (1, 1));
    drop(p);
    opts.origin = Origin::Incident(n2 + 1);
    assert!(err(&opts).contains("no incident #"), "{}", err(&opts));
    assert!(matches!(
        prepare(&f.home, &f.ws.fingerprinter(), &opts),
        Err(CampaignError::Source(_))
    ));
}

#[test]
fn a_server_without_starttls_or_no_server_leaves_no_one_uncertain() {
    let Some(s) = sink::Sink::start() else { return };
    let f = fixture(&[("P1", "email")], &[("P1", "p1@example.fr")]);
    let p = prepare(&f.home, &f.ws.fingerprinter(), &options(&f, false)).unwrap();
    // STARTTLS is required: the loopback sink does not offer it.
    let tls = SmtpConfig::new("127.0.0.1", Some(s.port), TlsMode::StartTls)
        .transport()
        .unwrap();
    let e = p
        .send(&tls, "dpo@agence.example.fr", 0.0, &|_| {})
        .unwrap_err();
    assert!(matches!(e, CampaignError::Unreachable(_)), "{e}");
    // A closed port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = SmtpConfig::new("127.0.0.1", Some(port), TlsMode::None)
        .transport()
        .unwrap();
    let e = p
        .send(&closed, "dpo@agence.example.fr", 0.0, &|_| {})
        .unwrap_err();
    assert!(matches!(e, CampaignError::Unreachable(_)), "{e}");
    drop(p);
    assert_eq!(s.count(), 0);
    let p = prepare(&f.home, &f.ws.fingerprinter(), &options(&f, false)).unwrap();
    assert_eq!((p.counts.uncertain, p.counts.to_send), (0, 1));
}

#[test]
fn the_pseudonym_of_a_contact_id_is_the_one_enrolment_stored() {
    let mut f = fixture(&[], &[]);
    let registry = f.home.parent().unwrap().join("registry.csv");
    let mut csv = String::from("email,nom,prenom\n");
    for i in 0..40 {
        csv.push_str(&format!("personne{i}@exemple.fr,Martin{i},Anne\n"));
    }
    std::fs::write(&registry, csv).unwrap();
    let opts = leaktrace_index::EnrollOptions {
        source: "registry".into(),
        as_of: Some("2026-10-01".into()),
        id_column: Some("email".into()),
        ..Default::default()
    };
    f.ws.enroll(&registry, &opts, &|_| {}).unwrap();
    let index = f.ws.load(false).unwrap();
    let fpr = f.ws.fingerprinter();
    let (_, seg) = &index.snapshots[0];
    let stored = fpr.pseudonym("personne7@exemple.fr");
    assert!(seg.ordinal(&stored).is_some(), "enrolment stored {stored}");
    assert!(
        seg.ordinal("personne7@exemple.fr").is_none(),
        "never the address"
    );
}

/// An analysed incident of the service (organisation and contact set) whose report lists
/// `f`'s affected persons; returns its number and public id.
fn analysed_incident(f: &Fixture) -> (i64, String) {
    let id = "0a1b2c3d4e5f60718293a4b5";
    let n = add_incident(&f.home, id, Some("dpo@agence.example.fr"));
    put_report(&f.home, id, &f.report);
    (n, id.to_string())
}

/// Give the service's incident `id` under `home` the affected-persons list of the report in
/// `report` (what a complete analysis leaves).
fn put_report(home: &Path, id: &str, report: &Path) {
    let dir = home.join("server/incidents").join(id).join("report");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        report.join("affected_persons.csv"),
        dir.join("affected_persons.csv"),
    )
    .unwrap();
}

/// Add an incident of the service (organisation "Agence Démo", the given DPO contact) with
/// public id `id` to the service's store under `home`; returns its number.
fn add_incident(home: &Path, id: &str, contact: Option<&str>) -> i64 {
    let mut store = leaktrace_server::Store::open(home).unwrap();
    let fields = leaktrace_server::IncidentFields {
        title: "fuite".into(),
        organisation: Some("Agence Démo".into()),
        contact: contact.map(str::to_string),
        ..Default::default()
    };
    let row = leaktrace_server::store::IncidentRow {
        number: 0,
        id: id.into(),
        title: "fuite".into(),
        file_name: "leak.csv".into(),
        file_bytes: 10,
        sha256: "0".repeat(64),
        discovered_at: "2026-11-20T09:30+01:00".into(),
        fields: serde_json::to_string(&fields).unwrap(),
        created_by: "alice".into(),
        created_at: "2026-11-20T09:30:00Z".into(),
    };
    store.add_incident(&row).unwrap()
}

/// The incident's `persons_informed` steps and the audit objects naming it.
fn informed(f: &Fixture, n: i64) -> (usize, Vec<String>) {
    let store = leaktrace_server::Store::open(&f.home).unwrap();
    let steps = store
        .statuses(n)
        .unwrap()
        .iter()
        .filter(|s| s.status == "persons_informed")
        .count();
    let conn = rusqlite::Connection::open(f.home.join("catalog.sqlite")).unwrap();
    let audit = leaktrace_server::audit::entries(&conn, None)
        .unwrap()
        .into_iter()
        .filter(|e| e.object.contains("status:persons_informed"))
        .map(|e| format!("{} {} {}", e.user, e.action, e.object))
        .collect();
    (steps, audit)
}

#[test]
fn a_completed_campaign_records_persons_informed_once_with_counts_only() {
    let Some(s) = sink::Sink::start() else { return };
    let f = fixture(
        &[
            ("P1", "email"),
            ("P2", "phone"),
            ("P3", "email"),
            ("P4", "nir"),
        ],
        &[
            ("P1", "anne.martin@example.fr"),
            ("P2", "reject.bruno@example.fr"),
            ("P3", "claire.roux@example.fr"),
        ],
    );
    let (n, id) = analysed_incident(&f);
    let mut opts = options(&f, false);
    opts.origin = Origin::Incident(n);
    // A dry run (prepare only) records nothing.
    drop(prepare(&f.home, &f.ws.fingerprinter(), &opts).unwrap());
    assert_eq!(informed(&f, n), (0, vec![]));
    // An interrupted run (the server unreachable): nothing recorded.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = SmtpConfig::new("127.0.0.1", Some(port), TlsMode::None)
        .transport()
        .unwrap();
    let p = prepare(&f.home, &f.ws.fingerprinter(), &opts).unwrap();
    assert!(p
        .send(&closed, "dpo@agence.example.fr", 0.0, &|_| {})
        .is_err());
    drop(p);
    assert_eq!(informed(&f, n), (0, vec![]));
    // A run that stops after the first person (P1 left `sending`, as a killed run leaves it):
    // not everyone attempted, nothing recorded.
    let log = log::Log::open(&f.home, &format!("incident:{id}")).unwrap();
    log.set("P1", Status::Sending, None).unwrap();
    drop(log);
    let p = prepare(&f.home, &f.ws.fingerprinter(), &opts).unwrap();
    assert!(!p.record_informed().unwrap());
    drop(p);
    assert_eq!(informed(&f, n), (0, vec![]));
    // The resumed run completes: the step and one audit entry of counts.
    let mut retry = opts.clone();
    retry.retry_uncertain = true;
    let p = prepare(&f.home, &f.ws.fingerprinter(), &retry).unwrap();
    let out = p
        .send(&transport(&s), "dpo@agence.example.fr", 0.0, &|_| {})
        .unwrap();
    assert_eq!((out.sent, out.rejected), (2, 1));
    drop(p);
    let (steps, audit) = informed(&f, n);
    assert_eq!(steps, 1);
    assert_eq!(
        audit,
        vec![format!(
            "notify status_change incident:{id}/status:persons_informed sent:2 failed:1 uncertain:0 without_contact:1"
        )]
    );
    // Once: a further run adds neither a step nor an entry.
    let p = prepare(&f.home, &f.ws.fingerprinter(), &opts).unwrap();
    p.send(&transport(&s), "dpo@agence.example.fr", 0.0, &|_| {})
        .unwrap();
    drop(p);
    assert_eq!(informed(&f, n).0, 1);
    assert_eq!(informed(&f, n).1.len(), 1);
    for a in audit {
        assert!(!a.contains('@') && !a.contains("P1"), "{a}");
    }
}
