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

use leaktrace_pii::date::{self, Ymd};
use leaktrace_pii::{email, iban, ident, name, nir, phone, refdata, text, ColumnType};
use serde::{Deserialize, Serialize};

mod cache;

pub use crate::canonical::{
    canonical_commune, canonical_postal_code, canonical_sex, split_full_name,
};
use cache::join;
pub use cache::{Cache, NameInfo};

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
    /// Generic identifier (customer or account number, foreign social security number,
    /// matricule): `leaktrace_pii::ident::normalize`.
    Identifier = 5,
    /// Half of a generic identifier: `H:` + its first ⌊n/2⌋ characters, `T:` + its last
    /// ⌊n/2⌋ (a typo or swap in one half leaves the other), when the identifier has 6 or more.
    IdentifierHalf = 6,
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
    /// Postal address, folded, its columns joined in order.
    Address = 43,
    /// One-deletion variants of a commune's canonical form (neighbourhood table only).
    CommuneDeletion = 44,
    /// One-deletion variants of a postal code (neighbourhood table only).
    PostalDeletion = 45,
    /// Sorted word set of an address, or of one of its columns: keyed BLAKE3 of the sorted
    /// [`Domain::AddressWord`] fingerprints of its words.
    AddressTokens = 46,
    /// One folded word of an address (neighbourhood table only, and inside
    /// [`Domain::AddressTokens`] keys).
    AddressWord = 47,
    /// One-deletion variants of an address word (neighbourhood table only).
    AddressWordDeletion = 48,
    /// Blocking key: surname + birth date.
    BlockLastBirth = 50,
    /// Blocking key: first name + birth date.
    BlockFirstBirth = 51,
    /// Blocking key: surname + first name + postal code.
    BlockNamesPostal = 52,
    /// Blocking key: phonetic surname + phonetic first name + birth year.
    BlockPhonetic = 53,
    /// Blocking key: surname + first name + commune (canonical forms).
    BlockNamesCommune = 54,
    /// Blocking key: the surname's [`Domain::LastExact`] fingerprint + the birth date's
    /// [`Domain::BirthDate`] fingerprint ([`Fingerprinter::pair_key`]); linking forms it for
    /// surnames one edit away too. Replaces [`Domain::BlockLastBirth`] in new segments.
    BlockLastNearBirth = 55,
    /// Blocking key: as [`Domain::BlockLastNearBirth`] with the first name. Replaces
    /// [`Domain::BlockFirstBirth`] in new segments.
    BlockFirstNearBirth = 56,
}

impl Domain {
    /// Every domain, in number order.
    pub const ALL: [Domain; 33] = [
        Domain::Nir,
        Domain::Email,
        Domain::Phone,
        Domain::Iban,
        Domain::Identifier,
        Domain::IdentifierHalf,
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
        Domain::CommuneDeletion,
        Domain::PostalDeletion,
        Domain::AddressTokens,
        Domain::AddressWord,
        Domain::AddressWordDeletion,
        Domain::BlockLastBirth,
        Domain::BlockFirstBirth,
        Domain::BlockNamesPostal,
        Domain::BlockPhonetic,
        Domain::BlockNamesCommune,
        Domain::BlockLastNearBirth,
        Domain::BlockFirstNearBirth,
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
                | Domain::Identifier
                | Domain::IdentifierHalf
                | Domain::AddressTokens
                | Domain::NameTokens
                | Domain::BlockLastBirth
                | Domain::BlockFirstBirth
                | Domain::BlockNamesPostal
                | Domain::BlockPhonetic
                | Domain::BlockNamesCommune
                | Domain::BlockLastNearBirth
                | Domain::BlockFirstNearBirth
        )
    }

    /// Name used in explanations and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Nir => "nir",
            Domain::Email => "email",
            Domain::Phone => "phone",
            Domain::Iban => "iban",
            Domain::Identifier => "identifier",
            Domain::IdentifierHalf => "identifier_half",
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
            Domain::CommuneDeletion => "commune_deletion",
            Domain::PostalDeletion => "postal_code_deletion",
            Domain::AddressTokens => "address_tokens",
            Domain::AddressWord => "address_word",
            Domain::AddressWordDeletion => "address_word_deletion",
            Domain::BlockLastBirth => "block_last_birth",
            Domain::BlockFirstBirth => "block_first_birth",
            Domain::BlockNamesPostal => "block_names_postal",
            Domain::BlockPhonetic => "block_phonetic",
            Domain::BlockNamesCommune => "block_names_commune",
            Domain::BlockLastNearBirth => "block_last_near_birth",
            Domain::BlockFirstNearBirth => "block_first_near_birth",
        }
    }
}

