//! Tests through HTTP against the real server started in-process on port 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod admin_access;
mod admin_audit_keys;
mod admin_clients;
mod admin_kit;
mod admin_openapi;
mod admin_secrets;
mod admin_users;
mod authorize_errors;
mod authorize_prompt;
mod banking_api;
mod banking_kit;
mod banking_off;
mod banking_orders;
mod banking_revocation;
mod banking_wallet;
mod client_credentials;
mod code_flow;
mod code_redemption;
mod codes;
mod compat_monerium;
mod compat_moneybutton;
mod compat_tropipay;
mod consent;
mod discovery;
mod hostile_input;
mod id_token;
mod introspection;
mod key_rotation;
mod login;
mod oauth_kit;
mod onboarding_consent;
mod onboarding_flow;
mod ops;
mod pages;
mod pkce;
mod refresh;
mod revocation;
mod sandbox;
mod sessions;
mod signup;
mod userinfo;
