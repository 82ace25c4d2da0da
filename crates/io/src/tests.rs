use std::io::Write;

use super::*;

fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

fn all(path: &Path) -> (FileInfo, Vec<String>, Vec<Vec<String>>) {
    let mut r = open(path, &ReadOptions::default()).unwrap();
    let mut rows = Vec::new();
    while let Some(x) = r.next_record() {
        let rec = x.unwrap();
        assert_eq!(rec.index as usize, rows.len());
        rows.push(rec.fields);
    }
    (r.info().clone(), r.tables()[0].columns.clone(), rows)
}

const SAMPLE: &str = "nom;prenom;email;telephone\nDUPONT;Hélène;helene.dupont@orange.fr;06 12 34 56 78\nMARTIN;Jean;jean.martin@free.fr;0712345678\n";

#[test]
fn semicolon_utf8_with_header() {
    let f = file(SAMPLE.as_bytes());
    let (info, cols, rows) = all(f.path());
    assert_eq!(info.delimiter, Some(';'));
    assert!(info.has_header);
    assert_eq!(info.encoding, "utf-8");
    assert_eq!(cols, ["nom", "prenom", "email", "telephone"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][1], "Hélène");
}

#[test]
fn latin1_bom_and_utf16_decode_the_same() {
    let latin1 = encoding_rs::WINDOWS_1252.encode(SAMPLE).0.into_owned();
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(SAMPLE.as_bytes());
    let mut u16le = vec![0xFF, 0xFE];
    for u in SAMPLE.encode_utf16() {
        u16le.extend_from_slice(&u.to_le_bytes());
    }
    let mut u16be = vec![0xFE, 0xFF];
    for u in SAMPLE.encode_utf16() {
        u16be.extend_from_slice(&u.to_be_bytes());
    }
    for (bytes, label) in [
        (latin1, "windows-1252"),
        (bom, "utf-8-bom"),
        (u16le, "utf-16le"),
        (u16be, "utf-16be"),
    ] {
        let f = file(&bytes);
        let (info, cols, rows) = all(f.path());
        assert_eq!(info.encoding, label);
        assert_eq!(cols[0], "nom", "{label}");
        assert_eq!(rows[0][1], "Hélène", "{label}");
    }
}

#[test]
fn headerless_pipe_and_tab() {
    let f =
        file(b"FT000000001|DUPONT|JEAN|189057505612345\nFT000000002|MARTIN|ANNE|289057505612345\n");
    let (info, cols, rows) = all(f.path());
    assert_eq!(info.delimiter, Some('|'));
    assert!(!info.has_header);
    assert_eq!(cols, ["col_1", "col_2", "col_3", "col_4"]);
    assert_eq!(rows.len(), 2);
    let f = file(b"a_id\tcity\n1\tLyon\n2\tParis\n");
    let (info, _, rows) = all(f.path());
    assert_eq!(info.delimiter, Some('\t'));
    assert!(info.has_header);
    assert_eq!(rows.len(), 2);
}

#[test]
fn gzip_is_detected_by_magic_bytes() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(SAMPLE.as_bytes()).unwrap();
    let f = file(&enc.finish().unwrap());
    let (info, _, rows) = all(f.path());
    assert_eq!(info.compression, Some(Compression::Gzip));
    assert_eq!(rows.len(), 2);
}

#[test]
fn bad_inputs_give_clear_errors() {
    let f = file(b"");
    let e = open(f.path(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, ReadError::Empty { .. }), "{e}");
    assert!(e.to_string().contains(&f.path().display().to_string()));
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let f = file(&garbage);
    let e = open(f.path(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, ReadError::Binary { .. }), "{e}");
    // Truncated gzip: reading fails with an error naming the file, no panic.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(SAMPLE.repeat(2000).as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let f = file(&gz[..gz.len() / 2]);
    let result = open(f.path(), &ReadOptions::default()).and_then(|mut r| {
        while let Some(x) = r.next_record() {
            x?;
        }
        Ok(())
    });
    let e = result.unwrap_err();
    assert!(
        e.to_string().contains(&f.path().display().to_string()),
        "{e}"
    );
    let e = open(Path::new("/nonexistent/leak.csv"), &ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/leak.csv"));
}

#[test]
fn ragged_rows_are_counted() {
    let f = file(b"nom,prenom,ville\nDUPONT,Jean,Lyon\nMARTIN,Anne\nDURAND,Paul,Paris,extra\n");
    let mut r = open(f.path(), &ReadOptions::default()).unwrap();
    let mut n = 0;
    while let Some(x) = r.next_record() {
        x.unwrap();
        n += 1;
    }
    assert_eq!(n, 3);
    assert_eq!(r.warnings().ragged_records, 2);
    assert_eq!(r.tables()[0].columns.len(), 4);
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
        let f = file(&bytes);
        if let Ok(mut r) = open(f.path(), &ReadOptions::default()) {
            let mut n = 0;
            while let Some(x) = r.next_record() {
                if x.is_err() || n > 10_000 { break; }
                n += 1;
            }
        }
    }
}

