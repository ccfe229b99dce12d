use async_trait::async_trait;
use portcullis_core::store::{MaintenanceStore, RateLimitStore, RevocationStore, StoreError};
use portcullis_core::time::UnixTime;

use crate::{SqlStore, db_error, execute, on_reader};

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
        // One statement: concurrent hits from several nodes each count exactly once.
        const SQL: &str = "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
            ON CONFLICT (key) DO UPDATE SET \
            count = CASE WHEN rate_limits.window_start = excluded.window_start \
                         THEN rate_limits.count + 1 ELSE 1 END, \
            window_start = excluded.window_start \
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
}

#[async_trait]
impl MaintenanceStore for SqlStore {
    async fn delete_expired(&self, now: UnixTime) -> Result<u64, StoreError> {
        const STATEMENTS: [(&str, i64); 6] = [
            (
                "DELETE FROM authorization_codes WHERE expires_at < $1",
                CODE_RETENTION_SECONDS,
            ),
            ("DELETE FROM sessions WHERE expires_at < $1", 0),
            (
                "DELETE FROM authorization_requests WHERE expires_at < $1",
                0,
            ),
            ("DELETE FROM revoked_access_tokens WHERE expires_at < $1", 0),
            ("DELETE FROM refresh_tokens WHERE expires_at < $1", 0),
            (
                "DELETE FROM rate_limits WHERE window_start < $1",
                COUNTER_RETENTION_SECONDS,
            ),
        ];
        let mut deleted = 0;
        for (sql, keep) in STATEMENTS {
            deleted += execute!(self, sqlx::query(sql).bind(now.0 - keep))?;
        }
        Ok(deleted)
    }
}
