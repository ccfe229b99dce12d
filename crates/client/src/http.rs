//! Sending requests and reading responses: bounded bodies, OAuth error bodies (RFC 6749
//! §5.2), and the default HTTP client (rustls, no redirects).

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error, OAuthError};

/// The largest response body read; metadata, JWKS and tokens are a few KiB.
const MAX_BODY: usize = 1024 * 1024;

/// The HTTP client the SDK builds when it is given none: rustls (aws-lc-rs), no redirects
/// (an OAuth endpoint that redirects is misconfigured or hostile, and a redirect would carry
/// credentials elsewhere), bounded time.
pub(crate) fn default_client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("portcullis-client/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
}

/// Sends `request`, naming `url` in errors.
pub(crate) async fn send(
    url: &str,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, Error> {
    request.send().await.map_err(|e| Error::http(url, e))
}

/// Reads at most [`MAX_BODY`] bytes of `response`.
pub(crate) async fn body(url: &str, mut response: reqwest::Response) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| Error::http(url, e))? {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(Error::invalid(url, "the response body is too large"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Parses JSON, naming `url` in errors.
pub(crate) fn json<T: DeserializeOwned>(url: &str, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::invalid(url, format!("malformed JSON: {e}")))
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    error_description: Option<String>,
}

/// The JSON of a successful response, or the OAuth error of a failed one.
pub(crate) async fn oauth_json<T: DeserializeOwned>(
    url: &str,
    response: reqwest::Response,
) -> Result<T, Error> {
    let status = response.status();
    let bytes = body(url, response).await?;
    if status.is_success() {
        return json(url, &bytes);
    }
    Err(oauth_error(url, status, &bytes))
}

/// The OAuth error a failed response carries.
pub(crate) fn oauth_error(url: &str, status: reqwest::StatusCode, bytes: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => Error::OAuth(OAuthError {
            url: url.to_owned(),
            status: status.as_u16(),
            error: body.error,
            description: body.error_description,
        }),
        Err(_) => Error::invalid(url, format!("status {status} without an OAuth error body")),
    }
}

/// The resource API's error for a failed response.
pub(crate) fn api_error(url: &str, status: reqwest::StatusCode, bytes: &[u8]) -> ApiError {
    let (error, description) = match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => (body.error, body.error_description),
        Err(_) => (format!("http_{}", status.as_u16()), None),
    };
    ApiError {
        url: url.to_owned(),
        status: status.as_u16(),
        error,
        description,
    }
}
