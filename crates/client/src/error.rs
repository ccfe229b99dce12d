//! Errors: one [`Error`] for everything the SDK does over the network, with the server's
//! OAuth errors (RFC 6749 §5.2) and resource-API errors kept apart so callers can match on
//! them.

use portcullis_proto::ErrorCode;

use crate::authorize::CallbackError;

/// Everything a call of this SDK can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be sent or its response could not be read (network, TLS,
    /// timeout).
    #[error("request to {url} failed: {source}")]
    Http {
        /// The URL that was called.
        url: String,
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// The authorization server refused a token, revocation or introspection request with an
    /// OAuth error (RFC 6749 §5.2).
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// The resource API answered with an error.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The authorization response was an error, or failed a check (`state`, `iss`).
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// A response that does not follow the protocol: bad JSON, a token type other than
    /// `Bearer`, an ID token that does not check out.
    #[error("unexpected response from {url}: {reason}")]
    InvalidResponse {
        /// The URL that was called.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// The discovery document names another issuer than the one asked for
    /// (RFC 8414 §3.3: the client must stop).
    #[error("the metadata at {expected} names the issuer {found}; refusing to use it")]
    IssuerMismatch {
        /// The issuer the client was configured with.
        expected: String,
        /// The issuer the document names.
        found: String,
    },
    /// The SDK was configured with something it cannot use (a malformed URL, no client id).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The user has to go through the authorization flow again: the refresh token was
    /// refused (`invalid_grant`: expired, revoked, or reused), or there is none.
    #[error("the user must authorize the app again: {reason}")]
    ReauthorizationRequired {
        /// Why.
        reason: String,
    },
    /// The session was disconnected (its tokens revoked) and cannot be used any more.
    #[error("this session was disconnected")]
    Disconnected,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

impl Error {
    /// Whether the only way forward is to send the user through the authorization flow
    /// again (the refresh token is gone, refused, or the session was disconnected).
    #[must_use]
    pub fn needs_reauthorization(&self) -> bool {
        matches!(
            self,
            Self::ReauthorizationRequired { .. } | Self::Disconnected
        )
    }

    pub(crate) fn http(url: &str, source: reqwest::Error) -> Self {
        Self::Http {
            url: url.to_owned(),
            source,
        }
    }

    pub(crate) fn invalid(url: &str, reason: impl Into<String>) -> Self {
        Self::InvalidResponse {
            url: url.to_owned(),
            reason: reason.into(),
        }
    }
}

/// An OAuth error response from the token, revocation or introspection endpoint
/// (RFC 6749 §5.2, RFC 7009 §2.2.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url} answered {status} {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
pub struct OAuthError {
    /// The endpoint that answered.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The `error` code as sent (for example `invalid_grant`).
    pub error: String,
    /// The `error_description`, if any.
    pub description: Option<String>,
}

impl OAuthError {
    /// The error code, when it is one RFC 6749 (or Portcullis) defines.
    #[must_use]
    pub fn code(&self) -> Option<ErrorCode> {
        parse_code(&self.error)
    }
}

/// An error response of the resource API (`/api/v1`), with its RFC 6750 §3.1 code when the
/// token was the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url} answered {status} {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
pub struct ApiError {
    /// The URL that was called.
    pub url: String,
    /// The HTTP status.
    pub status: u16,
    /// The `error` code of the body (`not_found`, `insufficient_scope`, …), or `http_<status>`
    /// when the body had none.
    pub error: String,
    /// The `error_description`, if any.
    pub description: Option<String>,
}

impl ApiError {
    /// The error code, when it is one Portcullis defines.
    #[must_use]
    pub fn code(&self) -> Option<ErrorCode> {
        parse_code(&self.error)
    }

    /// Whether the resource does not exist or the token may not see it (404).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// Whether the token lacks a scope this call needs (403 `insufficient_scope`): the user
    /// did not grant it.
    #[must_use]
    pub fn is_insufficient_scope(&self) -> bool {
        self.code() == Some(ErrorCode::InsufficientScope)
    }
}

fn parse_code(code: &str) -> Option<ErrorCode> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_error_code_is_parsed_when_known() {
        let error = OAuthError {
            url: "u".into(),
            status: 400,
            error: "invalid_grant".into(),
            description: Some("spent".into()),
        };
        assert_eq!(error.code(), Some(ErrorCode::InvalidGrant));
        assert_eq!(error.to_string(), "u answered 400 invalid_grant: spent");
        let other = OAuthError {
            error: "something_new".into(),
            ..error
        };
        assert_eq!(other.code(), None);
    }
}
