//! The Money Button guide (seed 004) as written: `/oauth/v1/authorize` with `response_type`,
//! space-separated scope, `state` and `landing=register`; the one-use code exchanged at
//! `/oauth/v2/token` with only the client id (no PKCE, no secret — allowed only for a client
//! registered with the acknowledged opt-in); `GET /api/v1/auth/user_identity`; refresh at
//! `/oauth/v1/token`; application access with HTTP Basic and `application_access:write`.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_core::admin::clients::NewClient;
use portcullis_core::client::{ClientKind, GrantType, PkcePolicy};
use portcullis_proto::ScopeSet;
use portcullis_testkit::flow::{PASSWORD, browser, hidden, location, param};
use portcullis_testkit::{AppOptions, TestApp, spawn_app_with};
use serde_json::Value;

const REDIRECT: &str = "https://myredirecturi.com";

async fn app() -> TestApp {
    spawn_app_with(AppOptions {
        configure: |c| {
            c.compat
                .profiles
                .insert(portcullis_http::compat::Profile::MoneyButton);
        },
        ..AppOptions::default()
    })
    .await
    .unwrap()
}

/// The guide's app: public, and — because the guide sends neither PKCE nor a secret — with
/// PKCE turned off, which registration accepts only with the acknowledgement.
async fn guide_client(app: &TestApp) -> String {
    let (client, _) = app
        .client(NewClient {
            kind: ClientKind::Public,
            redirect_uris: vec![REDIRECT.into()],
            grant_types: BTreeSet::from([GrantType::AuthorizationCode, GrantType::RefreshToken]),
            scopes: ScopeSet::parse(
                "auth.user_identity:read users.profiles:read users.balance:read",
            )
            .unwrap(),
            pkce: PkcePolicy::Optional,
            acknowledge_public_without_pkce: true,
            ..NewClient::confidential("Money Button app")
        })
        .await;
    client.id.to_string()
}

