use crate::AnyStore;
use portcullis_core::store::ConsentRecord;
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, ProfileId, ScopeSet, UserId};

use crate::codes::parties;

fn consent(user: &str, client: &str, created_at: i64) -> ConsentRecord {
    ConsentRecord {
        user_id: UserId::new(user),
        client_id: ClientId::new(client),
        scope: ScopeSet::parse("openid wallet:read").unwrap(),
        profile_id: Some(ProfileId::new("p1")),
        created_at: UnixTime(created_at),
        updated_at: UnixTime(created_at),
    }
}

pub async fn consent_put_and_read_back(store: &AnyStore) {
    parties(store, "c1", "u1").await;
    parties(store, "c2", "u1").await;
    let with_profile = consent("u1", "c1", 100);
    let mut without = consent("u1", "c2", 100);
    without.profile_id = None;
    store.put_consent(&with_profile).await.unwrap();
    store.put_consent(&without).await.unwrap();

    let (u1, c1) = (UserId::new("u1"), ClientId::new("c1"));
    assert_eq!(store.consent(&u1, &c1).await.unwrap(), Some(with_profile));
    assert_eq!(
        store.consent(&u1, &without.client_id).await.unwrap(),
        Some(without)
    );
    assert_eq!(store.consent(&UserId::new("u2"), &c1).await.unwrap(), None);
}

pub async fn consent_put_again_replaces_it_but_keeps_created_at(store: &AnyStore) {
    parties(store, "c1", "u1").await;
    let first = consent("u1", "c1", 100);
    store.put_consent(&first).await.unwrap();
    let again = ConsentRecord {
        scope: ScopeSet::parse("openid orders:read").unwrap(),
        profile_id: None,
        created_at: UnixTime(900),
        updated_at: UnixTime(900),
        ..first.clone()
    };

    store.put_consent(&again).await.unwrap();

    let stored = store
        .consent(&first.user_id, &first.client_id)
        .await
        .unwrap();
    let expected = ConsentRecord {
        created_at: first.created_at,
        ..again
    };
    assert_eq!(stored, Some(expected));
    assert_eq!(store.consents_of(&first.user_id).await.unwrap().len(), 1);
}

pub async fn consent_deleted_once(store: &AnyStore) {
    parties(store, "c1", "u1").await;
    parties(store, "c2", "u1").await;
    let gone = consent("u1", "c1", 100);
    let kept = consent("u1", "c2", 100);
    store.put_consent(&gone).await.unwrap();
    store.put_consent(&kept).await.unwrap();

    assert!(
        store
            .delete_consent(&gone.user_id, &gone.client_id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_consent(&gone.user_id, &gone.client_id)
            .await
            .unwrap()
    );

    assert_eq!(
        store.consent(&gone.user_id, &gone.client_id).await.unwrap(),
        None
    );
    assert_eq!(store.consents_of(&gone.user_id).await.unwrap(), vec![kept]);
}

pub async fn consents_of_user_oldest_first(store: &AnyStore) {
    for client in ["c1", "c2", "c3", "c4"] {
        parties(store, client, "u1").await;
    }
    parties(store, "c1", "u2").await;
    let newest = consent("u1", "c1", 300);
    let oldest = consent("u1", "c2", 100);
    let tied_b = consent("u1", "c4", 200);
    let tied_a = consent("u1", "c3", 200);
    for c in [&newest, &oldest, &tied_b, &tied_a, &consent("u2", "c1", 50)] {
        store.put_consent(c).await.unwrap();
    }
    // Changing a consent does not make it newer.
    let changed = ConsentRecord {
        updated_at: UnixTime(400),
        ..oldest.clone()
    };
    store.put_consent(&changed).await.unwrap();

    let got = store.consents_of(&UserId::new("u1")).await.unwrap();
    assert_eq!(got, vec![changed, tied_a, tied_b, newest]);
    assert_eq!(
        store.consents_of(&UserId::new("nobody")).await.unwrap(),
        vec![]
    );
}
