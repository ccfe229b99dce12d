use async_trait::async_trait;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{CodeRecord, CodeStore, GrantRecord, RefreshTokenRecord, StoreError};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, GrantId, ProfileId, UserId};

use crate::grants::{INSERT_GRANT, INSERT_REFRESH, bind_grant, bind_refresh};
use crate::rows::{challenge, digest, scope};
use crate::{SqlStore, db_error, execute, on_reader, on_writer};

#[derive(sqlx::FromRow)]
struct CodeRow {
    code_hash: Vec<u8>,
    client_id: String,
    user_id: String,
    redirect_uri: String,
    redirect_uri_given: bool,
    scope: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    profile_id: Option<String>,
    auth_time: i64,
    created_at: i64,
    expires_at: i64,
    redeemed_at: Option<i64>,
    grant_id: Option<String>,
    sid: Option<String>,
    dpop_jkt: Option<String>,
}

impl TryFrom<CodeRow> for CodeRecord {
    type Error = StoreError;

    fn try_from(row: CodeRow) -> Result<Self, Self::Error> {
        Ok(Self {
            hash: digest("authorization_codes.code_hash", &row.code_hash)?,
            client_id: ClientId::new(row.client_id),
            user_id: UserId::new(row.user_id),
            redirect_uri: row.redirect_uri,
            redirect_uri_given: row.redirect_uri_given,
            scope: scope("authorization_codes.scope", &row.scope)?,
            challenge: challenge(
                "authorization_codes.code_challenge",
                row.code_challenge,
                row.code_challenge_method,
            )?,
            nonce: row.nonce,
            profile_id: row.profile_id.map(ProfileId::new),
            auth_time: UnixTime(row.auth_time),
            created_at: UnixTime(row.created_at),
            expires_at: UnixTime(row.expires_at),
            redeemed_at: row.redeemed_at.map(UnixTime),
            grant_id: row.grant_id.map(GrantId::new),
            sid: row.sid,
            dpop_jkt: row.dpop_jkt,
        })
    }
}

#[async_trait]
impl CodeStore for SqlStore {
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO authorization_codes (code_hash, client_id, user_id, \
            redirect_uri, redirect_uri_given, scope, code_challenge, code_challenge_method, nonce, \
            profile_id, auth_time, created_at, expires_at, redeemed_at, grant_id, sid, dpop_jkt) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
        execute!(
            self,
            sqlx::query(SQL)
                .bind(code.hash.as_bytes())
                .bind(code.client_id.as_str())
                .bind(code.user_id.as_str())
                .bind(&code.redirect_uri)
                .bind(code.redirect_uri_given)
                .bind(code.scope.to_string())
                .bind(code.challenge.as_ref().map(|c| c.challenge.as_str()))
                .bind(code.challenge.as_ref().map(|c| c.method.as_str()))
                .bind(code.nonce.as_deref())
                .bind(code.profile_id.as_ref().map(ProfileId::as_str))
                .bind(code.auth_time.0)
                .bind(code.created_at.0)
                .bind(code.expires_at.0)
                .bind(code.redeemed_at.map(|t| t.0))
                .bind(code.grant_id.as_ref().map(GrantId::as_str))
                .bind(code.sid.as_deref())
                .bind(code.dpop_jkt.as_deref())
        )?;
        Ok(())
    }

    async fn code(&self, hash: &SecretHash) -> Result<Option<CodeRecord>, StoreError> {
        const SQL: &str = "SELECT code_hash, client_id, user_id, redirect_uri, redirect_uri_given, \
            scope, code_challenge, code_challenge_method, nonce, profile_id, auth_time, created_at, \
            expires_at, redeemed_at, grant_id, sid, dpop_jkt FROM authorization_codes \
            WHERE code_hash = $1";
        let row = on_reader!(self, |pool| sqlx::query_as::<_, CodeRow>(SQL)
            .bind(hash.as_bytes())
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(CodeRecord::try_from).transpose()
    }

    async fn redeem_code(
        &self,
        hash: &SecretHash,
        now: UnixTime,
        grant: &GrantRecord,
        refresh: Option<&RefreshTokenRecord>,
    ) -> Result<bool, StoreError> {
        // The conditional UPDATE is the single point of decision: of two racing redemptions
        // (on one node or two), exactly one changes the row.
        // It also re-checks, in the same statement, that the user is enabled and still
        // consents: a revocation that committed first leaves nothing to redeem (see
        // `end_access`).
        const CONSUME: &str = "UPDATE authorization_codes SET redeemed_at = $2, grant_id = $3 \
            WHERE code_hash = $1 AND redeemed_at IS NULL AND expires_at > $2 \
            AND EXISTS (SELECT 1 FROM users WHERE users.id = authorization_codes.user_id \
                        AND users.disabled = $4) \
            AND EXISTS (SELECT 1 FROM consents \
                        WHERE consents.user_id = authorization_codes.user_id \
                        AND consents.client_id = authorization_codes.client_id)";
        on_writer!(self, |pool| async {
            let mut tx = pool.begin().await?;
            let consumed = sqlx::query(CONSUME)
                .bind(hash.as_bytes())
                .bind(now.0)
                .bind(grant.id.as_str())
                .bind(false)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if consumed != 1 {
                tx.rollback().await?;
                return Ok::<_, sqlx::Error>(false);
            }
            bind_grant!(sqlx::query(INSERT_GRANT), grant)
                .execute(&mut *tx)
                .await?;
            if let Some(refresh) = refresh {
                bind_refresh!(sqlx::query(INSERT_REFRESH), refresh)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
        }
        .await)
        .map_err(db_error)
    }
}
