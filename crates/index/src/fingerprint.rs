//! Keyed fingerprints of normalised values.
//!
//! A fingerprint is the first 128 bits of `BLAKE3-keyed(key, [domain, 0] ‖ canonical value)`.
//! The [`Domain`] byte separates types and variants: the same string as a surname and as a first
//! name gives unrelated fingerprints. Without the key a fingerprint reveals nothing about the
//! value; with the key, only someone who already holds a value can test for it.
//!
//! [`Fingerprinter::row`] turns one typed row into all its fingerprints: canonical forms per type,
//! fuzzy variants for names and derived blocking keys. Enrolment and analysis both call it, so a
//! leak's row and an enrolled person meet on the same fingerprints.

use rustc_hash::FxHashMap;

use leaktrace_pii::date::{self, Ymd};
use leaktrace_pii::{email, iban, name, nir, phone, refdata, text, ColumnType};
use serde::{Deserialize, Serialize};

/// A 128-bit fingerprint.
pub type Fp = u128;

/// What a fingerprint stands for: a type and a variant. The numbers are part of the index
/// format (docs/index-format.md): never reuse one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum Domain {
    /// NIR, 15 digits with a valid key.
    Nir = 1,
    /// E-mail, trimmed and lower-cased.
    Email = 2,
    /// Phone number in E.164.
    Phone = 3,
    /// IBAN without spaces, upper case.
    Iban = 4,
    /// Surname, folded, letters and digits only.
    LastExact = 10,
    /// Surname without leading particles.
    LastCore = 11,
    /// French phonetic code of the surname.
    LastPhonetic = 12,
    /// One-deletion variants of the surname (never enrolled per person; see `names`).
    LastDeletion = 13,
    /// First name, folded, letters and digits only.
    FirstExact = 20,
    /// French phonetic code of the first name.
    FirstPhonetic = 21,
    /// One-deletion variants of the first name.
    FirstDeletion = 22,
    /// Sorted words of surname and first name (for full-name columns).
    NameTokens = 25,
    /// Birth date, ISO.
    BirthDate = 30,
    /// Birth year.
    BirthYear = 31,
    /// Sex, `1` or `2` as in the NIR.
    Sex = 32,
    /// Postal code, five digits.
    PostalCode = 40,
    /// Commune name, folded, `ST` → `SAINT`, without `CEDEX`.
    Commune = 41,
    /// INSEE commune code.
    Insee = 42,
    /// Postal address, folded.
    Address = 43,
    /// Blocking key: surname + birth date.
    BlockLastBirth = 50,
    /// Blocking key: first name + birth date.
    BlockFirstBirth = 51,
    /// Blocking key: surname + first name + postal code.
    BlockNamesPostal = 52,
    /// Blocking key: phonetic surname + phonetic first name + birth year.
    BlockPhonetic = 53,
}

impl Domain {
    /// Every domain, in number order.
    pub const ALL: [Domain; 23] = [
        Domain::Nir,
        Domain::Email,
        Domain::Phone,
        Domain::Iban,
        Domain::LastExact,
        Domain::LastCore,
        Domain::LastPhonetic,
        Domain::LastDeletion,
        Domain::FirstExact,
        Domain::FirstPhonetic,
        Domain::FirstDeletion,
        Domain::NameTokens,
        Domain::BirthDate,
        Domain::BirthYear,
        Domain::Sex,
        Domain::PostalCode,
        Domain::Commune,
        Domain::Insee,
        Domain::Address,
        Domain::BlockLastBirth,
        Domain::BlockFirstBirth,
        Domain::BlockNamesPostal,
        Domain::BlockPhonetic,
    ];

    /// Bit used in a person's "present" mask (which fields the source holds for them).
    pub fn bit(self) -> u64 {
        1u64 << (self as u8 % 64)
    }

