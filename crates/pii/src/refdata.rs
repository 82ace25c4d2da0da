//! French reference data embedded in the binary: INSEE communes (with postal codes and
//! population), departments, first names by sex and birth decade, surnames by rank, and ROME
//! job codes. Sources and licences: `data/fr/README.md`.
//!
//! Everything is parsed once, on first use, and shared.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::OnceLock;

use crate::text::fold;

const COMMUNES: &str = include_str!("../../../data/fr/communes.csv");
const DEPARTMENTS: &str = include_str!("../../../data/fr/departments.csv");
const FIRST_NAMES: &str = include_str!("../../../data/fr/first_names.csv");
const LAST_NAMES: &str = include_str!("../../../data/fr/last_names.csv");
const ROME_CODES: &str = include_str!("../../../data/fr/rome_codes.csv");

/// A current French commune.
#[derive(Debug, Clone)]
pub struct Commune {
    /// INSEE code, 5 characters (`75056`, `2A004`, `97411`).
    pub insee_code: String,
    pub name: String,
    /// Department code (`01`, `2A`, `974`).
    pub department: String,
    pub region: String,
    /// Postal codes serving the commune (at least one for nearly all communes).
    pub postal_codes: Vec<String>,
    pub population: u32,
}

/// A department.
#[derive(Debug, Clone)]
pub struct Department {
    pub code: String,
    pub name: String,
    pub region: String,
    pub region_name: String,
    /// `metro`, `drom` or `com`.
    pub zone: String,
}

/// A first name with its INSEE rank for one sex and birth decade.
#[derive(Debug, Clone)]
pub struct FirstName {
    /// `F` or `M`.
    pub sex: char,
    /// First year of the decade (1901, 1911, …, 2011 as in the source file).
    pub decade: u16,
    /// 1 = most given.
    pub rank: u32,
    pub name: String,
}

/// A ROME 4.0 job code.
#[derive(Debug, Clone)]
pub struct RomeCode {
    pub code: String,
    pub label: String,
}

/// All reference tables plus lookup sets on folded values.
#[derive(Debug)]
pub struct RefData {
    pub communes: Vec<Commune>,
    pub departments: Vec<Department>,
    pub first_names: Vec<FirstName>,
    /// Surnames by rank (index 0 = rank 1), INSEE style (no accents).
    pub last_names: Vec<String>,
    pub rome_codes: Vec<RomeCode>,
    folded_first_names: HashSet<String>,
    folded_last_names: HashMap<String, u32>,
    folded_communes: HashSet<String>,
    postal_codes: HashSet<String>,
    insee_codes: HashMap<String, usize>,
    rome: HashSet<String>,
    /// The postal codes, INSEE codes and ROME codes of the sets above that are five ASCII
    /// digits (a letter and four digits for ROME), as bitsets: their hot-path lookups.
    postal_bits: Bits,
    insee_bits: Bits,
    rome_bits: Bits,
}

/// A set of small integers.
#[derive(Debug)]
struct Bits(Vec<u64>);

impl Bits {
    fn of(len: usize, members: impl Iterator<Item = usize>) -> Bits {
        let mut b = vec![0u64; len.div_ceil(64)];
        for i in members.filter(|&i| i < len) {
            b[i / 64] |= 1 << (i % 64);
        }
        Bits(b)
    }

    fn has(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
}

/// The number written by ASCII digits `b`.
#[inline]
fn number(b: &[u8]) -> Option<usize> {
    b.iter().try_fold(0usize, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + usize::from(d - b'0'))
    })
}

/// The number written by five ASCII digits.
fn five_digits(s: &str) -> Option<usize> {
    let b: &[u8; 5] = s.as_bytes().try_into().ok()?;
    number(b)
}

/// The index of a ROME-shaped code (a letter, either case, and four ASCII digits).
fn rome_index(s: &str) -> Option<usize> {
    let (&l, digits) = s.as_bytes().split_first()?;
    if !l.is_ascii_alphabetic() || digits.len() != 4 {
        return None;
    }
    let n = number(digits)?;
    Some(usize::from(l.to_ascii_uppercase() - b'A') * 10_000 + n)
}

