//! Onboarding inside the authorization flow: the missing steps in order (profile → KYC →
//! wallet → IBAN), only those the scope needs, resuming after leaving, `prompt=none`, manual
//! KYC, cancelling, and the pages' own rules (login, CSRF, headers).

use portcullis_core::banking::profile::KycState;
use portcullis_core::store::{BankStore as _, ConsentRecord, ConsentStore as _};
use portcullis_core::time::Clock as _;
use portcullis_proto::ScopeSet;
use portcullis_testkit::flow::{
    PASSWORD, Pkce, browser, expect_error_page, expect_error_redirect, hidden, location, param,
    postgres_app, request, with,
};
use portcullis_testkit::{AppOptions, TestApp, spawn_app, spawn_app_with};

use crate::banking_kit::{banking_client, get, profiles_of};
use crate::oauth_kit::{peek, redeem};

const EMAIL: &str = "nora@example.com";
const STEPS: [&str; 4] = [
    "/onboarding/profile",
    "/onboarding/kyc",
    "/onboarding/wallet",
    "/onboarding/iban",
];

/// Starts an authorization request for `scope` in `browser` and logs `EMAIL` in for it;
/// returns the request id and the page the flow landed on.
async fn start(
    app: &TestApp,
    browser: &reqwest::Client,
    client: &str,
    pkce: &Pkce,
    scope: &str,
) -> (String, reqwest::Response) {
    let response = app.authorize(browser, &request(client, pkce, scope)).await;
    let login = location(&app.base, &response);
    assert_eq!(login.path(), "/login");
    let request_id = param(&login, "request").unwrap();
    let response = app.login(browser, EMAIL, PASSWORD, Some(&request_id)).await;
    (request_id, app.follow(browser, response).await)
}

/// Posts the onboarding form of `page` (which must be at `path`) and follows the flow on.
async fn step(
    app: &TestApp,
    browser: &reqwest::Client,
    page: reqwest::Response,
    path: &str,
) -> reqwest::Response {
    assert_eq!(page.status(), 200, "{}", page.url());
    assert_eq!(page.url().path(), path);
    let html = page.text().await.unwrap();
    let response = app.onboarding_step(browser, path, &html).await;
    assert_eq!(response.status(), 303, "{path}");
    assert_eq!(
        location(&app.base, &response).path(),
        "/oauth/authorize/resume",
        "every step continues the request"
    );
    app.follow(browser, response).await
}

async fn onboarding_leads_a_new_user_through_each_missing_step_in_order(app: TestApp) {
    let (client, secret) = banking_client(&app, "Monerium Demo").await;
    let user = app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let scope = "profile:read wallet:read orders:write";
    let (request_id, mut page) = start(&app, &browser, client.id.as_str(), &pkce, scope).await;
    for path in STEPS {
        assert_eq!(page.url().path(), path);
        assert_eq!(param(page.url(), "request").as_deref(), Some(&*request_id));
        page = step(&app, &browser, page, path).await;
    }
    assert_eq!(page.url().path(), "/consent");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("will act for your personal profile <strong>Test User</strong>"),
        "{html}"
    );
    let response = app
        .consent(
            &browser,
            &request_id,
            "allow",
            &["profile:read", "wallet:read", "orders:write"],
        )
        .await;
    let callback = location(&app.base, &response);
    assert_eq!(param(&callback, "state").as_deref(), Some("xyz"));
    let code = param(&callback, "code").expect("a code after onboarding");
    let answer = redeem(&app, &client, Some(&secret), &code, &pkce.verifier).await;
    let body = answer.assert_tokens();

    let profiles = profiles_of(&app, &user.id).await;
    assert_eq!(profiles.len(), 1);
    let profile = &profiles[0];
    assert_eq!(profile.kyc, KycState::Approved);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(peek(token)["profile"], profile.id.as_str());
    let wallet = get(&app, token, "/api/v1/wallet/me").await;
    assert_eq!(wallet.status, 200, "{}", wallet.body);
    assert_eq!(wallet.body["profile"]["id"], profile.id.as_str());
    assert_eq!(wallet.body["wallets"].as_array().unwrap().len(), 1);
    let iban = wallet.body["wallets"][0]["iban"].as_str().expect("an IBAN");
    assert_eq!(wallet.body["ibans"][0], iban);
}