    /// Whether a shared fingerprint of this domain makes a pair worth comparing.
    pub fn is_blocking(self) -> bool {
        matches!(
            self,
            Domain::Nir
                | Domain::Email
                | Domain::Phone
                | Domain::Iban
                | Domain::NameTokens
                | Domain::BlockLastBirth
                | Domain::BlockFirstBirth
                | Domain::BlockNamesPostal
                | Domain::BlockPhonetic
        )
    }

    /// Name used in explanations and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Nir => "nir",
            Domain::Email => "email",
            Domain::Phone => "phone",
            Domain::Iban => "iban",
            Domain::LastExact => "last_name",
            Domain::LastCore => "last_name_core",
            Domain::LastPhonetic => "last_name_phonetic",
            Domain::LastDeletion => "last_name_deletion",
            Domain::FirstExact => "first_name",
            Domain::FirstPhonetic => "first_name_phonetic",
            Domain::FirstDeletion => "first_name_deletion",
            Domain::NameTokens => "name_tokens",
            Domain::BirthDate => "birth_date",
            Domain::BirthYear => "birth_year",
            Domain::Sex => "sex",
            Domain::PostalCode => "postal_code",
            Domain::Commune => "commune",
            Domain::Insee => "insee_code",
            Domain::Address => "address",
            Domain::BlockLastBirth => "block_last_birth",
            Domain::BlockFirstBirth => "block_first_birth",
            Domain::BlockNamesPostal => "block_names_postal",
            Domain::BlockPhonetic => "block_phonetic",
        }
    }
}

/// Which name a neighbourhood entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameKind {
    Last,
    First,
}

impl NameKind {
    /// (exact domain, deletion domain)
    pub fn domains(self) -> (Domain, Domain) {
        match self {
            NameKind::Last => (Domain::LastExact, Domain::LastDeletion),
            NameKind::First => (Domain::FirstExact, Domain::FirstDeletion),
        }
    }
}

/// All fingerprints of one row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowPrints {
    /// (domain, fingerprint), sorted and deduplicated.
    pub prints: Vec<(Domain, Fp)>,
    /// Canonical names seen in the row for the first time by the [`Cache`] used (for the names'
    /// one-edit neighbourhood table; a name may be reported again after the cache is cleared).
    pub names: Vec<(NameKind, String)>,
    /// The row's e-mail local part spells its surname or first name (`marie.martin@…`): an
    /// agreeing e-mail then implies agreeing names, which must not count twice.
    pub email_spells_name: bool,
}

impl RowPrints {
    /// Bit mask of the domains present.
    pub fn present(&self) -> u64 {
        self.prints.iter().fold(0, |m, (d, _)| m | d.bit())
    }

    /// Fingerprints of one domain.
    pub fn of(&self, d: Domain) -> impl Iterator<Item = Fp> + '_ {
        self.prints
            .iter()
            .filter(move |(x, _)| *x == d)
            .map(|(_, f)| *f)
    }
}

/// Computes fingerprints with one key.
#[derive(Clone)]
pub struct Fingerprinter {
    key: [u8; 32],
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter(…)")
    }
}

/// Sex as the NIR's first digit: `1` (male) or `2` (female).
pub fn canonical_sex(v: &str) -> Option<&'static str> {
    match text::fold(v).replace(' ', "").as_str() {
        "1" | "M" | "H" | "MR" | "MONSIEUR" | "HOMME" | "MASCULIN" | "MALE" => Some("1"),
        "2" | "F" | "MME" | "MLLE" | "MADAME" | "MADEMOISELLE" | "FEMME" | "FEMININ" | "FEMALE" => {
            Some("2")
        }
        _ => None,
    }
}

