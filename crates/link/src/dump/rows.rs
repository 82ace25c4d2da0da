//! The outcome of a row from its scored pairs: the best candidate, the fields that agreed and
//! disagreed, and the other persons its values point to (fragments of a stitched row).

use super::{Fragment, Levels, LinkOptions, Pair, RowLink, FIELDS, NF};
use crate::{Model, MISSING};

/// The best candidate of a row's pairs (highest probability, ties to the smaller id).
fn best_pair(pairs: &[Pair], probs: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (k, p) in pairs.iter().enumerate() {
        match best {
            Some(b)
                if probs[b] > probs[k] || (probs[b] == probs[k] && pairs[b].person <= p.person) => {
            }
            _ => best = Some(k),
        }
    }
    best
}

/// A pair's comparison with its identifier fields left out: what the row's names, dates and
/// places alone say.
fn without_identifiers(p: &Pair) -> Levels {
    let mut c = Levels {
        levels: p.levels,
        tf: p.tf,
    };
    for (fi, f) in FIELDS.iter().enumerate() {
        if f.identifier {
            c.levels[fi] = MISSING;
        }
    }
    c
}

/// Whether a pair agrees exactly with one of the row's identifiers.
fn holds_identifier(levels: &[u8; NF]) -> bool {
    (0..NF).any(|fi| FIELDS[fi].identifier && levels[fi] == 0)
}

/// Whether the best candidate leaves some of the row's names, birth date or identifiers
/// unexplained (a field at its disagree level).
fn leaves_values_unexplained(levels: &[u8; NF]) -> bool {
    FIELDS.iter().enumerate().any(|(fi, f)| {
        (f.identifier || matches!(f.name, "last_name" | "first_name" | "birth_date"))
            && usize::from(levels[fi]) == f.levels.len()
    })
}

/// The other persons a row's values point to (see [`RowLink::fragments`]).
fn fragments_of(pairs: &[Pair], best: usize, model: &Model, threshold: f64) -> Vec<Fragment> {
    let p = &pairs[best];
    let holders: Vec<usize> = (0..pairs.len())
        .filter(|&k| k != best && holds_identifier(&pairs[k].levels))
        .collect();
    if holders.is_empty() && !leaves_values_unexplained(&p.levels) {
        return Vec::new();
    }
    let fragment = |k: usize| Fragment {
        person: pairs[k].person.clone(),
        levels: pairs[k].levels,
        without_identifiers: round6(model.probability(&without_identifiers(&pairs[k]))),
    };
    // The candidates the row's other values alone link to, among those holding none of its
    // identifiers: the best few (two tell the names are a homonym's, not one person's).
    let mut names: Vec<(usize, f64)> = (0..pairs.len())
        .filter(|&k| k != best && !holders.contains(&k))
        .map(|k| (k, model.probability(&without_identifiers(&pairs[k]))))
        .filter(|(_, q)| *q >= threshold)
        .collect();
    names.sort_by(|x, y| {
        y.1.total_cmp(&x.1)
            .then_with(|| pairs[x.0].person.cmp(&pairs[y.0].person))
    });
    names.truncate(NAMES_MAX);
    std::iter::once(best)
        .chain(holders)
        .chain(names.into_iter().map(|(k, _)| k))
        .map(fragment)
        .collect()
}

/// At most this many candidates the row's non-identifier values alone link to are kept in
/// [`RowLink::fragments`].
pub const NAMES_MAX: usize = 3;

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The outcome of one row from its scored pairs.
pub(super) fn row_link(
    row: u64,
    pairs: &[Pair],
    probs: &[f64],
    candidates: u32,
    model: &Model,
    opts: LinkOptions,
) -> RowLink {
    let mut r = RowLink {
        row,
        person_id: None,
        match_probability: 0.0,
        agreeing_fields: Vec::new(),
        disagreeing_fields: Vec::new(),
        foreign_identifiers: Vec::new(),
        candidates,
        row_fields: 0,
        versions: Vec::new(),
        levels: [MISSING; NF],
        fragments: Vec::new(),
    };
    let Some(best) = best_pair(pairs, probs) else {
        return r;
    };
    let (p, prob) = (&pairs[best], probs[best]);
    r.match_probability = round6(prob);
    r.row_fields = p.row_fields;
    r.versions = p.versions.clone();
    r.levels = p.levels;
    for (fi, f) in FIELDS.iter().enumerate() {
        let l = p.levels[fi];
        if l == MISSING {
            continue;
        }
        if (l as usize) < f.levels.len() {
            let name = f.levels[l as usize].0;
            r.agreeing_fields.push(if l == 0 {
                f.name.to_string()
            } else {
                format!("{}:{name}", f.name)
            });
        } else {
            r.disagreeing_fields.push(f.name.to_string());
        }
        if p.foreign & (1 << fi) != 0 {
            r.foreign_identifiers.push(f.name.to_string());
        }
    }
    if prob >= opts.threshold {
        r.person_id = Some(p.person.clone());
    }
    r.fragments = fragments_of(pairs, best, model, opts.threshold);
    r
}
