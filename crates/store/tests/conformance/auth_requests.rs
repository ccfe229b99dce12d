use portcullis_core::pkce::ChallengeMethod;
use portcullis_core::store::{AuthRequestRecord, AuthRequestStore as _, CodeChallenge};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, ScopeSet};
use portcullis_store::SqlStore;

use crate::codes::parties;

/// A pending request with every optional field set.
pub fn auth_request(id: &str, expires_at: i64) -> AuthRequestRecord {
    AuthRequestRecord {
        id: id.into(),
        client_id: ClientId::new("c1"),
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_given: true,
        scope: ScopeSet::parse("openid wallet:read").unwrap(),
        state: Some("af0ifjsldkj".into()),
        challenge: Some(CodeChallenge {
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            method: ChallengeMethod::S256,
        }),
        nonce: Some("n-0S6_WzA2Mj".into()),
        prompt: "login consent".into(),
        max_age: Some(300),
        created_at: UnixTime(expires_at - 600),
        expires_at: UnixTime(expires_at),
    }
}

pub async fn auth_request_round_trip_with_every_field(store: &SqlStore) {
    parties(store, "c1", "u1").await;
    let full = auth_request("req-full", 10_000);
    store.insert_auth_request(&full).await.unwrap();
    let mut plain = auth_request("req-plain", 10_000);
    plain.challenge = Some(CodeChallenge {
        challenge: "plain-challenge-plain-challenge-plain-challenge".into(),
        method: ChallengeMethod::Plain,
    });
    store.insert_auth_request(&plain).await.unwrap();

    assert_eq!(store.auth_request("req-full").await.unwrap(), Some(full));
    assert_eq!(store.auth_request("req-plain").await.unwrap(), Some(plain));
    assert_eq!(store.auth_request("nope").await.unwrap(), None);
}

pub async fn auth_request_round_trip_without_optional_fields(store: &SqlStore) {
    parties(store, "c1", "u1").await;
    let bare = AuthRequestRecord {
        redirect_uri_given: false,
        state: None,
        challenge: None,
        nonce: None,
        prompt: String::new(),
        max_age: None,
        ..auth_request("req-bare", 10_000)
    };
    store.insert_auth_request(&bare).await.unwrap();
    assert_eq!(store.auth_request("req-bare").await.unwrap(), Some(bare));
}

pub async fn auth_request_deleted(store: &SqlStore) {
    parties(store, "c1", "u1").await;
    let kept = auth_request("req-kept", 10_000);
    store
        .insert_auth_request(&auth_request("req-gone", 10_000))
        .await
        .unwrap();
    store.insert_auth_request(&kept).await.unwrap();

    store.delete_auth_request("req-gone").await.unwrap();
    store.delete_auth_request("req-gone").await.unwrap();

    assert_eq!(store.auth_request("req-gone").await.unwrap(), None);
    assert_eq!(store.auth_request("req-kept").await.unwrap(), Some(kept));
}
