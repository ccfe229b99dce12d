//! Rate limits shared by every node, in fixed windows.
//!
//! Two ways of counting, chosen by what the endpoint can afford:
//!
//! - [`hit`] counts in the database on every event: exact across nodes, one write per event.
//!   Login (`crate::login`) and sign-up (per IP) use it: they write anyway.
//! - [`SharedCounters`] counts in memory and adds each node's local counts to the same database
//!   counters in the background ([`SharedCounters::sync`], every few hundred milliseconds). The
//!   token endpoint uses it: its hot path writes nothing to the database. A node refuses when
//!   the last count it read from the database plus what it counted since exceeds the limit, so
//!   the limit holds across nodes to within what the other nodes counted during one sync
//!   interval.
//!
//! A limit delays; it never locks an account or a client for good.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::store::{CounterDelta, RateLimitStore, StoreError};
use crate::time::{Clock, UnixTime};

/// At most `max` events per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Events allowed in a window.
    pub max: u64,
    /// Window length, seconds.
    pub window: i64,
}

impl Limit {
    /// The start of the window `now` falls in.
    #[must_use]
    pub fn window_start(self, now: UnixTime) -> UnixTime {
        let window = self.window.max(1);
        UnixTime(now.0 - now.0.rem_euclid(window))
    }

    /// Seconds from `now` until the window that started at `start` ends (at least 1).
    #[must_use]
    pub fn retry_after(self, start: UnixTime, now: UnixTime) -> i64 {
        (start.0 + self.window.max(1) - now.0).max(1)
    }
}

/// Login attempts per account from one client network ([`network_key`]): a guesser on one
/// network gets five tries per quarter hour at each account; a successful login clears it.
pub const LOGIN_PER_ACCOUNT_NETWORK: Limit = Limit {
    max: 5,
    window: 900,
};
/// Failed logins per client network, across accounts (credential stuffing from one network).
pub const LOGIN_FAILURES_PER_NETWORK: Limit = Limit {
    max: 100,
    window: 900,
};
/// Failed logins per account from every network together before the account slows down
/// (`crate::login`). Twice [`LOGIN_PER_ACCOUNT_NETWORK`], in the same window, so that one
/// network alone never slows the account down for its owner elsewhere.
pub const LOGIN_FAILURES_PER_ACCOUNT: Limit = Limit {
    max: 10,
    window: 900,
};
/// Login attempts from a browser holding a device cookie for the account (`crate::login`).
pub const LOGIN_PER_DEVICE: Limit = Limit {
    max: 5,
    window: 900,
};
/// Sign-ups per client IP.
pub const SIGNUP_PER_IP: Limit = Limit {
    max: 20,
    window: 3600,
};
/// Token requests per authenticated client, across nodes: 10 000 a second on average, far
/// above what an integration needs (a client-credentials token lives an hour), low enough that
/// one runaway client cannot take a cluster's whole capacity.
pub const TOKEN_PER_CLIENT: Limit = Limit {
    max: 600_000,
    window: 60,
};
/// Token requests per client IP, whatever the client: 2 000 a second on average.
pub const TOKEN_PER_IP: Limit = Limit {
    max: 120_000,
    window: 60,
};
/// Failed client authentications (token, introspection and revocation endpoints) per client
/// IP: a working client does not fail, so this is much tighter than the request limits.
pub const CLIENT_AUTH_FAILURES_PER_IP: Limit = Limit {
    max: 300,
    window: 300,
};

