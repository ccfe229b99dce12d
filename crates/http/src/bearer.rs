//! Bearer tokens on protected resources (RFC 6750 §2.1): the `Authorization: Bearer` header,
//! checked by the core (signature, expiry, revocation); failures answered per RFC 6750 §3.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use portcullis_core::oauth::access;
use portcullis_core::oauth::issue::AccessTokenClaims;
use portcullis_proto::ErrorCode;

use crate::error::ApiError;
use crate::state::AppState;

/// A live access token of this server.
#[derive(Debug, Clone)]
pub struct Bearer(pub AccessTokenClaims);

impl Bearer {
    /// Refuses with 403 `insufficient_scope` unless the token has `scope`.
    ///
    /// # Errors
    /// [`ApiError::insufficient_scope`].
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.0.scopes().contains(scope) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(scope))
        }
    }
}

/// The token of an `Authorization: Bearer` header: `Ok(None)` without one, or with another
/// scheme (RFC 6750 §3.1: a request that used an unsupported method lacks authentication
/// information, and is answered with a bare challenge).
///
/// # Errors
/// `invalid_request` when the header is a Bearer credential without a well-formed token.
pub fn token_from_headers(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        ApiError::bearer(
            Some(ErrorCode::InvalidRequest),
            "the Authorization header is not a well-formed Bearer token",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?.trim_start();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim();
    if token.is_empty() {
        Err(malformed())
    } else {
        Ok(Some(token.to_owned()))
    }
}

/// Checks `token` with the core.
///
/// # Errors
/// `invalid_token`, or 503 when storage fails (never a pass).
pub async fn check(state: &AppState, token: &str) -> Result<Bearer, ApiError> {
    let keys = state.keyring();
    Ok(Bearer(access::check(&state.context(&keys), token).await?))
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match token_from_headers(&parts.headers)? {
            Some(token) => check(state, &token).await,
            None => Err(ApiError::bearer(None, "an access token is required")),
        }
    }
}
