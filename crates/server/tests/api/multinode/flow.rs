//! Two nodes on one PostgreSQL, as behind a load balancer without sticky sessions: every step
//! of a flow may land on either node, and each test alternates between them inside the flow.
//! One browser (one cookie jar) talks to both: cookies are scoped to the host, not the port.

use portcullis_core::client::Client;
use portcullis_proto::Secret;
use portcullis_testkit::cluster::{path_and_query, postgres_pair};
use portcullis_testkit::flow::{
    PASSWORD, Pkce, REDIRECT_URI, browser, chosen_profile, hidden, location, param,
};
use portcullis_testkit::{TestApp, spawn_app};
use reqwest::StatusCode;

use crate::banking_kit::{banking_client, get};
use crate::oauth_kit::{
    active, authorize_params, introspect, redeem, refresh, revoke, verify_with,
};

const EMAIL: &str = "alice@example.com";
const SCOPE: &str = "openid profile:read wallet:read";

/// `GET` of `path_and_query` on `node` in `browser`.
async fn open(node: &TestApp, browser: &reqwest::Client, path: &str) -> reqwest::Response {
    browser.get(node.url(path)).send().await.unwrap()
}

/// Where a 303 from any node points, as a path to send to the next node.
fn next(node: &TestApp, response: &reqwest::Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.url()
    );
    path_and_query(&location(&node.base, response))
}