#[tokio::test]
async fn onboarding_leads_a_new_user_through_each_missing_step_in_order_on_sqlite() {
    onboarding_leads_a_new_user_through_each_missing_step_in_order(spawn_app().await).await;
}

#[tokio::test]
async fn onboarding_leads_a_new_user_through_each_missing_step_in_order_on_postgres() {
    if let Some(app) = postgres_app().await {
        onboarding_leads_a_new_user_through_each_missing_step_in_order(app).await;
    }
}

#[tokio::test]
async fn the_scope_decides_which_steps_are_needed() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    let user = app.user(EMAIL).await;
    let pkce = Pkce::new();

    // Identity scopes need no banking at all.
    let first = browser();
    let (_, page) = start(&app, &first, client.id.as_str(), &pkce, "openid email").await;
    assert_eq!(page.url().path(), "/consent");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("name=\"profile\""),
        "no profile to bind: {html}"
    );
    assert!(profiles_of(&app, &user.id).await.is_empty());

    // Profile data needs a verified profile, not a wallet.
    let second = browser();
    let (_, page) = start(&app, &second, client.id.as_str(), &pkce, "profile:read").await;
    let page = step(&app, &second, page, "/onboarding/profile").await;
    let page = step(&app, &second, page, "/onboarding/kyc").await;
    assert_eq!(page.url().path(), "/consent");

    // Money needs the wallet and the IBAN too; the profile and KYC are kept.
    let third = browser();
    let (_, page) = start(&app, &third, client.id.as_str(), &pkce, "orders:read").await;
    assert_eq!(page.url().path(), "/onboarding/wallet");
    let page = step(&app, &third, page, "/onboarding/wallet").await;
    let page = step(&app, &third, page, "/onboarding/iban").await;
    assert_eq!(page.url().path(), "/consent");
    assert_eq!(profiles_of(&app, &user.id).await.len(), 1);
}