#[test]
fn json_lines_and_arrays_flatten_nested_objects() {
    let f = file(b"{\"id\":1,\"name\":\"Dupont\",\"loc\":{\"lat\":45.1}}\n\n{\"id\":2,\"email\":\"a@b.fr\",\"name\":null}\n");
    let (info, cols, rows) = all(f.path());
    assert_eq!(info.format, "jsonl");
    assert_eq!(cols, ["id", "name", "loc.lat", "email"]);
    assert_eq!(rows[0], ["1", "Dupont", "45.1"]);
    assert_eq!(rows[1], ["2", "", "", "a@b.fr"]);
    let f = file(b" [ {\"a\": \"x]}\\\"\", \"b\": [1,2]},\n {\"a\": \"y\"} ]");
    let (info, cols, rows) = all(f.path());
    assert_eq!(info.format, "json");
    assert_eq!(cols, ["a", "b"]);
    assert_eq!(rows[0], ["x]}\"", "[1,2]"]);
    assert_eq!(rows[1], ["y", ""]);
    // Truncated array: an error naming the file, not a panic.
    let f = file(b"[{\"a\": 1}, {\"a\": ");
    let mut r = open(f.path(), &ReadOptions::default()).unwrap();
    assert!(r.next_record().unwrap().is_ok());
    let e = r.next_record().unwrap().unwrap_err().to_string();
    assert!(e.contains("truncated"), "{e}");
}

#[test]
fn sql_dumps_insert_create_and_copy() {
    let dump = "-- dump\nCREATE TABLE `users` (\n `id` int NOT NULL,\n `nom` varchar(50),\n PRIMARY KEY (`id`)\n);\nINSERT INTO `users` VALUES (1,'O''Brien'),(2,'L\\'Ami;e');\nINSERT INTO orders (ref, total) VALUES ('A1', 10.5);\nCOPY public.people (nom, prenom) FROM stdin;\nDupont\tJean\n\\N\tAnne\n\\.\n";
    let f = file(dump.as_bytes());
    let mut r = open(f.path(), &ReadOptions::default()).unwrap();
    assert_eq!(r.info().format, "sql");
    let mut recs = Vec::new();
    while let Some(x) = r.next_record() {
        recs.push(x.unwrap());
    }
    let t = r.tables();
    assert_eq!(t.len(), 3);
    assert_eq!(t[0].columns, ["id", "nom"]);
    assert_eq!(t[1].columns, ["ref", "total"]);
    assert_eq!(t[2].name, "people");
    assert_eq!(recs.len(), 5);
    assert_eq!(recs[0].fields, ["1", "O'Brien"]);
    assert_eq!(recs[1].fields, ["2", "L'Ami;e"]);
    assert_eq!((recs[2].table, recs[2].index), (1, 0));
    assert_eq!(recs[4].fields, ["", "Anne"]);
    assert_eq!(recs[4].index, 1);
    let f = file(b"INSERT INTO t VALUES ('never closed");
    let mut r = open(f.path(), &ReadOptions::default()).unwrap();
    assert!(r.next_record().unwrap().is_err());
}

#[test]
fn unterminated_quote_and_huge_line_are_refused_with_the_record_named() {
    let mut text = String::from("nom,prenom\nDUPONT,Jean\n\"MARTIN,Anne\n");
    let filler = "DURAND,Paul\n".repeat(MAX_RECORD_BYTES / 10);
    text.push_str(&filler);
    let f = file(text.as_bytes());
    let opts = ReadOptions {
        has_header: Some(true),
        ..ReadOptions::default()
    };
    let mut r = open(f.path(), &opts).unwrap();
    assert!(r.next_record().unwrap().is_ok());
    let e = r.next_record().unwrap().unwrap_err().to_string();
    assert!(
        e.contains("record 1") && e.contains("unterminated quote"),
        "{e}"
    );
    // A 100 MB single line.
    let mut big = b"a,b\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 100 << 20));
    big.push(b'\n');
    let f = file(&big);
    let mut r = open(f.path(), &ReadOptions::default()).unwrap();
    let e = r.next_record().unwrap().unwrap_err().to_string();
    assert!(e.contains("exceeds"), "{e}");
}

