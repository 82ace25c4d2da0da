//! The verdict: authentic, partial, recombined or not ours — with the evidence that decided it.
//!
//! Each row is first *read* ([`read_row`]): do its values belong to one enrolled person? A row
//! is **contradictory** ([`Contradiction`]) when
//!
//! - its identifiers (NIR, e-mail, phone, IBAN: every [`FieldDef::identifier`] field) point to
//!   one enrolled person while its names — and birth date, if any — disagree with that person:
//!   they are another enrolled person's ([`Contradiction::NamesOfAnother`]) or nobody's
//!   ([`Contradiction::NamesOfNobody`]);
//! - its identifiers point to several persons, none holding them all
//!   ([`Contradiction::IdentifiersOfSeveral`]);
//! - it links by names and dates while an identifier belongs to another enrolled person who
//!   is not among its candidates ([`Contradiction::IdentifierOfAnother`]).
//!
//! Two real situations look alike and are set aside ([`SetAside`]): a **household** (an
//! e-mail or phone shared with a person of the same surname) and a **name change** (a new
//! surname with the same first name and identifiers, e.g. after a marriage).
//!
//! The rules, in order (shares are of the file's rows; thresholds are the constants below):
//!
//! 1. **recombined** — at least [`RECOMBINED_MIN_SHARE`] of rows, and at least
//!    [`RECOMBINED_MIN_SHARE_OF_ENROLLED`] of the rows holding enrolled values, are
//!    contradictory. Real fragments stitched into fake records look like this.
//! 2. **authentic** — at least [`AUTHENTIC_MIN_STRONG`] of rows link with *strong* evidence: an
//!    identifier agrees, or the birth date agrees (exactly) together with the names — and the
//!    row's NIR, if any, does not contradict (a NIR never changes).
//! 3. **partial** — the strongly linked share is at least [`PARTIAL_MIN_STRONG`] and at least
//!    [`PARTIAL_CHANCE_FACTOR`] times what chance gives (see below).
//! 4. **not_ours** — otherwise: links are no more than chance would give.
//!
//! *Chance*: a linked row that agrees only on quasi-identifiers (names, town, postal code,
//! sex) while the file carries identifiers or birth dates that could have agreed is counted as a
//! *weak* link — that is what common names and shared town names produce in a file that is not
//! ours. The weak-link share estimates the chance level.

use leaktrace_link::dump::{FieldDef, RowLink, FIELDS, NF};
use leaktrace_link::MISSING;
use leaktrace_pii::ColumnType;
use serde::Serialize;

use crate::Linkage;

/// Contradictory rows from which a file is recombined, as a share of its rows.
pub const RECOMBINED_MIN_SHARE: f64 = 0.10;
/// …and as a share of the rows holding enrolled values (linked or contradictory).
pub const RECOMBINED_MIN_SHARE_OF_ENROLLED: f64 = 0.20;
/// Contradictory share at which a recombined verdict reaches full confidence.
pub const RECOMBINED_FULL_SHARE: f64 = 0.50;
/// Strongly linked share from which a file is authentic.
pub const AUTHENTIC_MIN_STRONG: f64 = 0.60;
/// Strongly linked share at which an authentic verdict reaches full confidence.
pub const AUTHENTIC_FULL_SHARE: f64 = 0.95;
/// Strongly linked share from which a file is partly ours…
pub const PARTIAL_MIN_STRONG: f64 = 0.03;
/// …when it is also at least this many times the chance (weak-link) share.
pub const PARTIAL_CHANCE_FACTOR: f64 = 3.0;
/// Strongly linked share at which a partial verdict reaches full confidence.
pub const PARTIAL_FULL_SHARE: f64 = 0.30;

/// Verdict status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Authentic,
    Partial,
    Recombined,
    NotOurs,
}

impl Status {
    /// As written in analysis.json.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Authentic => "authentic",
            Status::Partial => "partial",
            Status::Recombined => "recombined",
            Status::NotOurs => "not_ours",
        }
    }
}

