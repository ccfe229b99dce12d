//! `GET /api/v1/me` and `GET /api/v1/auth/context`.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{ProfileView, require_any, user_of, visible_profiles};
use crate::bearer::Bearer;
use crate::error::ApiError;
use crate::state::AppState;

/// The token's user: id, email, name.
pub async fn me(State(state): State<AppState>, token: Bearer) -> Result<Json<Value>, ApiError> {
    require_any(&token, &["profile:read", "auth.user_identity:read"])?;
    let Some(user_id) = user_of(&token) else {
        return Err(ApiError::not_found());
    };
    let user = state
        .services
        .store
        .user(&user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(
        json!({ "id": user.id, "email": user.email, "name": user.name }),
    ))
}

/// Who the token speaks for: for a user token, the user and the profiles it can act for; for a
/// partner's client-credentials token, the profiles that granted the client access.
pub async fn auth_context(
    State(state): State<AppState>,
    token: Bearer,
) -> Result<Json<Value>, ApiError> {
    let profiles: Vec<ProfileView> = visible_profiles(&state, &token)
        .await?
        .iter()
        .map(ProfileView::from)
        .collect();
    let claims = &token.0;
    let body = match user_of(&token) {
        Some(user_id) => {
            let user = state.services.store.user(&user_id).await?;
            json!({
                "type": "user",
                "userId": user_id,
                "email": user.as_ref().map(|u| u.email.clone()),
                "name": user.as_ref().map(|u| u.name.clone()),
                "client_id": claims.client_id,
                "scope": claims.scope,
                "defaultProfile": claims.profile,
                "profiles": profiles,
            })
        }
        None => json!({
            "type": "client",
            "client_id": claims.client_id,
            "scope": claims.scope,
            "profiles": profiles,
        }),
    };
    Ok(Json(body))
}
