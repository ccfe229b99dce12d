//! What the user is asked to do for a request: `prompt` (OpenID Connect Core §3.1.2.1,
//! Initiating User Registration), `max_age`, and consent
//! already given.

use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{
    PASSWORD, Pkce, REDIRECT_URI, browser, confidential, expect_error_redirect, location, param,
    postgres_app, request, with,
};
use portcullis_testkit::spawn_app;

const EMAIL: &str = "alice@example.com";

/// An app with a client (id returned) and the user [`EMAIL`].
async fn setup(app: &TestApp) -> String {
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    client.id.to_string()
}

/// A browser logged in as [`EMAIL`] that approved `scope` for `client`.
async fn consented_browser(app: &TestApp, client: &str, scope: &str) -> reqwest::Client {
    let browser = browser();
    let pkce = Pkce::new();
    let callback = app
        .code_flow_in(&browser, EMAIL, &request(client, &pkce, scope), None)
        .await;
    assert!(!callback.code().is_empty());
    browser
}

/// The path of the server page a response redirects to.
fn redirect_path(app: &TestApp, response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 303);
    location(&app.base, response).path().to_owned()
}

async fn prompt_none_without_a_session_is_login_required(app: TestApp) {
    let client = setup(&app).await;
    let pkce = Pkce::new();
    let params = with(&request(&client, &pkce, "openid"), "prompt", "none");
    let response = app.authorize(&browser(), &params).await;
    let url = expect_error_redirect(&app, &response, "login_required");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required_on_sqlite() {
    prompt_none_without_a_session_is_login_required(spawn_app().await).await;
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required_on_postgres() {
    if let Some(app) = postgres_app().await {
        prompt_none_without_a_session_is_login_required(app).await;
    }
}

async fn prompt_none_logged_in_without_consent_is_consent_required(app: TestApp) {
    let client = setup(&app).await;
    let browser = app.logged_in_browser(EMAIL).await;
    let pkce = Pkce::new();
    let params = with(&request(&client, &pkce, "openid"), "prompt", "none");
    let response = app.authorize(&browser, &params).await;
    let url = expect_error_redirect(&app, &response, "consent_required");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
}

#[tokio::test]
async fn prompt_none_logged_in_without_consent_is_consent_required_on_sqlite() {
    prompt_none_logged_in_without_consent_is_consent_required(spawn_app().await).await;
}

#[tokio::test]
async fn prompt_none_logged_in_without_consent_is_consent_required_on_postgres() {
    if let Some(app) = postgres_app().await {
        prompt_none_logged_in_without_consent_is_consent_required(app).await;
    }
}

async fn prompt_none_with_session_and_consent_returns_a_code_without_a_page(app: TestApp) {
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let browser = consented_browser(&app, client.id.as_str(), "openid wallet:read").await;
    let pkce = Pkce::new();
    let params = with(
        &request(client.id.as_str(), &pkce, "openid wallet:read"),
        "prompt",
        "none",
    );
    // One hop: straight from the authorization endpoint to the client.
    let response = app.authorize(&browser, &params).await;
    assert_eq!(response.status(), 303);
    let url = location(&app.base, &response);
    assert!(url.as_str().starts_with(REDIRECT_URI), "{url}");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
    assert_eq!(param(&url, "iss").as_deref(), Some(app.base.as_str()));
    let code = param(&url, "code").expect("code");
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "openid wallet:read");
}

#[tokio::test]
async fn prompt_none_with_session_and_consent_returns_a_code_without_a_page_on_sqlite() {
    prompt_none_with_session_and_consent_returns_a_code_without_a_page(spawn_app().await).await;
}

#[tokio::test]
async fn prompt_none_with_session_and_consent_returns_a_code_without_a_page_on_postgres() {
    if let Some(app) = postgres_app().await {
        prompt_none_with_session_and_consent_returns_a_code_without_a_page(app).await;
    }
}

async fn prompt_login_shows_the_login_page_despite_a_session(app: TestApp) {
    let client = setup(&app).await;
    let browser = consented_browser(&app, &client, "openid").await;
    let pkce = Pkce::new();
    let params = with(&request(&client, &pkce, "openid"), "prompt", "login");
    let response = app.authorize(&browser, &params).await;
    assert_eq!(redirect_path(&app, &response), "/login");
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    // Going back to the request without logging in again does not get a code.
    let resumed = browser
        .get(app.url(&format!("/oauth/authorize/resume?request={request_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect_path(&app, &resumed), "/login");
    // Logging in again completes it (consent is remembered).
    let logged_in = app
        .login(&browser, EMAIL, PASSWORD, Some(&request_id))
        .await;
    let response = app.follow(&browser, logged_in).await;
    let url = location(&app.base, &response);
    assert!(url.as_str().starts_with(REDIRECT_URI), "{url}");
    assert!(param(&url, "code").is_some(), "{url}");
}

#[tokio::test]
async fn prompt_login_shows_the_login_page_despite_a_session_on_sqlite() {
    prompt_login_shows_the_login_page_despite_a_session(spawn_app().await).await;
}

#[tokio::test]
async fn prompt_login_shows_the_login_page_despite_a_session_on_postgres() {
    if let Some(app) = postgres_app().await {
        prompt_login_shows_the_login_page_despite_a_session(app).await;
    }
}

#[tokio::test]
async fn consent_cannot_skip_the_login_that_prompt_login_requires() {
    let app = spawn_app().await;
    let client = setup(&app).await;
    let browser = app.logged_in_browser(EMAIL).await;
    let pkce = Pkce::new();
    let params = with(&request(&client, &pkce, "openid"), "prompt", "login");
    let response = app.authorize(&browser, &params).await;
    assert_eq!(redirect_path(&app, &response), "/login");
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    // Straight to the consent page, skipping the login: sent to log in first.
    let page = browser
        .get(app.url(&format!("/consent?request={request_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect_path(&app, &page), "/login");
    // And a consent form posted anyway issues no code.
    let account = browser
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = portcullis_testkit::flow::hidden(&account, "csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("request", request_id.as_str()),
        ("client_id", client.as_str()),
        ("decision", "allow"),
        ("scope", "openid"),
    ];
    let response = browser
        .post(app.url("/consent"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect_path(&app, &response), "/login");
}

#[tokio::test]
async fn max_age_forces_a_new_login_when_the_last_one_is_older() {
    let app = spawn_app().await;
    let client = setup(&app).await;
    let browser = consented_browser(&app, &client, "openid").await;
    app.clock.advance(30);
    let pkce = Pkce::new();
    // Recent enough for max_age=60: no page.
    let params = with(&request(&client, &pkce, "openid"), "max_age", "60");
    let response = app.authorize(&browser, &params).await;
    assert!(
        location(&app.base, &response)
            .as_str()
            .starts_with(REDIRECT_URI)
    );
    // Too old for max_age=0: the login page.
    let params = with(&request(&client, &pkce, "openid"), "max_age", "0");
    let response = app.authorize(&browser, &params).await;
    assert_eq!(redirect_path(&app, &response), "/login");
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    let logged_in = app
        .login(&browser, EMAIL, PASSWORD, Some(&request_id))
        .await;
    let response = app.follow(&browser, logged_in).await;
    let url = location(&app.base, &response);
    assert!(param(&url, "code").is_some(), "{url}");
}

#[tokio::test]
async fn prompt_none_with_an_old_login_and_max_age_is_login_required() {
    let app = spawn_app().await;
    let client = setup(&app).await;
    let browser = consented_browser(&app, &client, "openid").await;
    app.clock.advance(120);
    let pkce = Pkce::new();
    let params = with(
        &with(&request(&client, &pkce, "openid"), "max_age", "60"),
        "prompt",
        "none",
    );
    let response = app.authorize(&browser, &params).await;
    let url = expect_error_redirect(&app, &response, "login_required");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
}

#[tokio::test]
async fn prompt_consent_asks_again_even_when_granted() {
    let app = spawn_app().await;
    let client = setup(&app).await;
    let browser = consented_browser(&app, &client, "openid wallet:read").await;
    let pkce = Pkce::new();
    let params = with(&request(&client, &pkce, "openid"), "prompt", "consent");
    let response = app.authorize(&browser, &params).await;
    assert_eq!(redirect_path(&app, &response), "/consent");
}

#[tokio::test]
async fn a_grant_covers_later_requests_for_the_same_or_fewer_scopes() {
    let app = spawn_app().await;
    let client = setup(&app).await;
    let browser = consented_browser(&app, &client, "openid wallet:read").await;
    let pkce = Pkce::new();
    for scope in ["openid wallet:read", "wallet:read", "openid"] {
        let response = app
            .authorize(&browser, &request(&client, &pkce, scope))
            .await;
        let url = location(&app.base, &response);
        assert!(param(&url, "code").is_some(), "{scope}: {url}");
    }
    for scope in ["openid wallet:read orders:read", "orders:read"] {
        let response = app
            .authorize(&browser, &request(&client, &pkce, scope))
            .await;
        assert_eq!(redirect_path(&app, &response), "/consent", "{scope}");
    }
}

#[tokio::test]
async fn a_partial_grant_covers_only_the_scopes_left_ticked() {
    let app = spawn_app().await;
    let client = setup(&app).await;
    let browser = browser();
    let pkce = Pkce::new();
    let params = request(&client, &pkce, "openid wallet:read");
    let first = app
        .code_flow_in(&browser, EMAIL, &params, Some(&["openid"]))
        .await;
    assert!(!first.code().is_empty());
    let response = app
        .authorize(&browser, &request(&client, &pkce, "openid"))
        .await;
    assert!(param(&location(&app.base, &response), "code").is_some());
    let response = app.authorize(&browser, &params).await;
    assert_eq!(redirect_path(&app, &response), "/consent");
}

#[tokio::test]
async fn prompt_create_opens_the_signup_page() {
    let app = spawn_app().await;
    let client = setup(&app).await;
    let pkce = Pkce::new();
    let params = with(&request(&client, &pkce, "openid"), "prompt", "create");
    let response = app.authorize(&browser(), &params).await;
    assert_eq!(redirect_path(&app, &response), "/signup");
    assert!(param(&location(&app.base, &response), "request").is_some());
}

#[tokio::test]
async fn without_prompt_a_new_browser_is_sent_to_login() {
    let app = spawn_app().await;
    let client = setup(&app).await;
    let pkce = Pkce::new();
    let response = app
        .authorize(&browser(), &request(&client, &pkce, "openid"))
        .await;
    assert_eq!(redirect_path(&app, &response), "/login");
}

/// Money Button's `landing=register` (seed 004) is its profile's business: the standard endpoint
/// ignores it, as it ignores every parameter it does not know.
#[tokio::test]
async fn the_standard_endpoint_ignores_landing() {
    let app = spawn_app().await;
    let client = setup(&app).await;
    let pkce = Pkce::new();
    let params = with(&request(&client, &pkce, "openid"), "landing", "register");
    let response = app.authorize(&browser(), &params).await;
    assert_eq!(redirect_path(&app, &response), "/login");
}

/// RFC 8252 §8.6: any app on the device can listen on loopback, so a request to a loopback
/// redirect URI may come from an impostor; a public client's earlier consent is applied
/// without a page only at an `https` redirect URI, which only its owner receives.
async fn a_public_clients_consent_is_reused_only_at_an_https_redirect_uri(app: TestApp) {
    const LOOPBACK: &str = "http://127.0.0.1/cb";
    let (client, _) = app
        .client(portcullis_core::admin::clients::NewClient {
            redirect_uris: vec![REDIRECT_URI.to_owned(), LOOPBACK.to_owned()],
            ..portcullis_testkit::flow::public("Native app")
        })
        .await;
    app.user(EMAIL).await;
    let browser = consented_browser(&app, client.id.as_str(), "openid").await;

    let pkce = Pkce::new();
    let https = request(client.id.as_str(), &pkce, "openid");
    let response = app.authorize(&browser, &https).await;
    let url = location(&app.base, &response);
    assert!(url.as_str().starts_with(REDIRECT_URI), "{url}");
    assert!(param(&url, "code").is_some(), "{url}");

    for uri in [LOOPBACK, "http://127.0.0.1:51234/cb"] {
        let mut params = request(client.id.as_str(), &pkce, "openid");
        params.retain(|(name, _)| *name != "redirect_uri");
        params.push(("redirect_uri", uri));
        let response = app.authorize(&browser, &params).await;
        assert_eq!(redirect_path(&app, &response), "/consent", "{uri}");
        params.push(("prompt", "none"));
        let response = app.authorize(&browser, &params).await;
        assert_eq!(response.status(), 303);
        let url = location(&app.base, &response);
        assert!(url.as_str().starts_with(uri), "{url}");
        assert_eq!(
            param(&url, "error").as_deref(),
            Some("consent_required"),
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_public_clients_consent_is_reused_only_at_an_https_redirect_uri_on_sqlite() {
    a_public_clients_consent_is_reused_only_at_an_https_redirect_uri(spawn_app().await).await;
}

#[tokio::test]
async fn a_public_clients_consent_is_reused_only_at_an_https_redirect_uri_on_postgres() {
    if let Some(app) = postgres_app().await {
        a_public_clients_consent_is_reused_only_at_an_https_redirect_uri(app).await;
    }
}