#[tokio::test]
async fn money_button_guide_works_unchanged() {
    let app = app().await;
    let client_id = guide_client(&app).await;
    let base = app.base.clone();
    let authorize = format!(
        "{base}/oauth/v1/authorize?response_type=code&client_id={client_id}&redirect_uri={REDIRECT}&scope=auth.user_identity:read&state=somesecurerandomstring&landing=register"
    );

    // landing=register: a new user signs up, then sees the consent screen and clicks OK.
    let browser = browser();
    let response = browser.get(&authorize).send().await.unwrap();
    let signup = app.follow(&browser, response).await;
    assert_eq!(signup.url().path(), "/signup");
    let request = param(signup.url(), "request").unwrap();
    let html = signup.text().await.unwrap();
    let submitted = browser
        .post(app.url("/signup"))
        .form(&[
            ("csrf", hidden(&html, "csrf").as_str()),
            ("request", request.as_str()),
            ("name", "Satoshi"),
            ("email", "satoshi@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let consent = app.follow(&browser, submitted).await;
    assert_eq!(consent.url().path(), "/consent");
    // The sign-up answered the request's landing=register for this session: the pages carry
    // the request as that sign-up left it.
    let request = param(consent.url(), "request").unwrap();
    let allowed = app
        .consent(&browser, &request, "allow", &["auth.user_identity:read"])
        .await;
    let callback = location(&base, &allowed);
    assert!(callback.as_str().starts_with(REDIRECT));
    assert_eq!(
        param(&callback, "state").as_deref(),
        Some("somesecurerandomstring")
    );
    let code = param(&callback, "code").unwrap();

    // curl --url '.../oauth/v2/token' --data grant_type=authorization_code --data client_id=...
    let http = reqwest::Client::new();
    let exchange = |code: String| {
        let http = http.clone();
        let (url, client_id) = (format!("{base}/oauth/v2/token"), client_id.clone());
        async move {
            http.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", client_id.as_str()),
                    ("code", code.as_str()),
                    ("redirect_uri", REDIRECT),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let tokens: Value = exchange(code.clone()).await.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "auth.user_identity:read");
    // "a one use code".
    let again = exchange(code).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    // The first exchange's tokens were revoked by the replay; sign in again for fresh ones.
    let fresh = app
        .user_approves(
            &reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap(),
            &authorize.replace("&landing=register", "&landing=login"),
            "satoshi@example.com",
            None,
        )
        .await;
    let tokens: Value = exchange(fresh.code()).await.json().await.unwrap();
    let access_token = tokens["access_token"].as_str().unwrap();

    // curl --url '.../api/v1/auth/user_identity' --header 'authorization: Bearer …'
    let identity = http
        .get(format!("{base}/api/v1/auth/user_identity"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(identity.status(), 200);
    let identity: Value = identity.json().await.unwrap();
    assert_eq!(identity["data"]["attributes"]["name"], "Satoshi");
    assert_eq!(identity["data"]["type"], "user_identities");

    // curl --url '.../oauth/v1/token' --data grant_type=refresh_token --data refresh_token=…
    //   --data client_id=…
    let refreshed: Value = http
        .post(format!("{base}/oauth/v1/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed["scope"], "auth.user_identity:read");
    assert_eq!(refreshed["expires_in"], 3600);
}

#[tokio::test]
async fn money_button_application_access_with_basic() {
    let app = app().await;
    let (client, secret) = app
        .client(NewClient {
            grant_types: BTreeSet::from([GrantType::ClientCredentials]),
            scopes: ScopeSet::parse("application_access:write").unwrap(),
            ..NewClient::confidential("Money Button back-end")
        })
        .await;
    // CREDENTIALS=`echo -n "$ID:$SECRET" | base64 -w 0`
    let credentials = STANDARD.encode(format!("{}:{}", client.id, secret.unwrap().expose()));
    let response = reqwest::Client::new()
        .post(app.url("/oauth/v1/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {credentials}"))
        .body("grant_type=client_credentials&scope=application_access:write")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "application_access:write");
    assert!(body.get("refresh_token").is_none());
}

/// The secure default holds: a public client registered normally cannot run the guide's
/// PKCE-less flow; the opt-in is per client.
#[tokio::test]
async fn without_the_opt_in_the_guide_flow_is_refused() {
    let app = app().await;
    let (client, _) = app
        .client(portcullis_testkit::flow::public("Careful app"))
        .await;
    let response = browser()
        .get(app.url(&format!(
            "/oauth/v1/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=s",
            client.id,
            portcullis_testkit::flow::REDIRECT_URI
        )))
        .send()
        .await
        .unwrap();
    let back = location(&app.base, &response);
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert!(
        param(&back, "error_description")
            .unwrap()
            .contains("code_challenge")
    );
}

/// `GET /oauth/v1/authorize` with the guide's parameters plus `extra`.
async fn authorize_v1(
    app: &TestApp,
    browser: &reqwest::Client,
    client_id: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "auth.user_identity:read"),
        ("state", "st"),
    ];
    params.extend_from_slice(extra);
    browser
        .get(app.url("/oauth/v1/authorize"))
        .query(&params)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn landing_register_opens_the_signup_page_and_login_the_login_page() {
    let app = app().await;
    let client_id = guide_client(&app).await;
    for (landing, page) in [("register", "/signup"), ("login", "/login")] {
        let response = authorize_v1(&app, &browser(), &client_id, &[("landing", landing)]).await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&app.base, &response).path(), page, "{landing}");
    }
}

#[tokio::test]
async fn landing_register_does_not_stop_a_silent_request() {
    let app = app().await;
    let client_id = guide_client(&app).await;
    app.user("ana@example.com").await;
    // Ana approves the app once.
    let browser = browser();
    let url = url::Url::parse_with_params(
        &app.url("/oauth/v1/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("scope", "auth.user_identity:read"),
            ("state", "st"),
        ],
    )
    .unwrap();
    let callback = app
        .user_approves(&browser, url.as_str(), "ana@example.com", None)
        .await;
    assert!(!callback.code().is_empty());
    // Silently again, with landing=register: no page, a code.
    let response = authorize_v1(
        &app,
        &browser,
        &client_id,
        &[("landing", "register"), ("prompt", "none")],
    )
    .await;
    let to = location(&app.base, &response);
    assert!(param(&to, "code").is_some(), "{to}");
}
