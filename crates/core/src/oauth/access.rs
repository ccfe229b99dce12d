//! Checking access tokens this server issued, for the resource API, userinfo, introspection and
//! revocation: signature, type, issuer, expiry, and whether they were revoked since.

use super::Context;
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
    /// Storage failed: the caller must deny, never allow.
    #[error(transparent)]
    Store(#[from] StoreError),
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
