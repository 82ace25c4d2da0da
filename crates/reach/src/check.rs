//! The server-side check: an identifier (e-mail, mobile or NIR) and a second fact (birth date
//! or last name), normalised and fingerprinted exactly as enrolment does
//! ([`Fingerprinter::row`] on a one-cell row of the column's type), looked up in every enrolled
//! segment; the person is found only when one person holds both fingerprints and is among the
//! affected persons of an incident open to self-check.
//!
//! The work does not depend on the answer: the three identifier types and both second facts
//! are always fingerprinted, [`MAX_CANDIDATES`] candidates per segment are always tested and
//! looked up among the affected persons, and the answer is padded to one size
//! ([`Checker::answer_json`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use leaktrace_index::{Domain, Fingerprinter, Fp, Index, Workspace};
use leaktrace_pii::{date, email, nir, phone, text, ColumnType};
use serde::{Deserialize, Serialize};

use crate::answers::{Answers, Exposure, ADVICE};
use crate::store::ReachStore;
use crate::ReachError;

/// Persons sharing one identifier that are tested per segment (always this many, real or not).
pub const MAX_CANDIDATES: usize = 4;

/// Answers are padded to a multiple of this many bytes (the size of the largest answer
/// possible, rounded up: every answer of a listener has the same size).
pub const PAD_BUCKET: usize = 4096;

/// The identifier a person gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    Email,
    Phone,
    Nir,
}

impl IdKind {
    /// Every kind, in the order they are fingerprinted.
    pub const ALL: [IdKind; 3] = [IdKind::Email, IdKind::Phone, IdKind::Nir];

    fn column(self) -> (ColumnType, Domain) {
        match self {
            IdKind::Email => (ColumnType::Email, Domain::Email),
            IdKind::Phone => (ColumnType::Phone, Domain::Phone),
            IdKind::Nir => (ColumnType::Nir, Domain::Nir),
        }
    }
}

/// The second fact a person gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondKind {
    BirthDate,
    LastName,
}

impl SecondKind {
    fn column(self) -> (ColumnType, Domain) {
        match self {
            SecondKind::BirthDate => (ColumnType::BirthDate, Domain::BirthDate),
            SecondKind::LastName => (ColumnType::LastName, Domain::LastExact),
        }
    }
}

/// Two facts, canonical (as enrolment normalises them): what the OPRF mode evaluates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub id_kind: IdKind,
    pub id: String,
    pub second_kind: SecondKind,
    pub second: String,
}

impl Facts {
    /// Normalise what a person typed; `None` names the fact that is not valid (a format
    /// check that depends on the input only, never on the leak).
    pub fn parse(
        identifier: &str,
        second_kind: SecondKind,
        second: &str,
    ) -> Result<Facts, &'static str> {
        let v = identifier.trim();
        let (id_kind, id) = if v.contains('@') {
            (IdKind::Email, email::normalize(v).ok_or("identifier")?)
        } else if let Some(n) = nir::parse(v) {
            (IdKind::Nir, n.as_str().to_string())
        } else {
            (IdKind::Phone, phone::normalize(v).ok_or("identifier")?)
        };
        let s = second.trim();
        let second = match second_kind {
            SecondKind::BirthDate => date::parse(s).ok_or("second")?.iso(),
            SecondKind::LastName => {
                let c: String = text::fold(s)
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                if c.is_empty() {
                    return Err("second");
                }
                c
            }
        };
        Ok(Facts {
            id_kind,
            id,
            second_kind,
            second,
        })
    }

    /// The OPRF input: a fixed label, then each fact's kind and canonical value, separated by
    /// NUL bytes (which no canonical value holds).
    pub fn oprf_input(&self) -> Vec<u8> {
        let (_, id_d) = self.id_kind.column();
        let (_, s_d) = self.second_kind.column();
        format!(
            "leaktrace-selfcheck-v1\0{}\0{}\0{}\0{}",
            id_d.as_str(),
            self.id,
            s_d.as_str(),
            self.second
        )
        .into_bytes()
    }
}

