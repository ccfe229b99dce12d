//! `GET/POST /oauth/userinfo` (OpenID Connect Core §5.3).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use portcullis_core::oauth::claims::{self, StandardClaims};
use portcullis_proto::{ErrorCode, UserId};
use serde::Serialize;

use super::token::no_store;
use crate::bearer::{self, Bearer};
use crate::dpop::DpopRequest;
use crate::error::ApiError;
use crate::state::AppState;
use portcullis_core::oauth::access::Scheme;

/// A userinfo answer.
#[derive(Serialize)]
struct UserInfo {
    sub: String,
    #[serde(flatten)]
    released: StandardClaims,
}

/// The claims of the token's user, by scope (OIDC Core §5.4, [`claims::release`]): `sub`
/// always, the rest as the scope names them. Needs `openid`.
async fn claims(state: &AppState, token: &Bearer) -> Result<Response, ApiError> {
    token.require("openid")?;
    let claims = &token.0;
    if claims.is_client_token() {
        return Err(ApiError::bearer(
            Some(ErrorCode::InvalidToken),
            "the token is not about a user",
        ));
    }
    let user = state
        .services
        .store
        .user(&UserId::new(claims.sub.clone()))
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| {
            ApiError::bearer(Some(ErrorCode::InvalidToken), "the user no longer exists")
        })?;
    let released = claims::release(&user, &claims.scopes());
    let mut response = Json(UserInfo {
        sub: user.id.to_string(),
        released,
    })
    .into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// `GET /oauth/userinfo` with a Bearer header.
pub async fn get(State(state): State<AppState>, token: Bearer) -> Result<Response, ApiError> {
    claims(&state, &token).await
}

/// `POST /oauth/userinfo`: the token in the header, or as `access_token` in a form body
/// (RFC 6750 §2.2), not both.
pub async fn post(
    State(state): State<AppState>,
    dpop: DpopRequest,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let header = bearer::credential(&headers)?;
    let form = url::form_urlencoded::parse(&body)
        .find(|(name, _)| name == "access_token")
        .map(|(_, value)| value.into_owned())
        .filter(|t| !t.is_empty());
    let credential = match (header, form) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bearer(
                Some(ErrorCode::InvalidRequest),
                "send the token once",
            ));
        }
        (Some(credential), None) => credential,
        // A token in the body is a bearer token (RFC 6750 §2.2).
        (None, Some(token)) => bearer::Credential {
            scheme: Scheme::Bearer,
            token,
        },
        (None, None) => return Err(ApiError::bearer(None, "an access token is required")),
    };
    claims(&state, &bearer::check(&state, &credential, &dpop).await?).await
}
