//! Monei Connect (seed 002): authorization at `/connect/authorize`, tokens at
//! `/api/v1/connect/token` (a JSON body with the secret in it) with the granted scopes as a
//! `scopes` list, and `/api/v1/wallet/me` read as `{ "data": … }`.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use portcullis_core::oauth::issue::Issued;
use portcullis_proto::token::TokenRequest;
use serde_json::{Map, Value};

use super::token_with;
use crate::error::ApiError;
use crate::oauth::body::Body;
use crate::pages::session::ClientIp;
use crate::state::AppState;

pub(super) fn pages() -> Router<AppState> {
    // The guide's authorization URL carries no `response_type`.
    Router::new().route("/connect/authorize", get(super::authorize_code_only))
}

pub(super) fn machine() -> Router<AppState> {
    Router::new().route("/api/v1/connect/token", post(token))
}

/// `POST /api/v1/connect/token`: the token endpoint, with the granted scopes also as a list
/// (`scopes`): the guide stores `tokens.scopes` as "what was actually granted".
async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    dpop: crate::dpop::DpopRequest,
    headers: HeaderMap,
    Body(request): Body<TokenRequest>,
) -> Result<Response, ApiError> {
    token_with(&state, ip, &headers, &dpop, request, extra).await
}

fn extra(issued: &Issued) -> Map<String, Value> {
    let scopes = issued
        .scope
        .iter()
        .map(|s| Value::String(s.to_string()))
        .collect();
    Map::from_iter([("scopes".to_owned(), Value::Array(scopes))])
}

/// The longest `/api/v1/wallet/me` answer rewritten; ours are a few KiB.
const MAX_WALLET_BODY: usize = 1024 * 1024;

/// `GET /api/v1/wallet/me` with this profile on: the canonical answer, also whole under
/// `data`, which the guide reads (`wallet.data`). Adding a member keeps canonical clients
/// working. A route layer on the resource API, so the API itself knows no profile.
pub(crate) async fn with_data_member(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let wallet = request.uri().path() == "/api/v1/wallet/me";
    let response = next.run(request).await;
    if !wallet || response.status() != axum::http::StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_WALLET_BODY).await else {
        return ApiError::internal(&"the wallet answer could not be read").into_response();
    };
    let Ok(mut answer) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let data = answer.clone();
    if let Value::Object(fields) = &mut answer {
        fields.insert("data".to_owned(), data);
    }
    let bytes = serde_json::to_vec(&answer).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
