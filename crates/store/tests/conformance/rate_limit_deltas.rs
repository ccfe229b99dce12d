//! `RateLimitStore::add`: the background sync of the token endpoint's shared counters.

use crate::AnyStore;
use portcullis_core::store::CounterDelta;
use portcullis_core::time::UnixTime;
use tokio::task::JoinSet;

fn delta(key: &str, window_start: i64, count: u64) -> CounterDelta {
    CounterDelta {
        key: key.to_owned(),
        window_start: UnixTime(window_start),
        count,
    }
}

pub async fn deltas_add_up_and_report_totals_in_order(store: &AnyStore) {
    let totals = store
        .add(&[delta("token:ip:b", 6_000, 7), delta("token:ip:a", 6_000, 3)])
        .await
        .unwrap();
    assert_eq!(totals, vec![7, 3], "in the order given");
    let totals = store
        .add(&[delta("token:ip:a", 6_000, 2), delta("token:ip:b", 6_000, 1)])
        .await
        .unwrap();
    assert_eq!(totals, vec![5, 8]);
    assert_eq!(
        store.hit("token:ip:a", UnixTime(6_000)).await.unwrap(),
        6,
        "hit and add count the same rows"
    );
    assert!(store.add(&[]).await.unwrap().is_empty());
}

pub async fn a_newer_window_restarts_and_an_older_one_changes_nothing(store: &AnyStore) {
    store.add(&[delta("k", 6_000, 9)]).await.unwrap();
    assert_eq!(store.add(&[delta("k", 6_060, 2)]).await.unwrap(), vec![2]);
    // A node whose clock is behind still counts in the finished window: it is told 0, and the
    // current window's count is kept.
    assert_eq!(store.add(&[delta("k", 6_000, 5)]).await.unwrap(), vec![0]);
    assert_eq!(store.add(&[delta("k", 6_060, 1)]).await.unwrap(), vec![3]);
}

pub async fn concurrent_batches_over_the_same_keys_lose_nothing(store: &AnyStore) {
    const NODES: u64 = 8;
    let keys = ["token:client:a", "token:client:b", "token:ip:127.0.0.1"];
    let mut tasks = JoinSet::new();
    for node in 0..NODES {
        let store = store.clone();
        // Each node lists the keys in another order; the store must not deadlock.
        let mut batch: Vec<CounterDelta> = keys.iter().map(|k| delta(k, 6_000, 10)).collect();
        batch.rotate_left(usize::try_from(node).unwrap() % keys.len());
        tasks.spawn(async move { store.add(&batch).await.unwrap() });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let totals = store.add(&keys.map(|k| delta(k, 6_000, 0))).await.unwrap();
    assert_eq!(totals, vec![NODES * 10; 3]);
}
