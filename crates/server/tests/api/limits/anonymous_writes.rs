//! Anonymous requests write nothing: a browser that is not logged in gets its login form's CSRF
//! token from a signed cookie and carries its pending authorization request sealed, so a flood
//! of page views and authorization requests adds no row. What an anonymous POST still writes
//! (rate-limit counters, the audit trail) is bounded by the limits.

use std::collections::BTreeMap;
use std::time::Duration;

use portcullis_core::audit::{AuditFilter, AuditKind};
use portcullis_core::throttle::Limit;
use portcullis_store::Dialect;
use portcullis_testkit::flow::{
    PASSWORD, Pkce, browser, confidential, expect_error_page, hidden, location, param,
    postgres_app, request, with,
};
use portcullis_testkit::{TestApp, spawn_app, spawn_app_configured};

const EMAIL: &str = "alice@example.com";

/// The number of rows of every table (the migrations' bookkeeping aside), with the audit trail
/// flushed first.
async fn row_counts(app: &TestApp) -> BTreeMap<String, i64> {
    app.audit.flush(Duration::from_secs(5)).await;
    let url = app.database_url();
    match app.store.dialect() {
        Dialect::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut counts = BTreeMap::new();
            for (table,) in tables {
                let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
                let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                counts.insert(table, n);
            }
            pool.close().await;
            counts
        }
        Dialect::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 AND table_name <> '_sqlx_migrations'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut counts = BTreeMap::new();
            for (table,) in tables {
                let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
                let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                counts.insert(table, n);
            }
            pool.close().await;
            counts
        }
    }
}

/// A client that keeps no cookies: every request is a new anonymous visitor.
fn cookieless() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn a_flood_of_anonymous_requests_adds_no_rows(app: TestApp, each: usize) {
    let (client, _) = app.client(confidential("Pied Piper")).await;
    let pkce = Pkce::new();
    let params = request(client.id.as_str(), &pkce, "openid");
    let silent = with(&params, "prompt", "none");
    let anonymous = cookieless();
    // One handle to revisit the login page with, as a browser sent there does.
    let first = app.authorize(&anonymous, &params).await;
    let handle = param(&location(&app.base, &first), "request").unwrap();
    let before = row_counts(&app).await;
    for table in [
        "sessions",
        "authorization_requests",
        "spent_authorization_requests",
    ] {
        assert!(before.contains_key(table), "{table} exists: {before:?}");
    }
    for _ in 0..each {
        for path in ["/login", "/signup", &format!("/login?request={handle}")] {
            let page = anonymous.get(app.url(path)).send().await.unwrap();
            assert_eq!(page.status(), 200, "{path}");
            assert!(
                page.headers().get("set-cookie").is_some(),
                "{path}: a CSRF cookie"
            );
        }
        let sent = app.authorize(&anonymous, &params).await;
        assert_eq!(location(&app.base, &sent).path(), "/login");
        let silent = app.authorize(&anonymous, &silent).await;
        assert_eq!(
            param(&location(&app.base, &silent), "error").as_deref(),
            Some("login_required")
        );
        let resumed = anonymous
            .get(app.url(&format!("/oauth/authorize/resume?request={handle}")))
            .send()
            .await
            .unwrap();
        assert_eq!(location(&app.base, &resumed).path(), "/login");
    }
    assert_eq!(
        row_counts(&app).await,
        before,
        "no table gained or lost a row"
    );

    // The flow still works from one of those anonymous starts.
    app.user(EMAIL).await;
    let browser = browser();
    let response = app.authorize(&browser, &params).await;
    let handle = param(&location(&app.base, &response), "request").unwrap();
    let response = app.login(&browser, EMAIL, PASSWORD, Some(&handle)).await;
    let consent = app.follow(&browser, response).await;
    assert_eq!(consent.url().path(), "/consent");
    let html = consent.text().await.unwrap();
    let request = hidden(&html, "request");
    let answered = app.consent(&browser, &request, "allow", &["openid"]).await;
    assert!(param(&location(&app.base, &answered), "code").is_some());
}

#[tokio::test]
async fn a_flood_of_anonymous_requests_adds_no_rows_on_sqlite() {
    a_flood_of_anonymous_requests_adds_no_rows(spawn_app().await, 200).await;
}

#[tokio::test]
async fn a_flood_of_anonymous_requests_adds_no_rows_on_postgres() {
    if let Some(app) = postgres_app().await {
        a_flood_of_anonymous_requests_adds_no_rows(app, 50).await;
    }
}

