//! Column typing: what each column of a leaked file holds.
//!
//! A [`ColumnTyper`] accumulates *value evidence* — the share of non-empty values that pass
//! each validator or dictionary (NIR with key, e-mail, French phone, existing postal code,
//! INSEE code, commune, first-name and surname dictionaries, ROME code, dates, …) — and
//! [`ColumnTyper::finish`] combines it with *header evidence* (French/English synonyms,
//! [`header::hint`]). Values decide when the header lies; the header breaks ties between types
//! whose values overlap (postal vs INSEE codes, surnames vs first names).
//!
//! Typers [`merge`](ColumnTyper::merge), so batches can be typed in parallel. Only counts and a
//! hash sketch are kept, plus a few *masked* examples: no value is stored.

use leaktrace_pii::{date, email, iban, ident, mask, nir, phone, refdata, text, ColumnType};
use serde::Serialize;

pub mod header;
mod scanfile;

pub use scanfile::{
    override_conformity, scan_path, type_rows, Confirmation, Confirmer, ScanError, ScanOptions,
    ScanReport, TableReport, OVERRIDE_MIN_VALID,
};

/// Value detectors, in tie-break priority order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Det {
    Nir,
    Iban,
    Email,
    Phone,
    Rome,
    Hash,
    Ip,
    Date,
    PostalCode,
    InseeCode,
    Latitude,
    Longitude,
    Age,
    Integer,
    Decimal,
    Boolean,
    Sex,
    Education,
    FirstName,
    LastName,
    FirstOnly,
    LastOnly,
    Commune,
    FullName,
    IdLike,
    Identifier,
}

const DETS: [Det; 26] = [
    Det::Nir,
    Det::Iban,
    Det::Email,
    Det::Phone,
    Det::Rome,
    Det::Hash,
    Det::Ip,
    Det::Date,
    Det::PostalCode,
    Det::InseeCode,
    Det::Latitude,
    Det::Longitude,
    Det::Age,
    Det::Integer,
    Det::Decimal,
    Det::Boolean,
    Det::Sex,
    Det::Education,
    Det::FirstName,
    Det::LastName,
    Det::FirstOnly,
    Det::LastOnly,
    Det::Commune,
    Det::FullName,
    Det::IdLike,
    Det::Identifier,
];

fn is_hash(v: &str) -> bool {
    (matches!(v.len(), 32 | 40 | 64 | 128) && v.chars().all(|c| c.is_ascii_hexdigit()))
        || v.starts_with("$2y$")
        || v.starts_with("$2b$")
        || v.starts_with("$argon2")
}

fn is_ip(v: &str) -> bool {
    v.parse::<std::net::IpAddr>().is_ok()
}

/// Whether value `v` passes detector `d`; `folded` is `text::fold(v)` when `d` reads the folded
/// form. With `own_fold`, `folded` is known to be its own fold (true of the fold of ASCII
/// text), so dictionaries look it up as is rather than folding it again.
#[cfg(test)]
fn detect(d: Det, v: &str, folded: &str) -> bool {
    detect_with(d, v, folded, false)
}

