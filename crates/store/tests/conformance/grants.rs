use crate::AnyStore;
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, GrantId, UserId};

use crate::codes::{grant, issue};

pub async fn grant_round_trip(store: &AnyStore) {
    let g = grant("g1", "c1", "u1");
    issue(store, &g, None).await;
    let mut unbound = grant("g2", "c1", "u1");
    unbound.profile_id = None;
    issue(store, &unbound, None).await;

    assert_eq!(store.grant(&g.id).await.unwrap(), Some(g));
    assert_eq!(store.grant(&unbound.id).await.unwrap(), Some(unbound));
    assert_eq!(store.grant(&GrantId::new("nope")).await.unwrap(), None);
}

pub async fn grant_revoked_once_then_refused(store: &AnyStore) {
    let g = grant("g1", "c1", "u1");
    issue(store, &g, None).await;

    assert!(store.revoke_grant(&g.id, UnixTime(5_000)).await.unwrap());
    assert!(!store.revoke_grant(&g.id, UnixTime(6_000)).await.unwrap());
    assert!(
        !store
            .revoke_grant(&GrantId::new("nope"), UnixTime(6_000))
            .await
            .unwrap()
    );

    let stored = store.grant(&g.id).await.unwrap().unwrap();
    assert_eq!(
        stored.revoked_at,
        Some(UnixTime(5_000)),
        "the first revocation time stays"
    );
}

pub async fn revoke_grants_of_one_client_then_all_skips_revoked(store: &AnyStore) {
    let ids = ["c1-a", "c1-b", "c2-a", "c2-revoked"];
    for (id, client) in ids.into_iter().zip(["c1", "c1", "c2", "c2"]) {
        issue(store, &grant(id, client, "u1"), None).await;
    }
    let other_user = grant("u2-c1", "c1", "u2");
    issue(store, &other_user, None).await;
    assert!(
        store
            .revoke_grant(&GrantId::new("c2-revoked"), UnixTime(100))
            .await
            .unwrap()
    );

    let (u1, c1) = (UserId::new("u1"), ClientId::new("c1"));
    assert_eq!(
        store
            .revoke_grants_of(&u1, Some(&c1), UnixTime(200))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .revoke_grants_of(&u1, None, UnixTime(300))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .revoke_grants_of(&u1, None, UnixTime(400))
            .await
            .unwrap(),
        0
    );

    let revoked_at = |id: &'static str| async move {
        store
            .grant(&GrantId::new(id))
            .await
            .unwrap()
            .unwrap()
            .revoked_at
    };
    assert_eq!(revoked_at("c1-a").await, Some(UnixTime(200)));
    assert_eq!(revoked_at("c1-b").await, Some(UnixTime(200)));
    assert_eq!(revoked_at("c2-a").await, Some(UnixTime(300)));
    assert_eq!(revoked_at("c2-revoked").await, Some(UnixTime(100)));
    assert_eq!(
        revoked_at("u2-c1").await,
        None,
        "another user's grant is untouched"
    );
}
