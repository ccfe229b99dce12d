//! RP-Initiated Logout 1.0: `id_token_hint`, `client_id`, `post_logout_redirect_uri`, `state`,
//! `logout_hint`, by GET and by form POST, and what the session looks like afterwards.

use portcullis_core::audit::{AuditFilter, AuditKind};
use portcullis_core::client::Client;
use portcullis_proto::Secret;
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{
    Pkce, browser, confidential, expect_error_page, hidden, location, param, request,
};
use portcullis_testkit::spawn_app;

use crate::oauth_kit::{peek, redeem};

const EMAIL: &str = "alice@example.com";
const BYE: &str = "https://client.example/bye";

async fn logged_in(app: &TestApp, browser: &reqwest::Client) -> bool {
    let response = browser.get(app.url("/account")).send().await.unwrap();
    response.status() == 200
}

/// A client that registered [`BYE`] as its post-logout redirect URI.
async fn client(app: &TestApp) -> (Client, Secret) {
    let (client, secret) = app
        .client(portcullis_core::admin::clients::NewClient {
            post_logout_redirect_uris: vec![BYE.to_owned()],
            ..confidential("Pied Piper")
        })
        .await;
    (client, secret.unwrap())
}

/// Logs `EMAIL` in in `browser` through the code flow and returns the ID token.
async fn id_token_in(
    app: &TestApp,
    browser: &reqwest::Client,
    client: &Client,
    secret: &Secret,
) -> String {
    let pkce = Pkce::new();
    let params = request(client.id.as_str(), &pkce, "openid");
    let code = app.code_flow_in(browser, EMAIL, &params, None).await.code();
    let answer = redeem(app, client, Some(secret), &code, &pkce.verifier).await;
    answer.str("id_token")
}

