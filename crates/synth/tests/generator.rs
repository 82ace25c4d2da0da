//! Integration tests of the synthetic generator: realism, extract rules, truth files and
//! determinism, on small populations.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use leaktrace_pii::{nir, phone, refdata};
use leaktrace_synth::person::Person;
use leaktrace_synth::{generate, read_manifest, read_scenarios, Config};

fn small(seed: u64) -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        persons: 6_000,
        seed,
        leak_rows: 500,
        ..Config::default()
    };
    generate(&cfg, dir.path()).unwrap();
    (dir, cfg)
}

fn read_csv(path: &Path, delim: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).unwrap();
    let text = match String::from_utf8(bytes.clone()) {
        Ok(t) => t,
        Err(_) => encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned(),
    };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (headers, rows)
}

#[test]
fn registry_is_realistic() {
    let (dir, cfg) = small(1);
    let (h, rows) = read_csv(&dir.path().join("registry.csv"), b',');
    assert_eq!(rows.len() as u64, cfg.persons);
    let col = |name: &str| h.iter().position(|x| x == name).unwrap();
    let (nir_c, cp_c, insee_c, mob_c, mail_c, sex_c, birth_c) = (
        col("nir"),
        col("code_postal"),
        col("code_insee"),
        col("mobile"),
        col("email"),
        col("civilite"),
        col("date_naissance"),
    );
    let r = refdata::get();
    let mut ids = HashSet::new();
    for row in &rows {
        assert!(ids.insert(row[0].clone()), "duplicate id");
        let n = nir::parse(&row[nir_c]).expect("valid NIR key");
        // NIR consistent with sex and birth year/month.
        assert_eq!(n.sex_digit(), if row[sex_c] == "Mme" { 2 } else { 1 });
        assert_eq!(&row[nir_c][1..3], &row[birth_c][2..4]);
        assert_eq!(&row[nir_c][3..5], &row[birth_c][5..7]);
        // Postal code consistent with the commune.
        let commune = r.commune_by_insee(&row[insee_c]).expect("existing commune");
        assert!(commune.postal_codes.contains(&row[cp_c]));
        // Mobiles in 06 and 073–079.
        let e = phone::normalize(&row[mob_c]).unwrap();
        assert_eq!(
            phone::kind(&e),
            Some(phone::PhoneKind::Mobile),
            "{}",
            row[mob_c]
        );
        assert!(
            row[mob_c].starts_with("06") || ("073".."080").contains(&&row[mob_c][..3]),
            "{}",
            row[mob_c]
        );
        assert!(leaktrace_pii::email::is_valid(&row[mail_c]));
    }
}

#[test]
fn birthplaces_include_corsica_and_overseas_with_valid_keys() {
    let mut corsica = 0;
    let mut overseas = 0;
    for i in 0..60_000 {
        let p = Person::generate(3, i, false);
        assert!(nir::is_valid(&p.nir));
        let d = nir::parse(&p.nir).unwrap();
        match d.department() {
            "2A" | "2B" => corsica += 1,
            x if x.starts_with("97") => overseas += 1,
            _ => {}
        }
    }
    assert!(corsica > 10, "corsica {corsica}");
    assert!(overseas > 100, "overseas {overseas}");
}

#[test]
fn name_frequencies_follow_insee_ranks() {
    let r = refdata::get();
    let mut counts: HashMap<String, u32> = HashMap::new();
    for i in 0..200_000 {
        *counts
            .entry(Person::generate(11, i, false).last_name)
            .or_default() += 1;
    }
    let first = f64::from(counts[&r.last_names[0]]);
    let hundredth = f64::from(*counts.get(&r.last_names[99]).unwrap_or(&1));
    let ratio = first / hundredth;
    // Zipf 1/rank: rank 1 is about 100 times as common as rank 100.
    assert!((60.0..160.0).contains(&ratio), "ratio {ratio}");
}

