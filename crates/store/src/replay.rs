//! Single-use ids (DPoP `jti`s) on SQLite: decided in memory, persisted in batches.
//!
//! SQLite serves exactly one node (a second is refused), so the node's memory sees every use
//! and decides exactly, without a write per request on SQLite's single writer: a DPoP proof
//! per token request would otherwise make that writer the bottleneck. The ids are written to
//! `spent_jtis` in batches (at most every [`FLUSH_EVERY`], or [`FLUSH_AT`] ids), and read back
//! when the store first spends one, so a restart forgets only what the last moments spent
//! (their proofs' `iat` window is a minute). PostgreSQL, shared by many nodes, decides in the
//! database with a conditional insert instead.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use portcullis_core::hash::SecretHash;
use portcullis_core::store::StoreError;
use portcullis_core::time::UnixTime;
use sqlx::SqlitePool;

use crate::db_error;

/// The longest pending ids wait before they are written.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// So many pending ids are written at once, whatever the time.
pub(crate) const FLUSH_AT: usize = 256;
/// Rows per INSERT statement (two parameters each, far below SQLite's limit).
const ROWS_PER_STATEMENT: usize = 500;

#[derive(Debug, Default)]
struct State {
    loaded: bool,
    /// Every id spent and not yet forgotten (by digest, 32 bytes whatever the id's length) →
    /// until when it is kept.
    seen: HashMap<SecretHash, i64>,
    /// The same ids in the order they were spent, to forget the lapsed ones as time passes:
    /// memory stays bounded by what the last minute or two spent, whatever the rate.
    order: VecDeque<(i64, SecretHash)>,
    /// Spent ids not yet written.
    pending: Vec<(String, i64)>,
    last_flush: Option<Instant>,
}

/// The node's single-use ids.
#[derive(Debug, Default)]
pub(crate) struct LocalReplay {
    state: Mutex<State>,
    /// Held by the one caller writing a batch.
    flushing: tokio::sync::Mutex<()>,
}

