//! Who is exposed with what: the persons a row's values belong to, and the data categories
//! of each.
//!
//! A row whose values are one person's ([`RowClass::Strong`], [`RowClass::Weak`]) exposes
//! every personal column it fills for its linked person, as it always did. A contradictory row
//! ([`RowClass::Contradictory`]) exposes, for each person its values point to, only the columns
//! holding *that person's* values: the identifier holder gets the identifiers (and any other
//! value it holds exactly, sex excepted: half the population shares it), the person the names
//! and dates describe gets the names and dates. A column no enrolled value of any of them
//! confirms (a ROME code, a password hash, …) is exposed for no one: nothing says whose it is.

use std::collections::BTreeMap;

use leaktrace_link::dump::{RowLink, FIELDS, NF};
use leaktrace_link::MISSING;
use leaktrace_pii::ColumnType;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::verdict::{RowClass, RowReading, Who};
use crate::{Category, Combination, Department};

/// Bit of field `name` of [`FIELDS`].
fn bit(name: &str) -> u16 {
    FIELDS
        .iter()
        .position(|f| f.name == name)
        .map_or(0, |i| 1 << i)
}

/// The compared fields whose agreement shows that a column of type `t` holds a person's value.
pub fn fields_of_type(t: ColumnType) -> u16 {
    use ColumnType as T;
    match t {
        T::Nir => bit("nir"),
        T::Email => bit("email"),
        T::Phone => bit("phone"),
        T::Iban => bit("iban"),
        T::LastName => bit("last_name"),
        T::FirstName => bit("first_name"),
        T::FullName => bit("last_name") | bit("first_name") | bit("name_tokens"),
        T::BirthDate | T::Age => bit("birth_date"),
        T::Sex => bit("sex"),
        T::PostalCode => bit("postal_code"),
        T::Commune => bit("commune"),
        T::Address => bit("address"),
        _ => 0,
    }
}

/// Whose values a row holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exposure<'a> {
    /// Nobody's (unlinked).
    Nobody,
    /// One person's: every personal column of the row.
    Whole(&'a str),
    /// Fragments: per person, the fields of [`FIELDS`] holding their values.
    Fragments(Vec<(&'a str, u16)>),
}

/// The fields at which `levels` agree: exactly (`exact`), or at any agreeing level.
fn agreeing(levels: &[u8; NF], exact: bool) -> u16 {
    (0..NF).fold(0u16, |m, f| {
        let l = levels[f];
        let ok = l != MISSING
            && if exact {
                l == 0
            } else {
                (l as usize) < FIELDS[f].levels.len()
            };
        m | (u16::from(ok) << f)
    })
}

/// Whose values row `l` holds, given its reading. An unlinked contradictory row exposes its
/// fragments only when `unlinked_fragments` (the file is recombined): in a file that is not,
/// such a row is a coincidence (an e-mail spelling common names), not a leak of that person.
pub fn exposure<'a>(l: &'a RowLink, r: &RowReading, unlinked_fragments: bool) -> Exposure<'a> {
    if l.person_id.is_none() && !unlinked_fragments {
        return Exposure::Nobody;
    }
    if !matches!(r.class, RowClass::Contradictory(_)) {
        return match l.person_id.as_deref() {
            Some(p) => Exposure::Whole(p),
            None => Exposure::Nobody,
        };
    }
    let ids: u16 = (0..NF).fold(0, |m, f| m | (u16::from(FIELDS[f].identifier) << f));
    let cands: Vec<(Who, Option<&str>, &[u8; NF])> = if l.fragments.is_empty() {
        vec![(Who::Best, l.person_id.as_deref(), &l.levels)]
    } else {
        l.fragments
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let who = if k == 0 { Who::Best } else { Who::Fragment(k) };
                (who, Some(f.person.as_str()), &f.levels)
            })
            .collect()
    };
    let mut out: Vec<(&str, u16)> = Vec::new();
    for (who, person, levels) in cands {
        let Some(person) = person else { continue };
        let exact = agreeing(levels, true);
        let mut mask = 0u16;
        if exact & ids != 0 {
            mask |= exact & !bit("sex");
        }
        if r.names_of == Some(who) {
            mask |= agreeing(levels, false) & !ids;
        }
        if mask != 0 {
            match out.iter_mut().find(|(p, _)| *p == person) {
                Some(e) => e.1 |= mask,
                None => out.push((person, mask)),
            }
        }
    }
    Exposure::Fragments(out)
}

/// The file's personal columns (column index, type), at most 32 (bit `k` of a row mask).
pub type Personal = [(usize, ColumnType)];

