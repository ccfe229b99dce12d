//! Cross-origin resource sharing for browser-based apps (the Fetch standard's CORS protocol).
//!
//! - Discovery and the JWKS are public documents: any origin may read them.
//! - The token, revocation and userinfo endpoints answer a script only from an origin the
//!   client registered (`web_origins`). The client is the one the request names: `client_id`
//!   in the body or the Basic credentials, or the access token's client for userinfo. A
//!   preflight names no client, so it is allowed for an origin some enabled client registered;
//!   the request itself is then checked against its own client.
//! - The authorization endpoint, the pages and the admin API send no CORS headers at all.
//!
//! No endpoint allows credentials (cookies): the endpoints that answer cross-origin
//! authenticate with what the request carries.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portcullis_core::client::WebOrigin;
use portcullis_core::client_cache::ClientLookup as _;
use portcullis_core::jwt::{self, JwtKind};
use portcullis_core::oauth::issue::AccessTokenClaims;
use portcullis_proto::ClientId;

use crate::state::AppState;

/// How long a browser may cache a preflight's answer, seconds.
const PREFLIGHT_MAX_AGE: &str = "600";
/// The request headers a script may send to the client endpoints.
const ALLOWED_HEADERS: &str = "authorization, content-type, dpop";
/// The response headers a script may read beyond the safelisted ones.
const EXPOSED_HEADERS: &str = "www-authenticate, dpop-nonce";
/// The longest body read to find the client of a cross-origin request.
const MAX_BODY: usize = 64 * 1024;

fn origin_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// For discovery and the JWKS: `Access-Control-Allow-Origin: *`, and preflights answered.
pub async fn public(request: Request, next: Next) -> Response {
    let cors = request.headers().contains_key(header::ORIGIN);
    if request.method() == Method::OPTIONS {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        set(headers, header::ALLOW, "GET, HEAD, OPTIONS");
        if cors {
            set(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
            set(headers, header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD");
            set(headers, header::ACCESS_CONTROL_MAX_AGE, "86400");
        }
        return response;
    }
    let mut response = next.run(request).await;
    if cors {
        set(
            response.headers_mut(),
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            "*",
        );
    }
    response
}

/// The methods each client endpoint takes.
fn methods(path: &str) -> &'static str {
    if path.ends_with("/userinfo") {
        "GET, POST"
    } else {
        "POST"
    }
}

/// For the token, revocation and userinfo endpoints: preflights answered for registered
/// origins, and each request's answer readable only by its client's origins.
pub async fn clients(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let methods = methods(request.uri().path());
    let Some(origin) = origin_of(request.headers()) else {
        if request.method() == Method::OPTIONS {
            return preflight_answer(methods, None);
        }
        return vary(next.run(request).await);
    };
    // Only an origin in its exact serialized form can have been registered.
    let origin = WebOrigin::parse(&origin).ok();
    if request.method() == Method::OPTIONS {
        let allowed = match &origin {
            Some(o) => match state.services.store.origin_registered(o.as_str()).await {
                Ok(found) => found,
                Err(error) => {
                    tracing::warn!(%error, "CORS preflight: storage failed");
                    false
                }
            },
            None => false,
        };
        return preflight_answer(methods, allowed.then_some(origin).flatten());
    }
    let Some(origin) = origin else {
        return vary(next.run(request).await);
    };
    let (request, client) = match client_of(&state, request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let allowed = match client {
        Some(id) => match state.clients.find_client(&id).await {
            Ok(found) => found.is_some_and(|c| c.enabled && c.allows_origin(origin.as_str())),
            Err(_) => false,
        },
        None => false,
    };
    let mut response = vary(next.run(request).await);
    if allowed {
        let headers = response.headers_mut();
        set(
            headers,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            origin.as_str(),
        );
        set(
            headers,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            EXPOSED_HEADERS,
        );
    }
    response
}

fn vary(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("origin"));
    response
}

fn preflight_answer(methods: &str, origin: Option<WebOrigin>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    set(headers, header::ALLOW, &format!("{methods}, OPTIONS"));
    if let Some(origin) = origin {
        set(
            headers,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            origin.as_str(),
        );
        set(headers, header::ACCESS_CONTROL_ALLOW_METHODS, methods);
        set(
            headers,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            ALLOWED_HEADERS,
        );
        set(headers, header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE);
    }
    vary(response)
}

/// The client a request names, and the request rebuilt around its read body: the access
/// token's client (a Bearer header, or `access_token` in a form), else the Basic credentials'
/// id, else `client_id` in a form or JSON body.
async fn client_of(
    state: &AppState,
    request: Request,
) -> Result<(Request, Option<ClientId>), Response> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        crate::error::ApiError::bad_request("the request body could not be read").into_response()
    })?;
    let client = bearer_client(state, &parts.headers, &bytes)
        .or_else(|| basic_client(&parts.headers))
        .or_else(|| body_client(&bytes));
    Ok((Request::from_parts(parts, Body::from(bytes)), client))
}

fn bearer_client(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Option<ClientId> {
    // A malformed header names no client; the endpoint itself answers it.
    let from_header = crate::bearer::token_from_headers(headers).ok().flatten();
    let token = from_header.or_else(|| {
        url::form_urlencoded::parse(body)
            .find(|(name, _)| name == "access_token")
            .map(|(_, value)| value.into_owned())
    })?;
    let keys = state.keyring();
    let (claims, _) = jwt::verify::<AccessTokenClaims>(
        &keys,
        state.services.clock.now(),
        JwtKind::AccessToken,
        &token,
    )
    .ok()?;
    Some(ClientId::new(claims.client_id))
}

fn basic_client(headers: &HeaderMap) -> Option<ClientId> {
    let credentials = crate::oauth::body::basic_credentials(headers)?.ok()?;
    Some(ClientId::new(credentials.client_id))
}

fn body_client(body: &[u8]) -> Option<ClientId> {
    if body.first() == Some(&b'{') {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        return value
            .get("client_id")
            .and_then(|v| v.as_str())
            .map(ClientId::new);
    }
    url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "client_id")
        .map(|(_, value)| ClientId::new(value.into_owned()))
}
