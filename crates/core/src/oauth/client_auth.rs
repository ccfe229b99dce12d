//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`, and `none` for public clients.

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
) -> Result<AuthenticatedClient, TokenError> {
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
    let accepted = client.enabled
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