/// Every configurable limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Login attempts per account and client network ([`hit`]).
    pub login_per_account_network: Limit,
    /// Failed logins per client network ([`hit`]).
    pub login_failures_per_network: Limit,
    /// Failed logins per account before it slows down ([`hit`]).
    pub login_failures_per_account: Limit,
    /// Login attempts per trusted browser ([`hit`]).
    pub login_per_device: Limit,
    /// Sign-ups per client IP ([`hit`]).
    pub signup_per_ip: Limit,
    /// Token requests per authenticated client ([`SharedCounters`]).
    pub token_per_client: Limit,
    /// Token requests per client IP ([`SharedCounters`]).
    pub token_per_ip: Limit,
    /// Failed client authentications per client IP ([`SharedCounters`]).
    pub client_auth_failures_per_ip: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_per_account_network: LOGIN_PER_ACCOUNT_NETWORK,
            login_failures_per_network: LOGIN_FAILURES_PER_NETWORK,
            login_failures_per_account: LOGIN_FAILURES_PER_ACCOUNT,
            login_per_device: LOGIN_PER_DEVICE,
            signup_per_ip: SIGNUP_PER_IP,
            token_per_client: TOKEN_PER_CLIENT,
            token_per_ip: TOKEN_PER_IP,
            client_auth_failures_per_ip: CLIENT_AUTH_FAILURES_PER_IP,
        }
    }
}

/// The request was over a limit; retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until the window ends.
    pub retry_after: i64,
    /// Whether this is the window's first refusal for the key: a caller that records refusals
    /// (an audit event) records this one only, so a flood over the limit writes one row, not
    /// one per request.
    pub first: bool,
}

/// Counts one event for `key` against `limit`, in the database.
///
/// # Errors
/// `Ok(Err(Throttled))` when over the limit; `Err` on storage failure (callers refuse the
/// request rather than let it through unlimited).
pub async fn hit(
    store: &dyn RateLimitStore,
    clock: &dyn Clock,
    key: &str,
    limit: Limit,
) -> Result<Result<(), Throttled>, StoreError> {
    let now = clock.now();
    let start = limit.window_start(now);
    let count = store.hit(key, start).await?;
    if count > limit.max {
        Ok(Err(Throttled {
            retry_after: limit.retry_after(start, now),
            first: count == limit.max.saturating_add(1),
        }))
    } else {
        Ok(Ok(()))
    }
}

/// The part of a rate-limit key that names a client address. An IPv6 client is counted by its
/// /64 network: one subscriber usually holds a whole /64, and counting single addresses would
/// give them 2^64 separate allowances. IPv4-mapped IPv6 addresses count as IPv4.
#[must_use]
pub fn ip_key(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        None => "unknown".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// The client network a login is counted by: the /24 of an IPv4 address, the /64 of an IPv6
/// one. Whoever controls one address of a home or office network usually controls its
/// neighbours too, so counting addresses one by one would multiply a guesser's allowance.
#[must_use]
pub fn network_key(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        other => ip_key(other),
    }
}

/// The most keys a node tracks; past it, keys whose counts are all in the database are
/// forgotten (and re-learned at their next sync), bounding memory against floods of distinct
/// keys.
const MAX_KEYS: usize = 100_000;

/// One key's counts on this node.
#[derive(Debug, Clone, Copy)]
struct Counter {
    /// The window these counts belong to.
    start: UnixTime,
    /// Its length, seconds.
    window: i64,
    /// The count in the database when this node last synced (its own synced events included).
    shared: u64,
    /// Counted here and being added to the database right now.
    syncing: u64,
    /// Counted here since the last sync began.
    pending: u64,
    /// Whether a refusal was already reported in this window (to log once, not per request).
    refused: bool,
}

impl Counter {
    fn new(start: UnixTime, limit: Limit) -> Self {
        Self {
            start,
            window: limit.window.max(1),
            shared: 0,
            syncing: 0,
            pending: 0,
            refused: false,
        }
    }

    /// Whether its window is still running at `now`.
    fn is_live(&self, now: UnixTime) -> bool {
        now.0 < self.start.0.saturating_add(self.window)
    }

    fn total(&self) -> u64 {
        self.shared
            .saturating_add(self.syncing)
            .saturating_add(self.pending)
    }
}

/// A refusal from [`SharedCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// When to retry.
    pub throttled: Throttled,
    /// Whether this is the first refusal for the key in this window on this node: callers log
    /// and audit that one, not every refused request of a flood.
    pub first: bool,
}

