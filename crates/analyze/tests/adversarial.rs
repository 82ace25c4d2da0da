//! Files `synth` does not make by default, stitched by hand from its registry: real fragments
//! of different persons in one row must give `recombined`, with each person's own fragments
//! (and only those) reported as exposed; households and name changes must stay `authentic`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{enrolled, enrolled_with, leak, Registry};
use leaktrace_analyze::{analyze, Analysis, AnalyzeOptions, Status};
use leaktrace_index::Index;
use leaktrace_pii::ColumnType as T;

const PERSONS: u64 = 3_000;
const SEED: u64 = 21;
/// Rows of each stitched file.
const ROWS: usize = 300;

fn run(index: &Index, path: &Path) -> Analysis {
    analyze(index, path, &AnalyzeOptions::default(), &|_| {})
        .unwrap()
        .0
}

/// Stitched files made of the registry's triples, written under `dir` and analysed with
/// `index`.
struct Stitcher<'a> {
    index: &'a Index,
    dir: &'a Path,
    triples: &'a [(usize, usize, usize)],
}

impl Stitcher<'_> {
    /// Write the leak `name` with `header` and one row per triple (a, b, c) built by `row`,
    /// and analyse it.
    fn analyse(
        &self,
        name: &str,
        header: &[&str],
        row: impl Fn(usize, usize, usize) -> Vec<String>,
    ) -> Analysis {
        let rows: Vec<Vec<String>> = self.triples.iter().map(|&(a, b, c)| row(a, b, c)).collect();
        run(self.index, &leak(self.dir, name, header, &rows))
    }
}

/// person id → categories exposed.
fn affected(a: &Analysis) -> BTreeMap<&str, BTreeSet<T>> {
    a.affected
        .iter()
        .map(|(p, t)| (p.as_str(), t.iter().copied().collect()))
        .collect()
}

/// At least 90 % of the persons of `ids` are affected with every category of `cats`, and
/// none with any other ([`check_fragments`] with `cats` allowed and required).
fn check_exposed_with(what: &str, a: &Analysis, ids: &[&str], cats: &[T]) {
    check_fragments(what, a, ids, cats, cats, ROWS * 9 / 10);
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
    let fx = enrolled(SEED, PERSONS);
    let index = fx.ws.load(false).unwrap();
    let reg = Registry::read(&fx.data);
    let triples = reg.triples(ROWS);
    assert_eq!(triples.len(), ROWS);
    let ids = |pick: fn(&(usize, usize, usize)) -> usize| -> Vec<&str> {
        triples.iter().map(|t| reg.id(pick(t))).collect()
    };
    let (a_ids, b_ids, c_ids) = (ids(|t| t.0), ids(|t| t.1), ids(|t| t.2));
    let v = |p: usize, f: &str| reg.get(p, f).to_string();
    let st = Stitcher {
        index: &index,
        dir: fx.dir(),
        triples: &triples,
    };

    // (a) Names of one person, e-mail and phone of another.
    let an = st.analyse(
        "a.csv",
        &["nom", "prenom", "email", "telephone"],
        |a, b, _| vec![v(a, "nom"), v(a, "prenom"), v(b, "email"), v(b, "mobile")],
    );
    assert_recombined("names + another's e-mail and phone", &an);
    let k = &an.verdict.evidence.contradictions;
    assert!(
        (k.names_of_another_person + k.names_of_no_enrolled_person) as usize >= ROWS * 9 / 10,
        "{k:?}"
    );
    // The e-mail and phone owners are exposed with their e-mail and phone, not with names.
    check_exposed_with("(a) identifier owners", &an, &b_ids, &[T::Email, T::Phone]);
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
    let an = st.analyse(
        "b.csv",
        &["nom", "prenom", "email", "telephone"],
        |a, b, c| vec![v(a, "nom"), v(a, "prenom"), v(b, "email"), v(c, "mobile")],
    );
    assert_recombined("e-mail and phone of two other persons", &an);
    let k = &an.verdict.evidence.contradictions;
    assert!(
        k.identifiers_of_several_persons as usize >= ROWS * 9 / 10,
        "{k:?}"
    );
    check_exposed_with("(b) e-mail owners", &an, &b_ids, &[T::Email]);
    check_exposed_with("(b) phone owners", &an, &c_ids, &[T::Phone]);
    // The old explanation claimed the identifiers matched no enrolled person.
    assert!(an
        .verdict
        .explanation
        .iter()
        .all(|s| !s.contains("match no enrolled person")));

    // (b') The same without names.
    let an = st.analyse("b2.csv", &["email", "telephone"], |_, b, c| {
        vec![v(b, "email"), v(c, "mobile")]
    });
    assert_recombined("e-mail and phone of two persons, no names", &an);
    check_exposed_with("(b') e-mail owners", &an, &b_ids, &[T::Email]);
    check_exposed_with("(b') phone owners", &an, &c_ids, &[T::Phone]);

    // (c) Names and birth date of one person, NIR of another.
    let an = st.analyse(
        "c.csv",
        &["nom", "prenom", "date_naissance", "nir"],
        |a, b, _| {
            vec![
                v(a, "nom"),
                v(a, "prenom"),
                v(a, "date_naissance"),
                v(b, "nir"),
            ]
        },
    );
    assert_recombined("names + birth date of one, NIR of another", &an);
    check_exposed_with(
        "(c) name holders",
        &an,
        &a_ids,
        &[T::LastName, T::FirstName, T::BirthDate],
    );
    check_exposed_with("(c) NIR owners", &an, &b_ids, &[T::Nir]);
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
    let fx = enrolled(SEED, PERSONS);
    let index = fx.ws.load(false).unwrap();
    let reg = Registry::read(&fx.data);
    let v = |p: usize, f: &str| reg.get(p, f).to_string();
    let st = Stitcher {
        index: &index,
        dir: fx.dir(),
        triples: &reg.triples(ROWS),
    };
    let header = [
        "nom",
        "prenom",
        "date_naissance",
        "email",
        "telephone",
        "nir",
    ];
    let an = st.analyse("married.csv", &header, |a, b, _| {
        vec![
            v(b, "nom"),
            v(a, "prenom"),
            v(a, "date_naissance"),
            v(a, "email"),
            v(a, "mobile"),
            v(a, "nir"),
        ]
    });
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
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let fx = enrolled_with(SEED, PERSONS, |data| {
        let mut reg = Registry::read(data);
        pairs = reg.triples(ROWS).iter().map(|t| (t.0, t.1)).collect();
        let (nom, mobile) = (reg.col("nom"), reg.col("mobile"));
        for (k, &(a, b)) in pairs.iter().enumerate() {
            reg.rows[b][nom] = reg.rows[a][nom].clone();
            // Half the households keep the phone in both records.
            if k % 2 == 0 {
                reg.rows[b][mobile] = reg.rows[a][mobile].clone();
            }
        }
        reg.write(data);
    });
    let index = fx.ws.load(false).unwrap();
    let reg = Registry::read(&fx.data);
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
        fx.dir(),
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