/// Per affected person, what is exposed, and the linkage counts that come with it.
#[derive(Debug, Default)]
pub struct Exposed<'a> {
    /// Per affected person: id, personal column bits exposed (union over rows), department.
    /// Sorted by id.
    pub persons: Vec<(&'a str, u32, [u8; 3])>,
    /// Per affected person (same order): column bits exposed through contradictory rows.
    pub fragments: Vec<u32>,
    /// Linked rows whose person an earlier row already linked.
    pub duplicate_rows: u64,
}

/// Bits of the personal columns whose type a field of `fields` confirms.
fn columns_of(personal: &Personal, fields: u16) -> u32 {
    personal
        .iter()
        .take(32)
        .enumerate()
        .fold(0u32, |m, (k, (_, t))| {
            m | (u32::from(fields_of_type(*t) & fields != 0) << k)
        })
}

/// Collect the affected persons. `row_types[row]`: the personal columns a row fills;
/// `row_dept[row]`: its department; `skip`: rows not to count (canaries); `recombined`: the
/// file is recombined (see [`exposure`]).
pub fn expose<'a>(
    links: &'a [RowLink],
    readings: &[RowReading],
    recombined: bool,
    personal: &Personal,
    row_types: &[u32],
    row_dept: &[[u8; 3]],
    skip: &dyn Fn(&RowLink) -> bool,
) -> Exposed<'a> {
    // Persons get dense indices (first row first) so that per-person state is a vector, not a
    // map keyed by strings.
    let mut person_of: FxHashMap<&str, usize> = FxHashMap::default();
    let mut out = Exposed::default();
    let place = columns_of(personal, bit("postal_code")) | place_columns(personal);
    for (l, r) in links.iter().zip(readings) {
        if skip(l) {
            continue;
        }
        let filled = row_types.get(l.row as usize).copied().unwrap_or(0);
        let dept = row_dept.get(l.row as usize).copied().unwrap_or([0; 3]);
        let parts: Vec<(&str, u32, bool)> = match exposure(l, r, recombined) {
            Exposure::Nobody => continue,
            Exposure::Whole(p) => vec![(p, filled, false)],
            Exposure::Fragments(f) => f
                .into_iter()
                .map(|(p, fields)| (p, filled & columns_of(personal, fields), true))
                .filter(|(_, m, _)| *m != 0)
                .collect(),
        };
        if let Some(p) = l.person_id.as_deref() {
            if person_of.contains_key(p) {
                out.duplicate_rows += 1;
            }
        }
        for (p, mask, fragment) in parts {
            let k = *person_of.entry(p).or_insert_with(|| {
                out.persons.push((p, 0, [0; 3]));
                out.fragments.push(0);
                out.persons.len() - 1
            });
            let e = &mut out.persons[k];
            e.1 |= mask;
            if fragment {
                out.fragments[k] |= mask;
            }
            if e.2 == [0; 3] && (!fragment || mask & place != 0) {
                e.2 = dept;
            }
        }
    }
    let order = id_order(&out.persons);
    out.persons = order.iter().map(|&k| out.persons[k]).collect();
    out.fragments = order.iter().map(|&k| out.fragments[k]).collect();
    out
}

/// The indices of `persons` in the order of their ids (distinct). Each id's first 16 bytes sit
/// beside its index as one integer, so that most comparisons need not reach the id itself: a
/// million ids sort without a million cache misses per pass.
fn id_order<T>(persons: &[(&str, T, [u8; 3])]) -> Vec<usize> {
    let head = |id: &str| {
        let mut b = [0u8; 16];
        let n = id.len().min(16);
        b[..n].copy_from_slice(&id.as_bytes()[..n]);
        u128::from_be_bytes(b)
    };
    let mut keyed: Vec<(u128, usize)> = persons
        .iter()
        .enumerate()
        .map(|(k, p)| (head(p.0), k))
        .collect();
    keyed.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| persons[a.1].0.cmp(persons[b.1].0))
    });
    keyed.into_iter().map(|(_, k)| k).collect()
}

/// Bits of the INSEE-code columns (the department may come from them).
fn place_columns(personal: &Personal) -> u32 {
    personal
        .iter()
        .take(32)
        .enumerate()
        .fold(0u32, |m, (k, (_, t))| {
            m | (u32::from(*t == ColumnType::InseeCode) << k)
        })
}

/// `recombination` in analysis.json: what real data the contradictory rows of a file hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recombination {
    /// Persons with data in contradictory rows.
    pub persons: u64,
    /// …of whom: their identifiers (NIR, e-mail, phone, IBAN) appear, their names do not.
    pub identifiers_without_names: u64,
    /// …their names appear, next to identifiers that are not theirs (or none).
    pub names_without_identifiers: u64,
    /// Persons per exact set of categories exposed through contradictory rows, most first.
    pub combinations: Vec<Combination>,
}

