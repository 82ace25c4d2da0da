//! `leaktrace canary`: write canary persons like a recipient's delivery and enrol them as that
//! recipient's canaries (fingerprints only), so that a leak holding one is attributed.

use std::path::{Path, PathBuf};

use leaktrace_index::{EnrollOptions, FormatProfile, Workspace};
use leaktrace_io::{open, ReadOptions};
use leaktrace_pii::ColumnType;
use leaktrace_scan::type_rows;
use leaktrace_synth::canary::{canaries, field_like, CanaryOptions};
use leaktrace_synth::date::Date;
use leaktrace_synth::person::Person;
use leaktrace_synth::render::Field;
use serde::Serialize;

use crate::{io_err, AnalyzeError};

/// What [`plant`] did.
#[derive(Debug, Clone, Serialize)]
pub struct CanaryReport {
    pub recipient: String,
    /// Source name the canaries are enrolled under (`canary:<delivery>`).
    pub source: String,
    pub as_of: String,
    pub count: u64,
    /// The file to append to the delivery.
    pub file: PathBuf,
    /// Its columns and how each is written (`empty` when canaries leave it blank).
    pub columns: Vec<(String, String)>,
    pub delimiter: char,
    pub header: bool,
}

/// The delivery's layout: column names, types, styles, dialect and one id.
struct Layout {
    names: Vec<String>,
    fields: Vec<Option<Field>>,
    delimiter: u8,
    header: bool,
    id_like: Option<String>,
}

fn layout_of(like: &Path) -> Result<Layout, AnalyzeError> {
    let mut reader = open(like, &ReadOptions::default())?;
    let mut rows = Vec::new();
    let mut table = None;
    while rows.len() < 5_000 {
        match reader.next_record() {
            None => break,
            Some(r) => {
                let r = r?;
                if *table.get_or_insert(r.table) == r.table {
                    rows.push(r.fields);
                }
            }
        }
    }
    let Some(table) = table else {
        return Err(AnalyzeError::Input(format!(
            "{}: no records to imitate",
            like.display()
        )));
    };
    let info = reader.tables()[table].clone();
    let mut names = info.columns.clone();
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    while names.len() < width {
        names.push(format!("col_{}", names.len() + 1));
    }
    let columns = type_rows(&names, &rows);
    let profile = FormatProfile::build(reader.info(), &info.name, &columns, &[], &rows);
    let id_col = columns.iter().position(|c| c.ty == ColumnType::PersonId);
    let fields = profile
        .columns
        .iter()
        .map(|c| {
            let styles: Vec<(String, f64)> =
                c.styles.iter().map(|(k, v)| (k.clone(), *v)).collect();
            field_like(c.ty, &styles)
        })
        .collect();
    let fi = reader.info();
    Ok(Layout {
        names,
        fields,
        delimiter: fi.delimiter.map_or(b',', |c| c as u8),
        header: fi.has_header,
        id_like: id_col.and_then(|j| rows.first().and_then(|r| r.get(j)).cloned()),
    })
}

fn default_layout() -> Layout {
    let cols = [
        ("person_id", Field::Id),
        ("civilite", Field::Civility),
        ("nom", Field::LastUpper),
        ("prenom", Field::First),
        ("date_naissance", Field::BirthIso),
        ("nir", Field::NirCompact),
        ("email", Field::Email),
        ("mobile", Field::PhoneCompact),
        ("code_postal", Field::PostalCode),
        ("commune", Field::Commune),
    ];
    Layout {
        names: cols.iter().map(|c| c.0.to_string()).collect(),
        fields: cols.iter().map(|c| Some(c.1)).collect(),
        delimiter: b',',
        header: true,
        id_like: None,
    }
}

fn write_csv(
    path: &Path,
    layout: &Layout,
    persons: &[Person],
    at: Date,
) -> Result<(), AnalyzeError> {
    let err = |e: csv::Error| AnalyzeError::Input(format!("{}: {e}", path.display()));
    let mut w = csv::WriterBuilder::new()
        .delimiter(layout.delimiter)
        .from_path(path)
        .map_err(err)?;
    if layout.header {
        w.write_record(&layout.names).map_err(err)?;
    }
    for p in persons {
        w.write_record(
            layout
                .fields
                .iter()
                .map(|f| f.map(|f| f.render(p, at)).unwrap_or_default()),
        )
        .map_err(err)?;
    }
    w.flush().map_err(|e| io_err(path, e))
}

/// Make `opts.count` canaries written like `like` (or a default layout), write them to `out`,
/// and enrol them in `ws` as canaries of `opts.recipient` for delivery `opts.delivery`.
pub fn plant(
    ws: &mut Workspace,
    like: Option<&Path>,
    opts: &CanaryOptions,
    out: &Path,
) -> Result<CanaryReport, AnalyzeError> {
    if opts.count == 0 {
        return Err(AnalyzeError::Input("--count must be at least 1".into()));
    }
    let layout = match like {
        Some(p) => layout_of(p)?,
        None => default_layout(),
    };
    let index = ws.load(true)?;
    let mut o = opts.clone();
    o.id_like = layout.id_like.clone();
    // Twice as many as needed, minus any whose id an enrolled person already has.
    o.count = opts.count * 2;
    let mut persons: Vec<Person> = canaries(&o)
        .into_iter()
        .filter(|p| {
            index
                .snapshots
                .iter()
                .all(|(_, s)| s.ordinal(&p.id).is_none())
        })
        .collect();
    drop(index);
    if (persons.len() as u64) < opts.count {
        return Err(AnalyzeError::Input(format!(
            "could only make {} canaries with unique ids (the delivery's id shape leaves too few free)",
            persons.len()
        )));
    }
    persons.truncate(opts.count as usize);
    write_csv(out, &layout, &persons, opts.as_of)?;
    // Enrol every identifying field (whatever the delivery's layout), from a private file.
    let full = default_layout();
    let tmp = ws
        .home()
        .join(format!(".canary-{}.csv", std::process::id()));
    write_csv(&tmp, &full, &persons, opts.as_of)?;
    let source = format!("canary:{}", opts.delivery);
    let enrolled = ws.enroll(
        &tmp,
        &EnrollOptions {
            source: source.clone(),
            recipient: Some(opts.recipient.clone()),
            as_of: Some(opts.as_of.iso()),
            id_column: Some("person_id".into()),
            canary: true,
            ..EnrollOptions::default()
        },
        &|_| {},
    );
    let _ = std::fs::remove_file(&tmp);
    enrolled?;
    Ok(CanaryReport {
        recipient: opts.recipient.clone(),
        source,
        as_of: opts.as_of.iso(),
        count: opts.count,
        file: out.to_path_buf(),
        columns: layout
            .names
            .iter()
            .zip(&layout.fields)
            .map(|(n, f)| {
                (
                    n.clone(),
                    f.map_or("empty".to_string(), |f| format!("{f:?}")),
                )
            })
            .collect(),
        delimiter: layout.delimiter as char,
        header: layout.header,
    })
}
