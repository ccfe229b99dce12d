//! The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700
//! §4.14.2).

use portcullis_proto::{ClientId, GrantId, Secret};

use super::bench::{APP, Bench, NATIVE};
use crate::audit::AuditKind;
use crate::hash::SecretHash;
use crate::oauth::TokenError;
use crate::oauth::access::{self, AccessError};
use crate::oauth::grant::GrantRequest;
use crate::store::{GrantStore as _, RefreshTokenStore as _};

/// The grant a refresh token belongs to.
async fn grant_of(bench: &Bench, token: &Secret) -> GrantId {
    bench.refresh_record(token).await.grant_id
}

#[tokio::test]
async fn refresh_rotates_the_token_within_its_grant() {
    let bench = Bench::new().await;
    let first = bench.issued("openid profile").await;
    let old = first.refresh_token.unwrap();
    bench.clock.advance(600);

    let next = bench.refresh(&old, None).await.unwrap();

    let new = next.refresh_token.expect("a successor");
    assert_ne!(new.expose(), old.expose());
    let spent = bench
        .store
        .refresh_token(&SecretHash::of(old.expose()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(spent.rotated_at, Some(bench.now()));
    let successor = bench
        .store
        .refresh_token(&SecretHash::of(new.expose()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(successor.grant_id, spent.grant_id);
    assert_eq!(successor.rotated_at, None);
    assert_eq!(
        successor.expires_at,
        bench.now().plus(3_600),
        "a fresh lifetime"
    );
    assert!(next.id_token.is_none(), "ID tokens come with codes only");
    let claims = access::check(&bench.ctx(), next.access_token.expose())
        .await
        .unwrap();
    assert_eq!(claims.gid.as_deref(), Some(spent.grant_id.as_str()));
}

#[tokio::test]
async fn rotated_token_presented_again_revokes_the_grant() {
    let bench = Bench::new().await;
    let first = bench.issued("openid").await;
    let old = first.refresh_token.unwrap();
    let next = bench.refresh(&old, None).await.unwrap();
    bench.clock.advance(30);

    let replay = bench.refresh(&old, None).await;

    assert!(
        matches!(replay, Err(TokenError::RefreshTokenReused)),
        "{replay:?}"
    );
    let grant = bench
        .store
        .grant(&grant_of(&bench, &old).await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grant.revoked_at, Some(bench.now()));
    // The legitimate client's newer tokens die with the grant.
    let successor = bench
        .refresh(next.refresh_token.as_ref().unwrap(), None)
        .await;
    assert!(
        matches!(successor, Err(TokenError::RefreshTokenInvalid)),
        "{successor:?}"
    );
    assert!(matches!(
        access::check(&bench.ctx(), next.access_token.expose()).await,
        Err(AccessError::Revoked)
    ));
    let kinds = bench.audited();
    assert_eq!(
        kinds[kinds.len() - 2..],
        [AuditKind::RefreshReuse, AuditKind::GrantRevoked]
    );
}

#[tokio::test]
async fn expired_refresh_token_is_invalid_and_not_rotated() {
    let bench = Bench::new().await;
    let token = bench.issued("openid").await.refresh_token.unwrap();
    bench.clock.advance(3_600);

    let late = bench.refresh(&token, None).await;

    assert!(
        matches!(late, Err(TokenError::RefreshTokenInvalid)),
        "{late:?}"
    );
    let stored = bench
        .store
        .refresh_token(&SecretHash::of(token.expose()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.rotated_at, None);
    let grant = bench.store.grant(&stored.grant_id).await.unwrap().unwrap();
    assert_eq!(grant.revoked_at, None, "expiry is not reuse");
}

#[tokio::test]
async fn refresh_may_narrow_the_scope_but_not_widen_it() {
    let bench = Bench::new().await;
    let token = bench.issued("openid profile").await.refresh_token.unwrap();

    let wider = bench.refresh(&token, Some("openid profile email")).await;
    assert!(
        matches!(wider, Err(TokenError::ScopeExceedsGrant)),
        "{wider:?}"
    );

    let narrower = bench.refresh(&token, Some("profile")).await.unwrap();
    assert_eq!(narrower.scope, super::bench::scopes("profile"));
    // The successor keeps the grant's scope, so a later refresh may ask for it all again.
    let successor = narrower.refresh_token.unwrap();
    let stored = bench
        .store
        .refresh_token(&SecretHash::of(successor.expose()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.scope, super::bench::scopes("openid profile"));
    let again = bench.refresh(&successor, None).await.unwrap();
    assert_eq!(again.scope, super::bench::scopes("openid profile"));
}

#[tokio::test]
async fn refresh_token_is_bound_to_its_client() {
    let bench = Bench::new().await;
    let token = bench.issued("openid").await.refresh_token.unwrap();

    let stolen = bench
        .token(
            NATIVE,
            GrantRequest::RefreshToken {
                refresh_token: token.clone(),
                scope: None,
            },
        )
        .await;

    assert!(
        matches!(stolen, Err(TokenError::RefreshTokenInvalid)),
        "{stolen:?}"
    );
    let stored = bench
        .store
        .refresh_token(&SecretHash::of(token.expose()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.rotated_at, None);
    assert_eq!(stored.client_id, ClientId::new(APP));
}

#[tokio::test]
async fn scope_the_client_lost_is_dropped_at_refresh() {
    let bench = Bench::new().await;
    let token = bench.issued("openid profile").await.refresh_token.unwrap();
    let mut app = crate::store::ClientStore::client(bench.store.as_ref(), &ClientId::new(APP))
        .await
        .unwrap()
        .unwrap();
    app.scopes = super::bench::scopes("openid");
    crate::store::ClientStore::update_client(bench.store.as_ref(), &app)
        .await
        .unwrap();

    let refreshed = bench.refresh(&token, None).await.unwrap();

    assert_eq!(refreshed.scope, super::bench::scopes("openid"));
}
