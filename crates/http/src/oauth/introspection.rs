//! `POST /oauth/introspect` (RFC 7662).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use portcullis_core::oauth::{TokenError, introspection};
use portcullis_proto::token::IntrospectionRequest;

use super::body::{Body, client_credentials};
use super::token::{authenticate_client, no_store};
use crate::error::ApiError;
use crate::pages::session::ClientIp;
use crate::state::AppState;

/// The introspection endpoint.
pub async fn introspect(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(request): Body<IntrospectionRequest>,
) -> Result<Response, ApiError> {
    let credentials = client_credentials(
        &headers,
        request.client_id.as_ref(),
        request.client_secret.as_ref(),
    )
    .with_assertion(
        request.client_assertion_type.as_ref(),
        request.client_assertion.as_ref(),
    );
    let client = authenticate_client(&state, ip, credentials, "/oauth/introspect").await?;
    let token = request
        .token
        .filter(|t| !t.is_empty())
        .ok_or(TokenError::MissingParameter("token"))?;
    let keys = state.keyring();
    let answer = introspection::introspect(&state.context(&keys), &client, &token).await?;
    let mut response = Json(answer).into_response();
    no_store(response.headers_mut());
    Ok(response)
}
