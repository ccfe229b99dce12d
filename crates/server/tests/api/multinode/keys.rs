//! Signing-key rotation across nodes: a key added through one node is published by every node
//! before any of them signs with it, so a resource server verifying with the SDK (JWKS cache)
//! sees no failure while keys rotate under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use portcullis_client::verifier::Verifier;
use portcullis_core::client::Client;
use portcullis_core::time::{Clock as _, ManualClock};
use portcullis_proto::Secret;
use portcullis_testkit::TestApp;
use portcullis_testkit::cluster::postgres_pair;
use portcullis_testkit::flow::confidential;
use serde_json::json;

use crate::admin_kit::AdminApi;
use crate::oauth_kit::{active, client_credentials};

/// Nodes re-read their keys every 100 ms, as they do every `key_refresh_interval` (30 s).
fn fast_key_refresh(config: &mut portcullis::config::Config) {
    config.key_refresh_interval = Duration::from_millis(100);
}

/// The test's time, which the servers' manual clock shows, for the SDK's `exp` checks.
#[derive(Debug)]
struct ServerTime(Arc<ManualClock>);

impl portcullis_client::clock::Clock for ServerTime {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(u64::try_from(self.0.now().0).unwrap())
    }
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// Adds an ES256 key through `node`'s admin API, signing `activate_after` seconds from now.
async fn rotate(node: &TestApp, admin_token: &str, activate_after: i64) -> String {
    // Keys made in the same second are ordered by kid: a moment passes between rotations.
    node.clock.advance(1);
    let response = node
        .http
        .post(node.url("/admin/v1/keys/rotate"))
        .bearer_auth(admin_token)
        .json(&json!({ "algs": ["ES256"], "activate_after_seconds": activate_after }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["keys"][0]["kid"].as_str().unwrap().to_owned()
}

async fn published(node: &TestApp, kid: &str) -> bool {
    crate::oauth_kit::jwks(node).await.find(kid).is_some()
}

/// Waits (up to 5 s) until every node publishes `kid`.
async fn until_published_by_all(nodes: &[&TestApp], kid: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    for node in nodes {
        while !published(node, kid).await {
            assert!(
                Instant::now() < deadline,
                "{} never published {kid}",
                node.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn token_of(node: &TestApp, client: &Client, secret: &Secret) -> String {
    client_credentials(node, client, secret, None)
        .await
        .str("access_token")
}

#[tokio::test]
async fn a_key_rotated_through_one_node_is_published_then_used_by_every_node() {
    let Some((a, b)) = postgres_pair(fast_key_refresh).await else {
        return;
    };
    let admin = AdminApi::new(&a).await;
    let (client, secret) = a.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let old_token = token_of(&b, &client, &secret).await;
    let old_kid = kid(&old_token);

    let delay = 60;
    let new_kid = rotate(&a, &admin.token, delay).await;
    until_published_by_all(&[&a, &b], &new_kid).await;
    // Published, not yet signing, on either node.
    for node in [&a, &b] {
        assert_eq!(kid(&token_of(node, &client, &secret).await), old_kid);
    }
    // Once the activation time comes, both sign with it: each has it loaded already.
    a.clock.advance(delay);
    let mut fresh = Vec::new();
    for node in [&a, &b] {
        let token = token_of(node, &client, &secret).await;
        assert_eq!(kid(&token), new_kid, "{} signs with the new key", node.base);
        fresh.push(token);
    }
    // Every token, of either key and either node, is live on both nodes.
    for node in [&a, &b] {
        for token in fresh.iter().chain([&old_token]) {
            assert!(active(node, &client, &secret, token).await);
        }
        assert!(
            published(node, &old_kid).await,
            "the old key stays published"
        );
    }

    // And the other way round: rotated through B, seen by A.
    let newer_kid = rotate(&b, &admin.token, delay).await;
    until_published_by_all(&[&b, &a], &newer_kid).await;
    a.clock.advance(delay);
    assert_eq!(kid(&token_of(&a, &client, &secret).await), newer_kid);
}

/// A resource server's verifier reading the JWKS of `jwks_from`, re-reading it every 300 ms
/// (scaled down from the SDK's five minutes, as the nodes' key refresh is).
async fn verifier(issuer: &str, jwks_from: &TestApp) -> Verifier {
    Verifier::builder(issuer)
        .jwks_uri(jwks_from.url("/oauth/jwks"))
        .max_cache_age(Duration::from_millis(300))
        .min_refetch_interval(Duration::from_millis(300))
        .clock(Arc::new(ServerTime(Arc::clone(&jwks_from.clock))))
        .build()
        .await
        .unwrap()
}

#[derive(Debug, Default)]
struct Tally {
    issued: AtomicUsize,
    verified: AtomicUsize,
    introspected: AtomicUsize,
}

/// Issues tokens on alternate nodes until `stop`; each is verified by both verifiers at once
/// and every fourth is introspected on the node that did not issue it. Returns every token.
async fn load(
    nodes: Arc<[TestApp; 2]>,
    client: Client,
    secret: Secret,
    verifiers: Arc<[Verifier; 2]>,
    tally: Arc<Tally>,
    worker: usize,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut turn = worker;
    while !stop.load(Ordering::Relaxed) {
        turn += 1;
        let (issuer_node, other) = (&nodes[turn % 2], &nodes[(turn + 1) % 2]);
        let token = token_of(issuer_node, &client, &secret).await;
        tally.issued.fetch_add(1, Ordering::Relaxed);
        for verifier in verifiers.iter() {
            if let Err(error) = verifier.verify(&token).await {
                panic!(
                    "a fresh token of {} failed verification: {error}",
                    kid(&token)
                );
            }
            tally.verified.fetch_add(1, Ordering::Relaxed);
        }
        if turn.is_multiple_of(4) {
            assert!(active(other, &client, &secret, &token).await);
            tally.introspected.fetch_add(1, Ordering::Relaxed);
        }
        tokens.push(token);
    }
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resource_server_sees_no_failure_while_keys_rotate_under_load() {
    let Some((a, b)) = postgres_pair(fast_key_refresh).await else {
        return;
    };
    let admin = AdminApi::new(&a).await;
    let (client, secret) = a.client(confidential("Back office")).await;
    let secret = secret.unwrap();
    let issuer = a.issuer.clone();
    // One resource server reads A's JWKS, another B's.
    let verifiers = Arc::new([verifier(&issuer, &a).await, verifier(&issuer, &b).await]);
    let admin_token = admin.token.clone();
    drop(admin);
    let nodes = Arc::new([a, b]);
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));

    let workers: Vec<_> = (0..4)
        .map(|worker| {
            tokio::spawn(load(
                Arc::clone(&nodes),
                client.clone(),
                secret.clone(),
                Arc::clone(&verifiers),
                Arc::clone(&tally),
                worker,
                Arc::clone(&stop),
            ))
        })
        .collect();

    // Three rotations, through alternate nodes, each activated once it has had time to reach
    // every node (100 ms) and every verifier's cache (300 ms), as key_activation_delay is
    // longer than key_refresh_interval and the resource servers' JWKS cache in production.
    let activate_after = 60;
    let mut kids = Vec::new();
    for round in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let kid = rotate(&nodes[round % 2], &admin_token, activate_after).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        nodes[0].clock.advance(activate_after);
        kids.push(kid);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);

    let mut tokens = Vec::new();
    for worker in workers {
        tokens.extend(worker.await.unwrap());
    }
    let issued = tally.issued.load(Ordering::Relaxed);
    eprintln!("TALLY {tally:?}");
    assert!(issued >= 100, "only {issued} tokens in 3.5 s");
    assert!(tally.introspected.load(Ordering::Relaxed) >= 20);
    // Every rotated key signed some of them, and every token, old keys' too, still verifies.
    for kid in &kids {
        assert!(
            tokens.iter().any(|t| &self::kid(t) == kid),
            "{kid} never signed"
        );
    }
    for token in &tokens {
        for verifier in verifiers.iter() {
            verifier.verify(token).await.unwrap();
        }
    }
}
