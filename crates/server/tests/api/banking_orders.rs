//! Orders through the resource API: the `Idempotency-Key` rules, insufficient funds, balances
//! that always equal the sum of their processed orders, and concurrent redeems that cannot
//! overdraw (on SQLite and PostgreSQL).

use portcullis_core::banking::profile::KycState;
use portcullis_core::store::BankStore as _;
use portcullis_core::time::Clock as _;
use portcullis_proto::ProfileId;
use portcullis_testkit::flow::postgres_app;
use portcullis_testkit::{TestApp, spawn_app};
use serde_json::{Value, json};

use crate::banking_kit::{access, banking_client, euros, get, issue, place, redeem};
use crate::oauth_kit::{Answer, peek};

const ALICE: &str = "alice@example.com";
const SCOPE: &str = "wallet:read orders:read orders:write";

async fn alice_token(app: &TestApp) -> String {
    let (client, secret) = banking_client(app, "Monerium Demo").await;
    app.customer(ALICE).await;
    access(app, &client, &secret, ALICE, SCOPE).await.0
}

/// The sum of the processed orders of the token's profile, credits minus debits.
async fn processed_sum(app: &TestApp, token: &str) -> i64 {
    let orders = get(app, token, "/api/v1/orders?limit=200").await;
    orders.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["state"] == "processed")
        .map(|o| {
            let amount = o["amount"].as_i64().unwrap();
            if o["kind"] == "issue" {
                amount
            } else {
                -amount
            }
        })
        .sum()
}

#[tokio::test]
async fn placing_an_order_needs_an_idempotency_key() {
    let app = spawn_app().await;
    let token = alice_token(&app).await;
    for key in [None, Some(""), Some("   ")] {
        let answer = place(&app, &token, key, &issue(100)).await;
        answer.assert_error(400, "invalid_request");
        assert!(answer.str("error_description").contains("Idempotency-Key"));
    }
    let too_long = "k".repeat(256);
    place(&app, &token, Some(&too_long), &issue(100))
        .await
        .assert_error(400, "invalid_request");
    assert_eq!(euros(&app, &token).await, 0, "nothing was placed");
}

async fn the_same_key_replays_the_order_and_another_body_is_refused(app: TestApp) {
    let token = alice_token(&app).await;
    let first = place(&app, &token, Some("order-1"), &issue(1_000)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["state"], "processed");
    let again = place(&app, &token, Some("order-1"), &issue(1_000)).await;
    assert_eq!(
        again.status, 200,
        "a retry is answered with the first order"
    );
    assert_eq!(again.body, first.body);
    // The same key with another amount, or another kind: refused, nothing changes.
    for other in [issue(999), redeem(1_000)] {
        let answer = place(&app, &token, Some("order-1"), &other).await;
        answer.assert_error(409, "conflict");
    }
    assert_eq!(euros(&app, &token).await, 1_000, "credited once");
    let listed = get(&app, &token, "/api/v1/orders").await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    // Keys are the client's: another key is another order.
    let second = place(&app, &token, Some("order-2"), &issue(1_000)).await;
    assert_eq!(second.status, 201);
    assert_ne!(second.body["id"], first.body["id"]);
    assert_eq!(euros(&app, &token).await, 2_000);
}

#[tokio::test]
async fn the_same_key_replays_the_order_and_another_body_is_refused_on_sqlite() {
    the_same_key_replays_the_order_and_another_body_is_refused(spawn_app().await).await;
}

#[tokio::test]
async fn the_same_key_replays_the_order_and_another_body_is_refused_on_postgres() {
    if let Some(app) = postgres_app().await {
        the_same_key_replays_the_order_and_another_body_is_refused(app).await;
    }
}

async fn insufficient_funds_are_recorded_as_rejected_and_change_nothing(app: TestApp) {
    let token = alice_token(&app).await;
    assert_eq!(
        place(&app, &token, Some("in"), &issue(500)).await.status,
        201
    );
    let answer = place(&app, &token, Some("out"), &redeem(501)).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["state"], "rejected");
    assert_eq!(answer.body["reason"], "insufficient_funds");
    assert_eq!(answer.body["counterpart_iban"], "GB82WEST12345698765432");
    assert_eq!(euros(&app, &token).await, 500, "the balance did not change");
    let id = answer.str("id");
    let stored = get(&app, &token, &format!("/api/v1/orders/{id}")).await;
    assert_eq!(stored.body["state"], "rejected");
    // A redeem in a currency never held is rejected the same way.
    let dollars = json!({
        "kind": "redeem", "currency": "usd", "amount": 1,
        "counterpart_iban": "GB82WEST12345698765432",
    });
    let answer = place(&app, &token, Some("usd"), &dollars).await;
    assert_eq!(answer.body["state"], "rejected");
    // What is there can be redeemed.
    let answer = place(&app, &token, Some("out-2"), &redeem(500)).await;
    assert_eq!(answer.body["state"], "processed");
    assert_eq!(euros(&app, &token).await, 0);
}

#[tokio::test]
async fn insufficient_funds_are_recorded_as_rejected_and_change_nothing_on_sqlite() {
    insufficient_funds_are_recorded_as_rejected_and_change_nothing(spawn_app().await).await;
}

