//! A stable, deterministic stand-in for the `cargo fuzz` targets in `fuzz/`: every reader gets
//! mutated seed inputs (bit flips, truncations, splices, random bytes) through the same harness
//! and must answer with records or an error, never a panic. The real fuzzers run longer under
//! nightly (see fuzz/README.md).

use leaktrace_io::fuzzing::{read, Target, TARGETS};

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
        Target::Zstd => vec![zstd::encode_all(CSV, 1).unwrap()[4..].to_vec()],
        Target::Zip => {
            let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            z.start_file("leak.csv", zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(CSV).unwrap();
            vec![z.finish().unwrap().into_inner()[4..].to_vec()]
        }
        Target::Utf16 => vec![CSV.iter().flat_map(|&b| [b, 0]).collect::<Vec<u8>>()],
        _ => static_seeds(t).into_iter().map(<[u8]>::to_vec).collect(),
    }
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
        ],
    }
}

/// SplitMix64: a fixed sequence, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 => v.truncate(rng.below(v.len() + 1)),
            2 => {
                let i = rng.below(v.len() + 1);
                let junk: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                v.splice(i..i, junk);
            }
            3 if !v.is_empty() => {
                let (a, b) = (rng.below(v.len()), rng.below(v.len()));
                let (a, b) = (a.min(b), a.max(b));
                let piece = v[a..b].to_vec();
                let i = rng.below(v.len() + 1);
                v.splice(i..i, piece);
            }
            4 => {
                let i = rng.below(v.len() + 1);
                let tok: &[u8] = [
                    &b"\""[..],
                    b"\n",
                    b"\r",
                    b";",
                    b"\\",
                    b"'",
                    b"\xc3",
                    b"\x00",
                ][rng.below(8)];
                v.splice(i..i, tok.iter().copied());
            }
            _ => v = (0..rng.below(64)).map(|_| rng.next() as u8).collect(),
        }
    }
    v
}

#[test]
fn every_reader_survives_mutated_inputs() {
    let mut rng = Rng(42);
    for t in TARGETS {
        let seeds = seeds(t);
        // The framing reaches the reader: the first seed reads.
        assert!(read(t, &seeds[0]) >= 1, "{t:?}: the seed yields no record");
        for _ in 0..1_000 {
            let s = &seeds[rng.below(seeds.len())];
            read(t, &mutate(&mut rng, s));
        }
    }
}