/// Why a row's values are not one person's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Contradiction {
    /// Identifiers of one enrolled person, names (and birth date) of another.
    NamesOfAnother,
    /// Identifiers of one enrolled person, names (and birth date) of no enrolled person found.
    NamesOfNobody,
    /// Identifiers of several enrolled persons, none holding them all (not a household).
    IdentifiersOfSeveral,
    /// Linked by names and dates; an identifier belongs to another enrolled person.
    IdentifierOfAnother,
}

/// A real situation that looks like a contradiction and is not counted as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetAside {
    /// An e-mail or phone shared with a person of the same surname.
    Household,
    /// A new surname with the same first name and identifiers (marriage).
    NameChange,
}

/// How a row links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowClass {
    /// No enrolled person: no candidate reaches the threshold and nothing contradicts.
    Unlinked,
    /// Linked with an identifier, or birth date and names (or names and places in a file with
    /// nothing more).
    Strong,
    /// Linked on quasi-identifiers only although the file could have shown more.
    Weak,
    /// The row's values belong to different persons.
    Contradictory(Contradiction),
}

/// Which person a row's values point to: the best candidate or one of
/// [`RowLink::fragments`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// The row's best candidate (also `fragments[0]` when there are fragments).
    Best,
    /// `fragments[k]`.
    Fragment(usize),
}

/// What a row's values say: its class, what was set aside, and for contradictory rows whose
/// identifiers and whose names they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowReading {
    pub class: RowClass,
    pub set_aside: Option<SetAside>,
    /// The person holding every identifier of a contradictory row (when one does).
    pub identifiers_of: Option<Who>,
    /// The person the names and dates of a contradictory row link to (when one does).
    pub names_of: Option<Who>,
}

/// Counts of contradictory rows per [`Contradiction`], and of rows set aside.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Contradictions {
    pub names_of_another_person: u64,
    pub names_of_no_enrolled_person: u64,
    pub identifiers_of_several_persons: u64,
    pub identifier_of_another_person: u64,
    /// Rows sharing an e-mail or phone with a person of the same surname (not counted).
    pub households_set_aside: u64,
    /// Rows with a new surname and the same first name and identifiers (not counted).
    pub name_changes_set_aside: u64,
}

/// The numbers a verdict rests on.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub rows: u64,
    pub rows_linked: u64,
    /// Linked with an identifier or birth date + names agreeing.
    pub strong_links: u64,
    /// Linked on quasi-identifiers only although the file could have shown more.
    pub weak_links: u64,
    /// Rows whose values belong to different enrolled persons (linked or not).
    pub contradictory_rows: u64,
    /// Rows linked or contradictory: rows holding values of enrolled persons.
    pub rows_with_enrolled_values: u64,
    /// Rows with an identifier some enrolled person holds.
    pub rows_with_enrolled_identifiers: u64,
    pub contradictions: Contradictions,
    pub strong_share: f64,
    pub chance_share: f64,
    pub contradictory_share: f64,
    pub mean_match_probability: f64,
}

/// `verdict` in analysis.json.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub status: Status,
    /// 0.5–0.99: how far the deciding share is from the rule's threshold.
    pub confidence: f64,
    /// One sentence with the numbers.
    pub summary: String,
    /// The evidence, as sentences.
    pub explanation: Vec<String>,
    pub evidence: Evidence,
}

/// What the file's columns can show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileShape {
    /// A column of an identifier type (NIR, e-mail, phone, IBAN).
    pub has_identifiers: bool,
    pub has_birth_date: bool,
}

