//! Revoked access tokens, rate-limit counters and gates, housekeeping and health, as
//! `crates/store/src/housekeeping.rs` keeps them.

use async_trait::async_trait;

use super::{MemoryStore, count};
use crate::store::{
    CounterDelta, HealthStore, MaintenanceStore, PoolStats, RateLimitStore, RevocationStore,
    StoreError,
};
use crate::time::UnixTime;

/// How long a redeemed or expired code is kept, so that a late replay is still told apart as
/// reuse (the SQL store's `CODE_RETENTION_SECONDS`).
const CODE_RETENTION_SECONDS: i64 = 86_400;
/// How long a rate-limit counter or gate outlives its window (`COUNTER_RETENTION_SECONDS`).
const COUNTER_RETENTION_SECONDS: i64 = 86_400;

#[async_trait]
impl RevocationStore for MemoryStore {
    async fn revoke_access_token(&self, jti: &str, expires_at: UnixTime) -> Result<(), StoreError> {
        // `ON CONFLICT DO NOTHING`: the first record stands.
        self.lock()
            .revoked_tokens
            .entry(jti.to_owned())
            .or_insert(expires_at);
        Ok(())
    }

    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.lock().revoked_tokens.contains_key(jti))
    }
}

#[async_trait]
impl RateLimitStore for MemoryStore {
    async fn hit(&self, key: &str, window_start: UnixTime) -> Result<u64, StoreError> {
        // A newer window restarts the count; a hit from an older one (a node whose clock is
        // behind) counts in the newer one rather than resetting it.
        let mut t = self.lock();
        let row = t
            .counters
            .entry(key.to_owned())
            .or_insert((window_start, 0));
        if row.0 < window_start {
            *row = (window_start, 0);
        }
        row.1 = row.1.saturating_add(1);
        Ok(row.1)
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        self.lock().counters.remove(key);
        Ok(())
    }

    async fn add(&self, deltas: &[CounterDelta]) -> Result<Vec<u64>, StoreError> {
        // Each delta is the SQL upsert in turn: the same window adds up, a newer one restarts
        // at the delta, an older one changes nothing. The rows it returns are then matched to
        // the deltas as the SQL store matches them: the first row of the key in its window.
        let mut t = self.lock();
        let mut rows = Vec::with_capacity(deltas.len());
        for delta in deltas {
            let row = t
                .counters
                .entry(delta.key.clone())
                .or_insert((delta.window_start, 0));
            if row.0 == delta.window_start {
                row.1 = row.1.saturating_add(delta.count);
            } else if row.0 < delta.window_start {
                *row = (delta.window_start, delta.count);
            }
            rows.push((delta.key.as_str(), row.0, row.1));
        }
        Ok(deltas
            .iter()
            .map(|d| {
                rows.iter()
                    .find(|(key, start, _)| *key == d.key && *start == d.window_start)
                    .map_or(0, |(_, _, count)| *count)
            })
            .collect())
    }

    async fn count(&self, key: &str, window_start: UnixTime) -> Result<u64, StoreError> {
        Ok(self
            .lock()
            .counters
            .get(key)
            .filter(|(start, _)| *start == window_start)
            .map_or(0, |(_, count)| *count))
    }

    async fn pass_gate(
        &self,
        key: &str,
        now: UnixTime,
        close_until: UnixTime,
    ) -> Result<Option<UnixTime>, StoreError> {
        // The check and the write under one guard: of callers racing for an open gate, one
        // passes.
        let mut t = self.lock();
        match t.gates.get(key) {
            Some(open_at) if *open_at > now => Ok(Some(*open_at)),
            _ => {
                t.gates.insert(key.to_owned(), close_until);
                Ok(None)
            }
        }
    }
}

#[async_trait]
impl MaintenanceStore for MemoryStore {
    async fn delete_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        let mut t = self.lock();
        let mut deleted = 0;
        let code_cutoff = UnixTime(now.0 - CODE_RETENTION_SECONDS);
        let counter_cutoff = UnixTime(now.0 - COUNTER_RETENTION_SECONDS);
        macro_rules! delete_where {
            ($map:expr, |$row:pat_param| $lapsed:expr) => {{
                let before = $map.len();
                $map.retain(|_, $row| !$lapsed);
                deleted += count(before - $map.len());
            }};
        }
        delete_where!(t.codes, |c| c.expires_at < code_cutoff);
        delete_where!(t.sessions, |s| s.expires_at < now);
        delete_where!(t.spent_requests, |expires_at| *expires_at < now);
        delete_where!(t.spent_once, |expires_at| *expires_at < now);
        delete_where!(t.pushed, |r| r.expires_at < now);
        delete_where!(t.revoked_tokens, |expires_at| *expires_at < now);
        delete_where!(t.refresh_tokens, |r| r.expires_at < now);
        delete_where!(t.wallet_challenges, |c| c.expires_at < now);
        delete_where!(t.counters, |(start, _)| *start < counter_cutoff);
        delete_where!(t.gates, |open_at| *open_at < counter_cutoff);
        Ok(deleted)
    }
}

#[async_trait]
impl HealthStore for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// No pool: nothing open, nothing in use.
    fn pool_stats(&self) -> PoolStats {
        PoolStats::default()
    }
}
