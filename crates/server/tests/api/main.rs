//! Tests through HTTP against the real server started in-process on port 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::disallowed_methods)] // Tests and benches read the real clock and randomness where the server's are not in play.

mod admin;
mod admin_kit;
mod banking;
mod banking_kit;
mod compat;
mod limits;
mod multinode;
mod oauth;
mod oauth_kit;
mod pages;
