//! The commands, each wiring the stages for one job: `diagnose`, `versions`
//! (and its `--all` census), `info`.

pub mod census;
pub mod diagnose;
pub mod info;
pub mod versions;
