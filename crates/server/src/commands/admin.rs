//! What the administrative commands share: the store, the clock, an audit writer, and the
//! `Admin` context with the actor `cli`.

use std::sync::Arc;
use std::time::Duration;

use portcullis_core::admin::Admin;
use portcullis_core::random::OsRandom;
use portcullis_core::time::SystemClock;
use portcullis_store::SqlStore;

use crate::app::open_store;
use crate::audit::AuditWriter;
use crate::config::Config;

/// An open database and audit writer for one command.
#[derive(Debug)]
pub struct Session {
    /// The store.
    pub store: SqlStore,
    audit: AuditWriter,
    config: Config,
}

impl Session {
    /// Opens the database of `config`.
    ///
    /// # Errors
    /// When it cannot be opened or migrated.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let store = open_store(config).await?;
        let (audit, _) = AuditWriter::start(Arc::new(store.clone()));
        Ok(Self {
            store,
            audit,
            config: config.clone(),
        })
    }

    /// The context of an operation by the CLI.
    #[must_use]
    pub fn admin(&self) -> Admin<'_> {
        Admin {
            store: &self.store,
            clock: &SystemClock,
            random: &OsRandom,
            scopes: &self.config.scopes,
            max_access_ttl: i64::try_from(self.config.max_access_token_ttl.as_secs())
                .unwrap_or(i64::MAX),
            audit: &self.audit,
            actor: "cli",
            ip: None,
        }
    }

    /// Writes the audit events and closes the database.
    pub async fn close(self) {
        self.audit.flush(Duration::from_secs(10)).await;
        self.store.close().await;
    }
}

/// A duration option in seconds.
///
/// # Errors
/// When the text is not a duration.
pub fn seconds(text: Option<&str>, flag: &str) -> anyhow::Result<Option<i64>> {
    text.map(|t| {
        crate::duration::parse(t)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .ok_or_else(|| {
                anyhow::anyhow!("--{flag} {t:?} is not a duration like 30s, 5m, 1h or 7d")
            })
    })
    .transpose()
}
