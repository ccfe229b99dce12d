//! The key-encryption key and the node's copy of the key ring.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use portcullis_core::keys::manage::{self, KeyOpError};
use portcullis_core::keys::{KeyEncryptionKey, KeyRing};
use portcullis_core::random::SecretGenerator;
use portcullis_core::store::KeyStore;
use portcullis_core::time::Clock;
use portcullis_store::Dialect;

use crate::config::Config;

/// Where the key-encryption key lives when none is configured: beside the SQLite file.
#[must_use]
pub fn local_kek_path(database_url: &str) -> Option<PathBuf> {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    Some(
        Path::new(path)
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join("key-encryption-key"),
    )
}

/// The configured key-encryption key; with SQLite and none configured, the one in the data
/// directory, generated (mode 0600) on first use. Returns where it came from, for the log.
///
/// # Errors
/// When the file cannot be read or written, or holds no valid key.
pub fn key_encryption_key(
    config: &Config,
    random: &dyn SecretGenerator,
) -> anyhow::Result<(KeyEncryptionKey, Option<PathBuf>, bool)> {
    if let Some(configured) = &config.key_encryption_key {
        return Ok((
            KeyEncryptionKey::from_base64(configured.expose())?,
            None,
            false,
        ));
    }
    anyhow::ensure!(
        config.dialect() == Some(Dialect::Sqlite),
        "key_encryption_key is required with PostgreSQL"
    );
    let path = local_kek_path(&config.database.url)
        .context("cannot place the key-encryption key beside the database")?;
    let mut created = false;
    if !path.exists() {
        if let Some(dir) = path.parent() {
            portcullis_store::private::create_dir(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let text = KeyEncryptionKey::generate_base64(random)?;
        write_private(&path, &text).with_context(|| {
            format!("cannot write the key-encryption key to {}", path.display())
        })?;
        created = true;
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the key-encryption key at {}", path.display()))?;
    let kek = KeyEncryptionKey::from_base64(&text)
        .with_context(|| format!("the key-encryption key at {} is invalid", path.display()))?;
    Ok((kek, Some(path), created))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// The node's key ring, shared with the HTTP layer and refreshed from the database.
#[derive(Debug, Clone)]
pub struct SharedRing {
    /// The current ring.
    pub ring: Arc<ArcSwap<KeyRing>>,
    kek: Arc<KeyEncryptionKey>,
    retire_after: i64,
}

impl SharedRing {
    /// Makes the first keys if there are none, and loads the ring.
    ///
    /// # Errors
    /// When storage fails or stored keys cannot be opened with the key-encryption key.
    pub async fn start(
        store: &dyn KeyStore,
        kek: KeyEncryptionKey,
        random: &dyn SecretGenerator,
        clock: &dyn Clock,
        config: &Config,
    ) -> Result<Self, KeyOpError> {
        // Every algorithm gets a key on first start: clients may ask for any of them as their
        // ID-token algorithm, and a new key should not wait for an activation delay.
        manage::ensure_keys(
            store,
            &kek,
            random,
            clock,
            &portcullis_core::keys::SigningAlg::ALL,
        )
        .await?;
        let retire_after = config.key_retire_after();
        let ring = manage::load_ring(store, &kek, None, retire_after).await?;
        Ok(Self {
            ring: Arc::new(ArcSwap::from_pointee(ring)),
            kek: Arc::new(kek),
            retire_after,
        })
    }

    /// Re-reads the keys (picking up rotations made by any node) and deletes retired ones.
    ///
    /// # Errors
    /// When storage fails or a new key cannot be opened; the current ring stays in use.
    pub async fn refresh(&self, store: &dyn KeyStore, clock: &dyn Clock) -> Result<(), KeyOpError> {
        let current = self.ring.load_full();
        let ring = manage::load_ring(store, &self.kek, Some(&current), self.retire_after).await?;
        let pruned = manage::prune(store, &ring, clock).await?;
        if !pruned.is_empty() {
            tracing::info!(keys = ?pruned, "deleted retired signing keys");
        }
        self.ring.store(Arc::new(ring));
        Ok(())
    }

    /// The key-encryption key.
    #[must_use]
    pub fn kek(&self) -> Arc<KeyEncryptionKey> {
        Arc::clone(&self.kek)
    }
}
