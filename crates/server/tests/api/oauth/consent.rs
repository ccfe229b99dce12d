//! The consent page: what it shows, partial grants, deny, and forms that were tampered with
//! or sent without the session's CSRF token.

use portcullis_core::scopes::DEFAULT_SCOPES;
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{
    PASSWORD, Pkce, REDIRECT_URI, browser, confidential, expect_error_page, expect_error_redirect,
    hidden, location, param, postgres_app, request,
};
use portcullis_testkit::spawn_app;

const EMAIL: &str = "alice@example.com";

/// A browser logged in for a pending request of `client` for `scope`; returns it, the request
/// id and the consent page.
async fn at_consent(
    app: &TestApp,
    client: &str,
    pkce: &Pkce,
    scope: &str,
) -> (reqwest::Client, String, String) {
    let browser = browser();
    let response = app.authorize(&browser, &request(client, pkce, scope)).await;
    let request_id = param(&location(&app.base, &response), "request").expect("request id");
    let response = app
        .login(&browser, EMAIL, PASSWORD, Some(&request_id))
        .await;
    let page = app.follow(&browser, response).await;
    // Banking scopes lead a new user through onboarding first.
    let page = app.onboard(&browser, page).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.url().path(), "/consent");
    let html = page.text().await.unwrap();
    (browser, request_id, html)
}

/// Posts a hand-made consent form.
async fn post(
    app: &TestApp,
    browser: &reqwest::Client,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    browser
        .post(app.url("/consent"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The fields of the page's form, without any `scope`, with `decision=allow`.
fn honest_form(html: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", hidden(html, "csrf")),
        ("request", hidden(html, "request")),
        ("client_id", hidden(html, "client_id")),
        ("decision", "allow".to_owned()),
    ]
}

fn borrowed<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The whole `<input …>` tag holding `attributes`.
fn input_tag<'a>(html: &'a str, attributes: &str) -> &'a str {
    let at = html
        .find(attributes)
        .unwrap_or_else(|| panic!("no {attributes} in {html}"));
    let start = html[..at].rfind("<input").expect("an input tag");
    let end = at + html[at..].find('>').expect("end of the tag");
    &html[start..=end]
}

#[tokio::test]
async fn consent_page_shows_the_app_the_user_and_each_scope_with_a_checkbox() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let (_, request_id, html) = at_consent(
        &app,
        client.id.as_str(),
        &pkce,
        "openid wallet:read orders:read",
    )
    .await;
    assert!(html.contains("Pied Piper"), "{html}");
    assert!(
        html.contains("Test User") && html.contains(EMAIL),
        "the account it acts for: {html}"
    );
    for scope in ["openid", "wallet:read", "orders:read"] {
        let description = DEFAULT_SCOPES.iter().find(|(s, _)| *s == scope).unwrap().1;
        assert!(html.contains(description), "{description}");
        let input = input_tag(&html, &format!("name=\"scope\" value=\"{scope}\""));
        assert!(
            input.contains("type=\"checkbox\""),
            "checkbox for {scope}: {input}"
        );
    }
    assert!(
        !html.contains("value=\"profile:read\""),
        "only requested scopes are listed"
    );
    assert!(html.contains("name=\"decision\" value=\"allow\""));
    assert!(html.contains("name=\"decision\" value=\"deny\""));
    assert_eq!(hidden(&html, "request"), request_id);
    assert_eq!(hidden(&html, "client_id"), client.id.as_str());
    assert!(!hidden(&html, "csrf").is_empty());
}

#[tokio::test]
async fn consent_page_escapes_the_app_name() {
    let app = spawn_app().await;
    let (client, _) = app
        .client(confidential("<script>alert(1)</script> & Co"))
        .await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let (_, _, html) = at_consent(&app, client.id.as_str(), &pkce, "openid").await;
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"),
        "{html}"
    );
}

