use crate::AnyStore;
use portcullis_core::keys::{SigningAlg, StoredKey};
use portcullis_core::time::UnixTime;
use portcullis_proto::KeyId;

fn key(kid: &str, alg: SigningAlg, activates_at: i64) -> StoredKey {
    StoredKey {
        kid: KeyId::new(kid),
        alg,
        created_at: UnixTime(activates_at - 10),
        activates_at: UnixTime(activates_at),
        kek_fingerprint: "fp".into(),
        wrapped_private_key: vec![0, 1, 2, 255],
    }
}

pub async fn keys_round_trip_and_delete(store: &AnyStore) {
    let a = key("a", SigningAlg::Es256, 100);
    let b = key("b", SigningAlg::Rs256, 50);
    store.insert_key(&a).await.unwrap();
    store.insert_key(&b).await.unwrap();
    assert_eq!(store.list_keys().await.unwrap(), vec![b.clone(), a.clone()]);

    assert_eq!(
        store
            .delete_keys(&[KeyId::new("b"), KeyId::new("zz")])
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.list_keys().await.unwrap(), vec![a]);
}
