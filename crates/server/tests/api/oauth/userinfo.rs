//! `GET/POST /oauth/userinfo` (OpenID Connect Core §5.3) with RFC 6750 errors.

use portcullis_testkit::flow::confidential;
use portcullis_testkit::{TestApp, spawn_app};

use crate::oauth_kit::{Answer, client_credentials, user_tokens};

const EMAIL: &str = "alice@example.com";

async fn get(app: &TestApp, token: Option<&str>) -> Answer {
    let mut request = app.http.get(app.url("/oauth/userinfo"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Answer::of(request.send().await.unwrap()).await
}

async fn access_token(app: &TestApp, scope: &str) -> String {
    let client = portcullis_core::admin::clients::NewClient {
        scopes: portcullis_proto::ScopeSet::parse("openid profile email profile:read wallet:read")
            .unwrap(),
        ..confidential("Pied Piper")
    };
    let (client, secret) = app.client(client).await;
    user_tokens(app, &client, secret.as_ref(), EMAIL, scope)
        .await
        .str("access_token")
}

#[tokio::test]
async fn userinfo_answers_get_and_post_with_the_users_claims() {
    let app = spawn_app().await;
    let user = app.user(EMAIL).await;
    let token = access_token(&app, "openid email profile").await;

    let answer = get(&app, Some(&token)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.body["sub"], user.id.as_str());
    assert_eq!(answer.body["email"], EMAIL);
    assert_eq!(answer.body["name"], "Test User");

    // POST with the header.
    let response = app
        .http
        .post(app.url("/oauth/userinfo"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let posted = Answer::of(response).await;
    assert_eq!(posted.status, 200, "{}", posted.body);
    assert_eq!(posted.body, answer.body);

    // POST with the token in a form body (RFC 6750 §2.2).
    let response = app
        .http
        .post(app.url("/oauth/userinfo"))
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    let form = Answer::of(response).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(form.body, answer.body);

    // Both at once is a malformed request (RFC 6750 §2).
    let response = app
        .http
        .post(app.url("/oauth/userinfo"))
        .bearer_auth(&token)
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    let both = Answer::of(response).await;
    assert_eq!(both.status, 400);
    assert!(
        both.header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_request\"")
    );
}

#[tokio::test]
async fn userinfo_without_a_token_is_401_with_a_bare_challenge() {
    let app = spawn_app().await;
    let answer = get(&app, None).await;
    assert_eq!(answer.status, 401);
    // RFC 6750 §3.1: no error code when the request had no authentication.
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Bearer realm=\"portcullis\"")
    );
    let response = app
        .http
        .post(app.url("/oauth/userinfo"))
        .send()
        .await
        .unwrap();
    let posted = Answer::of(response).await;
    assert_eq!(posted.status, 401);
    assert_eq!(
        posted.header("www-authenticate"),
        Some("Bearer realm=\"portcullis\"")
    );
}

#[tokio::test]
async fn userinfo_with_an_invalid_token_is_401_invalid_token() {
    let app = spawn_app().await;
    for token in ["garbage", "a.b.c"] {
        let answer = get(&app, Some(token)).await;
        assert_eq!(answer.status, 401);
        let challenge = answer.header("www-authenticate").unwrap();
        assert!(
            challenge.starts_with("Bearer realm=\"portcullis\""),
            "{challenge}"
        );
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }
    // An expired token.
    app.user(EMAIL).await;
    let token = access_token(&app, "openid").await;
    app.clock.advance(3600);
    let answer = get(&app, Some(&token)).await;
    assert_eq!(answer.status, 401);
    assert!(
        answer
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
}

#[tokio::test]
async fn userinfo_without_openid_is_403_insufficient_scope() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let token = access_token(&app, "email wallet:read").await;
    let answer = get(&app, Some(&token)).await;
    assert_eq!(answer.status, 403);
    let challenge = answer.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"openid\""), "{challenge}");
}

#[tokio::test]
async fn userinfo_returns_email_and_name_only_with_their_scopes() {
    let app = spawn_app().await;
    let user = app.user(EMAIL).await;
    let token = access_token(&app, "openid").await;
    let answer = get(&app, Some(&token)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, serde_json::json!({"sub": user.id.as_str()}));

    let token = access_token(&app, "openid email").await;
    let answer = get(&app, Some(&token)).await;
    assert_eq!(answer.body["email"], EMAIL);
    assert!(answer.body.get("name").is_none());

    let token = access_token(&app, "openid profile").await;
    let answer = get(&app, Some(&token)).await;
    assert_eq!(answer.body["name"], "Test User");
    assert!(answer.body.get("email").is_none());

    // The banking profile scope is not OpenID Connect's `profile`.
    let token = access_token(&app, "openid profile:read").await;
    let answer = get(&app, Some(&token)).await;
    assert!(answer.body.get("name").is_none(), "{}", answer.body);
}

#[tokio::test]
async fn userinfo_refuses_a_client_credentials_token() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Back office")).await;
    let token = client_credentials(&app, &client, &secret.unwrap(), Some("openid"))
        .await
        .str("access_token");
    let answer = get(&app, Some(&token)).await;
    assert_eq!(answer.status, 401);
    assert!(
        answer
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
}

#[tokio::test]
async fn userinfo_with_another_authentication_scheme_is_401_with_a_bare_challenge() {
    let app = spawn_app().await;
    // RFC 6750 §3.1: a request that used an unsupported authentication method lacks
    // authentication information; the challenge carries no error code.
    let response = app
        .http
        .get(app.url("/oauth/userinfo"))
        .basic_auth("someone", Some("secret"))
        .send()
        .await
        .unwrap();
    let answer = Answer::of(response).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.header("www-authenticate"),
        Some("Bearer realm=\"portcullis\"")
    );
    // A Bearer header without a token is malformed.
    let response = app
        .http
        .get(app.url("/oauth/userinfo"))
        .header("authorization", "Bearer ")
        .send()
        .await
        .unwrap();
    let answer = Answer::of(response).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_request\"")
    );
}

#[tokio::test]
async fn userinfo_fails_closed_when_the_database_is_unavailable() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let token = access_token(&app, "openid email").await;
    app.store.close().await;
    let answer = get(&app, Some(&token)).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(answer.header("retry-after").is_some());
    assert!(answer.body.get("sub").is_none());
}