#[tokio::test]
async fn insufficient_funds_are_recorded_as_rejected_and_change_nothing_on_postgres() {
    if let Some(app) = postgres_app().await {
        insufficient_funds_are_recorded_as_rejected_and_change_nothing(app).await;
    }
}

#[tokio::test]
async fn a_balance_always_equals_the_sum_of_its_processed_orders() {
    let app = spawn_app().await;
    let token = alice_token(&app).await;
    let steps: [(&str, Value); 7] = [
        ("a", issue(10_000)),
        ("b", redeem(2_500)),
        ("c", redeem(9_000)),
        ("d", issue(1)),
        ("e", redeem(7_501)),
        ("f", redeem(1)),
        ("b", redeem(2_500)),
    ];
    for (key, order) in steps {
        let answer = place(&app, &token, Some(key), &order).await;
        assert!(answer.status.is_success(), "{}", answer.body);
        let balance = euros(&app, &token).await;
        assert!(balance >= 0);
        assert_eq!(balance, processed_sum(&app, &token).await, "after {key}");
    }
    assert_eq!(euros(&app, &token).await, 0);
}

/// Places `orders` (key, body) all at once, each on its own connection.
async fn race(
    app: &TestApp,
    token: &str,
    orders: impl Iterator<Item = (String, Value)>,
) -> Vec<Answer> {
    let mut tasks = tokio::task::JoinSet::new();
    for (key, body) in orders {
        let http = portcullis_testkit::flow::browser();
        let (url, token) = (app.url("/api/v1/orders"), token.to_owned());
        tasks.spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            Answer::of(response).await
        });
    }
    tasks.join_all().await
}

async fn concurrent_redeems_cannot_overdraw(app: TestApp) {
    let token = alice_token(&app).await;
    assert_eq!(
        place(&app, &token, Some("in"), &issue(1_000)).await.status,
        201
    );
    // Twenty redeems of 1.00 race for 10.00.
    let answers = race(
        &app,
        &token,
        (0..20).map(|i| (format!("out-{i}"), redeem(100))),
    )
    .await;
    let processed = answers
        .iter()
        .filter(|a| a.body["state"] == "processed")
        .count();
    let rejected = answers
        .iter()
        .filter(|a| a.body["reason"] == "insufficient_funds")
        .count();
    assert_eq!((processed, rejected), (10, 10), "{answers:?}");
    assert_eq!(euros(&app, &token).await, 0);
    assert_eq!(processed_sum(&app, &token).await, 0);
    // The same key racing with itself places one order.
    let answers = race(
        &app,
        &token,
        (0..8).map(|_| ("same".to_owned(), issue(300))),
    )
    .await;
    let ids: std::collections::BTreeSet<_> =
        answers.iter().map(|a| a.body["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| a.status == 201).count(), 1);
    assert_eq!(euros(&app, &token).await, 300);
}

#[tokio::test]
async fn concurrent_redeems_cannot_overdraw_on_sqlite() {
    concurrent_redeems_cannot_overdraw(spawn_app().await).await;
}

#[tokio::test]
async fn concurrent_redeems_cannot_overdraw_on_postgres() {
    if let Some(app) = postgres_app().await {
        concurrent_redeems_cannot_overdraw(app).await;
    }
}

#[tokio::test]
async fn malformed_orders_are_invalid_requests() {
    let app = spawn_app().await;
    let token = alice_token(&app).await;
    for (key, body) in [
        (
            "1",
            json!({ "kind": "gift", "currency": "eur", "amount": 1 }),
        ),
        (
            "2",
            json!({ "kind": "issue", "currency": "btc", "amount": 1 }),
        ),
        (
            "3",
            json!({ "kind": "issue", "currency": "eur", "amount": 0 }),
        ),
        (
            "4",
            json!({ "kind": "issue", "currency": "eur", "amount": -5 }),
        ),
        (
            "5",
            json!({ "kind": "issue", "currency": "eur", "amount": 1.5 }),
        ),
        (
            "6",
            json!({ "kind": "redeem", "currency": "eur", "amount": 1 }),
        ),
        (
            "7",
            json!({ "kind": "redeem", "currency": "eur", "amount": 1, "counterpart_iban": "GB83WEST12345698765432" }),
        ),
        (
            "8",
            json!({ "kind": "issue", "currency": "eur", "amount": 1, "extra": true }),
        ),
    ] {
        let answer = place(&app, &token, Some(key), &body).await;
        answer.assert_error(400, "invalid_request");
    }
    assert_eq!(processed_sum(&app, &token).await, 0);
}

#[tokio::test]
async fn a_profile_whose_kyc_is_withdrawn_cannot_move_money() {
    let app = spawn_app().await;
    let token = alice_token(&app).await;
    let profile = ProfileId::new(peek(&token)["profile"].as_str().unwrap());
    app.store
        .set_kyc(&profile, KycState::Rejected, app.clock.now())
        .await
        .unwrap();
    place(&app, &token, Some("k"), &issue(100))
        .await
        .assert_error(409, "conflict");
    assert_eq!(euros(&app, &token).await, 0);
}
