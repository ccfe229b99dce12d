//! The verifier in an axum app (feature `axum`, on by default): a tower layer that checks the
//! `Authorization: Bearer` token (RFC 6750 §2.1), or a DPoP-bound token under
//! `Authorization: DPoP` with its `DPoP` proof (RFC 9449 §7), and the scopes a route needs, and
//! an extractor for the verified claims. A bound token sent as Bearer is refused with a `DPoP`
//! challenge.
//!
//! Failures are answered as RFC 6750 §3 says: 401 with `WWW-Authenticate: Bearer` (and
//! `error="invalid_token"` when a token was sent), 403 `insufficient_scope` naming the
//! scopes, 400 `invalid_request` for a malformed header; the JSON body carries the same
//! `error` and `error_description`.
//!
//! ```no_run
//! use axum::Router;
//! use axum::routing::{get, post};
//! use portcullis_client::verifier::Verifier;
//! use portcullis_client::verifier::axum::Authenticated;
//!
//! async fn wallet(token: Authenticated) -> String {
//!     format!("wallet of {}", token.sub)
//! }
//!
//! async fn pay(token: Authenticated) -> String {
//!     format!("payment by {}", token.client_id)
//! }
//!
//! # async fn run() -> Result<(), portcullis_client::Error> {
//! let verifier = Verifier::builder("http://127.0.0.1:8080").build().await?;
//! let app: Router = Router::new()
//!     // Scopes per route: each route gets its own layer.
//!     .route("/wallet", get(wallet).route_layer(verifier.require_scopes(["wallet:read"])))
//!     .route("/pay", post(pay).route_layer(verifier.require_scopes(["orders:write"])));
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Json;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AccessTokenClaims, Verifier, VerifyError};

/// The claims of the request's verified token, put there by an [`AuthLayer`].
///
/// Extracting it from a request that did not pass through an [`AuthLayer`] is a programming
/// error and answers 500; use `Option<Authenticated>` where the layer is optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated(pub AccessTokenClaims);

impl std::ops::Deref for Authenticated {
    type Target = AccessTokenClaims;

    fn deref(&self) -> &AccessTokenClaims {
        &self.0
    }
}

