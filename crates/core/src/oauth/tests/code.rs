//! The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.6): a code is redeemed once,
//! within its minute, by its client, with its redirect URI and PKCE verifier; a second
//! redemption revokes what the first issued.

use portcullis_proto::{ClientId, GrantId, Secret};

use super::bench::{ALICE, APP, APP_REDIRECT, Bench, NATIVE, VERIFIER, scopes};
use crate::audit::AuditKind;
use crate::hash::SecretHash;
use crate::oauth::access::{self, AccessError};
use crate::oauth::grant::GrantRequest;
use crate::oauth::{CODE_TTL_SECONDS, TokenError};
use crate::store::{
    CodeStore as _, ConsentStore as _, Ending, GrantStore as _, RefreshTokenStore as _,
};

#[tokio::test]
async fn code_redeemed_once_stores_its_grant_and_first_refresh_token() {
    let bench = Bench::new().await;
    let code = bench.code("openid profile").await;
    bench.clock.advance(5);

    let issued = bench.redeem(&code, Some(VERIFIER)).await.unwrap();

    assert_eq!(issued.scope, scopes("openid profile"));
    assert!(issued.id_token.is_some(), "openid was granted");
    let claims = access::check(&bench.ctx(), issued.access_token.expose())
        .await
        .unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.client_id.as_str()),
        (ALICE, APP)
    );
    let stored = bench
        .store
        .code(&SecretHash::of(&code))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.redeemed_at, Some(bench.now()));
    let grant_id = stored.grant_id.expect("the code names its grant");
    assert_eq!(claims.gid.as_deref(), Some(grant_id.as_str()));
    let grant = bench.store.grant(&grant_id).await.unwrap().unwrap();
    assert_eq!((grant.created_at, grant.revoked_at), (bench.now(), None));
    let refresh = issued.refresh_token.expect("the client may refresh");
    let token = bench
        .store
        .refresh_token(&SecretHash::of(refresh.expose()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token.grant_id, grant_id);
    assert_eq!(token.expires_at, bench.now().plus(3_600));
    assert_eq!(bench.audited(), [AuditKind::TokensIssued]);
}

#[tokio::test]
async fn code_redeemed_twice_revokes_first_tokens() {
    let bench = Bench::new().await;
    let code = bench.code("openid").await;
    let first = bench.redeem(&code, Some(VERIFIER)).await.unwrap();
    bench.clock.advance(10);

    let again = bench.redeem(&code, Some(VERIFIER)).await;

    assert!(
        matches!(again, Err(TokenError::CodeAlreadyRedeemed)),
        "{again:?}"
    );
    let grant_id = bench
        .store
        .code(&SecretHash::of(&code))
        .await
        .unwrap()
        .unwrap()
        .grant_id
        .unwrap();
    let grant = bench.store.grant(&grant_id).await.unwrap().unwrap();
    assert_eq!(grant.revoked_at, Some(bench.now()));
    assert!(matches!(
        access::check(&bench.ctx(), first.access_token.expose()).await,
        Err(AccessError::Revoked)
    ));
    let refreshed = bench
        .refresh(first.refresh_token.as_ref().unwrap(), None)
        .await;
    assert!(
        matches!(refreshed, Err(TokenError::RefreshTokenInvalid)),
        "{refreshed:?}"
    );
    assert_eq!(
        bench.audited(),
        [
            AuditKind::TokensIssued,
            AuditKind::CodeReuse,
            AuditKind::GrantRevoked
        ]
    );
}

#[tokio::test]
async fn code_expires_after_its_minute_and_stays_unredeemed() {
    let bench = Bench::new().await;
    let code = bench.code("openid").await;
    bench.clock.advance(CODE_TTL_SECONDS);

    let late = bench.redeem(&code, Some(VERIFIER)).await;

    assert!(matches!(late, Err(TokenError::CodeInvalid)), "{late:?}");
    let stored = bench
        .store
        .code(&SecretHash::of(&code))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.redeemed_at, stored.grant_id), (None, None));
    assert_eq!(bench.audited(), []);
}

#[tokio::test]
async fn code_a_second_before_expiry_is_redeemed() {
    let bench = Bench::new().await;
    let code = bench.code("openid").await;
    bench.clock.advance(CODE_TTL_SECONDS - 1);
    assert!(bench.redeem(&code, Some(VERIFIER)).await.is_ok());
}

