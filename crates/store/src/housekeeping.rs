use async_trait::async_trait;
use portcullis_core::store::{
    CounterDelta, MaintenanceStore, RateLimitStore, RevocationStore, StoreError,
};
use portcullis_core::time::UnixTime;

use crate::{Backend, SqlStore, db_error, execute, on_reader};

/// How long a redeemed or expired code is kept, so that a late replay is still recognised as
/// reuse and revokes what the first redemption issued.
const CODE_RETENTION_SECONDS: i64 = 86_400;
/// How long a rate-limit counter outlives its window.
const COUNTER_RETENTION_SECONDS: i64 = 86_400;

#[async_trait]
impl RevocationStore for SqlStore {
    async fn revoke_access_token(&self, jti: &str, expires_at: UnixTime) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) \
            ON CONFLICT (jti) DO NOTHING";
        execute!(self, sqlx::query(SQL).bind(jti).bind(expires_at.0))?;
        Ok(())
    }

    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = $1";
        let count: i64 = on_reader!(self, |pool| sqlx::query_scalar(SQL)
            .bind(jti)
            .fetch_one(pool)
            .await)
        .map_err(db_error)?;
        Ok(count > 0)
    }
}

#[async_trait]
impl RateLimitStore for SqlStore {
    async fn hit(&self, key: &str, window_start: UnixTime) -> Result<u64, StoreError> {
        // One statement: concurrent hits from several nodes each count exactly once. A newer
        // window restarts the count; a hit from a node whose clock is behind (an older window)
        // counts in the newer one rather than resetting it.
        const SQL: &str = "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
            ON CONFLICT (key) DO UPDATE SET \
            count = CASE WHEN rate_limits.window_start < excluded.window_start \
                         THEN 1 ELSE rate_limits.count + 1 END, \
            window_start = CASE WHEN rate_limits.window_start < excluded.window_start \
                                THEN excluded.window_start ELSE rate_limits.window_start END \
            RETURNING count";
        let count: i64 = crate::on_writer!(self, |pool| sqlx::query_scalar(SQL)
            .bind(key)
            .bind(window_start.0)
            .fetch_one(pool)
            .await)
        .map_err(db_error)?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        const SQL: &str = "DELETE FROM rate_limits WHERE key = $1";
        execute!(self, sqlx::query(SQL).bind(key))?;
        Ok(())
    }

    async fn add(&self, deltas: &[CounterDelta]) -> Result<Vec<u64>, StoreError> {
        if deltas.is_empty() {
            return Ok(Vec::new());
        }
        let rows = match &self.backend {
            Backend::Postgres(pool) => add_postgres(pool, deltas).await,
            Backend::Sqlite { write, .. } => add_sqlite(write, deltas).await,
        }
        .map_err(db_error)?;
        // Each key's count, if its row is still in the delta's window.
        let totals = deltas
            .iter()
            .map(|d| {
                rows.iter()
                    .find(|(key, start, _)| *key == d.key && *start == d.window_start.0)
                    .map_or(0, |(_, _, count)| u64::try_from(*count).unwrap_or_default())
            })
            .collect();
        Ok(totals)
    }