fn records(src: &'static str) -> impl Iterator<Item = csv::StringRecord> {
    csv::Reader::from_reader(src.as_bytes())
        .into_records()
        .map(|r| r.expect("embedded reference data is valid CSV"))
}

impl RefData {
    fn load() -> RefData {
        let communes: Vec<Commune> = records(COMMUNES)
            .map(|r| Commune {
                insee_code: r[0].to_string(),
                name: r[1].to_string(),
                department: r[2].to_string(),
                region: r[3].to_string(),
                postal_codes: r[4]
                    .split('|')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                population: r[5].parse().unwrap_or(0),
            })
            .collect();
        let departments = records(DEPARTMENTS)
            .map(|r| Department {
                code: r[0].to_string(),
                name: r[1].to_string(),
                region: r[2].to_string(),
                region_name: r[3].to_string(),
                zone: r[4].to_string(),
            })
            .collect();
        let first_names: Vec<FirstName> = records(FIRST_NAMES)
            .map(|r| FirstName {
                sex: r[0].chars().next().unwrap_or('F'),
                decade: r[1].parse().unwrap_or(1901),
                rank: r[2].parse().unwrap_or(u32::MAX),
                name: r[3].to_string(),
            })
            .collect();
        let last_names: Vec<String> = records(LAST_NAMES).map(|r| r[1].to_string()).collect();
        let rome_codes: Vec<RomeCode> = records(ROME_CODES)
            .map(|r| RomeCode {
                code: r[0].to_string(),
                label: r[1].to_string(),
            })
            .collect();
        let postal_codes: HashSet<String> = communes
            .iter()
            .flat_map(|c| c.postal_codes.iter().cloned())
            .collect();
        let insee_codes: HashMap<String, usize> = communes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.insee_code.clone(), i))
            .collect();
        let rome: HashSet<String> = rome_codes.iter().map(|r| r.code.clone()).collect();
        RefData {
            postal_bits: Bits::of(100_000, postal_codes.iter().filter_map(|c| five_digits(c))),
            insee_bits: Bits::of(100_000, insee_codes.keys().filter_map(|c| five_digits(c))),
            rome_bits: Bits::of(
                260_000,
                rome.iter()
                    .filter(|c| !c.starts_with(|l: char| l.is_ascii_lowercase()))
                    .filter_map(|c| rome_index(c)),
            ),
            postal_codes,
            insee_codes,
            rome,
            folded_first_names: first_names.iter().map(|f| fold(&f.name)).collect(),
            folded_last_names: last_names
                .iter()
                .enumerate()
                .map(|(i, n)| (fold(n), i as u32 + 1))
                .collect(),
            folded_communes: communes.iter().map(|c| fold(&c.name)).collect(),
            communes,
            departments,
            first_names,
            last_names,
            rome_codes,
        }
    }

    /// Whether the folded value is a known first name (any sex, any decade).
    pub fn is_first_name(&self, value: &str) -> bool {
        self.folded_first_names.contains(&fold(value))
    }

    /// INSEE rank of a surname among the top 20,000, if it is one.
    pub fn last_name_rank(&self, value: &str) -> Option<u32> {
        self.folded_last_names.get(&fold(value)).copied()
    }

    /// Whether the value names an existing commune (accents, case and hyphens ignored).
    pub fn is_commune(&self, value: &str) -> bool {
        self.folded_communes.contains(&fold(value))
    }

    /// [`is_first_name`](Self::is_first_name) of a value already in [`fold`]'s output form
    /// (`fold(value) == value`; true of the fold of any ASCII text), without folding it again.
    pub fn is_first_name_folded(&self, folded: &str) -> bool {
        self.folded_first_names.contains(folded)
    }

    /// [`last_name_rank`](Self::last_name_rank) of a value already folded (as
    /// [`is_first_name_folded`](Self::is_first_name_folded)).
    pub fn last_name_rank_folded(&self, folded: &str) -> Option<u32> {
        self.folded_last_names.get(folded).copied()
    }

    /// [`is_commune`](Self::is_commune) of a value already folded (as
    /// [`is_first_name_folded`](Self::is_first_name_folded)).
    pub fn is_commune_folded(&self, folded: &str) -> bool {
        self.folded_communes.contains(folded)
    }

    /// Whether the value is an existing postal code.
    pub fn is_postal_code(&self, value: &str) -> bool {
        let v = crate::text::trim(value);
        match five_digits(v) {
            Some(i) => self.postal_bits.has(i),
            None => self.postal_codes.contains(v),
        }
    }

    /// Whether the value is the INSEE code of a commune (`commune_by_insee(..).is_some()`).
    pub fn is_insee_code(&self, code: &str) -> bool {
        match five_digits(crate::text::trim(code)) {
            Some(i) => self.insee_bits.has(i),
            None => self.commune_by_insee(code).is_some(),
        }
    }

    /// The commune with this INSEE code.
    pub fn commune_by_insee(&self, code: &str) -> Option<&Commune> {
        self.insee_codes
            .get(&code.trim().to_ascii_uppercase())
            .map(|&i| &self.communes[i])
    }

    /// Whether the value is an existing ROME code (case-insensitive).
    pub fn is_rome_code(&self, value: &str) -> bool {
        let v = crate::text::trim(value);
        match rome_index(v) {
            Some(i) => self.rome_bits.has(i),
            None => self.rome.contains(&v.to_ascii_uppercase()),
        }
    }

    /// The department with this code.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }
}

