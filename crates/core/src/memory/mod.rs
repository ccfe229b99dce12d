//! Every storage trait of [`crate::store`] in memory, with the promises the SQL stores make, for
//! core's unit tests and as the third backend of the store conformance suite.
//!
//! One mutex guards every table, and each method holds it from its first check to its last
//! write: a method is one transaction, so the single-use decisions (redeeming a code, rotating
//! a refresh token, spending a request, passing a gate, consuming a wallet challenge, settling
//! an order) have exactly one winner however many callers race. A method that fails writes
//! nothing. The schema's rules are kept as the SQL stores keep them: primary and unique keys
//! answer [`StoreError::Conflict`], a row naming a missing parent is refused as a foreign key
//! violation ([`StoreError::Other`]), and deleting a client deletes what `ON DELETE CASCADE`
//! deletes (its codes, consents and grants, and the grants' refresh tokens).
//!
//! Built for tests (`cfg(test)`) and behind the `memory-store` feature; never in a release
//! binary, since nothing here survives a restart.

mod bank;
mod limits;
mod oauth;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::audit::AuditEvent;
use crate::banking::order::{Currency, Order};
use crate::banking::profile::Profile;
use crate::client::Client;
use crate::hash::SecretHash;
use crate::keys::StoredKey;
use crate::store::{
    CodeRecord, ConsentRecord, GrantRecord, IbanRecord, Page, PageRequest, RefreshTokenRecord,
    SessionRecord, StoreError, WalletChallengeRecord, WalletRecord,
};
use crate::time::UnixTime;
use crate::user::User;

/// The memory implementation of every storage trait. Clones share one set of tables, as
/// clones of the SQL store share one database.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    tables: Arc<Mutex<Tables>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The tables, locked: the caller's whole method runs under this one guard. A panic
    /// while it was held (in a test) leaves the tables as they were at the panic; they are
    /// read on rather than poisoning every later test step.
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One map per SQL table, keyed by its primary key.
#[derive(Debug, Default)]
struct Tables {
    keys: BTreeMap<String, StoredKey>,
    clients: BTreeMap<String, Client>,
    users: BTreeMap<String, User>,
    codes: HashMap<SecretHash, CodeRecord>,
    grants: BTreeMap<String, GrantRecord>,
    refresh_tokens: HashMap<SecretHash, RefreshTokenRecord>,
    /// By (user, client).
    consents: BTreeMap<(String, String), ConsentRecord>,
    sessions: HashMap<SecretHash, SessionRecord>,
    /// Spent authorization request ids → when they may be forgotten.
    spent_requests: HashMap<String, UnixTime>,
    /// Single-use ids (DPoP `jti`s) → when they may be forgotten.
    spent_once: HashMap<String, UnixTime>,
    /// Pushed authorization requests, by digest of their `request_uri`.
    pushed: HashMap<SecretHash, crate::store::PushedRequestRecord>,
    /// Revoked access token ids → when they may be forgotten.
    revoked_tokens: HashMap<String, UnixTime>,
    /// Rate-limit counters: key → (window start, count).
    counters: HashMap<String, (UnixTime, u64)>,
    /// Throttle gates: key → when the gate opens.
    gates: HashMap<String, UnixTime>,
    profiles: BTreeMap<String, Profile>,
    wallets: BTreeMap<String, WalletRecord>,
    wallet_challenges: HashMap<SecretHash, WalletChallengeRecord>,
    ibans: BTreeMap<String, IbanRecord>,
    /// By (profile, currency).
    balances: BTreeMap<(String, &'static str), (Currency, i64)>,
    orders: BTreeMap<String, Order>,
    audit: Vec<AuditEvent>,
    /// The last audit sequence number handed out (never reused, like `AUTOINCREMENT`).
    audit_seq: i64,
}

/// A primary or unique key that is taken, as the SQL stores report it.
fn conflict(what: &str) -> StoreError {
    StoreError::Conflict(format!("UNIQUE constraint failed: {what}"))
}

/// A row naming a parent that does not exist, as the SQL stores report it.
fn missing_parent(what: &str) -> StoreError {
    StoreError::Other(format!("FOREIGN KEY constraint failed: {what}"))
}

/// A value a `CHECK` constraint refuses.
fn check_failed(what: &str) -> StoreError {
    StoreError::Other(format!("CHECK constraint failed: {what}"))
}

/// `rows_affected` of a statement that changed `n` rows.
fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// One page of `items` (already ordered by the cursor key `id`): those after the cursor, cut
/// to the limit, with the last one's id as the next cursor when more follow; as the SQL
/// stores' `WHERE id > $after ORDER BY id LIMIT $limit + 1` and `into_page`.
fn page_of<'a, T: Clone + 'a>(
    items: impl Iterator<Item = &'a T>,
    page: &PageRequest,
    id: impl Fn(&T) -> String,
) -> Page<T> {
    let limit = usize::try_from(page.limit.clamp(1, PageRequest::MAX_LIMIT)).unwrap_or(1);
    let after = page.after.as_deref().unwrap_or("");
    let mut items: Vec<T> = items
        .filter(|item| id(item).as_str() > after)
        .take(limit + 1)
        .cloned()
        .collect();
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(&id)
    } else {
        None
    };
    Page { items, next }
}
