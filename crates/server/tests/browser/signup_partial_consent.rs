use portcullis_testkit::browser::Browser;
use portcullis_testkit::flow::{Pkce, confidential, param};
use portcullis_testkit::spawn_app;

use crate::callback_server;

/// A new user signs up from the app's authorization request, unticks one of two scopes on
/// the consent page, lands on the app's redirect URI with `code`, `state` and `iss`, and the
/// code buys a token whose scope is the one left ticked. (Scopes that need no banking
/// onboarding; `onboarding_to_callback` covers those that do.)
#[tokio::test]
async fn new_user_signs_up_and_grants_one_of_two_scopes() {
    let Some(browser) =
        Browser::start("browser::new_user_signs_up_and_grants_one_of_two_scopes").await
    else {
        return;
    };
    let app = spawn_app().await;
    let callback = callback_server().await;
    // A loopback redirect URI: the port is free to vary (RFC 8252 §7.3).
    let redirect_uri = format!("http://127.0.0.1:{}/cb", callback.port());
    let mut new = confidential("Monei Demo");
    new.redirect_uris = vec!["http://127.0.0.1/cb".to_owned()];
    let (client, secret) = app.client(new).await;
    let pkce = Pkce::new();
    let state = "st@te with spaces & symbols";
    let authorize = url::Url::parse_with_params(
        &app.url("/oauth/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", "openid email"),
            ("state", state),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("prompt", "create"),
        ],
    )
    .unwrap();

    browser.goto(authorize.as_str()).await;
    browser.wait_for_path("/signup").await;
    assert!(browser.text().await.contains("Monei Demo"));
    browser.fill("name", "Nora Newcomer").await;
    browser.fill("email", "nora@example.com").await;
    browser.fill("password", "a long enough password").await;
    browser.click("button[type=submit]").await;

    browser.wait_for_path("/consent").await;
    let page = browser.text().await;
    assert!(
        page.contains("Monei Demo wants access to your account"),
        "{page}"
    );
    assert!(page.contains("Nora Newcomer"), "{page}");
    browser.click("input[name=scope][value='email']").await;
    browser.click("button[name=decision][value=allow]").await;

    browser.wait_for_path("/cb").await;
    let landed = browser.url().await;
    assert!(landed.as_str().starts_with(&redirect_uri), "{landed}");
    assert_eq!(param(&landed, "state").as_deref(), Some(state));
    assert_eq!(param(&landed, "iss").as_deref(), Some(app.base.as_str()));
    let code = param(&landed, "code").expect("code");
    browser.close().await;

    let (status, token) = app
        .token(
            client.id.as_str(),
            secret.as_ref(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect_uri),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["scope"], "openid");
}