async fn partial_grant_holds_only_the_ticked_scopes(app: TestApp) {
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let (browser, request_id, _) =
        at_consent(&app, client.id.as_str(), &pkce, "openid wallet:read").await;
    let response = app
        .consent(&browser, &request_id, "allow", &["wallet:read"])
        .await;
    assert_eq!(response.status(), 303);
    let callback = location(&app.base, &response);
    assert!(callback.as_str().starts_with(REDIRECT_URI));
    assert_eq!(param(&callback, "state").as_deref(), Some("xyz"));
    assert_eq!(param(&callback, "iss").as_deref(), Some(app.base.as_str()));
    let code = param(&callback, "code").unwrap();
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "wallet:read");
    assert!(
        body.get("id_token").is_none_or(serde_json::Value::is_null),
        "openid was unticked: {body}"
    );
    // The refreshed token keeps the partial scope.
    let refresh = body["refresh_token"].as_str().unwrap();
    let (status, body) = app.refresh(&client, secret.as_ref(), refresh).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "wallet:read");
}

#[tokio::test]
async fn partial_grant_holds_only_the_ticked_scopes_on_sqlite() {
    partial_grant_holds_only_the_ticked_scopes(spawn_app().await).await;
}

#[tokio::test]
async fn partial_grant_holds_only_the_ticked_scopes_on_postgres() {
    if let Some(app) = postgres_app().await {
        partial_grant_holds_only_the_ticked_scopes(app).await;
    }
}

#[tokio::test]
async fn deny_sends_access_denied_with_state_and_iss() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let (browser, _, html) =
        at_consent(&app, client.id.as_str(), &pkce, "openid wallet:read").await;
    let fields = honest_form(&html);
    let mut deny: Vec<(&str, &str)> = borrowed(&fields)
        .into_iter()
        .filter(|(k, _)| *k != "decision")
        .collect();
    deny.extend([
        ("decision", "deny"),
        ("scope", "openid"),
        ("scope", "wallet:read"),
    ]);
    let response = post(&app, &browser, &deny).await;
    let url = expect_error_redirect(&app, &response, "access_denied");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
    // The request is spent, and nothing was remembered as approved.
    let mut allow = borrowed(&fields);
    allow.push(("scope", "openid"));
    expect_error_page(post(&app, &browser, &allow).await, 400).await;
    let response = app
        .authorize(&browser, &request(client.id.as_str(), &pkce, "openid"))
        .await;
    assert_eq!(location(&app.base, &response).path(), "/consent");
}

#[tokio::test]
async fn allowing_with_every_scope_unticked_is_access_denied() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let (browser, request_id, _) =
        at_consent(&app, client.id.as_str(), &pkce, "openid wallet:read").await;
    let response = app.consent(&browser, &request_id, "allow", &[]).await;
    let url = expect_error_redirect(&app, &response, "access_denied");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
}

#[tokio::test]
async fn consent_with_a_scope_that_was_not_requested_is_refused() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let (browser, _, html) = at_consent(&app, client.id.as_str(), &pkce, "openid").await;
    let form = honest_form(&html);
    for extra in ["wallet:read", "admin", "orders:write", "bad\"scope", ""] {
        let mut tampered = borrowed(&form);
        tampered.push(("scope", "openid"));
        tampered.push(("scope", extra));
        let response = post(&app, &browser, &tampered).await;
        expect_error_page(response, 400).await;
    }
    // Refused without spending the request: the honest form still works.
    let mut honest = borrowed(&form);
    honest.push(("scope", "openid"));
    let response = post(&app, &browser, &honest).await;
    assert!(param(&location(&app.base, &response), "code").is_some());
}

#[tokio::test]
async fn consent_naming_another_client_is_refused() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    let (other, _) = app.client(confidential("Hooli")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let (browser, _, html) = at_consent(&app, client.id.as_str(), &pkce, "openid").await;
    let form = honest_form(&html);
    let mut tampered: Vec<(&str, &str)> = borrowed(&form)
        .into_iter()
        .map(|(k, v)| {
            if k == "client_id" {
                (k, other.id.as_str())
            } else {
                (k, v)
            }
        })
        .collect();
    tampered.push(("scope", "openid"));
    let html = expect_error_page(post(&app, &browser, &tampered).await, 400).await;
    assert!(html.contains("did not match"), "{html}");
    // Nothing was remembered for either client.
    let response = app
        .authorize(&browser, &request(other.id.as_str(), &pkce, "openid"))
        .await;
    assert_eq!(location(&app.base, &response).path(), "/consent");
}

