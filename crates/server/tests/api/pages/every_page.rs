//! Rules every page follows: security headers on every page (including error pages), and 303
//! after every successful POST.

use portcullis_testkit::TestApp;
use portcullis_testkit::flow::{
    PASSWORD, Pkce, browser, confidential, hidden, location, param, request,
};
use portcullis_testkit::spawn_app;

const EMAIL: &str = "alice@example.com";

fn check_headers(what: &str, response: &reqwest::Response) {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("'unsafe-inline'"), "{what}: {csp}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
    assert!(header("cache-control").contains("no-store"), "{what}");
    assert!(header("content-type").starts_with("text/html"), "{what}");
}

async fn get(app: &TestApp, browser: &reqwest::Client, path: &str) -> reqwest::Response {
    browser.get(app.url(path)).send().await.unwrap()
}

#[tokio::test]
async fn every_page_sends_the_security_headers() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let anonymous = browser();
    let pkce = Pkce::new();

    let mut pages = Vec::new();
    pages.push(("login", get(&app, &anonymous, "/login").await));
    pages.push(("signup", get(&app, &anonymous, "/signup").await));
    let unknown = request("no-such-client", &pkce, "openid");
    pages.push((
        "authorize error page",
        app.authorize(&anonymous, &unknown).await,
    ));
    pages.push((
        "unknown request",
        get(&app, &anonymous, "/oauth/authorize/resume?request=nope").await,
    ));
    let stale = anonymous
        .post(app.url("/login"))
        .form(&[("email", EMAIL), ("password", PASSWORD), ("csrf", "forged")])
        .send()
        .await
        .unwrap();
    pages.push(("stale form", stale));

    let user = browser();
    let response = app
        .authorize(&user, &request(client.id.as_str(), &pkce, "openid"))
        .await;
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    let response = app.login(&user, EMAIL, PASSWORD, Some(&request_id)).await;
    pages.push(("consent", app.follow(&user, response).await));
    pages.push(("account", get(&app, &user, "/account").await));
    pages.push(("logout", get(&app, &user, "/logout").await));
    let tampered = user
        .post(app.url("/consent"))
        .form(&[("csrf", "x"), ("request", "y"), ("request", "z")])
        .send()
        .await
        .unwrap();
    pages.push(("refused consent form", tampered));

    for (what, response) in &pages {
        assert!(
            !response.status().is_redirection(),
            "{what} is a page, got {}",
            response.status()
        );
        check_headers(what, response);
    }
}

#[tokio::test]
async fn throttled_login_page_sends_the_security_headers() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = browser();
    let mut last = None;
    for _ in 0..=portcullis_core::throttle::LOGIN_PER_ACCOUNT_NETWORK.max {
        last = Some(app.login(&browser, EMAIL, "wrong password!", None).await);
    }
    let response = last.unwrap();
    assert_eq!(response.status(), 429);
    check_headers("429", &response);
}

#[tokio::test]
async fn every_successful_post_answers_303() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();

    let authorize = browser
        .post(app.url("/oauth/authorize"))
        .form(&request(client.id.as_str(), &pkce, "openid"))
        .send()
        .await
        .unwrap();
    assert_eq!(authorize.status(), 303, "POST /oauth/authorize");
    let request_id = param(&location(&app.base, &authorize), "request").unwrap();

    let failed_login = app
        .login(&browser, EMAIL, "wrong password!", Some(&request_id))
        .await;
    assert_eq!(failed_login.status(), 303, "failed POST /login");
    let login = app
        .login(&browser, EMAIL, PASSWORD, Some(&request_id))
        .await;
    assert_eq!(login.status(), 303, "POST /login");

    let consent = app
        .consent(&browser, &request_id, "allow", &["openid"])
        .await;
    assert_eq!(consent.status(), 303, "POST /consent");

    let account = browser
        .get(app.url("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&account, "csrf");
    let revoke = browser
        .post(app.url("/account/apps/revoke"))
        .form(&[("csrf", csrf.as_str()), ("client_id", client.id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 303, "POST /account/apps/revoke");

    let logout = browser
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 303, "POST /logout");

    let fresh = portcullis_testkit::flow::browser();
    let page = fresh
        .get(app.url("/signup"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let form = [
        ("name", "Dana"),
        ("email", "not an email"),
        ("password", "a long enough password"),
        ("csrf", csrf.as_str()),
    ];
    let failed_signup = fresh
        .post(app.url("/signup"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(failed_signup.status(), 303, "failed POST /signup");
    let form = [
        ("name", "Dana"),
        ("email", "dana@example.com"),
        ("password", "a long enough password"),
        ("csrf", csrf.as_str()),
    ];
    let signup = fresh
        .post(app.url("/signup"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 303, "POST /signup");
}

#[tokio::test]
async fn pages_work_without_javascript() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let browser = browser();
    let response = app
        .authorize(&browser, &request(client.id.as_str(), &pkce, "openid"))
        .await;
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    let login = get(&app, &browser, &format!("/login?request={request_id}"))
        .await
        .text()
        .await
        .unwrap();
    let signup = get(&app, &browser, &format!("/signup?request={request_id}"))
        .await
        .text()
        .await
        .unwrap();
    let response = app
        .login(&browser, EMAIL, PASSWORD, Some(&request_id))
        .await;
    let consent = app.follow(&browser, response).await.text().await.unwrap();
    for (what, html) in [
        ("login", &login),
        ("signup", &signup),
        ("consent", &consent),
    ] {
        assert!(!html.contains("<script"), "{what}");
        assert!(html.contains("<form method=\"post\""), "{what}");
        assert!(
            html.contains(&format!("name=\"request\" value=\"{request_id}\"")),
            "{what} carries the request"
        );
    }
    // Labels for the inputs (accessibility).
    assert!(login.contains("<label for=\"email\">") && login.contains("<label for=\"password\">"));
}

#[tokio::test]
async fn pages_without_a_valid_request_parameter_show_an_error_page() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = app.logged_in_browser(EMAIL).await;
    for path in [
        "/consent",
        "/consent?request=",
        "/consent?request=nope",
        "/oauth/authorize/resume",
        "/oauth/authorize/resume?request=nope",
    ] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        check_headers(path, &response);
        let html = portcullis_testkit::flow::expect_error_page(response, 400).await;
        assert!(html.contains("expired or is unknown"), "{path}: {html}");
    }
}