fn detect_with(d: Det, v: &str, folded: &str, own_fold: bool) -> bool {
    let r = refdata::get();
    let first = |w: &str| {
        if own_fold {
            r.is_first_name_folded(w)
        } else {
            r.is_first_name(w)
        }
    };
    let last = |w: &str| {
        if own_fold {
            r.last_name_rank_folded(w).is_some()
        } else {
            r.last_name_rank(w).is_some()
        }
    };
    match d {
        Det::Nir => nir::is_valid(v),
        Det::Iban => iban::is_valid(v),
        Det::Email => email::is_valid(v),
        Det::Phone => phone::is_valid(v) && v.bytes().filter(u8::is_ascii_digit).count() >= 9,
        Det::Rome => v.len() == 5 && r.is_rome_code(v),
        Det::Hash => is_hash(v),
        Det::Ip => is_ip(v),
        Det::Date => date::parse(v).is_some(),
        Det::PostalCode => v.len() == 5 && r.is_postal_code(v),
        Det::InseeCode => v.len() == 5 && r.is_insee_code(v),
        Det::Latitude => {
            v.contains('.')
                && v.parse::<f64>()
                    .is_ok_and(|x| (-22.0..=52.0).contains(&x) && x.abs() > 1e-9)
        }
        Det::Longitude => {
            v.contains('.')
                && v.parse::<f64>()
                    .is_ok_and(|x| (-180.0..=180.0).contains(&x))
        }
        Det::Age => v.len() <= 3 && v.parse::<u32>().is_ok_and(|a| (14..=110).contains(&a)),
        Det::Integer => v.parse::<i64>().is_ok(),
        Det::Decimal => v.replace(',', ".").parse::<f64>().is_ok(),
        Det::Boolean => matches!(
            folded,
            "OUI"
                | "NON"
                | "TRUE"
                | "FALSE"
                | "YES"
                | "NO"
                | "O"
                | "N"
                | "Y"
                | "0"
                | "1"
                | "VRAI"
                | "FAUX"
        ),
        Det::Sex => matches!(
            folded,
            "M" | "F"
                | "H"
                | "MME"
                | "MLLE"
                | "MR"
                | "HOMME"
                | "FEMME"
                | "MASCULIN"
                | "FEMININ"
                | "MALE"
                | "FEMALE"
        ),
        Det::Education => [
            "BAC", "CAP", "BEP", "DIPLOME", "BREVET", "LICENCE", "MASTER", "DOCTORAT", "BTS", "DUT",
        ]
        .iter()
        .any(|k| folded.split(' ').any(|w| w == *k)),
        Det::FirstName => first(folded),
        Det::LastName => last(folded),
        Det::FirstOnly => first(folded) && !last(folded),
        Det::LastOnly => last(folded) && !first(folded),
        Det::Commune => {
            if own_fold {
                r.is_commune_folded(folded)
            } else {
                r.is_commune(folded)
            }
        }
        Det::FullName => {
            let w: Vec<&str> = folded.split(' ').collect();
            w.len() >= 2
                && w.len() <= 4
                && (first(w[0]) || first(w[w.len() - 1]))
                && w.iter().all(|x| x.chars().all(char::is_alphabetic))
        }
        Det::IdLike => {
            v.len() >= 4
                && v.len() <= 40
                && v.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
                && v.bytes().any(|c| c.is_ascii_digit())
        }
        Det::Identifier => ident::is_valid(v),
    }
}

/// The detector whose hits support `ty`, used to confirm a type on the whole file; `None` for
/// types no validator or dictionary checks (address, password, text, unknown).
fn det_of(ty: ColumnType) -> Option<Det> {
    use ColumnType as T;
    Some(match ty {
        T::Nir => Det::Nir,
        T::Email => Det::Email,
        T::Phone => Det::Phone,
        T::LastName => Det::LastName,
        T::FirstName => Det::FirstName,
        T::FullName => Det::FullName,
        T::BirthDate | T::Date => Det::Date,
        T::Age => Det::Age,
        T::Sex => Det::Sex,
        T::PostalCode => Det::PostalCode,
        T::InseeCode => Det::InseeCode,
        T::Commune => Det::Commune,
        T::Latitude => Det::Latitude,
        T::Longitude => Det::Longitude,
        T::RomeCode => Det::Rome,
        T::EducationLevel => Det::Education,
        T::Boolean => Det::Boolean,
        T::Iban => Det::Iban,
        T::PasswordHash => Det::Hash,
        T::IpAddress => Det::Ip,
        T::PersonId => Det::IdLike,
        T::Identifier => Det::Identifier,
        T::Number => Det::Decimal,
        T::Address | T::Password | T::Text | T::Unknown => return None,
    })
}

/// A value with surrounding blanks removed, or `None` when it counts as missing (empty,
/// `null`, `\N`).
pub(crate) fn present(value: &str) -> Option<&str> {
    let v = text::trim(value);
    (!(v.is_empty() || v.eq_ignore_ascii_case("null") || v == "\\N")).then_some(v)
}