#[tokio::test]
async fn consent_without_the_sessions_csrf_token_is_forbidden() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    app.user("mallory@example.com").await;
    let pkce = Pkce::new();
    let (browser, _, html) = at_consent(&app, client.id.as_str(), &pkce, "openid").await;
    // Another session's valid token.
    let other = app.logged_in_browser("mallory@example.com").await;
    let account = other
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let foreign = hidden(&account, "csrf");
    let form = honest_form(&html);
    for csrf in [None, Some(""), Some("forged"), Some(foreign.as_str())] {
        let mut tampered: Vec<(&str, &str)> = borrowed(&form)
            .into_iter()
            .filter(|(k, _)| *k != "csrf")
            .collect();
        tampered.extend(csrf.map(|c| ("csrf", c)));
        tampered.push(("scope", "openid"));
        let response = post(&app, &browser, &tampered).await;
        expect_error_page(response, 403).await;
    }
    // A cross-site page cannot post it either, even with the right token and the cookie.
    let mut honest = borrowed(&form);
    honest.push(("scope", "openid"));
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&honest)
        .finish();
    let response = browser
        .post(app.url("/consent"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://attacker.example")
        .header("sec-fetch-site", "cross-site")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // The request is still pending for the real form.
    let response = post(&app, &browser, &honest).await;
    assert!(param(&location(&app.base, &response), "code").is_some());
}

#[tokio::test]
async fn consent_with_a_repeated_single_valued_field_is_refused() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let (browser, _, html) = at_consent(&app, client.id.as_str(), &pkce, "openid").await;
    let form = honest_form(&html);
    for repeated in ["decision", "request", "client_id", "csrf"] {
        let mut tampered = borrowed(&form);
        tampered.push(("scope", "openid"));
        let value = if repeated == "decision" {
            "deny"
        } else {
            form.iter()
                .find(|(k, _)| *k == repeated)
                .unwrap()
                .1
                .as_str()
        };
        tampered.push((repeated, value));
        let response = post(&app, &browser, &tampered).await;
        let status = response.status().as_u16();
        assert!(status == 400 || status == 403, "{repeated}: {status}");
        assert!(response.headers().get("location").is_none(), "{repeated}");
    }
    for missing in ["decision", "request", "client_id"] {
        let mut incomplete: Vec<(&str, &str)> = borrowed(&form)
            .into_iter()
            .filter(|(k, _)| *k != missing)
            .collect();
        incomplete.push(("scope", "openid"));
        expect_error_page(post(&app, &browser, &incomplete).await, 400).await;
    }
    let mut odd = borrowed(&form);
    odd.retain(|(k, _)| *k != "decision");
    odd.push(("decision", "maybe"));
    expect_error_page(post(&app, &browser, &odd).await, 400).await;
}

#[tokio::test]
async fn a_consent_request_cannot_be_answered_twice() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let (browser, request_id, _) = at_consent(&app, client.id.as_str(), &pkce, "openid").await;
    let first = app
        .consent(&browser, &request_id, "allow", &["openid"])
        .await;
    assert!(param(&location(&app.base, &first), "code").is_some());
    let page = browser
        .get(app.url(&format!("/consent?request={request_id}")))
        .send()
        .await
        .unwrap();
    expect_error_page(page, 400).await;
}

#[tokio::test]
async fn consent_for_an_expired_request_shows_an_error_page() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let (browser, _, html) = at_consent(&app, client.id.as_str(), &pkce, "openid").await;
    // Pending requests live an hour (the server's AUTH_REQUEST_TTL); the session lives longer.
    app.clock.advance(3601);
    let fields = honest_form(&html);
    let mut form = borrowed(&fields);
    form.push(("scope", "openid"));
    let html = expect_error_page(post(&app, &browser, &form).await, 400).await;
    assert!(html.contains("expired"), "{html}");
}

#[tokio::test]
async fn consent_page_needs_a_logged_in_user() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    let pkce = Pkce::new();
    let browser = browser();
    let response = app
        .authorize(&browser, &request(client.id.as_str(), &pkce, "openid"))
        .await;
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    let page = browser
        .get(app.url(&format!("/consent?request={request_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(location(&app.base, &page).path(), "/login");
}
