use async_trait::async_trait;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{
    AuthRequestRecord, AuthRequestStore, SessionRecord, SessionStore, StoreError,
};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, UserId};

use crate::rows::{challenge, digest, scope};
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

#[derive(sqlx::FromRow)]
struct AuthRequestRow {
    id: String,
    client_id: String,
    redirect_uri: String,
    redirect_uri_given: bool,
    scope: String,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    prompt: String,
    max_age: Option<i64>,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<AuthRequestRow> for AuthRequestRecord {
    type Error = StoreError;

    fn try_from(row: AuthRequestRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.id,
            client_id: ClientId::new(row.client_id),
            redirect_uri: row.redirect_uri,
            redirect_uri_given: row.redirect_uri_given,
            scope: scope("authorization_requests.scope", &row.scope)?,
            state: row.state,
            challenge: challenge(
                "authorization_requests.code_challenge",
                row.code_challenge,
                row.code_challenge_method,
            )?,
            nonce: row.nonce,
            prompt: row.prompt,
            max_age: row.max_age,
            created_at: UnixTime(row.created_at),
            expires_at: UnixTime(row.expires_at),
        })
    }
}

#[async_trait]
impl AuthRequestStore for SqlStore {
    async fn insert_auth_request(&self, request: &AuthRequestRecord) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO authorization_requests (id, client_id, redirect_uri, \
            redirect_uri_given, scope, state, code_challenge, code_challenge_method, nonce, prompt, \
            max_age, created_at, expires_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
        execute!(
            self,
            sqlx::query(SQL)
                .bind(&request.id)
                .bind(request.client_id.as_str())
                .bind(&request.redirect_uri)
                .bind(request.redirect_uri_given)
                .bind(request.scope.to_string())
                .bind(request.state.as_deref())
                .bind(request.challenge.as_ref().map(|c| c.challenge.as_str()))
                .bind(request.challenge.as_ref().map(|c| c.method.as_str()))
                .bind(request.nonce.as_deref())
                .bind(&request.prompt)
                .bind(request.max_age)
                .bind(request.created_at.0)
                .bind(request.expires_at.0)
        )?;
        Ok(())
    }

    async fn auth_request(&self, id: &str) -> Result<Option<AuthRequestRecord>, StoreError> {
        const SQL: &str = "SELECT id, client_id, redirect_uri, redirect_uri_given, scope, state, \
            code_challenge, code_challenge_method, nonce, prompt, max_age, created_at, expires_at \
            FROM authorization_requests WHERE id = $1";
        let row = on_reader!(self, |pool| sqlx::query_as::<_, AuthRequestRow>(SQL)
            .bind(id)
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(AuthRequestRecord::try_from).transpose()
    }

    async fn delete_auth_request(&self, id: &str) -> Result<(), StoreError> {
        const SQL: &str = "DELETE FROM authorization_requests WHERE id = $1";
        execute!(self, sqlx::query(SQL).bind(id))?;
        Ok(())
    }
}
