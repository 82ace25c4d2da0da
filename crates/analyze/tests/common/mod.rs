//! Helpers shared by the integration tests: a synthetic population enrolled in a workspace,
//! its registry as read from `registry.csv`, and CSV leaks written from hand-picked rows.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use leaktrace_index::{EnrollOptions, Workspace};
use leaktrace_synth::{generate, read_manifest, Config};
use tempfile::TempDir;

/// A synthetic population with its registry and every extract enrolled, in a temporary
/// directory: the data under `data`, the workspace under `ws`, the key in `k`.
pub struct Enrolled {
    /// The enrolled workspace (declared first: closed before the directory goes).
    pub ws: Workspace,
    /// The generated files.
    pub data: PathBuf,
    /// The temporary directory holding everything (removed on drop).
    pub tmp: TempDir,
}

impl Enrolled {
    /// The temporary directory, where tests write their leaks and outputs.
    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }
}

/// Generate `persons` synthetic persons with `seed` in a new temporary directory and enrol them.
pub fn enrolled(seed: u64, persons: u64) -> Enrolled {
    enrolled_with(seed, persons, |_| {})
}

/// [`enrolled`], with `edit` applied to the generated files (e.g. the registry) before
/// enrolment.
pub fn enrolled_with(seed: u64, persons: u64, edit: impl FnOnce(&Path)) -> Enrolled {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let ws = workspace_with(
        &data,
        &tmp.path().join("ws"),
        &tmp.path().join("k"),
        seed,
        persons,
        edit,
    );
    Enrolled { ws, data, tmp }
}

/// Generate a synthetic population under `data`, apply `edit` to the generated files, and
/// enrol its registry and every extract in a new workspace at `home`.
pub fn workspace_with(
    data: &Path,
    home: &Path,
    key: &Path,
    seed: u64,
    persons: u64,
    edit: impl FnOnce(&Path),
) -> Workspace {
    generate(
        &Config {
            persons,
            seed,
            ..Config::default()
        },
        data,
    )
    .unwrap();
    edit(data);
    let (mut ws, _) = Workspace::init(home, Some(key)).unwrap();
    let m = read_manifest(data).unwrap();
    let mut all = vec![(m.registry.clone(), None)];
    all.extend(
        m.extracts
            .iter()
            .map(|e| (e.clone(), Some(e.recipient.clone()))),
    );
    for (e, recipient) in all {
        let source = if recipient.is_none() {
            "registry".to_string()
        } else {
            e.source().to_string()
        };
        ws.enroll(
            &data.join(&e.file),
            &EnrollOptions {
                source,
                recipient,
                as_of: Some(e.as_of.clone()),
                ..EnrollOptions::default()
            },
            &|_| {},
        )
        .unwrap();
    }
    ws
}

/// The registry, as read from `registry.csv`.
pub struct Registry {
    /// The column names.
    pub header: Vec<String>,
    /// One row a person, in file order.
    pub rows: Vec<Vec<String>>,
}

impl Registry {
    /// Read `registry.csv` under `data`.
    pub fn read(data: &Path) -> Registry {
        let mut rdr = csv::Reader::from_path(data.join("registry.csv")).unwrap();
        let header = rdr.headers().unwrap().iter().map(str::to_string).collect();
        let rows = rdr
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        Registry { header, rows }
    }

    /// The index of column `name`.
    pub fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap()
    }

    /// Field `name` of the person at row `person`.
    pub fn get(&self, person: usize, name: &str) -> &str {
        &self.rows[person][self.col(name)]
    }

    /// The `person_id` of the person at row `person`.
    pub fn id(&self, person: usize) -> &str {
        self.get(person, "person_id")
    }

    /// Write the registry back to `registry.csv` under `data`.
    pub fn write(&self, data: &Path) {
        let mut w = csv::Writer::from_path(data.join("registry.csv")).unwrap();
        w.write_record(&self.header).unwrap();
        for r in &self.rows {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
    }

    /// `count` triples of persons (a, b, c) with pairwise different surnames and first names
    /// (a shared first name with the same identifiers reads as a name change), deterministic.
    pub fn triples(&self, count: usize) -> Vec<(usize, usize, usize)> {
        let n = self.rows.len();
        (0..n)
            .map(|i| (i, (i + n / 3) % n, (i + 2 * n / 3) % n))
            .filter(|&(a, b, c)| {
                ["nom", "prenom"].iter().all(|f| {
                    let s = |p| self.get(p, f);
                    s(a) != s(b) && s(b) != s(c) && s(a) != s(c)
                })
            })
            .take(count)
            .collect()
    }
}

/// Write a CSV leak `name` under `dir`.
pub fn leak(dir: &Path, name: &str, header: &[&str], rows: &[Vec<String>]) -> PathBuf {
    let path = dir.join(name);
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    path
}
