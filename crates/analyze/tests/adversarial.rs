//! Files `synth` does not make by default, stitched by hand from its registry: real fragments
//! of different persons in one row must give `recombined`, with each person's own fragments
//! (and only those) reported as exposed; households and name changes must stay `authentic`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{workspace, workspace_with};
use leaktrace_analyze::{analyze, Analysis, AnalyzeOptions, Status};
use leaktrace_index::Index;
use leaktrace_pii::ColumnType as T;

const PERSONS: u64 = 3_000;
const SEED: u64 = 21;
/// Rows of each stitched file.
const ROWS: usize = 300;

/// The registry, as read from `registry.csv`.
struct Registry {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Registry {
    fn read(data: &Path) -> Registry {
        let mut rdr = csv::Reader::from_path(data.join("registry.csv")).unwrap();
        let header = rdr.headers().unwrap().iter().map(str::to_string).collect();
        let rows = rdr
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        Registry { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap()
    }

    fn get(&self, person: usize, name: &str) -> &str {
        &self.rows[person][self.col(name)]
    }

    fn id(&self, person: usize) -> &str {
        self.get(person, "person_id")
    }

    fn write(&self, data: &Path) {
        let mut w = csv::Writer::from_path(data.join("registry.csv")).unwrap();
        w.write_record(&self.header).unwrap();
        for r in &self.rows {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
    }

    /// `ROWS` triples of persons (a, b, c) with pairwise different surnames and first names
    /// (a shared first name with the same identifiers reads as a name change), deterministic.
    fn triples(&self) -> Vec<(usize, usize, usize)> {
        let n = self.rows.len();
        (0..n)
            .map(|i| (i, (i + n / 3) % n, (i + 2 * n / 3) % n))
            .filter(|&(a, b, c)| {
                ["nom", "prenom"].iter().all(|f| {
                    let s = |p| self.get(p, f);
                    s(a) != s(b) && s(b) != s(c) && s(a) != s(c)
                })
            })
            .take(ROWS)
            .collect()
    }
}

/// Write a CSV leak.
fn leak(dir: &Path, name: &str, header: &[&str], rows: &[Vec<String>]) -> PathBuf {
    let path = dir.join(name);
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    path
}

fn run(index: &Index, path: &Path) -> Analysis {
    analyze(index, path, &AnalyzeOptions::default(), &|_| {})
        .unwrap()
        .0
}

/// person id → categories exposed.
fn affected(a: &Analysis) -> BTreeMap<&str, BTreeSet<T>> {
    a.affected
        .iter()
        .map(|(p, t)| (p.as_str(), t.iter().copied().collect()))
        .collect()
}

/// Every person of `ids` that is affected is exposed with categories within `allowed`, and at
/// least `min` of them are affected with every category of `required`.
fn check_fragments(
    what: &str,
    a: &Analysis,
    ids: &[&str],
    allowed: &[T],
    required: &[T],
    min: usize,
) {
    let got = affected(a);
    let allowed: BTreeSet<T> = allowed.iter().copied().collect();
    let mut full = 0;
    for id in ids {
        if let Some(cats) = got.get(id) {
            assert!(
                cats.is_subset(&allowed),
                "{what}: {id} exposed with {cats:?}, allowed {allowed:?}"
            );
            full += usize::from(required.iter().all(|t| cats.contains(t)));
        }
    }
    assert!(
        full >= min,
        "{what}: {full} of {} persons exposed with {required:?} (want ≥ {min})",
        ids.len()
    );
}

fn assert_recombined(what: &str, a: &Analysis) {
    assert_eq!(
        a.verdict.status,
        Status::Recombined,
        "{what}: {:#?}",
        a.verdict
    );
    let e = &a.verdict.evidence;
    assert!(
        e.contradictory_rows as usize >= ROWS * 9 / 10,
        "{what}: {:#?}",
        a.verdict
    );
    assert!(
        a.verdict
            .explanation
            .iter()
            .any(|s| s.contains("contradictory")),
        "{what}"
    );
    let r = a.recombination.as_ref().expect("a recombination summary");
    assert!(r.persons > 0, "{what}");
}

#[test]
fn stitched_files_are_recombined_with_their_fragments() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let ws = workspace(
        &data,
        &tmp.path().join("ws"),
        &tmp.path().join("k"),
        SEED,
        PERSONS,
    );
    let index = ws.load(false).unwrap();
    let reg = Registry::read(&data);
    let triples = reg.triples();
    assert_eq!(triples.len(), ROWS);
    let ids = |pick: fn(&(usize, usize, usize)) -> usize| -> Vec<&str> {
        triples.iter().map(|t| reg.id(pick(t))).collect()
    };
    let (a_ids, b_ids, c_ids) = (ids(|t| t.0), ids(|t| t.1), ids(|t| t.2));
    let v = |p: usize, f: &str| reg.get(p, f).to_string();

    // (a) Names of one person, e-mail and phone of another.
    let rows: Vec<Vec<String>> = triples
        .iter()
        .map(|&(a, b, _)| vec![v(a, "nom"), v(a, "prenom"), v(b, "email"), v(b, "mobile")])
        .collect();
    let file = leak(
        tmp.path(),
        "a.csv",
        &["nom", "prenom", "email", "telephone"],
        &rows,
    );
    let an = run(&index, &file);
    assert_recombined("names + another's e-mail and phone", &an);
    let k = &an.verdict.evidence.contradictions;
    assert!(
        (k.names_of_another_person + k.names_of_no_enrolled_person) as usize >= ROWS * 9 / 10,
        "{k:?}"
    );
    // The e-mail and phone owners are exposed with their e-mail and phone, not with names.
    check_fragments(
        "(a) identifier owners",
        &an,
        &b_ids,
        &[T::Email, T::Phone],
        &[T::Email, T::Phone],
        ROWS * 9 / 10,
    );
    // The name holders, when their names alone point to them, with their names only.
    check_fragments(
        "(a) name holders",
        &an,
        &a_ids,
        &[T::LastName, T::FirstName],
        &[],
        0,
    );
    let r = an.recombination.as_ref().unwrap();
    assert!(
        r.identifiers_without_names as usize >= ROWS * 9 / 10,
        "{r:?}"
    );

    // (b) Names of one person, e-mail of a second, phone of a third.
    let rows: Vec<Vec<String>> = triples
        .iter()
        .map(|&(a, b, c)| vec![v(a, "nom"), v(a, "prenom"), v(b, "email"), v(c, "mobile")])
        .collect();
    let file = leak(
        tmp.path(),
        "b.csv",
        &["nom", "prenom", "email", "telephone"],
        &rows,
    );
    let an = run(&index, &file);
    assert_recombined("e-mail and phone of two other persons", &an);
    let k = &an.verdict.evidence.contradictions;
    assert!(
        k.identifiers_of_several_persons as usize >= ROWS * 9 / 10,
        "{k:?}"
    );
    check_fragments(
        "(b) e-mail owners",
        &an,
        &b_ids,
        &[T::Email],
        &[T::Email],
        ROWS * 9 / 10,
    );
    check_fragments(
        "(b) phone owners",
        &an,
        &c_ids,
        &[T::Phone],
        &[T::Phone],
        ROWS * 9 / 10,
    );
    // The old explanation claimed the identifiers matched no enrolled person.
    assert!(an
        .verdict
        .explanation
        .iter()
        .all(|s| !s.contains("match no enrolled person")));

    // (b') The same without names.
    let rows: Vec<Vec<String>> = triples
        .iter()
        .map(|&(_, b, c)| vec![v(b, "email"), v(c, "mobile")])
        .collect();
    let file = leak(tmp.path(), "b2.csv", &["email", "telephone"], &rows);
    let an = run(&index, &file);
    assert_recombined("e-mail and phone of two persons, no names", &an);
    check_fragments(
        "(b') e-mail owners",
        &an,
        &b_ids,
        &[T::Email],
        &[T::Email],
        ROWS * 9 / 10,
    );
    check_fragments(
        "(b') phone owners",
        &an,
        &c_ids,
        &[T::Phone],
        &[T::Phone],
        ROWS * 9 / 10,
    );

    // (c) Names and birth date of one person, NIR of another.
    let rows: Vec<Vec<String>> = triples
        .iter()
        .map(|&(a, b, _)| {
            vec![
                v(a, "nom"),
                v(a, "prenom"),
                v(a, "date_naissance"),
                v(b, "nir"),
            ]
        })
        .collect();
    let file = leak(
        tmp.path(),
        "c.csv",
        &["nom", "prenom", "date_naissance", "nir"],
        &rows,
    );
    let an = run(&index, &file);
    assert_recombined("names + birth date of one, NIR of another", &an);
    check_fragments(
        "(c) name holders",
        &an,
        &a_ids,
        &[T::LastName, T::FirstName, T::BirthDate],
        &[T::LastName, T::FirstName, T::BirthDate],
        ROWS * 9 / 10,
    );
    check_fragments(
        "(c) NIR owners",
        &an,
        &b_ids,
        &[T::Nir],
        &[T::Nir],
        ROWS * 9 / 10,
    );
    let cat = |t: T| {
        an.categories
            .iter()
            .find(|c| c.ty == t)
            .map_or(0, |c| c.persons)
    };
    // Each category counts its own persons: as many NIR owners as name holders, not both
    // counted for one.
    assert!(cat(T::Nir) as usize >= ROWS * 9 / 10 && cat(T::Nir) as usize <= ROWS);
    assert!(cat(T::LastName) as usize >= ROWS * 9 / 10 && cat(T::LastName) as usize <= ROWS);
}

/// Name changes: a new surname with the same first name, birth date and identifiers.
#[test]
fn name_changes_stay_authentic() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let ws = workspace(
        &data,
        &tmp.path().join("ws"),
        &tmp.path().join("k"),
        SEED,
        PERSONS,
    );
    let index = ws.load(false).unwrap();
    let reg = Registry::read(&data);
    let v = |p: usize, f: &str| reg.get(p, f).to_string();
    let rows: Vec<Vec<String>> = reg
        .triples()
        .iter()
        .map(|&(a, b, _)| {
            vec![
                v(b, "nom"),
                v(a, "prenom"),
                v(a, "date_naissance"),
                v(a, "email"),
                v(a, "mobile"),
                v(a, "nir"),
            ]
        })
        .collect();
    let file = leak(
        tmp.path(),
        "married.csv",
        &[
            "nom",
            "prenom",
            "date_naissance",
            "email",
            "telephone",
            "nir",
        ],
        &rows,
    );
    let an = run(&index, &file);
    assert_eq!(an.verdict.status, Status::Authentic, "{:#?}", an.verdict);
    let e = &an.verdict.evidence;
    assert!(e.contradictory_rows as usize <= ROWS / 100, "{e:?}");
    assert!(
        e.contradictions.name_changes_set_aside as usize >= ROWS * 9 / 10,
        "{e:?}"
    );
    assert!(an.recombination.is_none() || e.contradictory_rows > 0);
    assert!(an
        .verdict
        .explanation
        .iter()
        .any(|s| s.contains("a name change")));
}

/// Households: two persons sharing a surname and a phone — the phone in both registry
/// records, or only in one of them while the file lists it for both.
#[test]
fn households_stay_authentic() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let ws = workspace_with(
        &data,
        &tmp.path().join("ws"),
        &tmp.path().join("k"),
        SEED,
        PERSONS,
        |data| {
            let mut reg = Registry::read(data);
            pairs = reg.triples().iter().map(|t| (t.0, t.1)).collect();
            let (nom, mobile) = (reg.col("nom"), reg.col("mobile"));
            for (k, &(a, b)) in pairs.iter().enumerate() {
                reg.rows[b][nom] = reg.rows[a][nom].clone();
                // Half the households keep the phone in both records.
                if k % 2 == 0 {
                    reg.rows[b][mobile] = reg.rows[a][mobile].clone();
                }
            }
            reg.write(data);
        },
    );
    let index = ws.load(false).unwrap();
    let reg = Registry::read(&data);
    let v = |p: usize, f: &str| reg.get(p, f).to_string();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (k, &(a, b)) in pairs.iter().enumerate() {
        let person = |p: usize, phone_of: usize| {
            vec![
                v(p, "nom"),
                v(p, "prenom"),
                v(p, "date_naissance"),
                v(p, "email"),
                v(phone_of, "mobile"),
            ]
        };
        if k % 2 == 0 {
            // Both records hold the household phone.
            rows.push(person(a, a));
            rows.push(person(b, b));
        } else {
            // The file lists b's phone for both.
            rows.push(person(a, b));
            rows.push(person(b, b));
        }
    }
    let file = leak(
        tmp.path(),
        "households.csv",
        &["nom", "prenom", "date_naissance", "email", "telephone"],
        &rows,
    );
    let an = run(&index, &file);
    assert_eq!(an.verdict.status, Status::Authentic, "{:#?}", an.verdict);
    let e = &an.verdict.evidence;
    assert!(e.contradictory_rows as usize <= rows.len() / 100, "{e:?}");
    assert!(
        e.contradictions.households_set_aside as usize >= ROWS / 2 * 9 / 10,
        "{e:?}"
    );
    assert_eq!(
        an.linkage.persons_affected as usize,
        2 * ROWS,
        "{:?}",
        an.linkage
    );
}
