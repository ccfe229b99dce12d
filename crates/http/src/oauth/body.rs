//! Request bodies of the machine endpoints: `application/x-www-form-urlencoded` (RFC 6749
//! §4.1.3) or `application/json` (as the Monei Connect guide sends), and HTTP Basic client
//! credentials (RFC 6749 §2.3.1).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_core::oauth::client_auth::{BasicCredentials, ClientCredentials};
use portcullis_proto::Secret;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A form or JSON body parsed into `T`. A parameter given twice is refused (RFC 6749 §3.1).
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            });
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::bad_request("the request body could not be read"))?;
        match content_type.as_deref() {
            None | Some("application/x-www-form-urlencoded") => {
                serde_urlencoded::from_bytes(&bytes).map(Body).map_err(|e| {
                    // The parser's message quotes the input: logged, not sent.
                    tracing::debug!(error = %e, "malformed form body");
                    ApiError::bad_request(
                        "malformed form body: a parameter is repeated, or a value is not \
                             valid for its parameter",
                    )
                })
            }
            Some("application/json") => serde_json::from_slice(&bytes).map(Body).map_err(|e| {
                tracing::debug!(error = %e, "malformed JSON body");
                ApiError::bad_request(
                    "malformed JSON body: it is not a JSON object of string values, or a \
                         parameter is repeated",
                )
            }),
            Some(_) => Err(ApiError::bad_request(
                "unsupported content type; send application/x-www-form-urlencoded",
            )),
        }
    }
}

/// Percent-decoding as `application/x-www-form-urlencoded` defines it (`+` is a space).
fn form_decode(part: &str) -> Option<String> {
    let text = format!("v={part}");
    url::form_urlencoded::parse(text.as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
}

/// The credentials of an `Authorization: Basic` header: `None` without one (or with another
/// scheme), `Some(Err(()))` when it is malformed.
#[must_use]
pub fn basic_credentials(headers: &HeaderMap) -> Option<Result<BasicCredentials, ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let parse = || {
        let decoded = STANDARD.decode(encoded.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        // RFC 6749 §2.3.1: both parts are form-urlencoded before encoding. Ids and secrets that
        // Portcullis generates never contain `%` or `+`, so clients that skip this step (Authlib,
        // requests) work too.
        Some(BasicCredentials {
            client_id: form_decode(id)?,
            secret: Secret::new(form_decode(secret)?),
        })
    };
    Some(parse().filter(|c| !c.client_id.is_empty()).ok_or(()))
}

/// Gathers the credentials of a request; empty parameters count as absent (RFC 6749 §3.1).
#[must_use]
pub fn client_credentials(
    headers: &HeaderMap,
    client_id: Option<&String>,
    client_secret: Option<&Secret>,
) -> ClientCredentials {
    ClientCredentials {
        basic: basic_credentials(headers),
        client_id: client_id.filter(|v| !v.is_empty()).cloned(),
        client_secret: client_secret.filter(|v| !v.is_empty()).cloned(),
        assertion_type: None,
        assertion: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let encoded = STANDARD.encode("my%20client:s%3Acret");
        let credentials = basic_credentials(&headers(&format!("Basic {encoded}")))
            .unwrap()
            .unwrap();
        assert_eq!(credentials.client_id, "my client");
        assert_eq!(credentials.secret.expose(), "s:cret");
        let raw = STANDARD.encode("demo-app:abc_DEF-123");
        let credentials = basic_credentials(&headers(&format!("basic {raw}")))
            .unwrap()
            .unwrap();
        assert_eq!(credentials.client_id, "demo-app");
    }

    #[test]
    fn malformed_basic_is_an_error_and_other_schemes_are_ignored() {
        assert!(basic_credentials(&headers("Basic !!!")).unwrap().is_err());
        assert!(
            basic_credentials(&headers(&format!("Basic {}", STANDARD.encode("nocolon"))))
                .unwrap()
                .is_err()
        );
        assert!(basic_credentials(&headers("Bearer abc")).is_none());
        assert!(basic_credentials(&HeaderMap::new()).is_none());
    }
}
