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

use crate::admin_kit::AdminApi;
use crate::banking_kit::{access, banking_client, euros, fund, get, issue, place, redeem};
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
        let answer = place(&app, &token, key, &redeem(100)).await;
        answer.assert_error(400, "invalid_request");
        assert!(answer.str("error_description").contains("Idempotency-Key"));
    }
    let too_long = "k".repeat(256);
    place(&app, &token, Some(&too_long), &redeem(100))
        .await
        .assert_error(400, "invalid_request");
    assert_eq!(euros(&app, &token).await, 0, "nothing was placed");
}

async fn the_same_key_replays_the_order_and_another_body_is_refused(app: TestApp) {
    let token = alice_token(&app).await;
    fund(&app, &token, 5_000).await;
    let first = place(&app, &token, Some("order-1"), &redeem(1_000)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["state"], "processed");
    let again = place(&app, &token, Some("order-1"), &redeem(1_000)).await;
    assert_eq!(
        again.status, 200,
        "a retry is answered with the first order"
    );
    assert_eq!(again.body, first.body);
    // The same key with another amount, or another memo: refused, nothing changes.
    let mut with_memo = redeem(1_000);
    with_memo["memo"] = json!("rent");
    for other in [redeem(999), with_memo] {
        let answer = place(&app, &token, Some("order-1"), &other).await;
        answer.assert_error(409, "conflict");
    }
    assert_eq!(euros(&app, &token).await, 4_000, "debited once");
    let listed = get(&app, &token, "/api/v1/orders").await;
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        2,
        "the credit and one redeem"
    );
    // Keys are the client's: another key is another order.
    let second = place(&app, &token, Some("order-2"), &redeem(1_000)).await;
    assert_eq!(second.status, 201);
    assert_ne!(second.body["id"], first.body["id"]);
    assert_eq!(euros(&app, &token).await, 3_000);
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
    fund(&app, &token, 500).await;
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
    // Credits (the operator's) and redeems (the app's), one after the other.
    let steps: [(&str, Option<Value>); 7] = [
        ("a", None),
        ("b", Some(redeem(2_500))),
        ("c", Some(redeem(9_000))),
        ("d", None),
        ("e", Some(redeem(7_501))),
        ("f", Some(redeem(1))),
        ("b", Some(redeem(2_500))),
    ];
    for (key, order) in steps {
        match order {
            Some(order) => {
                let answer = place(&app, &token, Some(key), &order).await;
                assert!(answer.status.is_success(), "{}", answer.body);
            }
            None => {
                let amount = if key == "a" { 10_000 } else { 1 };
                fund(&app, &token, amount).await;
            }
        }
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
    fund(&app, &token, 1_000).await;
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
    fund(&app, &token, 500).await;
    let answers = race(
        &app,
        &token,
        (0..8).map(|_| ("same".to_owned(), redeem(300))),
    )
    .await;
    let ids: std::collections::BTreeSet<_> =
        answers.iter().map(|a| a.body["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| a.status == 201).count(), 1);
    assert_eq!(euros(&app, &token).await, 200, "debited once");
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
    place(&app, &token, Some("k"), &redeem(100))
        .await
        .assert_error(409, "conflict");
    assert_eq!(euros(&app, &token).await, 0);
}

#[tokio::test]
async fn apps_cannot_mint_money_with_issue_orders() {
    // Red team: ten `issue` orders took a new profile to 100,000,000.00 EUR.
    let app = spawn_app().await;
    let token = alice_token(&app).await;
    for n in 0..3 {
        let answer = place(
            &app,
            &token,
            Some(&format!("mint-{n}")),
            &issue(1_000_000_000),
        )
        .await;
        answer.assert_error(403, "access_denied");
        assert!(
            answer.str("error_description").contains("redeem"),
            "{}",
            answer.body
        );
    }
    assert_eq!(euros(&app, &token).await, 0);
    let listed = get(&app, &token, "/api/v1/orders").await;
    assert_eq!(listed.body["items"], json!([]), "nothing was recorded");
}

#[tokio::test]
async fn an_operator_funds_a_profile_in_the_sandbox_and_it_is_audited() {
    let app = spawn_app().await;
    let token = alice_token(&app).await;
    let admin = AdminApi::new(&app).await;
    let user = peek(&token)["sub"].as_str().unwrap().to_owned();
    let path = format!("/admin/v1/users/{user}/fund");
    let body = json!({ "currency": "eur", "amount": 2_500, "memo": "test transfer" });
    let first = admin.request_with_key(&path, &body, "transfer-1").await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(
        (first.body["kind"].as_str(), first.body["state"].as_str()),
        (Some("issue"), Some("processed"))
    );
    // A retry with the same key credits once; another body under it is refused.
    let again = admin.request_with_key(&path, &body, "transfer-1").await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);
    let other = json!({ "currency": "eur", "amount": 2_501 });
    admin
        .request_with_key(&path, &other, "transfer-1")
        .await
        .assert_error(409, "conflict");
    assert_eq!(euros(&app, &token).await, 2_500);
    // Bad credits are invalid requests, an unknown user is not found.
    for bad in [
        json!({ "currency": "btc", "amount": 1 }),
        json!({ "currency": "eur", "amount": 0 }),
        json!({ "currency": "eur", "amount": 1, "mint": true }),
    ] {
        admin
            .post(&path, &bad)
            .await
            .assert_error(400, "invalid_request");
    }
    admin
        .post("/admin/v1/users/nobody@example.com/fund", &body)
        .await
        .assert_error(404, "not_found");
    let events = app
        .audit_events(portcullis_core::audit::AuditFilter {
            kind: Some(portcullis_core::audit::AuditKind::SandboxFunded),
            limit: 10,
            ..portcullis_core::audit::AuditFilter::default()
        })
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].actor, admin.actor());
    assert_eq!(events[0].detail["amount"], 2_500);
    assert_eq!(events[0].detail["order"], first.body["id"]);
}

#[tokio::test]
async fn funding_is_off_outside_the_sandbox() {
    let app = portcullis_testkit::spawn_app_configured(|c| c.sandbox_funding = false).await;
    let token = alice_token(&app).await;
    let admin = AdminApi::new(&app).await;
    let user = peek(&token)["sub"].as_str().unwrap().to_owned();
    let body = json!({ "currency": "eur", "amount": 100 });
    let answer = admin
        .post(&format!("/admin/v1/users/{user}/fund"), &body)
        .await;
    answer.assert_error(403, "access_denied");
    assert!(
        answer.str("error_description").contains("funding is off"),
        "{}",
        answer.body
    );
    assert_eq!(euros(&app, &token).await, 0);
}
