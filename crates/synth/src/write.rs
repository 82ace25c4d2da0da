//! File writers: delimited text, JSON Lines, JSON arrays, SQL dumps and XLSX.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::SynthError;

/// Text encoding of an output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Windows-1252 (what "Latin-1" exports really are).
    Latin1,
}

impl Encoding {
    /// Name used in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Latin1 => "windows-1252",
        }
    }

    /// Encode text.
    pub fn encode(self, s: &str) -> Vec<u8> {
        match self {
            Encoding::Utf8 => s.as_bytes().to_vec(),
            Encoding::Latin1 => encoding_rs::WINDOWS_1252.encode(s).0.into_owned(),
        }
    }
}

/// Append one delimited record (RFC 4180 quoting when needed) and a newline.
pub fn push_delimited(out: &mut String, cells: &[String], delim: char) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(delim);
        }
        if c.contains(delim) || c.contains('"') || c.contains('\n') || c.contains('\r') {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(c);
        }
    }
    out.push('\n');
}

/// Append one JSON object (headers with a dot become nested objects) and a newline.
/// `typed[j]` writes column `j` as a JSON number or boolean when it parses as one.
pub fn push_json_object(out: &mut String, headers: &[String], cells: &[String], typed: &[bool]) {
    out.push_str(&json_object(headers, cells, typed).to_string());
    out.push('\n');
}

fn json_value(s: &str, typed: bool) -> serde_json::Value {
    if typed {
        if s == "true" || s == "false" {
            return serde_json::Value::Bool(s == "true");
        }
        if let Ok(n) = s.parse::<i64>() {
            return n.into();
        }
        if s.contains('.') {
            if let Ok(f) = s.parse::<f64>() {
                if let Some(n) = serde_json::Number::from_f64(f) {
                    return serde_json::Value::Number(n);
                }
            }
        }
    }
    if s.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::String(s.to_string())
    }
}

/// One record as a JSON object.
pub fn json_object(headers: &[String], cells: &[String], typed: &[bool]) -> serde_json::Value {
    let mut obj = serde_json::Map::new();
    for (j, (h, c)) in headers.iter().zip(cells).enumerate() {
        let v = json_value(c, typed.get(j).copied().unwrap_or(false));
        match h.split_once('.') {
            Some((outer, inner)) => {
                let e = obj
                    .entry(outer.to_string())
                    .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
                if let Some(m) = e.as_object_mut() {
                    m.insert(inner.to_string(), v);
                }
            }
            None => {
                obj.insert(h.clone(), v);
            }
        }
    }
    serde_json::Value::Object(obj)
}

fn sql_literal(s: &str) -> String {
    if s.is_empty() {
        "NULL".to_string()
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    }
}

/// Write a MySQL-style dump: `CREATE TABLE` then multi-row `INSERT … VALUES (…),(…);`.
pub fn write_sql(
    path: &Path,
    table: &str,
    headers: &[String],
    rows: &[Vec<String>],
) -> Result<(), SynthError> {
    let mut out = String::new();
    out.push_str("-- MySQL dump 10.13\n--\n-- Host: localhost    Database: prod\n\n");
    out.push_str(&format!(
        "DROP TABLE IF EXISTS `{table}`;\nCREATE TABLE `{table}` (\n"
    ));
    for (i, h) in headers.iter().enumerate() {
        let comma = if i + 1 < headers.len() { "," } else { "" };
        out.push_str(&format!("  `{h}` varchar(255) DEFAULT NULL{comma}\n"));
    }
    out.push_str(") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n\n");
    out.push_str(&format!("LOCK TABLES `{table}` WRITE;\n"));
    let cols = headers
        .iter()
        .map(|h| format!("`{h}`"))
        .collect::<Vec<_>>()
        .join(",");
    for chunk in rows.chunks(100) {
        out.push_str(&format!("INSERT INTO `{table}` ({cols}) VALUES "));
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('(');
            out.push_str(
                &r.iter()
                    .map(|c| sql_literal(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push(')');
        }
        out.push_str(";\n");
    }
    out.push_str("UNLOCK TABLES;\n");
    write_file(path, out.as_bytes())
}

/// Write an XLSX workbook with one sheet (all cells as text, header in bold).
pub fn write_xlsx(
    path: &Path,
    sheet: &str,
    headers: &[String],
    rows: &[Vec<String>],
) -> Result<(), SynthError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let xerr = |e: rust_xlsxwriter::XlsxError| SynthError::Xlsx {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut wb = Workbook::new();
    // A fixed creation time keeps the file byte-identical from run to run.
    let created = ExcelDateTime::from_ymd(2026, 1, 1).map_err(xerr)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(xerr)?;
    let bold = Format::new().set_bold();
    for (j, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, h, &bold)
            .map_err(xerr)?;
    }
    for (i, r) in rows.iter().enumerate() {
        for (j, c) in r.iter().enumerate() {
            if !c.is_empty() {
                ws.write_string(i as u32 + 1, j as u16, c).map_err(xerr)?;
            }
        }
    }
    wb.save(path).map_err(xerr)
}

/// Write bytes to a new file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SynthError> {
    let io = |e| SynthError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut w = BufWriter::new(File::create(path).map_err(io)?);
    w.write_all(bytes).map_err(io)?;
    w.flush().map_err(io)
}
