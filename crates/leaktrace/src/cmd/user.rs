//! `leaktrace user`: the incident service's accounts (the first admin comes from here).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use leaktrace_server::auth::Role;

use crate::Global;

/// Manage the incident service's accounts.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: UserCommand,
}

/// What to do with accounts.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from stdin (or prompted for on a terminal)
    Add {
        name: String,
        #[arg(long, value_parser = ["admin", "analyst", "viewer"])]
        role: String,
    },
    /// Set an account's password (read like `add`) and clear its lockout
    Passwd { name: String },
    /// Create an API bearer token for an account (printed once)
    Token {
        name: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// List accounts
    List,
}

/// Read a password: one line from stdin, without echo on a terminal.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    if tty {
        eprint!("password (12 characters or more): ");
        std::io::stderr().flush()?;
    }
    let _echo = tty.then(NoEcho::new);
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    if tty {
        eprintln!();
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Turns terminal echo off while alive.
struct NoEcho(#[cfg(unix)] Option<libc::termios>);

impl NoEcho {
    fn new() -> NoEcho {
        #[cfg(unix)]
        // SAFETY: tcgetattr/tcsetattr on stdin with a zeroed termios filled by tcgetattr.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return NoEcho(None);
            }
            let old = t;
            t.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &t);
            NoEcho(Some(old))
        }
        #[cfg(not(unix))]
        NoEcho()
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(old) = self.0 {
            // SAFETY: restoring the attributes read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &old);
            }
        }
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    let home = &global.home;
    match args.command {
        UserCommand::Add { name, role } => {
            let role = Role::parse(&role).context("role is admin, analyst or viewer")?;
            let pw = read_password()?;
            leaktrace_server::admin::add_user(home, &name, role, &pw)?;
            if !global.quiet {
                eprintln!("user {name} added ({})", role.as_str());
            }
        }
        UserCommand::Passwd { name } => {
            let pw = read_password()?;
            leaktrace_server::admin::set_password(home, &name, &pw)?;
            if !global.quiet {
                eprintln!("password of {name} changed");
            }
        }
        UserCommand::Token { name, label } => {
            println!(
                "{}",
                leaktrace_server::admin::new_token(home, &name, &label)?
            );
        }
        UserCommand::List => {
            for u in leaktrace_server::admin::users(home)? {
                println!("{:<24} {:<8} {}", u.name, u.role.as_str(), u.created_at);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
