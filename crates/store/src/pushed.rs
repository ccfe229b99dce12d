use async_trait::async_trait;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{PushedRequestRecord, PushedRequestStore, StoreError};
use portcullis_core::time::UnixTime;
use portcullis_proto::ClientId;

use crate::rows::{corrupt, digest};
use crate::{SqlStore, db_error, execute, on_writer};

#[derive(sqlx::FromRow)]
struct PushedRow {
    id_hash: Vec<u8>,
    client_id: String,
    params: String,
    created_at: i64,
    expires_at: i64,
}

impl TryFrom<PushedRow> for PushedRequestRecord {
    type Error = StoreError;

    fn try_from(row: PushedRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id_hash: digest("pushed_requests.id_hash", &row.id_hash)?,
            client_id: ClientId::new(row.client_id),
            params: serde_json::from_str(&row.params)
                .map_err(|e| corrupt("pushed_requests.params", e))?,
            created_at: UnixTime(row.created_at),
            expires_at: UnixTime(row.expires_at),
        })
    }
}

#[async_trait]
impl PushedRequestStore for SqlStore {
    async fn insert_pushed_request(&self, request: &PushedRequestRecord) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO pushed_requests (id_hash, client_id, params, created_at, \
            expires_at) VALUES ($1, $2, $3, $4, $5)";
        // Pairs of strings always serialise.
        let params = serde_json::to_string(&request.params).unwrap_or_default();
        execute!(
            self,
            sqlx::query(SQL)
                .bind(request.id_hash.as_bytes())
                .bind(request.client_id.as_str())
                .bind(params)
                .bind(request.created_at.0)
                .bind(request.expires_at.0)
        )?;
        Ok(())
    }

    async fn take_pushed_request(
        &self,
        id_hash: &SecretHash,
        now: UnixTime,
    ) -> Result<Option<PushedRequestRecord>, StoreError> {
        // One statement decides: of two nodes deleting the same row, one gets it back.
        const SQL: &str = "DELETE FROM pushed_requests WHERE id_hash = $1 AND expires_at > $2 \
            RETURNING id_hash, client_id, params, created_at, expires_at";
        let row = on_writer!(self, |pool| sqlx::query_as::<_, PushedRow>(SQL)
            .bind(id_hash.as_bytes())
            .bind(now.0)
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(PushedRequestRecord::try_from).transpose()
    }
}