#[tokio::test]
async fn pkce_verifier_must_be_sent_and_match_the_challenge() {
    let bench = Bench::new().await;
    let code = bench.code("openid").await;

    let missing = bench.redeem(&code, None).await;
    assert!(
        matches!(missing, Err(TokenError::PkceVerifierMissing)),
        "{missing:?}"
    );
    let wrong = bench.redeem(&code, Some(&format!("{VERIFIER}x"))).await;
    assert!(
        matches!(wrong, Err(TokenError::PkceVerifierMismatch)),
        "{wrong:?}"
    );
    // A failed check spends nothing: the holder of the right verifier still redeems it.
    let stored = bench
        .store
        .code(&SecretHash::of(&code))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.redeemed_at, None);
    assert!(bench.redeem(&code, Some(VERIFIER)).await.is_ok());
}

#[tokio::test]
async fn code_is_bound_to_its_client_and_redirect_uri() {
    let bench = Bench::new().await;
    let code = bench.code("openid").await;

    let other_client = bench
        .token(
            NATIVE,
            GrantRequest::AuthorizationCode {
                code: Secret::new(&code),
                redirect_uri: Some(APP_REDIRECT.into()),
                code_verifier: Some(Secret::new(VERIFIER)),
            },
        )
        .await;
    assert!(
        matches!(other_client, Err(TokenError::CodeInvalid)),
        "{other_client:?}"
    );
    for redirect_uri in [None, Some("https://app.example/other")] {
        let mismatch = bench
            .token(
                APP,
                GrantRequest::AuthorizationCode {
                    code: Secret::new(&code),
                    redirect_uri: redirect_uri.map(str::to_owned),
                    code_verifier: Some(Secret::new(VERIFIER)),
                },
            )
            .await;
        assert!(
            matches!(mismatch, Err(TokenError::RedirectUriMismatch)),
            "{mismatch:?}"
        );
    }
    let stored = bench
        .store
        .code(&SecretHash::of(&code))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.redeemed_at, None, "no failed attempt spends it");
}

#[tokio::test]
async fn unknown_code_is_invalid() {
    let bench = Bench::new().await;
    let unknown = bench.redeem("never-issued", Some(VERIFIER)).await;
    assert!(
        matches!(unknown, Err(TokenError::CodeInvalid)),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn code_of_a_withdrawn_consent_issues_nothing() {
    let bench = Bench::new().await;
    let code = bench.code("openid").await;
    let (alice, app) = (portcullis_proto::UserId::new(ALICE), ClientId::new(APP));
    assert!(bench.store.delete_consent(&alice, &app).await.unwrap());

    let withdrawn = bench.redeem(&code, Some(VERIFIER)).await;

    assert!(
        matches!(withdrawn, Err(TokenError::CodeInvalid)),
        "{withdrawn:?}"
    );
    let stored = bench
        .store
        .code(&SecretHash::of(&code))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.grant_id, None);
}

#[tokio::test]
async fn code_outstanding_when_the_app_is_revoked_is_gone() {
    let bench = Bench::new().await;
    let code = bench.code("openid").await;
    let ending = Ending::App {
        user: portcullis_proto::UserId::new(ALICE),
        client: ClientId::new(APP),
    };
    let ended = bench.store.end_access(&ending, bench.now()).await.unwrap();
    assert_eq!((ended.consents, ended.codes), (1, 1));

    let revoked = bench.redeem(&code, Some(VERIFIER)).await;

    assert!(
        matches!(revoked, Err(TokenError::CodeInvalid)),
        "{revoked:?}"
    );
    assert_eq!(
        bench.store.code(&SecretHash::of(&code)).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn code_of_a_disabled_user_is_refused() {
    let bench = Bench::new().await;
    let code = bench.code("openid").await;
    let mut alice = bench.alice().await;
    alice.disabled = true;
    crate::store::UserStore::update_user(bench.store.as_ref(), &alice)
        .await
        .unwrap();

    let refused = bench.redeem(&code, Some(VERIFIER)).await;

    assert!(
        matches!(refused, Err(TokenError::UserUnavailable)),
        "{refused:?}"
    );
    let stored = bench
        .store
        .code(&SecretHash::of(&code))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.redeemed_at, None);
}

#[tokio::test]
async fn client_without_refresh_grant_gets_no_refresh_token() {
    let bench = Bench::new().await;
    let mut app = crate::store::ClientStore::client(bench.store.as_ref(), &ClientId::new(APP))
        .await
        .unwrap()
        .unwrap();
    app.grant_types
        .remove(&crate::client::GrantType::RefreshToken);
    crate::store::ClientStore::update_client(bench.store.as_ref(), &app)
        .await
        .unwrap();

    let issued = bench.issued("profile").await;

    assert!(issued.refresh_token.is_none());
    assert!(issued.id_token.is_none(), "no openid, no ID token");
    let claims = access::check(&bench.ctx(), issued.access_token.expose())
        .await
        .unwrap();
    let grant = GrantId::new(claims.gid.unwrap());
    assert!(bench.store.grant(&grant).await.unwrap().is_some());
}
