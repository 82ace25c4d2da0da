//! Exit codes, documented in README.md:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the command ran but found a problem with the input (nothing usable read, a damaged index, an unsafe key file) |
//! | 2 | usage error (clap: unknown option, or a value out of range, checked before any work) |
//! | 3 | input/output error (file missing, unreadable, disk full; the catalog's storage failing) |

use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// Bad or unusable input.
pub const BAD_INPUT: u8 = 1;
/// I/O failure.
pub const IO: u8 = 3;

/// Map an error to the documented exit code.
pub fn code_for(err: &anyhow::Error) -> ExitCode {
    let io = err
        .chain()
        .any(|e| e.downcast_ref::<std::io::Error>().is_some());
    ExitCode::from(if io { IO } else { BAD_INPUT })
}

#[allow(dead_code)]
pub fn ok() -> ExitCode {
    ExitCode::from(OK)
}
