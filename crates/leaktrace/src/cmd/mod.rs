//! One module per subcommand: `Args` (clap) and `run`.

pub mod analyze;
pub mod canary;
pub mod config;
pub mod demo;
pub mod enroll;
pub mod incident;
pub mod init;
pub mod scan;
pub mod shell;
pub mod sources;
pub mod synth;
