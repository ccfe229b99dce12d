//! The store conformance suite: every test runs against SQLite and against PostgreSQL
//! (when `PORTCULLIS_TEST_DATABASE_URL` names one), so the two dialects cannot drift apart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod clients;
mod keys;
mod users;

use portcullis_store::SqlStore;
use portcullis_store::testing::TestDatabase;

/// Generates, for each listed test function `async fn name(store: &SqlStore)`, one
/// `#[tokio::test]` per dialect.
macro_rules! conformance {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::TestDatabase::sqlite().unwrap();
                    let store = db.store().await.unwrap();
                    super::$module::$name(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let test = concat!("postgres::", stringify!($name));
                    let Some(db) = super::TestDatabase::postgres(test).await.unwrap() else {
                        return;
                    };
                    let store = db.store().await.unwrap();
                    super::$module::$name(&store).await;
                    store.close().await;
                }
            )*
        }
    };
}

conformance! {
    keys::keys_round_trip_and_delete,
    clients::client_round_trip_with_every_field,
    clients::client_update_and_delete,
    clients::duplicate_client_id_conflicts,
    clients::clients_list_in_pages,
    users::user_round_trip_by_id_and_email,
    users::duplicate_email_conflicts,
    users::user_update,
    users::users_list_in_pages,
    health::ping_answers,
}

mod health {
    use portcullis_core::store::HealthStore as _;

    pub async fn ping_answers(store: &super::SqlStore) {
        store.ping().await.unwrap();
    }
}
