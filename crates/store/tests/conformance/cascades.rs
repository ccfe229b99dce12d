//! The schema's rules that every backend keeps: deleting a client deletes what was issued to
//! it (`ON DELETE CASCADE`), and a row naming a client, user or grant that does not exist is
//! refused (the foreign keys).

use portcullis_core::hash::SecretHash;
use portcullis_core::store::{ConsentRecord, StoreError};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, GrantId, ScopeSet, UserId};

use crate::AnyStore;
use crate::codes::{BEFORE_EXPIRY, ISSUED, code, grant, issue, parties, refresh};

pub async fn deleting_a_client_deletes_its_codes_consents_grants_and_refresh_tokens(
    store: &AnyStore,
) {
    for client in ["c1", "c2"] {
        let g = grant(&format!("g-{client}"), client, "u1");
        issue(store, &g, Some(&refresh(&format!("r-{client}"), &g))).await;
        store
            .insert_code(&code(&format!("kept-{client}"), client, "u1"))
            .await
            .unwrap();
    }
    let u1 = UserId::new("u1");

    assert!(store.delete_client(&ClientId::new("c1")).await.unwrap());

    assert_eq!(
        store.consent(&u1, &ClientId::new("c1")).await.unwrap(),
        None
    );
    assert_eq!(store.code(&SecretHash::of("kept-c1")).await.unwrap(), None);
    assert_eq!(
        store.code(&SecretHash::of("code-for-g-c1")).await.unwrap(),
        None
    );
    assert_eq!(store.grant(&GrantId::new("g-c1")).await.unwrap(), None);
    assert_eq!(
        store.refresh_token(&SecretHash::of("r-c1")).await.unwrap(),
        None
    );
    // The other client's rows, and the user, stay.
    assert!(
        store
            .consent(&u1, &ClientId::new("c2"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .code(&SecretHash::of("kept-c2"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.grant(&GrantId::new("g-c2")).await.unwrap().is_some());
    assert!(
        store
            .refresh_token(&SecretHash::of("r-c2"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.user(&u1).await.unwrap().is_some());
}

/// A foreign key violation: neither unavailability nor a conflict.
fn refused<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Other(_)))
}

pub async fn rows_naming_a_missing_client_user_or_grant_are_refused(store: &AnyStore) {
    parties(store, "c1", "u1").await;
    assert!(refused(
        &store.insert_code(&code("no-client", "ghost", "u1")).await
    ));
    assert!(refused(
        &store.insert_code(&code("no-user", "c1", "ghost")).await
    ));
    let consent = ConsentRecord {
        user_id: UserId::new("ghost"),
        client_id: ClientId::new("c1"),
        scope: ScopeSet::parse("openid").unwrap(),
        profile_id: None,
        created_at: UnixTime(ISSUED),
        updated_at: UnixTime(ISSUED),
    };
    assert!(refused(&store.put_consent(&consent).await));
    assert_eq!(
        store.code(&SecretHash::of("no-client")).await.unwrap(),
        None
    );
    assert!(
        store
            .consents_of(&UserId::new("ghost"))
            .await
            .unwrap()
            .is_empty()
    );

    // A successor naming a grant that does not exist rotates nothing.
    let g = grant("g1", "c1", "u1");
    let old = refresh("r-old", &g);
    issue(store, &g, Some(&old)).await;
    let orphan = refresh("r-orphan", &grant("no-such-grant", "c1", "u1"));
    let now = UnixTime(BEFORE_EXPIRY + 1);
    assert!(refused(
        &store.rotate_refresh_token(&old.hash, now, &orphan).await
    ));
    let kept = store.refresh_token(&old.hash).await.unwrap().unwrap();
    assert_eq!(kept.rotated_at, None);
    assert_eq!(store.refresh_token(&orphan.hash).await.unwrap(), None);
}