/// The shared reference data, parsed on first use.
pub fn get() -> &'static RefData {
    static DATA: OnceLock<RefData> = OnceLock::new();
    DATA.get_or_init(RefData::load)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn code_bitsets_agree_with_the_sets(s in "[0-9]{5}|[0-9]{4}|[0-9]{2}[AaBb][0-9]{2}|[A-Za-z][0-9]{4}|[A-Za-z0-9 ]{0,6}",
                                            known in 0usize..40_000, ws in " ?") {
            let r = get();
            let c = &r.communes[known % r.communes.len()];
            let rc = &r.rome_codes[known % r.rome_codes.len()].code;
            let pc = c.postal_codes.first().cloned().unwrap_or_default();
            let lower = rc.to_ascii_lowercase();
            for v in [s.as_str(), c.insee_code.as_str(), pc.as_str(), rc.as_str(), lower.as_str()] {
                let v = format!("{ws}{v}{ws}");
                prop_assert_eq!(r.is_postal_code(&v), r.postal_codes.contains(v.trim()));
                prop_assert_eq!(r.is_insee_code(&v), r.commune_by_insee(&v).is_some());
                prop_assert_eq!(r.is_rome_code(&v), r.rome.contains(&v.trim().to_ascii_uppercase()));
            }
        }

        #[test]
        fn folded_lookups_agree_on_folded_text(s in "[A-Za-z' -]{0,20}", known in 0usize..20_000) {
            let r = get();
            let names = [s.clone(), r.last_names[known].clone(),
                         r.first_names[known % r.first_names.len()].name.clone(),
                         r.communes[known % r.communes.len()].name.clone()];
            for n in names {
                let f = fold(&n);
                prop_assume!(f.is_ascii());
                prop_assert_eq!(r.is_first_name_folded(&f), r.is_first_name(&f));
                prop_assert_eq!(r.last_name_rank_folded(&f), r.last_name_rank(&f));
                prop_assert_eq!(r.is_commune_folded(&f), r.is_commune(&f));
            }
        }
    }

    #[test]
    fn loads_everything() {
        let r = get();
        assert!(r.communes.len() > 34_000);
        assert_eq!(r.departments.len(), 109);
        assert_eq!(r.first_names.len(), 9600);
        assert_eq!(r.last_names.len(), 20_000);
        assert_eq!(r.last_names[0], "Martin");
        assert!(r.rome_codes.len() > 1500);
        assert!(r.is_first_name("hélène"));
        assert!(r.is_commune("saint etienne"));
        assert!(r.is_postal_code("75001"));
        assert!(r.is_rome_code("a1101"));
        assert_eq!(r.last_name_rank("MARTIN"), Some(1));
        assert_eq!(
            r.commune_by_insee("2a004").map(|c| c.department.as_str()),
            Some("2A")
        );
    }
}
