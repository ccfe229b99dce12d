//! Client authentication at the token, pushed authorization request, introspection and
//! revocation endpoints (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`,
//! `private_key_jwt` (RFC 7523, [`super::assertion`]), and `none` for public clients.

use std::sync::Arc;

use portcullis_proto::{ClientId, Secret};

use super::TokenError;
use crate::client::{Client, ClientKind};
use crate::client_cache::ClientLookup;
use crate::time::Clock;

/// HTTP Basic credentials, already base64- and URL-decoded (RFC 6749 §2.3.1).
#[derive(Debug, Clone)]
pub struct BasicCredentials {
    /// The client id.
    pub client_id: String,
    /// The secret.
    pub secret: Secret,
}

/// The credentials a request carried. Empty body parameters must already be dropped
/// (RFC 6749 §3.1: empty means absent).
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    /// From the `Authorization: Basic` header. `Some(Err(()))` when the header was Basic but
    /// malformed.
    pub basic: Option<Result<BasicCredentials, ()>>,
    /// `client_id` from the body.
    pub client_id: Option<String>,
    /// `client_secret` from the body.
    pub client_secret: Option<Secret>,
    /// `client_assertion_type` from the body.
    pub assertion_type: Option<String>,
    /// `client_assertion` from the body.
    pub assertion: Option<Secret>,
}

impl ClientCredentials {
    /// The same credentials with the body's `client_assertion_type` and `client_assertion`
    /// (empty counts as absent).
    #[must_use]
    pub fn with_assertion(mut self, kind: Option<&String>, assertion: Option<&Secret>) -> Self {
        self.assertion_type = kind.filter(|v| !v.is_empty()).cloned();
        self.assertion = assertion.filter(|v| !v.is_empty()).cloned();
        self
    }
}

/// What a `private_key_jwt` assertion is checked against at this endpoint.
#[derive(Clone, Copy)]
pub struct AssertionCheck<'a> {
    /// Where each assertion's `jti` is spent.
    pub replay: &'a dyn crate::store::ReplayStore,
    /// What `aud` may be: the issuer identifier and this endpoint's URL.
    pub audiences: &'a [&'a str],
}

/// What a client assertion's `aud` may be at the endpoint at `path` of `issuer`: the issuer
/// identifier (FAPI 2.0 §5.3.2.1 requires it be accepted) or the endpoint's URL (RFC 7523 §3).
#[must_use]
pub fn assertion_audiences(issuer: &str, path: &str) -> [String; 2] {
    [
        issuer.to_owned(),
        format!("{}{path}", issuer.trim_end_matches('/')),
    ]
}

impl std::fmt::Debug for AssertionCheck<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionCheck")
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

/// How the client authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`.
    Post,
    /// `none`: a public client identified by `client_id`.
    None,
    /// `private_key_jwt` (RFC 7523): an assertion signed by a registered key.
    PrivateKeyJwt,
}

/// A client whose credentials checked out.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    /// The client.
    pub client: Arc<Client>,
    /// How it authenticated.
    pub method: AuthMethod,
}

/// Authenticates the client of a request. Exactly one method may be used; a disabled or
/// unknown client, a wrong secret, or a confidential client without a secret all fail alike,
/// so the answer does not tell which.
///
/// # Errors
/// [`TokenError::MultipleAuthMethods`], [`TokenError::Malformed`] (ids that disagree),
/// [`TokenError::ClientAuthFailed`], or a storage error.
pub async fn authenticate(
    clients: &dyn ClientLookup,
    clock: &dyn Clock,
    credentials: ClientCredentials,
    assertions: &AssertionCheck<'_>,
) -> Result<AuthenticatedClient, TokenError> {
    if credentials.assertion.is_some() || credentials.assertion_type.is_some() {
        return by_assertion(clients, clock, credentials, assertions).await;
    }
    let (id, secret, method) = match credentials.basic {
        Some(Err(())) => return Err(TokenError::ClientAuthFailed { basic: true }),
        Some(Ok(basic)) => {
            if credentials.client_secret.is_some() {
                return Err(TokenError::MultipleAuthMethods);
            }
            if credentials
                .client_id
                .as_deref()
                .is_some_and(|id| id != basic.client_id)
            {
                return Err(TokenError::Malformed(
                    "client_id in the body differs from the one in the Authorization header".into(),
                ));
            }
            (basic.client_id, Some(basic.secret), AuthMethod::Basic)
        }
        None => match (credentials.client_id, credentials.client_secret) {
            (Some(id), Some(secret)) => (id, Some(secret), AuthMethod::Post),
            (Some(id), None) => (id, None, AuthMethod::None),
            (None, _) => return Err(TokenError::ClientAuthFailed { basic: false }),
        },
    };
    let failed = TokenError::ClientAuthFailed {
        basic: method == AuthMethod::Basic,
    };
    let Some(client) = clients.find_client(&ClientId::new(id)).await? else {
        return Err(failed);
    };
    // A client that registered keys authenticates with them only (no downgrade to a secret).
    let accepted = client.enabled
        && client.jwks.is_none()
        && match (&secret, client.kind) {
            (Some(secret), ClientKind::Confidential) => {
                client.secrets.accepts(secret.expose(), clock.now())
            }
            (None, ClientKind::Public) => true,
            // A public client has no secret to present; a confidential one must present it.
            (Some(_), ClientKind::Public) | (None, ClientKind::Confidential) => false,
        };
    if accepted {
        Ok(AuthenticatedClient { client, method })
    } else {
        Err(failed)
    }
}

/// `private_key_jwt`: the client the assertion names, if it verifies (RFC 7523 §3).
async fn by_assertion(
    clients: &dyn ClientLookup,
    clock: &dyn Clock,
    credentials: ClientCredentials,
    check: &AssertionCheck<'_>,
) -> Result<AuthenticatedClient, TokenError> {
    use super::assertion;
    if credentials.basic.is_some() || credentials.client_secret.is_some() {
        return Err(TokenError::MultipleAuthMethods);
    }
    if credentials.assertion_type.as_deref() != Some(assertion::ASSERTION_TYPE) {
        return Err(TokenError::Malformed(format!(
            "client_assertion_type must be {}",
            assertion::ASSERTION_TYPE
        )));
    }
    let jwt = credentials
        .assertion
        .ok_or(TokenError::MissingParameter("client_assertion"))?;
    let failed = TokenError::ClientAuthFailed { basic: false };
    let claimed = assertion::claimed_client(jwt.expose())
        .ok_or(TokenError::ClientAuthFailed { basic: false })?;
    if credentials
        .client_id
        .as_deref()
        .is_some_and(|id| id != claimed)
    {
        return Err(TokenError::Malformed(
            "client_id differs from the client assertion's iss".into(),
        ));
    }
    let Some(client) = clients
        .find_client(&ClientId::new(claimed))
        .await?
        .filter(|c| c.enabled && c.kind == ClientKind::Confidential)
    else {
        return Err(failed);
    };
    let expected = assertion::Expected {
        audiences: check.audiences,
        now: clock.now(),
    };
    match assertion::verify(&client, jwt.expose(), &expected, check.replay).await {
        Ok(()) => Ok(AuthenticatedClient {
            client,
            method: AuthMethod::PrivateKeyJwt,
        }),
        Err(assertion::AssertionError::Store(error)) => Err(error.into()),
        Err(why) => {
            tracing::info!(client = %client.id, reason = %why, "client assertion refused");
            Err(failed)
        }
    }
}
