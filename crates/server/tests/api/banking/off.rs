//! A platform that brings its own resource servers switches banking off: no `/api/v1`, no
//! onboarding pages, no onboarding in the flow, and no profile in tokens.

use portcullis_testkit::flow::{Pkce, location, param, request};
use portcullis_testkit::{AppOptions, Backend, TestApp, spawn_app_with};

use crate::banking_kit::{banking_client, get};
use crate::oauth_kit::{peek, redeem, user_tokens};

const EMAIL: &str = "nora@example.com";

async fn banking_switched_off_removes_the_api_and_onboarding(app: TestApp) {
    let (client, secret) = banking_client(&app, "Monerium Demo").await;
    app.user(EMAIL).await;
    // The flow needs no onboarding, even for banking scopes, and binds no profile.
    let tokens = user_tokens(
        &app,
        &client,
        Some(&secret),
        EMAIL,
        "openid wallet:read orders:write",
    )
    .await;
    let token = tokens.str("access_token");
    assert!(peek(&token).get("profile").is_none());
    for path in [
        "/api/v1/me",
        "/api/v1/auth/context",
        "/api/v1/profiles",
        "/api/v1/wallet/me",
        "/api/v1/orders",
    ] {
        let answer = get(&app, &token, path).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
    let browser = app.logged_in_browser(EMAIL).await;
    let pkce = Pkce::new();
    // A scope not approved yet, so that the consent page shows.
    let response = app
        .authorize(&browser, &request(client.id.as_str(), &pkce, "orders:read"))
        .await;
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    assert_eq!(location(&app.base, &response).path(), "/consent");
    for path in [
        "/onboarding/profile",
        "/onboarding/kyc",
        "/onboarding/wallet",
        "/onboarding/iban",
    ] {
        let response = browser
            .get(app.url(&format!("{path}?request={request_id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let response = app
        .consent(&browser, &request_id, "allow", &["orders:read"])
        .await;
    let code = param(&location(&app.base, &response), "code").unwrap();
    let tokens = redeem(&app, &client, Some(&secret), &code, &pkce.verifier).await;
    assert!(peek(&tokens.str("access_token")).get("profile").is_none());
    // The account page shows no banking section.
    let html = browser
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Your profiles"), "{html}");
}

#[tokio::test]
async fn banking_switched_off_removes_the_api_and_onboarding_on_sqlite() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.banking = false,
        ..AppOptions::default()
    })
    .await
    .unwrap();
    banking_switched_off_removes_the_api_and_onboarding(app).await;
}

#[tokio::test]
async fn banking_switched_off_removes_the_api_and_onboarding_on_postgres() {
    let Some(app) = spawn_app_with(AppOptions {
        backend: Backend::Postgres,
        configure: |c| c.banking = false,
        ..AppOptions::default()
    })
    .await
    else {
        return;
    };
    banking_switched_off_removes_the_api_and_onboarding(app).await;
}