/// The consent page read on `shown_on`, answered (every scope, the preselected profile) on
/// `posted_on`.
async fn consent_across(
    shown_on: &TestApp,
    posted_on: &TestApp,
    browser: &reqwest::Client,
    path: &str,
) -> reqwest::Response {
    let page = open(shown_on, browser, path).await;
    assert_eq!(page.status(), 200, "consent page on {}", shown_on.base);
    let html = page.text().await.unwrap();
    let request = hidden(&html, "request");
    let mut form = vec![
        ("csrf".to_owned(), hidden(&html, "csrf")),
        ("request".to_owned(), request),
        ("client_id".to_owned(), hidden(&html, "client_id")),
        ("decision".to_owned(), "allow".to_owned()),
    ];
    form.extend(chosen_profile(&html).map(|p| ("profile".to_owned(), p)));
    for scope in SCOPE.split(' ') {
        form.push(("scope".to_owned(), scope.to_owned()));
    }
    browser
        .post(posted_on.url("/consent"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Authorize on A, log in on B, resume on A, consent page on B and its answer on A; returns
/// the code from the redirect to the client, whose `iss` is the shared issuer.
async fn code_across_nodes(a: &TestApp, b: &TestApp, client: &Client, pkce: &Pkce) -> String {
    let browser = browser();
    let authorize = a
        .authorize(&browser, &authorize_params(client, SCOPE, pkce))
        .await;
    let login_path = next(a, &authorize);
    assert!(login_path.starts_with("/login?"), "{login_path}");
    let request = param(&location(&a.base, &authorize), "request").unwrap();

    let logged_in = b.login(&browser, EMAIL, PASSWORD, Some(&request)).await;
    let resume = next(b, &logged_in);
    let consent_path = next(a, &open(a, &browser, &resume).await);
    assert!(consent_path.starts_with("/consent?"), "{consent_path}");

    let answered = consent_across(b, a, &browser, &consent_path).await;
    let callback = location(&a.base, &answered);
    assert!(callback.as_str().starts_with(REDIRECT_URI), "{callback}");
    assert_eq!(param(&callback, "iss").as_deref(), Some(a.issuer.as_str()));
    assert_eq!(param(&callback, "state").as_deref(), Some("st"));

    // The session made on B is the one A sees: the account page opens on both.
    for node in [a, b] {
        assert_eq!(open(node, &browser, "/account").await.status(), 200);
    }
    param(&callback, "code").expect("a code")
}

async fn pair_with_customer() -> Option<(TestApp, TestApp, Client, Secret)> {
    let (a, b) = postgres_pair(|_| {}).await?;
    assert_ne!(a.base, b.base, "two nodes, two addresses");
    assert_eq!(a.issuer, b.issuer, "one issuer");
    let (client, secret) = banking_client(&a, "Pied Piper").await;
    b.customer(EMAIL).await;
    Some((a, b, client, secret))
}

#[tokio::test]
async fn every_step_of_the_code_flow_may_land_on_either_node() {
    let Some((a, b, client, secret)) = pair_with_customer().await else {
        return;
    };
    let pkce = Pkce::new();
    let code = code_across_nodes(&a, &b, &client, &pkce).await;

    // Callback and token on B.
    let tokens = redeem(&b, &client, Some(&secret), &code, &pkce.verifier).await;
    tokens.assert_tokens();
    let access = tokens.str("access_token");
    let jwks_of_a = crate::oauth_kit::jwks(&a).await;
    let (_, claims) = verify_with(&jwks_of_a, &a.issuer, &access, &a.issuer);
    assert_eq!(claims["iss"], a.issuer.as_str());
    // The resource API on A and userinfo on B accept it.
    let me = get(&a, &access, "/api/v1/me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["email"], EMAIL);
    let userinfo = b
        .http
        .get(b.url("/oauth/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);

    // Refresh on A, introspect on B, refresh again on B.
    let refreshed = refresh(
        &a,
        &client,
        Some(&secret),
        &tokens.str("refresh_token"),
        None,
    )
    .await;
    refreshed.assert_tokens();
    assert!(active(&b, &client, &secret, &refreshed.str("access_token")).await);
    let again = refresh(
        &b,
        &client,
        Some(&secret),
        &refreshed.str("refresh_token"),
        None,
    )
    .await;
    again.assert_tokens();
    // The spent token is spent everywhere: presented on A it is reuse, which ends the grant.
    refresh(
        &a,
        &client,
        Some(&secret),
        &refreshed.str("refresh_token"),
        None,
    )
    .await
    .assert_error(400, "invalid_grant");
    for node in [&a, &b] {
        assert!(!active(node, &client, &secret, &again.str("access_token")).await);
    }
}

#[tokio::test]
async fn revocation_on_one_node_holds_on_every_node() {
    let Some((a, b, client, secret)) = pair_with_customer().await else {
        return;
    };
    let pkce = Pkce::new();
    let code = code_across_nodes(&b, &a, &client, &pkce).await;
    let tokens = redeem(&a, &client, Some(&secret), &code, &pkce.verifier).await;
    tokens.assert_tokens();
    let (access, refresh_token) = (tokens.str("access_token"), tokens.str("refresh_token"));

    // The access token alone, revoked on B: A refuses it at once.
    assert!(active(&a, &client, &secret, &access).await);
    assert_eq!(
        revoke(&b, &client, Some(&secret), &access).await.status,
        200
    );
    assert!(!active(&a, &client, &secret, &access).await);
    assert_eq!(get(&a, &access, "/api/v1/me").await.status, 401);

    // The refresh token, revoked on A: the grant ends on B too.
    let renewed = refresh(&b, &client, Some(&secret), &refresh_token, None).await;
    renewed.assert_tokens();
    assert_eq!(
        revoke(&a, &client, Some(&secret), &renewed.str("refresh_token"))
            .await
            .status,
        200
    );
    let answer = introspect(&b, &client, Some(&secret), &renewed.str("access_token")).await;
    assert_eq!(answer.body, serde_json::json!({ "active": false }));
    assert_eq!(
        get(&b, &renewed.str("access_token"), "/api/v1/me")
            .await
            .status,
        401
    );
    refresh(
        &b,
        &client,
        Some(&secret),
        &renewed.str("refresh_token"),
        None,
    )
    .await
    .assert_error(400, "invalid_grant");
}

#[tokio::test]
async fn logging_out_on_one_node_ends_the_session_on_every_node() {
    let Some((a, b, _client, _secret)) = pair_with_customer().await else {
        return;
    };
    let browser = browser();
    let logged_in = a.login(&browser, EMAIL, PASSWORD, None).await;
    assert_eq!(logged_in.status(), 303);
    assert_eq!(open(&b, &browser, "/account").await.status(), 200);
    // The logout form shown by A, posted to B.
    let form = open(&a, &browser, "/logout").await.text().await.unwrap();
    let csrf = hidden(&form, "csrf");
    let out = browser
        .post(b.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    for node in [&a, &b] {
        let account = open(node, &browser, "/account").await;
        assert_eq!(account.status(), 303, "logged out on {}", node.base);
        assert!(next(node, &account).starts_with("/login"));
    }
}

#[tokio::test]
async fn a_second_node_on_sqlite_is_refused() {
    // SQLite's locking does not reach across machines and its store has one writer: a second
    // node on the same file is refused at start-up (docs/deploy.md).
    let app = spawn_app().await;
    let error = app.try_spawn_node().await.unwrap_err().to_string();
    assert!(error.contains("SQLite serves one node only"), "{error}");
    // The first node is unharmed.
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}
