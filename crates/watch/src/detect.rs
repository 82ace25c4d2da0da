//! When a file has landed. With inotify (the default on Linux, through `notify`), a file is a
//! candidate when it is closed after writing (`IN_CLOSE_WRITE`) or renamed into the folder
//! (`IN_MOVED_TO`); with polling (`--poll SECS`, for network shares where inotify sees nothing),
//! when the poll sees it created or changed. A candidate is taken once it had no event for the
//! debounce time and its size and modification time did not change meanwhile.
//!
//! Hidden files and the usual partial-download names ([`is_partial`]) are never taken: a
//! writer that renames its finished file in is seen at the rename.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
use notify::{RecursiveMode, Watcher};

use crate::{Config, WatchError};

/// How landed files are detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// inotify: close after writing, rename in.
    Inotify,
    /// Poll the folder every so often.
    Poll(Duration),
}

/// How often the loop looks at its candidates (and at `stop`).
const TICK: Duration = Duration::from_millis(100);
/// Name endings of files still being written by a download or a copy tool.
const PARTIAL_SUFFIXES: &[&str] = &[".part", ".tmp", ".crdownload", ".partial", ".filepart"];

/// Whether a file name is one never taken (hidden, or a partial download).
pub fn is_partial(name: &str) -> bool {
    name.starts_with('.') || PARTIAL_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// The paths an event makes candidates of, under the detection mode.
pub fn candidates_of(ev: &notify::Event, detection: Detection) -> Vec<PathBuf> {
    let take = match (detection, ev.kind) {
        (_, EventKind::Access(AccessKind::Close(AccessMode::Write))) => true,
        (_, EventKind::Modify(ModifyKind::Name(RenameMode::To))) => true,
        (_, EventKind::Modify(ModifyKind::Name(RenameMode::Both))) => {
            return ev.paths.get(1).cloned().into_iter().collect();
        }
        (Detection::Poll(_), EventKind::Create(_) | EventKind::Modify(_)) => true,
        _ => false,
    };
    if take {
        ev.paths.clone()
    } else {
        Vec::new()
    }
}

/// The error of a watch that could not start, with the sysctl to raise for inotify's limits.
pub fn watch_error(dir: &Path, e: notify::Error) -> WatchError {
    let dir = dir.display().to_string();
    match &e.kind {
        notify::ErrorKind::MaxFilesWatch => WatchError::InotifyWatches { dir },
        notify::ErrorKind::Io(io) if io.raw_os_error() == Some(EMFILE) => {
            WatchError::InotifyInstances { dir }
        }
        _ => WatchError::Notify {
            dir,
            message: e.to_string(),
        },
    }
}

/// `EMFILE`: what `inotify_init` returns past `fs.inotify.max_user_instances`.
const EMFILE: i32 = 24;

/// A file waiting for its debounce.
struct Pending {
    last_event: Instant,
    stamp: Option<(u64, SystemTime)>,
}

fn stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    if !m.is_file() {
        return None;
    }
    Some((m.len(), m.modified().ok()?))
}

type Events = mpsc::Sender<notify::Result<notify::Event>>;

/// The inotify or polling watcher sending its events to `tx`.
fn start(dir: &Path, detection: Detection, tx: Events) -> Result<Box<dyn Watcher>, WatchError> {
    Ok(match detection {
        Detection::Inotify => Box::new(
            notify::RecommendedWatcher::new(tx, notify::Config::default())
                .map_err(|e| watch_error(dir, e))?,
        ),
        Detection::Poll(every) => Box::new(
            notify::PollWatcher::new(tx, notify::Config::default().with_poll_interval(every))
                .map_err(|e| watch_error(dir, e))?,
        ),
    })
}

