//! What a workbook may make the reader allocate, checked from the zip before calamine reads it.
//!
//! calamine builds each sheet as one dense range from the smallest to the largest cell
//! reference, reserves the shared-string table at the size the file declares, and expands
//! ODS repeats: one cell at `XFD1048576` (or a `uniqueCount` of four billion, or a row
//! repeated a million times) asks for gigabytes. This pass streams every member through a
//! counting inflater (the whole file's inflated size is capped like an archive's) and reads
//! the sheet XML for its cell references, row and column repeats and shared-string count,
//! so that a hostile workbook is refused with a clear error instead of growing without bound.
//! Memory of this pass: one XML buffer.

use std::io::{BufReader, Read};
use std::path::Path;

use quick_xml::events::{BytesStart, Event};

use crate::ReadError;

/// Most cells one sheet's range may hold (the box from its first to its last cell
/// reference): 16.7 M, e.g. 1 M rows × 16 columns (about 0.5 GB in calamine's range).
pub const MAX_SHEET_CELLS: u64 = 1 << 24;
/// Most cells of all the sheets of a file together.
pub const MAX_FILE_CELLS: u64 = 1 << 25;
/// A sheet's range may exceed the cells it really holds by this factor …
pub const SPARSE_FACTOR: u64 = 4;
/// … plus this many cells (a few far cells in a small sheet are normal).
pub const SPARSE_SLACK: u64 = 1 << 20;
/// Most entries of the shared-string table (declared or present).
pub const MAX_SHARED_STRINGS: u64 = 1 << 23;
/// Most sheets (tables) in a workbook.
pub const MAX_SHEETS: u64 = 1024;
/// Most members in the zip of a workbook.
pub const MAX_MEMBERS: usize = 10_000;
/// The members together may inflate to at most this ratio of the file's size …
pub const MAX_RATIO: u64 = 200;
/// … but never beyond this many bytes, and a small file always to at least `MIN_INFLATED`.
pub const MAX_INFLATED: u64 = 8 << 30;
/// See [`MAX_RATIO`].
pub const MIN_INFLATED: u64 = 64 << 20;

/// One sheet's extent as seen by a pass over its XML.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Extent {
    /// Cells present (XLSX `<c>`; ODS non-empty cells, repeats expanded).
    pub cells: u64,
    /// Rows × columns of the range calamine would allocate.
    pub area: u64,
}

/// The problem found, or an I/O error of the zip.
type Check<T> = Result<T, String>;

/// Check the workbook at `path` against the bounds above.
pub(crate) fn check(path: &Path) -> Result<(), ReadError> {
    let ferr = |problem: String| ReadError::Format {
        path: path.to_path_buf(),
        problem,
    };
    let file = std::fs::File::open(path).map_err(|e| ReadError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| ferr(format!("not a readable spreadsheet ({e})")))?;
    if zip.len() > MAX_MEMBERS {
        return Err(ferr(format!(
            "{} members in the workbook's zip, more than the {MAX_MEMBERS} accepted",
            zip.len()
        )));
    }
    let mut budget = (size.saturating_mul(MAX_RATIO)).clamp(MIN_INFLATED, MAX_INFLATED);
    let (mut sheets, mut cells) = (0u64, 0u64);
    for i in 0..zip.len() {
        let member = zip
            .by_index(i)
            .map_err(|e| ferr(format!("not a readable spreadsheet ({e})")))?;
        let name = member
            .name()
            .map_err(|e| ferr(format!("not a readable spreadsheet ({e})")))?
            .to_string();
        let at = |m: String| ferr(format!("{name}: {m}"));
        let mut input = Counted {
            inner: member,
            left: &mut budget,
        };
        let extents = if name.starts_with("xl/worksheets/") && name.ends_with(".bin") {
            return Err(at(
                "XLSB (binary) sheets are not read; save the workbook as XLSX".into(),
            ));
        } else if name.starts_with("xl/worksheets/") && name.ends_with(".xml") {
            vec![xlsx_sheet(&mut input).map_err(at)?]
        } else if name == "xl/sharedStrings.xml" {
            shared_strings(&mut input).map_err(at)?;
            Vec::new()
        } else if name == "content.xml" {
            ods_content(&mut input).map_err(at)?
        } else {
            std::io::copy(&mut input, &mut std::io::sink()).map_err(|e| at(e.to_string()))?;
            Vec::new()
        };
        for e in extents {
            sheets += 1;
            if sheets > MAX_SHEETS {
                return Err(ferr(format!(
                    "more than {MAX_SHEETS} sheets in the workbook"
                )));
            }
            sheet_fits(e).map_err(at)?;
            cells += e.area;
            if cells > MAX_FILE_CELLS {
                return Err(ferr(format!(
                    "the sheets' ranges hold more than {MAX_FILE_CELLS} cells together"
                )));
            }
        }
    }
    Ok(())
}

