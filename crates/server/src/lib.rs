//! The `portcullis` binary as a library: configuration, start-up and the CLI, so that tests
//! start the real server in-process.

pub mod app;
pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod duration;
pub mod keyring;
pub mod output;
pub mod sandbox;
pub mod telemetry;

pub use app::{Application, Runtime};
pub use config::Config;
