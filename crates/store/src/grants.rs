use async_trait::async_trait;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{
    Ended, Ending, GrantRecord, GrantStore, RefreshTokenRecord, RefreshTokenStore, StoreError,
};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, GrantId, ProfileId, UserId};

use crate::rows::{digest, scope};
use crate::{SqlStore, db_error, execute, on_reader, on_writer};

pub(crate) const INSERT_GRANT: &str = "INSERT INTO grants (id, user_id, client_id, scope, \
    profile_id, auth_time, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens (token_hash, grant_id, \
    client_id, scope, created_at, expires_at, rotated_at, jkt) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Binds a grant in the order of [`INSERT_GRANT`].
macro_rules! bind_grant {
    ($query:expr, $grant:expr) => {
        $query
            .bind($grant.id.as_str())
            .bind($grant.user_id.as_str())
            .bind($grant.client_id.as_str())
            .bind($grant.scope.to_string())
            .bind(
                $grant
                    .profile_id
                    .as_ref()
                    .map(portcullis_proto::ProfileId::as_str),
            )
            .bind($grant.auth_time.0)
            .bind($grant.created_at.0)
            .bind($grant.revoked_at.map(|t| t.0))
    };
}

/// Binds a refresh token in the order of [`INSERT_REFRESH`].
macro_rules! bind_refresh {
    ($query:expr, $token:expr) => {
        $query
            .bind($token.hash.as_bytes())
            .bind($token.grant_id.as_str())
            .bind($token.client_id.as_str())
            .bind($token.scope.to_string())
            .bind($token.created_at.0)
            .bind($token.expires_at.0)
            .bind($token.rotated_at.map(|t| t.0))
            .bind($token.jkt.as_deref())
    };
}

pub(crate) use {bind_grant, bind_refresh};

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: String,
    user_id: String,
    client_id: String,
    scope: String,
    profile_id: Option<String>,
    auth_time: i64,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl TryFrom<GrantRow> for GrantRecord {
    type Error = StoreError;

    fn try_from(row: GrantRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: GrantId::new(row.id),
            user_id: UserId::new(row.user_id),
            client_id: ClientId::new(row.client_id),
            scope: scope("grants.scope", &row.scope)?,
            profile_id: row.profile_id.map(ProfileId::new),
            auth_time: UnixTime(row.auth_time),
            created_at: UnixTime(row.created_at),
            revoked_at: row.revoked_at.map(UnixTime),
        })
    }
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    token_hash: Vec<u8>,
    grant_id: String,
    client_id: String,
    scope: String,
    created_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
    jkt: Option<String>,
}

impl TryFrom<RefreshRow> for RefreshTokenRecord {
    type Error = StoreError;

    fn try_from(row: RefreshRow) -> Result<Self, Self::Error> {
        Ok(Self {
            hash: digest("refresh_tokens.token_hash", &row.token_hash)?,
            grant_id: GrantId::new(row.grant_id),
            client_id: ClientId::new(row.client_id),
            scope: scope("refresh_tokens.scope", &row.scope)?,
            created_at: UnixTime(row.created_at),
            expires_at: UnixTime(row.expires_at),
            rotated_at: row.rotated_at.map(UnixTime),
            jkt: row.jkt,
        })
    }
}

#[async_trait]
impl GrantStore for SqlStore {
    async fn grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, StoreError> {
        const SQL: &str = "SELECT id, user_id, client_id, scope, profile_id, auth_time, created_at, \
            revoked_at FROM grants WHERE id = $1";
        let row = on_reader!(self, |pool| sqlx::query_as::<_, GrantRow>(SQL)
            .bind(id.as_str())
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(GrantRecord::try_from).transpose()
    }

    async fn revoke_grant(&self, id: &GrantId, now: UnixTime) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
        Ok(execute!(self, sqlx::query(SQL).bind(id.as_str()).bind(now.0))? == 1)
    }

