//! Pushed authorization requests (RFC 9126): validated when pushed with the authorization
//! endpoint's errors, redeemed once, by their own client, before they expire, on any node; a
//! client (or the whole server) may require them; a DPoP proof at the push binds the code.

use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::Client;
use portcullis_proto::Secret;
use portcullis_testkit::cluster::postgres_pair;
use portcullis_testkit::flow::{
    Pkce, browser, confidential, expect_error_page, expect_error_redirect, param, public, request,
};
use portcullis_testkit::{TestApp, spawn_app, spawn_app_configured};

use crate::oauth_kit::{Answer, post_form, redeem};

const EMAIL: &str = "pat@example.com";
const PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// An authorization request's parameters.
type Params<'a> = Vec<(&'a str, &'a str)>;

/// `POST /oauth/par` with `form`, authenticated with Basic when `secret` is given.
async fn push(
    node: &TestApp,
    client: &Client,
    secret: Option<&Secret>,
    form: &[(&str, &str)],
) -> Answer {
    post_form(node, "/oauth/par", client.id.as_str(), secret, form).await
}

/// Pushes the usual request of `client` and returns the `request_uri` and the verifier.
async fn pushed(node: &TestApp, client: &Client, secret: Option<&Secret>) -> (String, Pkce) {
    let pkce = Pkce::new();
    let form = request(client.id.as_str(), &pkce, "openid email");
    let answer = push(node, client, secret, &form).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.body["expires_in"], 60);
    let request_uri = answer.str("request_uri");
    let random = request_uri
        .strip_prefix(PREFIX)
        .expect("the RFC 9126 prefix");
    assert_eq!(random.len(), 43, "256 bits, base64url");
    (request_uri, pkce)
}

/// The authorization request a client sends with a `request_uri`.
fn by_reference<'a>(client: &'a Client, request_uri: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", client.id.as_str()),
        ("request_uri", request_uri),
    ]
}

/// `client`'s plain authorization request is refused with `invalid_request` naming PAR, and
/// its pushed one runs to a code.
async fn must_push(app: &TestApp, client: &Client, secret: Option<&Secret>) {
    let pkce = Pkce::new();
    let response = app
        .authorize(&browser(), &request(client.id.as_str(), &pkce, "openid"))
        .await;
    let url = expect_error_redirect(app, &response, "invalid_request");
    assert!(param(&url, "error_description").unwrap().contains("PAR"));
    let (request_uri, _) = pushed(app, client, secret).await;
    let callback = app
        .code_flow(EMAIL, &by_reference(client, &request_uri), None)
        .await;
    assert!(callback.get("code").is_some(), "{}", callback.url);
}

async fn app_with_user() -> TestApp {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    app
}

#[tokio::test]
async fn a_pushed_request_runs_the_code_flow_once() {
    let app = app_with_user().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let (request_uri, pkce) = pushed(&app, &client, secret.as_ref()).await;

    let callback = app
        .code_flow(EMAIL, &by_reference(&client, &request_uri), None)
        .await;
    // The pushed state comes back, and the pushed PKCE challenge binds the code.
    assert_eq!(callback.get("state").as_deref(), Some("xyz"));
    let tokens = redeem(
        &app,
        &client,
        secret.as_ref(),
        &callback.code(),
        &pkce.verifier,
    )
    .await;
    tokens.assert_tokens();
    assert_eq!(tokens.body["scope"], "email openid");

    // Used once: a second visit shows an error page and sends nothing to the client.
    let response = app
        .authorize(&browser(), &by_reference(&client, &request_uri))
        .await;
    let page = expect_error_page(response, 400).await;
    assert!(page.contains("already used"), "{page}");
}

