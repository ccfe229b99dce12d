//! `POST /oauth/introspect` (RFC 7662).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use portcullis_proto::Secret;
use portcullis_testkit::flow::{confidential, public};
use portcullis_testkit::{TestApp, spawn_app};
use serde_json::json;

use crate::oauth_kit::{
    active, client_credentials, introspect, peek, post_form, revoke, user_tokens,
};

const EMAIL: &str = "alice@example.com";

#[tokio::test]
async fn introspection_reports_an_active_access_token_with_every_field() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let (resource, resource_secret) = app.client(confidential("Resource server")).await;
    let user = app.user(EMAIL).await;
    let tokens = user_tokens(&app, &client, Some(&secret), EMAIL, "openid wallet:read").await;
    let access = tokens.str("access_token");
    let claims = peek(&access);

    let answer = introspect(&app, &resource, resource_secret.as_ref(), &access).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let body = &answer.body;
    assert_eq!(body["active"], true);
    assert_eq!(body["scope"], "openid wallet:read");
    assert_eq!(body["client_id"], client.id.as_str());
    assert_eq!(body["sub"], user.id.as_str());
    assert_eq!(body["aud"], app.base.as_str());
    assert_eq!(body["iss"], app.base.as_str());
    assert_eq!(body["exp"], claims["exp"]);
    assert_eq!(body["iat"], claims["iat"]);
    assert_eq!(body["jti"], claims["jti"]);
    assert_eq!(
        body["token_type"], "Bearer",
        "RFC 7662 §2.2: the RFC 6749 §5.1 type"
    );
    assert_eq!(
        body["profile"], claims["profile"],
        "the profile the token acts for"
    );

    // With client_secret_post too, and a client credentials token.
    let own = client_credentials(&app, &client, &secret, Some("wallet:read")).await;
    let answer = post_form(
        &app,
        "/oauth/introspect",
        resource.id.as_str(),
        None,
        &[
            ("token", own.str("access_token").as_str()),
            ("client_secret", resource_secret.as_ref().unwrap().expose()),
            ("token_type_hint", "access_token"),
        ],
    )
    .await;
    assert_eq!(answer.body["active"], true, "{}", answer.body);
    assert_eq!(answer.body["sub"], client.id.as_str());
    assert_eq!(answer.body["scope"], "wallet:read");
}

#[tokio::test]
async fn expired_access_token_is_inactive() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let access = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    app.clock.advance(3599);
    assert!(active(&app, &client, &secret, &access).await);
    app.clock.advance(1);
    assert!(!active(&app, &client, &secret, &access).await);
}

#[tokio::test]
async fn revoked_access_token_is_inactive() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let access = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    assert!(active(&app, &client, &secret, &access).await);
    assert_eq!(
        revoke(&app, &client, Some(&secret), &access).await.status,
        200
    );
    assert!(!active(&app, &client, &secret, &access).await);
}

/// A token shaped like ours, signed with a key that is not the server's.
fn forged(app: &TestApp, kid: &str) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.into());
    let claims = json!({
        "iss": app.base, "sub": "someone", "aud": app.base, "client_id": "x",
        "scope": "wallet:read", "exp": 4_000_000_000_i64, "iat": 1, "jti": "forged",
    });
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(b"not the server's key"),
    )
    .unwrap()
}