/// Split a full name into (first names, surname): words in capitals are the surname when the
/// others are not (the French convention `Vincent MARTIN`); otherwise words that are not known
/// first names are. `None` when no split is clear.
pub fn split_full_name(v: &str) -> Option<(String, String)> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if words.len() < 2 {
        return None;
    }
    let upper = |w: &str| {
        w.chars().filter(|c| c.is_alphabetic()).count() > 1 && !w.chars().any(char::is_lowercase)
    };
    let (l, f): (Vec<&str>, Vec<&str>) = words.iter().partition(|w| upper(w));
    if !l.is_empty() && !f.is_empty() {
        return Some((f.join(" "), l.join(" ")));
    }
    let r = refdata::get();
    let (f, l): (Vec<&str>, Vec<&str>) =
        words.iter().partition(|w| r.is_first_name(&text::fold(w)));
    (!f.is_empty() && !l.is_empty()).then(|| (f.join(" "), l.join(" ")))
}

/// Postal code as five digits (a leading zero dropped by a spreadsheet is restored).
pub fn canonical_postal_code(v: &str) -> Option<String> {
    let d: String = v.trim().chars().filter(|c| !c.is_whitespace()).collect();
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match d.len() {
        5 => Some(d),
        4 => Some(format!("0{d}")),
        _ => None,
    }
}

/// Commune name folded, `ST`/`STE` → `SAINT`/`SAINTE`, `CEDEX` and arrondissement numbers dropped.
pub fn canonical_commune(v: &str) -> Option<String> {
    let f = text::fold(v);
    let mut out = String::new();
    for w in f.split(' ') {
        let w = match w {
            "ST" => "SAINT",
            "STE" => "SAINTE",
            "CEDEX" => break,
            w if w.bytes().all(|b| b.is_ascii_digit()) => continue,
            w if w.ends_with("ER") && w[..w.len() - 2].bytes().all(|b| b.is_ascii_digit()) => {
                continue
            }
            w if w.ends_with("E") && w[..w.len() - 1].bytes().all(|b| b.is_ascii_digit()) => {
                continue
            }
            w => w,
        };
        out.push_str(w);
    }
    (!out.is_empty()).then_some(out)
}

impl Fingerprinter {
    /// A fingerprinter for `key`.
    pub fn new(key: &crate::Key) -> Fingerprinter {
        Fingerprinter {
            key: *key.as_bytes(),
        }
    }

    /// The fingerprint of `value` (already canonical) in `domain`.
    pub fn fp(&self, domain: Domain, value: &str) -> Fp {
        let mut buf = [0u8; 192];
        let bytes = value.as_bytes();
        let h = if bytes.len() + 2 <= buf.len() {
            buf[0] = domain as u8;
            buf[2..2 + bytes.len()].copy_from_slice(bytes);
            blake3::keyed_hash(&self.key, &buf[..2 + bytes.len()])
        } else {
            let mut h = blake3::Hasher::new_keyed(&self.key);
            h.update(&[domain as u8, 0]);
            h.update(bytes);
            h.finalize()
        };
        let mut b = [0u8; 16];
        b.copy_from_slice(&h.as_bytes()[..16]);
        u128::from_be_bytes(b)
    }

    /// The fingerprints of a name's one-edit neighbourhood (itself and its one-deletion forms).
    pub fn deletions(&self, kind: NameKind, canonical: &str) -> Vec<Fp> {
        let d = kind.domains().1;
        name::deletions(canonical)
            .iter()
            .map(|s| self.fp(d, s))
            .collect()
    }

    /// Every fingerprint of a row, given each value's column type. `age_ref` is the date at
    /// which ages in the row were true (the extract date); without it ages are ignored.
    pub fn row(&self, cells: &[(ColumnType, &str)], age_ref: Option<Ymd>) -> RowPrints {
        self.row_cached(cells, age_ref, &mut Cache::default())
    }

