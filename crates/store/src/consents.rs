use async_trait::async_trait;
use portcullis_core::store::{ConsentRecord, ConsentStore, StoreError};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, ProfileId, UserId};

use crate::rows::scope;
use crate::{SqlStore, db_error, execute, on_reader};

#[derive(sqlx::FromRow)]
struct ConsentRow {
    user_id: String,
    client_id: String,
    scope: String,
    profile_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ConsentRow> for ConsentRecord {
    type Error = StoreError;

    fn try_from(row: ConsentRow) -> Result<Self, Self::Error> {
        Ok(Self {
            user_id: UserId::new(row.user_id),
            client_id: ClientId::new(row.client_id),
            scope: scope("consents.scope", &row.scope)?,
            profile_id: row.profile_id.map(ProfileId::new),
            created_at: UnixTime(row.created_at),
            updated_at: UnixTime(row.updated_at),
        })
    }
}

#[async_trait]
impl ConsentStore for SqlStore {
    async fn consent(
        &self,
        user: &UserId,
        client: &ClientId,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        const SQL: &str = "SELECT user_id, client_id, scope, profile_id, created_at, updated_at \
            FROM consents WHERE user_id = $1 AND client_id = $2";
        let row = on_reader!(self, |pool| sqlx::query_as::<_, ConsentRow>(SQL)
            .bind(user.as_str())
            .bind(client.as_str())
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(ConsentRecord::try_from).transpose()
    }

    async fn put_consent(&self, consent: &ConsentRecord) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO consents (user_id, client_id, scope, profile_id, created_at, \
            updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id, client_id) DO UPDATE \
            SET scope = excluded.scope, profile_id = excluded.profile_id, \
            updated_at = excluded.updated_at";
        execute!(
            self,
            sqlx::query(SQL)
                .bind(consent.user_id.as_str())
                .bind(consent.client_id.as_str())
                .bind(consent.scope.to_string())
                .bind(consent.profile_id.as_ref().map(ProfileId::as_str))
                .bind(consent.created_at.0)
                .bind(consent.updated_at.0)
        )?;
        Ok(())
    }

    async fn delete_consent(&self, user: &UserId, client: &ClientId) -> Result<bool, StoreError> {
        const SQL: &str = "DELETE FROM consents WHERE user_id = $1 AND client_id = $2";
        Ok(execute!(
            self,
            sqlx::query(SQL).bind(user.as_str()).bind(client.as_str())
        )? == 1)
    }

    async fn consents_of(&self, user: &UserId) -> Result<Vec<ConsentRecord>, StoreError> {
        const SQL: &str = "SELECT user_id, client_id, scope, profile_id, created_at, updated_at \
            FROM consents WHERE user_id = $1 ORDER BY created_at, client_id";
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, ConsentRow>(SQL)
            .bind(user.as_str())
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        rows.into_iter().map(ConsentRecord::try_from).collect()
    }
}
