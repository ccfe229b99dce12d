//! The one place where errors become HTTP responses.
//!
//! JSON endpoints answer with the RFC 6749 §5.2 body and `Cache-Control: no-store`; bearer
//! errors carry `WWW-Authenticate` (RFC 6750 §3); a client that tried HTTP Basic and failed gets
//! a Basic challenge (RFC 6749 §5.2). Internal detail is logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::admin::clients::ClientRuleError;
use portcullis_core::admin::users::{NewUserError, UserOpError};
use portcullis_core::banking::accounts::BankError;
use portcullis_core::error::{ErrorKind, Kind as _};
use portcullis_core::oauth::TokenError;
use portcullis_core::oauth::access::AccessError;
use portcullis_core::oauth::dpop::DpopError;
use portcullis_core::store::StoreError;
use portcullis_core::throttle::Throttled;
use portcullis_proto::{ErrorCode, ErrorResponse};

/// The realm of every challenge.
pub const REALM: &str = "portcullis";

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorResponse,
    www_authenticate: Option<String>,
    retry_after: Option<u32>,
    dpop_nonce: Option<String>,
}

impl ApiError {
    /// An error with this status, code and description.
    #[must_use]
    pub fn new(status: StatusCode, code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorResponse::new(code, description),
            www_authenticate: None,
            retry_after: None,
            dpop_nonce: None,
        }
    }

    /// A 400 `invalid_request`.
    #[must_use]
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            description,
        )
    }

    /// Adds a `WWW-Authenticate` challenge.
    #[must_use]
    pub fn with_challenge(mut self, challenge: String) -> Self {
        self.www_authenticate = Some(challenge);
        self
    }

    /// Adds `DPoP-Nonce`: the nonce the client's next proof must carry (RFC 9449 §8, §9).
    #[must_use]
    pub fn with_dpop_nonce(mut self, nonce: String) -> Self {
        self.dpop_nonce = Some(nonce);
        self
    }

    /// Adds `Retry-After`.
    #[must_use]
    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A 404 in the API's JSON shape.
    #[must_use]
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such resource",
        )
    }

    /// The database could not be used: 503 with `Retry-After`, so clients back off and retry
    /// instead of treating the request as refused. The cause is logged, not sent.
    #[must_use]
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "storage unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::TemporarilyUnavailable,
            "the service is temporarily unavailable; retry shortly",
        )
        .with_retry_after(2)
    }

    /// 429 `rate_limited` with `Retry-After` (RFC 6585 §4): the request was not processed.
    #[must_use]
    pub fn too_many_requests(throttled: Throttled, description: impl Into<String>) -> Self {
        let seconds = u32::try_from(throttled.retry_after.max(1)).unwrap_or(u32::MAX);
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            description,
        )
        .with_retry_after(seconds)
    }

    /// An unexpected failure: logged with its cause, answered as a bare `server_error`.
    #[must_use]
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::ServerError,
            "internal error",
        )
    }

    /// A bearer-token failure (RFC 6750 §3.1). Without a token at all, the challenge carries
    /// no error code.
    #[must_use]
    pub fn bearer(code: Option<ErrorCode>, description: &str) -> Self {
        let (status, code_name) = match code {
            Some(ErrorCode::InsufficientScope) => {
                (StatusCode::FORBIDDEN, Some("insufficient_scope"))
            }
            Some(ErrorCode::InvalidRequest) => (StatusCode::BAD_REQUEST, Some("invalid_request")),
            Some(_) => (StatusCode::UNAUTHORIZED, Some("invalid_token")),
            None => (StatusCode::UNAUTHORIZED, None),
        };
        let challenge = match code_name {
            Some(name) => format!(
                "Bearer realm=\"{REALM}\", error=\"{name}\", error_description=\"{}\"",
                portcullis_proto::safe_description(description)
            ),
            None => format!("Bearer realm=\"{REALM}\""),
        };
        let code = code.unwrap_or(ErrorCode::InvalidToken);
        Self::new(status, code, description).with_challenge(challenge)
    }

    /// A failure at a resource under the `DPoP` scheme (RFC 9449 §7.1): 401 with a `DPoP`
    /// challenge naming the accepted algorithms and `code` (`invalid_token`,
    /// `invalid_dpop_proof` or `use_dpop_nonce`).
    #[must_use]
    pub fn dpop(code: ErrorCode, description: &str) -> Self {
        let challenge = format!(
            "DPoP realm=\"{REALM}\", algs=\"{}\", error=\"{}\", error_description=\"{}\"",
            crate::dpop::ALGS,
            code.as_str(),
            portcullis_proto::safe_description(description)
        );
        Self::new(StatusCode::UNAUTHORIZED, code, description).with_challenge(challenge)
    }

    /// 403 `insufficient_scope`, naming the scope needed (RFC 6750 §3.1).
    #[must_use]
    pub fn insufficient_scope(needed: &str) -> Self {
        let mut error = Self::bearer(
            Some(ErrorCode::InsufficientScope),
            &format!("this request needs the scope {needed}"),
        );
        error.www_authenticate = error
            .www_authenticate
            .map(|c| format!("{c}, scope=\"{needed}\""));
        error
    }

    /// The error code.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        self.body.error
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::of_kind(error.kind(), &error)
    }
}

