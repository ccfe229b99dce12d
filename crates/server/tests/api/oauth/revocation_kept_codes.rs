//! Red team: an app keeps an authorization code it obtained by bouncing the browser through
//! `/oauth/authorize` (consent is remembered, so the code comes back at once), the app's access
//! is then revoked, and the app redeems the kept code. Whoever revokes (the user on
//! `/account`, an operator for that app, an operator disabling the user, an operator deleting
//! the app), the code must be dead, and nothing the app still holds may work.

use portcullis_core::audit::{AuditFilter, AuditKind};
use portcullis_core::client::Client;
use portcullis_proto::Secret;
use portcullis_testkit::flow::{Pkce, browser, confidential, hidden, location, param, request};
use portcullis_testkit::{TestApp, spawn_app};

use crate::admin_kit::AdminApi;

const EMAIL: &str = "alice@example.com";
const SCOPE: &str = "openid email";

/// What the app holds after a first approval and a second silent round trip: the tokens of
/// the first code, and a second code it did not redeem yet.
struct Holdings {
    client: Client,
    secret: Option<Secret>,
    pkce: Pkce,
    refresh_token: String,
    kept_code: String,
    browser: reqwest::Client,
}

async fn holdings(app: &TestApp) -> Holdings {
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let params = request(client.id.as_str(), &pkce, SCOPE);
    let code = app
        .code_flow_in(&browser, EMAIL, &params, None)
        .await
        .code();
    let (status, tokens) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{tokens}");
    // The bounce: consent is remembered, so a code comes straight back.
    let response = app.authorize(&browser, &params).await;
    let callback = location(&app.base, &response);
    let kept_code = param(&callback, "code").unwrap_or_else(|| panic!("no code: {callback}"));
    Holdings {
        client,
        secret,
        pkce,
        refresh_token: tokens["refresh_token"].as_str().unwrap().to_owned(),
        kept_code,
        browser,
    }
}

/// The kept code, the old refresh token: both refused, as `invalid_grant` or, once the app
/// itself is gone, `invalid_client`.
async fn assert_nothing_works(app: &TestApp, held: &Holdings, error: &str) {
    let (status, body) = app
        .exchange(
            &held.client,
            held.secret.as_ref(),
            &held.kept_code,
            Some(&held.pkce.verifier),
        )
        .await;
    assert_eq!(
        (status.as_u16() / 100, body["error"].as_str()),
        (4, Some(error)),
        "the kept code was redeemed after the revocation: {body}"
    );
    let (status, body) = app
        .refresh(&held.client, held.secret.as_ref(), &held.refresh_token)
        .await;
    assert_eq!(
        (status.as_u16() / 100, body["error"].as_str()),
        (4, Some(error)),
        "{body}"
    );
}

#[tokio::test]
async fn a_code_kept_across_the_users_revocation_is_dead() {
    let app = spawn_app().await;
    let held = holdings(&app).await;
    let html = held
        .browser
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let revoke = held
        .browser
        .post(app.url("/account/apps/revoke"))
        .form(&[
            ("csrf", hidden(&html, "csrf")),
            ("client_id", held.client.id.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 303);
    assert_nothing_works(&app, &held, "invalid_grant").await;
    // Nothing was made behind the user's back: the app is not connected, so not listed.
    let html = held
        .browser
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Pied Piper"), "{html}");
    // The audit trail says what ended.
    let events = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::GrantRevoked),
            limit: 10,
            ..AuditFilter::default()
        })
        .await;
    let revoked = events.first().expect("a grant_revoked event");
    assert_eq!(revoked.detail["codes"], 1, "{:?}", revoked.detail);
    assert_eq!(revoked.detail["grants"], 1, "{:?}", revoked.detail);
    assert_eq!(revoked.detail["reason"], "revoked_by_user");
}

#[tokio::test]
async fn a_code_kept_across_an_operators_revocation_is_dead() {
    let app = spawn_app().await;
    let held = holdings(&app).await;
    let admin = AdminApi::new(&app).await;
    let path = format!("/admin/v1/users/{EMAIL}/apps/{}", held.client.id);
    let answer = admin.delete(&path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["codes_ended"], 1, "{}", answer.body);
    assert_eq!(answer.body["grants_revoked"], 1, "{}", answer.body);
    assert_eq!(answer.body["consent_forgotten"], true, "{}", answer.body);
    assert_nothing_works(&app, &held, "invalid_grant").await;
    // Again: nothing left, not an error.
    let answer = admin.delete(&path).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["grants_revoked"], 0, "{}", answer.body);
    let answer = admin
        .delete(&format!(
            "/admin/v1/users/nobody@example.com/apps/{}",
            held.client.id
        ))
        .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
}

#[tokio::test]
async fn a_code_kept_across_disabling_the_user_is_dead() {
    let app = spawn_app().await;
    let held = holdings(&app).await;
    let admin = AdminApi::new(&app).await;
    let answer = admin
        .post_empty(&format!("/admin/v1/users/{EMAIL}/disable"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_nothing_works(&app, &held, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_kept_across_deleting_the_app_is_dead() {
    let app = spawn_app().await;
    let held = holdings(&app).await;
    let admin = AdminApi::new(&app).await;
    let answer = admin
        .delete(&format!("/admin/v1/clients/{}", held.client.id))
        .await;
    assert!(answer.status.is_success(), "{}", answer.body);
    assert_nothing_works(&app, &held, "invalid_client").await;
}
