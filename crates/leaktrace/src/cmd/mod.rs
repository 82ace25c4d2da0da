//! One module per subcommand: `Args` (clap) and `run`.

pub mod analyze;
pub mod audit;
pub mod canary;
pub mod demo;
pub mod enroll;
pub mod init;
pub mod scan;
pub mod serve;
pub mod sources;
pub mod synth;
pub mod user;