impl FileShape {
    /// From the file's column types.
    pub fn of(types: &[ColumnType]) -> FileShape {
        use ColumnType as T;
        FileShape {
            has_identifiers: types
                .iter()
                .any(|t| matches!(t, T::Nir | T::Email | T::Phone | T::Iban)),
            has_birth_date: types.contains(&T::BirthDate),
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// Index of a field of [`FIELDS`] by name.
fn fi(name: &str) -> usize {
    FIELDS.iter().position(|f| f.name == name).unwrap_or(0)
}

/// How a compared field of one candidate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Missing,
    Exact,
    Near,
    Disagree,
}

fn cmp(levels: &[u8; NF], f: usize) -> Cmp {
    let l = levels[f];
    if l == MISSING {
        Cmp::Missing
    } else if l == 0 {
        Cmp::Exact
    } else if usize::from(l) < FIELDS[f].levels.len() {
        Cmp::Near
    } else {
        Cmp::Disagree
    }
}

fn agrees(levels: &[u8; NF], f: usize) -> bool {
    matches!(cmp(levels, f), Cmp::Exact | Cmp::Near)
}

fn disagrees(levels: &[u8; NF], f: usize) -> bool {
    cmp(levels, f) == Cmp::Disagree
}

/// The identifier fields.
fn identifier_fields() -> impl Iterator<Item = usize> {
    FIELDS
        .iter()
        .enumerate()
        .filter(|(_, f): &(usize, &FieldDef)| f.identifier)
        .map(|(i, _)| i)
}

/// Identifiers a household shares (a NIR or IBAN is one person's own).
fn shareable(f: usize) -> bool {
    matches!(FIELDS[f].name, "email" | "phone")
}

/// Whether a candidate holding the row's identifiers `ids` can also be the person its names
/// and birth date describe: no name compared; or the birth date agrees exactly; or surname and
/// first name agree; or the first name agrees and the birth date does not disagree (a new
/// surname); or the surname is spelled the same and either the birth date does not disagree or the
/// identifiers are a household's (e-mail, phone).
///
/// `row_fields` (bit f: the row has field f) tells a first name left out because the row's
/// e-mail spells it (the linker counts that evidence once, in the e-mail) from one the person
/// lacks: the first name then agrees through the e-mail.
fn names_fit(levels: &[u8; NF], ids: &[usize], row_fields: u16) -> bool {
    let names = [fi("last_name"), fi("first_name"), fi("name_tokens")];
    if names.iter().all(|&f| cmp(levels, f) == Cmp::Missing) {
        return true;
    }
    let spelled = row_fields & (1 << fi("first_name")) != 0
        && cmp(levels, fi("first_name")) == Cmp::Missing
        && cmp(levels, fi("email")) == Cmp::Exact;
    let birth = cmp(levels, fi("birth_date"));
    if birth == Cmp::Exact {
        return true;
    }
    let birth_ok = birth != Cmp::Disagree;
    let tokens = agrees(levels, fi("name_tokens"));
    let last = tokens || agrees(levels, fi("last_name"));
    let first = tokens || spelled || agrees(levels, fi("first_name"));
    // A shared surname alone must be the same spelling (exact, or without particles), not one
    // edit or a sound away.
    let same_last = tokens || levels[fi("last_name")] <= LAST_NAME_SAME_SPELLING;
    (first && (last || birth_ok)) || (same_last && (birth_ok || ids.iter().all(|&f| shareable(f))))
}

/// The last level of `last_name` that counts as the same spelling (exact, core).
const LAST_NAME_SAME_SPELLING: u8 = 1;

/// Whether a candidate is the person a row's names and dates alone describe.
fn names_describe(c: &(Who, [u8; NF], f64), threshold: f64) -> bool {
    let levels = &c.1;
    let named = ["last_name", "first_name", "name_tokens"]
        .iter()
        .any(|n| agrees(levels, fi(n)));
    named && !disagrees(levels, fi("birth_date")) && c.2 >= threshold
}

/// What a consistent row whose identifiers candidate `c` holds sets aside.
fn set_aside_of(levels: &[u8; NF], holder_is_best: bool, ids: &[usize]) -> Option<SetAside> {
    let (last, first) = (fi("last_name"), fi("first_name"));
    let household_ids = ids.iter().any(|&f| shareable(f));
    if agrees(levels, last) && household_ids && (!holder_is_best || disagrees(levels, first)) {
        Some(SetAside::Household)
    } else if disagrees(levels, last)
        && !disagrees(levels, first)
        && (agrees(levels, first) || cmp(levels, fi("birth_date")) == Cmp::Exact)
    {
        // (The first name is left out when the row's e-mail spells it: the birth date then
        // stands for it.)
        Some(SetAside::NameChange)
    } else {
        None
    }
}

/// The candidates a row's values point to: (who, levels, probability without identifiers).
fn candidates_of(l: &RowLink) -> Vec<(Who, [u8; NF], f64)> {
    if l.fragments.is_empty() {
        vec![(Who::Best, l.levels, 0.0)]
    } else {
        l.fragments
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let who = if k == 0 { Who::Best } else { Who::Fragment(k) };
                (who, f.levels, f.without_identifiers)
            })
            .collect()
    }
}

