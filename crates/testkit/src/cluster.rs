//! Several nodes of one deployment: one database, one key-encryption key, one public issuer,
//! each node on its own loopback port, as behind a load balancer without sticky sessions.
//! A test chooses the node of every request by its [`TestApp::base`]; a browser (one
//! cookie-keeping [`reqwest::Client`]) keeps its session across nodes, because cookies are
//! scoped to the host, not the port.

use crate::{AppOptions, Backend, TestApp, spawn_app_with};

/// Starts `count` nodes of one deployment with `options` (the first as
/// [`spawn_app_with`] does, the others with [`TestApp::spawn_node`]). Every node's
/// configuration names the first node's issuer, so a node restarted on a new port keeps it.
/// `None` (announced) when PostgreSQL was asked for and is not configured.
///
/// # Panics
/// When a node cannot start: SQLite refuses a second node.
pub async fn spawn_nodes(options: AppOptions, count: usize) -> Option<Vec<TestApp>> {
    let mut first = spawn_app_with(options).await?;
    first.config.issuer = Some(first.issuer.clone());
    let mut nodes = Vec::with_capacity(count);
    nodes.push(first);
    for _ in 1..count {
        let node = nodes[0].spawn_node().await;
        nodes.push(node);
    }
    Some(nodes)
}

/// Two nodes on one fresh PostgreSQL schema, configured by `configure`; `None` (announced)
/// when `PORTCULLIS_TEST_DATABASE_URL` is not set.
pub async fn postgres_pair(
    configure: fn(&mut portcullis::config::Config),
) -> Option<(TestApp, TestApp)> {
    let options = AppOptions {
        backend: Backend::Postgres,
        configure,
        ..AppOptions::default()
    };
    let mut nodes = spawn_nodes(options, 2).await?;
    let b = nodes.pop()?;
    let a = nodes.pop()?;
    Some((a, b))
}

/// The path and query of `url` (a `Location` one node sent), to send to another node.
#[must_use]
pub fn path_and_query(url: &url::Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}
