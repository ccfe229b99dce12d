//! Helpers for the banking tests: tokens bound to profiles, resource API calls, orders.

use portcullis_core::banking::profile::Profile;
use portcullis_core::client::Client;
use portcullis_core::store::BankStore as _;
use portcullis_proto::{Secret, UserId};
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::banking;
use serde_json::{Value, json};

use crate::oauth_kit::{Answer, user_tokens};

/// A confidential client that may ask for every banking scope.
pub async fn banking_client(app: &TestApp, name: &str) -> (Client, Secret) {
    let (client, secret) = app.client(banking(name)).await;
    (client, secret.unwrap())
}

/// A user's tokens for `scope` through the whole code flow (onboarding included when needed);
/// returns the access token and the token response.
pub async fn access(
    app: &TestApp,
    client: &Client,
    secret: &Secret,
    email: &str,
    scope: &str,
) -> (String, Value) {
    let answer = user_tokens(app, client, Some(secret), email, scope).await;
    (answer.str("access_token"), answer.body)
}

/// `GET path` with a bearer token.
pub async fn get(app: &TestApp, token: &str, path: &str) -> Answer {
    Answer::of(
        app.http
            .get(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// `POST /api/v1/orders` with an `Idempotency-Key` (when given) and a JSON body.
pub async fn place(app: &TestApp, token: &str, key: Option<&str>, body: &Value) -> Answer {
    let mut request = app
        .http
        .post(app.url("/api/v1/orders"))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    Answer::of(request.send().await.unwrap()).await
}

/// An `issue` order of `amount` euro cents: what apps may not place.
pub fn issue(amount: i64) -> Value {
    json!({ "kind": "issue", "currency": "eur", "amount": amount })
}

/// Credits the token's profile `amount` euro cents as a sandbox operator does (the admin
/// API's `fund`), and returns the order.
pub async fn fund(app: &TestApp, token: &str, amount: i64) -> Answer {
    let claims = crate::oauth_kit::peek(token);
    let (user, profile) = (claims["sub"].as_str().unwrap(), claims["profile"].as_str());
    let admin = crate::admin_kit::AdminApi::new(app).await;
    let body = json!({ "currency": "eur", "amount": amount, "profile": profile });
    let answer = admin
        .post(&format!("/admin/v1/users/{user}/fund"), &body)
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer
}

/// A `redeem` order of `amount` euro cents to a valid IBAN.
pub fn redeem(amount: i64) -> Value {
    json!({
        "kind": "redeem",
        "currency": "eur",
        "amount": amount,
        "counterpart_iban": "GB82 WEST 1234 5698 7654 32",
    })
}

/// The euro balance of the token's profile (0 when it never held euros).
pub async fn euros(app: &TestApp, token: &str) -> i64 {
    let answer = get(app, token, "/api/v1/balances").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["currency"] == "eur")
        .map_or(0, |b| b["amount"].as_i64().unwrap())
}

/// Asserts a bearer error: status, RFC 6750 code in the body and the challenge.
#[track_caller]
pub fn assert_bearer_error(answer: &Answer, status: u16, code: &str) {
    answer.assert_error(status, code);
    let challenge = answer.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains(&format!("error=\"{code}\"")),
        "{challenge}"
    );
}

/// The profiles of a user, oldest first.
pub async fn profiles_of(app: &TestApp, user: &UserId) -> Vec<Profile> {
    app.store.profiles_of(user).await.unwrap()
}
