//! Unit tests of the protocol rules on the memory store, with a manual clock: each grant,
//! consent, the authorization request's decisions, introspection and revocation. Each test
//! checks the answer and what was stored.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod bench;
mod client_credentials;
mod code;
mod consent;
mod decide;
mod dpop;
mod introspection;
mod journey;
mod onboarding;
mod refresh;
mod revocation;
