//! A rolling restart under load: two nodes on one PostgreSQL, a client spreading token
//! requests (client credentials and refresh chains) over the live nodes, while each node in
//! turn is stopped as SIGTERM stops it and started again. A connection refused (the node is not
//! listening) is retried on the other node, as a load balancer does; every request a node
//! accepted must succeed: no 5xx, no error body, no connection cut mid-request.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use portcullis_core::client::Client;
use portcullis_proto::Secret;
use portcullis_testkit::cluster::spawn_nodes;
use portcullis_testkit::flow::confidential;
use portcullis_testkit::{AppOptions, Backend};
use serde_json::Value;

use crate::oauth_kit::user_tokens;

const EMAIL: &str = "alice@example.com";
/// The most requests the load sends, whatever the machine's speed.
const MAX_REQUESTS: usize = 6000;

/// A load balancer in front of the nodes: round robin over their addresses, moving on to the
/// next node when a connection is refused.
#[derive(Debug)]
struct Balancer {
    bases: RwLock<Vec<String>>,
    http: reqwest::Client,
    next: AtomicUsize,
    sent: AtomicUsize,
    refused: AtomicUsize,
}

impl Balancer {
    fn new(bases: Vec<String>) -> Self {
        Self {
            bases: RwLock::new(bases),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            next: AtomicUsize::new(0),
            sent: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        }
    }

    /// Where node `i` now listens.
    fn set(&self, i: usize, base: String) {
        self.bases.write().unwrap()[i] = base;
    }

    /// `POST /oauth/token` with `form` as `client`: on a refused connection, the next node;
    /// when every node refuses, again a moment later (for up to 5 s). Returns the status and
    /// body, or what went wrong after the connection was made.
    async fn token(
        &self,
        client: &Client,
        secret: &Secret,
        form: &[(&str, &str)],
    ) -> Result<(u16, Value), String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let bases = self.bases.read().unwrap().clone();
            for _ in 0..bases.len() {
                let base = &bases[self.next.fetch_add(1, Ordering::Relaxed) % bases.len()];
                let sent = self
                    .http
                    .post(format!("{base}/oauth/token"))
                    .basic_auth(client.id.as_str(), Some(secret.expose()))
                    .form(form)
                    .send()
                    .await;
                self.sent.fetch_add(1, Ordering::Relaxed);
                match sent {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body = response.json().await.map_err(|e| {
                            format!("{base}: {status} with an unreadable body: {e}")
                        })?;
                        return Ok((status, body));
                    }
                    Err(error) if error.is_connect() => {
                        self.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => return Err(format!("{base}: {error:?}")),
                }
            }
            if Instant::now() > deadline {
                return Err("no node accepted a connection for 5 s".into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Sends requests until `stop` (or the request budget runs out): client credentials, or a
/// refresh chain from `refresh_token`. Returns what failed.
async fn work(
    balancer: Arc<Balancer>,
    client: Client,
    secret: Secret,
    mut refresh_token: Option<String>,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let mut failures = Vec::new();
    while !stop.load(Ordering::Relaxed) && balancer.sent.load(Ordering::Relaxed) < MAX_REQUESTS {
        let answer = match &refresh_token {
            Some(token) => {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                ];
                balancer.token(&client, &secret, &form).await
            }
            None => {
                balancer
                    .token(&client, &secret, &[("grant_type", "client_credentials")])
                    .await
            }
        };
        match answer {
            Ok((200, body)) if body["access_token"].is_string() => {
                if refresh_token.is_some() {
                    refresh_token = body["refresh_token"].as_str().map(str::to_owned);
                }
            }
            Ok((status, body)) => failures.push(format!("{status} {body}")),
            Err(error) => failures.push(error),
        }
        if !failures.is_empty() {
            // A broken refresh chain cannot go on; one failure is enough to report.
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_load_fails_no_accepted_request() {
    let options = AppOptions {
        backend: Backend::Postgres,
        ..AppOptions::default()
    };
    let Some(mut nodes) = spawn_nodes(options, 2).await else {
        return;
    };
    let (client, secret) = nodes[0].client(confidential("Pied Piper")).await;
    let secret = secret.unwrap();
    nodes[0].user(EMAIL).await;
    let mut chains = Vec::new();
    for node in &nodes {
        let tokens = user_tokens(node, &client, Some(&secret), EMAIL, "wallet:read").await;
        chains.push(tokens.str("refresh_token"));
    }

    let balancer = Arc::new(Balancer::new(
        nodes.iter().map(|n| n.base.clone()).collect(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let starts = [None, None, Some(chains[0].clone()), Some(chains[1].clone())];
    let workers: Vec<_> = starts
        .into_iter()
        .map(|chain| {
            tokio::spawn(work(
                Arc::clone(&balancer),
                client.clone(),
                secret.clone(),
                chain,
                Arc::clone(&stop),
            ))
        })
        .collect();

    let pause = Duration::from_millis(400);
    tokio::time::sleep(pause).await;
    for i in 0..nodes.len() {
        let node = nodes.remove(i);
        let refused_before = balancer.refused.load(Ordering::Relaxed);
        let stopped = node.shut_down().await.unwrap();
        tokio::time::sleep(pause).await;
        assert!(
            balancer.refused.load(Ordering::Relaxed) > refused_before,
            "the load met node {i} down"
        );
        let node = stopped.start().await.unwrap();
        balancer.set(i, node.base.clone());
        nodes.insert(i, node);
        tokio::time::sleep(pause).await;
    }
    stop.store(true, Ordering::Relaxed);

    let mut failures = Vec::new();
    for worker in workers {
        failures.extend(worker.await.unwrap());
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let sent = balancer.sent.load(Ordering::Relaxed);
    eprintln!("BALANCER {balancer:?}");
    assert!(sent >= 100, "only {sent} requests");
}
