//! The refresh token grant (RFC 6749 §6): rotation, reuse detection (RFC 9700 §4.14.2),
//! scope narrowing, client binding and expiry.

use portcullis_core::store::UserStore as _;
use portcullis_testkit::flow::{confidential, public};
use portcullis_testkit::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};

use crate::oauth_kit::{Expect, active, check_access_token, refresh, user_tokens};

const EMAIL: &str = "alice@example.com";
const SCOPE: &str = "openid wallet:read orders:read";

#[tokio::test]
async fn refresh_rotates_the_token_and_spends_the_old_one() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let user = app.user(EMAIL).await;
    let first = user_tokens(&app, &client, Some(&secret), EMAIL, SCOPE).await;
    let r1 = first.str("refresh_token");

    app.clock.advance(10);
    let second = refresh(&app, &client, Some(&secret), &r1, None).await;
    let body = second.assert_tokens();
    assert_eq!(body["expires_in"], 3600);
    assert!(body.get("id_token").is_none());
    let r2 = second.str("refresh_token");
    assert_ne!(r1, r2, "a new refresh token on every use");
    assert_ne!(first.str("access_token"), second.str("access_token"));
    let claims = check_access_token(
        &app,
        &second.str("access_token"),
        &Expect {
            sub: user.id.as_str(),
            client_id: client.id.as_str(),
            scope: SCOPE,
            user: true,
        },
    )
    .await;
    let first_claims = crate::oauth_kit::peek(&first.str("access_token"));
    assert_eq!(claims["gid"], first_claims["gid"], "the same grant");
    assert_eq!(
        claims["auth_time"], first_claims["auth_time"],
        "auth_time is the login's"
    );

    // The new one works; the old one no longer shows as active.
    assert!(active(&app, &client, &secret, &r2).await);
    assert!(!active(&app, &client, &secret, &r1).await);
    let third = refresh(&app, &client, Some(&secret), &r2, None).await;
    third.assert_tokens();
}

async fn refresh_token_reused_revokes_the_grant(app: TestApp) {
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let (resource, resource_secret) = app.client(confidential("Resource server")).await;
    let resource_secret = resource_secret.unwrap();
    app.user(EMAIL).await;
    let first = user_tokens(&app, &client, Some(&secret), EMAIL, SCOPE).await;
    let r1 = first.str("refresh_token");
    let second = refresh(&app, &client, Some(&secret), &r1, None).await;
    second.assert_tokens();
    let r2 = second.str("refresh_token");
    let access1 = first.str("access_token");
    let access2 = second.str("access_token");
    assert!(active(&app, &resource, &resource_secret, &access2).await);

    // The spent token comes back: someone holds a copy.
    refresh(&app, &client, Some(&secret), &r1, None)
        .await
        .assert_error(400, "invalid_grant");

    // The whole family is revoked: the newest refresh token and every access token.
    refresh(&app, &client, Some(&secret), &r2, None)
        .await
        .assert_error(400, "invalid_grant");
    assert!(!active(&app, &client, &secret, &r2).await);
    assert!(!active(&app, &resource, &resource_secret, &access1).await);
    assert!(!active(&app, &resource, &resource_secret, &access2).await);
    // The access tokens are refused by the resource endpoints too.
    let userinfo = app
        .http
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(&access2)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
}

#[tokio::test]
async fn refresh_token_reused_revokes_the_grant_on_sqlite() {
    refresh_token_reused_revokes_the_grant(spawn_app().await).await;
}

#[tokio::test]
async fn refresh_token_reused_revokes_the_grant_on_postgres() {
    let options = AppOptions {
        backend: Backend::Postgres,
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(options).await else {
        return;
    };
    refresh_token_reused_revokes_the_grant(app).await;
}

#[tokio::test]
async fn refresh_with_narrower_scope_keeps_the_grant_scope_for_the_next_refresh() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let user = app.user(EMAIL).await;
    let first = user_tokens(&app, &client, Some(&secret), EMAIL, SCOPE).await;

    let narrow = refresh(
        &app,
        &client,
        Some(&secret),
        &first.str("refresh_token"),
        Some("wallet:read"),
    )
    .await;
    assert_eq!(narrow.assert_tokens()["scope"], "wallet:read");
    let expect = Expect {
        sub: user.id.as_str(),
        client_id: client.id.as_str(),
        scope: "wallet:read",
        user: true,
    };
    check_access_token(&app, &narrow.str("access_token"), &expect).await;

    // RFC 6749 §6: the refresh token keeps the scope originally granted.
    let next = refresh(
        &app,
        &client,
        Some(&secret),
        &narrow.str("refresh_token"),
        None,
    )
    .await;
    assert_eq!(
        next.assert_tokens()["scope"],
        "openid orders:read wallet:read"
    );
    check_access_token(
        &app,
        &next.str("access_token"),
        &Expect {
            scope: SCOPE,
            ..expect
        },
    )
    .await;
}

#[tokio::test]
async fn refresh_with_wider_scope_is_invalid_scope() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    app.user(EMAIL).await;
    let first = user_tokens(&app, &client, Some(&secret), EMAIL, "openid wallet:read").await;
    let r1 = first.str("refresh_token");
    // orders:read is allowed to the client but was not granted by the user.
    refresh(
        &app,
        &client,
        Some(&secret),
        &r1,
        Some("openid wallet:read orders:read"),
    )
    .await
    .assert_error(400, "invalid_scope");
    // The refused request did not spend the token.
    refresh(&app, &client, Some(&secret), &r1, None)
        .await
        .assert_tokens();
}