impl Det {
    /// Whether the detector reads the folded form (dictionaries and word lists).
    fn reads_folded(self) -> bool {
        matches!(
            self,
            Det::Boolean
                | Det::Sex
                | Det::Education
                | Det::FirstName
                | Det::LastName
                | Det::FirstOnly
                | Det::LastOnly
                | Det::Commune
                | Det::FullName
        )
    }

    /// Whether the detector looks a value up in a dictionary or word list: worth remembering
    /// its verdict per distinct value (other validators are cheaper than a lookup).
    fn memoised(self) -> bool {
        self.reads_folded()
    }
}

/// Whether a present value passes detector `d`, folding it only when `d` reads the folded form.
fn check(d: Det, v: &str) -> bool {
    check_with(d, v, &mut String::new())
}

/// [`check`] with a scratch buffer for the folded form (ASCII values are folded into it without
/// allocating, and looked up without folding again).
fn check_with(d: Det, v: &str, buf: &mut String) -> bool {
    if !d.reads_folded() {
        return detect_with(d, v, "", false);
    }
    if text::fold_ascii_into(v, buf) {
        detect_with(d, v, buf, true)
    } else {
        detect_with(d, v, &text::fold(v), false)
    }
}

/// Whether a value supports type `ty` by the same validator or dictionary that typed the
/// column: `None` when the value is missing or the type has no validator.
pub fn conforms(ty: ColumnType, value: &str) -> Option<bool> {
    Some(check(det_of(ty)?, present(value)?))
}

/// Mean and count of four-digit years seen in dates (to tell birth dates from other dates).
#[derive(Debug, Clone, Default)]
struct Years {
    sum: f64,
    n: u64,
}

/// Least share of distinct values (over at most 10 000 values) for a column the header calls
/// an identifier to be typed `identifier`: a few persons may share one (a household's customer
/// number), but a column of repeated codes is a category.
const IDENTIFIER_DISTINCT: f64 = 0.5;

/// Size of the distinct-count sketch: the k minimum value hashes (KMV). Exact up to k distinct
/// values, about 3 % relative error beyond.
const KMV: usize = 1024;

/// Typing evidence for one column.
#[derive(Debug, Clone)]
pub struct ColumnTyper {
    index: usize,
    pub(crate) name: String,
    rows: u64,
    filled: u64,
    hits: [u64; DETS.len()],
    years: Years,
    kmv: Vec<u64>,
    examples: Vec<String>,
}

/// The typing of one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnReport {
    pub index: usize,
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Share of non-empty values that support the type (plus header agreement), 0–1.
    pub confidence: f64,
    /// Share of rows with a non-empty value.
    pub fill_rate: f64,
    /// Estimated number of distinct values.
    pub distinct_estimate: u64,
    /// Up to three masked examples.
    pub examples: Vec<String>,
    /// The header's suggestion, when it had one.
    pub header_hint: Option<ColumnType>,
    /// The type checked on every row of the file (`scan` only; `None` when not checked).
    pub confirmation: Option<Confirmation>,
}

impl ColumnTyper {
    /// A typer for column `index` named `name` (`col_N` when the file has no header).
    pub fn new(index: usize, name: &str) -> ColumnTyper {
        ColumnTyper {
            index,
            name: name.to_string(),
            rows: 0,
            filled: 0,
            hits: [0; DETS.len()],
            years: Years::default(),
            kmv: Vec::new(),
            examples: Vec::new(),
        }
    }

    /// Add one value (empty and whitespace-only values count as missing).
    pub fn observe(&mut self, value: &str) {
        self.rows += 1;
        let Some(v) = present(value) else {
            return;
        };
        self.filled += 1;
        // ASCII text folds byte by byte into its own fold (dictionaries need not fold it again).
        let mut folded = String::new();
        let own_fold = text::fold_ascii_into(v, &mut folded);
        if !own_fold {
            folded = text::fold(v);
        }
        for (i, d) in DETS.iter().enumerate() {
            if detect_with(*d, v, &folded, own_fold) {
                self.hits[i] += 1;
                if *d == Det::Date {
                    if let Some(y) = date::parse(v).map(|d| d.year) {
                        self.years.sum += f64::from(y);
                        self.years.n += 1;
                    }
                }
            }
        }
        let h = u64::from_le_bytes(
            blake3::hash(v.as_bytes()).as_bytes()[..8]
                .try_into()
                .unwrap_or([0; 8]),
        );
        self.push_hash(h);
        if self.examples.len() < 3 {
            self.examples.push(v.to_string());
        }
    }

