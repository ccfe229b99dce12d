//! The store conformance suite: every test runs against SQLite and against PostgreSQL
//! (when `PORTCULLIS_TEST_DATABASE_URL` names one), so the two dialects cannot drift apart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth_requests;
mod clients;
mod codes;
mod consents;
mod grants;
mod keys;
mod maintenance;
mod races;
mod rate_limits;
mod refresh_tokens;
mod revocation;
mod sessions;
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
    codes::code_round_trip_with_every_field,
    codes::code_round_trip_without_optional_fields,
    codes::duplicate_code_conflicts,
    codes::code_redeem_writes_grant_and_refresh_token_and_marks_code,
    codes::code_redeemed_once_then_refused,
    codes::expired_code_cannot_be_redeemed,
    codes::unknown_code_cannot_be_redeemed,
    codes::code_redeem_without_refresh_token,
    codes::code_stays_unredeemed_when_grant_cannot_be_written,
    races::concurrent_redemptions_of_one_code_have_one_winner,
    races::concurrent_rotations_of_one_token_have_one_winner,
    grants::grant_round_trip,
    grants::grant_revoked_once_then_refused,
    grants::revoke_grants_of_one_client_then_all_skips_revoked,
    refresh_tokens::refresh_token_round_trip,
    refresh_tokens::rotation_marks_old_token_and_stores_new_one,
    refresh_tokens::rotated_token_cannot_rotate_again,
    refresh_tokens::expired_refresh_token_cannot_rotate,
    refresh_tokens::refresh_token_of_revoked_grant_cannot_rotate,
    refresh_tokens::unknown_refresh_token_cannot_rotate,
    refresh_tokens::token_stays_unrotated_when_successor_cannot_be_written,
    consents::consent_put_and_read_back,
    consents::consent_put_again_replaces_it_but_keeps_created_at,
    consents::consent_deleted_once,
    consents::consents_of_user_oldest_first,
    sessions::session_round_trip_with_and_without_user,
    sessions::session_deleted,
    sessions::delete_sessions_of_user_counts_only_theirs,
    auth_requests::auth_request_round_trip_with_every_field,
    auth_requests::auth_request_round_trip_without_optional_fields,
    auth_requests::auth_request_deleted,
    revocation::access_token_revocation_is_recorded,
    revocation::access_token_revoked_twice_is_fine,
    rate_limits::hits_count_up_within_a_window,
    rate_limits::new_window_restarts_the_count,
    rate_limits::reset_forgets_the_key,
    rate_limits::concurrent_hits_each_count_once,
    maintenance::delete_expired_removes_only_what_lapsed,
    health::ping_answers,
}

mod health {
    use portcullis_core::store::HealthStore as _;

    pub async fn ping_answers(store: &super::SqlStore) {
        store.ping().await.unwrap();
    }
}
