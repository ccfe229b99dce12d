use crate::AnyStore;
use portcullis_core::time::UnixTime;

pub async fn access_token_revocation_is_recorded(store: &AnyStore) {
    assert!(!store.is_access_token_revoked("jti-1").await.unwrap());

    store
        .revoke_access_token("jti-1", UnixTime(10_000))
        .await
        .unwrap();

    assert!(store.is_access_token_revoked("jti-1").await.unwrap());
    assert!(!store.is_access_token_revoked("jti-2").await.unwrap());
}

pub async fn access_token_revoked_twice_is_fine(store: &AnyStore) {
    store
        .revoke_access_token("jti-1", UnixTime(10_000))
        .await
        .unwrap();
    store
        .revoke_access_token("jti-1", UnixTime(10_000))
        .await
        .unwrap();
    store
        .revoke_access_token("jti-1", UnixTime(20_000))
        .await
        .unwrap();
    assert!(store.is_access_token_revoked("jti-1").await.unwrap());
}