/// The candidates whose debounce is over, in name order (gone or partial ones dropped).
fn due(pending: &mut HashMap<PathBuf, Pending>, quiet: Duration) -> Vec<PathBuf> {
    let mut due: Vec<PathBuf> = Vec::new();
    pending.retain(|p, w| {
        let name = p.file_name().map(|n| n.to_string_lossy().to_string());
        let Some(now) = name.filter(|n| !is_partial(n)).and_then(|_| stamp(p)) else {
            return false;
        };
        if w.last_event.elapsed() < quiet {
            return true;
        }
        if w.stamp != Some(now) {
            // First look, or changed since: wait one more half quiet time.
            w.stamp = Some(now);
            w.last_event = Instant::now() - quiet / 2;
            return true;
        }
        due.push(p.clone());
        false
    });
    due.sort();
    due
}

/// Watch `cfg.dir` until `stop`, calling `take` for each landed file (the files already there
/// first, in name order).
pub fn watch(
    cfg: &Config,
    stop: &AtomicBool,
    take: &mut dyn FnMut(&Path),
) -> Result<(), WatchError> {
    let dir = &cfg.dir;
    if !dir.is_dir() {
        return Err(WatchError::Notify {
            dir: dir.display().to_string(),
            message: "not a directory".into(),
        });
    }
    let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher = start(dir, cfg.detection, tx)?;
    watcher
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(|e| watch_error(dir, e))?;
    let quiet = match cfg.detection {
        Detection::Inotify => cfg.debounce,
        Detection::Poll(every) => cfg.debounce + every,
    };
    let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
    let mut existing: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| WatchError::io(dir, e))?
        .flatten()
        .map(|e| e.path())
        .collect();
    existing.sort();
    let long_ago = Instant::now() - quiet;
    for p in existing {
        pending.insert(
            p,
            Pending {
                last_event: long_ago,
                stamp: None,
            },
        );
    }
    while !stop.load(Ordering::Relaxed) {
        match rx.recv_timeout(TICK) {
            Ok(Ok(ev)) => {
                for p in candidates_of(&ev, cfg.detection) {
                    let e = pending.entry(p).or_insert(Pending {
                        last_event: Instant::now(),
                        stamp: None,
                    });
                    e.last_event = Instant::now();
                }
                continue;
            }
            Ok(Err(e)) => return Err(watch_error(dir, e)),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(WatchError::Notify {
                    dir: dir.display().to_string(),
                    message: "the watch ended".into(),
                })
            }
        }
        let due = due(&mut pending, quiet);
        for p in due {
            take(&p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind, paths: &[&str]) -> notify::Event {
        let mut e = notify::Event::new(kind);
        for p in paths {
            e = e.add_path(PathBuf::from(p));
        }
        e
    }

    #[test]
    fn only_closes_after_writing_and_renames_in_are_candidates() {
        let ino = Detection::Inotify;
        let close = ev(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            &["/d/a"],
        );
        assert_eq!(candidates_of(&close, ino), vec![PathBuf::from("/d/a")]);
        let both = ev(
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            &["/d/.a.tmp", "/d/a"],
        );
        assert_eq!(candidates_of(&both, ino), vec![PathBuf::from("/d/a")]);
        let create = ev(
            EventKind::Create(notify::event::CreateKind::File),
            &["/d/a"],
        );
        assert!(candidates_of(&create, ino).is_empty());
        assert_eq!(
            candidates_of(&create, Detection::Poll(Duration::from_secs(1))).len(),
            1
        );
        assert!(is_partial(".a.csv") && is_partial("a.csv.part") && !is_partial("a.csv"));
    }

    #[test]
    fn inotify_limits_name_the_sysctl() {
        let e = watch_error(
            Path::new("/d"),
            notify::Error::new(notify::ErrorKind::MaxFilesWatch),
        );
        assert!(
            e.to_string()
                .contains("sysctl fs.inotify.max_user_watches="),
            "{e}"
        );
        let io = std::io::Error::from_raw_os_error(EMFILE);
        let e = watch_error(Path::new("/d"), notify::Error::io(io));
        assert!(e.to_string().contains("max_user_instances"), "{e}");
    }
}
