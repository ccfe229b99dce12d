//! Middleware for every route: security headers, request ids, tracing, panics, the client's
//! address, load shedding, timeouts, request size limits and metrics.
//!
//! Limits, outermost first (each refuses before the next one costs anything):
//!
//! | what | limit | answer |
//! |---|---|---|
//! | requests in flight | `max_in_flight` (ops endpoints exempt) | 503 + `Retry-After`, at once |
//! | whole request, body upload included | `request_timeout` | 503 + `Retry-After` |
//! | request target (path and query) | [`MAX_URL_BYTES`] | 414 |
//! | header section | [`MAX_HEADER_BYTES`] | 431 |
//! | body | [`body_limit`]: by route | 413 |
//!
//! hyper enforces coarser limits of its own before any of these run: at most 100 header lines
//! and a ~400 KiB head (431), request targets up to 64 KiB (414).

use std::future::poll_fn;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, HttpBody as _};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use portcullis_proto::ErrorCode;
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::client_ip::{ClientIp, TrustedProxies, peer};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest request target (path and query). Authorization requests are the longest
/// legitimate ones, at a few hundred bytes to a couple of KiB.
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// The largest header section (names, values and separators): room for large cookies set by
/// other applications of the same domain.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// The body limit of the token endpoint and the pages' forms: a token request or a form is a
/// few hundred bytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024;
/// The body limit of introspection and revocation: the token they carry may come from
/// anywhere (a resource server forwards what it was given), and "inactive" is a better answer
/// to a large foreign token than 413. Ours are under 2 KiB.
pub const MAX_TOKEN_BODY_BYTES: usize = 16 * 1024;
/// The body limit of the resource API (`/api/…`): an order is a few hundred bytes.
pub const MAX_API_BODY_BYTES: usize = 16 * 1024;
/// The body limit of the admin API (`/admin/…`): a client registration with many redirect
/// URIs and scopes.
pub const MAX_ADMIN_BODY_BYTES: usize = 64 * 1024;
/// What `Retry-After` says when the server is at capacity.
const RETRY_AFTER_SHED: u32 = 1;
/// What `Retry-After` says on a 503 that did not set it (a timeout, storage unavailable).
const RETRY_AFTER_UNAVAILABLE: u32 = 2;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The body limit of the route at `path`.
#[must_use]
pub fn body_limit(path: &str) -> usize {
    if path.starts_with("/admin/") {
        MAX_ADMIN_BODY_BYTES
    } else if path.starts_with("/api/") {
        MAX_API_BODY_BYTES
    } else if matches!(path, "/oauth/introspect" | "/oauth/revoke") {
        MAX_TOKEN_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// Wraps `routes` in the middleware stack.
pub fn wrap(routes: Router, state: &AppState) -> Router {
    let sensitive = [
        header::AUTHORIZATION,
        header::COOKIE,
        header::PROXY_AUTHORIZATION,
    ];
    let in_flight = Arc::new(Semaphore::new(state.settings.max_in_flight.max(1)));
    let proxies = Arc::new(state.settings.trusted_proxies.clone());
    let stack = ServiceBuilder::new()
        // Outermost, so that every answer gets them: the pages', the handlers' JSON errors,
        // the fallback 404, and the refusals and panics answered by the layers below.
        .layer(middleware::from_fn(security_headers))
        .layer(SetSensitiveRequestHeadersLayer::new(sensitive))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetSensitiveResponseHeadersLayer::new([header::SET_COOKIE]))
        // Outside every refusal below and the panic handler, so that shed, timed-out,
        // oversized and panicked requests are counted too.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(proxies, client_address))
        .layer(middleware::from_fn_with_state(in_flight, shed_load))
        .layer(middleware::from_fn_with_state(
            state.settings.request_timeout,
            deadline,
        ))
        .layer(middleware::from_fn(size_limits));
    routes.layer(middleware::from_fn(tag_route)).layer(stack)
}

/// The content security policy of HTML pages: scripts (the wallet step's `/static/wallet.js`,
/// never inline), styles and images only from this origin (images also over https, for client
/// logos), no framing. `form-action` is left out
/// on purpose: browsers apply it to the redirect after the consent form, which must reach the
/// client's redirect URI.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' https:; base-uri 'none'; frame-ancestors 'none'";
/// The content security policy of everything else (JSON, CSS, text): nothing may load, run or
/// frame it, should a browser ever render it.
pub const RESOURCE_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds the security headers to every response, keeping any a handler set on purpose (the
/// stylesheet's and the discovery documents' `Cache-Control`, for example):
///
/// - every response: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
///   `X-Frame-Options: DENY` and a content security policy ([`PAGE_CSP`] for HTML,
///   [`RESOURCE_CSP`] otherwise);
/// - `Cache-Control: no-store` on HTML pages (they hold CSRF tokens and personal data), on
///   errors, and on answers to requests that carried credentials (`Authorization` or a cookie),
///   unless the handler chose a policy.
async fn security_headers(request: Request, next: Next) -> Response {
    let credentials = request.headers().contains_key(header::AUTHORIZATION)
        || request.headers().contains_key(header::COOKIE);
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/html"));
    let no_store = html || credentials || response.status().as_u16() >= 400;
    let headers = response.headers_mut();
    let mut add = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    add(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    add(header::REFERRER_POLICY, "no-referrer");
    add(header::X_FRAME_OPTIONS, "DENY");
    add(
        header::CONTENT_SECURITY_POLICY,
        if html { PAGE_CSP } else { RESOURCE_CSP },
    );
    if no_store {
        add(header::CACHE_CONTROL, "no-store");
    }
    response
}

/// The span every log line of a request carries: method, path (never the query, which may
/// hold codes or state) and request id.
fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

/// Resolves the client's address once (trusted proxies), for every handler's [`ClientIp`].
async fn client_address(
    State(proxies): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let ip = proxies.client_ip(peer(request.extensions()), request.headers());
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

/// Operations endpoints stay answerable under overload: a load balancer must still see that
/// the node is alive and ready, and metrics must show the overload.
fn exempt_from_shedding(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Past `max_in_flight` requests, answers 503 at once instead of queueing: a queue would only
/// add latency to every request and let memory grow, while a client told to retry can go to
/// another node.
async fn shed_load(
    State(in_flight): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    if exempt_from_shedding(request.uri().path()) {
        return next.run(request).await;
    }
    let Ok(_permit) = Arc::clone(&in_flight).try_acquire_owned() else {
        tracing::warn!("at capacity: request shed");
        return refusal(
            wants_html(request.headers()),
            StatusCode::SERVICE_UNAVAILABLE,
            "Too busy",
            "the server is at capacity; retry shortly",
        )
        .retry_after(RETRY_AFTER_SHED);
    };
    next.run(request).await
}

/// The request timeout, over everything the request does (reading a slowly uploaded body
/// included); and every 503 carries `Retry-After`, so clients back off instead of hammering.
async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let browser = wants_html(request.headers());
    let mut response = match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            refusal(
                browser,
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "the request took too long; retry shortly",
            )
            .0
        }
    };
    if response.status() == StatusCode::SERVICE_UNAVAILABLE
        && !response.headers().contains_key(header::RETRY_AFTER)
    {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(RETRY_AFTER_UNAVAILABLE),
        );
    }
    response
}

/// 414, 431 and 413 (see the module documentation). A body without `Content-Length`
/// (chunked) is read here up to the route's limit, so every route answers 413 alike, whatever
/// extractor it uses.
async fn size_limits(request: Request, next: Next) -> Response {
    let browser = wants_html(request.headers());
    let refuse = |status, title, message| refusal(browser, status, title, message).0;
    if target_len(request.uri()) > MAX_URL_BYTES {
        return refuse(
            StatusCode::URI_TOO_LONG,
            "Address too long",
            "the request URL is too long",
        );
    }
    if header_bytes(request.headers()) > MAX_HEADER_BYTES {
        return refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request too large",
            "the request headers are too large",
        );
    }
    let limit = body_limit(request.uri().path());
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request too large",
            "the request body is too large",
        )
    };
    match request.headers().get(header::CONTENT_LENGTH) {
        // hyper ends the body at the declared length, so a declared length is enough to check.
        Some(length) => {
            let declared = length
                .to_str()
                .ok()
                .and_then(|l| l.trim().parse::<u64>().ok());
            if declared.is_none_or(|l| l > limit as u64) {
                return too_large();
            }
            next.run(request).await
        }
        None if request.body().is_end_stream() => next.run(request).await,
        None => {
            let (parts, body) = request.into_parts();
            match read_limited(body, limit).await {
                Ok(bytes) => {
                    next.run(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
                Err(BodyError::TooLarge) => too_large(),
                Err(BodyError::Broken) => refuse(
                    StatusCode::BAD_REQUEST,
                    "Bad request",
                    "the request body could not be read",
                ),
            }
        }
    }
}

/// The length of the request target as the client sent it.
fn target_len(uri: &Uri) -> usize {
    let scheme = uri.scheme_str().map_or(0, |s| s.len() + 3);
    let authority = uri.authority().map_or(0, |a| a.as_str().len());
    let path = uri.path_and_query().map_or(0, |p| p.as_str().len());
    scheme + authority + path
}

/// The header section's size as HTTP/1.1 sends it: `name: value\r\n` per line.
fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

enum BodyError {
    TooLarge,
    Broken,
}

/// Reads a body, giving up as soon as it passes `limit` bytes.
async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = pin!(body);
    let mut bytes = Vec::new();
    while let Some(frame) = poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|_| BodyError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > limit {
                return Err(BodyError::TooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// A refusal made by the middleware, in the shape the client reads: an HTML page for a
/// browser, the JSON error body (RFC 6749 §5.2 shape) for anything else.
struct Refusal(Response);

impl Refusal {
    fn retry_after(mut self, seconds: u32) -> Response {
        self.0
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        self.0
    }
}

/// Whether the request comes from a browser (it asks for `text/html`).
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

fn refusal(browser: bool, status: StatusCode, title: &str, message: &str) -> Refusal {
    let code = if status == StatusCode::SERVICE_UNAVAILABLE {
        ErrorCode::TemporarilyUnavailable
    } else {
        ErrorCode::InvalidRequest
    };
    let mut response = if browser {
        crate::pages::error_page(status, title, &capitalised(message))
    } else {
        ApiError::new(status, code, message).into_response()
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Refusal(response)
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}

/// Hands the matched route to [`record_metrics`], which runs before routing.
async fn tag_route(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// The method as a metrics label: a client may send any token as a method, and each distinct
/// label is a series kept for the life of the process.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    state
        .metrics
        .record(method, route, response.status().as_u16(), started.elapsed());
    response
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::ServerError,
        "internal error",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_limits_follow_the_route() {
        assert_eq!(body_limit("/oauth/token"), MAX_BODY_BYTES);
        assert_eq!(body_limit("/login"), MAX_BODY_BYTES);
        assert_eq!(body_limit("/oauth/introspect"), MAX_TOKEN_BODY_BYTES);
        assert_eq!(body_limit("/api/v1/orders"), MAX_API_BODY_BYTES);
        assert_eq!(body_limit("/admin/v1/clients"), MAX_ADMIN_BODY_BYTES);
        assert_eq!(body_limit("/administrator"), MAX_BODY_BYTES);
    }

    #[test]
    fn made_up_methods_share_one_label() {
        let made_up = axum::http::Method::from_bytes(b"BREW").unwrap_or_default();
        assert_eq!(method_label(&made_up), "OTHER");
        assert_eq!(method_label(&axum::http::Method::POST), "POST");
    }

    #[test]
    fn the_header_section_is_measured_as_sent() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("a"));
        assert_eq!(header_bytes(&headers), "host: a\r\n".len());
    }
}
