//! The query string of the JSON APIs (admin and resource), read like axum's `Query` but
//! refused as every API error is: axum's own rejection is a plain-text 400, which clients of a
//! JSON API (and the OpenAPI description's `ErrorResponse`) do not expect.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;

/// A query string deserialized into `T`; malformed, it is a JSON 400 `invalid_request`
/// naming the problem.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default())
            .map(Self)
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))
    }
}
