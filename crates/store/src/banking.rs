use async_trait::async_trait;
use portcullis_core::banking::order::Order;
use portcullis_core::banking::profile::{KycState, Profile};
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{
    Balance, BankStore, IbanRecord, Page, PageRequest, StoreError, WalletChallengeRecord,
    WalletRecord,
};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, ProfileId, UserId};

use crate::rows::{after, corrupt, fetch_limit, into_page};
use crate::{SqlStore, db_error, execute, on_reader, on_writer};

macro_rules! select_profiles {
    ($rest:literal) => {
        concat!(
            "SELECT profiles.id, profiles.user_id, profiles.kind, profiles.name, profiles.kyc_state, \
             profiles.created_at, profiles.updated_at FROM profiles ",
            $rest
        )
    };
}

macro_rules! select_orders {
    ($rest:literal) => {
        concat!(
            "SELECT id, profile_id, client_id, kind, currency, amount, counterpart_iban, memo, state, \
             reason, idempotency_key, request_hash, created_at, updated_at FROM orders ",
            $rest
        )
    };
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    id: String,
    user_id: String,
    kind: String,
    name: String,
    kyc_state: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ProfileRow> for Profile {
    type Error = StoreError;

    fn try_from(row: ProfileRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: ProfileId::new(row.id),
            user_id: UserId::new(row.user_id),
            kind: row.kind.parse().map_err(|e| corrupt("profiles.kind", e))?,
            name: row.name,
            kyc: row
                .kyc_state
                .parse()
                .map_err(|e| corrupt("profiles.kyc_state", e))?,
            created_at: UnixTime(row.created_at),
            updated_at: UnixTime(row.updated_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct WalletRow {
    id: String,
    profile_id: String,
    chain: String,
    address: String,
    created_at: i64,
}

impl TryFrom<WalletRow> for WalletRecord {
    type Error = StoreError;

    fn try_from(row: WalletRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.id,
            profile_id: ProfileId::new(row.profile_id),
            chain: row.chain.parse().map_err(|e| corrupt("wallets.chain", e))?,
            address: row.address,
            created_at: UnixTime(row.created_at),
        })
    }
}

#[derive(sqlx::FromRow)]
struct IbanRow {
    iban: String,
    profile_id: String,
    wallet_id: String,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct BalanceRow {
    currency: String,
    amount: i64,
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: String,
    profile_id: String,
    client_id: String,
    kind: String,
    currency: String,
    amount: i64,
    counterpart_iban: Option<String>,
    memo: Option<String>,
    state: String,
    reason: Option<String>,
    idempotency_key: String,
    request_hash: Vec<u8>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<OrderRow> for Order {
    type Error = StoreError;

    fn try_from(row: OrderRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.id,
            profile_id: ProfileId::new(row.profile_id),
            client_id: ClientId::new(row.client_id),
            kind: row.kind.parse().map_err(|e| corrupt("orders.kind", e))?,
            currency: row
                .currency
                .parse()
                .map_err(|e| corrupt("orders.currency", e))?,
            amount: row.amount,
            counterpart_iban: row.counterpart_iban,
            memo: row.memo,
            state: row.state.parse().map_err(|e| corrupt("orders.state", e))?,
            reason: row.reason,
            idempotency_key: row.idempotency_key,
            request_hash: row
                .request_hash
                .try_into()
                .map_err(|_| corrupt("orders.request_hash", "not a SHA-256 digest"))?,
            created_at: UnixTime(row.created_at),
            updated_at: UnixTime(row.updated_at),
        })
    }
}

const INSERT_ORDER: &str = "INSERT INTO orders (id, profile_id, client_id, kind, currency, amount, \
    counterpart_iban, memo, state, reason, idempotency_key, request_hash, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

macro_rules! bind_order {
    ($query:expr, $order:expr) => {
        $query
            .bind(&$order.id)
            .bind($order.profile_id.as_str())
            .bind($order.client_id.as_str())
            .bind($order.kind.as_str())
            .bind($order.currency.as_str())
            .bind($order.amount)
            .bind($order.counterpart_iban.as_deref())
            .bind($order.memo.as_deref())
            .bind($order.state.as_str())
            .bind($order.reason.as_deref())
            .bind(&$order.idempotency_key)
            .bind($order.request_hash.as_slice())
            .bind($order.created_at.0)
            .bind($order.updated_at.0)
    };
}

fn profiles(rows: Vec<ProfileRow>) -> Result<Vec<Profile>, StoreError> {
    rows.into_iter().map(Profile::try_from).collect()
}

#[async_trait]
impl BankStore for SqlStore {
    async fn insert_profile(&self, profile: &Profile) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO profiles (id, user_id, kind, name, kyc_state, created_at, \
            updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        execute!(
            self,
            sqlx::query(SQL)
                .bind(profile.id.as_str())
                .bind(profile.user_id.as_str())
                .bind(profile.kind.as_str())
                .bind(&profile.name)
                .bind(profile.kyc.as_str())
                .bind(profile.created_at.0)
                .bind(profile.updated_at.0)
        )?;
        Ok(())
    }

    async fn profile(&self, id: &ProfileId) -> Result<Option<Profile>, StoreError> {
        const SQL: &str = select_profiles!("WHERE id = $1");
        let row = on_reader!(self, |pool| sqlx::query_as::<_, ProfileRow>(SQL)
            .bind(id.as_str())
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(Profile::try_from).transpose()
    }

    async fn profiles_of(&self, user: &UserId) -> Result<Vec<Profile>, StoreError> {
        const SQL: &str = select_profiles!("WHERE user_id = $1 ORDER BY created_at, id");
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, ProfileRow>(SQL)
            .bind(user.as_str())
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        profiles(rows)
    }

    async fn profiles_granted_to(&self, client: &ClientId) -> Result<Vec<Profile>, StoreError> {
        const SQL: &str = select_profiles!(
            "JOIN consents ON consents.profile_id = profiles.id AND consents.user_id = profiles.user_id \
             WHERE consents.client_id = $1 ORDER BY profiles.created_at, profiles.id"
        );
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, ProfileRow>(SQL)
            .bind(client.as_str())
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        profiles(rows)
    }

    async fn set_kyc(
        &self,
        id: &ProfileId,
        state: KycState,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE profiles SET kyc_state = $2, updated_at = $3 WHERE id = $1";
        Ok(execute!(
            self,
            sqlx::query(SQL)
                .bind(id.as_str())
                .bind(state.as_str())
                .bind(now.0)
        )? == 1)
    }

    async fn insert_wallet(&self, wallet: &WalletRecord) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO wallets (id, profile_id, chain, address, created_at) \
            VALUES ($1, $2, $3, $4, $5)";
        execute!(
            self,
            sqlx::query(SQL)
                .bind(&wallet.id)
                .bind(wallet.profile_id.as_str())
                .bind(wallet.chain.as_str())
                .bind(&wallet.address)
                .bind(wallet.created_at.0)
        )?;
        Ok(())
    }

    async fn insert_wallet_challenge(
        &self,
        challenge: &WalletChallengeRecord,
    ) -> Result<(), StoreError> {
        crate::wallet_challenges::insert(self, challenge).await
    }

    async fn wallet_challenge(
        &self,
        nonce_hash: &SecretHash,
    ) -> Result<Option<WalletChallengeRecord>, StoreError> {
        crate::wallet_challenges::get(self, nonce_hash).await
    }

    async fn link_wallet_with_challenge(
        &self,
        nonce_hash: &SecretHash,
        now: UnixTime,
        wallet: &WalletRecord,
    ) -> Result<bool, StoreError> {
        crate::wallet_challenges::link(self, nonce_hash, now, wallet).await
    }

    async fn wallets_of(&self, profile: &ProfileId) -> Result<Vec<WalletRecord>, StoreError> {
        const SQL: &str = "SELECT id, profile_id, chain, address, created_at FROM wallets \
            WHERE profile_id = $1 ORDER BY created_at, id";
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, WalletRow>(SQL)
            .bind(profile.as_str())
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        rows.into_iter().map(WalletRecord::try_from).collect()
    }

    async fn insert_iban(&self, iban: &IbanRecord) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO ibans (iban, profile_id, wallet_id, created_at) VALUES ($1, $2, $3, $4)";
        execute!(
            self,
            sqlx::query(SQL)
                .bind(&iban.iban)
                .bind(iban.profile_id.as_str())
                .bind(&iban.wallet_id)
                .bind(iban.created_at.0)
        )?;
        Ok(())
    }

    async fn ibans_of(&self, profile: &ProfileId) -> Result<Vec<IbanRecord>, StoreError> {
        const SQL: &str = "SELECT iban, profile_id, wallet_id, created_at FROM ibans \
            WHERE profile_id = $1 ORDER BY created_at, iban";
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, IbanRow>(SQL)
            .bind(profile.as_str())
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| IbanRecord {
                iban: r.iban,
                profile_id: ProfileId::new(r.profile_id),
                wallet_id: r.wallet_id,
                created_at: UnixTime(r.created_at),
            })
            .collect())
    }

    async fn balances_of(&self, profile: &ProfileId) -> Result<Vec<Balance>, StoreError> {
        const SQL: &str =
            "SELECT currency, amount FROM balances WHERE profile_id = $1 ORDER BY currency";
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, BalanceRow>(SQL)
            .bind(profile.as_str())
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        rows.into_iter()
            .map(|r| {
                Ok(Balance {
                    currency: r
                        .currency
                        .parse()
                        .map_err(|e| corrupt("balances.currency", e))?,
                    amount: r.amount,
                })
            })
            .collect()
    }

    async fn order(&self, profile: &ProfileId, id: &str) -> Result<Option<Order>, StoreError> {
        const SQL: &str = select_orders!("WHERE profile_id = $1 AND id = $2");
        let row = on_reader!(self, |pool| sqlx::query_as::<_, OrderRow>(SQL)
            .bind(profile.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(Order::try_from).transpose()
    }

    async fn order_by_key(
        &self,
        client: &ClientId,
        profile: &ProfileId,
        key: &str,
    ) -> Result<Option<Order>, StoreError> {
        const SQL: &str =
            select_orders!("WHERE client_id = $1 AND profile_id = $2 AND idempotency_key = $3");
        let row = on_reader!(self, |pool| sqlx::query_as::<_, OrderRow>(SQL)
            .bind(client.as_str())
            .bind(profile.as_str())
            .bind(key)
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(Order::try_from).transpose()
    }

    async fn orders_of(
        &self,
        profile: &ProfileId,
        page: &PageRequest,
    ) -> Result<Page<Order>, StoreError> {
        const SQL: &str = select_orders!("WHERE profile_id = $1 AND id > $2 ORDER BY id LIMIT $3");
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, OrderRow>(SQL)
            .bind(profile.as_str())
            .bind(after(page))
            .bind(fetch_limit(page))
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        let orders = rows
            .into_iter()
            .map(Order::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(into_page(orders, page, |o| o.id.clone()))
    }

    async fn settle_order(&self, order: &Order) -> Result<bool, StoreError> {
        use portcullis_core::banking::order::OrderKind;
        // Credit: add to the balance, creating it at zero. Debit: only if the balance covers it;
        // the condition and the change are one statement, so concurrent debits cannot overdraw.
        const CREDIT: &str = "INSERT INTO balances (profile_id, currency, amount) VALUES ($1, $2, $3) \
            ON CONFLICT (profile_id, currency) DO UPDATE SET amount = balances.amount + excluded.amount";
        const DEBIT: &str = "UPDATE balances SET amount = amount - $3 \
            WHERE profile_id = $1 AND currency = $2 AND amount >= $3";
        let change = if order.kind == OrderKind::Issue {
            CREDIT
        } else {
            DEBIT
        };
        let result = on_writer!(self, |pool| async {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(change)
                .bind(order.profile_id.as_str())
                .bind(order.currency.as_str())
                .bind(order.amount)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed != 1 {
                tx.rollback().await?;
                return Ok::<_, sqlx::Error>(false);
            }
            bind_order!(sqlx::query(INSERT_ORDER), order)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        }
        .await);
        result.map_err(db_error)
    }

    async fn insert_order(&self, order: &Order) -> Result<(), StoreError> {
        execute!(self, bind_order!(sqlx::query(INSERT_ORDER), order))?;
        Ok(())
    }
}
