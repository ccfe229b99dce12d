//! The authorization endpoint's validation (RFC 6749 §4.1.2.1, RFC 9207): a request whose
//! client or redirect URI cannot be trusted gets an HTML error page and never a redirect;
//! every other problem goes back to the redirect URI with `error`, `error_description`,
//! `state` and `iss`.

use std::collections::BTreeSet;

use portcullis_core::client::GrantType;
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{
    Pkce, REDIRECT_URI, browser, confidential, expect_error_page, expect_error_redirect, location,
    param, request, with, without,
};
use portcullis_testkit::spawn_app;

/// An app with one registered confidential client (id returned).
async fn app_with_client() -> (TestApp, String) {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    (app, client.id.to_string())
}

async fn page_for(app: &TestApp, params: &[(&str, &str)]) -> String {
    let response = app.authorize(&browser(), params).await;
    expect_error_page(response, 400).await
}

#[tokio::test]
async fn missing_client_id_shows_an_error_page() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    let html = page_for(&app, &without(&request(&id, &pkce, "openid"), "client_id")).await;
    assert!(html.contains("client_id is missing"), "{html}");
}

#[tokio::test]
async fn unknown_client_shows_an_error_page() {
    let (app, _) = app_with_client().await;
    let pkce = Pkce::new();
    let html = page_for(&app, &request("no-such-client", &pkce, "openid")).await;
    assert!(html.contains("not registered"), "{html}");
}

#[tokio::test]
async fn disabled_client_shows_an_error_page() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.disable_client(&client).await;
    let pkce = Pkce::new();
    page_for(&app, &request(client.id.as_str(), &pkce, "openid")).await;
}

#[tokio::test]
async fn missing_redirect_uri_with_several_registered_shows_an_error_page() {
    let app = spawn_app().await;
    let (client, _) = app
        .client(portcullis_core::admin::clients::NewClient {
            redirect_uris: vec![REDIRECT_URI.into(), "https://client.example/other".into()],
            ..confidential("Two Doors")
        })
        .await;
    let pkce = Pkce::new();
    let params = without(
        &request(client.id.as_str(), &pkce, "openid"),
        "redirect_uri",
    );
    let html = page_for(&app, &params).await;
    assert!(html.contains("names no redirect URI"), "{html}");
}

#[tokio::test]
async fn unregistered_redirect_uri_shows_an_error_page() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    for uri in [
        "https://attacker.example/cb",
        "https://client.example/cb/",
        "https://client.example/CB",
        "https://CLIENT.example/cb",
        "https://client.example/cb?x=1",
        "https://client.example:443/cb",
        "http://client.example/cb",
    ] {
        let params = with(&request(&id, &pkce, "openid"), "redirect_uri", uri);
        let html = page_for(&app, &params).await;
        assert!(
            html.contains("not one the application registered"),
            "{uri}: {html}"
        );
    }
}

#[tokio::test]
async fn repeated_client_id_or_redirect_uri_shows_an_error_page() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    let base = request(&id, &pkce, "openid");
    let mut twice_client = base.clone();
    twice_client.push(("client_id", id.as_str()));
    let mut twice_uri = base.clone();
    twice_uri.push(("redirect_uri", REDIRECT_URI));
    // Another parameter repeated first must not hide the repeated client_id.
    let mut after_other = vec![("state", "a"), ("state", "b")];
    after_other.extend(base.iter().copied().filter(|(n, _)| *n != "state"));
    after_other.push(("client_id", id.as_str()));
    for params in [twice_client, twice_uri, after_other] {
        let html = page_for(&app, &params).await;
        assert!(html.contains("repeats the parameter"), "{params:?}: {html}");
    }
}

#[tokio::test]
async fn missing_response_type_is_invalid_request_at_the_redirect_uri() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    let params = without(&request(&id, &pkce, "openid"), "response_type");
    let response = app.authorize(&browser(), &params).await;
    let url = expect_error_redirect(&app, &response, "invalid_request");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
}

#[tokio::test]
async fn unsupported_response_type_is_redirected() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    for response_type in ["token", "code id_token", "id_token", "Code"] {
        let params = with(
            &request(&id, &pkce, "openid"),
            "response_type",
            response_type,
        );
        let response = app.authorize(&browser(), &params).await;
        let url = expect_error_redirect(&app, &response, "unsupported_response_type");
        assert_eq!(
            param(&url, "state").as_deref(),
            Some("xyz"),
            "{response_type}"
        );
    }
}