/// The checker: the enrolled index (memory-mapped), the workspace's fingerprinter and the
/// affected persons of the open incidents (reloaded when the DPO opens or closes one, or an
/// open incident is analysed again: [`Checker::reload_if_changed`]).
pub struct Checker {
    index: Index,
    fpr: Fingerprinter,
    home: PathBuf,
    loaded: RwLock<Arc<Loaded>>,
    /// Stands for a fact that gave no fingerprint (looked up all the same).
    dummy: Fp,
}

/// What the open incidents tell, and the sizes every answer is padded to.
#[derive(Debug)]
pub struct Loaded {
    /// What to tell the persons found.
    pub answers: Answers,
    /// Size of every JSON answer, in bytes.
    pub answer_bytes: usize,
    /// Size of every HTML answer page, in bytes.
    pub html_bytes: usize,
    /// The open incidents and their outputs' modification times, when loaded.
    signature: String,
}

impl Loaded {
    fn load(home: &Path) -> Result<Loaded, ReachError> {
        let signature = signature(home)?;
        let answers = Answers::load(home)?;
        let largest = answers.largest();
        let json = render(&largest, 0).len();
        let html = crate::page::answer(&largest, 0).len() + 8;
        Ok(Loaded {
            answers,
            answer_bytes: json.div_ceil(PAD_BUCKET).max(1) * PAD_BUCKET,
            html_bytes: html.div_ceil(PAD_BUCKET).max(1) * PAD_BUCKET,
            signature,
        })
    }
}

/// The open incidents with the modification time of each one's `affected_persons.csv`: it
/// changes when an incident is opened or closed, or an open one is analysed again.
fn signature(home: &Path) -> Result<String, ReachError> {
    let store = ReachStore::open(home)?;
    let mut sig = String::new();
    for row in store.open_incidents()? {
        let csv = crate::store::report_dir(home, &row).join("affected_persons.csv");
        let mtime = std::fs::metadata(&csv)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        sig.push_str(&format!("{}:{mtime};", row.number));
    }
    Ok(sig)
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let l = self.loaded();
        f.debug_struct("Checker")
            .field("incidents", &l.answers.incidents.len())
            .field("answer_bytes", &l.answer_bytes)
            .finish()
    }
}

/// The JSON answer (every field in every answer; `padding` brings it to the listener's size).
#[derive(Debug, Serialize)]
struct AnswerJson<'a> {
    found: bool,
    incidents: &'a [Exposure],
    advice: &'a [&'a str],
    padding: String,
}

impl Checker {
    /// Load the index (checksums verified) and the open incidents' affected persons.
    pub fn open(ws: &Workspace) -> Result<Checker, ReachError> {
        let loaded = Loaded::load(ws.home())?;
        let index = ws.load(true)?;
        let fpr = index.fingerprinter.clone();
        let dummy = fpr.fp(Domain::Identifier, "\u{0}selfcheck-none");
        Ok(Checker {
            index,
            fpr,
            home: ws.home().to_path_buf(),
            loaded: RwLock::new(Arc::new(loaded)),
            dummy,
        })
    }

    /// The open incidents' answers as loaded now.
    pub fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reload the open incidents' answers if the DPO opened or closed one, or an open one was
    /// analysed again, since they were loaded; true when reloaded.
    pub fn reload_if_changed(&self) -> Result<bool, ReachError> {
        if signature(&self.home)? == self.loaded().signature {
            return Ok(false);
        }
        let fresh = Arc::new(Loaded::load(&self.home)?);
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(true)
    }

    /// The size of every HTML answer page of this checker, in bytes.
    pub fn html_bytes(&self) -> usize {
        self.loaded().html_bytes
    }

    /// The fingerprint of `value` as enrolment computes it for a column of type `ty`.
    fn print(&self, ty: ColumnType, d: Domain, value: &str) -> Fp {
        self.fpr
            .row(&[(ty, value)], None)
            .of(d)
            .next()
            .unwrap_or(self.dummy)
    }