#[test]
fn mixed_encodings_are_decoded_and_counted() {
    // UTF-8 sample, then a Latin-1 line past the sniffing window.
    let mut bytes = b"nom,ville\n".to_vec();
    while bytes.len() < SNIFF_BYTES + 100 {
        bytes.extend_from_slice("DUPONT,Orléans\n".as_bytes());
    }
    bytes.extend_from_slice(b"MARTIN,B\xe9ziers\n");
    let f = file(&bytes);
    let mut r = open(f.path(), &ReadOptions::default()).unwrap();
    assert_eq!(r.info().encoding, "utf-8");
    let mut last = None;
    while let Some(x) = r.next_record() {
        last = Some(x.unwrap());
    }
    assert_eq!(last.unwrap().fields[1], "B\u{fffd}ziers");
    assert_eq!(r.warnings().undecodable_records, 1);
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in members {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_members_are_tables_and_zstd_is_read() {
    let z = zip_of(&[
        ("extract/users.csv", SAMPLE.as_bytes()),
        (
            "app.jsonl",
            b"{\"email\":\"a@b.fr\"}\n{\"email\":\"c@d.fr\"}\n",
        ),
    ]);
    let f = file(&z);
    let mut r = open(f.path(), &ReadOptions::default()).unwrap();
    assert_eq!(r.info().compression, Some(Compression::Zip));
    let mut recs = Vec::new();
    while let Some(x) = r.next_record() {
        recs.push(x.unwrap());
    }
    let t = r.tables();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].name, "extract/users.csv");
    assert_eq!(t[1].name, "app.jsonl");
    assert_eq!(t[1].columns, ["email"]);
    assert_eq!(recs.len(), 4);
    assert_eq!((recs[2].table, recs[2].index), (1, 0));
    let zst = zstd::encode_all(SAMPLE.as_bytes(), 3).unwrap();
    let f = file(&zst);
    let (info, cols, rows) = all(f.path());
    assert_eq!(info.compression, Some(Compression::Zstd));
    assert_eq!(cols[0], "nom");
    assert_eq!(rows.len(), 2);
}

#[test]
fn zip_and_gzip_bombs_are_refused() {
    let zeros = vec![b'0'; 100 << 20];
    let z = zip_of(&[("bomb.csv", &zeros)]);
    let f = file(&z);
    let e = open(f.path(), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("zip bomb") && e.contains("bomb.csv"), "{e}");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(b"a,b\n").unwrap();
    enc.write_all(&zeros).unwrap();
    let f = file(&enc.finish().unwrap());
    let result = open(f.path(), &ReadOptions::default()).and_then(|mut r| {
        while let Some(x) = r.next_record() {
            x?;
        }
        Ok(())
    });
    let e = result.unwrap_err().to_string();
    assert!(e.contains(&f.path().display().to_string()), "{e}");
}

#[test]
fn parallel_count_matches_the_streaming_reader() {
    let mut text = String::from("nom,prenom,ville\n");
    let mut i = 0u64;
    while text.len() < (66 << 20) {
        if i % 1000 == 7 {
            text.push_str("\"DUPONT, Jr\",Jean\n"); // ragged, quoted delimiter
        } else {
            text.push_str(&format!("NOM{i},Prenom{i},Ville{}\n", i % 97));
        }
        i += 1;
    }
    let f = file(text.as_bytes());
    let mut r = open(f.path(), &ReadOptions::default()).unwrap();
    let mut n = 0;
    while let Some(x) = r.next_record() {
        x.unwrap();
        n += 1;
    }
    let c = count_records_parallel(f.path(), r.info(), 3)
        .unwrap()
        .unwrap();
    assert_eq!(c.records, n);
    assert_eq!(c.ragged, r.warnings().ragged_records);
    assert!(c.ragged > 0);
    // Quoted newlines in the sample: no parallel count (it would not be exact).
    let mut q = String::from("nom,adresse\n\"A\",\"1 rue\nBis\"\n");
    q.push_str(&"B,C\n".repeat(17 << 20));
    let f = file(q.as_bytes());
    let r = open(f.path(), &ReadOptions::default()).unwrap();
    assert_eq!(count_records_parallel(f.path(), r.info(), 2).unwrap(), None);
}

