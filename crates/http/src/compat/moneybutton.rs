//! Money Button (seed 004): `/oauth/v1/authorize` (with `landing=register|login`), code
//! exchange at `/oauth/v2/token`, refresh and client credentials at `/oauth/v1/token`, and
//! `GET /api/v1/auth/user_identity`.

use axum::extract::{RawQuery, State};
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
    Router::new().route("/oauth/v1/authorize", get(authorize_v1))
}

/// `/oauth/v1/authorize`: the standard endpoint, with the guide's `landing=register` read as
/// `prompt=create` (Initiating User Registration §4), which opens the sign-up page. With
/// `prompt=none` no page is shown, so it is not added there (it would make every silent
/// request `login_required`). `landing=login`, the default, changes nothing.
async fn authorize_v1(
    State(state): State<AppState>,
    browser: crate::pages::session::Browser,
    RawQuery(query): RawQuery,
) -> Result<Response, crate::pages::PageFailure> {
    let params = register_as_prompt(authorize::pairs(query.unwrap_or_default().as_bytes()));
    authorize::start(&state, &browser, &params).await
}

/// The parameters with `landing` taken out, and `register` turned into `prompt=create`.
fn register_as_prompt(params: Vec<(String, String)>) -> Vec<(String, String)> {
    let register = params
        .iter()
        .any(|(k, v)| k == "landing" && v == "register");
    let mut params: Vec<(String, String)> =
        params.into_iter().filter(|(k, _)| k != "landing").collect();
    if !register {
        return params;
    }
    match params.iter_mut().find(|(k, _)| k == "prompt") {
        Some((_, prompt)) => {
            let values: Vec<&str> = prompt.split(' ').collect();
            if !values.contains(&"none") && !values.contains(&"create") {
                *prompt = format!("{prompt} create").trim().to_owned();
            }
        }
        None => params.push(("prompt".to_owned(), "create".to_owned())),
    }
    params
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
    dpop: crate::dpop::DpopRequest,
    headers: HeaderMap,
    Body(request): Body<TokenRequest>,
) -> Result<Response, ApiError> {
    token_with(&state, ip, &headers, &dpop, request, |_| Map::new()).await
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

#[cfg(test)]
mod tests {
    use super::register_as_prompt;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn landing_register_becomes_prompt_create_except_with_prompt_none() {
        assert_eq!(
            register_as_prompt(pairs(&[("state", "s"), ("landing", "register")])),
            pairs(&[("state", "s"), ("prompt", "create")])
        );
        assert_eq!(
            register_as_prompt(pairs(&[("landing", "register"), ("prompt", "consent")])),
            pairs(&[("prompt", "consent create")])
        );
        assert_eq!(
            register_as_prompt(pairs(&[("landing", "register"), ("prompt", "none")])),
            pairs(&[("prompt", "none")])
        );
        assert_eq!(
            register_as_prompt(pairs(&[("landing", "login"), ("state", "s")])),
            pairs(&[("state", "s")])
        );
    }
}
