use crate::AnyStore;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::SessionRecord;
use portcullis_core::time::UnixTime;
use portcullis_proto::UserId;

use crate::codes::parties;

pub fn session(secret: &str, user: Option<&str>, expires_at: i64) -> SessionRecord {
    SessionRecord {
        id_hash: SecretHash::of(secret),
        user_id: user.map(UserId::new),
        csrf_token: format!("csrf-{secret}"),
        auth_time: user.map(|_| UnixTime(expires_at - 3_000)),
        created_at: UnixTime(expires_at - 3_600),
        expires_at: UnixTime(expires_at),
    }
}

pub async fn session_round_trip_with_and_without_user(store: &AnyStore) {
    parties(store, "c1", "u1").await;
    let logged_in = session("s1", Some("u1"), 10_000);
    let anonymous = session("s2", None, 10_000);
    store.insert_session(&logged_in).await.unwrap();
    store.insert_session(&anonymous).await.unwrap();

    assert!(logged_in.auth_time.is_some() && anonymous.auth_time.is_none());
    assert_eq!(
        store.session(&logged_in.id_hash).await.unwrap(),
        Some(logged_in)
    );
    assert_eq!(
        store.session(&anonymous.id_hash).await.unwrap(),
        Some(anonymous)
    );
    assert_eq!(store.session(&SecretHash::of("nope")).await.unwrap(), None);
}

pub async fn session_deleted(store: &AnyStore) {
    let gone = session("s1", None, 10_000);
    let kept = session("s2", None, 10_000);
    store.insert_session(&gone).await.unwrap();
    store.insert_session(&kept).await.unwrap();

    store.delete_session(&gone.id_hash).await.unwrap();
    store.delete_session(&gone.id_hash).await.unwrap();

    assert_eq!(store.session(&gone.id_hash).await.unwrap(), None);
    assert_eq!(store.session(&kept.id_hash).await.unwrap(), Some(kept));
}

pub async fn delete_sessions_of_user_counts_only_theirs(store: &AnyStore) {
    parties(store, "c1", "u1").await;
    parties(store, "c1", "u2").await;
    let theirs = [
        session("a", Some("u1"), 10_000),
        session("b", Some("u1"), 20_000),
    ];
    let others = [session("c", Some("u2"), 10_000), session("d", None, 10_000)];
    for s in theirs.iter().chain(&others) {
        store.insert_session(s).await.unwrap();
    }

    assert_eq!(
        store.delete_sessions_of(&UserId::new("u1")).await.unwrap(),
        2
    );
    assert_eq!(
        store.delete_sessions_of(&UserId::new("u1")).await.unwrap(),
        0
    );

    for s in &theirs {
        assert_eq!(store.session(&s.id_hash).await.unwrap(), None);
    }
    for s in others {
        assert_eq!(store.session(&s.id_hash).await.unwrap(), Some(s));
    }
}
