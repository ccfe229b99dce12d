//! The DPoP side of a request (RFC 9449): its `DPoP` proof headers, and the method and URI a
//! proof must name. The checks themselves are the core's ([`portcullis_core::oauth::dpop`]).

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use portcullis_core::oauth::dpop;

use crate::state::AppState;

/// The request header carrying a proof (RFC 9449 §4.1).
pub const PROOF_HEADER: &str = "dpop";
/// The response header carrying a server nonce (RFC 9449 §8).
pub const NONCE_HEADER: &str = "dpop-nonce";
/// What `algs` advertises in a `DPoP` challenge (RFC 9449 §7.1): the proof algorithms accepted,
/// as [`portcullis_core::jose::ForeignAlg::ALL`] names them (a test keeps the two the same).
pub const ALGS: &str = "ES256 PS256 EdDSA Ed25519";

/// A request's proofs and the method and URI they must be bound to. The URI is the issuer's
/// base and the path the request came to (never the `Host` header: behind a proxy it may name
/// anything).
#[derive(Debug, Clone)]
pub struct DpopRequest {
    /// Every `DPoP` header value; one that is not text is kept empty, and fails as malformed.
    pub proofs: Vec<String>,
    /// The HTTP method.
    pub method: String,
    /// The request URI without query.
    pub uri: String,
}

impl DpopRequest {
    /// Reads the proof headers of `parts`.
    #[must_use]
    pub fn of(state: &AppState, parts: &Parts) -> Self {
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path(), |original| original.path());
        Self {
            proofs: proofs(&parts.headers),
            method: parts.method.as_str().to_owned(),
            uri: format!("{}{path}", state.issuer().trim_end_matches('/')),
        }
    }

    /// The request's proof at the token or pushed authorization request endpoint, checked by
    /// the core ([`dpop::accept_at_server`]).
    ///
    /// # Errors
    /// As [`dpop::accept_at_server`].
    pub async fn accept_at_server<E>(
        &self,
        ctx: &portcullis_core::oauth::Context<'_>,
    ) -> Result<Option<dpop::Proof>, E>
    where
        E: From<dpop::DpopError> + From<portcullis_core::store::StoreError>,
    {
        dpop::accept_at_server(ctx, &self.proofs, &self.method, &self.uri).await
    }
}

fn proofs(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(PROOF_HEADER)
        .iter()
        .map(|v| v.to_str().map(str::to_owned).unwrap_or_default())
        .collect()
}

impl FromRequestParts<AppState> for DpopRequest {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(state, parts))
    }
}

/// Sets `DPoP-Nonce` to the nonce of the moment, so a client holds a fresh one for its next
/// proof (RFC 9449 §8.2).
pub fn set_nonce(state: &AppState, headers: &mut HeaderMap) {
    let keys = state.keyring();
    let nonce = dpop::current_nonce(&state.context(&keys));
    if let Ok(value) = HeaderValue::try_from(nonce) {
        headers.insert(NONCE_HEADER, value);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_challenge_names_every_accepted_algorithm() {
        let names: Vec<&str> = portcullis_core::jose::ForeignAlg::ALL
            .iter()
            .map(|a| a.as_str())
            .collect();
        assert_eq!(super::ALGS, names.join(" "));
    }
}
