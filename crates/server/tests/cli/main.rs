//! Tests that run the `portcullis` binary as an operator would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod config;
mod keys;
mod serve;

use std::path::PathBuf;

/// The binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_portcullis"))
}
