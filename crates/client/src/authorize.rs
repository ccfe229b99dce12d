//! The authorization request (RFC 6749 §4.1.1 with PKCE, RFC 7636) and the checks on its
//! response (RFC 6749 §4.1.2, RFC 9207).

use portcullis_proto::{ScopeSet, Secret};
use serde::{Deserialize, Serialize};
use url::Url;

/// Everything an app must keep between sending the user to the authorization server and the
/// callback: the URL to redirect to, and the `state`, `nonce` and PKCE verifier that the
/// callback is checked against.
///
/// Store it in the user's session (it is `Serialize`/`Deserialize`); it contains the PKCE
/// verifier, so keep it server-side or in an encrypted cookie, never in a plain one. `Debug`
/// redacts the verifier.
///
/// ```no_run
/// # async fn run(client: portcullis_client::Client) -> Result<(), portcullis_client::Error> {
/// let pending = client.authorize("wallet:read profile:read")?;
/// let json = serde_json::to_string(&pending).expect("serializable"); // into the session
/// let redirect_to = pending.url(); // 303 the browser here
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    pub(crate) url: String,
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) code_verifier: Secret,
    pub(crate) redirect_uri: String,
    pub(crate) scope: ScopeSet,
    pub(crate) issuer: String,
    pub(crate) client_id: String,
}

impl PendingAuthorization {
    /// The authorization URL to send the user's browser to.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `state` sent with the request (checked at the callback).
    #[must_use]
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The `nonce` sent with the request (checked in the ID token).
    #[must_use]
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The scope asked for.
    #[must_use]
    pub fn scope(&self) -> &ScopeSet {
        &self.scope
    }

    /// The redirect URI the response comes back to.
    #[must_use]
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }
}

/// Optional parameters of an authorization request.
///
/// ```
/// use portcullis_client::AuthorizeOptions;
///
/// let options = AuthorizeOptions {
///     prompt: Some("consent".into()),
///     ..AuthorizeOptions::default()
/// };
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeOptions {
    /// `prompt` (OpenID Connect Core §3.1.2.1; Portcullis also knows `create`).
    pub prompt: Option<String>,
    /// `login_hint`: the email to pre-fill.
    pub login_hint: Option<String>,
    /// Another redirect URI than the client's configured one.
    pub redirect_uri: Option<String>,
    /// Further parameters, appended as given.
    pub extra: Vec<(String, String)>,
}

/// The parameters of an authorization response, as they arrive on the redirect URI.
///
/// ```
/// use portcullis_client::CallbackParams;
///
/// let params = CallbackParams::from_query("code=abc&state=xyz&iss=https%3A%2F%2Fauth.example")
///     .expect("well-formed");
/// assert_eq!(params.state.as_deref(), Some("xyz"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CallbackParams {
    /// `code`.
    pub code: Option<Secret>,
    /// `state`.
    pub state: Option<String>,
    /// `iss` (RFC 9207).
    pub iss: Option<String>,
    /// `error`.
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// `error_uri`.
    pub error_uri: Option<String>,
}

impl CallbackParams {
    /// Parses the query string of the callback request (without the leading `?`).
    ///
    /// # Errors
    /// [`CallbackError::Malformed`] when a parameter appears twice (RFC 6749 §3.1).
    pub fn from_query(query: &str) -> Result<Self, CallbackError> {
        let mut params = Self::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let value = value.into_owned();
            let slot = match name.as_ref() {
                "code" => {
                    if params.code.is_some() {
                        return Err(CallbackError::Malformed("code appears twice".into()));
                    }
                    params.code = Some(Secret::new(value));
                    continue;
                }
                "state" => &mut params.state,
                "iss" => &mut params.iss,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                "error_uri" => &mut params.error_uri,
                _ => continue,
            };
            if slot.is_some() {
                return Err(CallbackError::Malformed(format!("{name} appears twice")));
            }
            *slot = Some(value);
        }
        Ok(params)
    }

    /// Parses the query of the full callback URL.
    ///
    /// # Errors
    /// See [`CallbackParams::from_query`].
    pub fn from_url(url: &Url) -> Result<Self, CallbackError> {
        Self::from_query(url.query().unwrap_or_default())
    }
}

/// An authorization code that passed the callback checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode(pub Secret);

/// An error code of an authorization error response (RFC 6749 §4.1.2.1, OpenID Connect Core
/// §3.1.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizationErrorCode {
    /// The user (or the server) denied the request.
    AccessDenied,
    /// The request is missing a parameter or is malformed.
    InvalidRequest,
    /// The client may not use this flow.
    UnauthorizedClient,
    /// The server does not support `response_type=code` for this client.
    UnsupportedResponseType,
    /// A requested scope is invalid or unknown.
    InvalidScope,
    /// The server failed.
    ServerError,
    /// The server is overloaded or down for maintenance: try later.
    TemporarilyUnavailable,
    /// `prompt=none`, but the user must log in.
    LoginRequired,
    /// `prompt=none`, but the user must consent.
    ConsentRequired,
    /// `prompt=none`, but the user must interact.
    InteractionRequired,
    /// Another code.
    Other(String),
}

impl AuthorizationErrorCode {
    /// The code for its wire spelling.
    #[must_use]
    pub fn parse(code: &str) -> Self {
        match code {
            "access_denied" => Self::AccessDenied,
            "invalid_request" => Self::InvalidRequest,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_response_type" => Self::UnsupportedResponseType,
            "invalid_scope" => Self::InvalidScope,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            "login_required" => Self::LoginRequired,
            "consent_required" => Self::ConsentRequired,
            "interaction_required" => Self::InteractionRequired,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire spelling.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::AccessDenied => "access_denied",
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::Other(code) => code,
        }
    }
}

