//! `POST /oauth/token` (RFC 6749 §3.2).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::oauth::client_auth::authenticate;
use portcullis_core::oauth::grant::{self, GrantRequest};
use portcullis_core::oauth::issue::Issued;
use portcullis_proto::token::{TokenRequest, TokenResponse};
use serde_json::{Map, Value};

use super::body::{Body, client_credentials};
use crate::error::ApiError;
use crate::pages::session::ClientIp;
use crate::state::AppState;

/// The token endpoint.
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Body(request): Body<TokenRequest>,
) -> Result<Response, ApiError> {
    let issued = exchange(&state, ip, &headers, request).await?;
    Ok(respond(issued, Map::new()))
}

/// Authenticates the client and runs the grant: the whole token endpoint short of the
/// response's shape, which compatibility profiles extend.
///
/// # Errors
/// Any RFC 6749 §5.2 error.
pub async fn exchange(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    request: TokenRequest,
) -> Result<Issued, ApiError> {
    let credentials = client_credentials(
        headers,
        request.client_id.as_ref(),
        request.client_secret.as_ref(),
    );
    let client = authenticate(
        state.clients.as_ref(),
        state.services.clock.as_ref(),
        credentials,
    )
    .await?;
    let grant = GrantRequest::parse(request)?;
    let keys = state.keyring();
    let ctx = state.context(&keys).from_ip(ip);
    Ok(grant::exchange(&ctx, &client, grant).await?)
}

/// The RFC 6749 §5.1 response, with `extra` fields added, never cached.
#[must_use]
pub fn respond(issued: Issued, extra: Map<String, Value>) -> Response {
    let body = TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer".to_owned(),
        expires_in: u64::try_from(issued.expires_in).unwrap_or_default(),
        refresh_token: issued.refresh_token,
        scope: issued.scope.to_string(),
        id_token: issued.id_token,
        extra,
    };
    let mut response = Json(body).into_response();
    no_store(response.headers_mut());
    response
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}
