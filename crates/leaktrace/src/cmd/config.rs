//! `leaktrace.toml`, the configuration file, and `leaktrace config`, which shows the effective
//! value of every option and where it came from.
//!
//! The file is found at `$LEAKTRACE_CONFIG`, else `$XDG_CONFIG_HOME/leaktrace/leaktrace.toml`
//! (`~/.config/…`) when it exists. Top-level keys are the global options (`home`, `key_file`,
//! `color`, `quiet`); a table per command holds that command's option defaults, by their long
//! name (`[analyze] threshold = 0.6`, `[scan] sample = 20000`). Precedence: a flag, then its
//! environment variable, then the file, then the built-in default. An unknown key, a table
//! that is not a command or an option a command requires on each run is an error naming it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;

use clap::parser::ValueSource;

use crate::Global;

/// Largest configuration file read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The configuration in effect: where it was found and the options it sets.
#[derive(Debug, Default)]
pub struct Config {
    /// The file read, with how it was found; `None` when there is none.
    pub path: Option<(PathBuf, &'static str)>,
    /// `(command or "", option long name, value as given)` for every key of the file.
    pub set: Vec<(String, String, String)>,
}

/// What `leaktrace config` needs after parsing: the file and the parsed matches.
pub static LOADED: OnceLock<(Config, clap::ArgMatches, clap::Command)> = OnceLock::new();

/// Where the configuration file is, if any.
fn locate() -> Result<Option<(PathBuf, &'static str)>, String> {
    if let Some(p) = std::env::var_os("LEAKTRACE_CONFIG") {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(format!(
                "{}: configuration file not found ($LEAKTRACE_CONFIG)",
                p.display()
            ));
        }
        return Ok(Some((p, "$LEAKTRACE_CONFIG")));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    Ok(base
        .map(|b| b.join("leaktrace").join("leaktrace.toml"))
        .filter(|p| p.is_file())
        .map(|p| (p, "the user configuration directory")))
}

/// A TOML value as the command line would spell it (arrays: one value each).
fn values(key: &str, v: &toml::Value) -> Result<Vec<String>, String> {
    match v {
        toml::Value::String(s) => Ok(vec![s.clone()]),
        toml::Value::Integer(i) => Ok(vec![i.to_string()]),
        toml::Value::Float(f) => Ok(vec![f.to_string()]),
        toml::Value::Boolean(b) => Ok(vec![b.to_string()]),
        toml::Value::Array(a) => a
            .iter()
            .map(|x| values(key, x).map(|v| v.concat()))
            .collect(),
        _ => Err(format!("{key}: expected a string, number, boolean or list")),
    }
}

/// Read the file and turn its keys into defaults of `cmd`'s options.
pub fn apply(mut cmd: clap::Command) -> Result<(clap::Command, Config), String> {
    let Some((path, how)) = locate()? else {
        return Ok((cmd, Config::default()));
    };
    let at = |m: String| format!("{}: {m}", path.display());
    let len = std::fs::metadata(&path)
        .map_err(|e| at(e.to_string()))?
        .len();
    if len > MAX_CONFIG_BYTES {
        return Err(at(format!(
            "{len} bytes: not a leaktrace configuration file"
        )));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| at(e.to_string()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| at(e.to_string()))?;
    let mut set = Vec::new();
    for (key, value) in &table {
        match value {
            toml::Value::Table(sub) => {
                if cmd.find_subcommand(key).is_none() {
                    return Err(at(format!("[{key}]: no such command")));
                }
                for (k, v) in sub {
                    let vals = values(&format!("{key}.{k}"), v).map_err(at)?;
                    let mut err = None;
                    cmd = cmd.mut_subcommand(key, |sc| match set_default(sc.clone(), k, &vals) {
                        Ok(sc) => sc,
                        Err(e) => {
                            err = Some(e);
                            sc
                        }
                    });
                    if let Some(e) = err {
                        return Err(at(format!("{key}.{e}")));
                    }
                    set.push((key.clone(), k.replace('_', "-"), vals.join(",")));
                }
            }
            v => {
                let vals = values(key, v).map_err(at)?;
                cmd = set_default(cmd, key, &vals).map_err(at)?;
                set.push((String::new(), key.replace('_', "-"), vals.join(",")));
            }
        }
    }
    Ok((
        cmd,
        Config {
            path: Some((path, how)),
            set,
        },
    ))
}

/// Make `vals` the default of the option whose long name is `key` (`_` or `-`).
fn set_default(cmd: clap::Command, key: &str, vals: &[String]) -> Result<clap::Command, String> {
    let long = key.replace('_', "-");
    let Some(arg) = cmd
        .get_arguments()
        .find(|a| a.get_long() == Some(long.as_str()))
    else {
        return Err(format!("{key}: no such option"));
    };
    if arg.is_required_set() {
        return Err(format!(
            "{key}: required on each command line, not settable here"
        ));
    }
    let id = arg.get_id().clone();
    // clap keeps defaults as `&'static str` (without its `string` feature): the few values of
    // a configuration file live as long as the process anyway.
    let vals: Vec<&'static str> = vals.iter().map(|v| &*v.clone().leak()).collect();
    Ok(cmd.mut_arg(id, |a| a.default_values(vals)))
}

/// Show the effective configuration.
#[derive(Debug, clap::Args)]
pub struct Args {}

fn origin(
    cfg: &Config,
    command: &str,
    long: &str,
    source: Option<ValueSource>,
    env: Option<&str>,
) -> String {
    let from_file = cfg.set.iter().any(|(c, k, _)| c == command && k == long);
    match source {
        Some(ValueSource::CommandLine) => "flag".into(),
        Some(ValueSource::EnvVariable) => format!("env {}", env.unwrap_or("?")),
        _ if from_file => "config".into(),
        _ => "default".into(),
    }
}

pub fn run(_args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    let Some((cfg, matches, cmd)) = LOADED.get() else {
        anyhow::bail!("configuration not loaded");
    };
    match &cfg.path {
        Some((p, how)) => println!("config file: {} (from {how})", p.display()),
        None => println!(
            "config file: none (set $LEAKTRACE_CONFIG, or create ~/.config/leaktrace/leaktrace.toml)"
        ),
    }
    for arg in cmd
        .get_arguments()
        .filter(|a| a.get_long().is_some() && a.is_global_set())
    {
        let id = arg.get_id().as_str();
        let long = arg.get_long().unwrap_or(id);
        let value = match matches.get_raw(id) {
            Some(v) => v
                .map(|s| s.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(","),
            None if id == "key_file" => "(unset: ~/.config/leaktrace/<workspace id>.key)".into(),
            None => "(unset)".into(),
        };
        let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
        println!(
            "{long:<24} = {value:<40} ({})",
            origin(cfg, "", long, matches.value_source(id), env.as_deref())
        );
    }
    for sc in cmd.get_subcommands() {
        for arg in sc
            .get_arguments()
            .filter(|a| a.get_long().is_some() && !a.is_global_set())
        {
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            if defaults.is_empty() {
                continue;
            }
            let long = arg.get_long().unwrap_or_default();
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            let source = env
                .as_deref()
                .filter(|e| std::env::var_os(e).is_some())
                .map(|_| ValueSource::EnvVariable);
            let name = format!("{}.{long}", sc.get_name());
            println!(
                "{name:<24} = {:<40} ({})",
                defaults.join(","),
                origin(cfg, sc.get_name(), long, source, env.as_deref())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