    /// [`Fingerprinter::row`] with a cache for values that repeat across rows (names, towns,
    /// postal codes, years, sex): callers processing many rows keep one cache per thread.
    pub fn row_cached(
        &self,
        cells: &[(ColumnType, &str)],
        age_ref: Option<Ymd>,
        cache: &mut Cache,
    ) -> RowPrints {
        use ColumnType as T;
        let mut out = RowPrints {
            prints: Vec::with_capacity(32),
            names: Vec::new(),
            email_spells_name: false,
        };
        let mut lasts: Vec<String> = Vec::new();
        let mut firsts: Vec<String> = Vec::new();
        let mut births: Vec<Ymd> = Vec::new();
        let mut years: Vec<i32> = Vec::new();
        let mut postals: Vec<String> = Vec::new();
        let mut locals: Vec<String> = Vec::new();
        let cached = |cache: &mut Cache, out: &mut RowPrints, d: Domain, v: &str| {
            let fp = cache.get(self, d, v);
            out.prints.push((d, fp));
        };
        for &(ty, raw) in cells {
            let v = raw.trim();
            if v.is_empty() || v.eq_ignore_ascii_case("null") || v == "\\N" {
                continue;
            }
            match ty {
                T::Nir => {
                    if let Some(n) = nir::parse(v) {
                        out.prints
                            .push((Domain::Nir, self.fp(Domain::Nir, n.as_str())));
                    }
                }
                T::Email => {
                    if let Some(e) = email::normalize(v) {
                        out.prints.push((Domain::Email, self.fp(Domain::Email, &e)));
                        locals.push(
                            e.split('@')
                                .next()
                                .unwrap_or("")
                                .chars()
                                .filter(char::is_ascii_alphabetic)
                                .collect::<String>()
                                .to_ascii_uppercase(),
                        );
                    }
                }
                T::Phone => {
                    if let Some(p) = phone::normalize(v) {
                        out.prints.push((Domain::Phone, self.fp(Domain::Phone, &p)));
                    }
                }
                T::Iban => {
                    if let Some(i) = iban::normalize(v) {
                        out.prints.push((Domain::Iban, self.fp(Domain::Iban, &i)));
                    }
                }
                T::LastName => lasts.push(v.to_string()),
                T::FirstName => firsts.push(v.to_string()),
                T::FullName => {
                    if let Some((f, l)) = split_full_name(v) {
                        firsts.push(f);
                        lasts.push(l);
                    } else {
                        cached(cache, &mut out, Domain::NameTokens, &name::tokens(v));
                    }
                }
                T::BirthDate => {
                    if let Some(d) = date::parse(v) {
                        births.push(d);
                    }
                }
                T::Age => {
                    if let (Some(at), Ok(a)) = (age_ref, v.parse::<i32>()) {
                        if (0..=120).contains(&a) {
                            years.push(at.year - a);
                            years.push(at.year - a - 1);
                        }
                    }
                }
                T::Sex => {
                    if let Some(fp) = cache.raw(self, Domain::Sex, v, |v| {
                        canonical_sex(v).map(str::to_string)
                    }) {
                        out.prints.push((Domain::Sex, fp));
                    }
                }
                T::PostalCode => {
                    if let Some(p) = canonical_postal_code(v) {
                        cached(cache, &mut out, Domain::PostalCode, &p);
                        postals.push(p);
                    }
                }
                T::Commune => {
                    if let Some(fp) = cache.raw(self, Domain::Commune, v, canonical_commune) {
                        out.prints.push((Domain::Commune, fp));
                    }
                }
                T::InseeCode => {
                    let c = v.to_ascii_uppercase();
                    if c.len() == 5 {
                        cached(cache, &mut out, Domain::Insee, &c);
                    }
                }
                T::Address => {
                    let a = text::fold(v);
                    if !a.is_empty() {
                        out.prints
                            .push((Domain::Address, self.fp(Domain::Address, &a)));
                    }
                }
                _ => {}
            }
        }
        let mut last_c: Vec<String> = Vec::new();
        let mut first_c: Vec<String> = Vec::new();
        let mut last_ph = Vec::new();
        let mut first_ph = Vec::new();
        let every_name = cache.every_name;
        for l in &lasts {
            let (info, new) = cache.name(self, NameKind::Last, l);
            if info.canonical.is_empty() {
                continue;
            }
            out.prints.push((Domain::LastExact, info.exact));
            out.prints.push((Domain::LastCore, info.core));
            if let Some(p) = info.phonetic_fp {
                out.prints.push((Domain::LastPhonetic, p));
                last_ph.push(info.phonetic.clone());
            }
            if new || every_name {
                out.names.push((NameKind::Last, info.canonical.clone()));
            }
            last_c.push(info.canonical.clone());
        }
        for f in &firsts {
            let (info, new) = cache.name(self, NameKind::First, f);
            if info.canonical.is_empty() {
                continue;
            }
            out.prints.push((Domain::FirstExact, info.exact));
            if let Some(p) = info.phonetic_fp {
                out.prints.push((Domain::FirstPhonetic, p));
                first_ph.push(info.phonetic.clone());
            }
            if new || every_name {
                out.names.push((NameKind::First, info.canonical.clone()));
            }
            first_c.push(info.canonical.clone());
        }
        let mut words: Vec<&str> = Vec::new();
        for l in &lasts {
            for f in &firsts {
                words.clear();
                words.extend(
                    cache.names[0]
                        .get(l.as_str())
                        .iter()
                        .flat_map(|i| i.words.split(' ')),
                );
                words.extend(
                    cache.names[1]
                        .get(f.as_str())
                        .iter()
                        .flat_map(|i| i.words.split(' ')),
                );
                words.retain(|w| !w.is_empty());
                words.sort_unstable();
                let t = words.join(" ");
                out.prints
                    .push((Domain::NameTokens, self.fp(Domain::NameTokens, &t)));
            }
        }
        for b in &births {
            let iso = b.iso();
            cached(cache, &mut out, Domain::BirthDate, &iso);
            years.push(b.year);
            for l in &last_c {
                let k = join(&mut cache.scratch, &[l, &iso]);
                out.prints
                    .push((Domain::BlockLastBirth, self.fp(Domain::BlockLastBirth, k)));
            }
            for f in &first_c {
                let k = join(&mut cache.scratch, &[f, &iso]);
                out.prints
                    .push((Domain::BlockFirstBirth, self.fp(Domain::BlockFirstBirth, k)));
            }
        }
        years.sort_unstable();
        years.dedup();
        for y in &years {
            cached(cache, &mut out, Domain::BirthYear, &y.to_string());
        }
        for l in &last_c {
            for f in &first_c {
                for p in &postals {
                    let k = join(&mut cache.scratch, &[l, f, p]);
                    out.prints.push((
                        Domain::BlockNamesPostal,
                        self.fp(Domain::BlockNamesPostal, k),
                    ));
                }
            }
        }
        // The phonetic key needs an exact birth year (not one guessed from an age).
        for b in &births {
            for l in &last_ph {
                for f in &first_ph {
                    let y = b.year.to_string();
                    let k = join(&mut cache.scratch, &[l, f, &y]);
                    out.prints
                        .push((Domain::BlockPhonetic, self.fp(Domain::BlockPhonetic, k)));
                }
            }
        }
        out.email_spells_name = locals.iter().any(|l| {
            last_c
                .iter()
                .chain(&first_c)
                .any(|n| n.len() >= 3 && l.contains(n.as_str()))
        });
        out.prints.sort_unstable();
        out.prints.dedup();
        out.names.sort_unstable();
        out.names.dedup();
        out
    }
}

