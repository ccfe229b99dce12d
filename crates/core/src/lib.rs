//! The protocol and domain of Portcullis as pure logic.
//!
//! Flows take parsed inputs, a [`time::Clock`], a [`random::SecretGenerator`] and the storage
//! traits of [`store`], and return decisions. Nothing here knows HTTP or SQL.

pub mod client;
pub mod hash;
pub mod jwt;
pub mod keys;
pub mod random;
pub mod store;
pub mod time;
pub mod user;
