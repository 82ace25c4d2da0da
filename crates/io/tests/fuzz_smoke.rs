//! A stable, deterministic stand-in for the `cargo fuzz` targets in `fuzz/`: every reader gets
//! mutated seed inputs (bit flips, truncations, splices, random bytes) through the same harness
//! and must answer with records or an error, never a panic. The real fuzzers run longer under
//! nightly (see fuzz/README.md).

use leaktrace_io::fuzzing::{read, Target, TARGETS};
use leaktrace_synth::rng::Rng;

use std::io::Write;

const CSV: &[u8] = b"nom;prenom;tel\nDUPONT;Jean;0612345678\nMARTIN;Ana;0712345678\n";

/// Seeds per target: valid inputs once framed.
fn seeds(t: Target) -> Vec<Vec<u8>> {
    match t {
        // Compressed targets: a real stream of CSV without the magic bytes the frame adds.
        Target::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(CSV).unwrap();
            vec![e.finish().unwrap()[10..].to_vec()]
        }
        // Hostile cases too: only the magic bytes (issue 18).
        Target::Zstd => vec![zstd::encode_all(CSV, 1).unwrap()[4..].to_vec(), Vec::new()],
        Target::Zip => {
            let plain = zip_of(&[("leak.csv", CSV)]);
            // Hostile: archives nested three deep, a gzip member inside a nested archive, a
            // member name with a terminal escape, many members.
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(CSV).unwrap();
            let gz = gz.finish().unwrap();
            let deep = zip_of(&[("a.zip", &zip_of(&[("b.zip", &plain)]))]);
            let nested_gz = zip_of(&[("a.zip", &zip_of(&[("c.csv.gz", &gz)]))]);
            let escape = zip_of(&[("\x1b[2Jleak\r.csv", CSV), ("x.csv", CSV)]);
            let names: Vec<String> = (0..40).map(|i| format!("m{i}.csv")).collect();
            let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), CSV)).collect();
            [plain, deep, nested_gz, escape, zip_of(&many)]
                .into_iter()
                .map(|z| z[4..].to_vec())
                .collect()
        }
        Target::Utf16 => vec![CSV.iter().flat_map(|&b| [b, 0]).collect::<Vec<u8>>()],
        _ => static_seeds(t).into_iter().map(<[u8]>::to_vec).collect(),
    }
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in members {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap().into_inner()
}

fn static_seeds(t: Target) -> Vec<&'static [u8]> {
    match t {
        Target::Csv | Target::Utf16 | Target::Gzip | Target::Zstd | Target::Zip => vec![
            b"nom;prenom;tel\nDUPONT;Jean;0612345678\n\"MARTIN; Jr\";\"Ana\"\"is\";\n",
            b"a,b\n1,2\n3\n\"x\ny\",z\n",
            b"\tx\ty\n",
        ],
        Target::Json => vec![
            br#"{"a":1,"b":{"c":"x"}},{"a":[1,2],"b":null}]"#,
            br#"]"#,
        ],
        Target::Jsonl => vec![
            b"\"a\":1,\"b\":\"\\u00e9\"}\n{\"a\":2}\n",
            b"}\n[1,2]\n",
        ],
        Target::Sql => vec![
            b"(1,'O''Brien','a\\'b'),(2,NULL,'x');\nCREATE TABLE u (id int, nom text);\nINSERT INTO u VALUES (3,'y');\nCOPY u (id, nom) FROM stdin;\n4\tz\n\\.\n",
            b"(1,",
        ],
        Target::Xlsx => vec![
            br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>nom</t></is></c><c r="B1" t="inlineStr"><is><t>age</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>DUPONT</t></is></c><c r="B2"><v>42</v></c></row></sheetData></worksheet>"#,
            // Then hostile extents (refused by the bounds pass, crates/io/src/sheet/bounds.rs): a
            // far cell reference, and a row and a cell far apart without references.
            br#"<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData></worksheet>"#,
            br#"<worksheet><sheetData><row r="999999"><c/><c/></row><row><c r="ZZ1"/></row></sheetData></worksheet>"#,
        ],
    }
}

/// Uniform in [0, n) from the generator's PRNG: a fixed sequence, so failures reproduce.
fn below(rng: &mut Rng, n: usize) -> usize {
    rng.below(n as u64) as usize
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=below(rng, 4) {
        match below(rng, 6) {
            0 if !v.is_empty() => {
                let i = below(rng, v.len());
                v[i] ^= 1 << below(rng, 8);
            }
            1 => v.truncate(below(rng, v.len() + 1)),
            2 => {
                let i = below(rng, v.len() + 1);
                let junk: Vec<u8> = (0..below(rng, 16)).map(|_| rng.next_u64() as u8).collect();
                v.splice(i..i, junk);
            }
            3 if !v.is_empty() => {
                let (a, b) = (below(rng, v.len()), below(rng, v.len()));
                let (a, b) = (a.min(b), a.max(b));
                let piece = v[a..b].to_vec();
                let i = below(rng, v.len() + 1);
                v.splice(i..i, piece);
            }
            4 => {
                let i = below(rng, v.len() + 1);
                let tok: &[u8] = [
                    &b"\""[..],
                    b"\n",
                    b"\r",
                    b";",
                    b"\\",
                    b"'",
                    b"\xc3",
                    b"\x00",
                ][below(rng, 8)];
                v.splice(i..i, tok.iter().copied());
            }
            _ => v = (0..below(rng, 64)).map(|_| rng.next_u64() as u8).collect(),
        }
    }
    v
}

#[test]
fn every_reader_survives_mutated_inputs() {
    let mut rng = Rng::new(42, 0, 0);
    for t in TARGETS {
        let seeds = seeds(t);
        // The framing reaches the reader: the first seed reads.
        assert!(read(t, &seeds[0]) >= 1, "{t:?}: the seed yields no record");
        for _ in 0..1_000 {
            let s = &seeds[below(&mut rng, seeds.len())];
            read(t, &mutate(&mut rng, s));
        }
    }
}