/// Normal forms and fingerprints of one name.
#[derive(Debug, Clone, Default)]
pub struct NameInfo {
    pub canonical: String,
    /// Folded words, space-separated.
    pub words: String,
    pub exact: Fp,
    pub core: Fp,
    pub phonetic: String,
    pub phonetic_fp: Option<Fp>,
}

const CACHE_LIMIT: usize = 100_000;

/// A per-thread cache of fingerprints for values that repeat across rows (names, towns, postal
/// codes, years, sex): callers processing many rows keep one per thread. Bounded: a map is
/// cleared when it reaches 100 000 entries.
#[derive(Default)]
pub struct Cache {
    values: Vec<FxHashMap<String, Fp>>,
    raw: Vec<FxHashMap<String, Option<Fp>>>,
    names: [FxHashMap<String, NameInfo>; 2],
    scratch: String,
    /// Put every row's names in [`RowPrints::names`] (lookups), not only those this cache
    /// has not seen yet (enrolment, which collects each distinct name once).
    every_name: bool,
}

/// `parts` joined by `|` into `buf`.
fn join<'a>(buf: &'a mut String, parts: &[&str]) -> &'a str {
    buf.clear();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            buf.push('|');
        }
        buf.push_str(p);
    }
    buf
}

impl Cache {
    /// A cache for fingerprinting rows to look them up: every row lists all its names.
    pub fn for_lookup() -> Cache {
        Cache {
            every_name: true,
            ..Cache::default()
        }
    }