    async fn revoke_grants_of(
        &self,
        user: &UserId,
        client: Option<&ClientId>,
        now: UnixTime,
    ) -> Result<u64, StoreError> {
        const SQL: &str = "UPDATE grants SET revoked_at = $2 WHERE user_id = $1 \
            AND revoked_at IS NULL AND ($3 = '' OR client_id = $3)";
        let client = client.map_or("", ClientId::as_str);
        execute!(
            self,
            sqlx::query(SQL)
                .bind(user.as_str())
                .bind(now.0)
                .bind(client)
        )
    }

    async fn end_access(&self, ending: &Ending, now: UnixTime) -> Result<Ended, StoreError> {
        const FORGET_CONSENT: &str = "DELETE FROM consents WHERE user_id = $1 AND client_id = $2";
        const DISABLE_USER: &str = "UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1";
        const END_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";
        // Codes go before grants: on PostgreSQL a redemption that holds the code's row makes
        // this wait for it, and the grant it made is then revoked by the statement after.
        const DELETE_CODES: &str = "DELETE FROM authorization_codes WHERE user_id = $1 \
            AND redeemed_at IS NULL AND ($2 = '' OR client_id = $2)";
        const REVOKE_GRANTS: &str = "UPDATE grants SET revoked_at = $2 WHERE user_id = $1 \
            AND revoked_at IS NULL AND ($3 = '' OR client_id = $3)";
        let (user, client) = match ending {
            Ending::App { user, client } => (user, client.as_str()),
            Ending::User(user) => (user, ""),
        };
        on_writer!(self, |pool| async {
            let mut tx = pool.begin().await?;
            let mut ended = Ended::default();
            match ending {
                Ending::App { .. } => {
                    ended.consents = sqlx::query(FORGET_CONSENT)
                        .bind(user.as_str())
                        .bind(client)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                Ending::User(_) => {
                    sqlx::query(DISABLE_USER)
                        .bind(user.as_str())
                        .bind(true)
                        .bind(now.0)
                        .execute(&mut *tx)
                        .await?;
                    ended.sessions = sqlx::query(END_SESSIONS)
                        .bind(user.as_str())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
            }
            ended.codes = sqlx::query(DELETE_CODES)
                .bind(user.as_str())
                .bind(client)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            ended.grants = sqlx::query(REVOKE_GRANTS)
                .bind(user.as_str())
                .bind(now.0)
                .bind(client)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok::<_, sqlx::Error>(ended)
        }
        .await)
        .map_err(db_error)
    }
}

#[async_trait]
impl RefreshTokenStore for SqlStore {
    async fn refresh_token(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        const SQL: &str = "SELECT token_hash, grant_id, client_id, scope, created_at, expires_at, \
            rotated_at, jkt FROM refresh_tokens WHERE token_hash = $1";
        let row = on_reader!(self, |pool| sqlx::query_as::<_, RefreshRow>(SQL)
            .bind(hash.as_bytes())
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(RefreshTokenRecord::try_from).transpose()
    }

    async fn rotate_refresh_token(
        &self,
        old: &SecretHash,
        now: UnixTime,
        new: &RefreshTokenRecord,
    ) -> Result<bool, StoreError> {
        // As with codes, the conditional UPDATE decides: at most one successor per token.
        const ROTATE: &str = "UPDATE refresh_tokens SET rotated_at = $2 \
            WHERE token_hash = $1 AND rotated_at IS NULL AND expires_at > $2 \
            AND EXISTS (SELECT 1 FROM grants WHERE grants.id = refresh_tokens.grant_id \
                        AND grants.revoked_at IS NULL)";
        on_writer!(self, |pool| async {
            let mut tx = pool.begin().await?;
            let rotated = sqlx::query(ROTATE)
                .bind(old.as_bytes())
                .bind(now.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if rotated != 1 {
                tx.rollback().await?;
                return Ok::<_, sqlx::Error>(false);
            }
            bind_refresh!(sqlx::query(INSERT_REFRESH), new)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        }
        .await)
        .map_err(db_error)
    }
}