async fn logout(
    app: &TestApp,
    browser: &reqwest::Client,
    params: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .get(app.url("/logout"))
        .query(params)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn discovery_advertises_the_end_session_endpoint_and_no_channel_logout() {
    let app = spawn_app().await;
    let metadata: serde_json::Value = reqwest::get(app.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["end_session_endpoint"], app.url("/logout"));
    assert_eq!(metadata["frontchannel_logout_supported"], false);
    assert_eq!(metadata["backchannel_logout_supported"], false);
}

#[tokio::test]
async fn a_hint_naming_the_session_ends_it_and_returns_to_the_client_with_state() {
    let app = spawn_app().await;
    let (client, secret) = client(&app).await;
    app.user(EMAIL).await;
    let browser = browser();
    let id_token = id_token_in(&app, &browser, &client, &secret).await;
    assert!(
        peek(&id_token)["sid"]
            .as_str()
            .is_some_and(|s| s.len() >= 32)
    );
    assert!(logged_in(&app, &browser).await);

    let response = logout(
        &app,
        &browser,
        &[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", BYE),
            ("state", "s t&1"),
            ("ui_locales", "de-CH fr"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    let to = location(&app.base, &response);
    assert_eq!(to.as_str().split('?').next(), Some(BYE));
    assert_eq!(param(&to, "state").as_deref(), Some("s t&1"));
    assert!(!logged_in(&app, &browser).await);

    // After logout, prompt=none cannot be answered silently.
    let pkce = Pkce::new();
    let mut params = request(client.id.as_str(), &pkce, "openid");
    params.push(("prompt", "none"));
    let response = app.authorize(&browser, &params).await;
    let to = location(&app.base, &response);
    assert_eq!(param(&to, "error").as_deref(), Some("login_required"));

    let events = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::LoggedOut),
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].client_id.as_ref(), Some(&client.id));
}

#[tokio::test]
async fn an_expired_hint_still_names_the_client() {
    let app = spawn_app().await;
    let (client, secret) = client(&app).await;
    app.user(EMAIL).await;
    let browser = browser();
    let id_token = id_token_in(&app, &browser, &client, &secret).await;
    // The ID token lived an hour at most; the session lives on.
    app.clock.advance(2 * 3600);
    assert!(
        peek(&id_token)["exp"].as_i64().unwrap()
            < portcullis_core::time::Clock::now(app.clock.as_ref()).0
    );
    let response = logout(
        &app,
        &browser,
        &[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", BYE),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&app.base, &response).as_str(), BYE);
    assert!(!logged_in(&app, &browser).await);
}

#[tokio::test]
async fn a_hint_from_another_session_asks_the_user_and_the_form_finishes_the_logout() {
    let app = spawn_app().await;
    let (client, secret) = client(&app).await;
    app.user(EMAIL).await;
    // The hint comes from an earlier session of the same user.
    let earlier = browser();
    let old_hint = id_token_in(&app, &earlier, &client, &secret).await;
    let now = browser();
    app.login(&now, EMAIL, portcullis_testkit::flow::PASSWORD, None)
        .await;

    let page = logout(
        &app,
        &now,
        &[
            ("id_token_hint", old_hint.as_str()),
            ("post_logout_redirect_uri", BYE),
            ("state", "xyz"),
        ],
    )
    .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Pied Piper"), "{html}");
    assert!(logged_in(&app, &now).await, "a GET alone never logs out");

    let form: Vec<(String, String)> =
        ["csrf", "id_token_hint", "post_logout_redirect_uri", "state"]
            .iter()
            .map(|name| ((*name).to_owned(), hidden(&html, name)))
            .collect();
    let response = now
        .post(app.url("/logout"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&app.base, &response).as_str(),
        format!("{BYE}?state=xyz")
    );
    assert!(!logged_in(&app, &now).await);
    // The earlier session is another session: it stays.
    assert!(logged_in(&app, &earlier).await);
}

#[tokio::test]
async fn a_logout_hint_for_someone_else_asks_first() {
    let app = spawn_app().await;
    let (client, secret) = client(&app).await;
    app.user(EMAIL).await;
    let browser = browser();
    let id_token = id_token_in(&app, &browser, &client, &secret).await;
    let page = logout(
        &app,
        &browser,
        &[
            ("id_token_hint", id_token.as_str()),
            ("logout_hint", "bob@example.com"),
        ],
    )
    .await;
    assert_eq!(page.status(), 200);
    assert!(logged_in(&app, &browser).await);
    let page = logout(
        &app,
        &browser,
        &[
            ("id_token_hint", id_token.as_str()),
            ("logout_hint", "ALICE@example.com"),
        ],
    )
    .await;
    assert_eq!(page.status(), 303);
    assert_eq!(location(&app.base, &page).path(), "/logged-out");
    assert!(!logged_in(&app, &browser).await);
}

#[tokio::test]
async fn invalid_requests_get_an_error_page_and_never_a_redirect() {
    let app = spawn_app().await;
    let (client, secret) = client(&app).await;
    let (other, _) = app.client(confidential("Hooli")).await;
    app.user(EMAIL).await;
    let browser = browser();
    let id_token = id_token_in(&app, &browser, &client, &secret).await;
    let mut forged = id_token.clone();
    forged.pop();
    forged.push(if id_token.ends_with('A') { 'B' } else { 'A' });
    let cases: Vec<Vec<(&str, &str)>> = vec![
        // A hint that was altered.
        vec![
            ("id_token_hint", forged.as_str()),
            ("post_logout_redirect_uri", BYE),
        ],
        // Not a JWT at all.
        vec![("id_token_hint", "not-a-token")],
        // A redirect URI the client did not register.
        vec![
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        // A redirect URI with no client to check it against.
        vec![("post_logout_redirect_uri", BYE)],
        // A client_id that is not the hint's audience.
        vec![
            ("id_token_hint", id_token.as_str()),
            ("client_id", other.id.as_str()),
        ],
        // A client that does not exist.
        vec![("client_id", "nobody"), ("post_logout_redirect_uri", BYE)],
        // The redirect URI of another client.
        vec![
            ("client_id", other.id.as_str()),
            ("post_logout_redirect_uri", BYE),
        ],
    ];
    for params in cases {
        let response = logout(&app, &browser, &params).await;
        let html = expect_error_page(response, 400).await;
        assert!(
            html.contains("Logout request refused"),
            "{params:?}: {html}"
        );
        assert!(logged_in(&app, &browser).await, "{params:?}");
    }
    // Duplicated parameters are malformed.
    let response = browser
        .get(format!("{}?state=a&state=b", app.url("/logout")))
        .send()
        .await
        .unwrap();
    expect_error_page(response, 400).await;
}

#[tokio::test]
async fn client_id_alone_asks_and_then_returns_to_the_client() {
    let app = spawn_app().await;
    let (client, _) = client(&app).await;
    app.user(EMAIL).await;
    let browser = app.logged_in_browser(EMAIL).await;
    let page = logout(
        &app,
        &browser,
        &[
            ("client_id", client.id.as_str()),
            ("post_logout_redirect_uri", BYE),
            ("state", "k"),
        ],
    )
    .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Pied Piper asks you to log out")
            || html.contains("<strong>Pied Piper</strong> asks"),
        "{html}"
    );
    let response = browser
        .post(app.url("/logout"))
        .form(&[
            ("csrf", hidden(&html, "csrf")),
            ("client_id", hidden(&html, "client_id")),
            (
                "post_logout_redirect_uri",
                hidden(&html, "post_logout_redirect_uri"),
            ),
            ("state", hidden(&html, "state")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&app.base, &response).as_str(),
        format!("{BYE}?state=k")
    );
}

#[tokio::test]
async fn no_session_goes_straight_to_the_client() {
    let app = spawn_app().await;
    let (client, _) = client(&app).await;
    let stranger = browser();
    let response = logout(
        &app,
        &stranger,
        &[
            ("client_id", client.id.as_str()),
            ("post_logout_redirect_uri", BYE),
            ("state", "k"),
        ],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&app.base, &response).as_str(),
        format!("{BYE}?state=k")
    );
    // Without a redirect URI the user ends on the logged-out page.
    let response = logout(&app, &stranger, &[]).await;
    assert_eq!(location(&app.base, &response).path(), "/logged-out");
    let page = stranger.get(app.url("/logged-out")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("You are logged out"));
}

#[tokio::test]
async fn a_cross_site_form_post_is_carried_to_a_get_that_brings_the_cookie() {
    let app = spawn_app().await;
    let (client, secret) = client(&app).await;
    app.user(EMAIL).await;
    let browser = browser();
    let id_token = id_token_in(&app, &browser, &client, &secret).await;
    // The relying party's page posts the form from its own site: the SameSite=Lax cookie stays
    // behind, and there is no CSRF field.
    let cookieless = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = cookieless
        .post(app.url("/logout"))
        .header("origin", "https://client.example")
        .form(&[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", BYE),
            ("state", "p"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let next = location(&app.base, &response);
    assert_eq!(next.path(), "/logout");
    assert!(param(&next, "sealed").is_some());
    assert!(
        !next.as_str().contains("id_token_hint"),
        "the hint stays out of the URL"
    );
    // The browser follows the redirect, a top-level GET that carries the cookie.
    let response = browser.get(next.as_str()).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&app.base, &response).as_str(),
        format!("{BYE}?state=p")
    );
    assert!(!logged_in(&app, &browser).await);

    // Sealed parameters that were altered are refused.
    let response = browser
        .get(app.url("/logout?sealed=AAAA"))
        .send()
        .await
        .unwrap();
    expect_error_page(response, 400).await;
}

#[tokio::test]
async fn a_same_site_form_post_without_a_csrf_field_asks_instead_of_failing() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = app.logged_in_browser(EMAIL).await;
    let response = browser
        .post(app.url("/logout"))
        .form(&[("ui_locales", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("action=\"/logout\"")
    );
    assert!(logged_in(&app, &browser).await);
    // A body that is not a form is an error page, not a plain-text 4xx.
    let response = browser
        .post(app.url("/logout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("state=%ZZ&state=2")
        .send()
        .await
        .unwrap();
    expect_error_page(response, 400).await;
}