    fn get(&mut self, f: &Fingerprinter, d: Domain, v: &str) -> Fp {
        let i = d as usize;
        if self.values.len() <= i {
            self.values.resize_with(i + 1, FxHashMap::default);
        }
        let m = &mut self.values[i];
        if let Some(fp) = m.get(v) {
            return *fp;
        }
        if m.len() >= CACHE_LIMIT {
            m.clear();
        }
        let fp = f.fp(d, v);
        m.insert(v.to_string(), fp);
        fp
    }

    /// The fingerprint of a raw value whose canonical form `canon` computes (cached by the raw
    /// value, so the normalisation runs once per distinct spelling).
    fn raw(
        &mut self,
        f: &Fingerprinter,
        d: Domain,
        raw: &str,
        canon: impl FnOnce(&str) -> Option<String>,
    ) -> Option<Fp> {
        let i = d as usize;
        if self.raw.len() <= i {
            self.raw.resize_with(i + 1, FxHashMap::default);
        }
        let m = &mut self.raw[i];
        if let Some(fp) = m.get(raw) {
            return *fp;
        }
        if m.len() >= CACHE_LIMIT {
            m.clear();
        }
        let fp = canon(raw).map(|c| f.fp(d, &c));
        m.insert(raw.to_string(), fp);
        fp
    }

