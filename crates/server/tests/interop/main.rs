//! Interoperability: the server driven by the client and resource-server libraries integrators
//! already use (openid-client 6, oauth4webapi 3, jose 6, Authlib), installed by the test set-up
//! from their registries at the versions pinned beside these files, and the OpenAPI
//! description checked against the running server by schemathesis.
//!
//! Each library runs in a script of its own language (`js/*.mjs`, `python/*.py`) the way its
//! documentation shows; the user's part of the flow (login, consent) is driven from Rust with
//! the testkit (see [`script`]).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authlib;
mod install;
mod jose;
mod kit;
mod logout;
mod oauth4webapi;
mod openid_client;
mod schemathesis;
mod script;