#[test]
fn first_names_depend_on_birth_decade() {
    let mut old = HashMap::new();
    let mut young = HashMap::new();
    for i in 0..40_000 {
        let p = Person::generate(5, i, false);
        if p.sex == 'F' && p.birth.year < 1965 {
            *old.entry(p.first_name).or_insert(0u32) += 1;
        } else if p.sex == 'F' && p.birth.year > 2000 {
            *young.entry(p.first_name).or_insert(0u32) += 1;
        }
    }
    let top = |m: &HashMap<String, u32>| {
        m.iter()
            .max_by_key(|(k, v)| (**v, (*k).clone()))
            .unwrap()
            .0
            .clone()
    };
    assert_ne!(top(&old), top(&young));
}

#[test]
fn extract_rules_hold() {
    let (dir, _) = small(2);
    let m = read_manifest(dir.path()).unwrap();
    assert!(m.extracts.len() >= 4);
    let (_, reg) = read_csv(&dir.path().join("registry.csv"), b',');
    let reg: HashMap<String, Vec<String>> = reg.into_iter().map(|r| (r[0].clone(), r)).collect();
    // Provider: everyone registered in February 2022.
    let (_, prov) = read_csv(&dir.path().join("extracts/provider_docs_2022-02.csv"), b';');
    assert!(!prov.is_empty());
    for row in &prov {
        assert!(
            reg[&row[0]][15].starts_with("2022-02"),
            "{}",
            reg[&row[0]][15]
        );
        assert!(nir::is_valid(&row[3]));
    }
    // Website deliveries: registered by the delivery date; later delivery is a superset.
    let (_, w1) = read_csv(
        &dir.path().join("extracts/website_accounts_2024-03-01.tsv"),
        b'\t',
    );
    let (_, w2) = read_csv(
        &dir.path().join("extracts/website_accounts_2025-09-01.tsv"),
        b'\t',
    );
    for row in &w1 {
        assert!(reg[&row[0]][15].as_str() <= "2024-03-01");
    }
    assert!(w2.len() > w1.len());
    let w2ids: HashSet<&String> = w2.iter().map(|r| &r[0]).collect();
    assert!(w1.iter().all(|r| w2ids.contains(&r[0])));
    // Values as of the date: some persons changed phone or address between deliveries.
    let w1map: HashMap<&String, &Vec<String>> = w1.iter().map(|r| (&r[0], r)).collect();
    let changed = w2
        .iter()
        .filter(|r| {
            w1map
                .get(&r[0])
                .is_some_and(|o| o[2] != r[2] || o[6] != r[6])
        })
        .count();
    assert!(changed > w1.len() / 50, "changed {changed}");
    // Training partner: every row's person lived in the region at the delivery date and
    // registered in 2023.
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook(dir.path().join("extracts/formation_ara_2024.xlsx")).unwrap();
    use calamine::Reader;
    let range = wb.worksheet_range("Stagiaires").unwrap();
    let mut n = 0;
    for row in range.rows().skip(1) {
        let id = row[0].to_string();
        assert!(reg[&id][15].starts_with("2023"));
        n += 1;
    }
    assert!(n > 0);
    assert_eq!(
        m.extracts.iter().find(|e| e.format == "xlsx").unwrap().rows,
        n
    );
    // App: JSON Lines, one object per line.
    let app =
        std::fs::read_to_string(dir.path().join("extracts/app_users_2023-06-15.jsonl")).unwrap();
    for line in app.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(reg[v["user_id"].as_str().unwrap()][15].as_str() <= "2023-06-15");
    }
}

