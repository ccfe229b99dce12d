//! Checking access tokens this server issued, for the resource API, userinfo, introspection and
//! revocation: signature, type, issuer, expiry, whether they were revoked since, and the DPoP
//! key a bound token must be presented with.

use super::Context;
use super::dpop::{self, DpopError};
use super::issue::AccessTokenClaims;
use crate::jwt::{self, JwtKind, VerifyError};
use crate::store::StoreError;
use portcullis_proto::GrantId;

/// Why an access token is not honoured.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Not a token this server signed, or tampered with.
    #[error(transparent)]
    Invalid(#[from] VerifyError),
    /// Issued by another issuer.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// Past its expiry.
    #[error("the token has expired")]
    Expired,
    /// Revoked, or its grant or client was.
    #[error("the token has been revoked")]
    Revoked,
    /// A DPoP-bound token came under the `Bearer` scheme (RFC 9449 §7.1).
    #[error("the token is bound to a DPoP key: use the DPoP authorization scheme with a proof")]
    BoundTokenAsBearer,
    /// A token that is not DPoP-bound came under the `DPoP` scheme.
    #[error("the token is not bound to a DPoP key: use the Bearer authorization scheme")]
    NotBound,
    /// The DPoP proof is missing or refused.
    #[error(transparent)]
    Dpop(#[from] DpopError),
    /// The proof is signed with another key than the one the token is bound to.
    #[error("the DPoP proof is not signed with the key the token is bound to")]
    KeyMismatch,
    /// Storage failed: the caller must deny, never allow.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The authorization scheme a token came under (RFC 6750 §2.1, RFC 9449 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer`.
    Bearer,
    /// `Authorization: DPoP`, with a `DPoP` proof header.
    Dpop,
}

/// A token as a resource request presented it.
#[derive(Debug, Clone, Copy)]
pub struct PresentedToken<'a> {
    /// The scheme it came under.
    pub scheme: Scheme,
    /// The token.
    pub token: &'a str,
    /// Every `DPoP` header value of the request.
    pub proofs: &'a [String],
    /// The request's method.
    pub method: &'a str,
    /// The request's URI as this server is reached.
    pub uri: &'a str,
}

/// [`check`], and the token's binding: a DPoP-bound token only under the `DPoP` scheme, with a
/// proof of its key whose `ath` is the token's hash and whose `jti` is new (RFC 9449 §7); a
/// token that is not bound only under `Bearer`.
///
/// # Errors
/// See [`AccessError`].
pub async fn check_presented(
    ctx: &Context<'_>,
    presented: &PresentedToken<'_>,
) -> Result<AccessTokenClaims, AccessError> {
    let claims = check(ctx, presented.token).await?;
    match (presented.scheme, claims.jkt()) {
        (Scheme::Bearer, None) => Ok(claims),
        (Scheme::Bearer, Some(_)) => Err(AccessError::BoundTokenAsBearer),
        (Scheme::Dpop, None) => Err(AccessError::NotBound),
        (Scheme::Dpop, Some(jkt)) => {
            let proof = dpop::accept::<AccessError>(
                ctx,
                &dpop::Presented {
                    proofs: presented.proofs,
                    method: presented.method,
                    uri: presented.uri,
                    access_token: Some(presented.token),
                    nonce_required: false,
                },
            )
            .await?
            .ok_or(DpopError::Invalid(
                "a DPoP proof is required with the DPoP scheme",
            ))?;
            if proof.jkt == jkt {
                Ok(claims)
            } else {
                Err(AccessError::KeyMismatch)
            }
        }
    }
}

/// Verifies `token` and checks that it is still live: not expired, not revoked by itself, its
/// grant not revoked and its client still enabled.
///
/// # Errors
/// See [`AccessError`]; a storage failure is an error, so callers fail closed.
pub async fn check(ctx: &Context<'_>, token: &str) -> Result<AccessTokenClaims, AccessError> {
    let now = ctx.clock.now();
    let (claims, _) = jwt::verify::<AccessTokenClaims>(ctx.keys, now, JwtKind::AccessToken, token)?;
    if claims.iss != ctx.settings.issuer {
        return Err(AccessError::WrongIssuer);
    }
    if claims.exp <= now.0 {
        return Err(AccessError::Expired);
    }
    if ctx.store.is_access_token_revoked(&claims.jti).await? {
        return Err(AccessError::Revoked);
    }
    if let Some(gid) = &claims.gid {
        let live = ctx
            .store
            .grant(&GrantId::new(gid.clone()))
            .await?
            .is_some_and(|g| g.revoked_at.is_none());
        if !live {
            return Err(AccessError::Revoked);
        }
    }
    let client = ctx
        .store
        .client(&portcullis_proto::ClientId::new(claims.client_id.clone()))
        .await?;
    if !client.is_some_and(|c| c.enabled) {
        return Err(AccessError::Revoked);
    }
    Ok(claims)
}