/// A sheet's range against the per-sheet bounds.
pub(crate) fn sheet_fits(e: Extent) -> Check<()> {
    if e.area > MAX_SHEET_CELLS {
        return Err(format!(
            "its cell references span a range of {} cells, more than the {MAX_SHEET_CELLS} accepted per sheet",
            e.area
        ));
    }
    if e.area
        > e.cells
            .saturating_mul(SPARSE_FACTOR)
            .saturating_add(SPARSE_SLACK)
    {
        return Err(format!(
            "its cell references span a range of {} cells for {} cells present (a far cell reference)",
            e.area, e.cells
        ));
    }
    Ok(())
}

/// A reader that fails once the file's inflation budget is spent.
struct Counted<'a, R> {
    inner: R,
    left: &'a mut u64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::other(format!(
                "the workbook inflates beyond {MAX_RATIO} times its size (or {} GiB): refused as a zip bomb",
                MAX_INFLATED >> 30
            ))
        })?;
        Ok(n)
    }
}

fn xml<R: Read>(r: R) -> quick_xml::Reader<BufReader<R>> {
    quick_xml::Reader::from_reader(BufReader::with_capacity(64 << 10, r))
}

/// The value of attribute `key` (full name, e.g. `r` or `table:number-rows-repeated`).
fn attr(e: &BytesStart, key: &str) -> Check<Option<String>> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.as_ref() == key {
            return Ok(Some(a.value.to_string()));
        }
    }
    Ok(None)
}

