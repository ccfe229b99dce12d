//! Redeeming authorization codes at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6): the
//! tokens issued, and every way a redemption is refused.

use portcullis_core::client::PkcePolicy;
use portcullis_core::store::GrantStore as _;
use portcullis_testkit::flow::{Pkce, REDIRECT_URI, confidential};
use portcullis_testkit::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};

use crate::oauth_kit::{Expect, active, check_access_token, code_for, redeem, refresh, token};

const EMAIL: &str = "alice@example.com";

#[tokio::test]
async fn code_redemption_issues_verified_user_tokens() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let user = app.user(EMAIL).await;
    let (callback, pkce) = code_for(&app, &client, EMAIL, "wallet:read orders:read").await;
    let answer = redeem(
        &app,
        &client,
        Some(&secret),
        &callback.code(),
        &pkce.verifier,
    )
    .await;
    let body = answer.assert_tokens();
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "orders:read wallet:read");
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|r| r.len() >= 43)
    );
    assert!(body.get("id_token").is_none(), "no openid, no id_token");
    let claims = check_access_token(
        &app,
        &answer.str("access_token"),
        &Expect {
            sub: user.id.as_str(),
            client_id: client.id.as_str(),
            scope: "wallet:read orders:read",
            user: true,
        },
    )
    .await;
    let grant = app
        .store
        .grant(&portcullis_proto::GrantId::new(
            claims["gid"].as_str().unwrap(),
        ))
        .await
        .unwrap()
        .expect("gid names the grant");
    assert_eq!(grant.user_id, user.id);
    assert_eq!(grant.client_id, client.id);
}

/// A code for `alice`, its verifier, and the client that got it.
async fn setup(
    app: &TestApp,
) -> (
    portcullis_core::client::Client,
    portcullis_proto::Secret,
    String,
    Pkce,
) {
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let (callback, pkce) = code_for(app, &client, EMAIL, "openid wallet:read").await;
    (client, secret.unwrap(), callback.code(), pkce)
}

#[tokio::test]
async fn code_with_wrong_verifier_is_invalid_grant() {
    let app = spawn_app().await;
    let (client, secret, code, _) = setup(&app).await;
    redeem(&app, &client, Some(&secret), &code, &Pkce::new().verifier)
        .await
        .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn code_without_verifier_is_invalid_grant() {
    let app = spawn_app().await;
    let (client, secret, code, _) = setup(&app).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    token(&app, client.id.as_str(), Some(&secret), &form)
        .await
        .assert_error(400, "invalid_grant");
    // An empty verifier is no verifier.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", ""),
    ];
    token(&app, client.id.as_str(), Some(&secret), &form)
        .await
        .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn verifier_for_a_code_issued_without_challenge_is_invalid_grant() {
    let app = spawn_app().await;
    let (client, secret) = app
        .client(portcullis_core::admin::clients::NewClient {
            pkce: PkcePolicy::Optional,
            ..confidential("Legacy web app")
        })
        .await;
    let secret = secret.unwrap();
    app.user(EMAIL).await;
    let params = [
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "wallet:read"),
        ("state", "st"),
    ];
    let code = app.code_flow(EMAIL, &params, None).await.code();
    // A verifier for a code without challenge is a PKCE downgrade (RFC 9700 §4.8.2).
    redeem(&app, &client, Some(&secret), &code, &Pkce::new().verifier)
        .await
        .assert_error(400, "invalid_grant");

    // Without a verifier, such a code is redeemed.
    let code = app.code_flow(EMAIL, &params, None).await.code();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    token(&app, client.id.as_str(), Some(&secret), &form)
        .await
        .assert_tokens();
}

#[tokio::test]
async fn code_with_mismatched_or_missing_redirect_uri_is_invalid_grant() {
    let app = spawn_app().await;
    let (client, secret, code, pkce) = setup(&app).await;
    for redirect in [
        Some("https://client.example/other"),
        Some("https://client.example/cb/"),
        None,
    ] {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", pkce.verifier.as_str()),
        ];
        if let Some(uri) = redirect {
            form.push(("redirect_uri", uri));
        }
        token(&app, client.id.as_str(), Some(&secret), &form)
            .await
            .assert_error(400, "invalid_grant");
    }
}

#[tokio::test]
async fn code_of_another_client_is_invalid_grant() {
    let app = spawn_app().await;
    let (_, _, code, pkce) = setup(&app).await;
    let (thief, thief_secret) = app.client(confidential("Thief")).await;
    redeem(&app, &thief, thief_secret.as_ref(), &code, &pkce.verifier)
        .await
        .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn expired_code_is_invalid_grant() {
    let app = spawn_app().await;
    let (client, secret, code, pkce) = setup(&app).await;
    app.clock.advance(61);
    redeem(&app, &client, Some(&secret), &code, &pkce.verifier)
        .await
        .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn missing_code_is_invalid_request() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", "x"),
    ];
    token(&app, client.id.as_str(), secret.as_ref(), &form)
        .await
        .assert_error(400, "invalid_request");
    token(
        &app,
        client.id.as_str(),
        secret.as_ref(),
        &[("grant_type", "authorization_code"), ("code", "unknown")],
    )
    .await
    .assert_error(400, "invalid_grant");
}

async fn code_redeemed_twice_revokes_first_tokens(app: TestApp) {
    let (client, secret, code, pkce) = setup(&app).await;
    let (resource, resource_secret) = app.client(confidential("Resource server")).await;
    let resource_secret = resource_secret.unwrap();
    let first = redeem(&app, &client, Some(&secret), &code, &pkce.verifier).await;
    first.assert_tokens();
    let access = first.str("access_token");
    let refresh_token = first.str("refresh_token");
    assert!(active(&app, &resource, &resource_secret, &access).await);

    redeem(&app, &client, Some(&secret), &code, &pkce.verifier)
        .await
        .assert_error(400, "invalid_grant");

    assert!(
        !active(&app, &resource, &resource_secret, &access).await,
        "access token of the first redemption revoked"
    );
    refresh(&app, &client, Some(&secret), &refresh_token, None)
        .await
        .assert_error(400, "invalid_grant");
    assert!(!active(&app, &client, &secret, &refresh_token).await);
}

#[tokio::test]
async fn code_redeemed_twice_revokes_first_tokens_on_sqlite() {
    code_redeemed_twice_revokes_first_tokens(spawn_app().await).await;
}

#[tokio::test]
async fn code_redeemed_twice_revokes_first_tokens_on_postgres() {
    let options = AppOptions {
        backend: Backend::Postgres,
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(options).await else {
        return;
    };
    code_redeemed_twice_revokes_first_tokens(app).await;
}

#[tokio::test]
async fn public_client_redeems_with_its_client_id_and_pkce() {
    let app = spawn_app().await;
    let (client, _) = app
        .client(portcullis_testkit::flow::public("Mobile app"))
        .await;
    let user = app.user(EMAIL).await;
    let (callback, pkce) = code_for(&app, &client, EMAIL, "wallet:read").await;
    let answer = redeem(&app, &client, None, &callback.code(), &pkce.verifier).await;
    answer.assert_tokens();
    check_access_token(
        &app,
        &answer.str("access_token"),
        &Expect {
            sub: user.id.as_str(),
            client_id: client.id.as_str(),
            scope: "wallet:read",
            user: true,
        },
    )
    .await;
}
