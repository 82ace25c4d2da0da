//! The harness shared by the `cargo fuzz` targets in `fuzz/` and the stable smoke test
//! `tests/fuzz_smoke.rs`: arbitrary bytes, framed so that they reach one reader, read to the end
//! under tight limits. A panic or a broken invariant is a bug; an error is the right answer.

use std::io::Write;

use crate::{open, Limits, ReadOptions};

/// Which reader the bytes are aimed at (the framing makes the sniffer pick it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Delimited text: the bytes as they are.
    Csv,
    /// A JSON array: `[` then the bytes.
    Json,
    /// JSON Lines: `{` then the bytes.
    Jsonl,
    /// An SQL dump: `INSERT INTO t VALUES ` then the bytes.
    Sql,
    /// UTF-16 LE text: a BOM then the bytes.
    Utf16,
    /// A gzip stream: a gzip header then the bytes.
    Gzip,
    /// A zstd frame: the zstd magic then the bytes.
    Zstd,
    /// A zip archive: a local file header magic then the bytes.
    Zip,
    /// A workbook: a well-formed XLSX whose sheet XML is the bytes.
    Xlsx,
}

/// Every target, for loops.
pub const TARGETS: [Target; 9] = [
    Target::Csv,
    Target::Json,
    Target::Jsonl,
    Target::Sql,
    Target::Utf16,
    Target::Gzip,
    Target::Zstd,
    Target::Zip,
    Target::Xlsx,
];

/// Records read at most per input: enough to cross every buffer boundary of small inputs.
const MAX_RECORDS: u64 = 100_000;

/// The file bytes for `data` aimed at `target`.
pub fn frame(target: Target, data: &[u8]) -> Vec<u8> {
    let prefix: &[u8] = match target {
        Target::Csv | Target::Xlsx => b"",
        Target::Json => b"[",
        Target::Jsonl => b"{",
        Target::Sql => b"INSERT INTO t VALUES ",
        Target::Utf16 => b"\xff\xfe",
        Target::Gzip => b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff",
        Target::Zstd => b"\x28\xb5\x2f\xfd",
        Target::Zip => b"PK\x03\x04",
    };
    if target == Target::Xlsx {
        return xlsx_with_sheet(data);
    }
    let mut v = prefix.to_vec();
    v.extend_from_slice(data);
    v
}

fn xlsx_with_sheet(sheet: &[u8]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let parts: [(&str, &[u8]); 5] = [
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    for (name, bytes) in parts {
        // Writing to memory cannot fail but for a bug in the zip crate: then fuzz a plain file.
        if z.start_file(name, opts).is_err() || z.write_all(bytes).is_err() {
            return sheet.to_vec();
        }
    }
    z.finish()
        .map(std::io::Cursor::into_inner)
        .unwrap_or_else(|_| sheet.to_vec())
}

/// Read `data` framed for `target` to the end (at most 100 000 records), check the reader's
/// invariants and return the records read. Panics only on a bug: a reader that panicked, an
/// error that does not name the file, or records out of order.
pub fn read(target: Target, data: &[u8]) -> u64 {
    let Ok(mut f) = tempfile::NamedTempFile::new() else {
        return 0;
    };
    if f.write_all(&frame(target, data)).is_err() || f.flush().is_err() {
        return 0;
    }
    let opts = ReadOptions {
        limits: Limits {
            max_ratio: 100,
            max_bytes: 64 << 20,
            ..Limits::default()
        },
        ..Default::default()
    };
    let mut reader = match open(f.path(), &opts) {
        Ok(r) => r,
        Err(e) => {
            assert!(
                e.to_string().contains(&f.path().display().to_string()),
                "error without the file name: {e}"
            );
            return 0;
        }
    };
    let mut next_index: Vec<u64> = Vec::new();
    for _ in 0..MAX_RECORDS {
        match reader.next_record() {
            None => break,
            Some(Err(e)) => {
                // Errors name the file.
                assert!(
                    e.to_string().contains(&f.path().display().to_string()),
                    "error without the file name: {e}"
                );
                break;
            }
            Some(Ok(rec)) => {
                assert!(
                    rec.table < reader.tables().len(),
                    "record of an unknown table"
                );
                if next_index.len() <= rec.table {
                    next_index.resize(rec.table + 1, 0);
                }
                assert_eq!(rec.index, next_index[rec.table], "records out of order");
                next_index[rec.table] += 1;
            }
        }
    }
    let _ = reader.warnings();
    next_index.iter().sum()
}