/// Which kind of value a neighbourhood entry belongs to: names, and the places compared as
/// text (towns, postal codes, address words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameKind {
    Last,
    First,
    /// A commune or town, canonical form ([`canonical_commune`]).
    Town,
    /// A postal code (five digits, or a foreign code padded as [`canonical_postal_code`]).
    Postal,
    /// One folded word of an address.
    Word,
}

impl NameKind {
    /// (exact domain, deletion domain)
    pub fn domains(self) -> (Domain, Domain) {
        match self {
            NameKind::Last => (Domain::LastExact, Domain::LastDeletion),
            NameKind::First => (Domain::FirstExact, Domain::FirstDeletion),
            NameKind::Town => (Domain::Commune, Domain::CommuneDeletion),
            NameKind::Postal => (Domain::PostalCode, Domain::PostalDeletion),
            NameKind::Word => (Domain::AddressWord, Domain::AddressWordDeletion),
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
    /// The row's postal code and town are not a French pair (a foreign postcode or town):
    /// one does not imply the other, so both count.
    pub places_independent: bool,
    /// Folded words of each address column, in column order (kept in memory only, to form
    /// the address's one-edit variants when linking).
    pub address: Vec<Vec<String>>,
}

impl RowPrints {
    /// Bit mask of the domains present.
    pub fn present(&self) -> u64 {
        self.prints.iter().fold(0, |m, (d, _)| m | d.bit())
    }

    /// Fingerprints of one domain.
    pub fn of(&self, d: Domain) -> impl Iterator<Item = Fp> + '_ {
        // `prints` is sorted: the domain's run is found by binary search.
        let start = self.prints.partition_point(|(x, _)| *x < d);
        self.prints[start..]
            .iter()
            .take_while(move |(x, _)| *x == d)
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

impl Fingerprinter {
    /// A fingerprinter for `key`.
    pub fn new(key: &crate::Key) -> Fingerprinter {
        Fingerprinter {
            key: *key.as_bytes(),
        }
    }

    /// The keyed pseudonym (`~<16 hex>`) stored instead of a person id that is itself personal
    /// data (a NIR, an e-mail), from the id as written in the enrolled file (trimmed).
    pub fn pseudonym(&self, id: &str) -> String {
        format!("~{:016x}", (self.fp(Domain::Nir, id.trim()) >> 64) as u64)
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

    /// The fingerprint of raw bytes in `domain` (keys made of other fingerprints; `domain` is
    /// never used for strings).
    fn fp_bytes(&self, domain: Domain, bytes: &[u8]) -> Fp {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(&[domain as u8, 0]);
        h.update(bytes);
        let mut b = [0u8; 16];
        b.copy_from_slice(&h.finalize().as_bytes()[..16]);
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
        let mut out = RowPrints {
            prints: Vec::with_capacity(32),
            ..RowPrints::default()
        };
        let mut parts = Parts::default();
        cache.trim();
        for &(ty, raw) in cells {
            let v = raw.trim();
            if !(v.is_empty() || v.eq_ignore_ascii_case("null") || v == "\\N") {
                self.cell(ty, v, age_ref, cache, &mut out, &mut parts);
            }
        }
        let names = self.names(&parts, cache, &mut out);
        out.places_independent = parts.places_independent(cache);
        self.blocking_keys(&parts, &names, cache, &mut out);
        self.address(&parts, cache, &mut out);
        out.email_spells_name = parts.locals.iter().any(|l| {
            names
                .last
                .iter()
                .chain(&names.first)
                .any(|n| n.len() >= 3 && l.contains(n.as_str()))
        });
        out.prints.sort_unstable();
        out.prints.dedup();
        out.names.sort_unstable();
        out.names.dedup();
        out
    }

    /// Phase 1 of [`Fingerprinter::row_cached`]: the fingerprints of one present value, and
    /// what later phases combine (names, dates, places) kept in `parts`.
    fn cell(
        &self,
        ty: ColumnType,
        v: &str,
        age_ref: Option<Ymd>,
        cache: &mut Cache,
        out: &mut RowPrints,
        parts: &mut Parts,
    ) {
        use ColumnType as T;
        let push = |out: &mut RowPrints, d: Domain, c: Option<String>| {
            if let Some(c) = c {
                out.prints.push((d, self.fp(d, &c)));
            }
        };
        match ty {
            T::Nir => push(
                out,
                Domain::Nir,
                nir::parse(v).map(|n| n.as_str().to_string()),
            ),
            T::Email => {
                if let Some(e) = email::normalize(v) {
                    parts.locals.push(email_local_letters(&e));
                    push(out, Domain::Email, Some(e));
                }
            }
            T::Phone => push(out, Domain::Phone, phone::normalize(v)),
            T::Iban => push(out, Domain::Iban, iban::normalize(v)),
            T::Identifier => {
                if let Some(id) = ident::normalize(v) {
                    for h in identifier_halves(&id) {
                        push(out, Domain::IdentifierHalf, Some(h));
                    }
                    push(out, Domain::Identifier, Some(id));
                }
            }
            T::LastName => parts.lasts.push(v.to_string()),
            T::FirstName => parts.firsts.push(v.to_string()),
            T::FullName => {
                if let Some((f, l)) = split_full_name(v) {
                    parts.firsts.push(f);
                    parts.lasts.push(l);
                } else {
                    let fp = cache.get(self, Domain::NameTokens, &name::tokens(v));
                    out.prints.push((Domain::NameTokens, fp));
                }
            }
            T::BirthDate => parts.births.extend(date::parse(v)),
            T::Age => {
                if let (Some(at), Ok(a)) = (age_ref, v.parse::<i32>()) {
                    if (0..=120).contains(&a) {
                        parts.years.push(at.year - a);
                        parts.years.push(at.year - a - 1);
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
                    let fp = cache.get(self, Domain::PostalCode, &p);
                    out.prints.push((Domain::PostalCode, fp));
                    cache.place(NameKind::Postal, &p, out);
                    parts.postals.push(p);
                }
            }
            T::Commune => {
                if let Some(c) = canonical_commune(v) {
                    let fp = cache.get(self, Domain::Commune, &c);
                    out.prints.push((Domain::Commune, fp));
                    cache.place(NameKind::Town, &c, out);
                    parts.communes.push(c);
                    parts.commune_raw.push(v.to_string());
                }
            }
            T::InseeCode => {
                let c = v.to_ascii_uppercase();
                if c.len() == 5 {
                    out.prints
                        .push((Domain::Insee, cache.get(self, Domain::Insee, &c)));
                }
            }
            T::Address => {
                let words: Vec<String> = text::fold(v)
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect();
                if !words.is_empty() {
                    parts.address.push(words);
                }
            }
            _ => {}
        }
    }

    /// Phase 2: name fingerprints (exact, core, phonetic) and the sorted name tokens.
    fn names(&self, parts: &Parts, cache: &mut Cache, out: &mut RowPrints) -> Names {
        let mut n = Names::default();
        let every_name = cache.every_name;
        // Per kind, the cache index of each raw name's forms (for the name tokens below).
        let mut at: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
        for (kind, raws) in [
            (NameKind::Last, &parts.lasts),
            (NameKind::First, &parts.firsts),
        ] {
            for l in raws {
                let (i, new) = cache.name(self, kind, l);
                at[kind as usize].push(i);
                let info = cache.info(kind, i);
                if info.canonical.is_empty() {
                    continue;
                }
                let (exact_d, _) = kind.domains();
                out.prints.push((exact_d, info.exact));
                if kind == NameKind::Last {
                    out.prints.push((Domain::LastCore, info.core));
                }
                let ph_d = match kind {
                    NameKind::Last => Domain::LastPhonetic,
                    _ => Domain::FirstPhonetic,
                };
                if let Some(p) = info.phonetic_fp {
                    out.prints.push((ph_d, p));
                }
                if new || every_name {
                    out.names.push((kind, info.canonical.clone()));
                }
                let (canon, exact, ph) = match kind {
                    NameKind::Last => (&mut n.last, &mut n.last_fp, &mut n.last_ph),
                    _ => (&mut n.first, &mut n.first_fp, &mut n.first_ph),
                };
                canon.push(info.canonical.clone());
                exact.push(info.exact);
                if info.phonetic_fp.is_some() {
                    ph.push(info.phonetic.clone());
                }
            }
        }
        let mut words: Vec<&str> = Vec::new();
        for &l in &at[NameKind::Last as usize] {
            for &f in &at[NameKind::First as usize] {
                words.clear();
                for (kind, i) in [(NameKind::Last, l), (NameKind::First, f)] {
                    words.extend(cache.info(kind, i).words.split(' '));
                }
                words.retain(|w| !w.is_empty());
                words.sort_unstable();
                let t = words.join(" ");
                out.prints
                    .push((Domain::NameTokens, self.fp(Domain::NameTokens, &t)));
            }
        }
        n
    }

    /// Phase 3: birth dates and years, and the blocking keys that combine names with a birth
    /// date, a postal code or a town.
    fn blocking_keys(&self, parts: &Parts, n: &Names, cache: &mut Cache, out: &mut RowPrints) {
        let mut years = parts.years.clone();
        for b in &parts.births {
            let iso = b.iso();
            let birth_fp = cache.get(self, Domain::BirthDate, &iso);
            out.prints.push((Domain::BirthDate, birth_fp));
            years.push(b.year);
            // Keyed by the name's fingerprint, so that linking can form the key of a name one
            // edit away from the row's (found in a segment's neighbourhood table).
            for (d, fps) in [
                (Domain::BlockLastNearBirth, &n.last_fp),
                (Domain::BlockFirstNearBirth, &n.first_fp),
            ] {
                for name_fp in fps {
                    out.prints.push((d, self.pair_key(d, *name_fp, birth_fp)));
                }
            }
            // The keys of format 1 and 2 segments, for lookups only (enrolment writes the
            // near-birth keys above instead).
            if cache.every_name {
                for (d, names) in [
                    (Domain::BlockLastBirth, &n.last),
                    (Domain::BlockFirstBirth, &n.first),
                ] {
                    for l in names {
                        let k = join(&mut cache.scratch, &[l, &iso]);
                        out.prints.push((d, self.fp(d, k)));
                    }
                }
            }
        }
        years.sort_unstable();
        years.dedup();
        for y in &years {
            let fp = cache.year(self, *y);
            out.prints.push((Domain::BirthYear, fp));
        }
        // Names + town: always enrolled; looked up when the row has no postal code or a
        // foreign one (beside a French postal code, names + postal code finds the same persons).
        let no_town = cache.every_name && !parts.postals.is_empty() && !out.places_independent;
        let communes: &[String] = if no_town { &[] } else { &parts.communes };
        for l in &n.last {
            for f in &n.first {
                for (d, places) in [
                    (Domain::BlockNamesPostal, &parts.postals[..]),
                    (Domain::BlockNamesCommune, communes),
                ] {
                    for p in places {
                        let k = join(&mut cache.scratch, &[l, f, p]);
                        out.prints.push((d, self.fp(d, k)));
                    }
                }
            }
        }
        // The phonetic key needs an exact birth year (not one guessed from an age).
        for b in &parts.births {
            for l in &n.last_ph {
                for f in &n.first_ph {
                    let y = b.year.to_string();
                    let k = join(&mut cache.scratch, &[l, f, &y]);
                    out.prints
                        .push((Domain::BlockPhonetic, self.fp(Domain::BlockPhonetic, k)));
                }
            }
        }
    }

    /// Phase 4: the address, its columns joined in order — exact (folded) and as sorted word
    /// sets of the whole and of each column ([`Fingerprinter::words_key`]); its words go to the
    /// segment's neighbourhood table for one-edit comparisons.
    fn address(&self, parts: &Parts, cache: &mut Cache, out: &mut RowPrints) {
        if parts.address.is_empty() {
            return;
        }
        let whole: Vec<&str> = parts.address.iter().flatten().map(String::as_str).collect();
        let a = whole.join(" ");
        out.prints
            .push((Domain::Address, self.fp(Domain::Address, &a)));
        let mut keys = vec![self.words_key(&self.word_fps(whole.iter().copied()))];
        if parts.address.len() > 1 {
            for p in &parts.address {
                keys.push(self.words_key(&self.word_fps(p.iter().map(String::as_str))));
            }
        }
        out.prints
            .extend(keys.into_iter().map(|k| (Domain::AddressTokens, k)));
        for w in whole {
            cache.place(NameKind::Word, w, out);
        }
        out.address = parts.address.clone();
    }

    /// The fingerprints of address words (in [`Domain::AddressWord`]), sorted.
    pub fn word_fps<'w>(&self, words: impl Iterator<Item = &'w str>) -> Vec<Fp> {
        let mut fps: Vec<Fp> = words.map(|w| self.fp(Domain::AddressWord, w)).collect();
        fps.sort_unstable();
        fps
    }

    /// The [`Domain::AddressTokens`] key of a set of word fingerprints (sorted first, so the
    /// order of words does not matter).
    pub fn words_key(&self, words: &[Fp]) -> Fp {
        let mut sorted = words.to_vec();
        sorted.sort_unstable();
        let bytes: Vec<u8> = sorted.iter().flat_map(|f| f.to_be_bytes()).collect();
        self.fp_bytes(Domain::AddressTokens, &bytes)
    }

    /// A blocking key made of two fingerprints (a name's and a birth date's).
    pub fn pair_key(&self, d: Domain, a: Fp, b: Fp) -> Fp {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(&a.to_be_bytes());
        bytes[16..].copy_from_slice(&b.to_be_bytes());
        self.fp_bytes(d, &bytes)
    }
}

/// Identifiers with fewer characters have no halves (a half of two would be held by too many).
pub const MIN_HALVES: usize = 6;

/// The two halves of a normalised identifier (see [`Domain::IdentifierHalf`]).
pub fn identifier_halves(id: &str) -> Vec<String> {
    let n = id.len();
    if n < MIN_HALVES || !id.is_ascii() {
        return Vec::new();
    }
    vec![
        format!("H:{}", &id[..n / 2]),
        format!("T:{}", &id[n - n / 2..]),
    ]
}

/// The letters of an e-mail's local part, upper case (`marie.martin56` → `MARIEMARTIN`).
fn email_local_letters(e: &str) -> String {
    e.split('@')
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// What the phases of [`Fingerprinter::row_cached`] combine: the row's names, dates and places.
#[derive(Default)]
struct Parts {
    lasts: Vec<String>,
    firsts: Vec<String>,
    births: Vec<Ymd>,
    years: Vec<i32>,
    postals: Vec<String>,
    communes: Vec<String>,
    commune_raw: Vec<String>,
    /// Folded words of each address column, in column order.
    address: Vec<Vec<String>>,
    /// Letters of the e-mails' local parts.
    locals: Vec<String>,
}

impl Parts {
    /// Whether the row's postal code and town are not a French pair (a foreign postcode or
    /// town): then one does not imply the other and both count. Only asked of rows with both.
    fn places_independent(&self, cache: &mut Cache) -> bool {
        if self.postals.is_empty() || self.communes.is_empty() {
            return false;
        }
        let r = refdata::get();
        self.postals.iter().any(|p| !r.is_postal_code(p))
            || self.commune_raw.iter().any(|c| {
                !cache.is_french_town(c, |c| r.is_commune(c) || r.is_commune(&commune_words(c)))
            })
    }
}

/// A commune name folded with its words spelt out as in the INSEE list (`ST-ORENS CEDEX` →
/// `SAINT ORENS`), for the dictionary lookup.
fn commune_words(v: &str) -> String {
    let f = text::fold(v);
    let mut words: Vec<&str> = Vec::new();
    for w in f.split(' ') {
        match w {
            "ST" => words.push("SAINT"),
            "STE" => words.push("SAINTE"),
            "CEDEX" => break,
            w if w.is_empty() || w.bytes().all(|b| b.is_ascii_digit()) => {}
            w => words.push(w),
        }
    }
    words.join(" ")
}

/// A row's canonical names, their exact fingerprints and phonetic codes.
#[derive(Default)]
struct Names {
    last: Vec<String>,
    first: Vec<String>,
    last_fp: Vec<Fp>,
    first_fp: Vec<Fp>,
    last_ph: Vec<String>,
    first_ph: Vec<String>,
}

#[cfg(test)]
mod tests;
