//! Login and sign-up limits as configured, and client addresses behind trusted proxies: the
//! forwarding header is believed only from a configured proxy, read from the right, and the
//! address it yields is the one limits count and the audit trail records.

use portcullis_core::audit::{AuditFilter, AuditKind};
use portcullis_core::throttle::Limit;
use portcullis_http::client_ip::{ForwardedHeader, TrustedProxies};
use portcullis_testkit::flow::{PASSWORD, browser, confidential, expect_error_page, hidden};
use portcullis_testkit::{TestApp, spawn_app_configured};

use crate::oauth_kit::Answer;

fn behind_loopback_proxy(c: &mut portcullis::Config) {
    c.limits.trusted_proxies = TrustedProxies {
        networks: vec!["127.0.0.0/8".parse().unwrap()],
        header: ForwardedHeader::XForwardedFor,
    };
}

/// A login attempt with `X-Forwarded-For: forwarded` (when given).
async fn login_from(app: &TestApp, forwarded: Option<&str>, email: &str) -> reqwest::Response {
    let browser = browser();
    let page = browser.get(app.url("/login")).send().await.unwrap();
    let csrf = hidden(&page.text().await.unwrap(), "csrf");
    let mut request = browser.post(app.url("/login")).form(&[
        ("email", email),
        ("password", "wrong password!"),
        ("csrf", csrf.as_str()),
    ]);
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn login_limits_follow_the_configuration() {
    let app = spawn_app_configured(|c| {
        c.limits.rate_limits.login_per_account_network = Limit { max: 2, window: 60 };
    })
    .await;
    app.user("ann@example.com").await;
    for _ in 0..2 {
        assert_eq!(
            login_from(&app, None, "ann@example.com").await.status(),
            303
        );
    }
    let refused = login_from(&app, None, "ann@example.com").await;
    let retry: i64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    expect_error_page(refused, 429).await;
    app.clock.advance(60);
    assert_eq!(
        login_from(&app, None, "ann@example.com").await.status(),
        303
    );
}

#[tokio::test]
async fn signup_limits_follow_the_configuration() {
    let app = spawn_app_configured(|c| {
        c.limits.rate_limits.signup_per_ip = Limit {
            max: 1,
            window: 600,
        };
    })
    .await;
    let app = &app;
    let attempt = |email: &'static str| async move {
        let browser = browser();
        let page = browser.get(app.url("/signup")).send().await.unwrap();
        let csrf = hidden(&page.text().await.unwrap(), "csrf");
        browser
            .post(app.url("/signup"))
            .form(&[
                ("name", "Dana"),
                ("email", email),
                ("password", PASSWORD),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await
            .unwrap()
    };
    assert_eq!(attempt("dana@example.com").await.status(), 303);
    let refused = attempt("dana2@example.com").await;
    assert!(refused.headers().contains_key("retry-after"));
    expect_error_page(refused, 429).await;
}

#[tokio::test]
async fn login_limits_count_the_address_a_trusted_proxy_forwards() {
    let app = spawn_app_configured(|c| {
        behind_loopback_proxy(c);
        c.limits.rate_limits.login_failures_per_network = Limit {
            max: 2,
            window: 900,
        };
    })
    .await;
    for email in ["a@example.com", "b@example.com"] {
        let answer = login_from(&app, Some("198.51.100.1"), email).await;
        assert_eq!(answer.status(), 303);
    }
    // A client-written entry on the left changes nothing: the proxy appended the real one.
    let spoofed = login_from(&app, Some("203.0.113.9, 198.51.100.1"), "c@example.com").await;
    expect_error_page(spoofed, 429).await;
    // Its neighbours in the /24 are the same network, and share its allowance.
    let neighbour = login_from(&app, Some("198.51.100.2"), "c@example.com").await;
    expect_error_page(neighbour, 429).await;
    let other = login_from(&app, Some("198.51.101.2"), "c@example.com").await;
    assert_eq!(other.status(), 303, "another network behind the same proxy");

    let failures = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::LoginFailed),
            limit: 50,
            ..AuditFilter::default()
        })
        .await;
    let ips: Vec<_> = failures.iter().map(|e| e.ip.as_deref()).collect();
    assert_eq!(
        ips,
        [
            Some("198.51.100.1"),
            Some("198.51.100.1"),
            Some("198.51.101.2")
        ]
    );
}

async fn failed_client_auth(app: &TestApp, forwarded: &str) -> Answer {
    let response = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth("nobody", Some("wrong"))
        .header("x-forwarded-for", forwarded)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    Answer::of(response).await
}

#[tokio::test]
async fn token_limits_count_the_address_a_trusted_proxy_forwards() {
    let app = spawn_app_configured(|c| {
        behind_loopback_proxy(c);
        c.limits.rate_limits.client_auth_failures_per_ip = Limit {
            max: 2,
            window: 300,
        };
    })
    .await;
    for _ in 0..2 {
        failed_client_auth(&app, "198.51.100.1")
            .await
            .assert_error(401, "invalid_client");
    }
    failed_client_auth(&app, "198.51.100.1")
        .await
        .assert_error(429, "rate_limited");
    failed_client_auth(&app, "198.51.100.2")
        .await
        .assert_error(401, "invalid_client");
    let events = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::Throttled),
            limit: 50,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].ip.as_deref(), Some("198.51.100.1"));

    // Tokens issued through the proxy are audited with the forwarded address too.
    let (client, secret) = app.client(confidential("Proxied")).await;
    let issued = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(client.id.as_str(), Some(secret.unwrap().expose()))
        .header("x-forwarded-for", "198.51.100.3")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), 200);
    let issued = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::TokensIssued),
            limit: 50,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(issued.last().unwrap().ip.as_deref(), Some("198.51.100.3"));
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    // No trusted proxies: whatever the header says, the peer (127.0.0.1) is counted.
    let app = spawn_app_configured(|c| {
        c.limits.rate_limits.client_auth_failures_per_ip = Limit {
            max: 2,
            window: 300,
        };
    })
    .await;
    for forwarded in ["198.51.100.1", "198.51.100.2"] {
        failed_client_auth(&app, forwarded)
            .await
            .assert_error(401, "invalid_client");
    }
    failed_client_auth(&app, "198.51.100.3")
        .await
        .assert_error(429, "rate_limited");
    let events = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::Throttled),
            limit: 50,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(events[0].ip.as_deref(), Some("127.0.0.1"));

    // A proxy configured, but the header it is told to read is Forwarded: X-Forwarded-For is
    // then ignored too, since that proxy would pass a client's own copy through.
    let forwarded_only = spawn_app_configured(|c| {
        c.limits.trusted_proxies = TrustedProxies {
            networks: vec!["127.0.0.1".parse().unwrap()],
            header: ForwardedHeader::Forwarded,
        };
        c.limits.rate_limits.client_auth_failures_per_ip = Limit {
            max: 1,
            window: 300,
        };
    })
    .await;
    failed_client_auth(&forwarded_only, "198.51.100.1")
        .await
        .assert_error(401, "invalid_client");
    failed_client_auth(&forwarded_only, "198.51.100.2")
        .await
        .assert_error(429, "rate_limited");
}
