//! The resource server against tokens of a spawned Portcullis: scopes per route, RFC 6750
//! answers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use portcullis_client::Client;
use portcullis_testkit::flow::confidential;
use portcullis_testkit::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Serves the example on a free port; returns its base URL.
async fn serve(portcullis: &TestApp) -> String {
    let router = portcullis_example_resource_server::app(&portcullis.base, None)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// A client credentials token of a new client for `scope`.
async fn token(portcullis: &TestApp, scope: &str) -> String {
    let (registered, secret) = portcullis.client(confidential("Third party")).await;
    let client = Client::builder(&portcullis.base)
        .client_id(registered.id.as_str())
        .client_secret(secret.unwrap().expose())
        .build()
        .await
        .unwrap();
    let tokens = client
        .request_client_credentials(Some(scope))
        .await
        .unwrap();
    tokens.access_token().expose().to_owned()
}

async fn get(url: &str, token: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        challenge,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn each_route_requires_its_own_scopes() {
    let portcullis = spawn_app().await;
    let api = serve(&portcullis).await;
    let wallet_reader = token(&portcullis, "wallet:read").await;

    let (status, _, body) = get(&format!("{api}/whoami"), Some(&wallet_reader)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["kind"], "client");
    assert_eq!(body["scope"], "wallet:read");

    let (status, _, body) = get(&format!("{api}/portfolio"), Some(&wallet_reader)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let response = reqwest::Client::new()
        .post(format!("{api}/transfers"))
        .bearer_auth(&wallet_reader)
        .json(&json!({"amount": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    assert!(challenge.contains("scope=\"orders:write\""), "{challenge}");

    let profile_reader = token(&portcullis, "profile:read").await;
    let (status, _, body) = get(&format!("{api}/portfolio"), Some(&profile_reader)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "insufficient_scope");
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let portcullis = spawn_app().await;
    let api = serve(&portcullis).await;
    let (status, _, _) = get(&format!("{api}/health"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, challenge, _) = get(&format!("{api}/whoami"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some("Bearer"));
    let (status, challenge, body) = get(&format!("{api}/whoami"), Some("forged.token.here")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.unwrap().contains("invalid_token"));
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn tokens_of_another_server_are_refused() {
    let portcullis = spawn_app().await;
    let other = spawn_app().await;
    let api = serve(&portcullis).await;
    let foreign = token(&other, "wallet:read").await;
    let (status, _, body) = get(&format!("{api}/whoami"), Some(&foreign)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}