    fn push_hash(&mut self, h: u64) {
        if let Err(pos) = self.kmv.binary_search(&h) {
            if pos < KMV {
                self.kmv.insert(pos, h);
                self.kmv.truncate(KMV);
            }
        }
    }

    /// Fold another typer of the same column into this one.
    pub fn merge(&mut self, other: &ColumnTyper) {
        self.rows += other.rows;
        self.filled += other.filled;
        for (a, b) in self.hits.iter_mut().zip(other.hits) {
            *a += b;
        }
        self.years.sum += other.years.sum;
        self.years.n += other.years.n;
        for &h in &other.kmv {
            self.push_hash(h);
        }
        for e in &other.examples {
            if self.examples.len() < 3 {
                self.examples.push(e.clone());
            }
        }
    }

    fn share(&self, d: Det) -> f64 {
        if self.filled == 0 {
            return 0.0;
        }
        let i = DETS.iter().position(|x| *x == d).unwrap_or(0);
        self.hits[i] as f64 / self.filled as f64
    }

    /// Non-empty values seen and how many of them support `ty` (`None`: no validator).
    pub fn conformity(&self, ty: ColumnType) -> Option<(u64, u64)> {
        let d = det_of(ty)?;
        let i = DETS.iter().position(|x| *x == d)?;
        Some((self.filled, self.hits[i]))
    }

    fn distinct(&self) -> u64 {
        if self.kmv.len() < KMV {
            return self.kmv.len() as u64;
        }
        let kth = self.kmv[KMV - 1] as f64 / u64::MAX as f64;
        ((KMV - 1) as f64 / kth) as u64
    }

    /// Decide the column's type.
    pub fn finish(&self) -> ColumnReport {
        let hint = header::hint(&self.name);
        let (ty, confidence) = self.decide(hint);
        ColumnReport {
            index: self.index,
            name: self.name.clone(),
            ty,
            confidence: (confidence * 1000.0).round() / 1000.0,
            fill_rate: if self.rows == 0 {
                0.0
            } else {
                ((self.filled as f64 / self.rows as f64) * 1000.0).round() / 1000.0
            },
            distinct_estimate: self.distinct(),
            examples: self.examples.iter().map(|e| mask::mask(ty, e)).collect(),
            header_hint: hint,
            confirmation: None,
        }
    }