#[test]
fn truth_files_agree_with_leaks() {
    let (dir, _) = small(3);
    let scenarios = read_scenarios(dir.path()).unwrap();
    let verdicts: HashSet<&str> = scenarios.iter().map(|s| s.verdict.as_str()).collect();
    for v in ["authentic", "partial", "recombined", "not_ours"] {
        assert!(verdicts.contains(v), "{v}");
    }
    let formats: HashSet<&str> = scenarios.iter().map(|s| s.format.as_str()).collect();
    for f in ["csv", "sql", "json", "xlsx"] {
        assert!(formats.contains(f), "{f}");
    }
    assert!(scenarios.iter().any(|s| !s.header));
    assert!(scenarios.iter().any(|s| s.sources.len() == 2));
    let (_, reg) = read_csv(&dir.path().join("registry.csv"), b',');
    let ids: HashSet<String> = reg.into_iter().map(|r| r[0].clone()).collect();
    for s in &scenarios {
        let (_, truth) = read_csv(&dir.path().join(&s.truth), b',');
        assert_eq!(truth.len() as u64, s.rows, "{}", s.name);
        for (i, t) in truth.iter().enumerate() {
            assert_eq!(t[0], i.to_string());
            assert!(
                t[1].is_empty() || ids.contains(&t[1]),
                "{}: {}",
                s.name,
                t[1]
            );
        }
        let linked = truth.iter().filter(|t| !t[1].is_empty()).count() as f64 / truth.len() as f64;
        match s.verdict.as_str() {
            "not_ours" => assert_eq!(linked, 0.0),
            "partial" => assert!(linked > 0.05 && linked < 0.5, "{linked}"),
            _ => assert!(linked > 0.95, "{}: {linked}", s.name),
        }
        // Record counts in the files themselves.
        let path = dir.path().join(&s.file);
        let records = match s.format.as_str() {
            "csv" => {
                let text = std::fs::read_to_string(&path).unwrap();
                text.lines().count() - usize::from(s.header)
            }
            "json" => {
                let v: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                v.as_array().unwrap().len()
            }
            "sql" => std::fs::read_to_string(&path)
                .unwrap()
                .matches("'FT")
                .count(),
            _ => s.rows as usize,
        };
        assert_eq!(records as u64, s.rows, "{}", s.name);
        assert!(!s.columns.is_empty());
    }
    // The reshaped leak has invented rows (~1 %) and duplicated rows.
    let (_, truth) = read_csv(&dir.path().join("leaks/truth/app_reshaped.csv"), b',');
    let invented = truth.iter().filter(|t| t[1].is_empty()).count();
    assert!(invented >= 1);
    let distinct: HashSet<&String> = truth
        .iter()
        .filter(|t| !t[1].is_empty())
        .map(|t| &t[1])
        .collect();
    assert!(
        distinct.len() < truth.len() - invented,
        "duplicates expected"
    );
}

fn all_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, _) = small(9);
    // Cross a second boundary so that a timestamp written into any file would show.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (b, _) = small(9);
    let (c, _) = small(10);
    let fa = all_files(a.path());
    assert!(fa.len() > 15);
    for p in &fa {
        let rel = p.strip_prefix(a.path()).unwrap();
        let x = std::fs::read(p).unwrap();
        let y = std::fs::read(b.path().join(rel)).unwrap();
        assert!(x == y, "{} differs between runs", rel.display());
    }
    let x = std::fs::read(a.path().join("registry.csv")).unwrap();
    let z = std::fs::read(c.path().join("registry.csv")).unwrap();
    assert_ne!(x, z);
}

#[test]
fn bad_configuration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        persons: 0,
        ..Config::default()
    };
    assert!(generate(&cfg, dir.path()).is_err());
    let cfg = Config {
        typo_rate: 1.5,
        ..Config::default()
    };
    let e = generate(&cfg, dir.path()).unwrap_err().to_string();
    assert!(e.contains("typo-rate"), "{e}");
}

proptest::proptest! {
    #[test]
    fn every_generated_nir_passes_the_key_check(seed in 0u64..u64::MAX, index in 0u64..100_000_000, invented: bool) {
        let p = Person::generate(seed, index, invented);
        proptest::prop_assert!(nir::is_valid(&p.nir), "{}", p.nir);
        proptest::prop_assert!(phone::normalize(p.phone_at(p.registration)).is_some());
        proptest::prop_assert!(p.home_at(p.registration).postal_code.len() == 5);
    }
}
