//! Subcommands other than `serve`.

pub mod check;
pub mod keys;
