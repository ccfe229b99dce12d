//! `POST /oauth/par`: pushed authorization requests (RFC 9126 §2).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::oauth::TokenError;
use portcullis_core::oauth::par::{self, ParError};
use portcullis_proto::Secret;
use serde_json::json;

use super::body::client_credentials;
use super::token::{authenticate_client, limit_ip, no_store};
use crate::dpop::DpopRequest;
use crate::error::ApiError;
use crate::pages::session::ClientIp;
use crate::state::AppState;

impl From<ParError> for ApiError {
    fn from(error: ParError) -> Self {
        match error {
            ParError::Refused { code, description } => {
                Self::new(StatusCode::BAD_REQUEST, code, description)
            }
            ParError::Store(store) => store.into(),
            ParError::Random(random) => Self::internal(&random),
        }
    }
}

/// The first value of `name` among `params`.
fn first<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a String> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Authenticates the client as the token endpoint does, accepts its DPoP proof if it sent one
/// (binding the code to its key), validates the authorization request in the form body as the
/// authorization endpoint would, and answers `201` with its `request_uri` (RFC 9126 §2.2).
///
/// # Errors
/// 400 with the authorization endpoint's error code, 401 `invalid_client`, 429 past the
/// per-IP limit of the token endpoint (which this endpoint shares).
pub async fn push(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    dpop: DpopRequest,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    limit_ip(&state, ip)?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !form {
        return Err(ApiError::bad_request(
            "a pushed authorization request is an application/x-www-form-urlencoded body",
        ));
    }
    let params = super::authorize::pairs(&body);
    let secret = first(&params, "client_secret").map(|s| Secret::new(s.clone()));
    let assertion = first(&params, "client_assertion").map(|s| Secret::new(s.clone()));
    let credentials = client_credentials(&headers, first(&params, "client_id"), secret.as_ref())
        .with_assertion(first(&params, "client_assertion_type"), assertion.as_ref());
    let client = authenticate_client(&state, ip, credentials, "/oauth/par").await?;
    let keys = state.keyring();
    let ctx = state.context(&keys).from_ip(ip);
    let proof = dpop.accept_at_server::<TokenError>(&ctx).await?;
    let pushed = par::push(
        &ctx,
        state.clients.as_ref(),
        &client,
        params,
        proof.as_ref().map(|p| p.jkt.as_str()),
    )
    .await?;
    let body = json!({
        "request_uri": pushed.request_uri.expose(),
        "expires_in": pushed.expires_in,
    });
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    no_store(response.headers_mut());
    if proof.is_some() {
        crate::dpop::set_nonce(&state, response.headers_mut());
    }
    Ok(response)
}
