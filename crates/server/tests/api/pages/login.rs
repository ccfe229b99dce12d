//! The login page: fields `email` and `password`, one generic error whether or not the email
//! exists, nothing typed in the URL, and throttling per account and client network and per
//! network that delays but never locks for good (`login_lockout.rs` for what guessers on
//! other networks can and cannot do).

use portcullis_core::store::UserStore as _;
use portcullis_core::throttle::{LOGIN_FAILURES_PER_NETWORK, LOGIN_PER_ACCOUNT_NETWORK};
use portcullis_core::user::User;
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{
    PASSWORD, Pkce, REDIRECT_URI, browser, confidential, expect_error_page, hidden, location,
    param, postgres_app, request,
};
use portcullis_testkit::spawn_app;

const EMAIL: &str = "alice@example.com";

/// Posts the login form in `browser` (the page fetched for its CSRF token).
async fn post_login(
    app: &TestApp,
    browser: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.login(browser, email, password, None).await
}

async fn login_continues_the_authorization_flow(app: TestApp) {
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let response = app
        .authorize(
            &browser,
            &request(client.id.as_str(), &pkce, "openid wallet:read"),
        )
        .await;
    let login = location(&app.base, &response);
    assert_eq!(login.path(), "/login");
    let request_id = param(&login, "request").unwrap();
    let page = browser
        .get(login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("name=\"email\"") && page.contains("name=\"password\""),
        "{page}"
    );
    assert!(
        page.contains("Pied Piper"),
        "the login page names the app: {page}"
    );
    let response = app
        .login(&browser, EMAIL, PASSWORD, Some(&request_id))
        .await;
    assert_eq!(response.status(), 303);
    let page = app.follow(&browser, response).await;
    // wallet:read leads a new user through onboarding first.
    assert_eq!(page.url().path(), "/onboarding/profile");
    let consent = app.onboard(&browser, page).await;
    assert_eq!(consent.url().path(), "/consent");
    let response = app
        .consent(&browser, &request_id, "allow", &["openid", "wallet:read"])
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
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid wallet:read");
    assert!(body["id_token"].is_string());
    assert!(body["refresh_token"].is_string());
    assert!(body["expires_in"].as_i64().is_some_and(|s| s > 0));
}

#[tokio::test]
async fn login_continues_the_authorization_flow_on_sqlite() {
    login_continues_the_authorization_flow(spawn_app().await).await;
}

#[tokio::test]
async fn login_continues_the_authorization_flow_on_postgres() {
    if let Some(app) = postgres_app().await {
        login_continues_the_authorization_flow(app).await;
    }
}

#[tokio::test]
async fn login_without_a_request_goes_to_the_account_page() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let response = post_login(&app, &browser(), EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&app.base, &response).path(), "/account");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let disabled = app.user("bob@example.com").await;
    app.store
        .update_user(&User {
            disabled: true,
            ..disabled
        })
        .await
        .unwrap();
    let browser = browser();
    let mut answers = Vec::new();
    for (email, password) in [
        (EMAIL, "wrong password!"),
        ("nobody@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("bob@example.com", PASSWORD),
    ] {
        let response = post_login(&app, &browser, email, password).await;
        assert_eq!(response.status(), 303, "{email}");
        let to = location(&app.base, &response);
        assert_eq!(to.path(), "/login");
        let pairs: Vec<(String, String)> = to.query_pairs().into_owned().collect();
        let page = browser.get(to).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap().replace(email, "EMAIL");
        assert!(html.contains("Email or password is incorrect."), "{html}");
        answers.push((pairs, html));
    }
    for answer in &answers[1..] {
        assert_eq!(answer, &answers[0], "the answers differ");
    }
}

#[tokio::test]
async fn failed_logins_at_one_account_from_one_network_are_throttled_then_allowed_again() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = browser();
    for attempt in 0..LOGIN_PER_ACCOUNT_NETWORK.max {
        let response = post_login(&app, &browser, EMAIL, "wrong password!").await;
        assert_eq!(response.status(), 303, "attempt {attempt}");
    }
    let response = post_login(&app, &browser, EMAIL, "wrong password!").await;
    assert_eq!(response.status(), 429);
    let retry_after: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=LOGIN_PER_ACCOUNT_NETWORK.window).contains(&retry_after),
        "{retry_after}"
    );
    expect_error_page(response, 429).await;
    // Even the right password waits: the guesser learns nothing.
    let response = post_login(&app, &browser, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 429);
    // Other accounts are not affected.
    app.user("carol@example.com").await;
    let response = post_login(&app, &browser, "carol@example.com", PASSWORD).await;
    assert_eq!(response.status(), 303);
    // Not a lock-out: after the window the right password works.
    app.clock.advance(LOGIN_PER_ACCOUNT_NETWORK.window);
    let response = post_login(&app, &browser, EMAIL, PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&app.base, &response).path(), "/account");
}