/// Read one row: do its values belong to one enrolled person? `threshold` is the link
/// threshold (names alone link to a person from it).
pub fn read_row(l: &RowLink, shape: FileShape, threshold: f64) -> RowReading {
    let cands = candidates_of(l);
    let ids: Vec<usize> = identifier_fields()
        .filter(|&f| cands.iter().any(|c| cmp(&c.1, f) == Cmp::Exact))
        .collect();
    let reading = |class, set_aside: Option<SetAside>| RowReading {
        class,
        // Only a linked row has something to set aside.
        set_aside: set_aside.filter(|_| class != RowClass::Unlinked),
        identifiers_of: None,
        names_of: None,
    };
    let linked = l.person_id.is_some();
    if ids.is_empty() {
        if linked && !l.foreign_identifiers.is_empty() {
            let mut r = reading(
                RowClass::Contradictory(Contradiction::IdentifierOfAnother),
                None,
            );
            r.names_of = Some(Who::Best);
            return r;
        }
        let class = if linked {
            strength(&l.levels, shape)
        } else {
            RowClass::Unlinked
        };
        return reading(class, None);
    }
    let covers = |c: &(Who, [u8; NF], f64)| ids.iter().all(|&f| cmp(&c.1, f) == Cmp::Exact);
    let coverers: Vec<&(Who, [u8; NF], f64)> = cands.iter().filter(|c| covers(c)).collect();
    // The person the names and dates alone link to, other than `not` — when only one does
    // (homonyms: the names are no one's in particular).
    let names_person = |not: Option<Who>| {
        let mut it = cands
            .iter()
            .filter(|c| Some(c.0) != not && names_describe(c, threshold))
            .map(|c| c.0);
        match (it.next(), it.next()) {
            (Some(w), None) => Some(w),
            _ => None,
        }
    };
    let linked_class = || {
        if linked {
            strength(&l.levels, shape)
        } else {
            RowClass::Unlinked
        }
    };
    if coverers.is_empty() {
        // Identifiers of several persons: a household when they are e-mails or phones of
        // persons who all share the row's surname.
        let last = fi("last_name");
        let mut holders = cands
            .iter()
            .filter(|c| ids.iter().any(|&f| cmp(&c.1, f) == Cmp::Exact));
        let own = |f: usize| cmp(&l.levels, f) == Cmp::Exact;
        if ids.iter().all(|&f| shareable(f) || own(f)) && holders.all(|c| agrees(&c.1, last)) {
            return reading(linked_class(), Some(SetAside::Household));
        }
        let mut r = reading(
            RowClass::Contradictory(Contradiction::IdentifiersOfSeveral),
            None,
        );
        r.names_of = names_person(None);
        return r;
    }
    // A new surname (the holder's surname disagrees) is no name change when the row's
    // surname and first name are another enrolled person's.
    let renamed_as_another = |c: &(Who, [u8; NF], f64)| {
        disagrees(&c.1, fi("last_name"))
            && cands.iter().any(|o| {
                o.0 != c.0 && names_describe(o, threshold) && agrees(&o.1, fi("last_name"))
            })
    };
    if let Some(c) = coverers
        .iter()
        .find(|c| names_fit(&c.1, &ids, l.row_fields) && !renamed_as_another(c))
    {
        return reading(linked_class(), set_aside_of(&c.1, c.0 == Who::Best, &ids));
    }
    let holder = coverers
        .iter()
        .find(|c| c.0 == Who::Best)
        .unwrap_or(&coverers[0])
        .0;
    let names_of = names_person(Some(holder));
    RowReading {
        class: RowClass::Contradictory(if names_of.is_some() {
            Contradiction::NamesOfAnother
        } else {
            Contradiction::NamesOfNobody
        }),
        set_aside: None,
        identifiers_of: Some(holder),
        names_of,
    }
}

