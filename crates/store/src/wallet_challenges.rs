//! Wallet-ownership challenges (`BankStore`'s challenge methods): stored by nonce hash, consumed
//! once by a conditional update in the transaction that links the wallet.

use portcullis_core::banking::ownership::OPEN_CHALLENGES;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{StoreError, WalletChallengeRecord, WalletRecord};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ProfileId, UserId};

use crate::rows::{corrupt, digest};
use crate::{SqlStore, db_error, on_reader, on_writer};

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    nonce_hash: Vec<u8>,
    user_id: String,
    profile_id: String,
    chain: String,
    address: String,
    issued_at: i64,
    expires_at: i64,
    consumed_at: Option<i64>,
}

impl TryFrom<ChallengeRow> for WalletChallengeRecord {
    type Error = StoreError;

    fn try_from(row: ChallengeRow) -> Result<Self, Self::Error> {
        Ok(Self {
            nonce_hash: digest("wallet_challenges.nonce_hash", &row.nonce_hash)?,
            user_id: UserId::new(row.user_id),
            profile_id: ProfileId::new(row.profile_id),
            chain: row
                .chain
                .parse()
                .map_err(|e| corrupt("wallet_challenges.chain", e))?,
            address: row.address,
            issued_at: UnixTime(row.issued_at),
            expires_at: UnixTime(row.expires_at),
            consumed_at: row.consumed_at.map(UnixTime),
        })
    }
}

pub(crate) async fn insert(
    store: &SqlStore,
    challenge: &WalletChallengeRecord,
) -> Result<(), StoreError> {
    // Keeps the profile's newest `OPEN_CHALLENGES - 1` open challenges and retires the rest,
    // then adds the new one: one transaction, so the bound holds whoever asks at once.
    const RETIRE: &str = "DELETE FROM wallet_challenges WHERE profile_id = $1 \
        AND consumed_at IS NULL AND nonce_hash NOT IN (SELECT nonce_hash FROM wallet_challenges \
        WHERE profile_id = $1 AND consumed_at IS NULL \
        ORDER BY issued_at DESC, nonce_hash DESC LIMIT $2)";
    const INSERT: &str = "INSERT INTO wallet_challenges (nonce_hash, user_id, profile_id, chain, \
        address, issued_at, expires_at, consumed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let keep = i64::try_from(OPEN_CHALLENGES.saturating_sub(1)).unwrap_or(i64::MAX);
    on_writer!(store, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query(RETIRE)
            .bind(challenge.profile_id.as_str())
            .bind(keep)
            .execute(&mut *tx)
            .await?;
        sqlx::query(INSERT)
            .bind(challenge.nonce_hash.as_bytes())
            .bind(challenge.user_id.as_str())
            .bind(challenge.profile_id.as_str())
            .bind(challenge.chain.as_str())
            .bind(&challenge.address)
            .bind(challenge.issued_at.0)
            .bind(challenge.expires_at.0)
            .bind(challenge.consumed_at.map(|t| t.0))
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
    .await)
    .map_err(db_error)
}

pub(crate) async fn get(
    store: &SqlStore,
    nonce_hash: &SecretHash,
) -> Result<Option<WalletChallengeRecord>, StoreError> {
    const SQL: &str = "SELECT nonce_hash, user_id, profile_id, chain, address, issued_at, \
        expires_at, consumed_at FROM wallet_challenges WHERE nonce_hash = $1";
    let row = on_reader!(store, |pool| sqlx::query_as::<_, ChallengeRow>(SQL)
        .bind(nonce_hash.as_bytes())
        .fetch_optional(pool)
        .await)
    .map_err(db_error)?;
    row.map(WalletChallengeRecord::try_from).transpose()
}

pub(crate) async fn link(
    store: &SqlStore,
    nonce_hash: &SecretHash,
    now: UnixTime,
    wallet: &WalletRecord,
) -> Result<bool, StoreError> {
    // The conditional UPDATE is the single point of decision: of two racing proofs with one
    // message (on one node or two), exactly one changes the row.
    const CONSUME: &str = "UPDATE wallet_challenges SET consumed_at = $2 \
        WHERE nonce_hash = $1 AND consumed_at IS NULL AND expires_at > $2";
    const INSERT: &str = "INSERT INTO wallets (id, profile_id, chain, address, created_at) \
        VALUES ($1, $2, $3, $4, $5)";
    on_writer!(store, |pool| async {
        let mut tx = pool.begin().await?;
        let consumed = sqlx::query(CONSUME)
            .bind(nonce_hash.as_bytes())
            .bind(now.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if consumed != 1 {
            tx.rollback().await?;
            return Ok::<_, sqlx::Error>(false);
        }
        sqlx::query(INSERT)
            .bind(&wallet.id)
            .bind(wallet.profile_id.as_str())
            .bind(wallet.chain.as_str())
            .bind(&wallet.address)
            .bind(wallet.created_at.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
    .await)
    .map_err(db_error)
}
