//! Pushed authorization requests (RFC 9126): a client posts its authorization request to the
//! server first, authenticated as at the token endpoint, and sends the browser to the
//! authorization endpoint with only the `request_uri` it got back. The request is validated
//! when pushed, exactly as the authorization endpoint validates it, so a bad one is refused
//! before any browser is involved; it is stored (so any node can redeem it), redeemed once, and
//! validated again then against the client as it is registered at that moment.

use portcullis_proto::{ErrorCode, Secret};

use super::Context;
use super::authorize::{self, AuthorizeError, PageError};
use super::client_auth::AuthenticatedClient;
use crate::client_cache::ClientLookup;
use crate::hash::SecretHash;
use crate::random::{RandomError, new_secret};
use crate::store::{PushedRequestRecord, StoreError};

/// What every `request_uri` starts with (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// The default lifetime of a pushed request, seconds.
pub const DEFAULT_TTL: i64 = 60;
/// The longest lifetime a deployment may configure (RFC 9126 §2.2: short-lived).
pub const MAX_TTL: i64 = 600;
/// The most parameters a pushed request may carry (they are stored).
pub const MAX_PARAMS: usize = 32;
/// The longest a pushed request's parameters may be in all, bytes.
pub const MAX_PARAMS_LEN: usize = 16 * 1024;

/// A stored request's `request_uri` and how long it lives.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// `urn:ietf:params:oauth:request_uri:` and 256 random bits.
    pub request_uri: Secret,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// Why a push was refused: RFC 9126 §2.3, the codes of the authorization endpoint as a JSON
/// error.
#[derive(Debug, thiserror::Error)]
pub enum ParError {
    /// The request is not acceptable; `code` is what the authorization endpoint would say.
    #[error("{description}")]
    Refused {
        /// The error code.
        code: ErrorCode,
        /// Why, for the developer.
        description: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// The first non-empty value of `name`.
fn value(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(n, v)| n == name && !v.is_empty())
        .map(|(_, v)| v.clone())
}

fn invalid(description: impl Into<String>) -> ParError {
    ParError::Refused {
        code: ErrorCode::InvalidRequest,
        description: description.into(),
    }
}

/// Validates and stores the authorization request `params` of `client`. A DPoP proof at the
/// push binds the code to its key, as `dpop_jkt` does (RFC 9449 §10.1).
///
/// # Errors
/// [`ParError::Refused`] with the authorization endpoint's error for a bad request;
/// `request_uri` in a pushed request, a `client_id` of another client, or a `dpop_jkt` of
/// another key than the proof's are `invalid_request`.
pub async fn push(
    ctx: &Context<'_>,
    clients: &dyn ClientLookup,
    client: &AuthenticatedClient,
    mut params: Vec<(String, String)>,
    proof_jkt: Option<&str>,
) -> Result<Pushed, ParError> {
    // The client's secret is for authentication, never part of the stored request.
    params.retain(|(name, _)| {
        !matches!(
            name.as_str(),
            "client_secret" | "client_assertion" | "client_assertion_type"
        )
    });
    if params.len() > MAX_PARAMS
        || params.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>() > MAX_PARAMS_LEN
    {
        return Err(invalid(
            "the pushed request has too many or too long parameters",
        ));
    }
    if value(&params, "request_uri").is_some() {
        return Err(invalid(
            "request_uri cannot be part of a pushed authorization request (RFC 9126 §2.1)",
        ));
    }
    let client_id = client.client.id.as_str();
    match value(&params, "client_id") {
        Some(named) if named != client_id => {
            return Err(invalid("client_id is not the authenticated client"));
        }
        Some(_) => {}
        None => params.push(("client_id".into(), client_id.to_owned())),
    }
    if let Some(jkt) = proof_jkt {
        match value(&params, "dpop_jkt") {
            Some(named) if named != jkt => {
                return Err(invalid(
                    "dpop_jkt is not the thumbprint of the DPoP proof's key",
                ));
            }
            Some(_) => {}
            None => params.push(("dpop_jkt".into(), jkt.to_owned())),
        }
    }
    match authorize::validate_params(ctx, clients, &params, true).await {
        Ok(_) => {}
        Err(AuthorizeError::Page(page)) => return Err(invalid(page.to_string())),
        Err(AuthorizeError::Redirect(redirect)) => {
            return Err(ParError::Refused {
                code: redirect.error,
                description: redirect.description,
            });
        }
        Err(AuthorizeError::Store(error)) => return Err(error.into()),
        Err(AuthorizeError::Random(error)) => return Err(error.into()),
    }
    let request_uri = Secret::new(format!(
        "{REQUEST_URI_PREFIX}{}",
        new_secret(ctx.random)?.expose()
    ));
    let now = ctx.clock.now();
    let ttl = ctx.settings.pushed_request_ttl;
    ctx.store
        .insert_pushed_request(&PushedRequestRecord {
            id_hash: SecretHash::of(request_uri.expose()),
            client_id: client.client.id.clone(),
            params,
            created_at: now,
            expires_at: now.plus(ttl),
        })
        .await?;
    Ok(Pushed {
        request_uri,
        expires_in: ttl,
    })
}

/// The parameters pushed under `request_uri` for the request's `client_id`, taken: a
/// `request_uri` works once.
///
/// # Errors
/// [`PageError::MissingClientId`] without `client_id`, [`PageError::UnknownPushedRequest`]
/// for a `request_uri` that is unknown, expired, used, or another client's; storage errors.
pub(crate) async fn redeem(
    ctx: &Context<'_>,
    client_id: Option<&str>,
    request_uri: &str,
) -> Result<Vec<(String, String)>, AuthorizeError> {
    let client_id = client_id.ok_or(PageError::MissingClientId)?;
    if !request_uri.starts_with(REQUEST_URI_PREFIX) {
        return Err(PageError::UnknownPushedRequest.into());
    }
    let record = ctx
        .store
        .take_pushed_request(&SecretHash::of(request_uri), ctx.clock.now())
        .await?
        .filter(|r| r.client_id.as_str() == client_id)
        .ok_or(PageError::UnknownPushedRequest)?;
    Ok(record.params)
}