#[tokio::test]
async fn a_pushed_request_is_refused_early_with_the_authorization_endpoints_errors() {
    let app = app_with_user().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let (native, _) = app.client(public("Native")).await;
    let pkce = Pkce::new();
    let good = request(client.id.as_str(), &pkce, "openid");
    let with = |name: &'static str, value: &'static str| {
        portcullis_testkit::flow::with(&good, name, value)
    };
    let cases: Vec<(Params<'_>, &str, &str)> = vec![
        (
            with("redirect_uri", "https://evil.example/cb"),
            "invalid_request",
            "redirect URI",
        ),
        (
            with("scope", "openid nope:unknown"),
            "invalid_scope",
            "scope",
        ),
        (
            with("response_type", "token"),
            "unsupported_response_type",
            "code",
        ),
        (
            with("code_challenge_method", "plain"),
            "invalid_request",
            "S256",
        ),
        (
            with("request_uri", "urn:ietf:params:oauth:request_uri:x"),
            "invalid_request",
            "request_uri",
        ),
        (
            with("client_id", "someone-else"),
            "invalid_request",
            "client_id",
        ),
        (with("dpop_jkt", "short"), "invalid_request", "dpop_jkt"),
    ];
    for (form, code, mentions) in cases {
        let answer = push(&app, &client, secret.as_ref(), &form).await;
        answer.assert_error(400, code);
        let description = answer.body["error_description"].as_str().unwrap();
        assert!(description.contains(mentions), "{code}: {description}");
    }
    // A public client pushes too (RFC 9126 §2), and must use PKCE.
    let pkce = Pkce::new();
    let without_pkce: Vec<(&str, &str)> = request(native.id.as_str(), &pkce, "openid")
        .into_iter()
        .filter(|(n, _)| !n.starts_with("code_challenge"))
        .collect();
    push(&app, &native, None, &without_pkce)
        .await
        .assert_error(400, "invalid_request");
    // Client authentication is the token endpoint's.
    let wrong = Secret::new("not-the-secret");
    push(&app, &client, Some(&wrong), &good)
        .await
        .assert_error(401, "invalid_client");
    // The body is a form.
    let answer =
        crate::oauth_kit::post_raw(&app, "/oauth/par", "application/json", "{}".into()).await;
    answer.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn a_request_uri_works_only_for_its_client_and_only_until_it_expires() {
    let app = app_with_user().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let (other, _) = app.client(confidential("Hooli")).await;

    let (request_uri, _) = pushed(&app, &client, secret.as_ref()).await;
    let response = app
        .authorize(&browser(), &by_reference(&other, &request_uri))
        .await;
    expect_error_page(response, 400).await;

    let (request_uri, _) = pushed(&app, &client, secret.as_ref()).await;
    app.clock.advance(61);
    let response = app
        .authorize(&browser(), &by_reference(&client, &request_uri))
        .await;
    expect_error_page(response, 400).await;

    // A made-up one, and one without client_id.
    for params in [
        vec![("client_id", client.id.as_str()), ("request_uri", "urn:x")],
        vec![("request_uri", request_uri.as_str())],
    ] {
        expect_error_page(app.authorize(&browser(), &params).await, 400).await;
    }
}

#[tokio::test]
async fn a_client_registered_to_push_is_refused_a_plain_request() {
    let app = app_with_user().await;
    let (client, secret) = app
        .client(NewClient {
            require_pushed_authorization_requests: true,
            ..confidential("Bank app")
        })
        .await;
    must_push(&app, &client, secret.as_ref()).await;
}

#[tokio::test]
async fn the_server_may_require_pushed_requests_of_every_client_and_says_so() {
    let app = spawn_app_configured(|c| c.require_pushed_authorization_requests = true).await;
    app.user(EMAIL).await;
    let metadata = crate::oauth_kit::metadata(&app).await;
    assert_eq!(metadata["require_pushed_authorization_requests"], true);
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        app.url("/oauth/par")
    );
    let (client, secret) = app.client(confidential("Anyone")).await;
    must_push(&app, &client, secret.as_ref()).await;
}

#[tokio::test]
async fn discovery_names_the_endpoint_and_does_not_require_it_by_default() {
    let app = spawn_app().await;
    let metadata = crate::oauth_kit::metadata(&app).await;
    assert_eq!(
        metadata["pushed_authorization_request_endpoint"],
        app.url("/oauth/par")
    );
    assert_eq!(metadata["require_pushed_authorization_requests"], false);
}

#[tokio::test]
async fn a_request_pushed_to_one_postgresql_node_is_redeemed_on_the_other_once() {
    let Some((a, b)) = postgres_pair(|_| {}).await else {
        return;
    };
    b.user(EMAIL).await;
    let (client, secret) = a.client(confidential("Pied Piper")).await;
    let (request_uri, pkce) = pushed(&a, &client, secret.as_ref()).await;
    let callback = b
        .code_flow(EMAIL, &by_reference(&client, &request_uri), None)
        .await;
    redeem(
        &b,
        &client,
        secret.as_ref(),
        &callback.code(),
        &pkce.verifier,
    )
    .await
    .assert_tokens();
    let response = a
        .authorize(&browser(), &by_reference(&client, &request_uri))
        .await;
    expect_error_page(response, 400).await;
}