impl LocalReplay {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `id` at `now` until `expires_at`; `false` when it was spent before.
    pub(crate) async fn spend(
        &self,
        pool: &SqlitePool,
        id: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<bool, StoreError> {
        if !self.lock().loaded {
            self.load(pool).await?;
        }
        let due = {
            let mut state = self.lock();
            state.forget_before(now.0);
            let digest = SecretHash::of(id);
            if state.seen.contains_key(&digest) {
                return Ok(false);
            }
            state.seen.insert(digest.clone(), expires_at.0);
            state.order.push_back((expires_at.0, digest));
            state.pending.push((id.to_owned(), expires_at.0));
            state.pending.len() >= FLUSH_AT
                || state
                    .last_flush
                    .is_none_or(|at| at.elapsed() >= FLUSH_EVERY)
        };
        // The decision is made; a batch that cannot be written now stays pending for the next
        // one (and shutdown), rather than failing a request the memory has already answered.
        if due && let Err(error) = self.flush(pool).await {
            tracing::warn!(%error, "spent DPoP ids not written yet; kept for the next batch");
        }
        Ok(true)
    }

    /// Reads the ids spent before this process started.
    async fn load(&self, pool: &SqlitePool) -> Result<(), StoreError> {
        let _one = self.flushing.lock().await;
        if self.lock().loaded {
            return Ok(());
        }
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT id, expires_at FROM spent_jtis")
            .fetch_all(pool)
            .await
            .map_err(db_error)?;
        let mut state = self.lock();
        for (id, expires_at) in rows {
            let digest = SecretHash::of(&id);
            if !state.seen.contains_key(&digest) {
                state.seen.insert(digest.clone(), expires_at);
                state.order.push_back((expires_at, digest));
            }
        }
        state.loaded = true;
        Ok(())
    }

    /// Writes the pending ids, unless another caller is writing already.
    pub(crate) async fn flush(&self, pool: &SqlitePool) -> Result<(), StoreError> {
        let Ok(_one) = self.flushing.try_lock() else {
            return Ok(());
        };
        self.write_pending(pool).await
    }

    /// Writes the pending ids, waiting for a batch being written first.
    pub(crate) async fn flush_all(&self, pool: &SqlitePool) -> Result<(), StoreError> {
        let _one = self.flushing.lock().await;
        self.write_pending(pool).await
    }

    async fn write_pending(&self, pool: &SqlitePool) -> Result<(), StoreError> {
        let pending = {
            let mut state = self.lock();
            state.last_flush = Some(Instant::now());
            std::mem::take(&mut state.pending)
        };
        if pending.is_empty() {
            return Ok(());
        }
        let written = async {
            let mut tx = pool.begin().await?;
            for chunk in pending.chunks(ROWS_PER_STATEMENT) {
                let values = vec!["(?, ?)"; chunk.len()].join(", ");
                let sql = format!(
                    "INSERT INTO spent_jtis (id, expires_at) VALUES {values} \
                     ON CONFLICT (id) DO NOTHING"
                );
                // Only placeholders are formatted in; the values are bound.
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (id, expires_at) in chunk {
                    query = query.bind(id).bind(expires_at);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(error) = written {
            // Kept for the next batch: the decision in memory stands either way.
            self.lock().pending.extend(pending);
            return Err(db_error(error));
        }
        Ok(())
    }

    /// Forgets the ids kept until before `now`.
    pub(crate) fn forget_lapsed(&self, now: UnixTime) {
        let mut state = self.lock();
        state.seen.retain(|_, until| *until >= now.0);
        let State { seen, order, .. } = &mut *state;
        order.retain(|(_, id)| seen.contains_key(id));
    }

    /// How many ids are kept (for tests of the bound).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().seen.len()
    }
}

impl State {
    /// Forgets ids from the front of the spending order while they lapsed before `now`. The
    /// order is nearly by expiry (a proof's `iat` may be up to a minute old), so an id may
    /// outlive its expiry by that much, never the reverse.
    fn forget_before(&mut self, now: i64) {
        while self.order.front().is_some_and(|(until, _)| *until < now) {
            if let Some((until, id)) = self.order.pop_front()
                && self.seen.get(&id) == Some(&until)
            {
                self.seen.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use portcullis_core::store::ReplayStore as _;
    use portcullis_core::time::UnixTime;

    #[tokio::test]
    async fn memory_holds_only_the_ids_that_could_still_be_replayed() {
        let db = crate::testing::TestDatabase::sqlite().unwrap();
        let store = db.store().await.unwrap();
        // 100 ids a second for ten minutes, each kept for 61 seconds.
        for second in 0..600 {
            for n in 0..100 {
                let now = UnixTime(second);
                let id = format!("dpop:k:{second}:{n}");
                assert!(store.spend_once(&id, now, now.plus(61)).await.unwrap());
            }
        }
        assert!(store.replay.len() <= 62 * 100, "{}", store.replay.len());
        // What is kept is still refused.
        assert!(
            !store
                .spend_once("dpop:k:599:0", UnixTime(600), UnixTime(700))
                .await
                .unwrap()
        );
        store.close().await;
    }

    #[tokio::test]
    async fn a_batch_that_cannot_be_written_fails_no_request_and_decisions_stand() {
        let db = crate::testing::TestDatabase::sqlite().unwrap();
        let store = db.store().await.unwrap();
        assert!(
            store
                .spend_once("first", UnixTime(0), UnixTime(60))
                .await
                .unwrap()
        );
        // The database goes away: batches can no longer be written.
        store.close().await;
        for n in 0..300 {
            let id = format!("after-{n}");
            assert!(
                store
                    .spend_once(&id, UnixTime(0), UnixTime(60))
                    .await
                    .unwrap()
            );
        }
        assert!(
            !store
                .spend_once("after-7", UnixTime(0), UnixTime(60))
                .await
                .unwrap()
        );
        assert!(
            !store
                .spend_once("first", UnixTime(0), UnixTime(60))
                .await
                .unwrap()
        );
    }
}