#[tokio::test]
async fn a_page_out_of_turn_sends_the_browser_to_the_missing_step() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    let user = app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let (request_id, page) = start(&app, &browser, client.id.as_str(), &pkce, "wallet:read").await;
    let profile_html = page.text().await.unwrap();
    for path in ["/onboarding/kyc", "/onboarding/wallet", "/onboarding/iban"] {
        let response = browser
            .get(app.url(&format!("{path}?request={request_id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{path}");
        let page = app.follow(&browser, response).await;
        assert_eq!(page.url().path(), "/onboarding/profile", "{path}");
    }
    // A form posted out of turn changes nothing either.
    let form = [
        ("csrf", hidden(&profile_html, "csrf")),
        ("request", request_id.clone()),
        ("legal_name", "Nora".into()),
        ("country", "IS".into()),
        ("birth_date", "1990-01-01".into()),
    ];
    let response = browser
        .post(app.url("/onboarding/kyc"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(profiles_of(&app, &user.id).await.is_empty());
    // Nor can the consent page be reached around the steps.
    let response = browser
        .get(app.url(&format!("/consent?request={request_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&app.base, &response).path(), "/onboarding/profile");
    let consent = [
        ("csrf", hidden(&profile_html, "csrf")),
        ("request", request_id.clone()),
        ("client_id", client.id.to_string()),
        ("decision", "allow".into()),
        ("scope", "wallet:read".into()),
    ];
    let response = browser
        .post(app.url("/consent"))
        .form(&consent)
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&app.base, &response).path(),
        "/onboarding/profile",
        "an allow without a ready profile goes back to onboarding"
    );
}

async fn a_user_who_leaves_resumes_where_they_stopped(app: TestApp) {
    let (client, secret) = banking_client(&app, "Monerium Demo").await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let first = browser();
    let (request_id, page) = start(&app, &first, client.id.as_str(), &pkce, "wallet:read").await;
    let page = step(&app, &first, page, "/onboarding/profile").await;
    let page = step(&app, &first, page, "/onboarding/kyc").await;
    assert_eq!(page.url().path(), "/onboarding/wallet");
    drop(first);

    // Forty minutes later, on another device: the request is still pending.
    app.clock.advance(40 * 60);
    let second = browser();
    let response = second
        .get(app.url(&format!("/oauth/authorize/resume?request={request_id}")))
        .send()
        .await
        .unwrap();
    let login = location(&app.base, &response);
    assert_eq!(login.path(), "/login");
    assert_eq!(param(&login, "request").as_deref(), Some(&*request_id));
    let response = app.login(&second, EMAIL, PASSWORD, Some(&request_id)).await;
    let page = app.follow(&second, response).await;
    assert_eq!(
        page.url().path(),
        "/onboarding/wallet",
        "where the user left"
    );
    let page = step(&app, &second, page, "/onboarding/wallet").await;
    let page = step(&app, &second, page, "/onboarding/iban").await;
    assert_eq!(page.url().path(), "/consent");
    let response = app
        .consent(&second, &request_id, "allow", &["wallet:read"])
        .await;
    let code = param(&location(&app.base, &response), "code").unwrap();
    redeem(&app, &client, Some(&secret), &code, &pkce.verifier)
        .await
        .assert_tokens();
}

#[tokio::test]
async fn a_user_who_leaves_resumes_where_they_stopped_on_sqlite() {
    a_user_who_leaves_resumes_where_they_stopped(spawn_app().await).await;
}

#[tokio::test]
async fn a_user_who_leaves_resumes_where_they_stopped_on_postgres() {
    if let Some(app) = postgres_app().await {
        a_user_who_leaves_resumes_where_they_stopped(app).await;
    }
}

#[tokio::test]
async fn after_the_request_expires_a_new_one_keeps_the_progress() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    app.user(EMAIL).await;
    let pkce = Pkce::new();
    let browser = browser();
    let (request_id, page) = start(&app, &browser, client.id.as_str(), &pkce, "wallet:read").await;
    step(&app, &browser, page, "/onboarding/profile").await;
    // Pending requests live an hour.
    app.clock.advance(3601);
    let response = browser
        .get(app.url(&format!("/onboarding/kyc?request={request_id}")))
        .send()
        .await
        .unwrap();
    let html = expect_error_page(response, 400).await;
    assert!(html.contains("expired"), "{html}");
    // The app starts again; the profile made before is kept.
    let response = app
        .authorize_and_follow(&browser, &request(client.id.as_str(), &pkce, "wallet:read"))
        .await;
    assert_eq!(response.url().path(), "/onboarding/kyc");
}

#[tokio::test]
async fn prompt_none_from_an_unapproved_app_is_consent_required_whatever_the_onboarding() {
    // Red team: an app the user never approved probed `prompt=none` and learned from
    // `interaction_required` that the visitor had no approved KYC yet.
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    app.user(EMAIL).await;
    let browser = app.logged_in_browser(EMAIL).await;
    let pkce = Pkce::new();
    for scope in ["openid wallet:read", "openid"] {
        let params = with(&request(client.id.as_str(), &pkce, scope), "prompt", "none");
        let response = app.authorize(&browser, &params).await;
        let url = expect_error_redirect(&app, &response, "consent_required");
        assert_eq!(param(&url, "state").as_deref(), Some("xyz"), "{scope}");
    }
}

#[tokio::test]
async fn prompt_none_from_an_approved_app_when_onboarding_is_needed_is_interaction_required() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    let user = app.user(EMAIL).await;
    // The user approved the app before, but has no profile (yet, or any more).
    let now = app.clock.now();
    app.store
        .put_consent(&ConsentRecord {
            user_id: user.id.clone(),
            client_id: client.id.clone(),
            scope: ScopeSet::parse("openid wallet:read").unwrap(),
            profile_id: None,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    let browser = app.logged_in_browser(EMAIL).await;
    let pkce = Pkce::new();
    let params = with(
        &request(client.id.as_str(), &pkce, "openid wallet:read"),
        "prompt",
        "none",
    );
    let response = app.authorize(&browser, &params).await;
    let url = expect_error_redirect(&app, &response, "interaction_required");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
}

#[tokio::test]
async fn manual_kyc_waits_until_an_operator_approves() {
    let app = spawn_app_with(AppOptions {
        configure: |c| c.kyc_auto_approve = false,
        ..AppOptions::default()
    })
    .await
    .unwrap();
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    let user = app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let (request_id, page) = start(&app, &browser, client.id.as_str(), &pkce, "wallet:read").await;
    let page = step(&app, &browser, page, "/onboarding/profile").await;
    let page = step(&app, &browser, page, "/onboarding/kyc").await;
    // Back at the KYC step, which now says "pending" and has no form.
    assert_eq!(page.url().path(), "/onboarding/kyc");
    let html = page.text().await.unwrap();
    assert!(html.contains("Verification pending"), "{html}");
    assert!(!html.contains("action=\"/onboarding/kyc\""), "{html}");
    let profile = profiles_of(&app, &user.id).await.remove(0);
    assert_eq!(profile.kyc, KycState::Pending);
    // A silent request meanwhile cannot finish, and tells the app, which the user has not
    // approved yet, nothing about the pending KYC.
    let params = with(
        &request(client.id.as_str(), &pkce, "wallet:read"),
        "prompt",
        "none",
    );
    let response = app.authorize(&browser, &params).await;
    let url = expect_error_redirect(&app, &response, "consent_required");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
    // The operator approves; the waiting request goes on.
    app.store
        .set_kyc(&profile.id, KycState::Approved, app.clock.now())
        .await
        .unwrap();
    let response = browser
        .get(app.url(&format!("/oauth/authorize/resume?request={request_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&app.base, &response).path(), "/onboarding/wallet");
}

#[tokio::test]
async fn a_rejected_kyc_is_shown_and_the_user_can_only_cancel() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    let user = app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let (_, page) = start(&app, &browser, client.id.as_str(), &pkce, "profile:read").await;
    step(&app, &browser, page, "/onboarding/profile").await;
    let profile = profiles_of(&app, &user.id).await.remove(0);
    app.store
        .set_kyc(&profile.id, KycState::Rejected, app.clock.now())
        .await
        .unwrap();
    let page = app
        .authorize_and_follow(
            &browser,
            &request(client.id.as_str(), &pkce, "profile:read"),
        )
        .await;
    assert_eq!(page.url().path(), "/onboarding/kyc");
    let html = page.text().await.unwrap();
    assert!(html.contains("Verification declined"), "{html}");
    assert!(html.contains("action=\"/onboarding/cancel\""), "{html}");
}

#[tokio::test]
async fn kyc_form_errors_are_shown_and_change_nothing() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    let user = app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let (request_id, page) = start(&app, &browser, client.id.as_str(), &pkce, "profile:read").await;
    let page = step(&app, &browser, page, "/onboarding/profile").await;
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    for (field, value, message) in [
        ("birth_date", "2020-01-01", "18 or older"),
        ("birth_date", "1990-13-01", "YYYY-MM-DD"),
        ("country", "Iceland", "two-letter code"),
        ("legal_name", "", "legal name"),
    ] {
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("request", request_id.as_str()),
            ("legal_name", "Nora Newcomer"),
            ("country", "IS"),
            ("birth_date", "1990-01-01"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let response = browser
            .post(app.url("/onboarding/kyc"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{field}={value}");
        let html = response.text().await.unwrap();
        assert!(html.contains("role=\"alert\""), "{html}");
        assert!(html.contains(message), "{field}={value}: {html}");
        let profile = profiles_of(&app, &user.id).await.remove(0);
        assert_eq!(profile.kyc, KycState::Absent);
    }
}

#[tokio::test]
async fn onboarding_forms_need_the_sessions_csrf_token() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    let user = app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let (request_id, _) = start(&app, &browser, client.id.as_str(), &pkce, "wallet:read").await;
    for csrf in [None, Some("forged")] {
        let mut form = vec![
            ("request", request_id.as_str()),
            ("kind", "personal"),
            ("name", "Nora"),
        ];
        form.extend(csrf.map(|c| ("csrf", c)));
        let response = browser
            .post(app.url("/onboarding/profile"))
            .form(&form)
            .send()
            .await
            .unwrap();
        expect_error_page(response, 403).await;
    }
    assert!(profiles_of(&app, &user.id).await.is_empty());
}

#[tokio::test]
async fn onboarding_pages_need_a_login_and_a_pending_request() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    app.user(EMAIL).await;
    // An unknown request is an error page at once, logged in or not: logging in first would
    // lead nowhere.
    let response = browser()
        .get(app.url("/onboarding/profile?request=abc"))
        .send()
        .await
        .unwrap();
    expect_error_page(response, 400).await;
    // A live request without a login goes to the login page, and carries the request.
    let pkce = Pkce::new();
    let anonymous = browser();
    let to_login = app
        .authorize(
            &anonymous,
            &request(client.id.as_str(), &pkce, "wallet:read"),
        )
        .await;
    let handle = param(&location(&app.base, &to_login), "request").unwrap();
    let response = anonymous
        .get(app.url(&format!("/onboarding/profile?request={handle}")))
        .send()
        .await
        .unwrap();
    let login = location(&app.base, &response);
    assert_eq!(login.path(), "/login");
    assert_eq!(param(&login, "request"), Some(handle));
    let browser = app.logged_in_browser(EMAIL).await;
    for path in STEPS {
        for query in ["?request=unknown", ""] {
            let response = browser
                .get(app.url(&format!("{path}{query}")))
                .send()
                .await
                .unwrap();
            expect_error_page(response, 400).await;
        }
    }
    // The same pages with a live request.
    let pkce = Pkce::new();
    let page = app
        .authorize_and_follow(&browser, &request(client.id.as_str(), &pkce, "wallet:read"))
        .await;
    assert_eq!(page.url().path(), "/onboarding/profile");
}

#[tokio::test]
async fn onboarding_pages_send_the_security_headers_of_every_page() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let (_, page) = start(&app, &browser, client.id.as_str(), &pkce, "wallet:read").await;
    let headers = page.headers();
    let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
    let csp = header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-"),
        "scripts only from this origin, never inline: {csp}"
    );
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("x-content-type-options"), "nosniff");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script"), "{html}");
}

#[tokio::test]
async fn cancelling_onboarding_tells_the_app_access_denied() {
    let app = spawn_app().await;
    let (client, _) = banking_client(&app, "Monerium Demo").await;
    app.user(EMAIL).await;
    let browser = browser();
    let pkce = Pkce::new();
    let (request_id, page) = start(&app, &browser, client.id.as_str(), &pkce, "wallet:read").await;
    let html = page.text().await.unwrap();
    let form = [
        ("csrf", hidden(&html, "csrf")),
        ("request", request_id.clone()),
    ];
    let response = browser
        .post(app.url("/onboarding/cancel"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let url = expect_error_redirect(&app, &response, "access_denied");
    assert_eq!(param(&url, "state").as_deref(), Some("xyz"));
    // The request is spent.
    let response = browser
        .get(app.url(&format!("/onboarding/profile?request={request_id}")))
        .send()
        .await
        .unwrap();
    expect_error_page(response, 400).await;
}
