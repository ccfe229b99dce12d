//! Token introspection (RFC 7662).

use portcullis_proto::Secret;
use portcullis_proto::token::IntrospectionResponse;

use super::access::{self, AccessError};
use super::client_auth::{AuthMethod, AuthenticatedClient};
use super::{Context, TokenError};
use crate::hash::SecretHash;

/// Reports whether `token` is active and, if so, what it grants. Access tokens are reported to
/// any confidential client (resource servers introspect tokens issued to others); refresh
/// tokens only to the client they belong to. A storage failure is an error, never a guess.
///
/// # Errors
/// [`TokenError::ClientAuthFailed`] for a public client (it has no credentials to prove it is
/// a resource server), or a storage failure.
pub async fn introspect(
    ctx: &Context<'_>,
    client: &AuthenticatedClient,
    token: &Secret,
) -> Result<IntrospectionResponse, TokenError> {
    if client.method == AuthMethod::None {
        return Err(TokenError::ClientAuthFailed { basic: false });
    }
    let token = token.expose();
    if token.matches('.').count() == 2 {
        return match access::check(ctx, token).await {
            Ok(claims) => Ok(IntrospectionResponse {
                active: true,
                scope: Some(claims.scope),
                client_id: Some(claims.client_id),
                // RFC 7662 §2.2: the type of RFC 6749 §5.1; RFC 9449 §6.2: `DPoP` and `cnf`.
                token_type: Some(
                    if claims.cnf.is_some() {
                        "DPoP"
                    } else {
                        "Bearer"
                    }
                    .into(),
                ),
                exp: Some(claims.exp),
                iat: Some(claims.iat),
                sub: Some(claims.sub),
                aud: Some(claims.aud),
                iss: Some(claims.iss),
                jti: Some(claims.jti),
                cnf: claims
                    .cnf
                    .map(|c| portcullis_proto::token::Confirmation { jkt: c.jkt }),
                profile: claims.profile,
            }),
            Err(AccessError::Store(error)) => Err(TokenError::Store(error)),
            Err(_) => Ok(IntrospectionResponse::default()),
        };
    }
    let now = ctx.clock.now();
    let Some(record) = ctx.store.refresh_token(&SecretHash::of(token)).await? else {
        return Ok(IntrospectionResponse::default());
    };
    if record.client_id != client.client.id
        || record.rotated_at.is_some()
        || record.expires_at <= now
    {
        return Ok(IntrospectionResponse::default());
    }
    let Some(grant) = ctx
        .store
        .grant(&record.grant_id)
        .await?
        .filter(|g| g.revoked_at.is_none())
    else {
        return Ok(IntrospectionResponse::default());
    };
    Ok(IntrospectionResponse {
        active: true,
        scope: Some(record.scope.to_string()),
        client_id: Some(record.client_id.to_string()),
        // A refresh token has no RFC 6749 §5.1 type.
        token_type: None,
        exp: Some(record.expires_at.0),
        iat: Some(record.created_at.0),
        sub: Some(grant.user_id.to_string()),
        aud: None,
        iss: Some(ctx.settings.issuer.clone()),
        jti: None,
        cnf: record
            .jkt
            .map(|jkt| portcullis_proto::token::Confirmation { jkt }),
        profile: grant.profile_id.map(|p| p.to_string()),
    })
}
