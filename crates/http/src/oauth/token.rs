//! `POST /oauth/token` (RFC 6749 §3.2).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::audit::AuditKind;
use portcullis_core::oauth::TokenError;
use portcullis_core::oauth::client_auth::{
    AssertionCheck, AuthenticatedClient, ClientCredentials, assertion_audiences, authenticate,
};
use portcullis_core::oauth::grant::{self, GrantRequest};
use portcullis_core::oauth::issue::Issued;
use portcullis_core::throttle::{self, Limit, Refused};
use portcullis_proto::ClientId;
use portcullis_proto::token::{TokenRequest, TokenResponse};
use serde_json::{Map, Value};

use super::body::{Body, client_credentials};
use crate::dpop::DpopRequest;
use crate::error::ApiError;
use crate::pages::session::ClientIp;
use crate::state::AppState;

/// The token endpoint.
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    dpop: DpopRequest,
    headers: HeaderMap,
    Body(request): Body<TokenRequest>,
) -> Result<Response, ApiError> {
    let issued = exchange(&state, ip, &headers, &dpop, request).await?;
    Ok(respond(&state, issued, Map::new()))
}

/// Authenticates the client, accepts its DPoP proof if it sent one (a server nonce is
/// required here) and runs the grant: the whole token endpoint short of the response's shape,
/// which compatibility profiles extend. Rate-limited per client IP before
/// anything else, then per authenticated client (counted in memory, shared across nodes in the
/// background: no database write per request).
///
/// # Errors
/// Any RFC 6749 §5.2 error; 429 `rate_limited` past a limit.
pub async fn exchange(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    request_proof: &DpopRequest,
    request: TokenRequest,
) -> Result<Issued, ApiError> {
    let limits = &state.settings.rate_limits;
    limit_ip(state, ip)?;
    let credentials = client_credentials(
        headers,
        request.client_id.as_ref(),
        request.client_secret.as_ref(),
    )
    .with_assertion(
        request.client_assertion_type.as_ref(),
        request.client_assertion.as_ref(),
    );
    let client = authenticate_client(state, ip, credentials, "/oauth/token").await?;
    let client_key = format!("token:client:{}", client.client.id);
    let client_id = Some(&client.client.id);
    limit(
        state,
        &client_key,
        limits.token_per_client,
        ip,
        "client",
        client_id,
    )?;
    let grant = GrantRequest::parse(request)?;
    let keys = state.keyring();
    let ctx = state.context(&keys).from_ip(ip);
    let proof = request_proof.accept_at_server::<TokenError>(&ctx).await?;
    Ok(grant::exchange(&ctx, &client, grant, proof.as_ref()).await?)
}

/// Counts a request of the token endpoint, or of the pushed authorization request endpoint
/// (which shares its budget), against the limit per client IP.
///
/// # Errors
/// 429 past the limit.
pub fn limit_ip(state: &AppState, ip: Option<std::net::IpAddr>) -> Result<(), ApiError> {
    let ip_key = format!("token:ip:{}", throttle::ip_key(ip));
    let limit_of = state.settings.rate_limits.token_per_ip;
    limit(state, &ip_key, limit_of, ip, "ip", None)
}

/// Client authentication (RFC 6749 §2.3) behind the failed-authentication limit per client
/// IP: an address that failed too often is refused before its credentials are even looked at,
/// until the window ends. Used by the token, pushed authorization request, introspection and
/// revocation endpoints; `endpoint` is the path called, which a client assertion may name as
/// its `aud`.
///
/// # Errors
/// 429 past the limit; otherwise what authentication reports.
pub async fn authenticate_client(
    state: &AppState,
    ip: Option<std::net::IpAddr>,
    credentials: ClientCredentials,
    endpoint: &str,
) -> Result<AuthenticatedClient, ApiError> {
    let limit_of = state.settings.rate_limits.client_auth_failures_per_ip;
    let key = format!("client_auth_failures:ip:{}", throttle::ip_key(ip));
    if let Err(refused) = state.counters.check(&key, limit_of) {
        return Err(throttled(state, refused, ip, "client_auth_failures", None));
    }
    let audiences = assertion_audiences(state.issuer(), endpoint);
    let assertions = AssertionCheck {
        replay: state.services.store.as_ref(),
        audiences: &audiences.each_ref().map(String::as_str),
    };
    match authenticate(
        state.clients.as_ref(),
        state.services.clock.as_ref(),
        credentials,
        &assertions,
    )
    .await
    {
        Err(error @ TokenError::ClientAuthFailed { .. }) => {
            state.counters.count(&key, limit_of);
            Err(error.into())
        }
        other => Ok(other?),
    }
}

/// Counts a token request against `limit` for `key`.
fn limit(
    state: &AppState,
    key: &str,
    limit: Limit,
    ip: Option<std::net::IpAddr>,
    which: &'static str,
    client: Option<&ClientId>,
) -> Result<(), ApiError> {
    state
        .counters
        .hit(key, limit)
        .map_err(|refused| throttled(state, refused, ip, which, client))
}

/// The 429; the first refusal of a window (per key and node) is also logged and audited, the
/// rest of a flood only counted in the request metrics.
fn throttled(
    state: &AppState,
    refused: Refused,
    ip: Option<std::net::IpAddr>,
    which: &'static str,
    client: Option<&ClientId>,
) -> ApiError {
    if refused.first {
        tracing::warn!(limit = which, client = ?client.map(ClientId::as_str), "token endpoint throttled");
        let actor = client.map_or_else(|| "anonymous".to_owned(), |c| format!("client:{c}"));
        let mut event = state
            .event(AuditKind::Throttled, actor)
            .failed()
            .detail(serde_json::json!({ "action": "token", "limit": which }));
        if let Some(client) = client {
            event = event.client(client);
        }
        state.record(event, ip);
    }
    ApiError::too_many_requests(
        refused.throttled,
        format!(
            "too many requests; retry after {} seconds",
            refused.throttled.retry_after
        ),
    )
}

/// The RFC 6749 §5.1 response, with `extra` fields added, never cached; a DPoP-bound token's
/// response carries the next nonce.
#[must_use]
pub fn respond(state: &AppState, issued: Issued, extra: Map<String, Value>) -> Response {
    let bound = issued.jkt.is_some();
    let body = TokenResponse {
        token_type: issued.token_type().to_owned(),
        access_token: issued.access_token,
        expires_in: u64::try_from(issued.expires_in).unwrap_or_default(),
        refresh_token: issued.refresh_token,
        scope: issued.scope.to_string(),
        id_token: issued.id_token,
        extra,
    };
    let mut response = Json(body).into_response();
    no_store(response.headers_mut());
    if bound {
        crate::dpop::set_nonce(state, response.headers_mut());
    }
    response
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}
