//! PostgreSQL goes away under two nodes and comes back. The test runs its own throwaway
//! PostgreSQL (initdb and pg_ctl, see `portcullis_testkit::postgres`) so it can crash and
//! restart it without disturbing the shared one.
//!
//! While the database is down: `/readyz` is 503; grants that must commit (code exchange,
//! refresh) answer 503 with `Retry-After` and never hand out a token that was not committed;
//! introspection, revocation and the resource API answer 503, never a success; the
//! authorization endpoint sends `temporarily_unavailable` to the client, or shows its 503 page
//! when it cannot even look the client up. Client credentials for a client the node has cached
//! are still issued: they commit nothing. Once the database is back, the nodes recover without
//! a restart and every token issued before the outage is still active.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use portcullis_core::client::Client;
use portcullis_proto::Secret;
use portcullis_testkit::flow::{PASSWORD, Pkce, banking, browser, location, param};
use portcullis_testkit::postgres;
use portcullis_testkit::{AppOptions, TestApp, spawn_app_on};
use serde_json::Value;

use crate::banking_kit::get;
use crate::oauth_kit::{
    Answer, active, authorize_params, client_credentials, code_for, introspect, redeem, refresh,
    revoke, user_tokens,
};

const EMAIL: &str = "alice@example.com";
const SCOPE: &str = "openid profile:read wallet:read";

/// Requests give up waiting for a database connection after 1 s instead of 3: the outage
/// shows sooner, the test stays short.
fn short_acquire_timeout(config: &mut portcullis::config::Config) {
    config.database.acquire_timeout = Duration::from_secs(1);
}

/// Asserts the answer of a store that cannot be reached: 503, `temporarily_unavailable`,
/// `Retry-After`.
#[track_caller]
fn assert_unavailable(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 503, "{what}: {}", answer.body);
    assert_eq!(answer.body["error"], "temporarily_unavailable", "{what}");
    assert!(
        answer.header("retry-after").is_some(),
        "{what}: Retry-After"
    );
}

