//! Terminal conventions shared by the subcommands: colours only on a terminal (or when asked),
//! progress bars only on a terminal and for work that lasts.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::Global;

/// Whether to colour stdout: `--color always|never`, else only when stdout is a terminal and
/// `NO_COLOR` is unset.
pub fn use_color(global: &Global) -> bool {
    match global.color.as_str() {
        "always" => true,
        "never" => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// A progress bar on stderr, drawn only when stderr is a terminal and `--quiet` is off; it shows
/// up after a short delay so that sub-second work draws nothing. `len` 0 makes a spinner.
pub fn progress(global: &Global, len: u64, message: &str) -> ProgressBar {
    if global.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = if len == 0 {
        let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg} {pos} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b
    } else {
        let b = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {percent}% {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b
    };
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Wrap `text` in an ANSI style when colours are on.
pub fn paint(on: bool, style: Style, text: &str) -> String {
    if !on {
        return text.to_string();
    }
    let code = match style {
        Style::Bold => "1",
        Style::Red => "1;31",
        Style::Green => "1;32",
        Style::Yellow => "1;33",
        Style::Dim => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Text styles for [`paint`].
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)]
pub enum Style {
    Bold,
    Red,
    Green,
    Yellow,
    Dim,
}

/// A name from a file (file name, zip member, JSON key, header) as it may be printed:
/// control characters and bidirectional overrides shown as visible escapes
/// ([`leaktrace_pii::display::escape`]).
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    leaktrace_pii::display::escape(s)
}

/// Progress over the bytes of one input file, in named phases: while the file is read, a bar
/// with the total, rate and ETA (from the offsets of the descriptors this process holds open
/// on the file, polled from Linux's `/proc/self/fdinfo`: compressed files count their
/// compressed bytes, so the bar is true for gzip, zstd and zip too, and a file read in parallel
/// parts counts every part); then a spinner naming the phase (`linking, model, summaries`,
/// `report`, …) with the elapsed time. Drawn only on a terminal without `--quiet`, and only
/// for work that lasts more than a moment. Cleared when dropped.
pub struct FileProgress {
    bar: ProgressBar,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    poller: Option<std::thread::JoinHandle<()>>,
}

impl FileProgress {
    /// Start with the reading phase of `path`, called `phase` (e.g. `reading and linking`);
    /// `after` names what follows once every byte is read.
    pub fn start(
        global: &Global,
        path: &std::path::Path,
        phase: &str,
        after: &str,
    ) -> FileProgress {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let target = std::fs::canonicalize(path).ok();
        let drawn = !global.quiet && std::io::stderr().is_terminal();
        let (Some(target), true, true) = (target, drawn, len > 0) else {
            return FileProgress {
                bar: if drawn {
                    progress(global, 0, phase)
                } else {
                    ProgressBar::hidden()
                },
                stop,
                poller: None,
            };
        };
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(phase.to_string());
        let (b, s, after) = (bar.clone(), stop.clone(), after.to_string());
        let poller = std::thread::spawn(move || {
            let mut meter = ReadMeter::default();
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let read = meter.update(&offsets(&target));
                b.set_position(read.min(len));
                if read >= len {
                    spin(&b, &after);
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        FileProgress {
            bar,
            stop,
            poller: Some(poller),
        }
    }

    /// Name the phase now under way (the bar becomes a spinner).
    pub fn phase(&self, name: &str) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        spin(&self.bar, name);
    }

    /// Clear the bar (as dropping it does).
    pub fn finish(self) {}
}

impl Drop for FileProgress {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.poller.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

/// Turn `bar` into a spinner naming `phase`.
fn spin(bar: &ProgressBar, phase: &str) {
    if bar.is_hidden() {
        return;
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(phase.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
}

/// Bytes read through descriptors that come and go: per descriptor, the offset when first
/// seen (0 for a descriptor opened when none was, which starts at the file's beginning; a part
/// read in parallel starts where it was seeked) and the latest; a closed or reopened
/// descriptor adds what it read to the total.
#[derive(Debug, Default)]
pub struct ReadMeter {
    open: std::collections::BTreeMap<String, (u64, u64)>,
    done: u64,
}

impl ReadMeter {
    /// Feed the current `(descriptor, offset)` list; returns the bytes read so far.
    pub fn update(&mut self, now: &[(String, u64)]) -> u64 {
        let done = &mut self.done;
        self.open.retain(|fd, (first, last)| {
            let alive = now.iter().any(|(f, pos)| f == fd && *pos >= *last);
            if !alive {
                *done += *last - *first;
            }
            alive
        });
        // A descriptor first seen while none is open starts at the file's beginning (the
        // lowest such if several appear at once); one seen beside others was seeked there.
        let lowest_new = (self.open.is_empty())
            .then(|| {
                now.iter()
                    .filter(|(fd, _)| !self.open.contains_key(fd))
                    .min_by_key(|(_, pos)| *pos)
                    .map(|(fd, _)| fd.clone())
            })
            .flatten();
        for (fd, pos) in now {
            let first = if lowest_new.as_ref() == Some(fd) {
                0
            } else {
                *pos
            };
            self.open.entry(fd.clone()).or_insert((first, *pos)).1 = *pos;
        }
        self.done + self.open.values().map(|(f, l)| l - f).sum::<u64>()
    }
}

/// The offsets of this process' descriptors open on `path` (Linux `/proc/self/fd` and
/// `fdinfo`), by descriptor; empty elsewhere or when none is open.
pub fn offsets(path: &std::path::Path) -> Vec<(String, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in dir.flatten() {
        if std::fs::read_link(e.path()).ok().as_deref() != Some(path) {
            continue;
        }
        let fd = e.file_name().to_string_lossy().into_owned();
        let pos = std::fs::read_to_string(std::path::Path::new("/proc/self/fdinfo").join(&fd))
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|l| l.strip_prefix("pos:"))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            });
        if let Some(pos) = pos {
            out.push((fd, pos));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::ReadMeter;

    #[cfg(target_os = "linux")]
    #[test]
    fn offsets_follow_the_reads_of_this_process() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, &[7u8; 10_000]).unwrap();
        let path = f.into_temp_path();
        let canonical = std::fs::canonicalize(&path).unwrap();
        assert!(super::offsets(&canonical).is_empty(), "no descriptor open");
        let mut r = std::fs::File::open(&path).unwrap();
        let mut buf = [0u8; 4096];
        r.read_exact(&mut buf).unwrap();
        let now = super::offsets(&canonical);
        assert_eq!(now.iter().map(|x| x.1).collect::<Vec<_>>(), [4096]);
        assert!(super::offsets(std::path::Path::new("/nonexistent/x")).is_empty());
    }

    /// Polls of (descriptor, offset) and the bytes read the meter reports after each.
    const POLLS: &[(&[(&str, u64)], u64)] = &[
        (&[], 0),
        // A sequential reader first seen at 65 536 has read from 0.
        (&[("3", 65_536)], 65_536),
        (&[("3", 100_000)], 100_000),
        // Closed: its bytes stay counted.
        (&[], 100_000),
        // Two parts read in parallel, seeked to 0 and 500 000.
        (&[("4", 1_000), ("5", 500_000)], 101_000),
        (&[("4", 250_000), ("5", 740_000)], 590_000),
        // Descriptor 4 closed and reused beside 5: taken as a part seeked to 10.
        (&[("4", 10), ("5", 1_000_000)], 850_000),
        (&[], 850_000),
        // A new sequential pass (scan's confirmation) counts from 0.
        (&[("6", 70_000)], 920_000),
    ];

    #[test]
    fn read_meter_table() {
        let mut m = ReadMeter::default();
        for (k, (now, want)) in POLLS.iter().enumerate() {
            let now: Vec<(String, u64)> = now.iter().map(|(f, p)| (f.to_string(), *p)).collect();
            assert_eq!(m.update(&now), *want, "poll {k}");
        }
    }
}
