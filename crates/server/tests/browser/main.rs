//! Tests in a real headless Chromium: what a person clicking through the pages sees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod compat_monei;
mod onboarding_to_callback;
mod signup_partial_consent;
mod spa_cors;
mod wallet_button;

use std::net::SocketAddr;

use axum::Router;
use axum::response::Html;
use axum::routing::get;

/// A stand-in for the app's own server: `/cb` answers any callback, so the browser lands on a
/// real page whose URL carries the authorization response.
pub async fn callback_server() -> SocketAddr {
    let app = Router::new().route("/cb", get(|| async { Html("<h1>Callback received</h1>") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}
