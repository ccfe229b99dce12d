//! The example app in a real headless Chromium against a spawned Portcullis: connect, log in,
//! consent, dashboard with live data, disconnect; and a user who denies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use portcullis_client::Secret;
use portcullis_example_integration::{AppState, Config, app};
use portcullis_testkit::browser::Browser;
use portcullis_testkit::flow::{PASSWORD, confidential};
use portcullis_testkit::{TestApp, spawn_app};

/// Starts the example on a free loopback port, registered at `portcullis` with the loopback
/// redirect URI (any port matches, RFC 8252 §7.3). Returns its base URL and state.
async fn start_example(portcullis: &TestApp) -> (String, AppState) {
    let mut new = confidential("Monei Demo");
    new.redirect_uris = vec!["http://127.0.0.1/callback".to_owned()];
    let (client, secret) = portcullis.client(new).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (router, state) = app(Config {
        issuer: portcullis.base.clone(),
        client_id: client.id.to_string(),
        client_secret: secret.unwrap().expose().to_owned(),
        redirect_uri: format!("{base}/callback"),
        scope: "profile:read wallet:read".to_owned(),
    })
    .await
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (base, state)
}

/// Opens the example's `/connect` and logs `email` in on Portcullis's login page; leaves the
/// browser on the consent page.
async fn connect_and_log_in(browser: &Browser, base: &str, email: &str) {
    browser.goto(&format!("{base}/connect")).await;
    browser.wait_for_path("/login").await;
    browser.fill("email", email).await;
    browser.fill("password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_path("/consent").await;
    let page = browser.text().await;
    assert!(page.contains("Monei Demo"), "{page}");
}

/// Waits until the page's text contains `needle`, reading it in a way that survives the
/// page being replaced mid-read (after a form post).
async fn wait_for_text(browser: &Browser, needle: &str) -> String {
    let mut text = String::new();
    for _ in 0..100 {
        if let Ok(value) = browser
            .client
            .execute(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await
        {
            text = value.as_str().unwrap_or_default().to_owned();
            if text.contains(needle) {
                return text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{needle:?} never appeared; the page says:\n{text}");
}

#[tokio::test]
async fn connect_consent_dashboard_and_disconnect() {
    let Some(browser) =
        Browser::start("integration::connect_consent_dashboard_and_disconnect").await
    else {
        return;
    };
    let portcullis = spawn_app().await;
    portcullis.customer("ada@example.com").await;
    let (base, state) = start_example(&portcullis).await;

    connect_and_log_in(&browser, &base, "ada@example.com").await;
    browser.click("button[name=decision][value=allow]").await;

    browser.wait_for_path("/dashboard").await;
    let page = wait_for_text(&browser, "Connected.").await;
    // The granted scopes and live data from the resource API.
    assert!(page.contains("profile:read"), "{page}");
    assert!(page.contains("wallet:read"), "{page}");
    assert!(page.contains("ada@example.com"), "{page}");
    // The wallet of the profile bound to the grant at consent: its wallet and IBAN.
    assert!(
        page.contains("Profile: Test User (personal, KYC approved)"),
        "{page}"
    );
    assert!(page.contains("Wallets: ethereum 0x"), "{page}");
    assert!(page.contains("IBANs: IS"), "{page}");
    let tokens = state.connected_tokens();
    assert_eq!(tokens.len(), 1);
    let access: Secret = tokens[0].access_token().clone();
    assert!(
        state
            .client()
            .introspect(&access, None)
            .await
            .unwrap()
            .active
    );

    browser.click("#disconnect").await;
    let page = wait_for_text(&browser, "Disconnected.").await;
    assert!(page.contains("Not connected."), "{page}");
    assert!(state.connected_tokens().is_empty());
    // Revoked at Portcullis: the token the app held is inactive.
    assert!(
        !state
            .client()
            .introspect(&access, None)
            .await
            .unwrap()
            .active
    );
    browser.close().await;
}

#[tokio::test]
async fn a_user_who_denies_sees_the_denial() {
    let Some(browser) = Browser::start("integration::a_user_who_denies_sees_the_denial").await
    else {
        return;
    };
    let portcullis = spawn_app().await;
    portcullis.customer("bo@example.com").await;
    let (base, state) = start_example(&portcullis).await;

    connect_and_log_in(&browser, &base, "bo@example.com").await;
    browser.click("button[name=decision][value=deny]").await;

    browser.wait_for_path("/dashboard").await;
    let landed = browser.url().await;
    assert_eq!(landed.query(), Some("error=access_denied"), "{landed}");
    let page = wait_for_text(&browser, "You denied access").await;
    assert!(page.contains("Not connected."), "{page}");
    assert!(state.connected_tokens().is_empty());
    browser.close().await;
}
