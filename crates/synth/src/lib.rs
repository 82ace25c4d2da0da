//! Synthetic French population, recipient extracts and leak scenarios with ground truth.
//!
//! [`generate`] writes, under an output directory:
//! * `registry.csv` — the organisation's master registry (one row per person, current values);
//! * `extracts/` — what the organisation handed to recipients, each with its own format,
//!   encoding, column names and value formats, holding values *as of its date*, and
//!   `extracts/manifest.json`;
//! * `leaks/` — leak scenarios, `leaks/truth/<leak>.csv` (`row,person_id`) and
//!   `leaks/truth/scenarios.json` (expected verdict, sources, extraction date, column types).
//!
//! Person `i` is a pure function of `(seed, i)` ([`person::Person::generate`]), so the
//! population is generated in parallel chunks and written in order: the same seed gives
//! byte-identical files.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use leaktrace_pii::{text, ColumnType};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub mod canary;
pub mod date;
pub mod person;
pub mod render;
pub mod rng;
mod write;

use date::Date;
use person::{Person, REGISTRY_DATE};
use render::{cols, Column, Field};
use rng::Rng;
pub use write::Encoding;

/// Generator settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Persons in the registry.
    pub persons: u64,
    pub seed: u64,
    /// Share of name and e-mail cells with a typo in the reshaped leak.
    pub typo_rate: f64,
    /// Share of cells left empty in the reshaped leak.
    pub missing_rate: f64,
    /// Share of invented rows in the reshaped leak.
    pub invented_rate: f64,
    /// Share of duplicated rows in the reshaped leak.
    pub duplicate_rate: f64,
    /// Rows per leak (capped by the size of its source).
    pub leak_rows: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            persons: 20_000,
            seed: 42,
            typo_rate: 0.02,
            missing_rate: 0.02,
            invented_rate: 0.01,
            duplicate_rate: 0.02,
            leak_rows: 2_000,
        }
    }
}

/// Errors from the generator.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write workbook {path}: {message}")]
    Xlsx { path: PathBuf, message: String },
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// A column of a generated file and its true type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnTruth {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
}

/// One extract in `extracts/manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtractInfo {
    /// Source name as it would be enrolled (one per delivery).
    pub name: String,
    pub recipient: String,
    /// `yyyy-mm-dd`.
    pub as_of: String,
    /// Path relative to the output directory.
    pub file: String,
    pub format: String,
    pub encoding: String,
    pub delimiter: Option<String>,
    pub rule: String,
    pub rows: u64,
    pub columns: Vec<ColumnTruth>,
}

impl ExtractInfo {
    /// The source this delivery is a snapshot of: the name without its date suffix
    /// (`website_2024` and `website_2025` are two snapshots of `website`).
    pub fn source(&self) -> &str {
        self.name
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '_')
    }
}

/// `extracts/manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub seed: u64,
    pub persons: u64,
    pub registry: ExtractInfo,
    pub extracts: Vec<ExtractInfo>,
}

/// Where a leak's rows truly come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedSource {
    /// Extract name (see the manifest), or `registry`.
    pub source: String,
    pub recipient: String,
    /// Extraction date of that delivery.
    pub as_of: String,
}

/// One leak scenario in `leaks/truth/scenarios.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    /// Path relative to the output directory.
    pub file: String,
    pub truth: String,
    pub format: String,
    pub header: bool,
    pub rows: u64,
    /// `authentic | partial | recombined | not_ours`.
    pub verdict: String,
    pub sources: Vec<ExpectedSource>,
    pub description: String,
    /// Column names (or `col_1`… without a header; SQL/JSON keys as written) and true types.
    pub columns: Vec<ColumnTruth>,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub out: PathBuf,
    pub persons: u64,
    pub seed: u64,
    pub registry_rows: u64,
    pub extracts: Vec<ExtractInfo>,
    pub leaks: Vec<Scenario>,
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Delimited(char),
    Jsonl,
    Xlsx,
}

struct ExtractSpec {
    name: &'static str,
    recipient: &'static str,
    as_of: Date,
    file: &'static str,
    format: Format,
    encoding: Encoding,
    rule: &'static str,
    columns: Vec<Column>,
    include: fn(&Person, Date) -> bool,
}

fn registry_columns() -> Vec<Column> {
    use Field::*;
    cols(&[
        ("person_id", Id),
        ("civilite", Civility),
        ("nom", LastUpper),
        ("prenom", First),
        ("date_naissance", BirthIso),
        ("nir", NirCompact),
        ("email", Email),
        ("mobile", PhoneCompact),
        ("code_postal", PostalCode),
        ("commune", Commune),
        ("code_insee", InseeCode),
        ("niveau_etude", Education),
        ("permis", LicenceOuiNon),
        ("vehicule", CarOuiNon),
        ("code_rome", Rome),
        ("date_inscription", RegistrationIso),
    ])
}

