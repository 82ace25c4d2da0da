//! The cost of the integrity checks analysis makes (bench/verify.sh, figures in
//! bench/README.md): BLAKE3 checksum throughput over a memory-mapped file in the page cache,
//! the decryption of a segment's ids, and the keyed id hash of the id table.
//!
//! Usage: `verify_cost [HOME]` — with a workspace, opens every segment with and without
//! verification (warm page cache: run twice); without, measures on 1 GiB of synthetic data.

use std::time::Instant;

use leaktrace_index::{ContextKey, Key, Segment};

fn main() {
    let key = ContextKey::new(&Key::from_bytes([7; 32]));
    let args: Vec<String> = std::env::args().collect();
    if let Some(home) = args.get(1) {
        let real = ContextKey::new(
            &Key::load(std::path::Path::new(&args[2])).expect("key file as second argument"),
        );
        for verify in [false, true, false, true] {
            let t = Instant::now();
            let mut bytes = 0;
            for e in std::fs::read_dir(std::path::Path::new(home).join("index"))
                .unwrap()
                .flatten()
            {
                if e.file_name().to_string_lossy().starts_with("seg-") {
                    bytes += Segment::open(&e.path(), &real, verify).unwrap().bytes();
                }
            }
            println!(
                "open every segment, verify={verify}: {:.3} s for {:.2} GB",
                t.elapsed().as_secs_f64(),
                bytes as f64 / 1e9
            );
        }
        return;
    }
    let n = 1usize << 30;
    let mut data = vec![0u8; n];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for c in data.chunks_exact_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.copy_from_slice(&x.to_le_bytes());
    }
    let path = std::env::temp_dir().join("leaktrace-verify-cost.bin");
    std::fs::write(&path, &data).unwrap();
    drop(data);
    let f = std::fs::File::open(&path).unwrap();
    // SAFETY: the file is private to this run and not modified while mapped.
    let m = unsafe { memmap2::Mmap::map(&f) }.unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let h = blake3::Hasher::new().update_rayon(&m).finalize();
        let s = t.elapsed().as_secs_f64();
        println!(
            "checksum (BLAKE3, rayon, {} threads): {:.2} GB/s ({})",
            rayon::current_num_threads(),
            n as f64 / s / 1e9,
            &h.to_hex()[..8]
        );
    }
    drop(m);
    let _ = std::fs::remove_file(&path);
    // ids: 10 M ids of 8 to 12 bytes.
    let ids: Vec<u8> = (0..10_000_000u64)
        .flat_map(|i| format!("P{:09}", i * 7).into_bytes())
        .collect();
    let t = Instant::now();
    let sealed = key.seal_ids(&ids).unwrap();
    let seal = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let opened = key.open_ids("ids.bin", &sealed).unwrap();
    println!(
        "ids.bin of 10 M ids ({} MB): seal {seal:.3} s, open (check tag + decrypt) {:.3} s",
        ids.len() / 1_000_000,
        t.elapsed().as_secs_f64()
    );
    assert_eq!(opened, ids);
    let t = Instant::now();
    let mut acc = 0u64;
    for c in ids.chunks_exact(10) {
        acc ^= key.id_hash(c);
    }
    println!(
        "keyed id hash (SipHash-2-4): {:.1} ns per 10-byte id ({acc:x})",
        t.elapsed().as_secs_f64() * 1e9 / 1e7
    );
}