impl std::fmt::Display for AuthorizationErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an authorization response was not a usable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The server answered with an error (RFC 6749 §4.1.2.1); `access_denied` when the user
    /// clicked "deny".
    #[error("authorization failed: {code}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Authorization {
        /// The error code.
        code: AuthorizationErrorCode,
        /// The server's description.
        description: Option<String>,
        /// The server's `error_uri`.
        uri: Option<String>,
    },
    /// `state` is missing or is not the one sent: a forged or replayed response (CSRF,
    /// RFC 6749 §10.12).
    #[error("the state does not match the request; the response is refused")]
    StateMismatch,
    /// `iss` names another server than the one the request went to: a mix-up attack
    /// (RFC 9207 §2.4).
    #[error("the response was issued by {found:?}, not {expected}")]
    IssuerMismatch {
        /// The issuer the request went to.
        expected: String,
        /// The `iss` of the response.
        found: String,
    },
    /// `iss` is missing although the server announces it in every response (RFC 9207 §2.4).
    #[error("the response has no iss although the server always sends one")]
    MissingIssuer,
    /// A success response without `code`.
    #[error("the response has neither code nor error")]
    MissingCode,
    /// A parameter appears twice.
    #[error("malformed authorization response: {0}")]
    Malformed(String),
    /// The pending authorization belongs to another client or issuer.
    #[error("this pending authorization was made by another client or for another issuer")]
    WrongClient,
}

impl CallbackError {
    /// Whether the user denied the request (`error=access_denied`).
    #[must_use]
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self,
            Self::Authorization {
                code: AuthorizationErrorCode::AccessDenied,
                ..
            }
        )
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// Checks `params` against `pending`: `iss` first (a response from another server is not
/// trusted for anything), then `state`, then the error, then the code.
pub(crate) fn validate(
    pending: &PendingAuthorization,
    params: &CallbackParams,
    iss_required: bool,
) -> Result<AuthorizationCode, CallbackError> {
    match &params.iss {
        Some(iss) if *iss != pending.issuer => {
            return Err(CallbackError::IssuerMismatch {
                expected: pending.issuer.clone(),
                found: iss.clone(),
            });
        }
        None if iss_required => return Err(CallbackError::MissingIssuer),
        _ => {}
    }
    if !params
        .state
        .as_deref()
        .is_some_and(|s| constant_time_eq(s, &pending.state))
    {
        return Err(CallbackError::StateMismatch);
    }
    if let Some(error) = &params.error {
        return Err(CallbackError::Authorization {
            code: AuthorizationErrorCode::parse(error),
            description: params.error_description.clone(),
            uri: params.error_uri.clone(),
        });
    }
    match &params.code {
        Some(code) if !code.is_empty() => Ok(AuthorizationCode(code.clone())),
        _ => Err(CallbackError::MissingCode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> PendingAuthorization {
        PendingAuthorization {
            url: "https://as.example/authorize".into(),
            state: "s1".into(),
            nonce: "n1".into(),
            code_verifier: Secret::new("verifier-SECRET"),
            redirect_uri: "https://app.example/cb".into(),
            scope: ScopeSet::parse("a b").unwrap_or_default(),
            issuer: "https://as.example".into(),
            client_id: "c".into(),
        }
    }

    fn check(query: &str) -> Result<AuthorizationCode, CallbackError> {
        validate(&pending(), &CallbackParams::from_query(query)?, true)
    }

    #[test]
    fn a_matching_response_yields_the_code() {
        let code = check("code=abc&state=s1&iss=https%3A%2F%2Fas.example");
        assert_eq!(code, Ok(AuthorizationCode(Secret::new("abc"))));
    }

    #[test]
    fn access_denied_is_typed() {
        let error =
            check("error=access_denied&error_description=no&state=s1&iss=https%3A%2F%2Fas.example")
                .err();
        assert!(
            error.as_ref().is_some_and(CallbackError::is_access_denied),
            "{error:?}"
        );
    }

    #[test]
    fn every_rfc_6749_code_maps_to_its_variant() {
        for code in [
            "invalid_request",
            "unauthorized_client",
            "access_denied",
            "unsupported_response_type",
            "invalid_scope",
            "server_error",
            "temporarily_unavailable",
        ] {
            let parsed = AuthorizationErrorCode::parse(code);
            assert!(
                !matches!(parsed, AuthorizationErrorCode::Other(_)),
                "{code}"
            );
            assert_eq!(parsed.as_str(), code);
        }
    }

    #[test]
    fn wrong_state_is_refused_even_for_errors() {
        assert_eq!(
            check("code=abc&state=s2&iss=https%3A%2F%2Fas.example"),
            Err(CallbackError::StateMismatch)
        );
        assert_eq!(
            check("error=access_denied&iss=https%3A%2F%2Fas.example"),
            Err(CallbackError::StateMismatch)
        );
    }

    #[test]
    fn another_issuer_or_none_is_refused() {
        assert!(matches!(
            check("code=abc&state=s1&iss=https%3A%2F%2Fevil.example"),
            Err(CallbackError::IssuerMismatch { .. })
        ));
        assert_eq!(
            check("code=abc&state=s1"),
            Err(CallbackError::MissingIssuer)
        );
        assert!(
            validate(
                &pending(),
                &CallbackParams::from_query("code=abc&state=s1").unwrap_or_default(),
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn repeated_parameters_and_missing_code_are_refused() {
        assert!(matches!(
            check("code=a&code=b&state=s1"),
            Err(CallbackError::Malformed(_))
        ));
        assert_eq!(
            check("code=&state=s1&iss=https%3A%2F%2Fas.example"),
            Err(CallbackError::MissingCode)
        );
    }

    #[test]
    fn debug_redacts_the_verifier() {
        assert!(!format!("{:?}", pending()).contains("SECRET"));
    }
}