/// Region of the training partner (Auvergne-Rhône-Alpes).
const TRAINING_REGION: &str = "84";

fn extract_specs() -> Vec<ExtractSpec> {
    use Field::*;
    let website_cols = cols(&[
        ("person_id", Id),
        ("email", Email),
        ("phone", PhoneE164),
        ("last_name", LastUpper),
        ("first_name", First),
        ("birth_date", BirthIso),
        ("postal_code", PostalCode),
        ("city", Commune),
    ]);
    vec![
        ExtractSpec {
            name: "provider_docs_2022_02",
            recipient: "DigitScan (document digitisation)",
            as_of: Date::new(2022, 3, 5),
            file: "extracts/provider_docs_2022-02.csv",
            format: Format::Delimited(';'),
            encoding: Encoding::Latin1,
            rule: "job seekers registered in February 2022",
            columns: cols(&[
                ("IDENTIFIANT", Id),
                ("NOM", LastUpper),
                ("PRENOM", FirstUpper),
                ("NIR", NirSpaced),
            ]),
            include: |p, _| p.registration.year == 2022 && p.registration.month == 2,
        },
        ExtractSpec {
            name: "app_backend_2023",
            recipient: "MobiApp Studio (mobile app backend)",
            as_of: Date::new(2023, 6, 15),
            file: "extracts/app_users_2023-06-15.jsonl",
            format: Format::Jsonl,
            encoding: Encoding::Utf8,
            rule: "app users registered by the delivery date",
            columns: cols(&[
                ("user_id", Id),
                ("first_name", First),
                ("last_name", LastTitle),
                ("postal_code", PostalCode),
                ("city", Commune),
                ("age", Age),
                ("email", Email),
                ("mobile", PhoneE164),
                ("education", Education),
                ("driving_licence", LicenceBool),
                ("car", CarBool),
                ("rome_code", Rome),
                ("latitude", Latitude),
                ("longitude", Longitude),
            ]),
            include: |p, at| p.trait_u < 0.35 && p.registration <= at,
        },
        ExtractSpec {
            name: "training_partner_2024",
            recipient: "FormaPro Auvergne-Rhône-Alpes (training partner)",
            as_of: Date::new(2024, 1, 10),
            file: "extracts/formation_ara_2024.xlsx",
            format: Format::Xlsx,
            encoding: Encoding::Utf8,
            rule: "residents of Auvergne-Rhône-Alpes registered in 2023",
            columns: cols(&[
                ("N° demandeur", Id),
                ("Nom", LastTitle),
                ("Prénom", First),
                ("Date de naissance", BirthFrench),
                ("Courriel", Email),
                ("Téléphone", PhoneSpaced),
                ("Niveau de formation", Education),
            ]),
            include: |p, at| {
                p.registration.year == 2023
                    && leaktrace_pii::refdata::get().communes[p.home_at(at).commune].region
                        == TRAINING_REGION
            },
        },
        ExtractSpec {
            name: "website_2024",
            recipient: "WebOps Hosting (website backend)",
            as_of: Date::new(2024, 3, 1),
            file: "extracts/website_accounts_2024-03-01.tsv",
            format: Format::Delimited('\t'),
            encoding: Encoding::Utf8,
            rule: "persons with an online account, registered by the delivery date",
            columns: website_cols.clone(),
            include: |p, at| p.trait_u >= 0.3 && p.trait_u < 0.9 && p.registration <= at,
        },
        ExtractSpec {
            name: "website_2025",
            recipient: "WebOps Hosting (website backend)",
            as_of: Date::new(2025, 9, 1),
            file: "extracts/website_accounts_2025-09-01.tsv",
            format: Format::Delimited('\t'),
            encoding: Encoding::Utf8,
            rule: "persons with an online account, registered by the delivery date",
            columns: website_cols,
            include: |p, at| p.trait_u >= 0.3 && p.trait_u < 0.9 && p.registration <= at,
        },
    ]
}

fn truths(columns: &[Column]) -> Vec<ColumnTruth> {
    columns
        .iter()
        .map(|c| ColumnTruth {
            name: c.header.clone(),
            ty: c.field.column_type(),
        })
        .collect()
}

fn headers(columns: &[Column]) -> Vec<String> {
    columns.iter().map(|c| c.header.clone()).collect()
}

fn render_row(columns: &[Column], p: &Person, at: Date) -> Vec<String> {
    columns.iter().map(|c| c.field.render(p, at)).collect()
}