/// Strong or weak, from the best candidate's levels.
fn strength(levels: &[u8; NF], shape: FileShape) -> RowClass {
    // A NIR never changes: a row whose NIR differs from the person's is not that person's
    // record, whatever else agrees.
    let nir_disagrees = disagrees(levels, fi("nir"));
    let id_agrees = !nir_disagrees && identifier_fields().any(|f| cmp(levels, f) == Cmp::Exact);
    let names = ["last_name", "first_name", "name_tokens"]
        .iter()
        .any(|n| agrees(levels, fi(n)));
    let birth_names = cmp(levels, fi("birth_date")) == Cmp::Exact && names;
    if id_agrees || (!nir_disagrees && birth_names) {
        RowClass::Strong
    } else if shape.has_identifiers || shape.has_birth_date {
        RowClass::Weak
    } else {
        // Names and places are all the file has: such a link is the best evidence there is.
        RowClass::Strong
    }
}

/// Read every row (see [`read_row`]).
pub fn read_rows(links: &[RowLink], types: &[ColumnType], threshold: f64) -> Vec<RowReading> {
    let shape = FileShape::of(types);
    links
        .iter()
        .map(|l| read_row(l, shape, threshold))
        .collect()
}

/// The counts behind a verdict.
#[derive(Debug, Default)]
struct Tally {
    strong: u64,
    weak: u64,
    contradictory: u64,
    enrolled_ids: u64,
    kinds: Contradictions,
    prob_sum: f64,
}

fn tally(links: &[RowLink], readings: &[RowReading]) -> Tally {
    let mut t = Tally::default();
    for (l, r) in links.iter().zip(readings) {
        if l.person_id.is_some() {
            t.prob_sum += l.match_probability;
        }
        let holds_id = !l.foreign_identifiers.is_empty()
            || candidates_of(l)
                .iter()
                .any(|c| identifier_fields().any(|f| cmp(&c.1, f) == Cmp::Exact));
        t.enrolled_ids += u64::from(holds_id);
        match r.class {
            RowClass::Unlinked => {}
            RowClass::Strong => t.strong += 1,
            RowClass::Weak => t.weak += 1,
            RowClass::Contradictory(c) => {
                t.contradictory += 1;
                let k = &mut t.kinds;
                *match c {
                    Contradiction::NamesOfAnother => &mut k.names_of_another_person,
                    Contradiction::NamesOfNobody => &mut k.names_of_no_enrolled_person,
                    Contradiction::IdentifiersOfSeveral => &mut k.identifiers_of_several_persons,
                    Contradiction::IdentifierOfAnother => &mut k.identifier_of_another_person,
                } += 1;
            }
        }
        match r.set_aside {
            Some(SetAside::Household) => t.kinds.households_set_aside += 1,
            Some(SetAside::NameChange) => t.kinds.name_changes_set_aside += 1,
            None => {}
        }
    }
    t
}

/// Confidence from how far `x` lies between a rule's threshold `lo` and its full share `hi`.
fn scale(x: f64, lo: f64, hi: f64) -> f64 {
    round3((0.5 + 0.49 * ((x - lo) / (hi - lo)).clamp(0.0, 1.0)).min(0.99))
}