    /// The name's forms and whether this cache had not seen it yet.
    fn name(&mut self, f: &Fingerprinter, kind: NameKind, raw: &str) -> (&NameInfo, bool) {
        let m = &mut self.names[kind as usize];
        let new = !m.contains_key(raw);
        if new {
            if m.len() >= CACHE_LIMIT {
                m.clear();
            }
            let words = text::fold(raw);
            let canonical: String = words.chars().filter(|c| !c.is_whitespace()).collect();
            let (exact_d, _) = kind.domains();
            let phonetic = name::phonetic(raw);
            let info = NameInfo {
                exact: f.fp(exact_d, &canonical),
                core: if kind == NameKind::Last {
                    f.fp(Domain::LastCore, &name::core(raw))
                } else {
                    0
                },
                phonetic_fp: (!phonetic.is_empty()).then(|| {
                    f.fp(
                        if kind == NameKind::Last {
                            Domain::LastPhonetic
                        } else {
                            Domain::FirstPhonetic
                        },
                        &phonetic,
                    )
                }),
                phonetic,
                canonical,
                words,
            };
            m.insert(raw.to_string(), info);
        }
        (&m[raw], new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Key;
    use ColumnType as T;

    fn fpr() -> Fingerprinter {
        Fingerprinter::new(&Key::from_bytes([7; 32]))
    }

    #[test]
    fn domains_separate_and_keys_matter() {
        let f = fpr();
        assert_ne!(
            f.fp(Domain::LastExact, "MARTIN"),
            f.fp(Domain::FirstExact, "MARTIN")
        );
        let g = Fingerprinter::new(&Key::from_bytes([8; 32]));
        assert_ne!(
            f.fp(Domain::LastExact, "MARTIN"),
            g.fp(Domain::LastExact, "MARTIN")
        );
        let long = "X".repeat(500);
        assert_eq!(f.fp(Domain::Address, &long), f.fp(Domain::Address, &long));
        assert_ne!(
            f.fp(Domain::Address, &long),
            f.fp(Domain::Address, &long[1..])
        );
        for (i, d) in Domain::ALL.iter().enumerate() {
            assert!(Domain::ALL[..i].iter().all(|e| e.bit() != d.bit()));
        }
    }

    #[test]
    fn format_drift_gives_the_same_prints() {
        let f = fpr();
        let a = f.row(
            &[
                (T::Nir, "1 82 08 31 184 779 79"),
                (T::Email, " Martin.Vincent@SFR.fr"),
                (T::Phone, "06 63 26 44 24"),
                (T::LastName, "Martin"),
                (T::FirstName, "Vincent"),
                (T::BirthDate, "02/08/1982"),
                (T::PostalCode, "31130"),
                (T::Commune, "St-Orens"),
                (T::Sex, "M."),
            ],
            None,
        );
        let b = f.row(
            &[
                (T::Sex, "1"),
                (T::Commune, "SAINT ORENS"),
                (T::PostalCode, "31130"),
                (T::BirthDate, "1982-08-02"),
                (T::FirstName, "VINCENT"),
                (T::LastName, "MARTIN"),
                (T::Phone, "+33663264424"),
                (T::Email, "martin.vincent@sfr.fr"),
                (T::Nir, "182083118477979"),
            ],
            None,
        );
        assert_eq!(a, b);
        assert!(a.of(Domain::BlockNamesPostal).count() == 1);
        assert!(a.present() & Domain::Nir.bit() != 0);
        // A full name splits on the first-name dictionary into the same names.
        let c = f.row(&[(T::FullName, "Vincent MARTIN")], None);
        assert_eq!(
            c.of(Domain::LastExact).next(),
            a.of(Domain::LastExact).next()
        );
        assert_eq!(
            c.of(Domain::NameTokens).next(),
            a.of(Domain::NameTokens).next()
        );
    }

    #[test]
    fn ages_give_two_birth_years() {
        let f = fpr();
        let at = date::parse("2023-06-15");
        let r = f.row(&[(T::Age, "40")], at);
        assert_eq!(r.of(Domain::BirthYear).count(), 2);
        let y = f.row(&[(T::BirthDate, "1982-08-02")], None);
        let y82 = y.of(Domain::BirthYear).next().unwrap();
        assert!(r.of(Domain::BirthYear).any(|x| x == y82));
        assert!(f.row(&[(T::Age, "40")], None).prints.is_empty());
    }

    #[test]
    fn invalid_values_give_nothing() {
        let f = fpr();
        let r = f.row(
            &[
                (T::Nir, "182083118477978"),
                (T::Email, "nope"),
                (T::Phone, "12"),
                (T::BirthDate, "31/02/1990"),
                (T::PostalCode, "ABCDE"),
                (T::LastName, "  "),
            ],
            None,
        );
        assert!(r.prints.is_empty(), "{r:?}");
    }

    #[test]
    fn communes_and_postal_codes() {
        assert_eq!(
            canonical_commune("Saint-Étienne CEDEX 2").as_deref(),
            Some("SAINTETIENNE")
        );
        assert_eq!(
            canonical_commune("ST ETIENNE").as_deref(),
            Some("SAINTETIENNE")
        );
        assert_eq!(canonical_commune("Paris 11e").as_deref(), Some("PARIS"));
        assert_eq!(canonical_postal_code("1000").as_deref(), Some("01000"));
        assert_eq!(canonical_postal_code("123"), None);
        assert_eq!(canonical_sex("Mme"), Some("2"));
        assert_eq!(canonical_sex("x"), None);
    }
}
