//! The population model: one person is a pure function of `(seed, index)`, including a small
//! history of addresses, phones and e-mails so that any date's values can be computed.

use std::sync::OnceLock;

use leaktrace_pii::{nir, refdata, text};

use crate::date::Date;
use crate::rng::{Rng, Weighted};

/// The date the registry is exported "as of".
pub const REGISTRY_DATE: Date = Date::new(2026, 10, 1);
/// First possible registration date.
pub const FIRST_REGISTRATION: Date = Date::new(2018, 1, 1);

/// Education levels, French wording, with their weights.
pub const EDUCATION: [(&str, f64); 6] = [
    ("Sans diplôme", 12.0),
    ("CAP/BEP", 22.0),
    ("Bac", 25.0),
    ("Bac+2", 18.0),
    ("Bac+3", 12.0),
    ("Bac+5 et plus", 11.0),
];

const PROVIDERS: [(&str, f64); 10] = [
    ("gmail.com", 34.0),
    ("orange.fr", 14.0),
    ("hotmail.fr", 12.0),
    ("yahoo.fr", 7.0),
    ("free.fr", 7.0),
    ("sfr.fr", 6.0),
    ("laposte.net", 6.0),
    ("outlook.fr", 6.0),
    ("wanadoo.fr", 4.0),
    ("bbox.fr", 4.0),
];

/// A place of residence: commune index in `refdata::get().communes` and its postal code.
#[derive(Debug, Clone, PartialEq)]
pub struct Home {
    pub commune: usize,
    pub postal_code: String,
}

/// A value that holds from a date on.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub since: Date,
    pub value: T,
}

/// The value in force at `at` (the first one if `at` precedes every change).
pub fn value_at<T>(history: &[Versioned<T>], at: Date) -> &T {
    let mut cur = &history[0].value;
    for v in history {
        if v.since <= at {
            cur = &v.value;
        }
    }
    cur
}

/// One synthetic person.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// 0-based index in the population.
    pub index: u64,
    /// Organisation identifier (`FT` + 9 digits); empty for invented people.
    pub id: String,
    /// `F` or `M`.
    pub sex: char,
    /// Surname as INSEE writes it (title case, no accents).
    pub last_name: String,
    /// First name with its accents.
    pub first_name: String,
    pub birth: Date,
    /// INSEE code of the birth commune.
    pub birth_insee: String,
    /// 15-character NIR with a correct key.
    pub nir: String,
    pub registration: Date,
    pub education: &'static str,
    pub licence: bool,
    pub car: bool,
    pub rome: &'static str,
    pub homes: Vec<Versioned<Home>>,
    /// Mobile numbers in E.164.
    pub phones: Vec<Versioned<String>>,
    pub emails: Vec<Versioned<String>>,
    /// Stable pseudo-random value in [0,1) used by extract rules (app user, online account).
    pub trait_u: f64,
}

struct Tables {
    last: Weighted,
    /// (sex, decade) → (weights, first-name indices)
    first: Vec<((char, u16), Weighted, Vec<usize>)>,
    communes: Weighted,
    education: Weighted,
    providers: Weighted,
    rome: usize,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let r = refdata::get();
        let mut first: Vec<((char, u16), Weighted, Vec<usize>)> = Vec::new();
        let mut keys: Vec<(char, u16)> = r.first_names.iter().map(|f| (f.sex, f.decade)).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let idx: Vec<usize> = (0..r.first_names.len())
                .filter(|&i| (r.first_names[i].sex, r.first_names[i].decade) == k)
                .collect();
            let w = Weighted::new(idx.iter().map(|&i| 1.0 / f64::from(r.first_names[i].rank)));
            first.push((k, w, idx));
        }
        Tables {
            last: Weighted::new((1..=r.last_names.len()).map(|rank| 1.0 / rank as f64)),
            first,
            communes: Weighted::new(r.communes.iter().map(|c| {
                if c.postal_codes.is_empty() {
                    0.0
                } else {
                    f64::from(c.population)
                }
            })),
            education: Weighted::new(EDUCATION.iter().map(|e| e.1)),
            providers: Weighted::new(PROVIDERS.iter().map(|p| p.1)),
            rome: r.rome_codes.len(),
        }
    })
}

fn pick_first_name(rng: &mut Rng, sex: char, year: i32) -> String {
    let t = tables();
    let decade = (((year - 1901).max(0) / 10) * 10 + 1901).min(2011) as u16;
    let entry = t
        .first
        .iter()
        .find(|(k, _, _)| *k == (sex, decade))
        .or_else(|| t.first.iter().find(|(k, _, _)| k.0 == sex))
        .expect("first names for both sexes");
    refdata::get().first_names[entry.2[entry.1.pick(rng)]]
        .name
        .clone()
}

fn pick_home(rng: &mut Rng) -> Home {
    let r = refdata::get();
    let commune = tables().communes.pick(rng);
    let pcs = &r.communes[commune].postal_codes;
    let postal_code = pcs[rng.below(pcs.len() as u64) as usize].clone();
    Home {
        commune,
        postal_code,
    }
}

fn mobile(rng: &mut Rng) -> String {
    if rng.chance(0.8) {
        format!("+336{:08}", rng.below(100_000_000))
    } else {
        format!("+337{}{:07}", rng.range(3, 9), rng.below(10_000_000))
    }
}

/// Lower-case ASCII form of a name for an e-mail local part.
fn mail_part(s: &str) -> String {
    text::fold(s).to_lowercase().replace(' ', "")
}

