//! Tests that run the `portcullis` binary as an operator would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_audit;
mod admin_cli;
mod admin_clients;
mod admin_rotation;
mod admin_users;
mod admin_validation;
mod config;
mod data_dir;
mod keys;
mod serve;

use std::path::PathBuf;

/// The binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_portcullis"))
}
