//! The sign-up page: creates the account (password hashed with Argon2id), logs the new user in
//! and continues the authorization request; a mistake sends the person back to the form with a
//! message.

use portcullis_core::store::UserStore as _;
use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{
    Pkce, REDIRECT_URI, browser, confidential, expect_error_page, hidden, location, param,
    postgres_app, request, with,
};
use portcullis_testkit::spawn_app;

const NEW_PASSWORD: &str = "a long enough password";

/// Fetches the sign-up page (for `request`, if any) and posts it with `fields`.
async fn sign_up(
    app: &TestApp,
    browser: &reqwest::Client,
    request: Option<&str>,
    name: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let url = match request {
        Some(id) => app.url(&format!("/signup?request={id}")),
        None => app.url("/signup"),
    };
    let page = browser.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    let mut form = vec![
        ("name", name),
        ("email", email),
        ("password", password),
        ("csrf", csrf.as_str()),
    ];
    form.extend(request.map(|id| ("request", id)));
    browser
        .post(app.url("/signup"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn signup_creates_the_account_and_continues_the_flow(app: TestApp) {
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    let browser = browser();
    let pkce = Pkce::new();
    let params = with(
        &request(client.id.as_str(), &pkce, "openid wallet:read"),
        "prompt",
        "create",
    );
    let response = app.authorize(&browser, &params).await;
    let signup = location(&app.base, &response);
    assert_eq!(signup.path(), "/signup");
    let request_id = param(&signup, "request").unwrap();
    let html = browser
        .get(signup)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for field in ["name=\"name\"", "name=\"email\"", "name=\"password\""] {
        assert!(html.contains(field), "{field} in {html}");
    }
    let response = sign_up(
        &app,
        &browser,
        Some(&request_id),
        "Dana Scully",
        "Dana@Example.com",
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(response.status(), 303);
    // wallet:read needs a profile with a wallet: the new user onboards first.
    let onboarding = app.follow(&browser, response).await;
    assert_eq!(onboarding.url().path(), "/onboarding/profile");
    let consent = app.onboard(&browser, onboarding).await;
    assert_eq!(consent.url().path(), "/consent");
    // The sign-up answered the request's prompt=create for this session: the pages carry the
    // request as that sign-up left it.
    let request_id = param(consent.url(), "request").unwrap();
    let html = consent.text().await.unwrap();
    assert!(
        html.contains("Dana Scully") && html.contains("dana@example.com"),
        "{html}"
    );
    let response = app
        .consent(&browser, &request_id, "allow", &["wallet:read"])
        .await;
    let callback = location(&app.base, &response);
    assert!(callback.as_str().starts_with(REDIRECT_URI), "{callback}");
    assert_eq!(param(&callback, "state").as_deref(), Some("xyz"));
    assert_eq!(param(&callback, "iss").as_deref(), Some(app.base.as_str()));
    let code = param(&callback, "code").unwrap();
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "wallet:read");

    let user = app
        .store
        .user_by_email("dana@example.com")
        .await
        .unwrap()
        .expect("account");
    assert_eq!(user.name, "Dana Scully");
    let hash = user.password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(NEW_PASSWORD));
    // The new account logs in with its password.
    let response = app
        .login(
            &portcullis_testkit::flow::browser(),
            "dana@example.com",
            NEW_PASSWORD,
            None,
        )
        .await;
    assert_eq!(location(&app.base, &response).path(), "/account");
}

#[tokio::test]
async fn signup_creates_the_account_and_continues_the_flow_on_sqlite() {
    signup_creates_the_account_and_continues_the_flow(spawn_app().await).await;
}

#[tokio::test]
async fn signup_creates_the_account_and_continues_the_flow_on_postgres() {
    if let Some(app) = postgres_app().await {
        signup_creates_the_account_and_continues_the_flow(app).await;
    }
}

#[tokio::test]
async fn signup_validation_errors_send_back_to_the_form_with_a_message() {
    let app = spawn_app().await;
    app.user("taken@example.com").await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    let browser = browser();
    let pkce = Pkce::new();
    let response = app
        .authorize(
            &browser,
            &with(
                &request(client.id.as_str(), &pkce, "openid"),
                "prompt",
                "create",
            ),
        )
        .await;
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    for (name, email, password, message) in [
        (
            "Dana",
            "not an email",
            NEW_PASSWORD,
            "Enter an email address",
        ),
        ("Dana", "dana@", NEW_PASSWORD, "Enter an email address"),
        (
            "Dana",
            "dana@example.com",
            "tiny9",
            "Choose a longer password",
        ),
        (
            "Dana",
            "dana@example.com",
            "Password1234",
            "one of the most common ones",
        ),
        (
            "Dana Scully",
            "dana@example.com",
            "dana scully",
            "made of your email or name",
        ),
        (
            "Dana",
            "dana@example.com",
            "aaaaaaaaaaaa",
            "one repeated character",
        ),
        ("", "dana@example.com", NEW_PASSWORD, "Enter your name"),
        ("   ", "dana@example.com", NEW_PASSWORD, "Enter your name"),
        ("Dana", "taken@example.com", NEW_PASSWORD, "already exists"),
        ("Dana", " TAKEN@example.com", NEW_PASSWORD, "already exists"),
    ] {
        let response = sign_up(&app, &browser, Some(&request_id), name, email, password).await;
        assert_eq!(response.status(), 303, "{email}");
        let back = location(&app.base, &response);
        assert_eq!(back.path(), "/signup", "{email}");
        assert_eq!(
            param(&back, "request").as_deref(),
            Some(request_id.as_str())
        );
        assert!(
            back.query_pairs()
                .all(|(k, _)| k == "request" || k == "error"),
            "nothing typed travels in the URL: {back}"
        );
        let page = browser.get(back).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(message),
            "{message} for ({name:?}, {email:?}): {html}"
        );
        assert!(!html.contains(password));
        if !name.trim().is_empty() {
            assert!(
                html.contains(&format!("value=\"{name}\"")),
                "name kept: {html}"
            );
        }
    }
    assert!(
        app.store
            .user_by_email("dana@example.com")
            .await
            .unwrap()
            .is_none()
    );
    // The request survived the mistakes.
    let response = sign_up(
        &app,
        &browser,
        Some(&request_id),
        "Dana",
        "dana@example.com",
        NEW_PASSWORD,
    )
    .await;
    let consent = app.follow(&browser, response).await;
    assert_eq!(consent.url().path(), "/consent");
}

#[tokio::test]
async fn signup_without_a_valid_csrf_token_is_refused() {
    let app = spawn_app().await;
    let browser = browser();
    browser.get(app.url("/signup")).send().await.unwrap();
    let form = [
        ("name", "Dana"),
        ("email", "dana@example.com"),
        ("password", NEW_PASSWORD),
        ("csrf", "forged"),
    ];
    let response = browser
        .post(app.url("/signup"))
        .form(&form)
        .send()
        .await
        .unwrap();
    expect_error_page(response, 403).await;
    assert!(
        app.store
            .user_by_email("dana@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn signup_without_a_request_goes_to_the_account_page() {
    let app = spawn_app().await;
    let browser = browser();
    let response = sign_up(
        &app,
        &browser,
        None,
        "Dana",
        "dana@example.com",
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(location(&app.base, &response).path(), "/account");
    let account = browser.get(app.url("/account")).send().await.unwrap();
    assert_eq!(account.status(), 200);
    assert!(account.text().await.unwrap().contains("dana@example.com"));
}

#[tokio::test]
async fn signups_from_one_ip_are_throttled() {
    let app = spawn_app().await;
    let browser = browser();
    let page = browser
        .get(app.url("/signup"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let attempt = |n: u64| {
        let form = [
            ("name", "Dana".to_owned()),
            ("email", format!("dana{n}@example.com")),
            ("password", "tiny".to_owned()),
            ("csrf", csrf.clone()),
        ];
        browser.post(app.url("/signup")).form(&form).send()
    };
    let limit = portcullis_core::throttle::SIGNUP_PER_IP;
    for n in 0..limit.max {
        assert_eq!(attempt(n).await.unwrap().status(), 303, "attempt {n}");
    }
    let response = attempt(limit.max).await.unwrap();
    assert!(response.headers().contains_key("retry-after"));
    expect_error_page(response, 429).await;
    // Not for good: an hour later (with a new form, as the old session has expired too).
    app.clock.advance(limit.window);
    let response = sign_up(
        &app,
        &browser,
        None,
        "Dana",
        "dana@example.com",
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(response.status(), 303);
}
