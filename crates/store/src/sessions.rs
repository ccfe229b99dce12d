use async_trait::async_trait;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{
    AuthRequestStore, ReplayStore, SessionRecord, SessionStore, StoreError,
};
use portcullis_core::time::UnixTime;
use portcullis_proto::UserId;

use crate::rows::digest;
use crate::{SqlStore, db_error, execute, on_reader};

#[derive(sqlx::FromRow)]
struct SessionRow {
    id_hash: Vec<u8>,
    user_id: Option<String>,
    csrf_token: String,
    auth_time: Option<i64>,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id_hash: digest("sessions.id_hash", &row.id_hash)?,
            user_id: row.user_id.map(UserId::new),
            csrf_token: row.csrf_token,
            auth_time: row.auth_time.map(UnixTime),
            created_at: UnixTime(row.created_at),
            expires_at: UnixTime(row.expires_at),
        })
    }
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO sessions (id_hash, user_id, csrf_token, auth_time, \
            created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
        execute!(
            self,
            sqlx::query(SQL)
                .bind(session.id_hash.as_bytes())
                .bind(session.user_id.as_ref().map(UserId::as_str))
                .bind(&session.csrf_token)
                .bind(session.auth_time.map(|t| t.0))
                .bind(session.created_at.0)
                .bind(session.expires_at.0)
        )?;
        Ok(())
    }

    async fn session(&self, id_hash: &SecretHash) -> Result<Option<SessionRecord>, StoreError> {
        const SQL: &str = "SELECT id_hash, user_id, csrf_token, auth_time, created_at, expires_at \
            FROM sessions WHERE id_hash = $1";
        let row = on_reader!(self, |pool| sqlx::query_as::<_, SessionRow>(SQL)
            .bind(id_hash.as_bytes())
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(SessionRecord::try_from).transpose()
    }

    async fn delete_session(&self, id_hash: &SecretHash) -> Result<(), StoreError> {
        const SQL: &str = "DELETE FROM sessions WHERE id_hash = $1";
        execute!(self, sqlx::query(SQL).bind(id_hash.as_bytes()))?;
        Ok(())
    }

    async fn delete_sessions_of(&self, user: &UserId) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM sessions WHERE user_id = $1";
        execute!(self, sqlx::query(SQL).bind(user.as_str()))
    }
}

#[async_trait]
impl AuthRequestStore for SqlStore {
    async fn spend_auth_request(&self, id: &str, expires_at: UnixTime) -> Result<bool, StoreError> {
        // A conditional insert: of two callers racing, one inserts, the other changes nothing.
        const SQL: &str = "INSERT INTO spent_authorization_requests (id, expires_at) \
            VALUES ($1, $2) ON CONFLICT (id) DO NOTHING";
        Ok(execute!(self, sqlx::query(SQL).bind(id).bind(expires_at.0))? == 1)
    }

    async fn auth_request_spent(&self, id: &str) -> Result<bool, StoreError> {
        const SQL: &str = "SELECT 1 FROM spent_authorization_requests WHERE id = $1";
        let row: Option<(i32,)> = on_reader!(self, |pool| sqlx::query_as(SQL)
            .bind(id)
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        Ok(row.is_some())
    }
}

#[async_trait]
impl ReplayStore for SqlStore {
    async fn spend_once(
        &self,
        id: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<bool, StoreError> {
        match &self.backend {
            // One node: decided in its memory, written in batches (see `replay`).
            crate::Backend::Sqlite { write, .. } => {
                self.replay.spend(write, id, now, expires_at).await
            }
            // Many nodes: decided by the database. As for authorization requests: of two
            // callers racing, one inserts.
            crate::Backend::Postgres(pool) => {
                const SQL: &str = "INSERT INTO spent_jtis (id, expires_at) VALUES ($1, $2) \
                    ON CONFLICT (id) DO NOTHING";
                let inserted = sqlx::query(SQL)
                    .bind(id)
                    .bind(expires_at.0)
                    .execute(pool)
                    .await
                    .map_err(db_error)?;
                Ok(inserted.rows_affected() == 1)
            }
        }
    }
}
