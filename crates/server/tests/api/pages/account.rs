//! The account page: the apps the user connected, and revoking one.

use portcullis_testkit::flow::{
    Pkce, browser, confidential, expect_error_page, hidden, location, request,
};
use portcullis_testkit::spawn_app;

const EMAIL: &str = "alice@example.com";

#[tokio::test]
async fn account_lists_connected_apps_and_revoke_ends_the_grant() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let (other, other_secret) = app.client(confidential("Hooli")).await;
    app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let params = request(client.id.as_str(), &pkce, "openid wallet:read");
    let code = app
        .code_flow_in(&browser, EMAIL, &params, Some(&["wallet:read"]))
        .await
        .code();
    let (status, tokens) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{tokens}");
    let other_code = app
        .code_flow_in(
            &browser,
            EMAIL,
            &request(other.id.as_str(), &pkce, "openid"),
            None,
        )
        .await
        .code();
    let (status, other_tokens) = app
        .exchange(
            &other,
            other_secret.as_ref(),
            &other_code,
            Some(&pkce.verifier),
        )
        .await;
    assert_eq!(status, 200, "{other_tokens}");

    let page = browser.get(app.url("/account")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Pied Piper") && html.contains("Hooli"),
        "{html}"
    );
    assert!(
        html.contains("<code>wallet:read</code>"),
        "the granted scopes: {html}"
    );
    assert!(html.contains(EMAIL));

    let csrf = hidden(&html, "csrf");
    let revoke = browser
        .post(app.url("/account/apps/revoke"))
        .form(&[("csrf", csrf.as_str()), ("client_id", client.id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 303);
    assert_eq!(location(&app.base, &revoke).path(), "/account");
    let html = browser
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Pied Piper"), "{html}");
    assert!(html.contains("Hooli"), "only the revoked app goes: {html}");

    let (status, body) = app
        .refresh(
            &client,
            secret.as_ref(),
            tokens["refresh_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (status, body) = app
        .refresh(
            &other,
            other_secret.as_ref(),
            other_tokens["refresh_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(status, 200, "the other app keeps its grant: {body}");
    // The app must ask again.
    let response = app.authorize(&browser, &params).await;
    assert_eq!(location(&app.base, &response).path(), "/consent");
}

#[tokio::test]
async fn revoke_without_a_valid_csrf_token_is_refused() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let code = app
        .code_flow_in(
            &browser,
            EMAIL,
            &request(client.id.as_str(), &pkce, "openid"),
            None,
        )
        .await
        .code();
    let (_, tokens) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    let response = browser
        .post(app.url("/account/apps/revoke"))
        .form(&[("csrf", "forged"), ("client_id", client.id.as_str())])
        .send()
        .await
        .unwrap();
    expect_error_page(response, 403).await;
    let (status, body) = app
        .refresh(
            &client,
            secret.as_ref(),
            tokens["refresh_token"].as_str().unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn account_page_needs_a_login() {
    let app = spawn_app().await;
    let response = browser().get(app.url("/account")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&app.base, &response).path(), "/login");
}
