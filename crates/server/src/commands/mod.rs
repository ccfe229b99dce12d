//! Subcommands other than `serve`.

pub mod admin;
pub mod audit;
pub mod check;
pub mod client;
pub mod keys;
pub mod sandbox;
pub mod user;