fn email(rng: &mut Rng, first: &str, last: &str, birth: Date) -> String {
    let f = mail_part(first);
    let l = mail_part(last);
    let local = match rng.below(6) {
        0 | 1 => format!("{f}.{l}"),
        2 => format!("{f}{l}"),
        3 => format!("{}.{l}", f.chars().next().unwrap_or('x')),
        4 => format!("{l}.{f}"),
        _ => format!("{f}_{l}{:02}", birth.year % 100),
    };
    let local = if rng.chance(0.35) {
        format!("{local}{}", rng.range(1, 99))
    } else {
        local
    };
    format!("{local}@{}", PROVIDERS[tables().providers.pick(rng)].0)
}

fn days_between(rng: &mut Rng, from: Date, to: Date) -> Date {
    let (a, b) = (from.days(), to.days().max(from.days()));
    Date::from_days(rng.range(a, b))
}

impl Person {
    /// Person `index` of the population generated from `seed`. `invented` draws from a
    /// separate stream and leaves `id` empty: a plausible person who is not in the registry.
    pub fn generate(seed: u64, index: u64, invented: bool) -> Person {
        let purpose = if invented { 0x1_11E7 } else { 0x9E25 };
        let mut rng = Rng::new(seed, purpose, index);
        let r = refdata::get();
        let t = tables();
        let sex = if rng.chance(0.51) { 'F' } else { 'M' };
        let year = rng.range(1958, 2006) as i32;
        let month = rng.range(1, 12) as u32;
        let day = rng.range(1, 28) as u32;
        let birth = Date::new(year, month, day);
        let last_name = r.last_names[t.last.pick(&mut rng)].clone();
        let first_name = pick_first_name(&mut rng, sex, year);
        let birth_home = pick_home(&mut rng);
        let birth_insee = r.communes[birth_home.commune].insee_code.clone();
        let order = rng.range(1, 999) as u16;
        let sex_digit = if sex == 'M' { 1 } else { 2 };
        let nir = nir::build(
            sex_digit,
            (year % 100) as u8,
            month as u8,
            &birth_insee,
            order,
        )
        .unwrap_or_else(|| {
            nir::build(sex_digit, (year % 100) as u8, month as u8, "75056", order)
                .expect("valid fallback NIR")
        });
        let adult = Date::new(year + 16, month, day);
        let start = if adult > FIRST_REGISTRATION {
            adult
        } else {
            FIRST_REGISTRATION
        };
        let registration = days_between(&mut rng, start, Date::new(2026, 9, 30));
        let home0 = if rng.chance(0.3) {
            birth_home.clone()
        } else {
            pick_home(&mut rng)
        };
        let mut homes = vec![Versioned {
            since: birth,
            value: home0,
        }];
        let mut phones = vec![Versioned {
            since: registration,
            value: mobile(&mut rng),
        }];
        let mut emails = vec![Versioned {
            since: registration,
            value: email(&mut rng, &first_name, &last_name, birth),
        }];
        let moves = if rng.chance(0.3) { 1 + rng.below(2) } else { 0 };
        let mut last = registration;
        for _ in 0..moves {
            last = days_between(&mut rng, last, REGISTRY_DATE);
            homes.push(Versioned {
                since: last,
                value: pick_home(&mut rng),
            });
        }
        if rng.chance(0.3) {
            phones.push(Versioned {
                since: days_between(&mut rng, registration, REGISTRY_DATE),
                value: mobile(&mut rng),
            });
        }
        if rng.chance(0.25) {
            emails.push(Versioned {
                since: days_between(&mut rng, registration, REGISTRY_DATE),
                value: email(&mut rng, &first_name, &last_name, birth),
            });
        }
        let licence = rng.chance(if year < 2004 { 0.75 } else { 0.45 });
        let car = licence && rng.chance(0.7);
        Person {
            index,
            id: if invented {
                String::new()
            } else {
                format!("FT{:09}", index + 1)
            },
            sex,
            last_name,
            first_name,
            birth,
            birth_insee,
            nir,
            registration,
            education: EDUCATION[t.education.pick(&mut rng)].0,
            licence,
            car,
            rome: r.rome_codes[rng.below(t.rome as u64) as usize]
                .code
                .as_str(),
            homes,
            phones,
            emails,
            trait_u: rng.f64(),
        }
    }

    /// Residence at `at`.
    pub fn home_at(&self, at: Date) -> &Home {
        value_at(&self.homes, at)
    }

    /// Mobile (E.164) at `at`.
    pub fn phone_at(&self, at: Date) -> &str {
        value_at(&self.phones, at).as_str()
    }

    /// E-mail at `at`.
    pub fn email_at(&self, at: Date) -> &str {
        value_at(&self.emails, at).as_str()
    }

    /// Commune name at `at`.
    pub fn commune_at(&self, at: Date) -> &'static str {
        &refdata::get().communes[self.home_at(at).commune].name
    }

    /// Approximate coordinates of the residence at `at`. Not geographic truth: a point in
    /// metropolitan France's bounding box derived from the commune code (stable per commune),
    /// plus a little jitter per person — enough for typing and format tests.
    pub fn location_at(&self, at: Date) -> (f64, f64) {
        let home = self.home_at(at);
        let mut rng = Rng::new(home.commune as u64, 0x10C, 0);
        let lat = 42.5 + rng.f64() * 8.5;
        let lon = -4.5 + rng.f64() * 12.0;
        let mut j = Rng::new(self.index, 0x717, 0);
        (lat + (j.f64() - 0.5) * 0.02, lon + (j.f64() - 0.5) * 0.02)
    }
}
