//! `POST /oauth/revoke` (RFC 7009).

use portcullis_proto::Secret;
use portcullis_testkit::flow::{confidential, public};
use portcullis_testkit::{AppOptions, Backend, TestApp, spawn_app, spawn_app_with};

use crate::oauth_kit::{
    Answer, active, client_credentials, post_form, refresh, revoke, user_tokens,
};

const EMAIL: &str = "alice@example.com";

#[track_caller]
fn assert_revoked_ok(answer: &Answer) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

async fn revoking_a_refresh_token_revokes_its_grant(app: TestApp) {
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let (resource, resource_secret) = app.client(confidential("Resource server")).await;
    let resource_secret = resource_secret.unwrap();
    app.user(EMAIL).await;
    let first = user_tokens(&app, &client, Some(&secret), EMAIL, "openid wallet:read").await;
    let second = refresh(
        &app,
        &client,
        Some(&secret),
        &first.str("refresh_token"),
        None,
    )
    .await;
    second.assert_tokens();
    let refresh_token = second.str("refresh_token");

    let answer = post_form(
        &app,
        "/oauth/revoke",
        client.id.as_str(),
        Some(&secret),
        &[
            ("token", refresh_token.as_str()),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_revoked_ok(&answer);

    refresh(&app, &client, Some(&secret), &refresh_token, None)
        .await
        .assert_error(400, "invalid_grant");
    assert!(!active(&app, &client, &secret, &refresh_token).await);
    assert!(
        !active(
            &app,
            &resource,
            &resource_secret,
            &first.str("access_token")
        )
        .await
    );
    assert!(
        !active(
            &app,
            &resource,
            &resource_secret,
            &second.str("access_token")
        )
        .await
    );
    // Revoking again is still fine.
    assert_revoked_ok(&revoke(&app, &client, Some(&secret), &refresh_token).await);
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_grant_on_sqlite() {
    revoking_a_refresh_token_revokes_its_grant(spawn_app().await).await;
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_grant_on_postgres() {
    let options = AppOptions {
        backend: Backend::Postgres,
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(options).await else {
        return;
    };
    revoking_a_refresh_token_revokes_its_grant(app).await;
}

#[tokio::test]
async fn revoking_an_access_token_makes_it_inactive() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    app.user(EMAIL).await;
    let tokens = user_tokens(&app, &client, Some(&secret), EMAIL, "openid wallet:read").await;
    let access = tokens.str("access_token");
    let answer = post_form(
        &app,
        "/oauth/revoke",
        client.id.as_str(),
        Some(&secret),
        &[
            ("token", access.as_str()),
            ("token_type_hint", "access_token"),
        ],
    )
    .await;
    assert_revoked_ok(&answer);
    assert!(!active(&app, &client, &secret, &access).await);
    let userinfo = app
        .http
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);
    // The grant lives on: the refresh token still works.
    refresh(
        &app,
        &client,
        Some(&secret),
        &tokens.str("refresh_token"),
        None,
    )
    .await
    .assert_tokens();

    // Client credentials tokens too, with client_secret_post.
    let own = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    let answer = post_form(
        &app,
        "/oauth/revoke",
        client.id.as_str(),
        None,
        &[("token", own.as_str()), ("client_secret", secret.expose())],
    )
    .await;
    assert_revoked_ok(&answer);
    assert!(!active(&app, &client, &secret, &own).await);
}

#[tokio::test]
async fn revoking_an_unknown_token_is_200() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    for token in ["unknown", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
        assert_revoked_ok(&revoke(&app, &client, Some(&secret), token).await);
    }
    // An unsupported hint is not an error either (RFC 7009 §2.2.1 lets the server search).
    let answer = post_form(
        &app,
        "/oauth/revoke",
        client.id.as_str(),
        Some(&secret),
        &[("token", "unknown"), ("token_type_hint", "something_else")],
    )
    .await;
    assert_revoked_ok(&answer);
}

#[tokio::test]
async fn revoking_another_clients_token_is_200_and_it_stays_active() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let (attacker, attacker_secret) = app.client(confidential("Attacker")).await;
    let attacker_secret = attacker_secret.unwrap();
    app.user(EMAIL).await;
    let tokens = user_tokens(&app, &client, Some(&secret), EMAIL, "openid wallet:read").await;
    let access = tokens.str("access_token");
    let refresh_token = tokens.str("refresh_token");
    assert_revoked_ok(&revoke(&app, &attacker, Some(&attacker_secret), &access).await);
    assert_revoked_ok(&revoke(&app, &attacker, Some(&attacker_secret), &refresh_token).await);
    assert!(active(&app, &client, &secret, &access).await);
    assert!(active(&app, &client, &secret, &refresh_token).await);
    refresh(&app, &client, Some(&secret), &refresh_token, None)
        .await
        .assert_tokens();
}

#[tokio::test]
async fn public_client_revokes_its_own_refresh_token_with_its_client_id() {
    let app = spawn_app().await;
    let (client, _) = app.client(public("Mobile app")).await;
    app.user(EMAIL).await;
    let tokens = user_tokens(&app, &client, None, EMAIL, "wallet:read").await;
    let refresh_token = tokens.str("refresh_token");
    assert_revoked_ok(&revoke(&app, &client, None, &refresh_token).await);
    refresh(&app, &client, None, &refresh_token, None)
        .await
        .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn revocation_without_token_is_invalid_request() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    post_form(
        &app,
        "/oauth/revoke",
        client.id.as_str(),
        Some(&secret),
        &[],
    )
    .await
    .assert_error(400, "invalid_request");
    post_form(
        &app,
        "/oauth/revoke",
        client.id.as_str(),
        Some(&secret),
        &[("token", "")],
    )
    .await
    .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn revocation_with_bad_client_authentication_is_401() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let access = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    let answer = revoke(&app, &client, Some(&Secret::new("wrong")), &access).await;
    answer.assert_error(401, "invalid_client");
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Basic realm=\"portcullis\"")
    );
    let answer = post_form(
        &app,
        "/oauth/revoke",
        client.id.as_str(),
        None,
        &[("token", access.as_str()), ("client_secret", "wrong")],
    )
    .await;
    answer.assert_error(401, "invalid_client");
    assert_eq!(answer.header("www-authenticate"), None);
    let response = app
        .http
        .post(app.url("/oauth/revoke"))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    Answer::of(response)
        .await
        .assert_error(401, "invalid_client");
    // Nothing was revoked.
    assert!(active(&app, &client, &secret, &access).await);
}

#[tokio::test]
async fn revocation_is_not_reported_done_when_the_database_is_unavailable() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    app.user(EMAIL).await;
    let tokens = user_tokens(&app, &client, Some(&secret), EMAIL, "wallet:read").await;
    app.store.close().await;
    for token in [tokens.str("refresh_token"), tokens.str("access_token")] {
        let answer = revoke(&app, &client, Some(&secret), &token).await;
        answer.assert_error(503, "temporarily_unavailable");
        assert!(answer.header("retry-after").is_some());
    }
}
