//! Token revocation (RFC 7009).

use portcullis_proto::Secret;

use super::client_auth::AuthenticatedClient;
use super::issue::AccessTokenClaims;
use super::{Context, TokenError};
use crate::audit::AuditKind;
use crate::hash::SecretHash;
use crate::jwt::{self, JwtKind};

/// Revokes `token` if it belongs to the calling client: a refresh token ends its whole grant;
/// an access token is recorded as revoked until it would have expired. Unknown tokens, and
/// tokens of other clients, are answered the same way (RFC 7009 §2.2), so the endpoint tells
/// nobody whether a token exists.
///
/// # Errors
/// A storage failure: the caller must not report success.
pub async fn revoke(
    ctx: &Context<'_>,
    client: &AuthenticatedClient,
    token: &Secret,
) -> Result<(), TokenError> {
    let now = ctx.clock.now();
    let token = token.expose();
    if token.matches('.').count() == 2 {
        if let Ok((claims, _)) =
            jwt::verify::<AccessTokenClaims>(ctx.keys, now, JwtKind::AccessToken, token)
            && claims.client_id == client.client.id.as_str()
            && claims.exp > now.0
        {
            ctx.store
                .revoke_access_token(&claims.jti, crate::time::UnixTime(claims.exp))
                .await?;
            let mut event = ctx
                .event(
                    AuditKind::TokenRevoked,
                    format!("client:{}", client.client.id),
                )
                .client(&client.client.id)
                .detail(serde_json::json!({ "token": "access_token", "jti": claims.jti }));
            if let Some(gid) = &claims.gid {
                event = event.user(&portcullis_proto::UserId::new(claims.sub.clone()));
                event.detail["grant"] = serde_json::Value::String(gid.clone());
            }
            ctx.record(event);
        }
        return Ok(());
    }
    if let Some(record) = ctx.store.refresh_token(&SecretHash::of(token)).await?
        && record.client_id == client.client.id
    {
        ctx.store.revoke_grant(&record.grant_id, now).await?;
        ctx.record(
            ctx.event(
                AuditKind::TokenRevoked,
                format!("client:{}", client.client.id),
            )
            .client(&client.client.id)
            .detail(serde_json::json!({ "token": "refresh_token", "grant": record.grant_id })),
        );
    }
    Ok(())
}