#[tokio::test]
async fn state_is_echoed_byte_for_byte_in_error_redirects() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    let odd = "a b+c&d=e%25f/?#;é\u{1F600}\"<>'\\~%";
    let params = with(
        &with(&request(&id, &pkce, "openid"), "response_type", "token"),
        "state",
        odd,
    );
    let response = app.authorize(&browser(), &params).await;
    let url = expect_error_redirect(&app, &response, "unsupported_response_type");
    assert_eq!(param(&url, "state").as_deref(), Some(odd));
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    for name in [
        "scope",
        "response_type",
        "code_challenge",
        "prompt",
        "nonce",
        "state",
    ] {
        let mut params = request(&id, &pkce, "openid");
        params.push(("nonce", "n-1"));
        params.push(("prompt", "login"));
        let value = params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap();
        params.push((name, value));
        let response = app.authorize(&browser(), &params).await;
        let url = expect_error_redirect(&app, &response, "invalid_request");
        let description = param(&url, "error_description").unwrap();
        assert!(description.contains(name), "{name}: {description}");
    }
}

/// (A `request_uri` names a pushed request: see `oauth::par`.)
#[tokio::test]
async fn request_objects_are_refused_not_ignored() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    for (name, value, error) in [
        (
            "request",
            "eyJhbGciOiJub25lIn0.e30.",
            "request_not_supported",
        ),
        (
            "claims",
            r#"{"userinfo":{"email":null}}"#,
            "invalid_request",
        ),
    ] {
        let params = with(&request(&id, &pkce, "openid"), name, value);
        let response = app.authorize(&browser(), &params).await;
        let url = expect_error_redirect(&app, &response, error);
        assert_eq!(param(&url, "state").as_deref(), Some("xyz"), "{name}");
    }
}

#[tokio::test]
async fn authorization_error_descriptions_never_echo_request_input() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    let hostile = "x\"y\\z\u{0}\u{a7}\u{e9}";
    let mut repeated = request(&id, &pkce, "openid");
    repeated.push((hostile, "1"));
    repeated.push((hostile, "2"));
    for params in [
        repeated,
        request(&id, &pkce, hostile),
        request(&id, &pkce, "openid zz-unknown"),
    ] {
        let response = app.authorize(&browser(), &params).await;
        let url = location(&app.base, &response);
        let description = param(&url, "error_description").unwrap();
        assert!(
            description
                .chars()
                .all(portcullis_proto::error::description_char_allowed),
            "{description:?}"
        );
        assert!(!description.contains("zz-unknown"), "{description}");
        assert!(
            !description.contains("x'y") && !description.contains("y/z"),
            "{description}"
        );
    }
}

#[tokio::test]
async fn scope_outside_the_clients_is_invalid_scope() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    // orders:write exists but the test client may not ask for it; admin is never user-grantable;
    // nope does not exist.
    for scope in ["openid orders:write", "admin", "nope"] {
        let params = request(&id, &pkce, scope);
        let response = app.authorize(&browser(), &params).await;
        let url = expect_error_redirect(&app, &response, "invalid_scope");
        assert_eq!(param(&url, "state").as_deref(), Some("xyz"), "{scope}");
    }
}

#[tokio::test]
async fn client_without_the_authorization_code_grant_is_unauthorized_client() {
    let app = spawn_app().await;
    let (client, _) = app
        .client(portcullis_core::admin::clients::NewClient {
            grant_types: BTreeSet::from([GrantType::ClientCredentials]),
            ..confidential("Machine")
        })
        .await;
    let pkce = Pkce::new();
    let response = app
        .authorize(&browser(), &request(client.id.as_str(), &pkce, "openid"))
        .await;
    let url = expect_error_redirect(&app, &response, "unauthorized_client");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
}

#[tokio::test]
async fn bad_max_age_is_invalid_request() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    for max_age in ["-1", "abc", "1.5", "99999999999999999999"] {
        let params = with(&request(&id, &pkce, "openid"), "max_age", max_age);
        let response = app.authorize(&browser(), &params).await;
        let url = expect_error_redirect(&app, &response, "invalid_request");
        assert!(
            param(&url, "error_description")
                .unwrap()
                .contains("max_age"),
            "{url}"
        );
    }
}

