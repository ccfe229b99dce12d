use crate::AnyStore;
use crate::races::{RACERS, winners};
use portcullis_core::time::UnixTime;
use tokio::task::JoinSet;

/// When the ids are spent.
const NOW_FOR_SPEND: i64 = 1_000;

pub async fn an_id_is_spent_once(store: &AnyStore) {
    assert!(
        store
            .spend_once("dpop:k1:j1", UnixTime(NOW_FOR_SPEND), UnixTime(10_000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .spend_once("dpop:k1:j1", UnixTime(NOW_FOR_SPEND), UnixTime(10_000))
            .await
            .unwrap(),
        "a replay loses"
    );
    assert!(
        store
            .spend_once("dpop:k2:j1", UnixTime(NOW_FOR_SPEND), UnixTime(10_000))
            .await
            .unwrap()
    );
}

pub async fn concurrent_spends_of_one_id_have_one_winner(store: &AnyStore) {
    let mut tasks = JoinSet::new();
    for _ in 0..RACERS {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .spend_once("dpop:k:raced", UnixTime(NOW_FOR_SPEND), UnixTime(10_000))
                .await
                .unwrap()
        });
    }
    assert_eq!(winners(tasks).await, 1);
}

pub async fn housekeeping_forgets_only_lapsed_ids(store: &AnyStore) {
    const NOW: i64 = 1_000_000;
    assert!(
        store
            .spend_once("old", UnixTime(NOW_FOR_SPEND), UnixTime(NOW - 1))
            .await
            .unwrap()
    );
    assert!(
        store
            .spend_once("live", UnixTime(NOW_FOR_SPEND), UnixTime(NOW + 1))
            .await
            .unwrap()
    );
    assert_eq!(store.delete_expired(UnixTime(NOW)).await.unwrap(), 1);
    assert!(
        store
            .spend_once("old", UnixTime(NOW_FOR_SPEND), UnixTime(NOW + 60))
            .await
            .unwrap(),
        "forgotten"
    );
    assert!(
        !store
            .spend_once("live", UnixTime(NOW_FOR_SPEND), UnixTime(NOW + 60))
            .await
            .unwrap()
    );
}
