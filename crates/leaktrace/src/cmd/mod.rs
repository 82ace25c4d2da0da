//! One module per subcommand: `Args` (clap) and `run`.

pub mod analyze;
pub mod audit;
pub mod canary;
pub mod check;
pub mod config;
pub mod demo;
pub mod enroll;
pub mod incident;
pub mod init;
pub mod notify;
pub mod scan;
pub mod selfcheck;
pub mod serve;
pub mod shell;
pub mod smtp;
pub mod sources;
pub mod synth;
pub mod user;
pub mod watch;

/// Warn (on stderr, whatever `--quiet` says) about a type forced by `--column` on a column
/// whose sampled values mostly fail that type's validator.
pub fn warn_override(
    column: &str,
    ty: leaktrace_pii::ColumnType,
    valid_share: f64,
    filled: Option<u64>,
) {
    if valid_share >= leaktrace_scan::OVERRIDE_MIN_VALID {
        return;
    }
    let of = filled.map_or_else(String::new, |n| format!(" of the {n}"));
    eprintln!(
        "leaktrace: warning: --column {col}={t}: only {:.1}%{of} sampled values of {col} pass the {t} check; the type is used as asked, but the column probably holds something else",
        valid_share * 100.0,
        col = crate::ui::escape(column),
        t = ty.as_str(),
    );
}

/// Open the workspace of `--home` with the key of `--key-file`, under the key file policy of
/// `--allow-insecure-key`; a warning about the key file is printed on stderr whatever
/// `--quiet` says.
pub fn open_workspace(global: &crate::Global) -> anyhow::Result<leaktrace_index::Workspace> {
    let ws = leaktrace_index::Workspace::open_with(
        &global.home,
        global.key_file.as_deref(),
        global.key_access(),
    )?;
    warn_key(&ws);
    Ok(ws)
}

/// Print the workspace's key file warning, if any, on stderr.
pub fn warn_key(ws: &leaktrace_index::Workspace) {
    if let Some(w) = ws.key_warning() {
        eprintln!("leaktrace: WARNING: {}", crate::ui::escape(w));
    }
}
