//! Helpers for the report's integration tests: a synthetic population with its registry
//! enrolled, and leaks stitched by hand from its registry.

#![allow(dead_code)]

use std::path::Path;

use leaktrace_index::{EnrollOptions, Workspace};
use leaktrace_synth::{generate, read_manifest, Config};

/// Persons of the synthetic population.
pub const PERSONS: u64 = 2_000;
/// Seed of the synthetic population.
pub const SEED: u64 = 23;

/// A synthetic population ([`PERSONS`], [`SEED`]) generated under `data`, its registry
/// enrolled in a new workspace at `home` (key at `key`).
pub fn registry_workspace(data: &Path, home: &Path, key: &Path) -> Workspace {
    generate(
        &Config {
            persons: PERSONS,
            seed: SEED,
            ..Config::default()
        },
        data,
    )
    .unwrap();
    let (mut ws, _) = Workspace::init(home, Some(key)).unwrap();
    let m = read_manifest(data).unwrap();
    ws.enroll(
        &data.join(&m.registry.file),
        &EnrollOptions {
            source: "registry".into(),
            as_of: Some(m.registry.as_of.clone()),
            ..EnrollOptions::default()
        },
        &|_| {},
    )
    .unwrap();
    ws
}

/// Write `path`, a stitched leak of at most `rows` rows from `registry.csv` under `data`: the
/// surname and first name of registry person i with the e-mail and mobile of person
/// i + n/2 (n persons), skipping pairs that share a surname or a first name.
pub fn stitched_names_and_contacts(data: &Path, path: &Path, rows: usize) {
    let mut rdr = csv::Reader::from_path(data.join("registry.csv")).unwrap();
    let header = rdr.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (nom, prenom, email, mobile) = (col("nom"), col("prenom"), col("email"), col("mobile"));
    let reg: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(["nom", "prenom", "email", "telephone"])
        .unwrap();
    let n = reg.len();
    let mut written = 0;
    for i in 0..n {
        let (a, b) = (&reg[i], &reg[(i + n / 2) % n]);
        if a[nom] == b[nom] || a[prenom] == b[prenom] {
            continue;
        }
        w.write_record([&a[nom], &a[prenom], &b[email], &b[mobile]])
            .unwrap();
        written += 1;
        if written == rows {
            break;
        }
    }
    w.flush().unwrap();
}
