//! Exactly-once through HTTP: many clients presenting one code, or one refresh token, at the
//! same moment, spread over the nodes of a deployment (two nodes on PostgreSQL, one on
//! SQLite). One conditional `UPDATE` decides; every other request is `invalid_grant` and, being
//! a reuse, revokes what the winner got. No request may fail with a 5xx.

use std::sync::Arc;

use portcullis_core::client::Client;
use portcullis_proto::Secret;
use portcullis_testkit::cluster::postgres_pair;
use portcullis_testkit::flow::confidential;
use portcullis_testkit::{TestApp, spawn_app};
use tokio::sync::Barrier;

use crate::oauth_kit::{Answer, active, code_for, redeem, refresh, user_tokens};

const EMAIL: &str = "alice@example.com";
const SCOPE: &str = "wallet:read";
/// How many requests race.
const RACERS: usize = 50;

struct Race {
    nodes: Arc<Vec<TestApp>>,
    client: Client,
    secret: Secret,
}

impl Race {
    async fn on(nodes: Vec<TestApp>) -> Self {
        let (client, secret) = nodes[0].client(confidential("Pied Piper")).await;
        nodes[0].user(EMAIL).await;
        Self {
            nodes: Arc::new(nodes),
            client,
            secret: secret.unwrap(),
        }
    }

    fn node(&self, i: usize) -> &TestApp {
        &self.nodes[i % self.nodes.len()]
    }

    /// Sends [`RACERS`] requests made by `send` at once (released together by a barrier),
    /// the i-th to node i mod n; returns every answer.
    async fn run<F, Fut>(&self, send: F) -> Vec<Answer>
    where
        F: Fn(Arc<Vec<TestApp>>, usize, Client, Secret) -> Fut,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        let barrier = Arc::new(Barrier::new(RACERS));
        let tasks: Vec<_> = (0..RACERS)
            .map(|i| {
                let barrier = Arc::clone(&barrier);
                let request = send(
                    Arc::clone(&self.nodes),
                    i,
                    self.client.clone(),
                    self.secret.clone(),
                );
                tokio::spawn(async move {
                    barrier.wait().await;
                    request.await
                })
            })
            .collect();
        let mut answers = Vec::with_capacity(RACERS);
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    }

    /// Exactly one 200; every other answer `invalid_grant`, none a 5xx. Returns the winner.
    fn one_winner(answers: Vec<Answer>) -> Answer {
        let mut winners = Vec::new();
        for answer in answers {
            assert!(
                !answer.status.is_server_error(),
                "{}: {}",
                answer.status,
                answer.body
            );
            if answer.status == 200 {
                answer.assert_tokens();
                winners.push(answer);
            } else {
                answer.assert_error(400, "invalid_grant");
            }
        }
        assert_eq!(winners.len(), 1, "exactly one winner");
        winners.pop().unwrap()
    }

    /// The winner's tokens are revoked (as reuse of what it spent requires), on every node.
    async fn revoked(&self, winner: &Answer) {
        for (i, node) in self.nodes.iter().enumerate() {
            assert!(
                !active(
                    node,
                    &self.client,
                    &self.secret,
                    &winner.str("access_token")
                )
                .await,
                "the winner's access token is inactive on node {i}"
            );
        }
        refresh(
            self.node(1),
            &self.client,
            Some(&self.secret),
            &winner.str("refresh_token"),
            None,
        )
        .await
        .assert_error(400, "invalid_grant");
    }
}

async fn concurrent_redemptions_of_one_code_have_one_winner(nodes: Vec<TestApp>) {
    let race = Race::on(nodes).await;
    let (callback, pkce) = code_for(race.node(0), &race.client, EMAIL, SCOPE).await;
    let code = callback.code();
    let answers = race
        .run(|nodes, i, client, secret| {
            let (code, verifier) = (code.clone(), pkce.verifier.clone());
            async move {
                let node = &nodes[i % nodes.len()];
                redeem(node, &client, Some(&secret), &code, &verifier).await
            }
        })
        .await;
    let winner = Race::one_winner(answers);
    race.revoked(&winner).await;
}

async fn concurrent_refreshes_of_one_token_leave_at_most_one_successor(nodes: Vec<TestApp>) {
    let race = Race::on(nodes).await;
    let tokens = user_tokens(race.node(0), &race.client, Some(&race.secret), EMAIL, SCOPE).await;
    let refresh_token = tokens.str("refresh_token");
    let answers = race
        .run(|nodes, i, client, secret| {
            let refresh_token = refresh_token.clone();
            async move {
                let node = &nodes[i % nodes.len()];
                refresh(node, &client, Some(&secret), &refresh_token, None).await
            }
        })
        .await;
    let winner = Race::one_winner(answers);
    // The others presented a spent token: the grant ended, the successor with it. At most one
    // successor could ever be live; here none is.
    race.revoked(&winner).await;
    assert!(
        !active(
            race.node(0),
            &race.client,
            &race.secret,
            &tokens.str("access_token")
        )
        .await,
        "the grant's first access token is inactive too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_redemptions_of_one_code_across_two_nodes_have_one_winner() {
    let Some((a, b)) = postgres_pair(|_| {}).await else {
        return;
    };
    concurrent_redemptions_of_one_code_have_one_winner(vec![a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_refreshes_of_one_token_across_two_nodes_have_one_winner() {
    let Some((a, b)) = postgres_pair(|_| {}).await else {
        return;
    };
    concurrent_refreshes_of_one_token_leave_at_most_one_successor(vec![a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_redemptions_of_one_code_on_sqlite_have_one_winner() {
    concurrent_redemptions_of_one_code_have_one_winner(vec![spawn_app().await]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_refreshes_of_one_token_on_sqlite_have_one_winner() {
    concurrent_refreshes_of_one_token_leave_at_most_one_successor(vec![spawn_app().await]).await;
}
