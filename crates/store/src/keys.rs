use async_trait::async_trait;
use portcullis_core::keys::StoredKey;
use portcullis_core::store::{KeyStore, StoreError};
use portcullis_core::time::UnixTime;
use portcullis_proto::KeyId;

use crate::rows::corrupt;
use crate::{SqlStore, db_error, execute, on_reader};

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    created_at: i64,
    activates_at: i64,
    kek_fingerprint: String,
    wrapped_private_key: Vec<u8>,
}

impl TryFrom<KeyRow> for StoredKey {
    type Error = StoreError;

    fn try_from(row: KeyRow) -> Result<Self, Self::Error> {
        Ok(Self {
            alg: row
                .alg
                .parse()
                .map_err(|e| corrupt("signing_keys.alg", e))?,
            kid: KeyId::new(row.kid),
            created_at: UnixTime(row.created_at),
            activates_at: UnixTime(row.activates_at),
            kek_fingerprint: row.kek_fingerprint,
            wrapped_private_key: row.wrapped_private_key,
        })
    }
}

#[async_trait]
impl KeyStore for SqlStore {
    async fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO signing_keys \
            (kid, alg, created_at, activates_at, kek_fingerprint, wrapped_private_key) \
            VALUES ($1, $2, $3, $4, $5, $6)";
        execute!(
            self,
            sqlx::query(SQL)
                .bind(key.kid.as_str())
                .bind(key.alg.as_str())
                .bind(key.created_at.0)
                .bind(key.activates_at.0)
                .bind(&key.kek_fingerprint)
                .bind(&key.wrapped_private_key)
        )?;
        Ok(())
    }

    async fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        const SQL: &str = "SELECT kid, alg, created_at, activates_at, kek_fingerprint, \
            wrapped_private_key FROM signing_keys ORDER BY activates_at, kid";
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, KeyRow>(SQL)
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        rows.into_iter().map(StoredKey::try_from).collect()
    }

    async fn delete_keys(&self, kids: &[KeyId]) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM signing_keys WHERE kid = $1";
        let mut deleted = 0;
        for kid in kids {
            deleted += execute!(self, sqlx::query(SQL).bind(kid.as_str()))?;
        }
        Ok(deleted)
    }
}
