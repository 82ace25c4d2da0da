//! Leak scenarios built from the extracts, with their ground truth.

use std::path::Path;

use leaktrace_pii::ColumnType;

use crate::date::Date;
use crate::person::{Person, REGISTRY_DATE};
use crate::render::{cols, Column, Field};
use crate::rng::Rng;
use crate::write;
use crate::{
    headers, legacy_upper, render_row, truths, typo, ColumnTruth, Config, ExpectedSource,
    ExtractSpec, Scenario, SynthError,
};

/// A leak's rows before writing: cells and the true person id (empty when invented).
struct Rows {
    cells: Vec<Vec<String>>,
    ids: Vec<String>,
}

enum LeakFormat {
    Csv { delim: char, header: bool },
    Sql { table: &'static str },
    Json,
    Xlsx,
}

/// Draw `k` distinct positions of `0..n` in random order.
fn sample(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    let mut chosen = std::collections::HashSet::with_capacity(k);
    let mut out = Vec::with_capacity(k);
    if k * 2 > n {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + rng.below((n - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(k);
        return all;
    }
    while out.len() < k {
        let x = rng.below(n as u64) as usize;
        if chosen.insert(x) {
            out.push(x);
        }
    }
    out
}

fn source_of(s: &ExtractSpec) -> ExpectedSource {
    ExpectedSource {
        source: s.name.to_string(),
        recipient: s.recipient.to_string(),
        as_of: s.as_of.iso(),
    }
}

fn real_rows(
    cfg: &Config,
    idx: &[u32],
    columns: &[Column],
    at: Date,
    rng: &mut Rng,
    k: usize,
) -> Rows {
    let mut rows = Rows {
        cells: Vec::new(),
        ids: Vec::new(),
    };
    for pos in sample(rng, idx.len(), k) {
        let p = Person::generate(cfg.seed, u64::from(idx[pos]), false);
        rows.cells.push(render_row(columns, &p, at));
        rows.ids.push(p.id.clone());
    }
    rows
}

fn invented_rows(cfg: &Config, columns: &[Column], at: Date, start: u64, k: usize) -> Rows {
    let mut rows = Rows {
        cells: Vec::new(),
        ids: Vec::new(),
    };
    for j in 0..k as u64 {
        let p = Person::generate(cfg.seed, start + j, true);
        let mut cells = render_row(columns, &p, at);
        // Invented people have no organisation id: make up one in the same shape.
        for (c, col) in cells.iter_mut().zip(columns) {
            if col.field == Field::Id {
                *c = format!("FT{:09}", 900_000_000 + start + j);
            }
        }
        rows.cells.push(cells);
        rows.ids.push(String::new());
    }
    rows
}

/// Mix invented rows in at random positions and duplicate some rows.
/// Interleave `extra` rows into `base` at random positions (base order kept), then insert
/// duplicates of random rows at random positions. Linear time: a random merge, not repeated
/// `Vec::insert` (which made million-row leaks quadratic).
fn mix(rng: &mut Rng, base: Rows, extra: Rows, duplicate_rate: f64) -> Rows {
    let merged = merge(rng, base, extra);
    let dups = (merged.cells.len() as f64 * duplicate_rate).round() as usize;
    if dups == 0 {
        return merged;
    }
    let mut copies = Rows {
        cells: Vec::with_capacity(dups),
        ids: Vec::with_capacity(dups),
    };
    for _ in 0..dups {
        let from = rng.below(merged.cells.len() as u64) as usize;
        copies.cells.push(merged.cells[from].clone());
        copies.ids.push(merged.ids[from].clone());
    }
    merge(rng, merged, copies)
}

/// A uniformly random interleaving of two sequences, each keeping its order.
fn merge(rng: &mut Rng, a: Rows, b: Rows) -> Rows {
    let (na, nb) = (a.cells.len(), b.cells.len());
    let mut out = Rows {
        cells: Vec::with_capacity(na + nb),
        ids: Vec::with_capacity(na + nb),
    };
    let mut a = a.cells.into_iter().zip(a.ids);
    let mut b = b.cells.into_iter().zip(b.ids);
    let (mut ra, mut rb) = (na as u64, nb as u64);
    while ra + rb > 0 {
        let take_a = rng.below(ra + rb) < ra;
        let (c, id) = if take_a {
            ra -= 1;
            a.next()
        } else {
            rb -= 1;
            b.next()
        }
        .expect("counts match");
        out.cells.push(c);
        out.ids.push(id);
    }
    out
}

struct Leak<'a> {
    name: &'static str,
    file: &'static str,
    format: LeakFormat,
    columns: Vec<Column>,
    rows: Rows,
    verdict: &'static str,
    sources: Vec<ExpectedSource>,
    description: String,
    out: &'a Path,
}

impl Leak<'_> {
    fn write(self) -> Result<Scenario, SynthError> {
        let path = self.out.join(self.file);
        let heads = headers(&self.columns);
        let typed = crate::render::json_types(&self.columns);
        let (format, header) = match &self.format {
            LeakFormat::Csv { delim, header } => {
                let mut s = String::new();
                if *header {
                    write::push_delimited(&mut s, &heads, *delim);
                }
                for r in &self.rows.cells {
                    write::push_delimited(&mut s, r, *delim);
                }
                write::write_file(&path, s.as_bytes())?;
                ("csv", *header)
            }
            LeakFormat::Sql { table } => {
                write::write_sql(&path, table, &heads, &self.rows.cells)?;
                ("sql", true)
            }
            LeakFormat::Json => {
                let arr: Vec<serde_json::Value> = self
                    .rows
                    .cells
                    .iter()
                    .map(|r| write::json_object(&heads, r, &typed))
                    .collect();
                let s = serde_json::to_string_pretty(&arr).map_err(|e| SynthError::Io {
                    path: path.clone(),
                    source: e.into(),
                })?;
                write::write_file(&path, s.as_bytes())?;
                ("json", true)
            }
            LeakFormat::Xlsx => {
                write::write_xlsx(&path, "export", &heads, &self.rows.cells)?;
                ("xlsx", true)
            }
        };
        let truth_rel = format!("leaks/truth/{}.csv", self.name);
        let mut t = String::from("row,person_id\n");
        for (i, id) in self.rows.ids.iter().enumerate() {
            t.push_str(&format!("{i},{id}\n"));
        }
        write::write_file(&self.out.join(&truth_rel), t.as_bytes())?;
        let columns = if header {
            truths(&self.columns)
        } else {
            truths(&self.columns)
                .into_iter()
                .enumerate()
                .map(|(i, c)| ColumnTruth {
                    name: format!("col_{}", i + 1),
                    ty: c.ty,
                })
                .collect()
        };
        Ok(Scenario {
            name: self.name.to_string(),
            file: self.file.to_string(),
            truth: truth_rel,
            format: format.to_string(),
            header,
            rows: self.rows.cells.len() as u64,
            verdict: self.verdict.to_string(),
            sources: self.sources,
            description: self.description,
            columns,
        })
    }
}

fn spec<'a>(specs: &'a [ExtractSpec], name: &str) -> (usize, &'a ExtractSpec) {
    specs
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == name)
        .expect("extract spec exists")
}

