//! The pages: login, sign-up, sessions, the account page, headers, the sandbox.

mod account;
mod login;
mod login_lockout;
mod pages;
mod sandbox;
mod security_headers;
mod sessions;
mod signup;
