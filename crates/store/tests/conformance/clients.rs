use std::collections::BTreeSet;

use crate::AnyStore;
use portcullis_core::client::{
    Client, ClientKind, ClientSecrets, GrantType, PkcePolicy, RedirectUri, WebOrigin,
};
use portcullis_core::hash::SecretHash;
use portcullis_core::keys::SigningAlg;
use portcullis_core::store::{PageRequest, StoreError};
use portcullis_core::time::UnixTime;
use portcullis_proto::{ClientId, ScopeSet};

pub fn client(id: &str) -> Client {
    Client {
        id: ClientId::new(id),
        name: "Pied Piper".into(),
        kind: ClientKind::Confidential,
        secrets: ClientSecrets {
            current: Some(SecretHash::of("s1")),
            previous: Some((SecretHash::of("s0"), UnixTime(500))),
        },
        redirect_uris: vec![
            RedirectUri::parse("https://app.example/cb").unwrap(),
            RedirectUri::parse("http://127.0.0.1/cb").unwrap(),
        ],
        post_logout_redirect_uris: vec![RedirectUri::parse("https://app.example/bye").unwrap()],
        web_origins: vec![
            WebOrigin::parse("http://127.0.0.1:5173").unwrap(),
            WebOrigin::parse("https://app_1.example").unwrap(),
        ],
        dpop_bound_access_tokens: true,
        require_pushed_authorization_requests: true,
        jwks: Some(serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": "k1",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        }]})),
        grant_types: BTreeSet::from([GrantType::AuthorizationCode, GrantType::RefreshToken]),
        scopes: ScopeSet::parse("openid wallet:read").unwrap(),
        access_token_ttl: 3600,
        refresh_token_ttl: 86_400,
        pkce: PkcePolicy::PlainAllowed,
        id_token_alg: SigningAlg::Ps256,
        partner: true,
        admin: false,
        enabled: true,
        logo_uri: Some("https://app.example/logo.png".into()),
        homepage_uri: None,
        created_at: UnixTime(100),
        updated_at: UnixTime(200),
    }
}

pub async fn client_round_trip_with_every_field(store: &AnyStore) {
    let c = client("c1");
    store.insert_client(&c).await.unwrap();
    assert_eq!(store.client(&c.id).await.unwrap(), Some(c));
    assert_eq!(store.client(&ClientId::new("nope")).await.unwrap(), None);

    let mut public = client("c2");
    public.kind = ClientKind::Public;
    public.secrets = ClientSecrets::default();
    store.insert_client(&public).await.unwrap();
    assert_eq!(store.client(&public.id).await.unwrap(), Some(public));
}

pub async fn client_update_and_delete(store: &AnyStore) {
    let mut c = client("c1");
    store.insert_client(&c).await.unwrap();
    c.name = "Hooli".into();
    c.enabled = false;
    c.secrets.previous = None;
    c.scopes = ScopeSet::parse("orders:read").unwrap();
    c.updated_at = UnixTime(300);
    assert!(store.update_client(&c).await.unwrap());
    assert_eq!(store.client(&c.id).await.unwrap(), Some(c.clone()));
    assert!(!store.update_client(&client("missing")).await.unwrap());

    assert!(store.delete_client(&c.id).await.unwrap());
    assert!(!store.delete_client(&c.id).await.unwrap());
    assert_eq!(store.client(&c.id).await.unwrap(), None);
}

pub async fn web_origins_are_found_exactly_among_enabled_clients(store: &AnyStore) {
    store.insert_client(&client("c1")).await.unwrap();
    let mut no_origins = client("c2");
    no_origins.web_origins = Vec::new();
    store.insert_client(&no_origins).await.unwrap();
    assert!(
        store
            .origin_registered("http://127.0.0.1:5173")
            .await
            .unwrap()
    );
    assert!(
        store
            .origin_registered("https://app_1.example")
            .await
            .unwrap()
    );
    for near in [
        "http://127.0.0.1:517",
        "127.0.0.1:5173",
        "https://app_1.example/",
        // Exact, as browsers send it: SQLite's LIKE alone would ignore case.
        "HTTP://127.0.0.1:5173",
        "https://APP_1.example",
        // `_` and `%` are LIKE wildcards: they must only match themselves.
        "https://appx1.example",
        "https://app%.example",
        "%",
        "",
        "\"",
    ] {
        assert!(!store.origin_registered(near).await.unwrap(), "{near:?}");
    }
    let mut disabled = client("c1");
    disabled.enabled = false;
    assert!(store.update_client(&disabled).await.unwrap());
    assert!(
        !store
            .origin_registered("http://127.0.0.1:5173")
            .await
            .unwrap()
    );
}

pub async fn duplicate_client_id_conflicts(store: &AnyStore) {
    store.insert_client(&client("c1")).await.unwrap();
    let again = store.insert_client(&client("c1")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

pub async fn clients_list_in_pages(store: &AnyStore) {
    for id in ["c3", "c1", "c2"] {
        store.insert_client(&client(id)).await.unwrap();
    }
    let first = store.list_clients(&PageRequest::first(2)).await.unwrap();
    let ids: Vec<_> = first.items.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(ids, ["c1", "c2"]);
    assert_eq!(first.next.as_deref(), Some("c2"));
    let second = store
        .list_clients(&PageRequest {
            after: first.next,
            limit: 2,
        })
        .await
        .unwrap();
    let ids: Vec<_> = second.items.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(ids, ["c3"]);
    assert_eq!(second.next, None);
}
