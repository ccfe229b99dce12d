//! The SDK's tests: against a mocked server (wiremock) for exact HTTP behaviour, and against
//! the real server (`spawn_app`) for the whole flow.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::disallowed_methods)] // Tests and benches read the real clock and randomness where the server's are not in play.

mod mocked_api;
mod mocked_oauth;
mod server;
mod support;
mod verifier;
