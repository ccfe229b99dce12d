//! `portcullis check-config`.

#![allow(clippy::print_stdout)] // The command's output.

use std::time::Duration;

use anyhow::Context as _;
use portcullis_core::keys::KeyRing;
use portcullis_core::random::OsRandom;
use portcullis_core::store::KeyStore as _;
use portcullis_store::redact_url;

use crate::app::open_store;
use crate::config::Config;
use crate::duration;
use crate::keyring::key_encryption_key;

/// Opens the database and the stored keys with the configured key-encryption key, and prints
/// a summary.
///
/// # Errors
/// The first thing that would stop the server from starting.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let store = tokio::time::timeout(Duration::from_secs(10), open_store(config))
        .await
        .context("the database did not answer within 10s")??;
    let (kek, path, _) = key_encryption_key(config, &OsRandom)?;
    let stored = store.list_keys().await?;
    KeyRing::load(&stored, &kek, None, config.key_retire_after())
        .context("stored signing keys cannot be opened")?;
    println!("configuration OK");
    println!("  listen                {}", config.listen);
    println!(
        "  issuer                {}",
        config.issuer.as_deref().unwrap_or("(derived from listen)")
    );
    println!(
        "  database              {}",
        redact_url(&config.database.url)
    );
    println!(
        "  key-encryption key    {} (opens {} stored keys)",
        path.map_or_else(|| "configured".to_owned(), |p| p.display().to_string()),
        stored.len()
    );
    println!("  access tokens         {}", config.access_token_alg);
    println!(
        "  max access token ttl  {}",
        duration::format(config.max_access_token_ttl)
    );
    println!("  sandbox               {}", config.sandbox);
    store.close().await;
    Ok(())
}
