//! The command line.

use clap::{Parser, Subcommand};

use crate::config::{CommonArgs, ServerArgs};

/// Portcullis: an OAuth 2.0 / OpenID Connect authorization server with a sandbox banking API,
/// for payment platforms that let third-party apps act for their users.
///
/// Every option is also a PORTCULLIS_* environment variable and a key of the TOML file given
/// with --config; flags win over variables, variables over the file.
#[derive(Debug, Parser)]
#[command(
    name = "portcullis",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the authorization server (creates and migrates the database on first start).
    Serve {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Listening, issuer, timeouts and sandbox.
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Apply database migrations and exit.
    Migrate {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Check the configuration and that the database and keys can be opened; print what is
    /// wrong and exit non-zero if anything is.
    CheckConfig {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Listening, issuer, timeouts and sandbox.
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Manage signing keys.
    Keys {
        /// The key operation.
        #[command(subcommand)]
        command: KeysCommand,
    },
}

/// Signing-key operations.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add new signing keys: published at once, signing after the activation delay. The keys
    /// they replace stay published until the tokens they signed have expired. Every node picks
    /// the change up without restart.
    Rotate {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Algorithm to rotate (repeatable) [default: every algorithm that has a key].
        #[arg(long = "alg", value_name = "ALG")]
        algs: Vec<String>,
        /// Delay before the new keys sign; `0s` after a key compromise
        /// [default: key_activation_delay, 10m].
        #[arg(long, value_name = "DURATION")]
        activate_after: Option<String>,
        /// Print the new keys as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List signing keys with their states (pending, active, retiring).
    List {
        /// Database, keys and logging.
        #[command(flatten)]
        common: CommonArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a new random key-encryption key (32 bytes, base64) for key_encryption_key.
    GenerateKek,
}