#[tokio::test]
async fn foreign_and_garbage_tokens_are_inactive() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();

    // A token of another Portcullis server (another issuer, other keys).
    let other = spawn_app().await;
    let (other_client, other_secret) = other.client(confidential("Elsewhere")).await;
    let foreign = client_credentials(&other, &other_client, &other_secret.unwrap(), None)
        .await
        .str("access_token");
    assert!(!active(&app, &client, &secret, &foreign).await);

    // Forged with our kid but another key and algorithm (no alg substitution).
    let kid = crate::oauth_kit::jwks(&app).await.keys[0]
        .common
        .key_id
        .clone()
        .unwrap();
    assert!(!active(&app, &client, &secret, &forged(&app, &kid)).await);

    // A real token with its signature or claims tampered with.
    let real = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    let mut parts: Vec<String> = real.split('.').map(str::to_owned).collect();
    let mut claims = peek(&real);
    claims["scope"] = json!("admin");
    use base64::Engine as _;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    assert!(!active(&app, &client, &secret, &parts.join(".")).await);
    // alg none.
    let none_header =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    let unsigned = format!("{none_header}.{}.", real.split('.').nth(1).unwrap());
    assert!(!active(&app, &client, &secret, &unsigned).await);

    for garbage in ["garbage", "a.b.c", "", " ", "...", &"x".repeat(10_000)] {
        if garbage.trim().is_empty() {
            continue;
        }
        assert!(
            !active(&app, &client, &secret, garbage).await,
            "{garbage:.20}"
        );
    }
}

#[tokio::test]
async fn refresh_token_is_active_only_to_its_own_client() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    let (other, other_secret) = app.client(confidential("Resource server")).await;
    let user = app.user(EMAIL).await;
    let tokens = user_tokens(&app, &client, Some(&secret), EMAIL, "openid wallet:read").await;
    let refresh_token = tokens.str("refresh_token");

    let answer = introspect(&app, &client, Some(&secret), &refresh_token).await;
    assert_eq!(answer.body["active"], true, "{}", answer.body);
    assert_eq!(answer.body["client_id"], client.id.as_str());
    assert_eq!(answer.body["sub"], user.id.as_str());
    assert_eq!(answer.body["scope"], "openid wallet:read");
    assert_eq!(answer.body["iss"], app.base.as_str());
    assert!(answer.body["exp"].as_i64().is_some());

    assert!(!active(&app, &other, &other_secret.unwrap(), &refresh_token).await);
}

#[tokio::test]
async fn public_client_cannot_introspect() {
    let app = spawn_app().await;
    let (client, _) = app.client(public("Mobile app")).await;
    app.user(EMAIL).await;
    let tokens = user_tokens(&app, &client, None, EMAIL, "wallet:read").await;
    let answer = introspect(&app, &client, None, &tokens.str("access_token")).await;
    answer.assert_error(401, "invalid_client");
    assert!(answer.body.get("active").is_none());
}

#[tokio::test]
async fn introspection_with_bad_client_authentication_is_401() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let access = client_credentials(&app, &client, &secret.unwrap(), None)
        .await
        .str("access_token");
    let answer = introspect(&app, &client, Some(&Secret::new("wrong")), &access).await;
    answer.assert_error(401, "invalid_client");
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Basic realm=\"portcullis\"")
    );
    let response = app
        .http
        .post(app.url("/oauth/introspect"))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    crate::oauth_kit::Answer::of(response)
        .await
        .assert_error(401, "invalid_client");
}

#[tokio::test]
async fn introspection_without_token_is_invalid_request() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    post_form(
        &app,
        "/oauth/introspect",
        client.id.as_str(),
        Some(&secret),
        &[],
    )
    .await
    .assert_error(400, "invalid_request");
    post_form(
        &app,
        "/oauth/introspect",
        client.id.as_str(),
        Some(&secret),
        &[("token", "")],
    )
    .await
    .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn introspection_fails_closed_when_the_database_is_unavailable() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let access = client_credentials(&app, &client, &secret, None)
        .await
        .str("access_token");
    // The client is cached now: authentication passes, the token check needs the database.
    assert!(active(&app, &client, &secret, &access).await);
    app.store.close().await;
    let answer = introspect(&app, &client, Some(&secret), &access).await;
    answer.assert_error(503, "temporarily_unavailable");
    assert!(answer.header("retry-after").is_some());
    assert_ne!(answer.body["active"], true);
    // And once the client cache entry is gone too.
    app.clock.advance(6);
    let answer = introspect(&app, &client, Some(&secret), &access).await;
    answer.assert_error(503, "temporarily_unavailable");
    assert!(answer.header("retry-after").is_some());
}
