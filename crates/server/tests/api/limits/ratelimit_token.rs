//! Rate limits of the token endpoint: per client, per client IP, and a tighter one on failed
//! client authentications per IP (also guarding introspection and revocation). Counted in
//! memory on each node and shared through the database in the background: 429 `rate_limited`
//! with `Retry-After`, and the limit holds across nodes to within one sync interval.

use std::sync::Arc;
use std::time::Duration;

use portcullis::{Application, Runtime};
use portcullis_core::audit::{AuditFilter, AuditKind};
use portcullis_core::client::Client;
use portcullis_core::random::OsRandom;
use portcullis_core::throttle::Limit;
use portcullis_proto::Secret;
use portcullis_testkit::flow::confidential;
use portcullis_testkit::{AppOptions, Backend, TestApp, spawn_app_configured, spawn_app_with};
use tokio::sync::oneshot;

use crate::oauth_kit::{Answer, client_credentials, introspect, post_form};

#[track_caller]
fn assert_throttled(answer: &Answer, window: i64) {
    answer.assert_error(429, "rate_limited");
    let retry: i64 = answer.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=window).contains(&retry), "Retry-After {retry}");
}

#[tokio::test]
async fn a_client_past_its_limit_gets_429_until_the_window_ends() {
    let app = spawn_app_configured(|c| {
        c.limits.rate_limits.token_per_client = Limit { max: 3, window: 60 };
    })
    .await;
    let (client, secret) = app.client(confidential("Busy")).await;
    let secret = secret.unwrap();
    let (other, other_secret) = app.client(confidential("Calm")).await;
    for _ in 0..3 {
        client_credentials(&app, &client, &secret, None)
            .await
            .assert_tokens();
    }
    let refused = client_credentials(&app, &client, &secret, None).await;
    assert_throttled(&refused, 60);
    assert!(
        refused.body["error_description"]
            .as_str()
            .unwrap()
            .contains("retry after"),
        "{}",
        refused.body
    );
    client_credentials(&app, &other, &other_secret.unwrap(), None)
        .await
        .assert_tokens();

    // Logged and audited once per window, not once per refused request.
    assert_throttled(&client_credentials(&app, &client, &secret, None).await, 60);
    let events = app
        .audit_events(AuditFilter {
            kind: Some(AuditKind::Throttled),
            limit: 50,
            ..AuditFilter::default()
        })
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].client_id.as_ref(), Some(&client.id));
    assert_eq!(events[0].detail["action"], "token");
    assert_eq!(events[0].detail["limit"], "client");
    assert_eq!(events[0].ip.as_deref(), Some("127.0.0.1"));

    app.clock.advance(60);
    client_credentials(&app, &client, &secret, None)
        .await
        .assert_tokens();
}

