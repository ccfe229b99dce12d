//! Tests through HTTP against the real server started in-process on port 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod authorize_errors;
mod authorize_prompt;
mod client_credentials;
mod code_flow;
mod code_redemption;
mod codes;
mod consent;
mod discovery;
mod id_token;
mod introspection;
mod key_rotation;
mod login;
mod oauth_kit;
mod ops;
mod pages;
mod pkce;
mod refresh;
mod revocation;
mod sessions;
mod signup;
mod userinfo;