#[test]
fn archive_limits_hold_for_the_whole_archive() {
    // Ten members of 8 MiB each: every one is under the 64 MiB floor of the ratio limit, as the
    // per-member check allowed; together they inflate ~1000× the archive.
    let mut member = b"a,b\n".to_vec();
    member.extend(std::iter::repeat_n(b'0', 8 << 20));
    let names: Vec<String> = (1..=10).map(|i| format!("m{i:02}.csv")).collect();
    let members: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), member.as_slice()))
        .collect();
    let z = zip_of(&members);
    assert!(z.len() < 1 << 20, "{} bytes", z.len());
    let f = file(&z);
    let e = open(f.path(), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("zip bomb") && e.contains("whole archive"), "{e}");
    // Refused once the archive's total passes 64 MiB: within the eighth member (8 × (8 MiB +
    // 4 bytes)), not the last.
    assert!(e.contains("member m08.csv"), "{e}");

    // Nesting: a zip in a zip is read; one level more is refused.
    let inner = zip_of(&[("users.csv", SAMPLE.as_bytes())]);
    let middle = zip_of(&[("inner.zip", &inner)]);
    let f = file(&middle);
    let (_, cols, rows) = all(f.path());
    assert_eq!((cols[0].as_str(), rows.len()), ("nom", 2));
    let outer = zip_of(&[("middle.zip", &middle)]);
    let f = file(&outer);
    let e = open(f.path(), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("nested more than 2 deep"), "{e}");
    // A gzip member counts as a level too, and is read.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(SAMPLE.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let f = file(&zip_of(&[("users.csv.gz", &gz)]));
    assert_eq!(all(f.path()).2.len(), 2);
    let f = file(&zip_of(&[("m.zip", &zip_of(&[("users.csv.gz", &gz)]))]));
    let e = open(f.path(), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("nested more than 2 deep"), "{e}");

    // Member count.
    let many: Vec<String> = (0..1001).map(|i| format!("f{i}.csv")).collect();
    let members: Vec<(&str, &[u8])> = many.iter().map(|n| (n.as_str(), &b"a\n1\n"[..])).collect();
    let f = file(&zip_of(&members));
    let e = open(f.path(), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("1001 members, more than the 1000"), "{e}");
}

#[cfg(target_os = "linux")]
#[test]
fn extracted_members_leave_no_file_behind() {
    // Members are unlinked as soon as they are written: nothing in the temporary directory
    // carries a member's content, whether reading succeeds or not.
    let marker = "ZZMARKERZZ";
    let text = format!("nom,prenom\n{marker},Jean\n");
    let f = file(&zip_of(&[("users.csv", text.as_bytes())]));
    let mut r = open(f.path(), &ReadOptions::default()).unwrap();
    let first = r.next_record().unwrap().unwrap();
    assert_eq!(first.fields[0], marker);
    for e in std::fs::read_dir(std::env::temp_dir()).unwrap().flatten() {
        if e.file_type().is_ok_and(|t| t.is_file())
            && e.path().extension().is_some_and(|x| x == "csv")
        {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(marker),
                "{} holds a member while it is read",
                e.path().display()
            );
        }
    }
}

#[test]
fn broken_compressed_streams_are_bad_input_at_a_record_never_line_0() {
    // Only the zstd magic bytes; a gzip cut in its header; a gzip cut after many records.
    let f = file(&[0x28, 0xB5, 0x2F, 0xFD]);
    let e = open(f.path(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, ReadError::Format { .. }), "{e:?}");
    assert!(e.to_string().contains("not a valid zstd stream"), "{e}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"nom,prenom\n").unwrap();
    for _ in 0..200_000 {
        gz.write_all(b"DUPONT,Jean\n").unwrap();
    }
    let gz = gz.finish().unwrap();
    let f = file(&gz[..10]);
    let e = open(f.path(), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, ReadError::Format { .. }), "{e:?}");
    let f = file(&gz[..gz.len() / 2]);
    let mut r = open(f.path(), &ReadOptions::default()).unwrap();
    let e = loop {
        match r.next_record() {
            Some(Ok(_)) => continue,
            Some(Err(e)) => break e,
            None => panic!("a truncated stream read to the end"),
        }
    };
    let msg = e.to_string();
    assert!(matches!(e, ReadError::Record { .. }), "{e:?}");
    assert!(
        msg.contains(": record ") && !msg.contains("line 0"),
        "{msg}"
    );
}
