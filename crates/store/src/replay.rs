//! Single-use ids (DPoP `jti`s) on SQLite: decided in memory, persisted in batches.
//!
//! SQLite serves exactly one node (a second is refused), so the node's memory sees every use
//! and decides exactly, without a write per request on SQLite's single writer: a DPoP proof
//! per token request would otherwise make that writer the bottleneck. The ids are written to
//! `spent_jtis` in batches (at most every [`FLUSH_EVERY`], or [`FLUSH_AT`] ids), and read back
//! when the store first spends one, so a restart forgets only what the last moments spent
//! (their proofs' `iat` window is a minute). PostgreSQL, shared by many nodes, decides in the
//! database with a conditional insert instead.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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
    /// Every id spent and not yet forgotten → until when it is kept.
    seen: HashMap<String, i64>,
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

    /// Records `id` until `expires_at`; `false` when it was spent before.
    pub(crate) async fn spend(
        &self,
        pool: &SqlitePool,
        id: &str,
        expires_at: UnixTime,
    ) -> Result<bool, StoreError> {
        if !self.lock().loaded {
            self.load(pool).await?;
        }
        let due = {
            let mut state = self.lock();
            if state.seen.contains_key(id) {
                return Ok(false);
            }
            state.seen.insert(id.to_owned(), expires_at.0);
            state.pending.push((id.to_owned(), expires_at.0));
            state.pending.len() >= FLUSH_AT
                || state
                    .last_flush
                    .is_none_or(|at| at.elapsed() >= FLUSH_EVERY)
        };
        if due {
            self.flush(pool).await?;
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
            state.seen.entry(id).or_insert(expires_at);
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
        self.lock().seen.retain(|_, until| *until >= now.0);
    }
}
