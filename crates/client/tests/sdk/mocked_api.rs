//! The typed resource API against a mocked server: paths, headers, errors, and the retry
//! after a 401.

use std::sync::Arc;

use portcullis_client::api::{IdempotencyKey, NewOrder, PageRequest};
use portcullis_client::{Error, ErrorCode, Secret};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{TestClock, mocked, token_body};

fn order() -> serde_json::Value {
    json!({
        "id": "o1", "profile": "p1", "kind": "issue", "currency": "eur", "amount": 1000,
        "counterpart_iban": null, "memo": null, "state": "completed", "reason": null,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    })
}

#[tokio::test]
async fn calls_send_the_bearer_token_to_typed_paths() {
    let (server, client) = mocked(TestClock::new()).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/me"))
        .and(header("authorization", "Bearer tok"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "u1", "email": "a@example.com", "name": "A"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/profiles"))
        .and(query_param("limit", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "items": [{"id": "p1", "kind": "personal", "name": "A", "kyc": {"state": "approved"},
                       "created_at": "2026-01-01T00:00:00Z"}],
            "next_cursor": "p1"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/orders/o%2F1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order()))
        .mount(&server)
        .await;
    let api = client.api(Secret::new("tok"));
    assert_eq!(api.me().await.unwrap().email, "a@example.com");
    let page = api
        .profiles(&PageRequest {
            limit: Some(1),
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(page.items[0].kyc.state, "approved");
    assert_eq!(page.next_cursor.as_deref(), Some("p1"));
    // Ids are path segments, escaped.
    assert_eq!(api.order("o/1").await.unwrap().amount, 1000);
}

#[tokio::test]
async fn api_errors_are_typed() {
    let (server, client) = mocked(TestClock::new()).await;
    Mock::given(path("/api/v1/wallet/me"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": "not_found", "error_description": "no profile is bound to this token"
        })))
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/orders"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": "insufficient_scope", "error_description": "this request needs the scope orders:read"
        })))
        .mount(&server)
        .await;
    let api = client.api(Secret::new("tok"));
    match api.wallet_me().await.unwrap_err() {
        Error::Api(e) => {
            assert!(e.is_not_found());
            assert_eq!(
                e.description.as_deref(),
                Some("no profile is bound to this token")
            );
        }
        other => panic!("{other}"),
    }
    match api.orders(&PageRequest::default()).await.unwrap_err() {
        Error::Api(e) => {
            assert!(e.is_insufficient_scope());
            assert_eq!(e.code(), Some(ErrorCode::InsufficientScope));
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn place_order_sends_the_idempotency_key_and_reports_replays() {
    let (server, client) = mocked(TestClock::new()).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/orders"))
        .and(header("idempotency-key", "pay-42"))
        .and(body_json(
            json!({"kind": "redeem", "currency": "eur", "amount": 1000}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(order()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/orders"))
        .and(header("idempotency-key", "pay-42"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order()))
        .mount(&server)
        .await;
    let api = client.api(Secret::new("tok"));
    let key = IdempotencyKey::new("pay-42");
    let order = NewOrder::redeem("eur", 1000);
    assert!(api.place_order(&key, &order).await.unwrap().created);
    let replay = api.place_order(&key, &order).await.unwrap();
    assert!(!replay.created);
    assert_eq!(replay.order.id, "o1");
}

#[tokio::test]
async fn a_401_renews_the_client_token_once_and_retries() {
    let clock = TestClock::new();
    let (server, client) = mocked(Arc::clone(&clock)).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("cc-1", None, 3600, "")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("cc-2", None, 3600, "")))
        .mount(&server)
        .await;
    // The server revoked cc-1 before it expired.
    Mock::given(path("/api/v1/auth/context"))
        .and(header("authorization", "Bearer cc-1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_token", "error_description": "revoked"
        })))
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/auth/context"))
        .and(header("authorization", "Bearer cc-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "client", "client_id": "app", "scope": "", "profiles": []
        })))
        .mount(&server)
        .await;
    let api = client.api(client.client_credentials(None));
    let context = api.auth_context().await.unwrap();
    assert!(matches!(
        context,
        portcullis_client::api::AuthContext::Client(_)
    ));
    assert!(context.profiles().is_empty());
}
