//! Browser sessions: stored in the database from login on (before it, a signed pre-login
//! cookie holds the forms' CSRF token), cookies with the right attributes, a new id at login,
//! logout, and unknown cookie values ignored.

use portcullis_testkit::flow::{
    PASSWORD, Pkce, browser, browser_with_jar, confidential, cookie, hidden, location, param,
    request, set_cookies,
};
use portcullis_testkit::{TestApp, spawn_app};

const EMAIL: &str = "alice@example.com";
const COOKIE: &str = "portcullis";
const PRE_LOGIN_COOKIE: &str = "portcullis-login";

/// A client that sends exactly `cookie` and keeps no jar.
fn with_cookie(value: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        format!("{COOKIE}={value}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Whether a client is logged in: the account page answers instead of sending it to login.
async fn logged_in(app: &TestApp, client: &reqwest::Client) -> bool {
    let response = client.get(app.url("/account")).send().await.unwrap();
    match response.status().as_u16() {
        200 => true,
        303 => {
            assert_eq!(location(&app.base, &response).path(), "/login");
            false
        }
        other => panic!("/account answered {other}"),
    }
}

fn check_attributes(set_cookie: &str, name: &str) {
    let parts: Vec<String> = set_cookie
        .split(';')
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    assert!(set_cookie.starts_with(&format!("{name}=")), "{set_cookie}");
    assert!(parts.contains(&"httponly".to_owned()), "{set_cookie}");
    assert!(parts.contains(&"samesite=lax".to_owned()), "{set_cookie}");
    assert!(parts.contains(&"path=/".to_owned()), "{set_cookie}");
    assert!(
        !parts.iter().any(|p| p.starts_with("domain")),
        "host-only: {set_cookie}"
    );
    // The test server speaks plain http: Secure would make browsers drop the cookie.
    assert!(!parts.contains(&"secure".to_owned()), "{set_cookie}");
}

#[tokio::test]
async fn session_cookie_is_httponly_samesite_lax_and_host_only() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = browser();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let cookies = set_cookies(&page);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    check_attributes(&cookies[0], PRE_LOGIN_COOKIE);
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let form = [
        ("email", EMAIL),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
    ];
    let response = browser
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    // The new session, the pre-login cookie cleared, and the device cookie that trusts this
    // browser for the account.
    let cookies = set_cookies(&response);
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    check_attributes(&cookies[0], COOKIE);
    // The pre-login cookie is done with.
    let pre_login = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{PRE_LOGIN_COOKIE}=")))
        .expect("the pre-login cookie is cleared");
    check_attributes(pre_login, PRE_LOGIN_COOKIE);
    assert!(pre_login.contains("Max-Age=0"), "{cookies:?}");
    let device = cookies
        .iter()
        .find(|c| c.starts_with("portcullis-device="))
        .expect("the device cookie");
    for attribute in ["; Path=/;", "; HttpOnly;", "; SameSite=Strict;"] {
        assert!(device.contains(attribute), "{device}");
    }
    assert!(!device.contains("Domain"), "host-only: {device}");
}

#[tokio::test]
async fn session_id_changes_at_login() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let (browser, jar) = browser_with_jar();
    // A value fixed before login, as an attacker planting a cookie would.
    let before = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    jar.add_cookie_str(
        &format!("{COOKIE}={before}; Path=/"),
        &app.base.parse::<reqwest::Url>().unwrap(),
    );
    let response = app.login(&browser, EMAIL, PASSWORD, None).await;
    assert_eq!(response.status(), 303);
    let after = cookie(&jar, &app.base, COOKIE).expect("a session after login");
    assert_ne!(before, after);
    assert!(after.len() >= 43, "256-bit id: {after}");
    // An id fixed before login (session fixation) gives nothing after it.
    assert!(!logged_in(&app, &with_cookie(before)).await);
    assert!(logged_in(&app, &with_cookie(&after)).await);
}