impl ApiError {
    /// The answer to an error of `kind`: its message for the caller's mistakes (400, 409, 403),
    /// a fixed one for unknown resources (404, so ids do not leak), the logged cause never for
    /// failures of ours (503, 500).
    #[must_use]
    pub fn of_kind(kind: ErrorKind, error: &dyn std::fmt::Display) -> Self {
        match kind {
            ErrorKind::Invalid => Self::bad_request(error.to_string()),
            ErrorKind::NotFound => Self::not_found(),
            ErrorKind::Conflict => {
                Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, error.to_string())
            }
            ErrorKind::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                ErrorCode::AccessDenied,
                error.to_string(),
            ),
            ErrorKind::Unavailable => Self::unavailable(error),
            ErrorKind::Internal => Self::internal(error),
        }
    }
}

/// Every core error that knows its kind becomes an answer through [`ApiError::of_kind`].
macro_rules! from_kind {
    ($($error:ty),* $(,)?) => {
        $(
            impl From<$error> for ApiError {
                fn from(error: $error) -> Self {
                    Self::of_kind(error.kind(), &error)
                }
            }
        )*
    };
}

from_kind!(ClientRuleError, NewUserError, UserOpError, BankError);

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        let code = error.code();
        match (code, &error) {
            (ErrorCode::InvalidClient, TokenError::ClientAuthFailed { basic }) => {
                let error = Self::new(StatusCode::UNAUTHORIZED, code, error.to_string());
                if *basic {
                    error.with_challenge(format!("Basic realm=\"{REALM}\""))
                } else {
                    error
                }
            }
            (_, TokenError::Dpop(DpopError::UseNonce(nonce))) => {
                let nonce = nonce.clone();
                Self::new(StatusCode::BAD_REQUEST, code, error.to_string()).with_dpop_nonce(nonce)
            }
            (ErrorCode::TemporarilyUnavailable, _) => Self::unavailable(&error),
            (ErrorCode::ServerError, _) => Self::internal(&error),
            _ => Self::new(StatusCode::BAD_REQUEST, code, error.to_string()),
        }
    }
}

impl From<AccessError> for ApiError {
    /// A token refused under the `Bearer` scheme; see [`ApiError::refused_dpop`] for `DPoP`.
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::Store(store) => store.into(),
            // Tell the client which scheme the token needs.
            AccessError::BoundTokenAsBearer => {
                Self::dpop(ErrorCode::InvalidToken, &error.to_string())
            }
            other => Self::bearer(Some(ErrorCode::InvalidToken), &other.to_string()),
        }
    }
}

impl ApiError {
    /// A token refused under the `DPoP` scheme (RFC 9449 §7.1): a `DPoP` challenge, with
    /// `invalid_dpop_proof` when the proof is at fault and a fresh nonce when one is needed.
    #[must_use]
    pub fn refused_dpop(error: AccessError) -> Self {
        match error {
            AccessError::Store(store) => store.into(),
            AccessError::Dpop(DpopError::UseNonce(nonce)) => Self::dpop(
                ErrorCode::UseDpopNonce,
                "the resource server requires a fresh DPoP nonce",
            )
            .with_dpop_nonce(nonce),
            AccessError::NotBound => {
                Self::bearer(Some(ErrorCode::InvalidToken), &error.to_string())
            }
            AccessError::Dpop(_) | AccessError::KeyMismatch => {
                Self::dpop(ErrorCode::InvalidDpopProof, &error.to_string())
            }
            other => Self::dpop(ErrorCode::InvalidToken, &other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if let Some(challenge) = self
            .www_authenticate
            .and_then(|c| HeaderValue::try_from(c).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(nonce) = self.dpop_nonce.and_then(|n| HeaderValue::try_from(n).ok()) {
            headers.insert(crate::dpop::NONCE_HEADER, nonce);
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
