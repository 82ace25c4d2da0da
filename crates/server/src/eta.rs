//! The time left of an analysis's reading pass: how far this process has read the evidence
//! file (the offset of its descriptors on it, Linux `/proc/self/fdinfo`; compressed files count
//! compressed bytes) against the file's size, extrapolated from the time the pass has taken.
//! Elsewhere, or before enough is read, there is no estimate.

use std::path::Path;
use std::time::Duration;

/// No estimate before this share of the file is read (the first rate is noise)…
pub const ETA_MIN_SHARE: f64 = 0.02;
/// …nor before the pass has run this long.
pub const ETA_MIN_ELAPSED: Duration = Duration::from_secs(1);

/// The furthest offset of this process's descriptors open on `path` (`None` when none is, or
/// off Linux).
pub fn read_offset(path: &Path) -> Option<u64> {
    let target = std::fs::canonicalize(path).ok()?;
    let mut best = None;
    for e in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        if std::fs::read_link(e.path()).ok().as_deref() != Some(target.as_path()) {
            continue;
        }
        let info = Path::new("/proc/self/fdinfo").join(e.file_name());
        let pos = std::fs::read_to_string(info).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("pos:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
        });
        if let Some(p) = pos {
            best = Some(best.map_or(p, |b: u64| b.max(p)));
        }
    }
    best
}

/// Seconds left when `read` of `total` bytes took `elapsed`: at the same rate, rounded up.
pub fn eta_seconds(elapsed: Duration, read: u64, total: u64) -> Option<u64> {
    if total == 0 || read == 0 || elapsed < ETA_MIN_ELAPSED {
        return None;
    }
    let share = read.min(total) as f64 / total as f64;
    if share < ETA_MIN_SHARE {
        return None;
    }
    let left = elapsed.as_secs_f64() * (1.0 - share) / share;
    Some(left.ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn extrapolates_the_rate() {
        let s = Duration::from_secs;
        assert_eq!(eta_seconds(s(10), 250, 1000), Some(30));
        assert_eq!(eta_seconds(s(10), 1000, 1000), Some(0));
        assert_eq!(eta_seconds(s(10), 5, 1000), None, "too little read");
        assert_eq!(eta_seconds(Duration::from_millis(200), 500, 1000), None);
        assert_eq!(eta_seconds(s(10), 0, 1000), None);
        assert_eq!(eta_seconds(s(10), 10, 0), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn follows_the_reads_of_this_process() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, vec![1u8; 10_000]).unwrap();
        assert_eq!(read_offset(&p), None, "not open");
        let mut f = std::fs::File::open(&p).unwrap();
        let mut buf = vec![0u8; 4_000];
        f.read_exact(&mut buf).unwrap();
        assert_eq!(read_offset(&p), Some(4_000));
        drop(f);
        assert_eq!(read_offset(&p), None);
    }
}