#[tokio::test]
async fn logout_page_asks_and_the_post_ends_the_session() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let (browser, jar) = browser_with_jar();
    app.login(&browser, EMAIL, PASSWORD, None).await;
    let session = cookie(&jar, &app.base, COOKIE).unwrap();
    // GET only shows the form: a cross-site image must not log anyone out.
    let page = browser.get(app.url("/logout")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<form method=\"post\" action=\"/logout\""),
        "{html}"
    );
    assert!(logged_in(&app, &browser).await);
    let csrf = hidden(&html, "csrf");
    let response = browser
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cleared = set_cookies(&response);
    assert!(
        cleared.iter().any(|c| c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert!(!logged_in(&app, &browser).await);
    // The session is gone from the database, not just from this browser.
    assert!(!logged_in(&app, &with_cookie(&session)).await);
    let pkce = Pkce::new();
    let response = app
        .authorize(&browser, &request(client.id.as_str(), &pkce, "openid"))
        .await;
    assert_eq!(location(&app.base, &response).path(), "/login");
}

#[tokio::test]
async fn logout_without_a_valid_csrf_token_keeps_the_session() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = app.logged_in_browser(EMAIL).await;
    let response = browser
        .post(app.url("/logout"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(logged_in(&app, &browser).await);
}

#[tokio::test]
async fn unknown_session_cookie_is_ignored() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    for value in [
        "forged",
        "",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "%00;x",
    ] {
        let stranger = with_cookie(value);
        assert!(!logged_in(&app, &stranger).await, "{value:?}");
        let pkce = Pkce::new();
        let response = app
            .authorize(&stranger, &request(client.id.as_str(), &pkce, "openid"))
            .await;
        assert_eq!(location(&app.base, &response).path(), "/login", "{value:?}");
        // The login page adopts nothing: it sets only its own pre-login cookie.
        let page = stranger.get(app.url("/login")).send().await.unwrap();
        let cookies = set_cookies(&page);
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        assert!(
            cookies[0].starts_with(&format!("{PRE_LOGIN_COOKIE}=")),
            "{cookies:?}"
        );
    }
}

#[tokio::test]
async fn session_expires_after_its_lifetime() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let browser = app.logged_in_browser(EMAIL).await;
    app.clock
        .advance(portcullis_core::session::SESSION_TTL - 60);
    assert!(logged_in(&app, &browser).await);
    app.clock.advance(120);
    assert!(!logged_in(&app, &browser).await);
}

#[tokio::test]
async fn a_pending_flow_continues_after_a_restart() {
    // Sessions live in the database and pending requests are sealed with the cluster's key:
    // another process (here the same one restarted, on a new port) finishes the flow.
    let app = spawn_app().await;
    let (client, secret) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let response = app
        .authorize(&browser, &request(client.id.as_str(), &pkce, "openid"))
        .await;
    let request_id = param(&location(&app.base, &response), "request").unwrap();
    app.login(&browser, EMAIL, PASSWORD, Some(&request_id))
        .await;
    let app = app.restart().await.unwrap();
    let response = app
        .consent(&browser, &request_id, "allow", &["openid"])
        .await;
    assert_eq!(response.status(), 303);
    let code = param(&location(&app.base, &response), "code").expect("code");
    let (status, body) = app
        .exchange(&client, secret.as_ref(), &code, Some(&pkce.verifier))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn session_cookie_is_host_prefixed_and_secure_when_the_issuer_is_https() {
    let options = portcullis_testkit::AppOptions {
        configure: |config| config.issuer = Some("https://auth.example".into()),
        ..portcullis_testkit::AppOptions::default()
    };
    let app = portcullis_testkit::spawn_app_with(options).await.unwrap();
    app.user(EMAIL).await;
    // Behind TLS termination: the server itself is reached over plain http (so the cookies,
    // being Secure, are sent by hand).
    let page = browser()
        .get(format!("http://{}/login", app.address))
        .send()
        .await
        .unwrap();
    let cookies = set_cookies(&page);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    check_secure(&cookies[0], "__Host-portcullis-login");
    let pre_login = cookies[0].split(';').next().unwrap().to_owned();
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let response = browser()
        .post(format!("http://{}/login", app.address))
        .header("cookie", pre_login)
        .form(&[("email", EMAIL), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookies = set_cookies(&response);
    check_secure(&cookies[0], "__Host-portcullis");
    check_secure(&cookies[1], "__Host-portcullis-login");
}

fn check_secure(set_cookie: &str, name: &str) {
    let parts: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(parts[0].starts_with(&format!("{name}=")), "{set_cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(parts.contains(&attribute), "{attribute} in {set_cookie}");
    }
    assert!(
        !parts
            .iter()
            .any(|p| p.to_ascii_lowercase().starts_with("domain"))
    );
}
