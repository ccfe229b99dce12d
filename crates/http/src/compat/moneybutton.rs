//! Money Button (seed 004): `/oauth/v1/authorize` (with `landing=register|login`), code
//! exchange at `/oauth/v2/token`, refresh and client credentials at `/oauth/v1/token`, and
//! `GET /api/v1/auth/user_identity`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use portcullis_proto::token::TokenRequest;
use serde_json::{Map, Value, json};

use super::token_with;
use crate::api::{require_any, user_of};
use crate::bearer::Bearer;
use crate::error::ApiError;
use crate::oauth::authorize;
use crate::oauth::body::Body;
use crate::pages::session::ClientIp;
use crate::state::AppState;

pub(super) fn pages() -> Router<AppState> {
    Router::new().route("/oauth/v1/authorize", get(authorize::get))
}

pub(super) fn machine(banking: bool) -> Router<AppState> {
    let router = Router::new()
        .route("/oauth/v1/token", post(token))
        .route("/oauth/v2/token", post(token));
    if banking {
        router.route("/api/v1/auth/user_identity", get(user_identity))
    } else {
        router
    }
}

async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(request): Body<TokenRequest>,
) -> Result<Response, ApiError> {
    token_with(&state, ip, &headers, request, |_| Map::new()).await
}

/// The user a token speaks for, in Money Button's JSON:API shape. Needs
/// `auth.user_identity:read`.
async fn user_identity(
    State(state): State<AppState>,
    token: Bearer,
) -> Result<Json<Value>, ApiError> {
    require_any(&token, &["auth.user_identity:read"])?;
    let user_id = user_of(&token).ok_or_else(ApiError::not_found)?;
    let user = state
        .services
        .store
        .user(&user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(json!({
        "data": {
            "type": "user_identities",
            "id": user.id,
            "attributes": { "id": user.id, "name": user.name },
        }
    })))
}
