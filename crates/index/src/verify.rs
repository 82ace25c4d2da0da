//! Integrity checks of a published segment before its data is used: `meta.json` parsed and
//! its version checked, every file mapped, its size compared with `meta.json` and, when
//! verifying (every analysis), its checksum computed over a mapping of the file.

use std::fs::{self, File};
use std::path::Path;

use memmap2::Mmap;

use crate::segment::{FileSum, SegmentMeta, SEGMENT_VERSION};
use crate::IndexError;

fn map(path: &Path) -> Result<Mmap, IndexError> {
    let f = File::open(path).map_err(|e| IndexError::io(path, e))?;
    // SAFETY: segment files are immutable once published (never rewritten in place; a new
    // snapshot is a new directory), so the mapping cannot change under us.
    unsafe { Mmap::map(&f) }.map_err(|e| IndexError::io(path, e))
}

/// Read and parse a segment's `meta.json`, refusing another layout version.
pub(crate) fn read_meta(dir: &Path) -> Result<SegmentMeta, IndexError> {
    let mp = dir.join("meta.json");
    let meta: SegmentMeta =
        serde_json::from_slice(&fs::read(&mp).map_err(|e| IndexError::io(&mp, e))?)
            .map_err(|e| IndexError::Corrupt(format!("{}: {e}", mp.display())))?;
    if meta.version != SEGMENT_VERSION {
        return Err(IndexError::Corrupt(format!(
            "{}: segment version {} (this leaktrace reads {SEGMENT_VERSION}; enrol the \
             source again into a new workspace)",
            dir.display(),
            meta.version
        )));
    }
    Ok(meta)
}

/// Map one segment file, check its size against `meta.json` and, with `verify`, its
/// checksum (see [`checksum`]) before the mapping is returned, so that no byte is used
/// unchecked.
pub(crate) fn map_checked(
    dir: &Path,
    meta: &SegmentMeta,
    name: &str,
    verify: bool,
) -> Result<Mmap, IndexError> {
    let p = dir.join(name);
    let sum = meta
        .files
        .get(name)
        .ok_or_else(|| IndexError::Corrupt(format!("{}: not in meta.json", p.display())))?;
    let m = map(&p)?;
    if m.len() as u64 != sum.bytes {
        return Err(IndexError::Corrupt(format!(
            "{}: {} bytes where meta.json records {} (the segment was truncated or altered)",
            p.display(),
            m.len(),
            sum.bytes
        )));
    }
    if verify {
        checksum(&p, sum)?;
    }
    // Until told the index may stay resident (`Segment::keep_resident`), assume it may not fit
    // in memory: lookups jump around, so read-ahead would only fill memory with pages never
    // used.
    #[cfg(unix)]
    let _ = m.advise(memmap2::Advice::Random);
    #[cfg(target_os = "linux")]
    let _ = m.advise(memmap2::Advice::NoHugePage);
    Ok(m)
}

/// Check a segment file's checksum against `want` — XXH3-128 where the segment records it,
/// else BLAKE3 (older segments) — through a mapping of its own that is gone when this returns.
/// The file is immutable once published, so the mapping that lookups then read shows the very
/// bytes checked here; being fresh, that mapping faults its pages in under its own advice —
/// with huge pages once the index may stay resident (`Segment::keep_resident`) — instead of
/// inheriting the small pages this sequential pass would have left in its page tables (half
/// the index mapped with 4 KiB pages made linking on a 10 M-person index about a quarter
/// slower: bench/README.md).
fn checksum(path: &Path, want: &FileSum) -> Result<(), IndexError> {
    let m = map(path)?;
    #[cfg(unix)]
    let _ = m.advise(memmap2::Advice::Sequential);
    // Large page-cache folios mapped whole: far fewer faults for the pass.
    #[cfg(target_os = "linux")]
    let _ = m.advise(memmap2::Advice::HugePage);
    let agrees = match &want.xxh3 {
        Some(x) => crate::segment::xxh3_hex(twox_hash::XxHash3_128::oneshot(&m)) == *x,
        None => {
            blake3::Hasher::new()
                .update_rayon(&m)
                .finalize()
                .to_hex()
                .as_str()
                == want.blake3
        }
    };
    if !agrees {
        return Err(IndexError::Corrupt(format!(
            "{}: checksum mismatch (the segment was altered or damaged)",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::checksum;
    use crate::segment::FileSum;
    use crate::IndexError;

    #[test]
    fn either_checksum_finds_a_flipped_byte() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fps.bin");
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        let both = FileSum::of(&bytes);
        let blake3_only = FileSum {
            xxh3: None,
            ..both.clone()
        };
        // The XXH3 sum is the one checked when present: a wrong BLAKE3 beside it goes unread.
        let xxh3_only = FileSum {
            blake3: "0".repeat(64),
            ..both.clone()
        };
        for sum in [&both, &blake3_only, &xxh3_only] {
            assert!(checksum(&p, sum).is_ok(), "{sum:?}");
        }
        let mut flipped = bytes.clone();
        flipped[54_321] ^= 0x10;
        std::fs::write(&p, &flipped).unwrap();
        for sum in [&both, &blake3_only, &xxh3_only] {
            match checksum(&p, sum) {
                Err(IndexError::Corrupt(m)) => assert!(m.contains("fps.bin"), "{m}"),
                other => panic!("{sum:?}: {other:?}"),
            }
        }
    }
}
