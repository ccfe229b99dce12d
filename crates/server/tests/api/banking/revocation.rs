//! `/account`: the user's profiles (KYC, wallets, IBANs, balances) and connected apps, and
//! revoking an app there, which ends its access at once: the resource API refuses its access
//! tokens, refresh fails, introspection says inactive, and a partner loses the profile.

use portcullis_testkit::flow::{hidden, location};
use portcullis_testkit::{TestApp, spawn_app};

use crate::banking_kit::{access, assert_bearer_error, banking_client, fund, get, place, redeem};
use crate::oauth_kit::{active, client_credentials, peek, refresh};

const EMAIL: &str = "alice@example.com";
const SCOPE: &str = "openid profile:read wallet:read orders:read orders:write";

async fn account_page(app: &TestApp, browser: &reqwest::Client) -> String {
    let page = browser.get(app.url("/account")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

#[tokio::test]
async fn the_account_page_shows_profiles_with_kyc_wallets_ibans_and_balances() {
    let app = spawn_app().await;
    let (client, secret) = banking_client(&app, "Monerium Demo").await;
    app.customer(EMAIL).await;
    let (token, _) = access(&app, &client, &secret, EMAIL, SCOPE).await;
    fund(&app, &token, 12_345).await;
    let wallet = get(&app, &token, "/api/v1/wallet/me").await;
    let address = wallet.body["wallets"][0]["address"].as_str().unwrap();
    let iban = wallet.body["wallets"][0]["iban"].as_str().unwrap();

    let browser = app.logged_in_browser(EMAIL).await;
    let html = account_page(&app, &browser).await;
    assert!(html.contains("Your profiles"), "{html}");
    assert!(html.contains("KYC approved"), "{html}");
    assert!(html.contains(address), "{html}");
    assert!(html.contains(iban), "{html}");
    assert!(html.contains("123.45 EUR"), "{html}");
    assert!(
        html.contains("Monerium Demo</strong> since") && html.contains("acting for Test User"),
        "{html}"
    );
}

#[tokio::test]
async fn revoking_an_app_on_the_account_page_ends_its_access_at_once() {
    let app = spawn_app().await;
    let (client, secret) = banking_client(&app, "Monerium Demo").await;
    let mut partner = portcullis_testkit::flow::banking("Partner Bank");
    partner.partner = true;
    let (partner, partner_secret) = app.client(partner).await;
    let partner_secret = partner_secret.unwrap();
    app.customer(EMAIL).await;
    let (token, body) = access(&app, &client, &secret, EMAIL, SCOPE).await;
    let refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
    let (partner_user_token, _) =
        access(&app, &partner, &partner_secret, EMAIL, "profile:read").await;
    let profile = peek(&token)["profile"].as_str().unwrap().to_owned();
    assert_eq!(get(&app, &token, "/api/v1/wallet/me").await.status, 200);
    let partner_token = client_credentials(&app, &partner, &partner_secret, Some("profile:read"))
        .await
        .str("access_token");
    let reach = get(&app, &partner_token, "/api/v1/profiles").await;
    assert_eq!(reach.body["items"][0]["id"], profile.as_str());

    let browser = app.logged_in_browser(EMAIL).await;
    for app_client in [&client, &partner] {
        let html = account_page(&app, &browser).await;
        let response = browser
            .post(app.url("/account/apps/revoke"))
            .form(&[
                ("csrf", hidden(&html, "csrf")),
                ("client_id", app_client.id.to_string()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(location(&app.base, &response).path(), "/account");
    }

    // The access token issued before is refused at once, on every route.
    for path in [
        "/api/v1/wallet/me",
        "/api/v1/orders",
        "/api/v1/auth/context",
    ] {
        let answer = get(&app, &token, path).await;
        assert_bearer_error(&answer, 401, "invalid_token");
    }
    let answer = place(&app, &token, Some("after"), &redeem(1)).await;
    assert_bearer_error(&answer, 401, "invalid_token");
    assert_bearer_error(
        &get(&app, &partner_user_token, "/api/v1/profiles").await,
        401,
        "invalid_token",
    );
    // Refresh fails; introspection says inactive.
    refresh(&app, &client, Some(&secret), &refresh_token, None)
        .await
        .assert_error(400, "invalid_grant");
    assert!(!active(&app, &client, &secret, &token).await);
    assert!(!active(&app, &client, &secret, &refresh_token).await);
    // The partner no longer reaches the profile.
    let reach = get(&app, &partner_token, "/api/v1/profiles").await;
    assert_eq!(reach.status, 200);
    assert_eq!(reach.body["items"], serde_json::json!([]));
    get(&app, &partner_token, &format!("/api/v1/profiles/{profile}"))
        .await
        .assert_error(404, "not_found");
    let html = account_page(&app, &browser).await;
    assert!(!html.contains("Monerium Demo"), "{html}");
    assert!(html.contains("Your profiles"), "the profiles stay: {html}");
}
