//! Authorization codes issued by the flow: random, stored as hashes, valid 60 seconds, bound
//! to client, redirect URI, nonce and authentication time, and single-use with revocation of
//! what the first redemption issued (RFC 6749 §4.1.2, §10.5).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::hash::SecretHash;
use portcullis_core::store::CodeStore as _;
use portcullis_core::time::Clock as _;
use portcullis_testkit::flow::{Pkce, REDIRECT_URI, confidential, request, with};
use portcullis_testkit::spawn_app;
use serde_json::Value;

const EMAIL: &str = "alice@example.com";

fn invalid_grant(status: reqwest::StatusCode, body: &Value) {
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON claims")
}

#[tokio::test]
async fn code_expires_after_60_seconds() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let params = request(client.id.as_str(), &pkce, "openid");
    let in_time = app.code_flow(EMAIL, &params, None).await.code();
    let too_late = app.code_flow(EMAIL, &params, None).await.code();
    app.clock.advance(59);
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &in_time, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{body}");
    app.clock.advance(2);
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &too_late, Some(&pkce.verifier))
        .await;
    invalid_grant(status, &body);
}

#[tokio::test]
async fn code_redeemed_twice_revokes_the_first_tokens() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let code = app
        .code_flow(
            EMAIL,
            &request(client.id.as_str(), &pkce, "openid wallet:read"),
            None,
        )
        .await
        .code();
    let (status, first) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{first}");
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    invalid_grant(status, &body);
    let (status, body) = app
        .refresh(
            &client,
            secret.as_ref(),
            first["refresh_token"].as_str().unwrap(),
        )
        .await;
    invalid_grant(status, &body);
    let introspection: Value = app
        .http
        .post(app.url("/oauth/introspect"))
        .basic_auth(
            client.id.as_str(),
            secret.as_ref().map(portcullis_proto::Secret::expose),
        )
        .form(&[("token", first["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspection["active"], false, "{introspection}");
}

#[tokio::test]
async fn code_is_bound_to_its_client_and_redirect_uri() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let (other, other_secret) = app.client(confidential("Hooli")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let code = app
        .code_flow(EMAIL, &request(client.id.as_str(), &pkce, "openid"), None)
        .await
        .code();
    let (status, body) = app
        .exchange(&other, other_secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    invalid_grant(status, &body);
    let (status, body) = app
        .token(
            client.id.as_str(),
            secret.as_ref(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://client.example/other"),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    invalid_grant(status, &body);
    // The request named redirect_uri, so the token request must name it too.
    let (status, body) = app
        .token(
            client.id.as_str(),
            secret.as_ref(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    invalid_grant(status, &body);
    // None of those attempts spent the code.
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn codes_are_random_and_stored_only_as_hashes() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let params = request(client.id.as_str(), &pkce, "openid");
    let first = app.code_flow(EMAIL, &params, None).await.code();
    let second = app.code_flow(EMAIL, &params, None).await.code();
    assert_ne!(first, second);
    // At least 128 bits: 22 base64url characters.
    assert!(first.len() >= 22, "{first}");
    let stored = app
        .store
        .code(&SecretHash::of(&first))
        .await
        .unwrap()
        .expect("stored by hash");
    assert_eq!(stored.client_id, client.id);
    assert_eq!(stored.redirect_uri, REDIRECT_URI);
    assert!(stored.expires_at.0 - stored.created_at.0 <= 60);
}

#[tokio::test]
async fn id_token_carries_the_nonce_and_auth_time_of_the_request() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let params = with(
        &request(client.id.as_str(), &pkce, "openid"),
        "nonce",
        "n-0S6_WzA2Mj",
    );
    let before = app.clock.now().0;
    let code = app.code_flow(EMAIL, &params, None).await.code();
    app.clock.advance(10);
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{body}");
    let id_token = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id_token["nonce"], "n-0S6_WzA2Mj", "{id_token}");
    assert_eq!(id_token["auth_time"].as_i64(), Some(before), "{id_token}");
    assert_eq!(id_token["aud"], client.id.as_str(), "{id_token}");
}