#[tokio::test]
async fn prompt_none_with_another_value_is_invalid_request() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    for prompt in ["none login", "consent none", "none create"] {
        let params = with(&request(&id, &pkce, "openid"), "prompt", prompt);
        let response = app.authorize(&browser(), &params).await;
        let url = expect_error_redirect(&app, &response, "invalid_request");
        assert!(
            param(&url, "error_description").unwrap().contains("prompt"),
            "{url}"
        );
    }
}

#[tokio::test]
async fn redirect_uri_may_be_omitted_when_exactly_one_is_registered() {
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user("alice@example.com").await;
    let pkce = Pkce::new();
    let params = without(
        &request(client.id.as_str(), &pkce, "openid"),
        "redirect_uri",
    );
    let callback = app.code_flow("alice@example.com", &params, None).await;
    assert!(
        callback.url.as_str().starts_with(REDIRECT_URI),
        "{}",
        callback.url
    );
    assert_eq!(callback.get("iss").as_deref(), Some(app.base.as_str()));
    assert_eq!(callback.get("state").as_deref(), Some("xyz"));
    // Nor is it needed at the token endpoint, as the request did not carry it (RFC 6749 §4.1.3).
    let (status, body) = app
        .token(
            client.id.as_str(),
            secret.as_ref(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &callback.code()),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn loopback_redirect_uri_accepts_any_port() {
    let app = spawn_app().await;
    let (client, secret) = app
        .client(portcullis_core::admin::clients::NewClient {
            redirect_uris: vec!["http://127.0.0.1/cb".into()],
            ..confidential("Desktop App")
        })
        .await;
    app.user("alice@example.com").await;
    let pkce = Pkce::new();
    let uri = "http://127.0.0.1:53123/cb";
    let params = with(
        &request(client.id.as_str(), &pkce, "openid"),
        "redirect_uri",
        uri,
    );
    let callback = app.code_flow("alice@example.com", &params, None).await;
    assert_eq!(callback.url.port(), Some(53123), "{}", callback.url);
    assert_eq!(callback.url.path(), "/cb");
    let (status, body) = app
        .token(
            client.id.as_str(),
            secret.as_ref(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &callback.code()),
                ("redirect_uri", uri),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Another path on the loopback address is still refused.
    let params = with(&params, "redirect_uri", "http://127.0.0.1:53123/other");
    page_for(&app, &params).await;
}

#[tokio::test]
async fn unknown_parameters_are_ignored() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    let mut params = request(&id, &pkce, "openid");
    params.extend([
        ("foo", "bar"),
        ("resource", "https://rs.example"),
        ("ui_locales", "fr"),
    ]);
    let response = app.authorize(&browser(), &params).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&app.base, &response).path(), "/login");
}

#[tokio::test]
async fn authorize_accepts_post_with_a_form_body() {
    let (app, id) = app_with_client().await;
    app.user("alice@example.com").await;
    let pkce = Pkce::new();
    let browser = browser();
    let response = browser
        .post(app.url("/oauth/authorize"))
        .form(&request(&id, &pkce, "openid"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let login = location(&app.base, &response);
    assert_eq!(login.path(), "/login");
    let request_id = param(&login, "request").unwrap();
    let response = app
        .login(
            &browser,
            "alice@example.com",
            portcullis_testkit::flow::PASSWORD,
            Some(&request_id),
        )
        .await;
    let consent = app.follow(&browser, response).await;
    assert_eq!(consent.url().path(), "/consent");
    let response = app
        .consent(&browser, &request_id, "allow", &["openid"])
        .await;
    let callback = location(&app.base, &response);
    assert!(param(&callback, "code").is_some(), "{callback}");
    assert_eq!(param(&callback, "state").as_deref(), Some("xyz"));
}

#[tokio::test]
async fn post_authorize_from_the_clients_site_is_not_refused_as_cross_site() {
    // A client's page posting the request, as a browser sends it: cross-site, with an Origin.
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    let response = browser()
        .post(app.url("/oauth/authorize"))
        .header("origin", "https://client.example")
        .header("sec-fetch-site", "cross-site")
        .form(&request(&id, &pkce, "openid"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&app.base, &response).path(), "/login");
}

#[tokio::test]
async fn errors_after_a_post_request_are_redirected_too() {
    let (app, id) = app_with_client().await;
    let pkce = Pkce::new();
    let params = with(&request(&id, &pkce, "openid"), "response_type", "token");
    let response = browser()
        .post(app.url("/oauth/authorize"))
        .form(&params)
        .send()
        .await
        .unwrap();
    let url = expect_error_redirect(&app, &response, "unsupported_response_type");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
}