#[tokio::test]
async fn a_login_form_is_taken_only_with_the_cookie_it_was_made_for() {
    let app = spawn_app().await;
    app.user(EMAIL).await;
    let (alice, mallory) = (browser(), browser());
    let page = alice.get(app.url("/login")).send().await.unwrap();
    let alices_token = hidden(&page.text().await.unwrap(), "csrf");
    mallory.get(app.url("/login")).send().await.unwrap();
    let form = [
        ("email", EMAIL),
        ("password", PASSWORD),
        ("csrf", alices_token.as_str()),
    ];
    // Another browser's cookie, or none: the form is stale.
    for other in [&mallory, &cookieless()] {
        let response = other
            .post(app.url("/login"))
            .form(&form)
            .send()
            .await
            .unwrap();
        expect_error_page(response, 403).await;
    }
    // The pre-login cookie lives an hour (PRE_LOGIN_TTL); after that the form is stale too.
    app.clock.advance(3601);
    let response = alice
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    expect_error_page(response, 403).await;
    // A fresh form in the same browser works, and the login replaces the pre-login cookie.
    let page = alice.get(app.url("/login")).send().await.unwrap();
    let token = hidden(&page.text().await.unwrap(), "csrf");
    let response = alice
        .post(app.url("/login"))
        .form(&[("email", EMAIL), ("password", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookies: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("portcullis-login=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn a_request_handle_is_small_tamper_proof_and_expires() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    let pkce = Pkce::new();
    let anonymous = cookieless();
    let response = app
        .authorize(&anonymous, &request(client.id.as_str(), &pkce, "openid"))
        .await;
    let sent_to = location(&app.base, &response);
    assert!(
        sent_to.as_str().len() < 2048,
        "{} bytes",
        sent_to.as_str().len()
    );
    let handle = param(&sent_to, "request").unwrap();
    assert!(
        !handle.contains("xyz"),
        "the state is not readable in the handle"
    );
    let resume = |handle: String| {
        let anonymous = anonymous.clone();
        let url = app.url(&format!("/oauth/authorize/resume?request={handle}"));
        async move { anonymous.get(url).send().await.unwrap() }
    };
    assert_eq!(
        location(&app.base, &resume(handle.clone()).await).path(),
        "/login"
    );
    let mut altered = handle.clone().into_bytes();
    let at = altered.len() / 2;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    // Another deployment (another key-encryption key) does not open it either.
    let other = spawn_app().await;
    let foreign = anonymous
        .get(other.url(&format!("/oauth/authorize/resume?request={handle}")))
        .send()
        .await
        .unwrap();
    for page in [
        resume(altered).await,
        resume("x".repeat(4_000)).await,
        foreign,
    ] {
        let html = expect_error_page(page, 400).await;
        assert!(html.contains("expired or is unknown"), "{html}");
    }
    // Pending requests live an hour by the server's clock.
    app.clock.advance(3601);
    let html = expect_error_page(resume(handle).await, 400).await;
    assert!(html.contains("expired or is unknown"), "{html}");
}

#[tokio::test]
async fn two_answers_to_one_request_racing_get_one_code() {
    let app = spawn_app().await;
    let (client, _) = app.client(confidential("Pied Piper")).await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let browser = browser();
    let response = app
        .authorize(&browser, &request(client.id.as_str(), &pkce, "openid"))
        .await;
    let handle = param(&location(&app.base, &response), "request").unwrap();
    let response = app.login(&browser, EMAIL, PASSWORD, Some(&handle)).await;
    let consent = app.follow(&browser, response).await;
    let html = consent.text().await.unwrap();
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("request", hidden(&html, "request")),
        ("client_id", hidden(&html, "client_id")),
        ("decision", "allow".to_owned()),
        ("scope", "openid".to_owned()),
    ];
    let send = || browser.post(app.url("/consent")).form(&form).send();
    let answers = futures_join(send(), send()).await;
    let codes = answers
        .iter()
        .filter(|r| r.status() == 303 && param(&location(&app.base, r), "code").is_some())
        .count();
    assert_eq!(codes, 1, "{answers:?}");
}

async fn futures_join<F: std::future::Future<Output = reqwest::Result<reqwest::Response>>>(
    a: F,
    b: F,
) -> Vec<reqwest::Response> {
    let (a, b) = tokio::join!(a, b);
    vec![a.unwrap(), b.unwrap()]
}

#[tokio::test]
async fn a_throttled_address_adds_no_rows_however_many_accounts_it_tries() {
    let app = spawn_app_configured(|c| {
        c.limits.rate_limits.login_failures_per_network = Limit {
            max: 3,
            window: 900,
        };
    })
    .await;
    let guesser = browser();
    let page = guesser.get(app.url("/login")).send().await.unwrap();
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let attempt = |n: usize| {
        let email = format!("guess{n}@example.com");
        let form = [
            ("email", email),
            ("password", "wrong password".to_owned()),
            ("csrf", csrf.clone()),
        ];
        let request = guesser.post(app.url("/login")).form(&form);
        async move { request.send().await.unwrap() }
    };
    for n in 0..4 {
        attempt(n).await;
    }
    let before = row_counts(&app).await;
    for n in 4..40 {
        assert_eq!(attempt(n).await.status(), 429);
    }
    assert_eq!(
        row_counts(&app).await,
        before,
        "refusals add no counter and no audit row"
    );
    let throttled = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::Throttled),
            limit: 50,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(throttled.len(), 1, "{throttled:?}");
}
