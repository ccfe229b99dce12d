use crate::AnyStore;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::{RefreshTokenRecord, StoreError};
use portcullis_core::time::UnixTime;

use crate::codes::{grant, issue, refresh};

/// A grant with its first refresh token, stored.
async fn line(store: &AnyStore) -> RefreshTokenRecord {
    let g = grant("g1", "c1", "u1");
    let first = refresh("r0", &g);
    issue(store, &g, Some(&first)).await;
    first
}

/// The token that replaces `old` at `now`.
fn successor(secret: &str, old: &RefreshTokenRecord, now: i64) -> RefreshTokenRecord {
    RefreshTokenRecord {
        hash: SecretHash::of(secret),
        created_at: UnixTime(now),
        expires_at: UnixTime(now + 86_400),
        rotated_at: None,
        ..old.clone()
    }
}

pub async fn refresh_token_round_trip(store: &AnyStore) {
    let first = line(store).await;
    assert_eq!(store.refresh_token(&first.hash).await.unwrap(), Some(first));
    assert_eq!(
        store.refresh_token(&SecretHash::of("nope")).await.unwrap(),
        None
    );
}

pub async fn rotation_marks_old_token_and_stores_new_one(store: &AnyStore) {
    let old = line(store).await;
    let now = old.created_at.0 + 100;
    let new = successor("r1", &old, now);

    assert!(
        store
            .rotate_refresh_token(&old.hash, UnixTime(now), &new)
            .await
            .unwrap()
    );

    let rotated = RefreshTokenRecord {
        rotated_at: Some(UnixTime(now)),
        ..old.clone()
    };
    assert_eq!(store.refresh_token(&old.hash).await.unwrap(), Some(rotated));
    assert_eq!(
        store.refresh_token(&new.hash).await.unwrap(),
        Some(new.clone())
    );

    // The successor rotates in turn.
    let next = successor("r2", &new, now + 100);
    assert!(
        store
            .rotate_refresh_token(&new.hash, UnixTime(now + 100), &next)
            .await
            .unwrap()
    );
}

pub async fn rotated_token_cannot_rotate_again(store: &AnyStore) {
    let old = line(store).await;
    let now = old.created_at.0 + 100;
    let first = successor("r1", &old, now);
    let second = successor("r2", &old, now + 1);
    assert!(
        store
            .rotate_refresh_token(&old.hash, UnixTime(now), &first)
            .await
            .unwrap()
    );

    assert!(
        !store
            .rotate_refresh_token(&old.hash, UnixTime(now + 1), &second)
            .await
            .unwrap()
    );

    assert_eq!(store.refresh_token(&second.hash).await.unwrap(), None);
    let stored = store.refresh_token(&old.hash).await.unwrap().unwrap();
    assert_eq!(
        stored.rotated_at,
        Some(UnixTime(now)),
        "the first rotation time stays"
    );
}

pub async fn expired_refresh_token_cannot_rotate(store: &AnyStore) {
    let old = line(store).await;
    let expiry = old.expires_at.0;

    // Expiry is exclusive: at `expires_at` the token is already dead.
    for now in [expiry, expiry + 1] {
        let new = successor("r1", &old, now);
        assert!(
            !store
                .rotate_refresh_token(&old.hash, UnixTime(now), &new)
                .await
                .unwrap()
        );
        assert_eq!(store.refresh_token(&new.hash).await.unwrap(), None);
    }
    assert_eq!(
        store.refresh_token(&old.hash).await.unwrap(),
        Some(old.clone())
    );

    // A second earlier it rotates, so the refusals above were expiry.
    let new = successor("r1", &old, expiry - 1);
    assert!(
        store
            .rotate_refresh_token(&old.hash, UnixTime(expiry - 1), &new)
            .await
            .unwrap()
    );
}

pub async fn refresh_token_of_revoked_grant_cannot_rotate(store: &AnyStore) {
    let old = line(store).await;
    let now = old.created_at.0 + 100;
    assert!(
        store
            .revoke_grant(&old.grant_id, UnixTime(now - 1))
            .await
            .unwrap()
    );
    let new = successor("r1", &old, now);

    assert!(
        !store
            .rotate_refresh_token(&old.hash, UnixTime(now), &new)
            .await
            .unwrap()
    );

    assert_eq!(store.refresh_token(&new.hash).await.unwrap(), None);
    assert_eq!(store.refresh_token(&old.hash).await.unwrap(), Some(old));
}

pub async fn unknown_refresh_token_cannot_rotate(store: &AnyStore) {
    let old = line(store).await;
    let now = old.created_at.0 + 100;
    let new = successor("r1", &old, now);
    let unknown = SecretHash::of("never issued");

    assert!(
        !store
            .rotate_refresh_token(&unknown, UnixTime(now), &new)
            .await
            .unwrap()
    );

    assert_eq!(store.refresh_token(&new.hash).await.unwrap(), None);
}

pub async fn token_stays_unrotated_when_successor_cannot_be_written(store: &AnyStore) {
    let old = line(store).await;
    let now = old.created_at.0 + 100;
    // A successor whose digest is already stored: the insert fails after the update.
    let clash = successor("r0", &old, now);

    let result = store
        .rotate_refresh_token(&old.hash, UnixTime(now), &clash)
        .await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");

    assert_eq!(
        store.refresh_token(&old.hash).await.unwrap(),
        Some(old.clone())
    );
    let new = successor("r1", &old, now);
    assert!(
        store
            .rotate_refresh_token(&old.hash, UnixTime(now), &new)
            .await
            .unwrap()
    );
}