/// Counters kept in memory and shared through the database in the background (see the module
/// documentation). Cheap to call on every request: one short lock, no I/O.
#[derive(Debug)]
pub struct SharedCounters {
    clock: Arc<dyn Clock>,
    counters: Mutex<Table>,
}

/// The counters, and when finished windows were last swept out.
#[derive(Debug, Default)]
struct Table {
    map: HashMap<String, Counter>,
    swept: UnixTime,
}

impl Table {
    /// Forgets counters whose window is over and that hold nothing left to sync; at most once
    /// a second, so that a table full of live windows is not scanned on every request.
    fn sweep(&mut self, now: UnixTime) {
        if self.swept.0 == now.0 {
            return;
        }
        self.swept = now;
        self.map
            .retain(|_, c| c.is_live(now) || c.pending > 0 || c.syncing > 0);
    }
}

impl SharedCounters {
    /// Counters on `clock`, starting empty.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            counters: Mutex::new(Table::default()),
        }
    }

    /// Runs `f` on the current-window counter of `key` (made if missing).
    fn with<T>(&self, key: &str, limit: Limit, f: impl FnOnce(&mut Counter, UnixTime) -> T) -> T {
        let now = self.clock.now();
        let start = limit.window_start(now);
        // A panic elsewhere while holding the lock leaves only counts behind: keep using them.
        let mut table = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        if !table.map.contains_key(key) && table.map.len() >= MAX_KEYS {
            table.sweep(now);
            if table.map.len() >= MAX_KEYS {
                // Full of live windows (a flood of distinct keys): this key is judged on its
                // own event alone, untracked; load shedding bounds what such a flood costs.
                return f(&mut Counter::new(start, limit), now);
            }
        }
        let counter = table
            .map
            .entry(key.to_owned())
            .or_insert_with(|| Counter::new(start, limit));
        if counter.start != start {
            // A new window: what was not yet synced of the old one no longer matters.
            *counter = Counter::new(start, limit);
        }
        f(counter, now)
    }

    /// Counts one event for `key` unless that would exceed `limit`.
    ///
    /// # Errors
    /// [`Refused`] when the window is full; the refused event is not counted.
    pub fn hit(&self, key: &str, limit: Limit) -> Result<(), Refused> {
        self.with(key, limit, |counter, now| {
            if counter.total() >= limit.max {
                return Err(refuse(counter, limit, now));
            }
            counter.pending += 1;
            Ok(())
        })
    }

    /// Whether `key` is already at `limit`, without counting anything.
    ///
    /// # Errors
    /// [`Refused`] when the window is full.
    pub fn check(&self, key: &str, limit: Limit) -> Result<(), Refused> {
        self.with(key, limit, |counter, now| {
            if counter.total() >= limit.max {
                Err(refuse(counter, limit, now))
            } else {
                Ok(())
            }
        })
    }

    /// Counts one event for `key` without checking (a failure, say, checked by
    /// [`SharedCounters::check`] before the next attempt).
    pub fn count(&self, key: &str, limit: Limit) {
        self.with(key, limit, |counter, _| counter.pending += 1);
    }

    /// Adds what this node counted since the last sync to the database counters, in one round
    /// trip, and learns the totals (other nodes' counts included). Forgets counters of windows
    /// that are over. Returns how many keys were written.
    ///
    /// # Errors
    /// Storage failures; the counts are then kept for the next sync.
    pub async fn sync(&self, store: &dyn RateLimitStore) -> Result<usize, StoreError> {
        let deltas = self.take_pending();
        if deltas.is_empty() {
            return Ok(0);
        }
        let result = store.add(&deltas).await;
        let mut table = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        for (index, delta) in deltas.iter().enumerate() {
            let Some(counter) = table
                .map
                .get_mut(&delta.key)
                .filter(|c| c.start == delta.window_start)
            else {
                continue;
            };
            match &result {
                Ok(totals) => {
                    let total = totals.get(index).copied().unwrap_or_default();
                    counter.shared = counter.shared.max(total);
                }
                Err(_) => counter.pending += delta.count,
            }
            counter.syncing = 0;
        }
        result.map(|_| deltas.len())
    }

    /// Moves every pending count to `syncing` and returns them, sorted by key (so that nodes
    /// writing the same keys lock them in the same order); drops finished windows.
    fn take_pending(&self) -> Vec<CounterDelta> {
        let now = self.clock.now();
        let mut table = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        table.sweep(now);
        let mut deltas: Vec<CounterDelta> = table
            .map
            .iter_mut()
            .filter(|(_, c)| c.pending > 0)
            .map(|(key, c)| {
                c.syncing = c.pending;
                c.pending = 0;
                CounterDelta {
                    key: key.clone(),
                    window_start: c.start,
                    count: c.syncing,
                }
            })
            .collect();
        deltas.sort_by(|a, b| a.key.cmp(&b.key));
        deltas
    }
}

