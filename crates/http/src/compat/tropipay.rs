//! TropiPay (seed 003): client credentials at `POST /api/v2/access/token`; the access token is
//! a JWT that services verify locally with the published key (`/oauth/jwks`).

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use portcullis_proto::token::TokenRequest;
use serde_json::Map;

use super::token_with;
use crate::error::ApiError;
use crate::oauth::body::Body;
use crate::pages::session::ClientIp;
use crate::state::AppState;

pub(super) fn machine() -> Router<AppState> {
    Router::new().route("/api/v2/access/token", post(token))
}

/// The token endpoint as TropiPay names it (form or JSON, secret in the body or Basic). The
/// guide's request names only the client id and the secret: on this path a body without
/// `grant_type` means client credentials, the only grant the guide describes. The standard
/// endpoint keeps requiring `grant_type` (RFC 6749 §4.4.2).
async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    dpop: crate::dpop::DpopRequest,
    headers: HeaderMap,
    Body(mut request): Body<TokenRequest>,
) -> Result<Response, ApiError> {
    if request.grant_type.as_deref().is_none_or(str::is_empty) {
        request.grant_type = Some("client_credentials".to_owned());
    }
    token_with(&state, ip, &headers, &dpop, request, |_| Map::new()).await
}
