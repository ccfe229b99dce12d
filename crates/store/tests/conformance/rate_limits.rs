use crate::AnyStore;
use portcullis_core::time::UnixTime;
use tokio::task::JoinSet;

pub async fn hits_count_up_within_a_window(store: &AnyStore) {
    let window = UnixTime(6_000);
    for expected in 1..=3 {
        assert_eq!(store.hit("login:alice", window).await.unwrap(), expected);
    }
    assert_eq!(
        store.hit("login:bob", window).await.unwrap(),
        1,
        "keys count apart"
    );
    assert_eq!(store.hit("login:alice", window).await.unwrap(), 4);
}

pub async fn new_window_restarts_the_count(store: &AnyStore) {
    for _ in 0..3 {
        store.hit("login:alice", UnixTime(6_000)).await.unwrap();
    }
    assert_eq!(store.hit("login:alice", UnixTime(6_060)).await.unwrap(), 1);
    assert_eq!(store.hit("login:alice", UnixTime(6_060)).await.unwrap(), 2);
}

pub async fn a_late_clock_counts_in_the_newer_window(store: &AnyStore) {
    for _ in 0..3 {
        store.hit("login:alice", UnixTime(6_060)).await.unwrap();
    }
    // A node whose clock is a window behind: its hit counts, and does not reset the count.
    assert_eq!(store.hit("login:alice", UnixTime(6_000)).await.unwrap(), 4);
    assert_eq!(store.hit("login:alice", UnixTime(6_060)).await.unwrap(), 5);
}

pub async fn reset_forgets_the_key(store: &AnyStore) {
    let window = UnixTime(6_000);
    for _ in 0..3 {
        store.hit("login:alice", window).await.unwrap();
        store.hit("login:bob", window).await.unwrap();
    }

    store.reset("login:alice").await.unwrap();
    store.reset("login:nobody").await.unwrap();

    assert_eq!(store.hit("login:alice", window).await.unwrap(), 1);
    assert_eq!(
        store.hit("login:bob", window).await.unwrap(),
        4,
        "other keys are kept"
    );
}

pub async fn concurrent_hits_each_count_once(store: &AnyStore) {
    const HITS: u64 = 30;
    let window = UnixTime(6_000);
    let mut tasks = JoinSet::new();
    for _ in 0..HITS {
        let store = store.clone();
        tasks.spawn(async move { store.hit("login:alice", window).await.unwrap() });
    }
    let mut counts = Vec::new();
    while let Some(count) = tasks.join_next().await {
        counts.push(count.unwrap());
    }
    counts.sort_unstable();

    assert_eq!(
        counts,
        (1..=HITS).collect::<Vec<_>>(),
        "each hit saw its own count"
    );
    assert_eq!(store.hit("login:alice", window).await.unwrap(), HITS + 1);
}