/// One chunk's output: registry text, and per extract its text (or rows) and person indices.
struct ChunkOut {
    registry: String,
    extracts: Vec<(String, Vec<Vec<String>>, Vec<u32>)>,
}

const CHUNK: u64 = 20_000;

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> SynthError + '_ {
    move |e| SynthError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Generate the registry, extracts and leaks under `out`.
pub fn generate(cfg: &Config, out: &Path) -> Result<Summary, SynthError> {
    generate_with_progress(cfg, out, &|_| {})
}

/// [`generate`], calling `progress(persons_done)` as chunks are written.
pub fn generate_with_progress(
    cfg: &Config,
    out: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary, SynthError> {
    if cfg.persons == 0 || cfg.persons > u64::from(u32::MAX) {
        return Err(SynthError::Config(format!(
            "--persons must be between 1 and {}",
            u32::MAX
        )));
    }
    for (name, v) in [
        ("typo-rate", cfg.typo_rate),
        ("missing-rate", cfg.missing_rate),
        ("invented-rate", cfg.invented_rate),
        ("duplicate-rate", cfg.duplicate_rate),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(SynthError::Config(format!(
                "--{name} must be between 0 and 1, got {v}"
            )));
        }
    }
    for d in ["extracts", "leaks/truth"] {
        let p = out.join(d);
        fs::create_dir_all(&p).map_err(io_err(&p))?;
    }
    let specs = extract_specs();
    let reg_cols = registry_columns();

    // Open streaming outputs.
    let reg_path = out.join("registry.csv");
    let mut reg_w =
        std::io::BufWriter::new(fs::File::create(&reg_path).map_err(io_err(&reg_path))?);
    let mut header = String::new();
    write::push_delimited(&mut header, &headers(&reg_cols), ',');
    reg_w
        .write_all(header.as_bytes())
        .map_err(io_err(&reg_path))?;
    let mut ext_w: Vec<Option<std::io::BufWriter<fs::File>>> = Vec::new();
    for s in &specs {
        match s.format {
            Format::Delimited(d) => {
                let p = out.join(s.file);
                let mut w = std::io::BufWriter::new(fs::File::create(&p).map_err(io_err(&p))?);
                let mut h = String::new();
                write::push_delimited(&mut h, &headers(&s.columns), d);
                w.write_all(&s.encoding.encode(&h)).map_err(io_err(&p))?;
                ext_w.push(Some(w));
            }
            Format::Jsonl => {
                let p = out.join(s.file);
                ext_w.push(Some(std::io::BufWriter::new(
                    fs::File::create(&p).map_err(io_err(&p))?,
                )));
            }
            Format::Xlsx => ext_w.push(None),
        }
    }
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); specs.len()];
    let mut xlsx_rows: Vec<Vec<Vec<String>>> = vec![Vec::new(); specs.len()];
    let chunks = cfg.persons.div_ceil(CHUNK);
    let window = 8 * rayon::current_num_threads().max(1) as u64;
    let mut done = 0u64;
    let mut c0 = 0;
    while c0 < chunks {
        let c1 = (c0 + window).min(chunks);
        let outs: Vec<ChunkOut> = (c0..c1)
            .into_par_iter()
            .map(|c| {
                let lo = c * CHUNK;
                let hi = ((c + 1) * CHUNK).min(cfg.persons);
                let mut o = ChunkOut {
                    registry: String::with_capacity(((hi - lo) * 200) as usize),
                    extracts: specs
                        .iter()
                        .map(|_| (String::new(), Vec::new(), Vec::new()))
                        .collect(),
                };
                for i in lo..hi {
                    let p = Person::generate(cfg.seed, i, false);
                    write::push_delimited(
                        &mut o.registry,
                        &render_row(&reg_cols, &p, REGISTRY_DATE),
                        ',',
                    );
                    for (k, s) in specs.iter().enumerate() {
                        if !(s.include)(&p, s.as_of) {
                            continue;
                        }
                        let row = render_row(&s.columns, &p, s.as_of);
                        let e = &mut o.extracts[k];
                        match s.format {
                            Format::Delimited(d) => write::push_delimited(&mut e.0, &row, d),
                            Format::Jsonl => write::push_json_object(
                                &mut e.0,
                                &headers(&s.columns),
                                &row,
                                &render::json_types(&s.columns),
                            ),
                            Format::Xlsx => e.1.push(row),
                        }
                        e.2.push(i as u32);
                    }
                }
                o
            })
            .collect();
        for o in outs {
            reg_w
                .write_all(o.registry.as_bytes())
                .map_err(io_err(&reg_path))?;
            for (k, (text, rows, idx)) in o.extracts.into_iter().enumerate() {
                if let Some(w) = ext_w[k].as_mut() {
                    let p = out.join(specs[k].file);
                    w.write_all(&specs[k].encoding.encode(&text))
                        .map_err(io_err(&p))?;
                }
                xlsx_rows[k].extend(rows);
                members[k].extend(idx);
            }
        }
        done = (c1 * CHUNK).min(cfg.persons);
        progress(done);
        c0 = c1;
    }
    debug_assert_eq!(done, cfg.persons);
    reg_w.flush().map_err(io_err(&reg_path))?;
    for (k, w) in ext_w.iter_mut().enumerate() {
        if let Some(w) = w {
            w.flush().map_err(io_err(&out.join(specs[k].file)))?;
        }
    }
    for (k, s) in specs.iter().enumerate() {
        if let Format::Xlsx = s.format {
            write::write_xlsx(
                &out.join(s.file),
                "Stagiaires",
                &headers(&s.columns),
                &xlsx_rows[k],
            )?;
        }
    }
    drop(xlsx_rows);

    let extracts: Vec<ExtractInfo> = specs
        .iter()
        .enumerate()
        .map(|(k, s)| ExtractInfo {
            name: s.name.to_string(),
            recipient: s.recipient.to_string(),
            as_of: s.as_of.iso(),
            file: s.file.to_string(),
            format: match s.format {
                Format::Delimited(_) => "csv",
                Format::Jsonl => "jsonl",
                Format::Xlsx => "xlsx",
            }
            .to_string(),
            encoding: s.encoding.name().to_string(),
            delimiter: match s.format {
                Format::Delimited(d) => Some(d.to_string()),
                _ => None,
            },
            rule: s.rule.to_string(),
            rows: members[k].len() as u64,
            columns: truths(&s.columns),
        })
        .collect();
    let manifest = Manifest {
        seed: cfg.seed,
        persons: cfg.persons,
        registry: ExtractInfo {
            name: "registry".into(),
            recipient: "(the organisation)".into(),
            as_of: REGISTRY_DATE.iso(),
            file: "registry.csv".into(),
            format: "csv".into(),
            encoding: "utf-8".into(),
            delimiter: Some(",".into()),
            rule: "every registered person, current values".into(),
            rows: cfg.persons,
            columns: truths(&reg_cols),
        },
        extracts: extracts.clone(),
    };
    write_json(&out.join("extracts/manifest.json"), &manifest)?;

    let leaks = leaks::write_leaks(cfg, out, &specs, &members)?;
    write_json(&out.join("leaks/truth/scenarios.json"), &leaks)?;
    Ok(Summary {
        out: out.to_path_buf(),
        persons: cfg.persons,
        seed: cfg.seed,
        registry_rows: cfg.persons,
        extracts,
        leaks,
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SynthError> {
    let mut s = serde_json::to_string_pretty(value).map_err(|e| SynthError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    s.push('\n');
    write::write_file(path, s.as_bytes())
}

/// Read `extracts/manifest.json` from a generated directory.
pub fn read_manifest(dir: &Path) -> Result<Manifest, SynthError> {
    read_json(&dir.join("extracts/manifest.json"))
}

/// Read `leaks/truth/scenarios.json` from a generated directory.
pub fn read_scenarios(dir: &Path) -> Result<Vec<Scenario>, SynthError> {
    read_json(&dir.join("leaks/truth/scenarios.json"))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, SynthError> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    serde_json::from_str(&text).map_err(|e| SynthError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

mod leaks;

/// Apply one random typo (swap, drop, replace or double a letter) to `s`.
pub fn typo(rng: &mut Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 3 {
        return s.to_string();
    }
    let i = 1 + rng.below(c.len() as u64 - 2) as usize;
    match rng.below(4) {
        0 => c.swap(i, i + 1),
        1 => {
            c.remove(i);
        }
        2 => {
            let letters = "aeioulnrst";
            let r = letters
                .chars()
                .nth(rng.below(letters.len() as u64) as usize)
                .unwrap_or('e');
            c[i] = if c[i].is_uppercase() {
                r.to_ascii_uppercase()
            } else {
                r
            };
        }
        _ => c.insert(i, c[i]),
    }
    c.into_iter().collect()
}

/// Upper case without accents, as legacy systems export names.
pub fn legacy_upper(s: &str) -> String {
    text::upper_ascii(s)
}

/// Distinct persons in a list of indices.
pub fn distinct(idx: &[u32]) -> usize {
    idx.iter().collect::<HashSet<_>>().len()
}
