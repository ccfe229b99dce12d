//! `portcullis check-config`.

use std::time::Duration;

use anyhow::Context as _;
use portcullis_core::keys::KeyRing;
use portcullis_core::random::OsRandom;
use portcullis_core::store::KeyStore as _;
use portcullis_store::{SqlStore, redact_url};

use crate::config::Config;
use crate::duration;
use crate::keyring::key_encryption_key;

/// Opens the database and the stored keys with the configured key-encryption key, and prints
/// a summary. Changes nothing: pending migrations are reported, not applied (an operator
/// checks a new release's configuration before the upgrade, against the running database).
///
/// # Errors
/// The first thing that would stop the server from starting.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let store = tokio::time::timeout(Duration::from_secs(10), SqlStore::connect(&config.database))
        .await
        .context("the database did not answer within 10s")??;
    let schema = store.schema_status().await?;
    anyhow::ensure!(
        schema.unknown.is_empty(),
        "the database has migrations this binary does not know ({:?}): a newer release \
         migrated it; run that release",
        schema.unknown
    );
    let (kek, path, _) = key_encryption_key(config, &OsRandom)?;
    // Before the first migration there is no key table, and no key to open.
    let stored = if schema.applied == 0 {
        Vec::new()
    } else {
        store.list_keys().await?
    };
    KeyRing::load(&stored, &kek, None, config.key_retire_after())
        .context("stored signing keys cannot be opened")?;
    crate::out!("configuration OK")?;
    crate::out!("  listen                {}", config.listen)?;
    crate::out!(
        "  issuer                {}",
        config.issuer.as_deref().unwrap_or("(derived from listen)")
    )?;
    crate::out!(
        "  database              {}",
        redact_url(&config.database.url)
    )?;
    crate::out!(
        "  key-encryption key    {} (opens {} stored keys)",
        path.map_or_else(|| "configured".to_owned(), |p| p.display().to_string()),
        stored.len()
    )?;
    crate::out!(
        "  schema                {}",
        if schema.pending.is_empty() {
            format!("up to date ({} migrations)", schema.applied)
        } else {
            format!(
                "{} migrations applied, {} pending (applied by `portcullis migrate` or at start)",
                schema.applied,
                schema.pending.len()
            )
        }
    )?;
    crate::out!("  access tokens         {}", config.access_token_alg)?;
    crate::out!(
        "  max access token ttl  {}",
        duration::format(config.max_access_token_ttl)
    )?;
    crate::out!("  sandbox               {}", config.sandbox)?;
    store.close().await;
    Ok(())
}
