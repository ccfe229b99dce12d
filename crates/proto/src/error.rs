//! OAuth 2.0 error codes and the error response body (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1;
//! OpenID Connect Core §3.1.2.6).

use serde::{Deserialize, Serialize};

/// An error code as it appears on the wire.
///
/// Each variant serialises to the exact string the RFC defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// RFC 6749 §5.2: malformed request, missing or repeated parameter.
    InvalidRequest,
    /// RFC 6749 §5.2: client authentication failed.
    InvalidClient,
    /// RFC 6749 §5.2: the grant (code, refresh token) is invalid, expired or revoked.
    InvalidGrant,
    /// RFC 6749 §5.2: the client may not use this grant or response type.
    UnauthorizedClient,
    /// RFC 6749 §5.2: the grant type is not supported.
    UnsupportedGrantType,
    /// RFC 6749 §5.2: the requested scope is invalid or exceeds what is allowed.
    InvalidScope,
    /// RFC 6749 §4.1.2.1: the resource owner or server denied the request.
    AccessDenied,
    /// RFC 6749 §4.1.2.1: the response type is not supported.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: an unexpected condition on the server.
    ServerError,
    /// RFC 6749 §4.1.2.1: the server is temporarily unable to handle the request.
    TemporarilyUnavailable,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` but the user is not logged in.
    LoginRequired,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` but consent is needed.
    ConsentRequired,
    /// OpenID Connect Core §3.1.2.6: `prompt=none` but some interaction is needed.
    InteractionRequired,
    /// OpenID Connect Core §3.1.2.6: the `request` parameter is not supported.
    RequestNotSupported,
    /// OpenID Connect Core §3.1.2.6: the `request_uri` parameter is not supported.
    RequestUriNotSupported,
    /// RFC 6750 §3.1: the access token is invalid, expired or revoked.
    InvalidToken,
    /// RFC 6750 §3.1: the access token lacks a scope the resource needs.
    InsufficientScope,
    /// RFC 9449 §5, §7.1: the DPoP proof is missing, invalid, or not of the token's key.
    InvalidDpopProof,
    /// RFC 9449 §8, §9: the server requires a fresh nonce in the DPoP proof (given in the
    /// `DPoP-Nonce` response header).
    UseDpopNonce,
    /// A resource that does not exist (or that the token may not see).
    NotFound,
    /// A request that conflicts with the resource's state (idempotency, funds).
    Conflict,
    /// Too many requests; retry after the advertised delay.
    RateLimited,
}

impl ErrorCode {
    /// The code as the RFC spells it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate_limited",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON error body of RFC 6749 §5.2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResponse {
    /// The error code.
    pub error: ErrorCode,
    /// Human-readable text for the developer; never contains secrets.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error_description: Option<String>,
}

impl ErrorResponse {
    /// An error with a description, made safe by [`safe_description`].
    #[must_use]
    pub fn new(error: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: Some(safe_description(&description.into())),
        }
    }
}

/// The longest `error_description` sent, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 256;

/// Whether `c` may appear in an `error_description` (RFC 6749 §4.1.2.1 and §5.2:
/// `%x20-21 / %x23-5B / %x5D-7E`, printable ASCII without `"` and `\`).
#[must_use]
pub const fn description_char_allowed(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// `text` as an `error_description` may carry it: `"` becomes `'`, `\` becomes `/`, `§`
/// becomes `section `, any other character outside the allowed set becomes `?`, and the result
/// is cut to [`MAX_DESCRIPTION_LEN`] characters. Every error path (token JSON, authorization
/// redirects, `WWW-Authenticate`) sends its description through this one function, so a
/// description is well-formed whatever a caller put in it.
#[must_use]
pub fn safe_description(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_DESCRIPTION_LEN));
    for c in text.chars() {
        match c {
            '"' => out.push('\''),
            '\\' => out.push('/'),
            '\u{a7}' => out.push_str("section "),
            c if description_char_allowed(c) => out.push(c),
            _ => out.push('?'),
        }
    }
    if out.len() > MAX_DESCRIPTION_LEN {
        out.truncate(MAX_DESCRIPTION_LEN - 3);
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_only_the_characters_rfc_6749_allows() {
        assert_eq!(
            safe_description("scope \"a\\b\" per \u{a7}3.3\0\u{fffd}\u{e9}"),
            "scope 'a/b' per section 3.3???"
        );
        let long = "x".repeat(1000);
        assert_eq!(safe_description(&long).len(), MAX_DESCRIPTION_LEN);
        assert!(safe_description(&long).ends_with("..."));
        for c in ['\x1f', '"', '\\', '\x7f', '\u{100}'] {
            assert!(!description_char_allowed(c), "{c:?}");
        }
        for c in [' ', '!', '#', '[', ']', '~', 'a'] {
            assert!(description_char_allowed(c), "{c:?}");
        }
    }

    #[test]
    fn codes_serialise_to_rfc_strings() {
        for code in [
            ErrorCode::InvalidRequest,
            ErrorCode::InvalidClient,
            ErrorCode::InvalidGrant,
            ErrorCode::UnauthorizedClient,
            ErrorCode::UnsupportedGrantType,
            ErrorCode::InvalidScope,
            ErrorCode::AccessDenied,
            ErrorCode::UnsupportedResponseType,
            ErrorCode::ServerError,
            ErrorCode::TemporarilyUnavailable,
            ErrorCode::LoginRequired,
            ErrorCode::ConsentRequired,
            ErrorCode::InteractionRequired,
            ErrorCode::RequestNotSupported,
            ErrorCode::RequestUriNotSupported,
            ErrorCode::InvalidDpopProof,
            ErrorCode::UseDpopNonce,
            ErrorCode::InvalidToken,
            ErrorCode::InsufficientScope,
        ] {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
