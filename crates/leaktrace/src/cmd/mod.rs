//! One module per subcommand: `Args` (clap) and `run`.

pub mod demo;
pub mod scan;
pub mod synth;
