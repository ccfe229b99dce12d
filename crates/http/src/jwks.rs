//! `GET /oauth/jwks`: the public signing keys (RFC 7517 §5).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

/// How long verifiers may cache the JWKS. A rotated-in key is published at least this long
/// (the activation delay) before it signs.
pub const JWKS_MAX_AGE_SECONDS: u32 = 300;

/// Every key that signs now, will sign, or signed tokens that are still valid.
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let set = state.keys.load().published(state.services.clock.now());
    let cache = format!("public, max-age={JWKS_MAX_AGE_SECONDS}");
    ([(header::CACHE_CONTROL, cache)], Json(set))
}
