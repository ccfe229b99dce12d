//! Access tokens on protected resources: the `Authorization: Bearer` header (RFC 6750 §2.1) or
//! `Authorization: DPoP` with a proof (RFC 9449 §7), checked by the core (signature, expiry,
//! revocation, key binding); failures answered per RFC 6750 §3 and RFC 9449 §7.1.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use portcullis_core::oauth::access::{self, PresentedToken, Scheme};
use portcullis_core::oauth::issue::AccessTokenClaims;
use portcullis_proto::ErrorCode;

use crate::dpop::DpopRequest;
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

/// The access token of an `Authorization` header and the scheme it came under.
#[derive(Debug, Clone)]
pub struct Credential {
    /// `Bearer` (RFC 6750 §2.1) or `DPoP` (RFC 9449 §7.1).
    pub scheme: Scheme,
    /// The token.
    pub token: String,
}

/// The credential of an `Authorization: Bearer` or `Authorization: DPoP` header: `Ok(None)`
/// without one, or with another scheme (RFC 6750 §3.1: a request that used an unsupported
/// method lacks authentication information, and is answered with a bare challenge).
///
/// # Errors
/// `invalid_request` when the header names one of the two schemes without a well-formed token.
pub fn credential(headers: &HeaderMap) -> Result<Option<Credential>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        ApiError::bearer(
            Some(ErrorCode::InvalidRequest),
            "the Authorization header is not a well-formed Bearer or DPoP token",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?.trim_start();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return Ok(None);
    };
    let token = token.trim();
    if token.is_empty() {
        Err(malformed())
    } else {
        Ok(Some(Credential {
            scheme,
            token: token.to_owned(),
        }))
    }
}

/// The token of the `Authorization` header, whatever its scheme (see [`credential`]).
///
/// # Errors
/// As [`credential`].
pub fn token_from_headers(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    Ok(credential(headers)?.map(|c| c.token))
}

/// Checks `credential` with the core, and its DPoP binding against the request's proof.
///
/// # Errors
/// `invalid_token` or `invalid_dpop_proof`, or 503 when storage fails (never a pass).
pub async fn check(
    state: &AppState,
    credential: &Credential,
    dpop: &DpopRequest,
) -> Result<Bearer, ApiError> {
    let keys = state.keyring();
    let presented = PresentedToken {
        scheme: credential.scheme,
        token: &credential.token,
        proofs: &dpop.proofs,
        method: &dpop.method,
        uri: &dpop.uri,
    };
    match access::check_presented(&state.context(&keys), &presented).await {
        Ok(claims) => Ok(Bearer(claims)),
        Err(error) if credential.scheme == Scheme::Dpop => Err(ApiError::refused_dpop(error)),
        Err(error) => Err(error.into()),
    }
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match credential(&parts.headers)? {
            Some(credential) => check(state, &credential, &DpopRequest::of(state, parts)).await,
            None => Err(ApiError::bearer(None, "an access token is required")),
        }
    }
}
