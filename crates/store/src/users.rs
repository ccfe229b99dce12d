use async_trait::async_trait;
use portcullis_core::oauth::claims::{Address, Contact};
use portcullis_core::store::{Page, PageRequest, StoreError, UserStore};
use portcullis_core::time::UnixTime;
use portcullis_core::user::User;
use portcullis_proto::UserId;

use crate::rows::{after, fetch_limit, into_page};
use crate::{SqlStore, db_error, execute, on_reader};

/// `SELECT <every user column> FROM users <rest>`, as one static statement.
macro_rules! select_users {
    ($rest:literal) => {
        concat!(
            "SELECT id, email, name, password_hash, disabled, phone_number, phone_number_verified, \
             address, created_at, updated_at FROM users ",
            $rest
        )
    };
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: String,
    name: String,
    password_hash: Option<String>,
    disabled: bool,
    phone_number: Option<String>,
    phone_number_verified: bool,
    address: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let address = row
            .address
            .map(|json| serde_json::from_str::<Address>(&json))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("user {}: address: {e}", row.id)))?;
        Ok(Self {
            contact: Contact {
                phone_number: row.phone_number,
                phone_number_verified: row.phone_number_verified,
                address,
            },
            id: UserId::new(row.id),
            email: row.email,
            name: row.name,
            password_hash: row.password_hash,
            disabled: row.disabled,
            created_at: UnixTime(row.created_at),
            updated_at: UnixTime(row.updated_at),
        })
    }
}

/// The address as stored: the JSON object of its parts.
fn address_json(user: &User) -> Result<Option<String>, StoreError> {
    user.contact
        .address
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("address: {e}")))
}

impl SqlStore {
    async fn one_user(&self, sql: &'static str, key: &str) -> Result<Option<User>, StoreError> {
        let row = on_reader!(self, |pool| sqlx::query_as::<_, UserRow>(sql)
            .bind(key)
            .fetch_optional(pool)
            .await)
        .map_err(db_error)?;
        row.map(User::try_from).transpose()
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO users \
            (id, email, name, password_hash, disabled, phone_number, phone_number_verified, \
             address, created_at, updated_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let address = address_json(user)?;
        execute!(
            self,
            sqlx::query(SQL)
                .bind(user.id.as_str())
                .bind(&user.email)
                .bind(&user.name)
                .bind(user.password_hash.as_deref())
                .bind(user.disabled)
                .bind(user.contact.phone_number.as_deref())
                .bind(user.contact.phone_number_verified)
                .bind(address.as_deref())
                .bind(user.created_at.0)
                .bind(user.updated_at.0)
        )?;
        Ok(())
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.one_user(select_users!("WHERE id = $1"), id.as_str())
            .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.one_user(select_users!("WHERE email = $1"), email)
            .await
    }

    async fn update_user(&self, user: &User) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE users SET email = $2, name = $3, password_hash = $4, \
            disabled = $5, phone_number = $6, phone_number_verified = $7, address = $8, \
            updated_at = $9 WHERE id = $1";
        let address = address_json(user)?;
        let changed = execute!(
            self,
            sqlx::query(SQL)
                .bind(user.id.as_str())
                .bind(&user.email)
                .bind(&user.name)
                .bind(user.password_hash.as_deref())
                .bind(user.disabled)
                .bind(user.contact.phone_number.as_deref())
                .bind(user.contact.phone_number_verified)
                .bind(address.as_deref())
                .bind(user.updated_at.0)
        )?;
        Ok(changed == 1)
    }

    async fn list_users(&self, page: &PageRequest) -> Result<Page<User>, StoreError> {
        const SQL: &str = select_users!("WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, UserRow>(SQL)
            .bind(after(page))
            .bind(fetch_limit(page))
            .fetch_all(pool)
            .await)
        .map_err(db_error)?;
        Ok(into_page(
            rows.into_iter()
                .map(User::try_from)
                .collect::<Result<_, _>>()?,
            page,
            |u| u.id.to_string(),
        ))
    }
}
