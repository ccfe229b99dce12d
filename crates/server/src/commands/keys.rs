//! `portcullis keys …`.

use std::collections::BTreeSet;

use anyhow::Context as _;
use portcullis_core::audit::AuditSink as _;
use portcullis_core::keys::manage;
use portcullis_core::keys::{KeyEncryptionKey, KeyRing, SigningAlg};
use portcullis_core::random::OsRandom;
use portcullis_core::store::KeyStore as _;
use portcullis_core::time::{Clock as _, SystemClock};
use serde_json::json;

use crate::app::open_store;
use crate::config::Config;
use crate::duration;
use crate::keyring::key_encryption_key;

/// `keys rotate`.
///
/// # Errors
/// When an algorithm is unknown, or storage or key generation fails.
pub async fn rotate(
    config: &Config,
    algs: &[String],
    activate_after: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let (kek, _, _) = key_encryption_key(config, &OsRandom)?;
    let algs: Vec<SigningAlg> = if algs.is_empty() {
        let existing: BTreeSet<SigningAlg> =
            store.list_keys().await?.iter().map(|k| k.alg).collect();
        existing.into_iter().collect()
    } else {
        algs.iter().map(|a| a.parse()).collect::<Result<_, _>>()?
    };
    let delay = match activate_after {
        Some(text) => duration::parse(text)
            .with_context(|| format!("--activate-after {text:?} is not a duration like 10m"))?,
        None => config.key_activation_delay,
    };
    let delay_secs = i64::try_from(delay.as_secs()).unwrap_or(i64::MAX);
    let made = manage::rotate(&store, &kek, &OsRandom, &SystemClock, &algs, delay_secs).await?;
    let (audit, _) = crate::audit::AuditWriter::start(std::sync::Arc::new(store.clone()));
    audit.record(
        portcullis_core::audit::AuditEvent::new(SystemClock.now(), portcullis_core::audit::AuditKind::KeysRotated, "cli")
            .detail(json!({ "kids": made.iter().map(|k| k.kid.to_string()).collect::<Vec<_>>(), "activate_after": delay_secs })),
    );
    audit.flush(std::time::Duration::from_secs(10)).await;
    if json {
        let keys: Vec<_> = made
            .iter()
            .map(|k| json!({"kid": k.kid, "alg": k.alg, "activates_at": k.activates_at.to_rfc3339()}))
            .collect();
        crate::out!("{}", serde_json::to_string_pretty(&keys)?)?;
    } else {
        for key in &made {
            crate::out!(
                "new {} key {}: published by each node at its next key refresh (within {}), \
                 signs from {}",
                key.alg,
                key.kid,
                duration::format(config.key_refresh_interval),
                key.activates_at.to_rfc3339()
            )?;
        }
    }
    store.close().await;
    Ok(())
}

/// `keys list`.
///
/// # Errors
/// When storage fails or the keys cannot be opened.
pub async fn list(config: &Config, json: bool) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let (kek, _, _) = key_encryption_key(config, &OsRandom)?;
    let ring = KeyRing::load(
        &store.list_keys().await?,
        &kek,
        None,
        config.key_retire_after(),
    )?;
    let now = SystemClock.now();
    let rows: Vec<_> = ring
        .keys()
        .map(|k| {
            json!({
                "kid": k.kid,
                "alg": k.alg,
                "state": ring.state(k, now).as_str(),
                "created_at": k.created_at.to_rfc3339(),
                "activates_at": k.activates_at.to_rfc3339(),
            })
        })
        .collect();
    if json {
        crate::out!("{}", serde_json::to_string_pretty(&rows)?)?;
    } else {
        crate::out!(
            "{:<18} {:<6} {:<9} {:<22} ACTIVATES",
            "KID",
            "ALG",
            "STATE",
            "CREATED"
        )?;
        for r in &rows {
            crate::out!(
                "{:<18} {:<6} {:<9} {:<22} {}",
                r["kid"].as_str().unwrap_or_default(),
                r["alg"].as_str().unwrap_or_default(),
                r["state"].as_str().unwrap_or_default(),
                r["created_at"].as_str().unwrap_or_default(),
                r["activates_at"].as_str().unwrap_or_default()
            )?;
        }
    }
    store.close().await;
    Ok(())
}

/// `keys generate-kek`.
///
/// # Errors
/// When randomness fails.
pub fn generate_kek() -> anyhow::Result<()> {
    crate::out!("{}", KeyEncryptionKey::generate_base64(&OsRandom)?)?;
    Ok(())
}
