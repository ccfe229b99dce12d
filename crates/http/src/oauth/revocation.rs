//! `POST /oauth/revoke` (RFC 7009).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use portcullis_core::oauth::{TokenError, revocation};
use portcullis_proto::token::RevocationRequest;

use super::body::{Body, client_credentials};
use super::token::{authenticate_client, no_store};
use crate::error::ApiError;
use crate::pages::session::ClientIp;
use crate::state::AppState;

/// The revocation endpoint: 200 with an empty body whether or not the token existed.
pub async fn revoke(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(request): Body<RevocationRequest>,
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
    let client = authenticate_client(&state, ip, credentials, "/oauth/revoke").await?;
    let token = request
        .token
        .filter(|t| !t.is_empty())
        .ok_or(TokenError::MissingParameter("token"))?;
    let keys = state.keyring();
    revocation::revoke(&state.context(&keys).from_ip(ip), &client, &token).await?;
    let mut response = ().into_response();
    no_store(response.headers_mut());
    Ok(response)
}
