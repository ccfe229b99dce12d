//! What the JSON APIs (admin and resource) read from a request: the query string and a JSON
//! object body, refused as every API error is, a JSON 400 `invalid_request` naming the problem.
//! (axum's own rejections are plain-text, which clients of a JSON API, and the OpenAPI
//! description's `ErrorResponse`, do not expect.)

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

/// A JSON object body deserialized into `T`. Anything but an object is refused: serde would
/// read a struct from an array too (`[null, null]` as every field absent), which the OpenAPI
/// description does not allow and no client means.
///
/// # Errors
/// 400 `invalid_request` with `what` and the parser's message.
pub fn json_object<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(ApiError::bad_request(format!(
            "{what}: expected a JSON object"
        )));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("{what}: {e}")))
}