    /// What the person of `facts` is told: the open incidents they are affected by (empty
    /// when not found, or when the second fact does not agree with the identifier's person).
    pub fn lookup(&self, facts: &Facts) -> Vec<Exposure> {
        let mut id_fp = self.dummy;
        for k in IdKind::ALL {
            let (ty, d) = k.column();
            let fp = self.print(ty, d, &facts.id);
            if k == facts.id_kind {
                id_fp = fp;
            }
        }
        let mut second_fp = self.dummy;
        for k in [SecondKind::BirthDate, SecondKind::LastName] {
            let (ty, d) = k.column();
            let fp = self.print(ty, d, &facts.second);
            if k == facts.second_kind {
                second_fp = fp;
            }
        }
        let loaded = self.loaded();
        let answers = &loaded.answers;
        let mut hits: Vec<&str> = Vec::new();
        for (_, seg) in &self.index.snapshots {
            if seg.persons() == 0 {
                continue;
            }
            let ids = seg.postings(id_fp);
            let seconds = seg.postings(second_fp);
            let mut it = ids.iter();
            for _ in 0..MAX_CANDIDATES {
                let (ord, real) = it.next().map_or((0, false), |o| (o, true));
                let agrees = seconds.contains(ord);
                let pid = seg.id(ord);
                let affected = answers.persons.contains_key(pid);
                if real && agrees && affected && !hits.contains(&pid) {
                    hits.push(pid);
                }
            }
        }
        merge(hits.iter().map(|p| answers.exposures(p)))
    }

    /// The answer as JSON, padded to [`Loaded::answer_bytes`]. The other outcome's answer is
    /// rendered too and thrown away (the largest answer for a not-found one, the empty answer
    /// for a found one), so that both outcomes do about the same work (bench/README.md).
    pub fn answer_json(&self, exposures: &[Exposure]) -> Vec<u8> {
        let loaded = self.loaded();
        let size = loaded.answer_bytes;
        let (real, other) = if exposures.is_empty() {
            let largest = loaded.answers.largest();
            (render(exposures, size), render(&largest, size))
        } else {
            let copy = exposures.to_vec();
            (render(&copy, size), render(&[], size))
        };
        std::hint::black_box(other);
        real
    }
}

/// A JSON answer padded to `size` bytes (when shorter).
fn render(exposures: &[Exposure], size: usize) -> Vec<u8> {
    let mut a = AnswerJson {
        found: !exposures.is_empty(),
        incidents: exposures,
        advice: ADVICE,
        padding: String::new(),
    };
    let base = serde_json::to_vec(&a).unwrap_or_default();
    if base.len() < size {
        a.padding = " ".repeat(size - base.len());
    }
    serde_json::to_vec(&a).unwrap_or_default()
}

/// One exposure per incident (a person enrolled twice is told once, with every category).
fn merge(lists: impl Iterator<Item = Vec<Exposure>>) -> Vec<Exposure> {
    let mut out: Vec<Exposure> = Vec::new();
    for e in lists.flatten() {
        match out
            .iter_mut()
            .find(|o| o.date == e.date && o.notice == e.notice)
        {
            Some(o) => {
                for c in e.categories {
                    if !o.categories.contains(&c) {
                        o.categories.push(c);
                    }
                }
            }
            None => out.push(e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_normalised_as_enrolment_does() {
        let f = Facts::parse(
            " Marie.Martin@Example.FR ",
            SecondKind::BirthDate,
            "03/02/1981",
        )
        .unwrap();
        assert_eq!(f.id_kind, IdKind::Email);
        assert_eq!(f.id, email::normalize("marie.martin@example.fr").unwrap());
        assert_eq!(f.second, "1981-02-03");
        let p = Facts::parse("06 12 34 56 78", SecondKind::LastName, "  Le Gall ").unwrap();
        assert_eq!(
            (p.id_kind, p.id.as_str(), p.second.as_str()),
            (IdKind::Phone, "+33612345678", "LEGALL")
        );
        assert_eq!(
            Facts::parse("", SecondKind::BirthDate, "1981-02-03"),
            Err("identifier")
        );
        assert_eq!(
            Facts::parse("0612345678", SecondKind::BirthDate, "hier"),
            Err("second")
        );
        assert_ne!(
            f.oprf_input(),
            Facts {
                second: "1981-02-04".into(),
                ..f.clone()
            }
            .oprf_input()
        );
    }
}
