//! Storage traits, each sized to one capability. The `portcullis-store` crate implements them
//! for SQLite and PostgreSQL; the core only ever sees these traits.
//!
//! Operations that must be atomic (consuming a code, rotating a refresh token) are single
//! methods here, so that no caller can split them across transactions.

use async_trait::async_trait;
use portcullis_proto::{ClientId, KeyId, UserId};

use crate::client::Client;
use crate::keys::StoredKey;
use crate::user::User;

/// A storage failure, sorted by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached, or is overloaded: retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was broken (the row already exists).
    #[error("already exists: {0}")]
    Conflict(String),
    /// A stored value could not be read back into the domain.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Anything else the database reported.
    #[error("database error: {0}")]
    Other(String),
}

/// One page of a list, ordered by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor for the next page, if there is one.
    pub next: Option<String>,
}

/// Which page of a list to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Items after this cursor (an id).
    pub after: Option<String>,
    /// At most this many items.
    pub limit: u32,
}

impl PageRequest {
    /// The largest page a caller may ask for.
    pub const MAX_LIMIT: u32 = 200;

    /// A request for the first page.
    #[must_use]
    pub fn first(limit: u32) -> Self {
        Self {
            after: None,
            limit: limit.clamp(1, Self::MAX_LIMIT),
        }
    }
}

/// Liveness of the database, for `/readyz`.
#[async_trait]
pub trait HealthStore: Send + Sync {
    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Adds a key.
    async fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError>;
    /// Every stored key.
    async fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Deletes keys (retired ones). Returns how many were deleted.
    async fn delete_keys(&self, kids: &[KeyId]) -> Result<u64, StoreError>;
}

/// Registered clients.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Adds a client; [`StoreError::Conflict`] if the id exists.
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError>;
    /// The client with this id.
    async fn client(&self, id: &ClientId) -> Result<Option<Client>, StoreError>;
    /// Replaces a client's stored settings; `false` if it does not exist.
    async fn update_client(&self, client: &Client) -> Result<bool, StoreError>;
    /// Deletes a client and everything issued to it; `false` if it did not exist.
    async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError>;
    /// Clients ordered by id.
    async fn list_clients(&self, page: &PageRequest) -> Result<Page<Client>, StoreError>;
}

/// User accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Adds a user; [`StoreError::Conflict`] if the email is taken.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;
    /// The user with this id.
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// The user with this (normalised) email.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    /// Replaces a user's stored fields; `false` if it does not exist.
    async fn update_user(&self, user: &User) -> Result<bool, StoreError>;
    /// Users ordered by id.
    async fn list_users(&self, page: &PageRequest) -> Result<Page<User>, StoreError>;
}

/// Everything the server stores.
pub trait Store: HealthStore + KeyStore + ClientStore + UserStore + std::fmt::Debug {}

impl<T> Store for T where T: HealthStore + KeyStore + ClientStore + UserStore + std::fmt::Debug {}