/// Write every leak scenario and its truth; returns the scenarios in order.
pub(crate) fn write_leaks(
    cfg: &Config,
    out: &Path,
    specs: &[ExtractSpec],
    members: &[Vec<u32>],
) -> Result<Vec<Scenario>, SynthError> {
    use Field::*;
    let k = cfg.leak_rows.max(1);
    let mut scenarios = Vec::new();
    let rng = |n: u64| Rng::new(cfg.seed, 0x1EA4, n);
    let (app_k, app) = spec(specs, "app_backend_2023");
    let (prov_k, prov) = spec(specs, "provider_docs_2022_02");
    let (web1_k, web1) = spec(specs, "website_2024");
    let (web2_k, web2) = spec(specs, "website_2025");
    let (train_k, train) = spec(specs, "training_partner_2024");

    // 1. Reshaped sample of the app extract: French names, reordered, lat/lon and id dropped,
    //    legacy upper case, national phone format, typos, missing values, invented and
    //    duplicated rows.
    {
        let columns = cols(&[
            ("NOM", LastUpper),
            ("PRENOM", FirstUpper),
            ("MAIL", Email),
            ("PORTABLE", PhoneSpaced),
            ("CP", PostalCode),
            ("VILLE", Commune),
            ("AGE", Age),
            ("DIPLOME", Education),
            ("PERMIS", LicenceOuiNon),
            ("VOITURE", CarOuiNon),
            ("ROME", Rome),
        ]);
        let mut r = rng(1);
        let base = real_rows(cfg, &members[app_k], &columns, app.as_of, &mut r, k);
        let invented = ((base.cells.len() as f64) * cfg.invented_rate).round() as usize;
        let extra = invented_rows(cfg, &columns, app.as_of, 0, invented);
        let mut rows = mix(&mut r, base, extra, cfg.duplicate_rate);
        for row in rows.cells.iter_mut() {
            for (j, cell) in row.iter_mut().enumerate() {
                let ty = columns[j].field.column_type();
                if matches!(
                    ty,
                    ColumnType::LastName | ColumnType::FirstName | ColumnType::Commune
                ) {
                    *cell = legacy_upper(cell);
                }
                if matches!(
                    ty,
                    ColumnType::LastName | ColumnType::FirstName | ColumnType::Email
                ) && r.chance(cfg.typo_rate)
                {
                    *cell = typo(&mut r, cell);
                }
                if j > 1 && r.chance(cfg.missing_rate) {
                    cell.clear();
                }
            }
        }
        scenarios.push(
            Leak {
                name: "app_reshaped",
                file: "leaks/app_reshaped.csv",
                format: LeakFormat::Csv {
                    delim: ',',
                    header: true,
                },
                columns,
                rows,
                verdict: "authentic",
                sources: vec![crate::leaks::source_of(app)],
                description: "Reshaped forum sample of the mobile-app extract: renamed, reordered and dropped columns, upper case without accents, reformatted phones, typos, missing values, invented and duplicated rows".into(),
                out,
            }
            .write()?,
        );
    }

    // 2. Header-less dump of the provider extract (NIR without spaces).
    {
        let columns = cols(&[
            ("IDENTIFIANT", Id),
            ("NOM", LastUpper),
            ("PRENOM", FirstUpper),
            ("NIR", NirCompact),
        ]);
        let rows = real_rows(cfg, &members[prov_k], &columns, prov.as_of, &mut rng(2), k);
        scenarios.push(
            Leak {
                name: "provider_noheader",
                file: "leaks/provider_noheader.csv",
                format: LeakFormat::Csv {
                    delim: '|',
                    header: false,
                },
                columns,
                rows,
                verdict: "authentic",
                sources: vec![source_of(prov)],
                description: "Header-less pipe-separated dump of the document-digitisation provider's extract (names and NIR)".into(),
                out,
            }
            .write()?,
        );
    }

    // 3. SQL dump of the first website delivery.
    {
        let columns = web1.columns.clone();
        let rows = real_rows(cfg, &members[web1_k], &columns, web1.as_of, &mut rng(3), k);
        scenarios.push(
            Leak {
                name: "website_dump",
                file: "leaks/website_dump.sql",
                format: LeakFormat::Sql { table: "users" },
                columns,
                rows,
                verdict: "authentic",
                sources: vec![source_of(web1)],
                description: "MySQL dump (CREATE TABLE + multi-row INSERT) of the website backend's 2024 delivery".into(),
                out,
            }
            .write()?,
        );
    }

    // 4. JSON dump of the app extract, location nested.
    {
        let columns = cols(&[
            ("id", Id),
            ("firstname", First),
            ("lastname", LastTitle),
            ("email", Email),
            ("phone", PhoneE164),
            ("zip", PostalCode),
            ("town", Commune),
            ("age", Age),
            ("location.lat", Latitude),
            ("location.lng", Longitude),
        ]);
        let rows = real_rows(cfg, &members[app_k], &columns, app.as_of, &mut rng(4), k);
        scenarios.push(
            Leak {
                name: "app_dump",
                file: "leaks/app_dump.json",
                format: LeakFormat::Json,
                columns,
                rows,
                verdict: "authentic",
                sources: vec![source_of(app)],
                description: "JSON array dump of the mobile-app backend with a nested location object".into(),
                out,
            }
            .write()?,
        );
    }

    // 5. XLSX of the training partner's extract.
    {
        let columns = cols(&[
            ("Nom", LastTitle),
            ("Prénom", First),
            ("Date de naissance", BirthFrench),
            ("Courriel", Email),
            ("Téléphone", PhoneSpaced),
        ]);
        let rows = real_rows(
            cfg,
            &members[train_k],
            &columns,
            train.as_of,
            &mut rng(5),
            k,
        );
        scenarios.push(
            Leak {
                name: "training_sheet",
                file: "leaks/training_sheet.xlsx",
                format: LeakFormat::Xlsx,
                columns,
                rows,
                verdict: "authentic",
                sources: vec![source_of(train)],
                description: "Spreadsheet from the training partner's extract".into(),
                out,
            }
            .write()?,
        );
    }

    // 6. Fabricated: invented people in a plausible schema.
    {
        let columns = cols(&[
            ("nom", LastUpper),
            ("prenom", First),
            ("nir", NirSpaced),
            ("email", Email),
            ("telephone", PhoneCompact),
            ("code_postal", PostalCode),
            ("ville", Commune),
        ]);
        let rows = invented_rows(cfg, &columns, REGISTRY_DATE, 1_000_000, k);
        scenarios.push(
            Leak {
                name: "fabricated",
                file: "leaks/fabricated.csv",
                format: LeakFormat::Csv {
                    delim: ';',
                    header: true,
                },
                columns,
                rows,
                verdict: "not_ours",
                sources: vec![],
                description: "Fabricated file: invented people (valid NIR keys, real communes) in a plausible schema".into(),
                out,
            }
            .write()?,
        );
    }

    // 7. Recombined: real names and birth dates with other people's e-mails and phones.
    {
        let columns = cols(&[
            ("nom", LastUpper),
            ("prenom", First),
            ("date_naissance", BirthFrench),
            ("email", Email),
            ("telephone", PhoneSpaced),
        ]);
        let mut r = rng(7);
        let n = cfg.persons as usize;
        let mut rows = Rows {
            cells: Vec::new(),
            ids: Vec::new(),
        };
        let names = sample(&mut r, n, k);
        for &a in &names {
            let b = (a + 1 + r.below(n.saturating_sub(1).max(1) as u64) as usize) % n;
            let pa = Person::generate(cfg.seed, a as u64, false);
            let pb = Person::generate(cfg.seed, b as u64, false);
            let mut cells = render_row(&columns[..3], &pa, REGISTRY_DATE);
            cells.extend(render_row(&columns[3..], &pb, REGISTRY_DATE));
            rows.cells.push(cells);
            rows.ids.push(pa.id.clone());
        }
        scenarios.push(
            Leak {
                name: "recombined",
                file: "leaks/recombined.csv",
                format: LeakFormat::Csv {
                    delim: ',',
                    header: true,
                },
                columns,
                rows,
                verdict: "recombined",
                sources: vec![ExpectedSource {
                    source: "registry".into(),
                    recipient: "(the organisation)".into(),
                    as_of: REGISTRY_DATE.iso(),
                }],
                description: "Recombined file: real names and birth dates stitched to other people's e-mails and phones (truth ids are the names' persons)".into(),
                out,
            }
            .write()?,
        );
    }

    // 8. Merge of two extracts: provider (NIR) joined with the 2025 website delivery (contact).
    {
        let columns = cols(&[
            ("id", Id),
            ("nom", LastUpper),
            ("prenom", FirstUpper),
            ("nir", NirSpaced),
            ("email", Email),
            ("tel", PhoneE164),
        ]);
        let web: std::collections::HashSet<u32> = members[web2_k].iter().copied().collect();
        let both: Vec<u32> = members[prov_k]
            .iter()
            .copied()
            .filter(|i| web.contains(i))
            .collect();
        let mut r = rng(8);
        let mut rows = Rows {
            cells: Vec::new(),
            ids: Vec::new(),
        };
        for pos in sample(&mut r, both.len(), k) {
            let p = Person::generate(cfg.seed, u64::from(both[pos]), false);
            let mut cells = render_row(&columns[..4], &p, prov.as_of);
            cells.extend(render_row(&columns[4..], &p, web2.as_of));
            rows.cells.push(cells);
            rows.ids.push(p.id.clone());
        }
        scenarios.push(
            Leak {
                name: "merged",
                file: "leaks/merged.csv",
                format: LeakFormat::Csv {
                    delim: ',',
                    header: true,
                },
                columns,
                rows,
                verdict: "authentic",
                sources: vec![source_of(prov), source_of(web2)],
                description: "Merge of two extracts: the provider's names and NIR joined with the website's 2025 e-mails and phones".into(),
                out,
            }
            .write()?,
        );
    }

    // 9. Partial: a minority of real website rows among invented ones.
    {
        let columns = web2.columns.clone();
        let mut r = rng(9);
        let real = real_rows(
            cfg,
            &members[web2_k],
            &columns,
            web2.as_of,
            &mut r,
            k * 15 / 100,
        );
        let extra = invented_rows(
            cfg,
            &columns,
            web2.as_of,
            2_000_000,
            k - real.cells.len().min(k),
        );
        let rows = mix(&mut r, real, extra, 0.0);
        scenarios.push(
            Leak {
                name: "partial",
                file: "leaks/partial.tsv",
                format: LeakFormat::Csv {
                    delim: '\t',
                    header: true,
                },
                columns,
                rows,
                verdict: "partial",
                sources: vec![source_of(web2)],
                description: "Mostly invented rows with a minority (15 %) of real rows from the website's 2025 delivery".into(),
                out,
            }
            .write()?,
        );
    }

    Ok(scenarios)
}