#[tokio::test]
async fn one_address_past_its_limit_gets_429_whatever_the_client() {
    let app = spawn_app_configured(|c| {
        c.limits.rate_limits.token_per_ip = Limit { max: 4, window: 60 };
    })
    .await;
    let (one, one_secret) = app.client(confidential("One")).await;
    let (two, two_secret) = app.client(confidential("Two")).await;
    let (one_secret, two_secret) = (one_secret.unwrap(), two_secret.unwrap());
    for _ in 0..2 {
        client_credentials(&app, &one, &one_secret, None)
            .await
            .assert_tokens();
        client_credentials(&app, &two, &two_secret, None)
            .await
            .assert_tokens();
    }
    assert_throttled(&client_credentials(&app, &two, &two_secret, None).await, 60);
    // Counted before authentication: even a request without credentials is refused.
    let bare = post_form(
        &app,
        "/oauth/token",
        "nobody",
        None,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_throttled(&bare, 60);
}

async fn wrong_secret(app: &TestApp, client: &Client) -> Answer {
    client_credentials(app, client, &Secret::new("not the secret"), None).await
}

#[tokio::test]
async fn failed_client_authentications_get_a_tighter_limit_per_address() {
    let app = spawn_app_configured(|c| {
        c.limits.rate_limits.client_auth_failures_per_ip = Limit {
            max: 3,
            window: 300,
        };
    })
    .await;
    let (client, secret) = app.client(confidential("Guessed")).await;
    let secret = secret.unwrap();
    // Successes do not count.
    for _ in 0..5 {
        client_credentials(&app, &client, &secret, None)
            .await
            .assert_tokens();
    }
    for _ in 0..3 {
        wrong_secret(&app, &client)
            .await
            .assert_error(401, "invalid_client");
    }
    // The address is refused before its credentials are looked at, at every endpoint that
    // authenticates clients.
    assert_throttled(&client_credentials(&app, &client, &secret, None).await, 300);
    assert_throttled(&introspect(&app, &client, Some(&secret), "x").await, 300);
    let revoke = post_form(
        &app,
        "/oauth/revoke",
        client.id.as_str(),
        Some(&secret),
        &[("token", "x")],
    )
    .await;
    assert_throttled(&revoke, 300);

    app.clock.advance(300);
    client_credentials(&app, &client, &secret, None)
        .await
        .assert_tokens();
}

#[tokio::test]
async fn introspection_failures_count_too() {
    let app = spawn_app_configured(|c| {
        c.limits.rate_limits.client_auth_failures_per_ip = Limit {
            max: 2,
            window: 300,
        };
    })
    .await;
    let (client, secret) = app.client(confidential("Resource server")).await;
    for _ in 0..2 {
        introspect(&app, &client, Some(&Secret::new("wrong")), "x")
            .await
            .assert_error(401, "invalid_client");
    }
    assert_throttled(
        &client_credentials(&app, &client, &secret.unwrap(), None).await,
        300,
    );
}

/// Another node on the same database and clock, serving until dropped.
struct Node {
    base: String,
    _stop: oneshot::Sender<()>,
}

async fn second_node(app: &TestApp) -> Node {
    let runtime = Runtime {
        clock: app.clock.clone(),
        random: Arc::new(OsRandom),
    };
    let node = Application::build(app.config.clone(), runtime)
        .await
        .unwrap();
    let base = node.issuer().to_owned();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(node.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    Node { base, _stop: stop }
}

async fn grant_on(app: &TestApp, base: &str, client: &Client, secret: &Secret) -> Answer {
    let response = app
        .http
        .post(format!("{base}/oauth/token"))
        .basic_auth(client.id.as_str(), Some(secret.expose()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    Answer::of(response).await
}

#[tokio::test]
async fn token_limits_are_shared_across_nodes() {
    let Some(app) = spawn_app_with(AppOptions {
        backend: Backend::Postgres,
        configure: |c| {
            c.limits.rate_limits.token_per_client = Limit { max: 6, window: 60 };
            c.limits.rate_limit_sync_interval = Duration::from_millis(50);
        },
        ..AppOptions::default()
    })
    .await
    else {
        return;
    };
    let other = second_node(&app).await;
    let (client, secret) = app.client(confidential("Everywhere")).await;
    let secret = secret.unwrap();
    let sync = || tokio::time::sleep(Duration::from_millis(300));

    for _ in 0..3 {
        grant_on(&app, &app.base, &client, &secret)
            .await
            .assert_tokens();
    }
    sync().await;
    for _ in 0..3 {
        grant_on(&app, &other.base, &client, &secret)
            .await
            .assert_tokens();
    }
    sync().await;
    // The second node served only three itself, but learnt of the first node's three.
    assert_throttled(&grant_on(&app, &other.base, &client, &secret).await, 60);

    // The first node has not heard of the second node's three until its own next sync: it may
    // let through what it counts in one interval (the documented approximation), then refuses.
    grant_on(&app, &app.base, &client, &secret)
        .await
        .assert_tokens();
    sync().await;
    assert_throttled(&grant_on(&app, &app.base, &client, &secret).await, 60);
}
