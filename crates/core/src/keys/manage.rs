//! Key life-cycle operations over the [`KeyStore`]: first keys, rotation, loading, pruning.

use portcullis_proto::KeyId;

use super::{KeyEncryptionKey, KeyPair, KeyRing, KeyRingError, SigningAlg, StoredKey};
use crate::random::{RandomError, SecretGenerator, new_uuid};
use crate::store::{KeyStore, StoreError};
use crate::time::Clock;

/// A key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyOpError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Key material could not be made or read.
    #[error(transparent)]
    Ring(#[from] KeyRingError),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// Makes a new key for `alg`, wrapped under `kek`, that activates `activate_after` seconds
/// from now.
///
/// # Errors
/// When generation, randomness or wrapping fails.
pub fn new_key(
    alg: SigningAlg,
    kek: &KeyEncryptionKey,
    random: &dyn SecretGenerator,
    clock: &dyn Clock,
    activate_after: i64,
) -> Result<StoredKey, KeyOpError> {
    // Time-ordered (UUID v7), so that of two keys made in the same second the later one wins.
    let kid = KeyId::new(new_uuid(random, clock.now_millis())?);
    let pkcs8 = KeyPair::generate_pkcs8(alg).map_err(KeyRingError::from)?;
    let wrapped = kek
        .wrap(random, kid.as_str(), &pkcs8)
        .map_err(KeyRingError::from)?;
    let now = clock.now();
    Ok(StoredKey {
        kid,
        alg,
        created_at: now,
        activates_at: now.plus(activate_after.max(0)),
        kek_fingerprint: kek.fingerprint().to_owned(),
        wrapped_private_key: wrapped,
    })
}

/// Makes a key, active at once, for each algorithm in `algs` that has none. A fresh key has no
/// verifier caching an older JWKS, so it need not wait to sign.
///
/// # Errors
/// When storage or key generation fails.
pub async fn ensure_keys(
    store: &dyn KeyStore,
    kek: &KeyEncryptionKey,
    random: &dyn SecretGenerator,
    clock: &dyn Clock,
    algs: &[SigningAlg],
) -> Result<Vec<StoredKey>, KeyOpError> {
    let existing = store.list_keys().await?;
    let mut made = Vec::new();
    for &alg in algs {
        if existing.iter().any(|k| k.alg == alg) || made.iter().any(|k: &StoredKey| k.alg == alg) {
            continue;
        }
        let key = new_key(alg, kek, random, clock, 0)?;
        store.insert_key(&key).await?;
        made.push(key);
    }
    Ok(made)
}

/// Adds a new key for each of `algs`, published now and signing `activate_after` seconds
/// from now. The keys it replaces stay published until their tokens expire.
///
/// # Errors
/// When storage or key generation fails.
pub async fn rotate(
    store: &dyn KeyStore,
    kek: &KeyEncryptionKey,
    random: &dyn SecretGenerator,
    clock: &dyn Clock,
    algs: &[SigningAlg],
    activate_after: i64,
) -> Result<Vec<StoredKey>, KeyOpError> {
    let mut made = Vec::with_capacity(algs.len());
    for &alg in algs {
        let key = new_key(alg, kek, random, clock, activate_after)?;
        store.insert_key(&key).await?;
        made.push(key);
    }
    Ok(made)
}

/// Reads every key and builds the ring, reusing keys already parsed in `previous`.
///
/// # Errors
/// When storage fails or a key cannot be opened with `kek`.
pub async fn load_ring(
    store: &dyn KeyStore,
    kek: &KeyEncryptionKey,
    previous: Option<&KeyRing>,
    retire_after: i64,
) -> Result<KeyRing, KeyOpError> {
    let stored = store.list_keys().await?;
    Ok(KeyRing::load(&stored, kek, previous, retire_after)?)
}

/// Deletes keys that no token can need any more.
///
/// # Errors
/// When storage fails.
pub async fn prune(
    store: &dyn KeyStore,
    ring: &KeyRing,
    clock: &dyn Clock,
) -> Result<Vec<KeyId>, KeyOpError> {
    let retired = ring.retired(clock.now());
    if !retired.is_empty() {
        store.delete_keys(&retired).await?;
    }
    Ok(retired)
}
