//! # portcullis-client
//!
//! The Rust SDK for [Portcullis](https://example.invalid/portcullis): everything a third-party
//! app, a partner back-end or a resource server needs, done once and correctly.
//!
//! | you are | you use |
//! |---|---|
//! | a web app acting for users (authorization code + PKCE) | [`Client::authorize`], [`Client::handle_callback`], [`UserSession`], [`Client::api`] |
//! | a back-end acting as itself (client credentials) | [`Client::client_credentials`], [`Client::api`] |
//! | an API accepting Portcullis tokens | [`verifier::Verifier`], and with axum [`verifier::axum`] |
//!
//! ## A web app, step by step
//!
//! The flow of the Monei Connect guide, with each check the guide leaves to you done by the
//! SDK. `examples/integration` in the repository is the same as a complete axum app.
//!
//! ```no_run
//! use portcullis_client::{CallbackParams, Client, Error};
//!
//! # async fn run(callback_query: &str) -> Result<(), Error> {
//! // Once, at start-up: discovery (RFC 8414) checks the issuer and finds the endpoints.
//! let client = Client::builder("http://127.0.0.1:8080")
//!     .client_id("demo-app")
//!     .client_secret(std::env::var("CLIENT_SECRET").unwrap_or_default())
//!     .redirect_uri("http://127.0.0.1:3000/callback")
//!     .build()
//!     .await?;
//!
//! // 1. /connect: a fresh state, nonce and PKCE S256 verifier, returned as one value.
//! let pending = client.authorize("wallet:read profile:read")?;
//! // Keep `pending` in the user's session and redirect the browser to `pending.url()`.
//!
//! // 2. /callback: checks `iss` (RFC 9207) and `state`, maps `error=` to a typed error,
//! //    and exchanges the code with the verifier.
//! let params = CallbackParams::from_query(callback_query)?;
//! let tokens = match client.handle_callback(&pending, &params).await {
//!     Ok(tokens) => tokens,
//!     Err(Error::Callback(e)) if e.is_access_denied() => {
//!         // The user clicked "deny": show that, do not retry.
//!         return Ok(());
//!     }
//!     Err(e) => return Err(e),
//! };
//! // The user may have unticked scopes: use what was granted.
//! if tokens.is_partial() {
//!     println!("not granted: {}", tokens.denied_scopes());
//! }
//!
//! // 3. Calls: the session refreshes before expiry (one refresh for all tasks) and keeps
//! //    the rotated refresh token.
//! let session = client.session(tokens);
//! let api = client.api(session.clone());
//! let me = api.me().await?;
//! if session.tokens().is_some_and(|t| t.has_scope("wallet:read")) {
//!     let wallet = api.wallet_me().await?;
//!     println!("{} has {} wallets", me.name, wallet.wallets.len());
//! }
//!
//! // 4. /disconnect: revokes the grant at the server.
//! session.disconnect().await?;
//! # Ok(()) }
//! ```
//!
//! ## A back-end with client credentials
//!
//! ```no_run
//! # async fn run(client: portcullis_client::Client) -> Result<(), portcullis_client::Error> {
//! // Fetched on first use, cached, renewed before it expires.
//! let api = client.api(client.client_credentials(None));
//! for profile in api.auth_context().await?.profiles() {
//!     println!("{} granted us access", profile.name);
//! }
//! # Ok(()) }
//! ```
//!
//! ## A resource server
//!
//! ```no_run
//! use portcullis_client::verifier::Verifier;
//!
//! # async fn run(token: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder("http://127.0.0.1:8080").build().await?;
//! let claims = verifier.verify_with_scopes(token, &["wallet:read"]).await?;
//! # Ok(()) }
//! ```
//!
//! With axum, [`verifier::axum`] has a layer per route and an extractor.
//!
//! ## Choices, and why
//!
//! - **HTTP**: reqwest 0.13 with rustls on aws-lc-rs; no OpenSSL. The SDK's own HTTP client
//!   does not follow redirects (an OAuth endpoint that redirects would carry credentials
//!   elsewhere) and bounds every response body to 1 MiB.
//! - **JWT verification with aws-lc-rs directly**, not jsonwebtoken: each JWK is parsed once
//!   into an aws-lc-rs `ParsedPublicKey` and kept per `kid` across JWKS refetches, so a
//!   verification is one signature check (jsonwebtoken 11 re-parses the key on every call);
//!   the algorithm comes from the key, never from the token's header, and only asymmetric
//!   algorithms exist in [`verifier::Algorithm`], so `none` and HMAC-with-the-public-key
//!   cannot be accepted by any configuration. It is also the one crypto backend of the
//!   workspace.
//! - **Single-flight renewal**: with rotating refresh tokens, two concurrent refreshes look
//!   like theft to the server, which revokes the grant (RFC 9700 §4.14.2). [`UserSession`]
//!   and [`ClientCredentials`] renew under a lock; waiting tasks reuse the result.
//! - **Time is injected** ([`clock::Clock`]) for expiry decisions, so tests need no sleeps.
//! - **Secrets** ([`Secret`]: client secret, tokens, PKCE verifier) print `[redacted]` in
//!   `Debug`.
//! - **Feature `axum`** (default on): the extractor and tower layer of [`verifier::axum`].
//!   Apps that do not use axum turn it off with `default-features = false`.

#![warn(missing_docs)]

pub mod api;
mod assertion;
mod authorize;
mod client;
pub mod clock;
pub mod discovery;
pub mod dpop;
mod error;
mod http;
mod pkce;
mod session;
mod token;
pub mod verifier;

pub use assertion::ClientKey;
pub use authorize::{
    AuthorizationCode, AuthorizationErrorCode, AuthorizeOptions, CallbackError, CallbackParams,
    PendingAuthorization,
};
pub use client::{Client, ClientAuth, ClientBuilder, TokenTypeHint};
pub use dpop::DpopKey;
pub use error::{ApiError, Error, OAuthError};
pub use portcullis_proto::token::IntrospectionResponse;
pub use portcullis_proto::{ErrorCode, Scope, ScopeSet, Secret};
pub use session::{ClientCredentials, OnRefresh, UserSession};
pub use token::TokenSet;