fn refuse(counter: &mut Counter, limit: Limit, now: UnixTime) -> Refused {
    let first = !counter.refused;
    counter.refused = true;
    Refused {
        throttled: Throttled {
            retry_after: limit.retry_after(counter.start, now),
            first,
        },
        first,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::time::ManualClock;
    use async_trait::async_trait;

    use crate::memory::MemoryStore;

    const LIMIT: Limit = Limit { max: 5, window: 60 };

    fn clock() -> Arc<ManualClock> {
        Arc::new(ManualClock::new(UnixTime(6_000)))
    }

    #[test]
    fn a_node_refuses_past_the_limit_and_says_when_to_retry() {
        let clock = clock();
        clock.advance(15);
        let counters = SharedCounters::new(clock.clone());
        for _ in 0..LIMIT.max {
            counters.hit("k", LIMIT).unwrap();
        }
        let refused = counters.hit("k", LIMIT).unwrap_err();
        assert_eq!(refused.throttled.retry_after, 45);
        assert!(refused.first);
        assert!(
            !counters.hit("k", LIMIT).unwrap_err().first,
            "reported once"
        );
        assert!(counters.hit("other", LIMIT).is_ok(), "keys count apart");
        clock.advance(45);
        assert!(
            counters.hit("k", LIMIT).is_ok(),
            "a new window starts afresh"
        );
    }

    #[test]
    fn check_does_not_count_and_count_does_not_check() {
        let counters = SharedCounters::new(clock());
        for _ in 0..LIMIT.max {
            assert!(counters.check("k", LIMIT).is_ok());
            counters.count("k", LIMIT);
        }
        assert!(counters.check("k", LIMIT).is_err());
        counters.count("k", LIMIT);
    }

    #[tokio::test]
    async fn nodes_share_counts_through_the_database() {
        let (db, clock) = (MemoryStore::new(), clock());
        let one = SharedCounters::new(clock.clone());
        let two = SharedCounters::new(clock.clone());
        for _ in 0..3 {
            one.hit("k", LIMIT).unwrap();
        }
        assert_eq!(one.sync(&db).await.unwrap(), 1);
        two.hit("k", LIMIT).unwrap();
        assert_eq!(two.sync(&db).await.unwrap(), 1);
        // Node two now knows of node one's three: one more fits, then it refuses.
        two.hit("k", LIMIT).unwrap();
        assert!(two.hit("k", LIMIT).is_err());
        // Node one learns of node two's events at its next sync.
        one.hit("k", LIMIT).unwrap();
        one.sync(&db).await.unwrap();
        two.sync(&db).await.unwrap();
        assert!(one.hit("k", LIMIT).is_err());
        let window = LIMIT.window_start(clock.now());
        assert_eq!(
            db.count("k", window).await.unwrap(),
            LIMIT.max + 1,
            "at most one over"
        );
    }

    #[tokio::test]
    async fn counts_survive_a_failed_sync() {
        #[derive(Debug)]
        struct Down;
        #[async_trait]
        impl RateLimitStore for Down {
            async fn hit(&self, _: &str, _: UnixTime) -> Result<u64, StoreError> {
                Err(StoreError::Unavailable("down".into()))
            }
            async fn reset(&self, _: &str) -> Result<(), StoreError> {
                Err(StoreError::Unavailable("down".into()))
            }
            async fn add(&self, _: &[CounterDelta]) -> Result<Vec<u64>, StoreError> {
                Err(StoreError::Unavailable("down".into()))
            }
            async fn count(&self, _: &str, _: UnixTime) -> Result<u64, StoreError> {
                Err(StoreError::Unavailable("down".into()))
            }
            async fn pass_gate(
                &self,
                _: &str,
                _: UnixTime,
                _: UnixTime,
            ) -> Result<Option<UnixTime>, StoreError> {
                Err(StoreError::Unavailable("down".into()))
            }
        }
        let (db, clock) = (MemoryStore::new(), clock());
        let window = LIMIT.window_start(clock.now());
        let counters = SharedCounters::new(clock);
        counters.hit("k", LIMIT).unwrap();
        counters.hit("k", LIMIT).unwrap();
        assert!(counters.sync(&Down).await.is_err());
        counters.sync(&db).await.unwrap();
        assert_eq!(db.count("k", window).await.unwrap(), 2, "nothing lost");
    }

    #[tokio::test]
    async fn finished_windows_are_forgotten() {
        let (db, clock) = (MemoryStore::new(), clock());
        let counters = SharedCounters::new(clock.clone());
        counters.hit("k", LIMIT).unwrap();
        counters.sync(&db).await.unwrap();
        clock.advance(30);
        counters.sync(&db).await.unwrap();
        assert_eq!(
            counters.counters.lock().unwrap().map.len(),
            1,
            "window still running"
        );
        clock.advance(LIMIT.window);
        assert_eq!(counters.sync(&db).await.unwrap(), 0);
        assert!(counters.counters.lock().unwrap().map.is_empty());
    }

    #[test]
    fn a_full_table_keeps_the_keys_it_is_limiting() {
        let clock = clock();
        let counters = SharedCounters::new(clock.clone());
        let long = Limit {
            max: 1,
            window: 3600,
        };
        counters.hit("throttled", long).unwrap();
        assert!(counters.hit("throttled", long).is_err());
        {
            let mut table = counters.counters.lock().unwrap();
            for n in 0..MAX_KEYS - 1 {
                table
                    .map
                    .insert(format!("old{n}"), Counter::new(UnixTime(0), LIMIT));
            }
        }
        // Past the cap: finished windows go, the live one stays, and its limit still holds.
        counters.hit("new", LIMIT).unwrap();
        assert_eq!(counters.counters.lock().unwrap().map.len(), 2);
        assert!(counters.hit("throttled", long).is_err());
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(Some(a)), ip_key(Some(b)));
        assert_ne!(ip_key(Some(a)), ip_key(Some(c)));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ip_key(Some(mapped)), "192.0.2.7");
        assert_eq!(ip_key(None), "unknown");
    }

    #[test]
    fn login_networks_are_a_24_or_a_64() {
        let a: IpAddr = "198.51.100.7".parse().unwrap();
        let b: IpAddr = "198.51.100.200".parse().unwrap();
        let c: IpAddr = "198.51.101.7".parse().unwrap();
        assert_eq!(network_key(Some(a)), "198.51.100.0/24");
        assert_eq!(network_key(Some(a)), network_key(Some(b)));
        assert_ne!(network_key(Some(a)), network_key(Some(c)));
        let mapped: IpAddr = "::ffff:198.51.100.9".parse().unwrap();
        assert_eq!(network_key(Some(mapped)), "198.51.100.0/24");
        let v6: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        assert_eq!(network_key(Some(v6)), "2001:db8:1:2::/64");
        assert_eq!(network_key(None), "unknown");
    }
}