#[tokio::test]
async fn public_client_refreshes_with_only_its_client_id() {
    let app = spawn_app().await;
    let (client, _) = app.client(public("Mobile app")).await;
    let user = app.user(EMAIL).await;
    let first = user_tokens(&app, &client, None, EMAIL, SCOPE).await;
    let second = refresh(&app, &client, None, &first.str("refresh_token"), None).await;
    second.assert_tokens();
    assert_ne!(
        second.str("refresh_token"),
        first.str("refresh_token"),
        "public clients' tokens rotate"
    );
    check_access_token(
        &app,
        &second.str("access_token"),
        &Expect {
            sub: user.id.as_str(),
            client_id: client.id.as_str(),
            scope: SCOPE,
            user: true,
        },
    )
    .await;
}

#[tokio::test]
async fn public_client_refresh_token_used_by_another_client_is_invalid_grant() {
    let app = spawn_app().await;
    let (client, _) = app.client(public("Mobile app")).await;
    let (other, _) = app.client(public("Other app")).await;
    let (confidential_other, other_secret) = app.client(confidential("Confidential")).await;
    app.user(EMAIL).await;
    let first = user_tokens(&app, &client, None, EMAIL, SCOPE).await;
    let r1 = first.str("refresh_token");
    refresh(&app, &other, None, &r1, None)
        .await
        .assert_error(400, "invalid_grant");
    refresh(&app, &confidential_other, other_secret.as_ref(), &r1, None)
        .await
        .assert_error(400, "invalid_grant");
    // The owner can still use it: a failed theft spends nothing.
    refresh(&app, &client, None, &r1, None)
        .await
        .assert_tokens();
}

#[tokio::test]
async fn expired_refresh_token_is_invalid_grant() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    app.user(EMAIL).await;
    let first = user_tokens(&app, &client, Some(&secret), EMAIL, SCOPE).await;
    app.clock.advance(30 * 86_400 - 10);
    let second = refresh(
        &app,
        &client,
        Some(&secret),
        &first.str("refresh_token"),
        None,
    )
    .await;
    second.assert_tokens();
    app.clock.advance(30 * 86_400 + 1);
    refresh(
        &app,
        &client,
        Some(&secret),
        &second.str("refresh_token"),
        None,
    )
    .await
    .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn refresh_for_a_disabled_user_is_invalid_grant() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let mut user = app.user(EMAIL).await;
    let first = user_tokens(&app, &client, Some(&secret), EMAIL, SCOPE).await;
    user.disabled = true;
    assert!(app.store.update_user(&user).await.unwrap());
    refresh(
        &app,
        &client,
        Some(&secret),
        &first.str("refresh_token"),
        None,
    )
    .await
    .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn refresh_errors_for_missing_unknown_or_unauthorized_requests() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    crate::oauth_kit::token(
        &app,
        client.id.as_str(),
        Some(&secret),
        &[("grant_type", "refresh_token")],
    )
    .await
    .assert_error(400, "invalid_request");
    refresh(&app, &client, Some(&secret), "not-a-refresh-token", None)
        .await
        .assert_error(400, "invalid_grant");
    // A client without the refresh grant gets no refresh token and may not refresh.
    let (code_only, code_secret) = app
        .client(portcullis_core::admin::clients::NewClient {
            grant_types: std::collections::BTreeSet::from([
                portcullis_core::client::GrantType::AuthorizationCode,
            ]),
            ..confidential("Code only")
        })
        .await;
    let code_secret = code_secret.unwrap();
    app.user(EMAIL).await;
    let tokens = user_tokens(&app, &code_only, Some(&code_secret), EMAIL, "wallet:read").await;
    assert!(tokens.body.get("refresh_token").is_none());
    refresh(&app, &code_only, Some(&code_secret), "anything", None)
        .await
        .assert_error(400, "unauthorized_client");
}

#[tokio::test]
async fn refresh_with_malformed_scope_is_invalid_scope() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    app.user(EMAIL).await;
    let first = user_tokens(&app, &client, Some(&secret), EMAIL, SCOPE).await;
    refresh(
        &app,
        &client,
        Some(&secret),
        &first.str("refresh_token"),
        Some("openid  wallet:read"),
    )
    .await
    .assert_error(400, "invalid_scope");
}

/// A scope the client has since lost is dropped from new access tokens, whatever the grant.
#[tokio::test]
async fn refresh_drops_scopes_the_client_no_longer_has() {
    let app = spawn_app().await;
    let (mut client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    app.user(EMAIL).await;
    let first = user_tokens(&app, &client, Some(&secret), EMAIL, SCOPE).await;
    client.scopes = portcullis_proto::ScopeSet::parse("openid orders:read").unwrap();
    portcullis_core::store::ClientStore::update_client(&app.store, &client)
        .await
        .unwrap();
    app.clock.advance(10); // Past the client cache.
    let second = refresh(
        &app,
        &client,
        Some(&secret),
        &first.str("refresh_token"),
        None,
    )
    .await;
    assert_eq!(second.assert_tokens()["scope"], "openid orders:read");
}
