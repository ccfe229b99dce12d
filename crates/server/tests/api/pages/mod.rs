//! The pages: login, sign-up, sessions, the account page, headers, the sandbox.

mod account;
mod every_page;
mod login;
mod login_lockout;
mod sandbox;
mod security_headers;
mod sessions;
mod signup;
