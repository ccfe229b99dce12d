//! The protocol and domain of Portcullis as pure logic.
//!
//! Flows take parsed inputs, a [`time::Clock`], a [`random::SecretGenerator`] and the storage
//! traits of [`store`], and return decisions. Nothing here knows HTTP or SQL.

#![warn(missing_docs)]

pub mod account;
pub mod admin;
pub mod audit;
pub mod banking;
pub mod client;
pub mod client_cache;
pub mod error;
pub mod hash;
pub mod jose;
pub mod jwt;
pub mod keys;
pub mod login;
#[cfg(any(test, feature = "memory-store"))]
pub mod memory;
pub mod oauth;
pub mod pkce;
pub mod random;
pub mod scopes;
pub mod seal;
pub mod session;
pub mod store;
pub mod throttle;
pub mod time;
pub mod user;