/// Split an A1 reference into a 1-based (row, column); `None` if it is not one.
pub(crate) fn cell_ref(s: &str) -> Option<(u64, u64)> {
    let s = s.trim().trim_start_matches('$');
    let letters = s.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters == 0 || letters > 4 {
        return None;
    }
    let col = s[..letters].bytes().fold(0u64, |c, b| {
        c * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    let row: u64 = s[letters..].trim_start_matches('$').parse().ok()?;
    (row > 0).then_some((row, col))
}

/// Rows × columns of the box `[lo, hi]`.
fn area(lo: (u64, u64), hi: (u64, u64)) -> u64 {
    (hi.0 - lo.0 + 1).saturating_mul(hi.1 - lo.1 + 1)
}

/// One XLSX worksheet: the cell references (`<c r>`, else the next column; `<row r>`, else
/// the next row) give the box calamine allocates.
pub(crate) fn xlsx_sheet<R: Read>(r: R) -> Check<Extent> {
    let mut x = xml(r);
    let mut buf = Vec::with_capacity(4096);
    let (mut row, mut col, mut cells) = (0u64, 0u64, 0u64);
    let (mut lo, mut hi) = ((u64::MAX, u64::MAX), (0u64, 0u64));
    loop {
        match x.read_event_into(&mut buf).map_err(|e| e.to_string())? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "row" => {
                    row = match attr(&e, "r")? {
                        Some(v) => v.trim().parse().map_err(|_| format!("row number {v:?}"))?,
                        None => row + 1,
                    };
                    col = 0;
                }
                "c" => {
                    (row, col) = match attr(&e, "r")? {
                        Some(v) => cell_ref(&v).ok_or_else(|| format!("cell reference {v:?}"))?,
                        None => (row.max(1), col + 1),
                    };
                    cells += 1;
                    lo = (lo.0.min(row), lo.1.min(col));
                    hi = (hi.0.max(row), hi.1.max(col));
                    let e = Extent {
                        cells,
                        area: area(lo, hi),
                    };
                    if e.area > MAX_SHEET_CELLS {
                        sheet_fits(e)?;
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(Extent {
        cells,
        area: if cells == 0 { 0 } else { area(lo, hi) },
    })
}

/// The shared-string table: its declared size (which calamine reserves) and its entries,
/// counted by a byte search for the `<si` tags (the table is the largest part of many
/// workbooks: this runs at memory speed).
pub(crate) fn shared_strings<R: Read>(mut r: R) -> Check<u64> {
    let too_many = |what: &str, v: u64| {
        format!("{what} {v} shared strings, more than the {MAX_SHARED_STRINGS} accepted")
    };
    const CHUNK: usize = 1 << 20;
    let mut buf = vec![0u8; CHUNK];
    let (mut len, mut n, mut tag): (usize, u64, Option<Vec<u8>>) = (0, 0, None);
    loop {
        let got = r.read(&mut buf[len..]).map_err(|e| e.to_string())?;
        len += got;
        let data = &buf[..len];
        if tag.is_none() {
            // The `<sst …>` start tag: its prefix names the `si` tags, its uniqueCount is
            // what calamine reserves.
            let Some(at) = memchr::memmem::find(data, b"sst") else {
                if got == 0 {
                    return Ok(0);
                }
                if len == CHUNK {
                    return Err("no <sst> element in its first megabyte".into());
                }
                continue;
            };
            let open = data[..at].iter().rposition(|&c| c == b'<').unwrap_or(at);
            let prefix = data[open + 1..at].to_vec();
            let Some(close) = memchr::memchr(b'>', &data[at..]) else {
                if got == 0 || len == CHUNK {
                    return Err("unterminated <sst> element".into());
                }
                continue;
            };
            let head = String::from_utf8_lossy(&data[at..at + close]).to_string();
            if let Some(v) = head.split("uniqueCount=").nth(1) {
                let digits: String = v
                    .trim_start_matches(['"', '\''])
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let v: u64 = digits.parse().unwrap_or(u64::MAX);
                if v > MAX_SHARED_STRINGS {
                    return Err(too_many("declares", v));
                }
            }
            tag = Some([b"<".as_slice(), &prefix, b"si"].concat());
        }
        let t = tag.as_deref().unwrap_or(b"<si");
        // Count whole tags in all but the last few bytes, which may hold a split one.
        let keep = if got == 0 { 0 } else { t.len() };
        let upto = len.saturating_sub(keep);
        for i in memchr::memmem::find_iter(&buf[..upto], t) {
            if matches!(
                buf.get(i + t.len()),
                Some(b'>' | b' ' | b'/' | b'\t' | b'\n' | b'\r')
            ) {
                n += 1;
            }
        }
        if n > MAX_SHARED_STRINGS {
            return Err(format!(
                "holds more than the {MAX_SHARED_STRINGS} shared strings accepted"
            ));
        }
        if got == 0 {
            return Ok(n);
        }
        buf.copy_within(upto..len, 0);
        len -= upto;
    }
}

/// Per ODS table, the range calamine expands: rows (with `number-rows-repeated`) up to the
/// last row holding a value, by columns (with `number-columns-repeated`) up to a row's last
/// cell holding a value.
pub(crate) fn ods_content<R: Read>(r: R) -> Check<Vec<Extent>> {
    let mut x = xml(r);
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::new();
    // Current table: rows so far, rows up to the last non-empty one, widest row, cells.
    let (mut rows, mut used_rows, mut width, mut cells) = (0u64, 0u64, 0u64, 0u64);
    // Current row: repeats, columns so far, columns up to the last non-empty cell.
    let (mut row_rep, mut cols, mut used_cols) = (1u64, 0u64, 0u64);
    let repeat = |e: &BytesStart, key: &str| -> Check<u64> {
        Ok(match attr(e, key)? {
            Some(v) => v.trim().parse().map_err(|_| format!("{key} {v:?}"))?,
            None => 1,
        })
    };
    loop {
        let ev = x.read_event_into(&mut buf).map_err(|e| e.to_string())?;
        let (start, empty_elem) = match &ev {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            match e.name().as_ref() {
                "table:table" => (rows, used_rows, width, cells) = (0, 0, 0, 0),
                "table:table-row" => {
                    row_rep = repeat(&e, "table:number-rows-repeated")?;
                    (cols, used_cols) = (0, 0);
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    let rep = repeat(&e, "table:number-columns-repeated")?;
                    cols = cols.saturating_add(rep);
                    let valued = !empty_elem || attr(&e, "office:value-type")?.is_some();
                    if valued {
                        used_cols = cols;
                        cells = cells.saturating_add(rep.saturating_mul(row_rep));
                    }
                }
                _ => {}
            }
        }
        match &ev {
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                rows = rows.saturating_add(row_rep);
                if used_cols > 0 {
                    used_rows = rows;
                    width = width.max(used_cols);
                }
                let e = Extent {
                    cells,
                    area: used_rows.saturating_mul(width),
                };
                if e.area > MAX_SHEET_CELLS {
                    sheet_fits(e)?;
                }
            }
            Event::End(e) if e.name().as_ref() == "table:table" => out.push(Extent {
                cells,
                area: used_rows.saturating_mul(width),
            }),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A1 references and their (row, column).
    const REFS: &[(&str, Option<(u64, u64)>)] = &[
        ("A1", Some((1, 1))),
        ("Z9", Some((9, 26))),
        ("AA10", Some((10, 27))),
        ("XFD1048576", Some((1_048_576, 16_384))),
        ("$B$3", Some((3, 2))),
        ("A0", None),
        ("1A", None),
        ("ABCDE1", None),
        ("A99999999999999999999999", None),
    ];

    #[test]
    fn cell_refs_table() {
        for (s, want) in REFS {
            assert_eq!(cell_ref(s), *want, "{s}");
        }
    }

    fn sheet(cells: &str) -> String {
        format!("<worksheet><sheetData>{cells}</sheetData></worksheet>")
    }

    #[test]
    fn far_reference_is_refused_dense_sheet_is_not() {
        let far = sheet(
            r#"<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>"#,
        );
        let e = xlsx_sheet(far.as_bytes()).unwrap_err();
        assert!(e.contains("range of") && e.contains("cells"), "{e}");
        let rows: String = (1..=200)
            .map(|r| format!(r#"<row r="{r}"><c r="A{r}"/><c/><c/></row>"#))
            .collect();
        let ok = xlsx_sheet(sheet(&rows).as_bytes()).unwrap();
        assert_eq!(
            ok,
            Extent {
                cells: 600,
                area: 600
            }
        );
    }

    #[test]
    fn declared_shared_strings_are_bounded() {
        let lie = r#"<sst count="1" uniqueCount="4000000000"><si><t>a</t></si></sst>"#;
        assert!(shared_strings(lie.as_bytes())
            .unwrap_err()
            .contains("declares 4000000000"));
        let ok = r#"<?xml version="1.0"?><sst uniqueCount="3"><si><t>a</t></si><si><t>b</t></si><si/><sig/></sst>"#;
        assert_eq!(shared_strings(ok.as_bytes()).unwrap(), 3);
        let prefixed =
            r#"<x:sst xmlns:x="m"><x:si><x:t>a</x:t></x:si><x:si><x:t>b</x:t></x:si></x:sst>"#;
        assert_eq!(shared_strings(prefixed.as_bytes()).unwrap(), 2);
        // Tags split across the reader's chunks are counted once.
        let mut big = b"<sst>".to_vec();
        for _ in 0..200_000 {
            big.extend_from_slice(b"<si><t>ab</t></si>");
        }
        assert_eq!(shared_strings(std::io::Cursor::new(big)).unwrap(), 200_000);
    }

    #[test]
    fn ods_repeats_are_expanded_in_the_estimate() {
        let t = |body: &str| {
            format!(
                r#"<office:document-content><table:table table:name="t">{body}</table:table></office:document-content>"#
            )
        };
        // A trailing empty row repeated a million times (what LibreOffice writes) is fine.
        let ok = t(
            r#"<table:table-row><table:table-cell office:value-type="string"><text:p>a</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1000"/></table:table-row><table:table-row table:number-rows-repeated="1048575"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#,
        );
        assert_eq!(
            ods_content(ok.as_bytes()).unwrap(),
            vec![Extent { cells: 1, area: 1 }]
        );
        // A value repeated over every column of a million rows is not.
        let bomb = t(
            r#"<table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="float"><text:p>1</text:p></table:table-cell></table:table-row>"#,
        );
        assert!(ods_content(bomb.as_bytes())
            .unwrap_err()
            .contains("range of"));
    }
}