    async fn count(&self, key: &str, window_start: UnixTime) -> Result<u64, StoreError> {
        const SQL: &str = "SELECT count FROM rate_limits WHERE key = $1 AND window_start = $2";
        let count: Option<i64> = on_reader!(self, |pool| sqlx::query_scalar(SQL)
            .bind(key)
            .bind(window_start.0)
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        Ok(count.map_or(0, |c| u64::try_from(c).unwrap_or_default()))
    }

    async fn pass_gate(
        &self,
        key: &str,
        now: UnixTime,
        close_until: UnixTime,
    ) -> Result<Option<UnixTime>, StoreError> {
        // One statement: the row is written only when the gate is open, so of several nodes
        // racing for it exactly one gets a row back.
        const PASS: &str = "INSERT INTO throttle_gates (key, open_at) VALUES ($1, $3) \
            ON CONFLICT (key) DO UPDATE SET open_at = excluded.open_at \
            WHERE throttle_gates.open_at <= $2 \
            RETURNING open_at";
        const OPEN_AT: &str = "SELECT open_at FROM throttle_gates WHERE key = $1";
        let passed: Option<i64> = crate::on_writer!(self, |pool| sqlx::query_scalar(PASS)
            .bind(key)
            .bind(now.0)
            .bind(close_until.0)
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        if passed.is_some() {
            return Ok(None);
        }
        let open_at: Option<i64> = crate::on_writer!(self, |pool| sqlx::query_scalar(OPEN_AT)
            .bind(key)
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        // Deleted in between (housekeeping): closed an instant ago, so say "retry now".
        Ok(Some(UnixTime(open_at.unwrap_or(now.0))))
    }
}

/// The upsert both dialects share: the same window adds up, a newer window restarts the
/// count, an older one (from a node whose clock is behind) changes nothing.
const ADD_CONFLICT: &str = "ON CONFLICT (key) DO UPDATE SET \
    count = CASE WHEN rate_limits.window_start = excluded.window_start \
                 THEN rate_limits.count + excluded.count \
                 WHEN rate_limits.window_start < excluded.window_start \
                 THEN excluded.count ELSE rate_limits.count END, \
    window_start = CASE WHEN rate_limits.window_start < excluded.window_start \
                        THEN excluded.window_start ELSE rate_limits.window_start END \
    RETURNING key, window_start, count";

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// One statement for the whole batch; rows are written in key order, so two nodes adding to
/// the same keys take the row locks in the same order and cannot deadlock.
async fn add_postgres(
    pool: &sqlx::PgPool,
    deltas: &[CounterDelta],
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    let mut sorted: Vec<&CounterDelta> = deltas.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let keys: Vec<String> = sorted.iter().map(|d| d.key.clone()).collect();
    let starts: Vec<i64> = sorted.iter().map(|d| d.window_start.0).collect();
    let counts: Vec<i64> = sorted.iter().map(|d| saturating_i64(d.count)).collect();
    let sql = format!(
        "INSERT INTO rate_limits (key, window_start, count) \
         SELECT d.key, d.window_start, d.count \
         FROM UNNEST($1::text[], $2::bigint[], $3::bigint[]) AS d(key, window_start, count) \
         ORDER BY d.key {ADD_CONFLICT}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(keys)
        .bind(starts)
        .bind(counts)
        .fetch_all(pool)
        .await
}

/// SQLite has one writer: a transaction of single-row upserts is one local call each.
async fn add_sqlite(
    pool: &sqlx::SqlitePool,
    deltas: &[CounterDelta],
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, $3) {ADD_CONFLICT}"
    );
    let mut tx = pool.begin().await?;
    let mut rows = Vec::with_capacity(deltas.len());
    for delta in deltas {
        let row: (String, i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(&delta.key)
            .bind(delta.window_start.0)
            .bind(saturating_i64(delta.count))
            .fetch_one(&mut *tx)
            .await?;
        rows.push(row);
    }
    tx.commit().await?;
    Ok(rows)
}

#[async_trait]
impl MaintenanceStore for SqlStore {
    async fn delete_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        const STATEMENTS: [(&str, i64); 11] = [
            (
                "DELETE FROM authorization_codes WHERE expires_at < $1",
                CODE_RETENTION_SECONDS,
            ),
            ("DELETE FROM sessions WHERE expires_at < $1", 0),
            // Written by versions before 0006 only; emptied as their requests expire.
            (
                "DELETE FROM authorization_requests WHERE expires_at < $1",
                0,
            ),
            (
                "DELETE FROM spent_authorization_requests WHERE expires_at < $1",
                0,
            ),
            ("DELETE FROM spent_jtis WHERE expires_at < $1", 0),
            ("DELETE FROM pushed_requests WHERE expires_at < $1", 0),
            ("DELETE FROM revoked_access_tokens WHERE expires_at < $1", 0),
            ("DELETE FROM refresh_tokens WHERE expires_at < $1", 0),
            ("DELETE FROM wallet_challenges WHERE expires_at < $1", 0),
            (
                "DELETE FROM rate_limits WHERE window_start < $1",
                COUNTER_RETENTION_SECONDS,
            ),
            (
                "DELETE FROM throttle_gates WHERE open_at < $1",
                COUNTER_RETENTION_SECONDS,
            ),
        ];
        // SQLite's spent ids live in memory first: write them, then forget the lapsed ones.
        if let crate::Backend::Sqlite { write, .. } = &self.backend {
            self.replay.flush_all(write).await?;
            self.replay.forget_lapsed(now);
        }
        let mut deleted = 0;
        for (sql, keep) in STATEMENTS {
            deleted += execute!(self, sqlx::query(sql).bind(now.0 - keep))?;
        }
        Ok(deleted)
    }
}
