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
