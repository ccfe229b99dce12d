use crate::AnyStore;
use portcullis_core::time::UnixTime;
use tokio::task::JoinSet;

pub async fn count_reads_the_current_window_without_writing(store: &AnyStore) {
    let window = UnixTime(6_000);
    assert_eq!(store.count("login:alice", window).await.unwrap(), 0);
    store.hit("login:alice", window).await.unwrap();
    store.hit("login:alice", window).await.unwrap();
    assert_eq!(store.count("login:alice", window).await.unwrap(), 2);
    assert_eq!(store.count("login:alice", window).await.unwrap(), 2);
    assert_eq!(
        store.count("login:alice", UnixTime(6_060)).await.unwrap(),
        0,
        "another window counts nothing"
    );
    assert_eq!(store.count("login:bob", window).await.unwrap(), 0);
    assert_eq!(
        store.hit("login:bob", window).await.unwrap(),
        1,
        "reading made no row"
    );
}

pub async fn a_gate_passes_once_then_opens_at_its_time(store: &AnyStore) {
    let (now, until) = (UnixTime(6_000), UnixTime(6_030));
    assert_eq!(store.pass_gate("gate:a", now, until).await.unwrap(), None);
    assert_eq!(
        store
            .pass_gate("gate:a", UnixTime(6_010), UnixTime(6_070))
            .await
            .unwrap(),
        Some(until),
        "closed: the refused caller does not move the opening"
    );
    assert_eq!(
        store.pass_gate("gate:b", now, until).await.unwrap(),
        None,
        "gates are apart"
    );
    assert_eq!(
        store
            .pass_gate("gate:a", UnixTime(6_030), UnixTime(6_090))
            .await
            .unwrap(),
        None,
        "open again at its time"
    );
    assert_eq!(
        store
            .pass_gate("gate:a", UnixTime(6_031), UnixTime(6_200))
            .await
            .unwrap(),
        Some(UnixTime(6_090))
    );
}

pub async fn of_concurrent_callers_one_passes_a_gate(store: &AnyStore) {
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .pass_gate("gate:a", UnixTime(6_000), UnixTime(6_060))
                .await
                .unwrap()
        });
    }
    let mut passed = 0;
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            None => passed += 1,
            Some(open_at) => assert_eq!(open_at, UnixTime(6_060)),
        }
    }
    assert_eq!(passed, 1);
}

pub async fn housekeeping_forgets_gates_a_day_after_they_opened(store: &AnyStore) {
    store
        .pass_gate("gate:a", UnixTime(6_000), UnixTime(6_060))
        .await
        .unwrap();
    store
        .delete_expired(UnixTime(6_060 + 86_400 - 1))
        .await
        .unwrap();
    assert_eq!(
        store
            .pass_gate("gate:a", UnixTime(6_059), UnixTime(9_999))
            .await
            .unwrap(),
        Some(UnixTime(6_060)),
        "kept within the day"
    );
    store
        .delete_expired(UnixTime(6_060 + 86_400 + 1))
        .await
        .unwrap();
    assert_eq!(
        store
            .pass_gate("gate:a", UnixTime(6_059), UnixTime(9_999))
            .await
            .unwrap(),
        None,
        "forgotten, so open"
    );
}