    fn decide(&self, hint: Option<ColumnType>) -> (ColumnType, f64) {
        use ColumnType as T;
        if self.filled == 0 {
            return (hint.unwrap_or(T::Unknown), 0.0);
        }
        let s = |d| self.share(d);
        let strong = 0.8;
        let agree = |t: T| if hint == Some(t) { 0.1 } else { 0.0 };
        let pick = |t: T, share: f64| (t, (share + agree(t)).min(1.0));
        // Strong identifiers first: their validators rarely fire by chance.
        for (d, t) in [
            (Det::Nir, T::Nir),
            (Det::Iban, T::Iban),
            (Det::Email, T::Email),
            (Det::Hash, T::PasswordHash),
            (Det::Ip, T::IpAddress),
        ] {
            if s(d) >= strong {
                return pick(t, s(d));
            }
        }
        // An identifier the header names (customer, account, soc_sec…) whose values are mostly
        // distinct codes: before phones and postal codes, which such numbers may resemble.
        if hint == Some(T::Identifier)
            && s(Det::Identifier) >= strong
            && self.distinct() as f64 >= IDENTIFIER_DISTINCT * self.filled.min(10_000) as f64
        {
            return pick(T::Identifier, s(Det::Identifier));
        }
        if s(Det::Phone) >= strong && s(Det::Integer) < strong * s(Det::Phone) + 0.01
            || s(Det::Phone) >= strong && hint == Some(T::Phone)
            || s(Det::Phone) >= strong && s(Det::PostalCode) < 0.5
        {
            return pick(T::Phone, s(Det::Phone));
        }
        if s(Det::Rome) >= strong {
            return pick(T::RomeCode, s(Det::Rome));
        }
        if s(Det::Date) >= strong {
            let mean_year = self.years.sum / self.years.n.max(1) as f64;
            let t = if hint == Some(T::BirthDate) || (hint != Some(T::Date) && mean_year < 2010.0) {
                T::BirthDate
            } else {
                T::Date
            };
            return pick(t, s(Det::Date));
        }
        if s(Det::PostalCode) >= strong || s(Det::InseeCode) >= strong {
            let t = match hint {
                Some(T::InseeCode) => T::InseeCode,
                Some(T::PostalCode) => T::PostalCode,
                _ if s(Det::PostalCode) >= s(Det::InseeCode) => T::PostalCode,
                _ => T::InseeCode,
            };
            let share = if t == T::PostalCode {
                s(Det::PostalCode)
            } else {
                s(Det::InseeCode)
            };
            return pick(t, share);
        }
        if s(Det::Latitude) >= strong
            && (hint == Some(T::Latitude)
                || hint != Some(T::Longitude) && s(Det::Latitude) >= s(Det::Longitude))
        {
            return pick(T::Latitude, s(Det::Latitude));
        }
        if s(Det::Longitude) >= strong {
            return pick(T::Longitude, s(Det::Longitude));
        }
        if s(Det::Sex) >= strong && hint != Some(T::Boolean) {
            return pick(T::Sex, s(Det::Sex));
        }
        if s(Det::Boolean) >= strong {
            return pick(T::Boolean, s(Det::Boolean));
        }
        if s(Det::Age) >= strong && (hint == Some(T::Age) || self.distinct() <= 100) {
            return pick(T::Age, s(Det::Age));
        }
        if s(Det::Education) >= 0.6 {
            return pick(T::EducationLevel, s(Det::Education));
        }
        if s(Det::IdLike) >= strong
            && (hint == Some(T::PersonId)
                || self.distinct() as f64 >= 0.9 * self.filled.min(10_000) as f64)
            && s(Det::Integer) < 0.5
            || s(Det::Integer) >= strong && hint == Some(T::PersonId)
        {
            return pick(T::PersonId, s(Det::IdLike).max(s(Det::Integer)));
        }
        // Names and places: dictionary shares, with exclusive hits weighing most.
        let first = s(Det::FirstName);
        let last = s(Det::LastName);
        let commune = s(Det::Commune);
        let full = s(Det::FullName);
        let best = first.max(last).max(commune).max(full);
        if best >= 0.5 {
            if full >= 0.6 && full >= first {
                return pick(T::FullName, full);
            }
            if commune >= 0.8
                && hint != Some(T::LastName)
                && (commune >= last || hint == Some(T::Commune))
            {
                return pick(T::Commune, commune);
            }
            let first_only = s(Det::FirstOnly);
            let last_only = s(Det::LastOnly);
            let t = match hint {
                Some(T::FirstName) if first >= 0.5 => T::FirstName,
                Some(T::LastName) if last >= 0.5 => T::LastName,
                _ if first_only > last_only => T::FirstName,
                _ => T::LastName,
            };
            let share = if t == T::FirstName { first } else { last };
            if t == T::LastName && commune > last {
                return pick(T::Commune, commune);
            }
            return pick(t, share);
        }
        // The identifier rule above did not hold (too few distinct values, or values no
        // identifier has): the header alone does not make an identifier.
        let hint = hint.filter(|t| *t != T::Identifier);
        if s(Det::Integer) >= strong || s(Det::Decimal) >= strong {
            return (
                hint.unwrap_or(T::Number),
                s(Det::Decimal).max(s(Det::Integer)) * 0.5,
            );
        }
        // Values are inconclusive: trust the header if it spoke, with low confidence.
        match hint {
            Some(t) => (t, 0.3),
            None => (T::Text, 0.3),
        }
    }
}

#[cfg(test)]
mod tests;
