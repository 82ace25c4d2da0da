//! Workspace, enrolment and privacy tests on synthetic data.

use std::fs;
use std::path::{Path, PathBuf};

use leaktrace_index::{
    month_label, ContextKey, Domain, EnrollOptions, IndexError, Key, Segment, Workspace,
};
use leaktrace_synth::{generate, read_manifest, Config};

struct Setup {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    home: PathBuf,
    key: PathBuf,
}

fn setup(persons: u64) -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    generate(
        &Config {
            persons,
            seed: 7,
            ..Config::default()
        },
        &data,
    )
    .unwrap();
    let home = tmp.path().join("ws");
    let key = tmp.path().join("keys").join("ws.key");
    Workspace::init(&home, Some(&key)).unwrap();
    Setup {
        _tmp: tmp,
        data,
        home,
        key,
    }
}

fn opts(source: &str, recipient: Option<&str>, as_of: &str) -> EnrollOptions {
    EnrollOptions {
        source: source.into(),
        recipient: recipient.map(str::to_string),
        as_of: Some(as_of.into()),
        ..EnrollOptions::default()
    }
}

fn segment_dirs(home: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(home.join("index"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

#[test]
fn init_refuses_overwrite_and_wrong_keys() {
    let s = setup(200);
    // A second init in the same place is refused; the key file is never overwritten.
    let before = fs::read(&s.key).unwrap();
    assert!(Workspace::init(&s.home, Some(&s.key)).is_err());
    let other = s.home.parent().unwrap().join("other");
    let (_, kp) = Workspace::init(&other, Some(&s.key)).unwrap();
    assert_eq!(kp, s.key);
    assert_eq!(fs::read(&s.key).unwrap(), before);
    // Wrong key: refused with a clear message.
    let wrong = s.home.parent().unwrap().join("wrong.key");
    leaktrace_index::Key::generate()
        .unwrap()
        .save_new(&wrong)
        .unwrap();
    let err = Workspace::open(&s.home, Some(&wrong)).unwrap_err();
    assert!(err.to_string().contains("wrong key"), "{err}");
    assert!(Workspace::open(&s.home, Some(&s.key)).is_ok());
    // No workspace.
    let err = Workspace::open(&s.home.join("nope"), Some(&s.key)).unwrap_err();
    assert!(err.to_string().contains("no leaktrace workspace"), "{err}");
}

#[test]
fn enrol_registry_and_extracts_with_snapshots() {
    let s = setup(3000);
    let m = read_manifest(&s.data).unwrap();
    let mut ws = Workspace::open(&s.home, Some(&s.key)).unwrap();
    let r = ws
        .enroll(
            &s.data.join(&m.registry.file),
            &opts("registry", None, &m.registry.as_of),
            &|_| {},
        )
        .unwrap();
    assert_eq!(r.snapshot.persons, 3000);
    assert_eq!(r.snapshot.id_column, "person_id");
    for e in &m.extracts {
        let source = e
            .name
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
        let r = ws
            .enroll(
                &s.data.join(&e.file),
                &opts(source, Some(&e.recipient), &e.as_of),
                &|_| {},
            )
            .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        assert_eq!(r.snapshot.rows, e.rows, "{}", e.file);
        // Detected types agree with the generator's truth.
        for (c, t) in r.columns.iter().zip(&e.columns) {
            if t.ty != leaktrace_pii::ColumnType::PersonId {
                assert_eq!(c.ty, t.ty, "{} column {}", e.file, c.name);
            }
        }
    }
    let sources = ws.sources().unwrap();
    let website = sources
        .iter()
        .find(|s| s.name == "website")
        .expect("website source");
    assert_eq!(website.snapshots.len(), 2, "two deliveries, two snapshots");
    assert!(website.snapshots[0].as_of < website.snapshots[1].as_of);
    let provider = sources.iter().find(|s| s.name == "provider_docs").unwrap();
    assert_eq!(provider.snapshots[0].profile.delimiter, Some(';'));
    assert_eq!(provider.snapshots[0].profile.encoding, "windows-1252");
    // The same snapshot date again is refused, and leaves nothing behind.
    let before = segment_dirs(&s.home);
    let e = &m.extracts[0];
    let err = ws
        .enroll(
            &s.data.join(&e.file),
            &opts("provider_docs", Some(&e.recipient), &e.as_of),
            &|_| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("already has a snapshot"), "{err}");
    assert_eq!(segment_dirs(&s.home), before);

    // Every segment verifies; a registry person is found by fingerprint in the registry.
    let index = ws.load(true).unwrap();
    assert_eq!(index.snapshots.len(), 1 + m.extracts.len());
    let (_, reg) = index
        .snapshots
        .iter()
        .find(|(i, _)| i.source == "registry")
        .unwrap();
    let text = fs::read_to_string(s.data.join(&m.registry.file)).unwrap();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    let f = &index.fingerprinter;
    let nir = leaktrace_pii::nir::parse(row[5]).unwrap();
    let post = reg.postings(f.fp(Domain::Nir, nir.as_str()));
    assert_eq!(post.len(), 1);
    let ord = post.get(0).unwrap();
    assert_eq!(reg.id(ord), row[0]);
    assert_eq!(reg.ordinal(row[0]), Some(ord));
    // One id hash serves every segment of the workspace (the linker hashes each id once).
    let h = reg.id_hash(row[0]);
    for (_, seg) in &index.snapshots {
        assert_eq!(seg.id_hash(row[0]), h);
        assert_eq!(seg.ordinal_hashed(row[0], h), seg.ordinal(row[0]));
    }
    assert!(reg.present(ord) & Domain::Email.bit() != 0);
    // Term frequencies: a frequent surname has many postings, a NIR one.
    let last = f.fp(Domain::LastExact, &leaktrace_pii::name::canonical(row[2]));
    assert!(!reg.postings(last).is_empty());
    // The one-edit neighbourhood of a misspelt surname finds the right name.
    let typo = format!("{}X", leaktrace_pii::name::canonical(row[2]));
    let mut found = Vec::new();
    for d in f.deletions(leaktrace_index::NameKind::Last, &typo) {
        reg.neighbours(d, &mut found);
    }
    assert!(found.contains(&last));
}

/// The registry's `date_inscription` month is kept per person in an encrypted `context.bin`:
/// it decrypts to the registry's values with the workspace key, and a wrong key, a flipped
/// byte or a truncated file is an error; a segment without the file (older layout, or a
/// source with no date column) opens with no context.
#[test]
fn context_attribute_round_trips_encrypted_and_detects_tampering() {
    let s = setup(1500);
    let m = read_manifest(&s.data).unwrap();
    let mut ws = Workspace::open(&s.home, Some(&s.key)).unwrap();
    let reg_file = s.data.join(&m.registry.file);
    ws.enroll(
        &reg_file,
        &opts("registry", None, &m.registry.as_of),
        &|_| {},
    )
    .unwrap();
    // An extract without a date column (the website accounts) keeps no context.
    let web = m
        .extracts
        .iter()
        .find(|e| e.name.starts_with("website"))
        .unwrap();
    ws.enroll(
        &s.data.join(&web.file),
        &opts("website", Some(&web.recipient), &web.as_of),
        &|_| {},
    )
    .unwrap();
    let index = ws.load(true).unwrap();
    let seg_of = |source: &str| {
        index
            .snapshots
            .iter()
            .find(|(i, _)| i.source == source)
            .map(|(i, seg)| (i.segment.clone(), seg))
            .unwrap()
    };
    let (reg_dir, reg) = seg_of("registry");
    assert_eq!(reg.context_attribute(), Some("date_inscription"));
    let months = reg.context(&index.context_key).unwrap().unwrap();
    assert_eq!(months.len(), reg.persons());
    let mut rdr = csv::Reader::from_path(&reg_file).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (id, date) = (col("person_id"), col("date_inscription"));
    let mut checked = 0;
    for r in rdr.records() {
        let r = r.unwrap();
        let ord = reg.ordinal(&r[id]).unwrap();
        assert_eq!(
            month_label(months[ord as usize]).as_deref(),
            Some(&r[date][..7]),
            "person {}",
            &r[id]
        );
        checked += 1;
    }
    assert_eq!(checked, 1500);
    let (_, website) = seg_of("website");
    assert_eq!(website.context_attribute(), None);
    assert_eq!(website.context(&index.context_key).unwrap(), None);

    // A wrong key is detected.
    let wrong = ContextKey::new(&Key::from_bytes([0x5a; 32]));
    let err = reg.context(&wrong).unwrap_err();
    assert!(matches!(err, IndexError::Corrupt(_)), "{err}");
    assert!(err.to_string().contains("authentication failed"), "{err}");

    // A flipped byte anywhere (header, nonce, ciphertext, tag) is an error, never a panic; the
    // checksum catches it too when verifying.
    let dir = s.home.join("index").join(&reg_dir);
    let path = dir.join("context.bin");
    let ck = ContextKey::new(&Key::load(&s.key).unwrap());
    let good = fs::read(&path).unwrap();
    drop(index);
    for i in [3, 12, 40, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[i] ^= 0x80;
        fs::write(&path, &bad).unwrap();
        let seg = Segment::open(&dir, &ck, false).unwrap();
        let err = seg
            .context(&ContextKey::new(&Key::load(&s.key).unwrap()))
            .unwrap_err();
        assert!(matches!(err, IndexError::Corrupt(_)), "byte {i}: {err}");
        assert!(
            Segment::open(&dir, &ck, true).is_err(),
            "byte {i}: checksum"
        );
    }
    // A truncated file is refused when the segment opens.
    fs::write(&path, &good[..good.len() - 2]).unwrap();
    let err = Segment::open(&dir, &ck, false).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    fs::write(&path, &good).unwrap();
    assert!(Segment::open(&dir, &ck, true).is_ok());

    // A segment without context.bin (no `context` in meta.json) opens on its own.
    let meta_path = dir.join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&fs::read(&meta_path).unwrap()).unwrap();
    meta.as_object_mut().unwrap().remove("context");
    meta["files"].as_object_mut().unwrap().remove("context.bin");
    fs::write(&meta_path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    fs::remove_file(&path).unwrap();
    let seg = Segment::open(&dir, &ck, true).unwrap();
    assert_eq!(seg.context_attribute(), None);
    let key = ContextKey::new(&Key::load(&s.key).unwrap());
    assert_eq!(seg.context(&key).unwrap(), None);
    // But the workspace knows what it enrolled: a segment whose context file was removed
    // (and meta.json edited to match) disagrees with its catalog row, and loading it fails.
    let err = ws.load(true).unwrap_err().to_string();
    assert!(err.contains("disagrees with the catalog"), "{err}");
    assert!(err.contains("sources --verify"), "{err}");
}

#[test]
fn bad_input_is_refused_and_nothing_is_half_written() {
    let s = setup(300);
    let m = read_manifest(&s.data).unwrap();
    let mut ws = Workspace::open(&s.home, Some(&s.key)).unwrap();
    ws.enroll(
        &s.data.join(&m.registry.file),
        &opts("registry", None, "2026-10-01"),
        &|_| {},
    )
    .unwrap();
    let before = segment_dirs(&s.home);
    let dir = s.home.parent().unwrap();
    let check = |ws: &mut Workspace, file: &Path, o: EnrollOptions, want: &str| {
        let err = ws.enroll(file, &o, &|_| {}).unwrap_err();
        assert!(err.to_string().contains(want), "{err} (wanted {want:?})");
        assert!(
            matches!(err, IndexError::Input(_) | IndexError::Read(_)),
            "{err:?}"
        );
    };
    // No identifiable id column.
    let noid = dir.join("noid.csv");
    fs::write(
        &noid,
        "nom,prenom\nMARTIN,Jean\nMARTIN,Jean\nDURAND,Marie\n",
    )
    .unwrap();
    check(
        &mut ws,
        &noid,
        opts("x", None, "2026-01-01"),
        "no identifiable person-id column",
    );
    // Duplicate ids: named by record.
    let dup = dir.join("dup.csv");
    fs::write(
        &dup,
        "id,nom,prenom\nA1,MARTIN,Jean\nA2,DURAND,Marie\nA3,PETIT,Luc\nA2,DUPONT,Anne\n",
    )
    .unwrap();
    let mut o = opts("x", None, "2026-01-01");
    o.id_column = Some("id".into());
    check(&mut ws, &dup, o, "duplicate person id in records 1 and 3");
    // A column override naming no column.
    let mut o = opts("x", None, "2026-01-01");
    o.columns = vec![("telephone".into(), leaktrace_pii::ColumnType::Phone)];
    check(
        &mut ws,
        &s.data.join(&m.registry.file),
        o,
        "has no column \"telephone\"",
    );
    // A date that does not parse.
    check(
        &mut ws,
        &s.data.join(&m.registry.file),
        opts("x", None, "2026-13-45"),
        "is not a date",
    );
    // An empty id in a row.
    let gap = dir.join("gap.csv");
    fs::write(&gap, "id,nom\nA1,MARTIN\n,DURAND\n").unwrap();
    let mut o = opts("x", None, "2026-01-01");
    o.id_column = Some("id".into());
    check(
        &mut ws,
        &gap,
        o,
        "record 1 (0-based, header excluded) has no person id",
    );
    // A file that cannot be read.
    let bin = dir.join("garbage.csv");
    fs::write(&bin, [0u8, 159, 146, 150, 0, 0, 1, 2, 3, 255, 0, 0]).unwrap();
    assert!(ws
        .enroll(&bin, &opts("x", None, "2026-01-01"), &|_| {})
        .is_err());
    // Nothing was published or left behind; the workspace still works.
    assert_eq!(segment_dirs(&s.home), before);
    assert_eq!(ws.sources().unwrap().len(), 1);
    ws.load(true).unwrap();
}

/// Scan every byte of the workspace for every personal value of 5+ characters that went in:
/// names, e-mails and their local parts, phones with and without spaces, NIRs and their first
/// 13 digits — as written and in canonical form (case-sensitive, so that the first name `REGIS`
/// does not match the source name `registry`). The key file lives outside the workspace.
#[test]
fn no_plaintext_personal_data_in_the_workspace() {
    let s = setup(2000);
    let m = read_manifest(&s.data).unwrap();
    let mut ws = Workspace::open(&s.home, Some(&s.key)).unwrap();
    let reg = s.data.join(&m.registry.file);
    ws.enroll(&reg, &opts("registry", None, "2026-10-01"), &|_| {})
        .unwrap();
    let mut rdr = csv::Reader::from_path(&reg).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (nom, prenom, nir, email, mobile) = (
        col("nom"),
        col("prenom"),
        col("nir"),
        col("email"),
        col("mobile"),
    );
    let (birth, registered) = (col("date_naissance"), col("date_inscription"));
    let mut needles: Vec<String> = Vec::new();
    // Registration months as enrolment encodes them (u16 LE month numbers in person order): a
    // plaintext context.bin would hold these 8-byte runs of four consecutive persons.
    let mut month_numbers: Vec<u16> = Vec::new();
    for r in rdr.records() {
        let r = r.unwrap();
        month_numbers.push(leaktrace_index::month_number(
            leaktrace_pii::date::parse(&r[registered]).unwrap(),
        ));
        let e164 = leaktrace_pii::phone::normalize(&r[mobile]).unwrap();
        let spaced = leaktrace_pii::phone::national_spaced(&e164).unwrap();
        let n = &r[nir];
        for v in [
            r[nom].to_string(),
            r[prenom].to_string(),
            leaktrace_pii::name::canonical(&r[nom]),
            leaktrace_pii::name::canonical(&r[prenom]),
            r[email].to_string(),
            r[email].split('@').next().unwrap().to_string(),
            r[mobile].to_string(),
            e164.clone(),
            e164[1..].to_string(),
            spaced,
            n.to_string(),
            n[..13].to_string(),
            // Dates, ISO (`YYYY-MM-DD`), and their months (`YYYY-MM`): the registration month
            // is kept, but only encrypted (context.bin). No catalog timestamp collides: the
            // snapshot is as of 2026-10-01, registrations end in 2026-09, births long before.
            r[birth].to_string(),
            r[birth][..7].to_string(),
            r[registered].to_string(),
            r[registered][..7].to_string(),
        ] {
            if v.chars().count() >= 5 {
                needles.push(v);
            }
        }
    }
    needles.sort();
    needles.dedup();
    // The catalog's own timestamps (created_at, enrolled_at) are today's date, not personal data.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let today = leaktrace_pii::date::Ymd::from_days(secs / 86_400).iso();
    needles.retain(|v| !today.starts_with(v.as_str()));
    assert!(needles.len() > 10_000, "{} needles", needles.len());
    for d in ["date_naissance", "date_inscription"] {
        let j = col(d);
        let v = csv::Reader::from_path(&reg)
            .unwrap()
            .records()
            .next()
            .unwrap()
            .unwrap()[j]
            .to_string();
        assert!(
            v.len() == 10 && needles.contains(&v) && needles.contains(&v[..7].to_string()),
            "{d}: {v:?} is not an ISO date among the needles"
        );
    }
    // The registration months are in the workspace, encrypted.
    assert!(segment_dirs(&s.home).iter().any(|d| s
        .home
        .join("index")
        .join(d)
        .join("context.bin")
        .exists()));
    let mut patterns: Vec<Vec<u8>> = needles.iter().map(|n| n.as_bytes().to_vec()).collect();
    patterns.extend(
        month_numbers
            .windows(4)
            .map(|w| w.iter().flat_map(|m| m.to_le_bytes()).collect::<Vec<u8>>()),
    );
    let ac = aho_corasick::AhoCorasick::builder()
        .build(&patterns)
        .unwrap();
    let mut files = Vec::new();
    let mut stack = vec![s.home.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    assert!(files.len() >= 10, "{files:?}");
    let mut scanned = 0;
    for f in &files {
        let bytes = fs::read(f).unwrap();
        scanned += bytes.len();
        if let Some(hit) = ac.find(&bytes) {
            panic!(
                "{}: holds the personal value #{} ({:?}) at byte {}: {:?}",
                f.display(),
                hit.pattern().as_usize(),
                String::from_utf8_lossy(&patterns[hit.pattern().as_usize()]),
                hit.start(),
                String::from_utf8_lossy(
                    &bytes[hit.start().saturating_sub(40)..(hit.end() + 40).min(bytes.len())]
                )
            );
        }
    }
    assert!(scanned > 100_000);
}

#[test]
fn readers_see_a_consistent_state_during_an_enrolment() {
    let s = setup(20_000);
    let m = read_manifest(&s.data).unwrap();
    let mut ws = Workspace::open(&s.home, Some(&s.key)).unwrap();
    ws.enroll(
        &s.data.join(&m.registry.file),
        &opts("registry", None, "2025-10-01"),
        &|_| {},
    )
    .unwrap();
    let home = s.home.clone();
    let key = s.key.clone();
    let reg = s.data.join(&m.registry.file);
    let writer = std::thread::spawn(move || {
        let mut ws = Workspace::open(&home, Some(&key)).unwrap();
        ws.enroll(&reg, &opts("registry", None, "2026-10-01"), &|_| {})
            .unwrap();
    });
    let mut seen = Vec::new();
    while !writer.is_finished() {
        let r = Workspace::open(&s.home, Some(&s.key)).unwrap();
        let index = r.load(true).unwrap();
        seen.push(index.snapshots.len());
    }
    writer.join().unwrap();
    seen.push(
        Workspace::open(&s.home, Some(&s.key))
            .unwrap()
            .load(true)
            .unwrap()
            .snapshots
            .len(),
    );
    assert!(seen.iter().all(|&n| n == 1 || n == 2), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(*seen.last().unwrap(), 2);
}

#[test]
fn ids_are_stored_encrypted_whatever_the_column_and_come_back_with_the_key() {
    // An id column of full names (typed as text, not as a personal type: a naive enrolment
    // would have kept `BUCHET Pierre` in clear in ids.bin).
    let s = setup(300);
    let m = read_manifest(&s.data).unwrap();
    let mut rdr = csv::Reader::from_path(s.data.join(&m.registry.file)).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (nom, prenom, email) = (col("nom"), col("prenom"), col("email"));
    let mut csv_text = String::from("nom_complet,courriel\n");
    let mut names: Vec<String> = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        let r = r.unwrap();
        let full = format!("{} {} {i:04}", r[nom].to_uppercase(), &r[prenom]);
        csv_text.push_str(&format!("{full},{}\n", &r[email]));
        names.push(full);
    }
    let file = s._tmp.path().join("names_as_ids.csv");
    fs::write(&file, &csv_text).unwrap();
    let mut ws = Workspace::open(&s.home, Some(&s.key)).unwrap();
    let mut o = opts("crm", None, "2026-10-01");
    o.id_column = Some("nom_complet".into());
    o.columns = vec![("nom_complet".into(), leaktrace_pii::ColumnType::Text)];
    ws.enroll(&file, &o, &|_| {}).unwrap();
    // No full name, and no surname of five letters or more, anywhere in the workspace.
    let mut needles: Vec<String> = names.clone();
    needles.extend(
        names
            .iter()
            .map(|n| n.split(' ').next().unwrap().to_string())
            .filter(|n| n.len() >= 5),
    );
    let ac = aho_corasick::AhoCorasick::new(&needles).unwrap();
    let mut stack = vec![s.home.clone()];
    let mut scanned = 0;
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
                continue;
            }
            let bytes = fs::read(e.path()).unwrap();
            scanned += bytes.len();
            if let Some(hit) = ac.find(&bytes) {
                panic!(
                    "{}: holds {:?}",
                    e.path().display(),
                    needles[hit.pattern().as_usize()]
                );
            }
        }
    }
    assert!(scanned > 10_000);
    // With the key, the organisation gets its ids back (affected_persons.csv needs them).
    let index = ws.load(true).unwrap();
    let (_, seg) = &index.snapshots[0];
    assert_eq!(seg.persons(), names.len());
    let ord = seg.ordinal(&names[17]).unwrap();
    assert_eq!(seg.id(ord), names[17]);
    assert_eq!(seg.ordinal("NOBODY Here 9999"), None);
    // A wrong key cannot open the ids.
    let dir = s.home.join("index").join(&index.snapshots[0].0.segment);
    let err = Segment::open(&dir, &ContextKey::new(&Key::from_bytes([9; 32])), false).unwrap_err();
    assert!(err.to_string().contains("authentication failed"), "{err}");
}
