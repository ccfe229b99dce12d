use crate::AnyStore;
use portcullis_core::time::UnixTime;
use tokio::task::JoinSet;

pub async fn a_request_is_spent_once(store: &AnyStore) {
    assert!(!store.auth_request_spent("req-1").await.unwrap());
    assert!(
        store
            .spend_auth_request("req-1", UnixTime(10_000))
            .await
            .unwrap()
    );
    assert!(store.auth_request_spent("req-1").await.unwrap());
    assert!(
        !store
            .spend_auth_request("req-1", UnixTime(10_000))
            .await
            .unwrap(),
        "a second answer loses"
    );
    assert!(!store.auth_request_spent("req-2").await.unwrap());
}

pub async fn concurrent_spends_of_one_request_have_one_winner(store: &AnyStore) {
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .spend_auth_request("req-raced", UnixTime(10_000))
                .await
                .unwrap()
        });
    }
    let mut winners = 0;
    while let Some(won) = tasks.join_next().await {
        winners += usize::from(won.unwrap());
    }
    assert_eq!(winners, 1);
}
