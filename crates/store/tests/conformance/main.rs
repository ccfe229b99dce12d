//! The store conformance suite: every test runs against SQLite, against PostgreSQL (when
//! `PORTCULLIS_TEST_DATABASE_URL` names one) and against the memory store of
//! `portcullis_core::memory`, so that neither the two dialects nor the store core's unit tests
//! run on can drift apart. Each test takes the store as a trait object and uses nothing but
//! the storage traits. What only SQL has (migrations, the SQLite file and its lock, the
//! schema status) is tested beside the SQL store, not here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth_requests;
mod bank_races;
mod cascades;
mod clients;
mod codes;
mod consents;
mod grants;
mod keys;
mod maintenance;
mod orders;
mod profiles;
mod pushed_requests;
mod races;
mod rate_limit_deltas;
mod rate_limits;
mod refresh_tokens;
mod revocation;
mod sessions;
mod spent_once;
mod throttle_gates;
mod users;
mod wallet_challenges;
mod wallets;

use std::sync::Arc;

use portcullis_core::memory::MemoryStore;
use portcullis_core::store::Store;
use portcullis_store::testing::TestDatabase;

/// The store under test, whichever backend it is. Shared, so racing tests can hand a clone to
/// each task.
pub type AnyStore = Arc<dyn Store>;

/// Generates, for each listed test function `async fn name(store: &AnyStore)`, one
/// `#[tokio::test]` per backend.
macro_rules! conformance {
    ($($module:ident :: $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::TestDatabase::sqlite().unwrap();
                    let store: super::AnyStore = super::Arc::new(db.store().await.unwrap());
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
                    let sql = db.store().await.unwrap();
                    let store: super::AnyStore = super::Arc::new(sql.clone());
                    super::$module::$name(&store).await;
                    sql.close().await;
                }
            )*
        }
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    let store: super::AnyStore = super::Arc::new(super::MemoryStore::new());
                    super::$module::$name(&store).await;
                }
            )*
        }
    };
}

