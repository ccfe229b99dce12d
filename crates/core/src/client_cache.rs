//! A short-lived cache of clients for the token endpoint's hot path. Entries live a few
//! seconds; changes made on this node drop the entry at once, changes made on another node
//! are seen within the TTL (docs/deploy.md).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use portcullis_proto::ClientId;

use crate::client::Client;
use crate::store::{ClientStore, StoreError};
use crate::time::{Clock, UnixTime};

/// Finds clients by id.
#[async_trait]
pub trait ClientLookup: Send + Sync {
    /// The client with this id.
    async fn find_client(&self, id: &ClientId) -> Result<Option<Arc<Client>>, StoreError>;
}

/// The most clients held; past it the cache is cleared, bounding memory against floods of
/// distinct ids.
const MAX_ENTRIES: usize = 10_000;

/// Clients cached for `ttl` seconds.
#[derive(Debug)]
pub struct ClientCache {
    store: Arc<dyn ClientStore>,
    clock: Arc<dyn Clock>,
    ttl: i64,
    entries: RwLock<HashMap<ClientId, (Arc<Client>, UnixTime)>>,
}

impl std::fmt::Debug for dyn ClientStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientStore")
    }
}

impl ClientCache {
    /// A cache in front of `store`. A `ttl` of 0 disables caching.
    #[must_use]
    pub fn new(store: Arc<dyn ClientStore>, clock: Arc<dyn Clock>, ttl: i64) -> Self {
        Self {
            store,
            clock,
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// Drops the entry for `id` (after this node changed the client).
    pub fn invalidate(&self, id: &ClientId) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(id);
        }
    }
}

#[async_trait]
impl ClientLookup for ClientCache {
    async fn find_client(&self, id: &ClientId) -> Result<Option<Arc<Client>>, StoreError> {
        let now = self.clock.now();
        if let Some((client, until)) = self.entries.read().ok().and_then(|e| e.get(id).cloned())
            && now < until
        {
            return Ok(Some(client));
        }
        let Some(client) = self.store.client(id).await? else {
            return Ok(None);
        };
        let client = Arc::new(client);
        if self.ttl > 0
            && let Ok(mut entries) = self.entries.write()
        {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(id.clone(), (Arc::clone(&client), now.plus(self.ttl)));
        }
        Ok(Some(client))
    }
}