/// The contradictions as one clause: "120 pair one person's identifiers with another's
/// names, …".
fn contradiction_clause(k: &Contradictions) -> String {
    let parts: Vec<String> = [
        (
            k.names_of_another_person,
            "pair one enrolled person's identifiers with another enrolled person's names",
        ),
        (
            k.names_of_no_enrolled_person,
            "pair one enrolled person's identifiers with names of no enrolled person found",
        ),
        (
            k.identifiers_of_several_persons,
            "hold identifiers of several enrolled persons, none holding them all",
        ),
        (
            k.identifier_of_another_person,
            "link by names and dates while an identifier belongs to another enrolled person",
        ),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, s)| format!("{n} {s}"))
    .collect();
    parts.join("; ")
}

/// Rows holding enrolled values: linked rows and unlinked contradictory ones.
fn rows_with_enrolled_values(links: &[RowLink], readings: &[RowReading]) -> u64 {
    links
        .iter()
        .zip(readings)
        .filter(|(l, r)| l.person_id.is_some() || matches!(r.class, RowClass::Contradictory(_)))
        .count() as u64
}

/// Rule 1: contradictory rows are at least [`RECOMBINED_MIN_SHARE`] of `rows` and at least
/// [`RECOMBINED_MIN_SHARE_OF_ENROLLED`] of the rows holding enrolled values.
fn recombined_rule(contradictory: u64, rows: usize, enrolled: u64) -> bool {
    contradictory as f64 / rows.max(1) as f64 >= RECOMBINED_MIN_SHARE
        && contradictory as f64 >= RECOMBINED_MIN_SHARE_OF_ENROLLED * enrolled.max(1) as f64
}

/// Whether the file is recombined (rule 1), before anything else is summarised.
pub fn is_recombined(links: &[RowLink], readings: &[RowReading]) -> bool {
    let contradictory = readings
        .iter()
        .filter(|r| matches!(r.class, RowClass::Contradictory(_)))
        .count() as u64;
    recombined_rule(
        contradictory,
        links.len(),
        rows_with_enrolled_values(links, readings),
    )
}

/// Judge a file from its links and their readings ([`read_rows`]).
pub fn judge(linkage: &Linkage, links: &[RowLink], readings: &[RowReading]) -> Verdict {
    let t = tally(links, readings);
    let rows = links.len().max(1) as f64;
    let linked = linkage.rows_linked;
    let enrolled = rows_with_enrolled_values(links, readings);
    let strong_share = t.strong as f64 / rows;
    let chance_share = t.weak as f64 / rows;
    let contra_share = t.contradictory as f64 / rows;
    let evidence = Evidence {
        rows: links.len() as u64,
        rows_linked: linked,
        strong_links: t.strong,
        weak_links: t.weak,
        contradictory_rows: t.contradictory,
        rows_with_enrolled_values: enrolled,
        rows_with_enrolled_identifiers: t.enrolled_ids,
        contradictions: t.kinds.clone(),
        strong_share: round3(strong_share),
        chance_share: round3(chance_share),
        contradictory_share: round3(contra_share),
        mean_match_probability: round3(if linked > 0 {
            t.prob_sum / linked as f64
        } else {
            0.0
        }),
    };
    let mut explanation = vec![format!(
        "{} of {} rows link to an enrolled person ({}), {} persons in all; {} with strong evidence (an identifier, or birth date and names, agree), {} on names and places only.",
        linked,
        links.len(),
        pct(linked as f64 / rows),
        linkage.persons_affected,
        t.strong,
        t.weak
    )];
    let recombined = recombined_rule(t.contradictory, links.len(), enrolled);
    let (status, confidence) = if recombined {
        explanation.push(format!(
            "{} rows ({}, threshold {} of rows and {} of the {} rows holding enrolled values) are contradictory: {} — real fragments stitched together.",
            t.contradictory,
            pct(contra_share),
            pct(RECOMBINED_MIN_SHARE),
            pct(RECOMBINED_MIN_SHARE_OF_ENROLLED),
            enrolled,
            contradiction_clause(&t.kinds)
        ));
        (
            Status::Recombined,
            scale(contra_share, RECOMBINED_MIN_SHARE, RECOMBINED_FULL_SHARE),
        )
    } else if strong_share >= AUTHENTIC_MIN_STRONG {
        explanation.push(format!(
            "{} of rows link with strong evidence (threshold {}): the file holds our persons with values consistent with one person per row.",
            pct(strong_share),
            pct(AUTHENTIC_MIN_STRONG)
        ));
        (
            Status::Authentic,
            scale(strong_share, AUTHENTIC_MIN_STRONG, AUTHENTIC_FULL_SHARE),
        )
    } else if strong_share >= PARTIAL_MIN_STRONG
        && strong_share >= PARTIAL_CHANCE_FACTOR * chance_share
    {
        explanation.push(format!(
            "A minority of rows ({}) link with strong evidence — at least {} of rows and {} times the chance level ({} weak links), but below the {} of an authentic extract: part of the file is ours, the rest is not.",
            pct(strong_share),
            pct(PARTIAL_MIN_STRONG),
            PARTIAL_CHANCE_FACTOR,
            pct(chance_share),
            pct(AUTHENTIC_MIN_STRONG)
        ));
        (
            Status::Partial,
            scale(strong_share, PARTIAL_MIN_STRONG, PARTIAL_FULL_SHARE),
        )
    } else {
        explanation.push(format!(
            "Links are no more than chance gives: {} strong (below {} of rows or {} times the chance level), {} on common names and places only; {}.",
            pct(strong_share),
            pct(PARTIAL_MIN_STRONG),
            PARTIAL_CHANCE_FACTOR,
            pct(chance_share),
            match t.enrolled_ids {
                0 => "no identifier in the file belongs to an enrolled person".to_string(),
                n => format!("{n} rows hold an identifier of an enrolled person, too few to make the file ours"),
            }
        ));
        (
            Status::NotOurs,
            scale(PARTIAL_MIN_STRONG - strong_share, 0.0, PARTIAL_MIN_STRONG),
        )
    };
    more_explanation(&mut explanation, linkage, &t, status);
    let summary = summary(status, linkage, links.len(), &t, confidence);
    Verdict {
        status,
        confidence,
        summary,
        explanation,
        evidence,
    }
}