conformance! {
    keys::keys_round_trip_and_delete,
    clients::client_round_trip_with_every_field,
    clients::client_update_and_delete,
    clients::web_origins_are_found_exactly_among_enabled_clients,
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
    codes::code_of_a_withdrawn_consent_cannot_be_redeemed,
    codes::code_of_a_disabled_user_cannot_be_redeemed,
    codes::ending_an_app_ends_its_consent_codes_and_grants_and_nothing_else,
    codes::ending_a_user_disables_them_and_ends_every_app_but_keeps_consents,
    cascades::deleting_a_client_deletes_its_codes_consents_grants_and_refresh_tokens,
    cascades::rows_naming_a_missing_client_user_or_grant_are_refused,
    races::redemptions_racing_a_revocation_leave_no_live_grant,
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
    auth_requests::a_request_is_spent_once,
    auth_requests::concurrent_spends_of_one_request_have_one_winner,
    pushed_requests::a_pushed_request_is_taken_once_with_its_parameters_in_order,
    pushed_requests::an_expired_pushed_request_is_not_taken_and_housekeeping_deletes_it,
    pushed_requests::concurrent_takes_of_one_pushed_request_have_one_winner,
    pushed_requests::deleting_a_client_deletes_its_pushed_requests,
    spent_once::an_id_is_spent_once,
    spent_once::concurrent_spends_of_one_id_have_one_winner,
    spent_once::housekeeping_forgets_only_lapsed_ids,
    revocation::access_token_revocation_is_recorded,
    revocation::access_token_revoked_twice_is_fine,
    rate_limits::hits_count_up_within_a_window,
    rate_limits::new_window_restarts_the_count,
    rate_limits::a_late_clock_counts_in_the_newer_window,
    rate_limits::reset_forgets_the_key,
    rate_limits::concurrent_hits_each_count_once,
    rate_limit_deltas::deltas_add_up_and_report_totals_in_order,
    rate_limit_deltas::a_newer_window_restarts_and_an_older_one_changes_nothing,
    rate_limit_deltas::concurrent_batches_over_the_same_keys_lose_nothing,
    throttle_gates::count_reads_the_current_window_without_writing,
    throttle_gates::a_gate_passes_once_then_opens_at_its_time,
    throttle_gates::of_concurrent_callers_one_passes_a_gate,
    throttle_gates::housekeeping_forgets_gates_a_day_after_they_opened,
    maintenance::delete_expired_removes_only_what_lapsed,
    profiles::profile_round_trip_for_every_kind_and_kyc_state,
    profiles::profiles_of_user_oldest_first_then_by_id_and_only_theirs,
    profiles::set_kyc_changes_only_state_and_updated_at_of_that_profile,
    profiles::set_kyc_of_unknown_profile_is_false,
    profiles::profiles_granted_to_client_are_those_its_consents_are_bound_to,
    profiles::profiles_granted_to_ignores_a_consent_naming_someone_elses_profile,
    wallets::wallet_round_trip_on_every_chain,
    wallets::same_address_on_the_same_chain_twice_conflicts,
    wallets::same_address_on_another_chain_is_allowed,
    wallets::wallets_of_profile_oldest_first_then_by_id_and_only_theirs,
    wallets::iban_round_trip_oldest_first_and_only_theirs,
    wallets::same_iban_twice_conflicts,
    wallets::second_iban_for_one_wallet_conflicts,
    wallet_challenges::wallet_challenge_round_trip_and_unknown_is_none,
    wallet_challenges::wallet_challenge_links_once_then_is_refused,
    wallet_challenges::expired_wallet_challenge_cannot_be_used,
    wallet_challenges::wallet_challenge_stays_unused_when_the_address_is_taken,
    wallet_challenges::concurrent_proofs_with_one_challenge_have_one_winner,
    wallet_challenges::delete_expired_removes_lapsed_wallet_challenges,
    wallet_challenges::issuing_past_the_open_cap_retires_the_oldest_open_challenges,
    orders::first_issue_creates_the_balance_and_stores_the_order,
    orders::second_issue_adds_to_the_balance,
    orders::redeem_within_the_balance_debits_it_down_to_zero,
    orders::redeem_beyond_the_balance_is_false_and_writes_nothing,
    orders::balances_are_kept_per_currency_and_per_profile,
    orders::balance_always_equals_processed_issues_minus_processed_redeems,
    orders::settle_with_a_taken_idempotency_key_conflicts_and_rolls_back,
    orders::idempotency_key_is_scoped_to_client_and_profile,
    orders::settle_with_a_taken_order_id_conflicts_and_rolls_back,
    orders::insert_order_stores_a_rejected_order_without_touching_balances,
    orders::insert_order_with_a_taken_idempotency_key_conflicts,
    orders::order_is_found_only_under_its_own_profile,
    orders::order_by_key_needs_client_profile_and_key_to_match,
    orders::orders_of_profile_in_pages_by_id,
    bank_races::concurrent_redeems_never_overdraw_the_balance,
    bank_races::concurrent_issues_with_one_idempotency_key_have_one_winner,
    bank_races::concurrent_redeems_with_one_idempotency_key_have_one_winner,
    health::ping_answers,
}

mod health {

    pub async fn ping_answers(store: &super::AnyStore) {
        store.ping().await.unwrap();
    }
}

/// Spent ids outlive the store: on SQLite, where they are decided in memory and written in
/// batches, closing writes the last batch and reopening reads them back.
mod spent_across_restarts {
    use portcullis_core::store::ReplayStore as _;
    use portcullis_core::time::UnixTime;

    const NOW_FOR_SPEND: i64 = 1_000;

    async fn survive(db: &super::TestDatabase) {
        let store = db.store().await.unwrap();
        for n in 0..300 {
            assert!(
                store
                    .spend_once(
                        &format!("dpop:k:{n}"),
                        UnixTime(NOW_FOR_SPEND),
                        UnixTime(i64::MAX)
                    )
                    .await
                    .unwrap()
            );
        }
        store.close().await;
        let reopened = db.store().await.unwrap();
        for n in [0, 255, 256, 299] {
            assert!(
                !reopened
                    .spend_once(
                        &format!("dpop:k:{n}"),
                        UnixTime(NOW_FOR_SPEND),
                        UnixTime(i64::MAX)
                    )
                    .await
                    .unwrap(),
                "{n} was forgotten"
            );
        }
        assert!(
            reopened
                .spend_once("dpop:k:new", UnixTime(NOW_FOR_SPEND), UnixTime(i64::MAX))
                .await
                .unwrap()
        );
        reopened.close().await;
    }

    #[tokio::test]
    async fn sqlite() {
        survive(&super::TestDatabase::sqlite().unwrap()).await;
    }

    #[tokio::test]
    async fn postgres() {
        let test = "spent_across_restarts::postgres";
        if let Some(db) = super::TestDatabase::postgres(test).await.unwrap() {
            survive(&db).await;
        }
    }
}