/// The summaries of the affected persons.
#[derive(Debug)]
pub struct Summaries {
    pub categories: Vec<Category>,
    pub combinations: Vec<Combination>,
    pub departments: Vec<Department>,
    pub affected: Vec<(String, Vec<ColumnType>)>,
    pub recombination: Option<Recombination>,
}

/// The categories of column bits `mask` (person ids left out), sorted.
fn types_of(personal: &Personal, mask: u32) -> Vec<ColumnType> {
    let mut v: Vec<ColumnType> = personal
        .iter()
        .take(32)
        .enumerate()
        .filter(|(k, (_, t))| mask & (1 << k) != 0 && *t != ColumnType::PersonId)
        .map(|(_, (_, t))| *t)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Persons per combination of categories, most frequent first, ties by the set.
fn combinations_of(personal: &Personal, masks: impl Iterator<Item = u32>) -> Vec<Combination> {
    let mut by_mask: BTreeMap<u32, u64> = BTreeMap::new();
    for m in masks {
        *by_mask.entry(m).or_default() += 1;
    }
    let mut combos: BTreeMap<Vec<ColumnType>, u64> = BTreeMap::new();
    for (mask, n) in by_mask {
        *combos.entry(types_of(personal, mask)).or_default() += n;
    }
    let mut out: Vec<Combination> = combos
        .into_iter()
        .map(|(types, persons)| Combination { types, persons })
        .collect();
    out.sort_by(|a, b| b.persons.cmp(&a.persons).then(a.types.cmp(&b.types)));
    out
}

/// Categories, combinations, departments, the affected persons and the recombination
/// summary.
pub fn summarise(exposed: &Exposed, personal: &Personal) -> Summaries {
    // Persons per category: a type may fill several columns; a person counts once per type.
    let mut type_bits: BTreeMap<ColumnType, u32> = BTreeMap::new();
    for (k, (_, t)) in personal.iter().enumerate().take(32) {
        *type_bits.entry(*t).or_default() |= 1 << k;
    }
    let categories = type_bits
        .iter()
        .filter(|(t, _)| **t != ColumnType::PersonId)
        .map(|(t, bits)| Category {
            ty: *t,
            persons: exposed.persons.iter().filter(|e| e.1 & bits != 0).count() as u64,
        })
        .collect();
    let mut depts: BTreeMap<String, u64> = BTreeMap::new();
    for (_, _, dept) in &exposed.persons {
        let d = String::from_utf8_lossy(&dept[..])
            .trim_end_matches('\0')
            .to_string();
        *depts
            .entry(if d.is_empty() { "?".into() } else { d })
            .or_default() += 1;
    }
    let affected = exposed
        .persons
        .par_iter()
        .map(|(p, mask, _)| ((*p).to_string(), types_of(personal, *mask)))
        .collect();
    Summaries {
        categories,
        combinations: combinations_of(personal, exposed.persons.iter().map(|e| e.1)),
        departments: depts
            .into_iter()
            .map(|(code, persons)| Department { code, persons })
            .collect(),
        affected,
        recombination: recombination(exposed, personal),
    }
}

fn recombination(exposed: &Exposed, personal: &Personal) -> Option<Recombination> {
    let masks: Vec<u32> = exposed
        .fragments
        .iter()
        .copied()
        .filter(|m| *m != 0)
        .collect();
    if masks.is_empty() {
        return None;
    }
    let ids = columns_of(
        personal,
        bit("nir") | bit("email") | bit("phone") | bit("iban"),
    );
    let names = columns_of(personal, fields_of_type(ColumnType::FullName));
    Some(Recombination {
        persons: masks.len() as u64,
        identifiers_without_names: masks
            .iter()
            .filter(|m| *m & ids != 0 && *m & names == 0)
            .count() as u64,
        names_without_identifiers: masks
            .iter()
            .filter(|m| *m & names != 0 && *m & ids == 0)
            .count() as u64,
        combinations: combinations_of(personal, masks.into_iter()),
    })
}

#[cfg(test)]
mod tests {
    use super::id_order;

    #[test]
    fn ids_sort_as_strings_whatever_their_length() {
        let ids = [
            "FT000000010",
            "FT00000001",
            "FT000000001",
            "",
            "a-very-long-identifier-shared-prefix-2",
            "a-very-long-identifier-shared-prefix-10",
            "a-very-long-identifier-shared-prefix",
            "Élodie-42",
            "E",
            "ZZ",
            "FT0000000011234567",
            "FT0000000011234566",
        ];
        let persons: Vec<(&str, u32, [u8; 3])> = ids.iter().map(|&id| (id, 0, [0; 3])).collect();
        let got: Vec<&str> = id_order(&persons).iter().map(|&k| ids[k]).collect();
        let mut want = ids.to_vec();
        want.sort_unstable();
        assert_eq!(got, want);
    }
}
