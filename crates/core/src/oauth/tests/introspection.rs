//! Token introspection (RFC 7662): what is active, and for whom.

use portcullis_proto::Secret;

use super::bench::{ALICE, APP, Bench, NATIVE, scopes};
use crate::oauth::TokenError;
use crate::oauth::client_auth::AuthMethod;
use crate::oauth::grant::GrantRequest;
use crate::oauth::introspection::introspect;
use crate::store::RevocationStore as _;

#[tokio::test]
async fn live_access_token_is_active_with_its_claims() {
    let bench = Bench::new().await;
    let issued = bench.issued("openid profile").await;

    let answer = bench.introspect(&issued.access_token).await;

    assert!(answer.active);
    assert_eq!(answer.scope.as_deref(), Some("openid profile"));
    assert_eq!(answer.client_id.as_deref(), Some(APP));
    assert_eq!(answer.sub.as_deref(), Some(ALICE));
    assert_eq!(answer.token_type.as_deref(), Some("Bearer"));
    assert_eq!(answer.exp, Some(bench.now().0 + 300));
}

#[tokio::test]
async fn access_token_is_inactive_once_expired_or_revoked() {
    let bench = Bench::new().await;
    let expiring = bench.issued("openid").await.access_token;
    bench.clock.advance(300);
    assert!(!bench.introspect(&expiring).await.active, "expired");

    let revoked = bench.issued("openid").await.access_token;
    let claims = crate::oauth::access::check(&bench.ctx(), revoked.expose())
        .await
        .unwrap();
    bench
        .store
        .revoke_access_token(&claims.jti, crate::time::UnixTime(claims.exp))
        .await
        .unwrap();
    assert_eq!(bench.introspect(&revoked).await, Default::default());
}

#[tokio::test]
async fn refresh_token_is_active_for_its_own_client_only_until_rotated() {
    let bench = Bench::new().await;
    let token = bench.issued("openid profile").await.refresh_token.unwrap();

    let own = bench.introspect(&token).await;
    assert!(own.active);
    assert_eq!(own.scope.as_deref(), Some("openid profile"));
    assert_eq!(own.sub.as_deref(), Some(ALICE));
    assert_eq!(own.token_type, None, "a refresh token has no token type");
    assert_eq!(own.exp, Some(bench.now().0 + 3_600));

    // Another confidential client (a resource server) learns nothing of it.
    let mut resource_server = bench.authenticated(APP, AuthMethod::Basic).await;
    let mut client = (*resource_server.client).clone();
    client.id = portcullis_proto::ClientId::new("rs");
    resource_server.client = std::sync::Arc::new(client);
    let other = introspect(&bench.ctx(), &resource_server, &token)
        .await
        .unwrap();
    assert!(!other.active);

    bench.refresh(&token, Some("profile")).await.unwrap();
    assert!(!bench.introspect(&token).await.active, "rotated");
}

#[tokio::test]
async fn public_client_may_not_introspect() {
    let bench = Bench::new().await;
    let issued = bench.issued("openid").await;
    let native = bench.authenticated(NATIVE, AuthMethod::None).await;

    let refused = introspect(&bench.ctx(), &native, &issued.access_token).await;

    assert!(
        matches!(refused, Err(TokenError::ClientAuthFailed { basic: false })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn client_credentials_token_is_active_without_a_grant() {
    let bench = Bench::new().await;
    let issued = bench
        .token(
            APP,
            GrantRequest::ClientCredentials {
                scope: Some("profile".into()),
            },
        )
        .await
        .unwrap();

    let answer = bench.introspect(&issued.access_token).await;

    assert!(answer.active);
    assert_eq!(answer.sub.as_deref(), Some(APP));
    assert_eq!(answer.scope, Some(scopes("profile").to_string()));
    assert!(!bench.introspect(&Secret::new("not.a.token")).await.active);
}
