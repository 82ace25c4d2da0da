//! One module per subcommand: `Args` (clap) and `run`.

pub mod analyze;
pub mod canary;
pub mod demo;
pub mod enroll;
pub mod init;
pub mod scan;
pub mod sources;
pub mod synth;

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
