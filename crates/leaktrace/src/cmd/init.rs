//! `leaktrace init`: create a workspace and its secret key.

use std::process::ExitCode;

use leaktrace_index::Workspace;

use crate::Global;

/// Create a workspace: catalog, index directory and a 256-bit secret key (mode 0600, kept
/// outside the workspace by default). Never overwrites a key.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let (ws, key_path) = Workspace::init_with(
        &global.home,
        global.key_file.as_deref(),
        global.key_access(),
    )?;
    super::warn_key(&ws);
    let mode = ws
        .key_mode()
        .map_or_else(String::new, |m| format!(" (mode {m:04o})"));
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "workspace": ws.home().display().to_string(),
                "key_file": key_path.display().to_string(),
                "key_mode": ws.key_mode().map(|m| format!("{m:04o}")),
            })
        );
    } else if !global.quiet {
        println!("workspace created: {}", ws.home().display());
        println!("secret key:        {}{mode}", key_path.display());
        println!("Keep the key apart from the workspace and back it up: without it the index cannot be used.");
        if global.key_file.is_none() {
            println!("Other commands find this key by the workspace id; pass --key-file or set LEAKTRACE_KEY_FILE to use another path.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
