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
        RefData {
            folded_first_names: first_names.iter().map(|f| fold(&f.name)).collect(),
            folded_last_names: last_names
                .iter()
                .enumerate()
                .map(|(i, n)| (fold(n), i as u32 + 1))
                .collect(),
            folded_communes: communes.iter().map(|c| fold(&c.name)).collect(),
            postal_codes: communes
                .iter()
                .flat_map(|c| c.postal_codes.iter().cloned())
                .collect(),
            insee_codes: communes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.insee_code.clone(), i))
                .collect(),
            rome: rome_codes.iter().map(|r| r.code.clone()).collect(),
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

    /// Whether the value is an existing postal code.
    pub fn is_postal_code(&self, value: &str) -> bool {
        self.postal_codes.contains(value.trim())
    }

    /// The commune with this INSEE code.
    pub fn commune_by_insee(&self, code: &str) -> Option<&Commune> {
        self.insee_codes
            .get(&code.trim().to_ascii_uppercase())
            .map(|&i| &self.communes[i])
    }

    /// Whether the value is an existing ROME code (case-insensitive).
    pub fn is_rome_code(&self, value: &str) -> bool {
        self.rome.contains(&value.trim().to_ascii_uppercase())
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
