//! The partner example against a spawned Portcullis.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use portcullis_client::{Error, ErrorCode};
use portcullis_example_partner::{client, granted_profiles};
use portcullis_testkit::flow::{self, Pkce, confidential};
use portcullis_testkit::spawn_app;

#[tokio::test]
async fn a_partner_lists_the_profiles_that_granted_it_access() {
    let portcullis = spawn_app().await;
    let mut new = confidential("Partner");
    new.partner = true;
    let (registered, secret) = portcullis.client(new).await;
    let partner = client(
        &portcullis.base,
        registered.id.as_str(),
        secret.unwrap().expose(),
    )
    .await
    .unwrap();
    let granted = granted_profiles(&partner, Some("profile:read"))
        .await
        .unwrap();
    assert_eq!(granted.client_id, registered.id.as_str());
    // Nobody has granted this new partner anything yet.
    assert!(granted.profiles.is_empty(), "{:?}", granted.profiles);
}

#[tokio::test]
async fn a_wrong_secret_is_a_typed_invalid_client() {
    let portcullis = spawn_app().await;
    let mut new = confidential("Partner");
    new.partner = true;
    let (registered, _) = portcullis.client(new).await;
    let partner = client(&portcullis.base, registered.id.as_str(), "wrong")
        .await
        .unwrap();
    match granted_profiles(&partner, None).await {
        Err(Error::OAuth(e)) => assert_eq!(e.code(), Some(ErrorCode::InvalidClient)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_profile_appears_once_its_owner_authorizes_the_partner() {
    let portcullis = spawn_app().await;
    portcullis.customer("ada@example.com").await;
    let mut new = confidential("Partner");
    new.partner = true;
    let (registered, secret) = portcullis.client(new).await;
    // Ada authorizes the partner; consent binds her profile to the grant.
    let pkce = Pkce::new();
    let callback = portcullis
        .code_flow(
            "ada@example.com",
            &flow::request(registered.id.as_str(), &pkce, "profile:read"),
            None,
        )
        .await;
    let (status, body) = portcullis
        .exchange(
            &registered,
            secret.as_ref(),
            &callback.code(),
            Some(&pkce.verifier),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let partner = client(
        &portcullis.base,
        registered.id.as_str(),
        secret.unwrap().expose(),
    )
    .await
    .unwrap();
    let granted = granted_profiles(&partner, Some("profile:read"))
        .await
        .unwrap();
    assert_eq!(granted.profiles.len(), 1, "{:?}", granted.profiles);
    assert_eq!(granted.profiles[0].name, "Test User");
}
