//! The per-thread cache of fingerprints for values that repeat across rows.

use rustc_hash::FxHashMap;

use leaktrace_pii::{name, text};

use super::{Domain, Fingerprinter, Fp, NameKind, RowPrints};

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
    pub(super) values: Vec<FxHashMap<String, Fp>>,
    pub(super) raw: Vec<FxHashMap<String, Option<Fp>>>,
    /// Per name kind: the index of each raw name's forms in `infos`.
    pub(super) names: [FxHashMap<String, u32>; 2],
    pub(super) infos: [Vec<NameInfo>; 2],
    pub(super) scratch: String,
    /// Places and address words already reported in [`RowPrints::names`] (enrolment).
    pub(super) places: rustc_hash::FxHashSet<(NameKind, String)>,
    /// Whether a raw town name is a French commune (see `Parts::places_independent`).
    pub(super) french_towns: FxHashMap<String, bool>,
    /// Birth years' fingerprints, keyed by the year itself.
    pub(super) years: FxHashMap<i32, Fp>,
    /// Put every row's names in [`RowPrints::names`] (lookups), not only those this cache
    /// has not seen yet (enrolment, which collects each distinct name once).
    pub(super) every_name: bool,
}

/// `parts` joined by `|` into `buf`.
pub(super) fn join<'a>(buf: &'a mut String, parts: &[&str]) -> &'a str {
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

    /// Report a place or address word for the neighbourhood table: every time for lookups,
    /// once per cache for enrolment.
    pub(super) fn place(&mut self, kind: NameKind, canonical: &str, out: &mut RowPrints) {
        if self.every_name {
            out.names.push((kind, canonical.to_string()));
            return;
        }
        let key = (kind, canonical.to_string());
        if !self.places.contains(&key) {
            if self.places.len() >= CACHE_LIMIT {
                self.places.clear();
            }
            self.places.insert(key.clone());
            out.names.push(key);
        }
    }

    /// Whether the raw town `v` is a French commune, by `check` once per distinct spelling.
    pub(super) fn is_french_town(&mut self, v: &str, check: impl FnOnce(&str) -> bool) -> bool {
        if let Some(&b) = self.french_towns.get(v) {
            return b;
        }
        if self.french_towns.len() >= CACHE_LIMIT {
            self.french_towns.clear();
        }
        let b = check(v);
        self.french_towns.insert(v.to_string(), b);
        b
    }

    pub(super) fn get(&mut self, f: &Fingerprinter, d: Domain, v: &str) -> Fp {
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

    /// The fingerprint of a birth year ([`Domain::BirthYear`]).
    pub(super) fn year(&mut self, f: &Fingerprinter, y: i32) -> Fp {
        if let Some(fp) = self.years.get(&y) {
            return *fp;
        }
        if self.years.len() >= CACHE_LIMIT {
            self.years.clear();
        }
        let fp = f.fp(Domain::BirthYear, &y.to_string());
        self.years.insert(y, fp);
        fp
    }

    /// The fingerprint of a raw value whose canonical form `canon` computes (cached by the raw
    /// value, so the normalisation runs once per distinct spelling).
    pub(super) fn raw(
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

    /// Bound the name maps: called between rows, so that the indices [`Cache::name`] returns
    /// stay valid for the whole row.
    pub(super) fn trim(&mut self) {
        for k in 0..2 {
            if self.names[k].len() >= CACHE_LIMIT {
                self.names[k].clear();
                self.infos[k].clear();
            }
        }
    }

    /// The index of the name's forms ([`Cache::info`]) and whether this cache had not seen it
    /// yet. One map lookup when it had.
    pub(super) fn name(&mut self, f: &Fingerprinter, kind: NameKind, raw: &str) -> (u32, bool) {
        let k = kind as usize;
        if let Some(&i) = self.names[k].get(raw) {
            return (i, false);
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
        let i = self.infos[k].len() as u32;
        self.infos[k].push(info);
        self.names[k].insert(raw.to_string(), i);
        (i, true)
    }

    /// The forms of the name of kind `kind` at index `i` (from [`Cache::name`], this row).
    pub(super) fn info(&self, kind: NameKind, i: u32) -> &NameInfo {
        &self.infos[kind as usize][i as usize]
    }
}
