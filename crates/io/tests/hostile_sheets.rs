//! Hostile workbooks are refused with a clear error and bounded memory: each case is read in a
//! child process under an address-space cap (`RLIMIT_AS`, 500 MB), so a reader that tried to
//! allocate a far cell range, a declared shared-string table or an ODS repeat would be killed
//! and fail the test. A small valid workbook still reads under the same cap. Wall times are
//! printed (`--nocapture`) for `bench/hostile-sheets.sh`.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The address-space cap of the child, in bytes.
const CAP: u64 = 500 << 20;
/// A child still running after this long is killed (a hang guard, not a speed target).
const HANG: Duration = Duration::from_secs(120);

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#;

/// An XLSX of `sheets` worksheets with the given sheet XML, and shared strings if any.
fn xlsx(path: &Path, sheet: &[u8], sheets: usize, sst: Option<&[u8]>) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().large_file(true);
    let mut put = |name: &str, bytes: &[u8]| {
        z.start_file(name, opts).unwrap();
        z.write_all(bytes).unwrap();
    };
    put("_rels/.rels", RELS.as_bytes());
    put("[Content_Types].xml", TYPES.as_bytes());
    let list: String = (1..=sheets)
        .map(|i| format!(r#"<sheet name="s{i}" sheetId="{i}" r:id="rId{i}"/>"#))
        .collect();
    put("xl/workbook.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{list}</sheets></workbook>"#).as_bytes());
    let rels: String = (1..=sheets)
        .map(|i| format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>"#))
        .collect();
    put("xl/_rels/workbook.xml.rels", format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>"#).as_bytes());
    if let Some(s) = sst {
        put("xl/sharedStrings.xml", s);
    }
    for i in 1..=sheets {
        put(&format!("xl/worksheets/sheet{i}.xml"), sheet);
    }
    z.finish().unwrap();
}

fn sheet_xml(cells: &str) -> Vec<u8> {
    format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{cells}</sheetData></worksheet>"#).into_bytes()
}

const SMALL: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>nom</t></is></c><c r="B1" t="inlineStr"><is><t>age</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>DUPONT</t></is></c><c r="B2"><v>42</v></c></row>"#;

/// Writes a case's file.
type Writer = Box<dyn Fn(&Path)>;

/// The hostile cases: name, how to write the file, the phrase the refusal must contain.
fn cases() -> Vec<(&'static str, Writer, &'static str)> {
    vec![
        (
            "far_reference",
            Box::new(|p| {
                let far =
                    format!(r#"{SMALL}<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#);
                xlsx(p, &sheet_xml(&far), 1, None)
            }),
            "accepted per sheet",
        ),
        (
            "every_column_of_300k_rows",
            Box::new(|p| {
                let rows: String = (1..=4)
                    .map(|r| format!(r#"<row r="{r}"><c r="A{r}"><v>1</v></c><c r="XFD{r}"><v>2</v></c></row>"#))
                    .collect();
                let xml = sheet_xml(&format!(
                    r#"{rows}<row r="300000"><c r="A300000"><v>3</v></c></row>"#
                ));
                xlsx(p, &xml, 1, None)
            }),
            "cells",
        ),
        (
            "declared_shared_strings",
            Box::new(|p| {
                let sst = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>a</t></si></sst>"#;
                let cells = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
                xlsx(p, &sheet_xml(cells), 1, Some(sst))
            }),
            "shared strings",
        ),
        (
            "huge_shared_string_table",
            Box::new(|p| {
                let mut sst = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#.to_vec();
                for _ in 0..9_000_000 {
                    sst.extend_from_slice(b"<si><t>a</t></si>");
                }
                sst.extend_from_slice(b"</sst>");
                let cells = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
                xlsx(p, &sheet_xml(cells), 1, Some(&sst))
            }),
            "",
        ),
        (
            "many_sheets",
            Box::new(|p| xlsx(p, &sheet_xml(SMALL), 2000, None)),
            "sheets",
        ),
        (
            "ods_repeats",
            Box::new(|p| {
                let mut z = zip::ZipWriter::new(std::fs::File::create(p).unwrap());
                let opts = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored);
                z.start_file("mimetype", opts).unwrap();
                z.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
                    .unwrap();
                z.start_file("content.xml", opts).unwrap();
                z.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="t"><table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#).unwrap();
                z.finish().unwrap();
            }),
            "range of",
        ),
    ]
}

/// Child mode: read the file named by `LEAKTRACE_HOSTILE` under the cap and say what happened.
#[test]
fn hostile_child() {
    let Some(path) = std::env::var_os("LEAKTRACE_HOSTILE") else {
        return;
    };
    #[cfg(unix)]
    // SAFETY: setrlimit with a valid struct; this process only reads one file afterwards.
    unsafe {
        let lim = libc::rlimit {
            rlim_cur: CAP as libc::rlim_t,
            rlim_max: CAP as libc::rlim_t,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_AS, &lim), 0);
    }
    let path = std::path::PathBuf::from(path);
    match leaktrace_io::open(&path, &leaktrace_io::ReadOptions::default()) {
        Err(e) => println!("RESULT refused: {e}"),
        Ok(mut r) => {
            let mut n = 0u64;
            while let Some(rec) = r.next_record() {
                if let Err(e) = rec {
                    println!("RESULT refused: {e}");
                    return;
                }
                n += 1;
            }
            println!("RESULT read {n} records");
        }
    }
}

/// Run the child on `path`; returns its RESULT line and wall time.
fn run_child(path: &Path) -> (String, Duration) {
    let start = Instant::now();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "hostile_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LEAKTRACE_HOSTILE", path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > HANG {
            let _ = child.kill();
            panic!("{}: still running after {HANG:?}", path.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let elapsed = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: the child failed under a {} MB address-space cap ({:?}):\n{stdout}\n{}",
        path.display(),
        CAP >> 20,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("RESULT ").map(|x| x.1))
        .unwrap_or_default()
        .to_string();
    (line, elapsed)
}

#[cfg(unix)]
#[test]
fn hostile_workbooks_are_refused_within_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let ok = dir.path().join("small.xlsx");
    xlsx(&ok, &sheet_xml(SMALL), 1, None);
    let (line, t) = run_child(&ok);
    assert_eq!(
        line, "read 1 records",
        "a valid workbook reads under the cap"
    );
    println!(
        "hostile-sheets: small_valid {:.2} s: {line}",
        t.as_secs_f64()
    );
    for (name, write, phrase) in cases() {
        let path = dir.path().join(format!("{name}.xlsx"));
        write(&path);
        let (line, t) = run_child(&path);
        println!(
            "hostile-sheets: {name} ({} bytes) {:.2} s: {line}",
            std::fs::metadata(&path).unwrap().len(),
            t.as_secs_f64()
        );
        assert!(line.starts_with("refused: "), "{name}: {line}");
        assert!(
            line.contains(&path.display().to_string()),
            "{name}: names the file: {line}"
        );
        assert!(line.contains(phrase), "{name}: {line}");
    }
}
