//! The authorization endpoint (RFC 6749 §4.1.1–§4.1.2, RFC 7636 §4.3, RFC 9207, OpenID Connect
//! Core §3.1.2): the rules of validating a request, deciding what the user must do next (log
//! in, onboard, consent), and answering the client (a code or an error). The pages reach them
//! through one entry point, [`super::journey`]. A pending request is held by the browser,
//! sealed ([`sealed`]), not stored: an anonymous request writes nothing.

mod decide;
mod request;
mod respond;
pub mod sealed;

use portcullis_proto::ErrorCode;

use crate::store::StoreError;

pub use decide::{LoggedIn, Step};
pub(crate) use decide::{
    authenticated, before_consent, binds_profile, login_needed, next_step, onboarding_at, pending,
};
pub use request::{MAX_NONCE_LEN, MAX_STATE_LEN};
pub(crate) use request::{validate, validate_params};
pub use respond::{error_url, success_url};
pub(crate) use respond::{finish_with_error, issue_code_for, with_query};

/// Problems that must not be sent to the redirect URI, because the client or the URI cannot be
/// trusted (RFC 6749 §4.1.2.1): the user sees an error page instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// No `client_id`.
    #[error("the request names no client (client_id is missing)")]
    MissingClientId,
    /// No such client, or disabled.
    #[error("the application that sent you here is not registered or has been disabled")]
    UnknownClient,
    /// `client_id` or `redirect_uri` given twice.
    #[error("the request repeats the parameter {0}")]
    Repeated(&'static str),
    /// No `redirect_uri`, and the client has several.
    #[error("the request names no redirect URI, and the application has registered several")]
    MissingRedirectUri,
    /// A `redirect_uri` the client never registered.
    #[error("the redirect URI of the request is not one the application registered")]
    UnregisteredRedirectUri,
    /// A `request_uri` that is unknown, expired, already used, or another client's.
    #[error(
        "this sign-in request has expired, was already used, or is unknown; start again from the application"
    )]
    UnknownPushedRequest,
    /// The pending request is unknown or has expired.
    #[error("this sign-in request has expired or is unknown; start again from the application")]
    UnknownRequest,
    /// A consent form that does not match its request.
    #[error("the form did not match the request it answers")]
    Tampered,
}

/// An error returned to the client at its redirect URI, with `state` and `iss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    /// Where to send it.
    pub redirect_uri: String,
    /// The error code.
    pub error: ErrorCode,
    /// Why, for the developer.
    pub description: String,
    /// The request's `state`.
    pub state: Option<String>,
}

/// Why an authorization request did not proceed.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// Show an error page.
    #[error(transparent)]
    Page(#[from] PageError),
    /// Redirect the error to the client.
    #[error("{}: {}", .0.error, .0.description)]
    Redirect(ErrorRedirect),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] crate::random::RandomError),
}

/// The `prompt` values understood (OpenID Connect Core §3.1.2.1, Initiating User Registration
/// §4). (Money Button's `landing=register` becomes `prompt=create` in its profile, at the edge.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// Never show a page.
    pub none: bool,
    /// Ask the user to log in again.
    pub login: bool,
    /// Ask for consent again.
    pub consent: bool,
    /// Open the sign-up page.
    pub create: bool,
}

impl Prompt {
    /// Parses the stored, space-delimited form. Unknown values are ignored.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let mut prompt = Self::default();
        for value in text.split(' ') {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "create" => prompt.create = true,
                _ => {}
            }
        }
        prompt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_values() {
        let p = Prompt::parse("login consent unknown");
        assert!(p.login && p.consent && !p.none && !p.create);
    }
}