async fn readiness(node: &TestApp) -> (u16, Value) {
    let response = node.http.get(node.url("/readyz")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits (up to `limit`) until every node's `/readyz` answers `status`.
async fn until_ready_is(nodes: &[TestApp], status: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    for node in nodes {
        loop {
            let (now, body) = readiness(node).await;
            if now == status {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} still answers {now} {body} instead of {status}",
                node.base
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What a client saw while it kept working through the outage.
#[derive(Debug, Default)]
struct Seen {
    requests: usize,
    unavailable: usize,
    /// Access tokens handed out with a 200, by any grant.
    tokens: Vec<String>,
    /// The last refresh token of the chain.
    refresh_token: String,
    failures: Vec<String>,
}

impl Seen {
    /// Counts `answer`: a 200 passes `ok`, a 503 must be the unavailable answer, anything else
    /// is a failure.
    fn note(&mut self, what: &str, answer: &Answer, ok: impl FnOnce(&Answer) -> bool) {
        self.requests += 1;
        match answer.status.as_u16() {
            200 if ok(answer) => {}
            503 if answer.body["error"] == "temporarily_unavailable"
                && answer.header("retry-after").is_some() =>
            {
                self.unavailable += 1;
            }
            _ => self
                .failures
                .push(format!("{what}: {} {}", answer.status, answer.body)),
        }
    }
}

/// Light load on both nodes until `stop`: client credentials, introspection of a live token,
/// and a refresh chain (a refresh answered 503 is retried with the same token: it must not
/// have been spent).
async fn keep_working(
    nodes: Arc<[TestApp; 2]>,
    client: Client,
    secret: Secret,
    live: String,
    mut refresh_token: String,
    stop: Arc<AtomicBool>,
) -> Seen {
    let mut seen = Seen::default();
    let mut turn = 0;
    while !stop.load(Ordering::Relaxed) {
        turn += 1;
        let node = &nodes[turn % 2];
        let issued = client_credentials(node, &client, &secret, None).await;
        seen.note("client credentials", &issued, |a| {
            a.body["access_token"].is_string()
        });
        if issued.status == 200 {
            seen.tokens.push(issued.str("access_token"));
        }
        let answer = introspect(node, &client, Some(&secret), &live).await;
        seen.note("introspection", &answer, |a| a.body["active"] == true);
        let renewed = refresh(node, &client, Some(&secret), &refresh_token, None).await;
        seen.note("refresh", &renewed, |a| a.body["refresh_token"].is_string());
        if renewed.status == 200 {
            refresh_token = renewed.str("refresh_token");
            seen.tokens.push(renewed.str("access_token"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen.refresh_token = refresh_token;
    seen
}

/// What exists before the outage.
struct Before {
    client: Client,
    secret: Secret,
    /// A client no node has looked up yet.
    uncached: Client,
    /// Live user tokens.
    user: Answer,
    /// Tokens for the refresh attempted during the outage.
    spare: Answer,
    /// A client-credentials token.
    service: String,
    /// A code not yet redeemed, and its verifier.
    code: (String, Pkce),
    /// A browser logged in on the nodes.
    browser: reqwest::Client,
}

async fn before_the_outage(a: &TestApp, b: &TestApp) -> Before {
    let (client, secret) = a.client(banking("Pied Piper")).await;
    let secret = secret.unwrap();
    let (uncached, _) = a.client(banking("Never seen")).await;
    a.customer(EMAIL).await;
    let user = user_tokens(a, &client, Some(&secret), EMAIL, SCOPE).await;
    let spare = user_tokens(b, &client, Some(&secret), EMAIL, SCOPE).await;
    let service = client_credentials(b, &client, &secret, None)
        .await
        .str("access_token");
    let (callback, pkce) = code_for(b, &client, EMAIL, SCOPE).await;
    let browser = browser();
    assert_eq!(a.login(&browser, EMAIL, PASSWORD, None).await.status(), 303);
    // Both nodes have the client cached now.
    for node in [a, b] {
        assert!(active(node, &client, &secret, &service).await);
    }
    Before {
        client,
        secret,
        uncached,
        user,
        spare,
        service,
        code: (callback.code(), pkce),
        browser,
    }
}

/// Every endpoint while the database is down: unavailable, never a success it cannot back.
async fn while_the_database_is_down(a: &TestApp, b: &TestApp, before: &Before) {
    let (client, secret) = (&before.client, Some(&before.secret));
    for node in [a, b] {
        let (status, body) = readiness(node).await;
        assert_eq!(status, 503);
        assert_eq!(body["checks"]["database"], "unavailable");
    }
    // Grants that must commit.
    let (code, pkce) = &before.code;
    assert_unavailable(
        &redeem(a, client, secret, code, &pkce.verifier).await,
        "code exchange",
    );
    let spare_refresh = before.spare.str("refresh_token");
    assert_unavailable(
        &refresh(b, client, secret, &spare_refresh, None).await,
        "refresh",
    );
    // Checks that cannot be made deny.
    let access = before.user.str("access_token");
    let answer = introspect(b, client, secret, &access).await;
    assert_unavailable(&answer, "introspection");
    assert!(answer.body.get("active").is_none());
    assert_unavailable(
        &revoke(a, client, secret, &before.user.str("refresh_token")).await,
        "revocation",
    );
    assert_unavailable(
        &revoke(b, client, secret, &access).await,
        "revocation of an access token",
    );
    assert_unavailable(&get(a, &access, "/api/v1/me").await, "resource API");
    let userinfo = b
        .http
        .get(b.url("/oauth/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 503, "userinfo");

    // The authorization endpoint: the client is cached, and an anonymous request writes
    // nothing (its pending request is sealed into the link), so the browser is sent on to log
    // in without the database.
    let pkce = Pkce::new();
    let response = a
        .authorize(&browser(), &authorize_params(client, SCOPE, &pkce))
        .await;
    assert_eq!(response.status(), 303);
    let to = location(&a.base, &response);
    assert_eq!(to.path(), "/login", "{to}");
    assert!(param(&to, "request").is_some(), "{to}");
    // A client the node cannot look up: no redirect URI to trust, so a page.
    let response = b
        .authorize(
            &browser(),
            &authorize_params(&before.uncached, SCOPE, &pkce),
        )
        .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("location").is_none());
    // A logged-in browser: its session cannot be read, so a page, not a code.
    let response = b
        .authorize(&before.browser, &authorize_params(client, SCOPE, &pkce))
        .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("location").is_none());

    // Client credentials need no database while the client is cached; once the cache entry
    // is too old to use, the client cannot be authenticated and the answer is 503.
    let issued = client_credentials(a, client, &before.secret, None).await;
    issued.assert_tokens();
    a.clock.advance(6);
    assert_unavailable(
        &client_credentials(a, client, &before.secret, None).await,
        "uncached client",
    );
}

/// After the outage: nothing issued before it was lost, and nothing attempted during it took
/// effect.
async fn after_the_outage(a: &TestApp, b: &TestApp, before: &Before) {
    let (client, secret) = (&before.client, &before.secret);
    for node in [a, b] {
        for token in [
            before.user.str("access_token"),
            before.spare.str("access_token"),
            before.service.clone(),
        ] {
            assert!(
                active(node, client, secret, &token).await,
                "{} forgot a token",
                node.base
            );
        }
    }
    // The code and the refresh token presented during the outage were not spent.
    let (code, pkce) = &before.code;
    redeem(b, client, Some(secret), code, &pkce.verifier)
        .await
        .assert_tokens();
    refresh(
        a,
        client,
        Some(secret),
        &before.spare.str("refresh_token"),
        None,
    )
    .await
    .assert_tokens();
    // And a whole flow works again, on either node.
    user_tokens(b, client, Some(secret), EMAIL, SCOPE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_ride_out_a_database_outage_and_recover_without_a_restart() {
    let Some(database) =
        postgres::Server::start("faults_outage::nodes_ride_out_a_database_outage").unwrap()
    else {
        return;
    };
    let options = AppOptions {
        configure: short_acquire_timeout,
        ..AppOptions::default()
    };
    let a = spawn_app_on(&database.url(), options).await;
    let b = a.spawn_node().await;
    let before = before_the_outage(&a, &b).await;

    let chain = user_tokens(&a, &before.client, Some(&before.secret), EMAIL, SCOPE).await;
    let nodes = Arc::new([a, b]);
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(keep_working(
        Arc::clone(&nodes),
        before.client.clone(),
        before.secret.clone(),
        before.user.str("access_token"),
        chain.str("refresh_token"),
        Arc::clone(&stop),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;

    database.crash().unwrap();
    until_ready_is(&nodes[..], 503, Duration::from_secs(10)).await;
    let [a, b] = &*nodes;
    while_the_database_is_down(a, b, &before).await;

    database.resume().unwrap();
    until_ready_is(&nodes[..], 200, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let seen = load.await.unwrap();

    eprintln!(
        "SEEN requests={} unavailable={} tokens={}",
        seen.requests,
        seen.unavailable,
        seen.tokens.len()
    );
    assert!(seen.failures.is_empty(), "{:#?}", seen.failures);
    assert!(seen.unavailable > 0, "the load met the outage: {seen:?}");
    assert!(
        seen.requests > seen.unavailable,
        "and worked around it: {seen:?}"
    );
    after_the_outage(a, b, &before).await;
    // Every token the load was given is backed by what was committed: all active, and the
    // refresh chain goes on.
    for token in &seen.tokens {
        assert!(active(b, &before.client, &before.secret, token).await);
    }
    refresh(
        a,
        &before.client,
        Some(&before.secret),
        &seen.refresh_token,
        None,
    )
    .await
    .assert_tokens();
}