impl Authenticated {
    /// Refuses (403 `insufficient_scope`) unless the token has every scope of `scopes`: for
    /// checks inside a handler.
    ///
    /// ```
    /// use portcullis_client::verifier::axum::{AuthRejection, Authenticated};
    ///
    /// async fn export(token: Authenticated) -> Result<&'static str, AuthRejection> {
    ///     token.require(&["orders:read"])?;
    ///     Ok("csv…")
    /// }
    /// ```
    ///
    /// # Errors
    /// [`AuthRejection::Invalid`] with [`VerifyError::MissingScope`].
    pub fn require(&self, scopes: &[&str]) -> Result<(), AuthRejection> {
        let missing = self.0.missing_scopes(scopes.iter().copied());
        if missing.is_empty() {
            Ok(())
        } else {
            Err(AuthRejection::Invalid(VerifyError::MissingScope {
                missing,
            }))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(AuthRejection::LayerMissing)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Authenticated {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned())
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthRejection {
    /// No bearer token (401 with a bare challenge, RFC 6750 §3.1).
    MissingToken,
    /// An `Authorization: Bearer` header without a well-formed token (400).
    MalformedHeader,
    /// The token was refused (401 `invalid_token`, 403 `insufficient_scope`, or 503 when the
    /// issuer's keys are unavailable).
    Invalid(VerifyError),
    /// [`Authenticated`] was extracted on a route without an [`AuthLayer`] (500).
    LayerMissing,
}

impl AuthRejection {
    fn parts(&self) -> (StatusCode, Option<&'static str>, String) {
        match self {
            Self::MissingToken => (
                StatusCode::UNAUTHORIZED,
                None,
                "an access token is required".into(),
            ),
            Self::MalformedHeader => (
                StatusCode::BAD_REQUEST,
                Some("invalid_request"),
                "the Authorization header is not a well-formed Bearer token".into(),
            ),
            Self::Invalid(e @ VerifyError::MissingScope { .. }) => {
                (StatusCode::FORBIDDEN, Some(e.code()), e.to_string())
            }
            Self::Invalid(e @ VerifyError::KeysUnavailable(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(e.code()),
                "the token cannot be checked right now; retry shortly".into(),
            ),
            Self::Invalid(e) => (StatusCode::UNAUTHORIZED, Some(e.code()), e.to_string()),
            Self::LayerMissing => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Some("server_error"),
                "this route has no authentication layer".into(),
            ),
        }
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let (status, code, description) = self.parts();
        // A DPoP failure is answered with a DPoP challenge naming the algorithms (§7.1).
        let dpop = matches!(
            self,
            Self::Invalid(VerifyError::DpopRequired | VerifyError::InvalidDpopProof(_))
        );
        let mut challenge = if dpop {
            String::from("DPoP algs=\"ES256 PS256 EdDSA Ed25519\",")
        } else {
            String::from("Bearer")
        };
        if let Some(code) = code.filter(|_| status != StatusCode::INTERNAL_SERVER_ERROR) {
            let quoted = description.replace(['"', '\\'], "'");
            challenge.push_str(&format!(
                " error=\"{code}\", error_description=\"{quoted}\""
            ));
            if let Self::Invalid(VerifyError::MissingScope { missing }) = &self {
                challenge.push_str(&format!(", scope=\"{}\"", missing.join(" ")));
            }
        }
        let body = serde_json::json!({
            "error": code.unwrap_or("invalid_token"),
            "error_description": description,
        });
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let challenged = [
            StatusCode::UNAUTHORIZED,
            StatusCode::FORBIDDEN,
            StatusCode::BAD_REQUEST,
        ]
        .contains(&status);
        if challenged && let Ok(value) = HeaderValue::from_str(&challenge) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The token of `headers` and whether it came under the `DPoP` scheme: `Ok(None)` without an
/// `Authorization` header or with another scheme (RFC 6750 §3.1).
fn credential(headers: &HeaderMap) -> Result<Option<(bool, &str)>, AuthRejection> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| AuthRejection::MalformedHeader)?
        .trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let dpop = if scheme.eq_ignore_ascii_case("bearer") {
        false
    } else if scheme.eq_ignore_ascii_case("dpop") {
        true
    } else {
        return Ok(None);
    };
    let token = token.trim();
    if token.is_empty() || token.contains(' ') {
        return Err(AuthRejection::MalformedHeader);
    }
    Ok(Some((dpop, token)))
}

/// The request's one `DPoP` header; two or more, or one that is not text, count as none.
fn proof(headers: &HeaderMap) -> Option<&str> {
    let mut proofs = headers.get_all(crate::dpop::PROOF_HEADER).iter();
    match (proofs.next(), proofs.next()) {
        (Some(one), None) => one.to_str().ok(),
        _ => None,
    }
}

/// A tower layer that lets through only requests with a valid token carrying its scopes.
/// Made by [`Verifier::layer`] or [`Verifier::require_scopes`].
#[derive(Debug, Clone)]
pub struct AuthLayer {
    verifier: Verifier,
    scopes: Arc<[String]>,
}

impl AuthLayer {
    /// Checks the request's headers; the claims on success. A DPoP proof names the request's
    /// method and URI, which headers alone do not carry: a DPoP-bound token is refused here, and
    /// [`AuthLayer::authenticate_request`] (which the layer itself uses) checks it.
    ///
    /// # Errors
    /// See [`AuthRejection`].
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Authenticated, AuthRejection> {
        self.authenticate_request("GET", "/", headers).await
    }

    /// Checks a request's token: a Bearer token, or a DPoP-bound one with its proof for
    /// `method` at `path` (RFC 9449 §7), the URI completed by
    /// [`super::VerifierBuilder::resource_url`] or the `Host` header.
    ///
    /// # Errors
    /// See [`AuthRejection`].
    pub async fn authenticate_request(
        &self,
        method: &str,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Authenticated, AuthRejection> {
        let (dpop, token) = credential(headers)?.ok_or(AuthRejection::MissingToken)?;
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let verified = if dpop {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            let uri = self.verifier.request_uri(host, path).unwrap_or_default();
            let request = super::DpopRequest {
                proof: proof(headers),
                method,
                uri: &uri,
            };
            self.verifier.verify_dpop(token, &request, &scopes).await
        } else {
            self.verifier.verify_with_scopes(token, &scopes).await
        };
        verified.map(Authenticated).map_err(AuthRejection::Invalid)
    }
}

impl Verifier {
    /// A layer that requires a valid token, whatever its scopes.
    #[must_use]
    pub fn layer(&self) -> AuthLayer {
        self.require_scopes::<_, String>([])
    }

    /// A layer that requires a valid token carrying every scope of `scopes`.
    #[must_use]
    pub fn require_scopes<I, S>(&self, scopes: I) -> AuthLayer
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AuthLayer {
            verifier: self.clone(),
            scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }
}

impl<S> tower_layer::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of an [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    layer: AuthLayer,
}

impl<S, B> tower_service::Service<Request<B>> for AuthService<S>
where
    S: tower_service::Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was polled ready is the one that serves this request.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let layer = self.layer.clone();
        Box::pin(async move {
            let method = request.method().as_str().to_owned();
            let path = request.uri().path().to_owned();
            match layer
                .authenticate_request(&method, &path, request.headers())
                .await
            {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    inner.call(request).await
                }
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}
