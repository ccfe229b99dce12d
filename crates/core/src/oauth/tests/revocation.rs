//! Token revocation (RFC 7009): a refresh token ends its grant, an access token is recorded
//! until it would have expired, and another client's token is left alone.

use portcullis_proto::Secret;

use super::bench::{APP, Bench, NATIVE};
use crate::audit::AuditKind;
use crate::hash::SecretHash;
use crate::oauth::TokenError;
use crate::oauth::access::{self, AccessError};
use crate::oauth::client_auth::AuthMethod;
use crate::oauth::revocation::revoke;
use crate::store::{
    GrantStore as _, MaintenanceStore as _, RefreshTokenStore as _, RevocationStore as _,
};

async fn revoke_as(bench: &Bench, client: &str, token: &Secret) -> Result<(), TokenError> {
    let method = if client == APP {
        AuthMethod::Basic
    } else {
        AuthMethod::None
    };
    let client = bench.authenticated(client, method).await;
    revoke(&bench.ctx(), &client, token).await
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_grant() {
    let bench = Bench::new().await;
    let issued = bench.issued("openid").await;
    let refresh = issued.refresh_token.unwrap();
    bench.clock.advance(20);

    revoke_as(&bench, APP, &refresh).await.unwrap();

    let token = bench
        .store
        .refresh_token(&SecretHash::of(refresh.expose()))
        .await
        .unwrap()
        .unwrap();
    let grant = bench.store.grant(&token.grant_id).await.unwrap().unwrap();
    assert_eq!(grant.revoked_at, Some(bench.now()));
    assert!(matches!(
        access::check(&bench.ctx(), issued.access_token.expose()).await,
        Err(AccessError::Revoked)
    ));
    let refreshed = bench.refresh(&refresh, None).await;
    assert!(
        matches!(refreshed, Err(TokenError::RefreshTokenInvalid)),
        "{refreshed:?}"
    );
    assert_eq!(bench.audited()[1..], [AuditKind::TokenRevoked]);
}

#[tokio::test]
async fn revoking_an_access_token_records_it_until_it_expires() {
    let bench = Bench::new().await;
    let issued = bench.issued("openid").await;
    let claims = access::check(&bench.ctx(), issued.access_token.expose())
        .await
        .unwrap();

    revoke_as(&bench, APP, &issued.access_token).await.unwrap();

    assert!(
        bench
            .store
            .is_access_token_revoked(&claims.jti)
            .await
            .unwrap()
    );
    assert!(matches!(
        access::check(&bench.ctx(), issued.access_token.expose()).await,
        Err(AccessError::Revoked)
    ));
    // Only the access token: the grant and its refresh token live on.
    let gid = portcullis_proto::GrantId::new(claims.gid.clone().unwrap());
    assert_eq!(
        bench.store.grant(&gid).await.unwrap().unwrap().revoked_at,
        None
    );
    assert!(
        bench
            .refresh(issued.refresh_token.as_ref().unwrap(), None)
            .await
            .is_ok()
    );
    // Kept as long as the token could be presented, then forgotten.
    bench
        .store
        .delete_expired(crate::time::UnixTime(claims.exp))
        .await
        .unwrap();
    assert!(
        bench
            .store
            .is_access_token_revoked(&claims.jti)
            .await
            .unwrap()
    );
    bench
        .store
        .delete_expired(crate::time::UnixTime(claims.exp + 1))
        .await
        .unwrap();
    assert!(
        !bench
            .store
            .is_access_token_revoked(&claims.jti)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn another_clients_token_is_answered_alike_and_left_alone() {
    let bench = Bench::new().await;
    let issued = bench.issued("openid").await;
    let refresh = issued.refresh_token.unwrap();

    revoke_as(&bench, NATIVE, &refresh).await.unwrap();
    revoke_as(&bench, NATIVE, &issued.access_token)
        .await
        .unwrap();
    revoke_as(&bench, NATIVE, &Secret::new("unknown"))
        .await
        .unwrap();

    let token = bench
        .store
        .refresh_token(&SecretHash::of(refresh.expose()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        bench
            .store
            .grant(&token.grant_id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );
    assert!(
        access::check(&bench.ctx(), issued.access_token.expose())
            .await
            .is_ok()
    );
    assert_eq!(
        bench.audited(),
        [AuditKind::TokensIssued],
        "nothing revoked, nothing audited"
    );
}
