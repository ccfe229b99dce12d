use crate::AnyStore;
use crate::clients::client;
use crate::races::{RACERS, winners};
use portcullis_core::hash::SecretHash;
use portcullis_core::store::PushedRequestRecord;
use portcullis_core::time::UnixTime;
use portcullis_proto::ClientId;
use tokio::task::JoinSet;

const NOW: i64 = 1_000_000;

fn pushed(uri: &str, client: &str, expires_at: i64) -> PushedRequestRecord {
    PushedRequestRecord {
        id_hash: SecretHash::of(uri),
        client_id: ClientId::new(client),
        params: vec![
            ("client_id".into(), client.into()),
            ("scope".into(), "openid email".into()),
            ("state".into(), "a \"quoted\" & unicode \u{e9} state".into()),
            ("state".into(), "repeated, kept in order".into()),
        ],
        created_at: UnixTime(NOW - 10),
        expires_at: UnixTime(expires_at),
    }
}

pub async fn a_pushed_request_is_taken_once_with_its_parameters_in_order(store: &AnyStore) {
    store.insert_client(&client("c1")).await.unwrap();
    let request = pushed("urn:1", "c1", NOW + 60);
    store.insert_pushed_request(&request).await.unwrap();
    let hash = SecretHash::of("urn:1");
    assert_eq!(
        store
            .take_pushed_request(&hash, UnixTime(NOW))
            .await
            .unwrap(),
        Some(request)
    );
    assert_eq!(
        store
            .take_pushed_request(&hash, UnixTime(NOW))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .take_pushed_request(&SecretHash::of("urn:unknown"), UnixTime(NOW))
            .await
            .unwrap(),
        None
    );
}

pub async fn an_expired_pushed_request_is_not_taken_and_housekeeping_deletes_it(store: &AnyStore) {
    store.insert_client(&client("c1")).await.unwrap();
    store
        .insert_pushed_request(&pushed("urn:old", "c1", NOW))
        .await
        .unwrap();
    store
        .insert_pushed_request(&pushed("urn:live", "c1", NOW + 60))
        .await
        .unwrap();
    let old = SecretHash::of("urn:old");
    assert_eq!(
        store
            .take_pushed_request(&old, UnixTime(NOW))
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.delete_expired(UnixTime(NOW + 1)).await.unwrap(), 1);
    assert!(
        store
            .take_pushed_request(&SecretHash::of("urn:live"), UnixTime(NOW + 1))
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn concurrent_takes_of_one_pushed_request_have_one_winner(store: &AnyStore) {
    store.insert_client(&client("c1")).await.unwrap();
    store
        .insert_pushed_request(&pushed("urn:raced", "c1", NOW + 60))
        .await
        .unwrap();
    let mut tasks = JoinSet::new();
    for _ in 0..RACERS {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .take_pushed_request(&SecretHash::of("urn:raced"), UnixTime(NOW))
                .await
                .unwrap()
                .is_some()
        });
    }
    assert_eq!(winners(tasks).await, 1);
}

pub async fn deleting_a_client_deletes_its_pushed_requests(store: &AnyStore) {
    store.insert_client(&client("c1")).await.unwrap();
    store
        .insert_pushed_request(&pushed("urn:1", "c1", NOW + 60))
        .await
        .unwrap();
    assert!(store.delete_client(&ClientId::new("c1")).await.unwrap());
    assert_eq!(
        store
            .take_pushed_request(&SecretHash::of("urn:1"), UnixTime(NOW))
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .insert_pushed_request(&pushed("urn:2", "nobody", NOW + 60))
            .await
            .is_err(),
        "a request of a missing client is refused"
    );
}