#[tokio::test]
async fn unknown_emails_are_throttled_like_real_accounts() {
    let app = spawn_app().await;
    let browser = browser();
    for _ in 0..LOGIN_PER_ACCOUNT_NETWORK.max {
        let response = post_login(&app, &browser, "nobody@example.com", "wrong password!").await;
        assert_eq!(response.status(), 303);
    }
    let response = post_login(&app, &browser, "nobody@example.com", "wrong password!").await;
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn email_case_does_not_escape_the_account_throttle() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = browser();
    for n in 0..LOGIN_PER_ACCOUNT_NETWORK.max {
        let email = if n % 2 == 0 {
            "ALICE@example.com"
        } else {
            " alice@EXAMPLE.com "
        };
        let response = post_login(&app, &browser, email, "wrong password!").await;
        assert_eq!(response.status(), 303);
    }
    let response = post_login(&app, &browser, EMAIL, "wrong password!").await;
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn a_successful_login_clears_the_accounts_failures() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = browser();
    for _ in 1..LOGIN_PER_ACCOUNT_NETWORK.max {
        assert_eq!(
            post_login(&app, &browser, EMAIL, "wrong password!")
                .await
                .status(),
            303
        );
    }
    assert_eq!(
        post_login(&app, &browser, EMAIL, PASSWORD).await.status(),
        303
    );
    let browser = portcullis_testkit::flow::browser();
    for _ in 0..LOGIN_PER_ACCOUNT_NETWORK.max {
        assert_eq!(
            post_login(&app, &browser, EMAIL, "wrong password!")
                .await
                .status(),
            303
        );
    }
}

#[tokio::test]
async fn failed_logins_from_one_network_are_throttled_across_accounts() {
    let app = spawn_app().await;
    let browser = browser();
    let page = browser
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let attempt = |n: u64| {
        let email = format!("user{n}@example.com");
        let form = [
            ("email", email),
            ("password", "wrong password!".to_owned()),
            ("csrf", csrf.clone()),
        ];
        browser.post(app.url("/login")).form(&form).send()
    };
    // Each account stays under its own limit; the address does not.
    for n in 0..LOGIN_FAILURES_PER_NETWORK.max {
        assert_eq!(attempt(n).await.unwrap().status(), 303, "attempt {n}");
    }
    let response = attempt(LOGIN_FAILURES_PER_NETWORK.max).await.unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    app.clock.advance(LOGIN_FAILURES_PER_NETWORK.window);
    assert_eq!(
        attempt(LOGIN_FAILURES_PER_NETWORK.max + 1)
            .await
            .unwrap()
            .status(),
        303
    );
}

#[tokio::test]
async fn a_failed_login_keeps_what_was_typed_out_of_the_url() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = browser();
    let typed = "Alice@Example.com";
    let response = post_login(&app, &browser, typed, "wrong password!").await;
    assert_eq!(response.status(), 303);
    let to = location(&app.base, &response);
    let pairs: Vec<(String, String)> = to.query_pairs().into_owned().collect();
    assert_eq!(pairs, [("error".to_owned(), "credentials".to_owned())]);
    for set_cookie in portcullis_testkit::flow::set_cookies(&response) {
        assert!(
            !set_cookie.to_lowercase().contains("alice"),
            "kept sealed, not readable: {set_cookie}"
        );
    }
    let html = browser
        .get(to.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Email or password is incorrect."), "{html}");
    assert!(
        html.contains(&format!("value=\"{typed}\"")),
        "the form keeps it: {html}"
    );
    // Shown once: the next visit starts empty.
    let html = browser
        .get(to.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains(typed), "{html}");
    // Another browser never sees it.
    let html = portcullis_testkit::flow::browser()
        .get(to)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains(typed), "{html}");
}

#[tokio::test]
async fn login_without_a_valid_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = browser();
    // A session exists (the page was shown), but the token is missing or wrong.
    let page = browser
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    for token in ["", "forged", &csrf[..csrf.len() - 1]] {
        let form = [("email", EMAIL), ("password", PASSWORD), ("csrf", token)];
        let response = browser
            .post(app.url("/login"))
            .form(&form)
            .send()
            .await
            .unwrap();
        expect_error_page(response, 403).await;
    }
    // Another browser's valid token does not work either.
    let other = portcullis_testkit::flow::browser();
    let form = [
        ("email", EMAIL),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
    ];
    let response = other
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    expect_error_page(response, 403).await;
}