/// Sentences on what the deciding rule did not say: contradictions below the threshold, rows
/// set aside, duplicates.
fn more_explanation(out: &mut Vec<String>, linkage: &Linkage, t: &Tally, status: Status) {
    if t.contradictory > 0 && status != Status::Recombined {
        out.push(format!(
            "{} rows are contradictory ({}), below the {} of rows that makes a file recombined.",
            t.contradictory,
            contradiction_clause(&t.kinds),
            pct(RECOMBINED_MIN_SHARE)
        ));
    }
    let k = &t.kinds;
    if k.households_set_aside + k.name_changes_set_aside > 0 {
        out.push(format!(
            "Not counted as contradictions: {} rows sharing an e-mail or phone with a person of the same surname (a household), {} rows with a new surname and the same first name and identifiers (a name change).",
            k.households_set_aside, k.name_changes_set_aside
        ));
    }
    if linkage.duplicate_rows > 0 {
        out.push(format!(
            "{} rows repeat a person already linked by an earlier row.",
            linkage.duplicate_rows
        ));
    }
}

fn summary(status: Status, linkage: &Linkage, rows: usize, t: &Tally, confidence: f64) -> String {
    match status {
        Status::Authentic => format!(
            "Authentic: {} of {} rows are our persons ({} persons affected), confidence {:.2}.",
            linkage.rows_linked, rows, linkage.persons_affected, confidence
        ),
        Status::Partial => format!(
            "Partial: only {} of {} rows are our persons ({} persons affected); the rest is not ours. Confidence {:.2}.",
            t.strong, rows, linkage.persons_affected, confidence
        ),
        Status::Recombined => format!(
            "Recombined: {} of {} rows stitch values of different persons — a fabricated file made of real fragments of {} persons. Confidence {:.2}.",
            t.contradictory, rows, linkage.persons_affected, confidence
        ),
        Status::NotOurs => format!(
            "Not ours: {} of {} rows link, no more than chance (common names and towns). Confidence {:.2}.",
            linkage.rows_linked, rows, confidence
        ),
    }
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
