//! The refresh token grant (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2).

use portcullis_proto::Secret;

use super::requested_scope;
use crate::audit::AuditKind;
use crate::client::Client;
use crate::hash::SecretHash;
use crate::oauth::issue::{Issued, Subject, access_token};
use crate::oauth::{Context, TokenError};
use crate::random::new_secret;
use crate::store::RefreshTokenRecord;

/// Exchanges a refresh token for a new access token and a new refresh token. The old token is
/// spent; presenting it again revokes the whole grant. A narrower scope may be asked for (the
/// new refresh token keeps the original scope, RFC 6749 §6); scopes the client is no longer
/// allowed are dropped from the access token.
///
/// # Errors
/// [`TokenError::RefreshTokenInvalid`], [`TokenError::RefreshTokenReused`],
/// [`TokenError::ScopeExceedsGrant`], [`TokenError::UserUnavailable`], or a storage or
/// signing failure.
pub async fn refresh(
    ctx: &Context<'_>,
    client: &Client,
    token: &Secret,
    scope: Option<&str>,
    jkt: Option<&str>,
) -> Result<Issued, TokenError> {
    let hash = SecretHash::of(token.expose());
    let now = ctx.clock.now();
    let record = ctx
        .store
        .refresh_token(&hash)
        .await?
        .ok_or(TokenError::RefreshTokenInvalid)?;
    // Bound to its client: for public clients the client id is the only binding.
    if record.client_id != client.id {
        return Err(TokenError::RefreshTokenInvalid);
    }
    let grant = ctx
        .store
        .grant(&record.grant_id)
        .await?
        .ok_or(TokenError::RefreshTokenInvalid)?;
    if grant.revoked_at.is_some() {
        return Err(TokenError::RefreshTokenInvalid);
    }
    if record.rotated_at.is_some() {
        return Err(reuse(ctx, &record).await);
    }
    if record.expires_at <= now {
        return Err(TokenError::RefreshTokenInvalid);
    }
    // A bound token needs a proof of its key; a refused proof spends nothing.
    super::check_binding(record.jkt.as_deref(), jkt, "refresh token")?;
    // A scope the client has since lost is no longer issued, whatever the grant says.
    let scope = requested_scope(scope, &record.scope, TokenError::ScopeExceedsGrant)?
        .unwrap_or_else(|| record.scope.clone())
        .intersection(&client.scopes);
    let user = ctx
        .store
        .user(&grant.user_id)
        .await?
        .filter(|u| !u.disabled);
    if user.is_none() {
        return Err(TokenError::UserUnavailable);
    }

    let successor = new_secret(ctx.random)?;
    let next = RefreshTokenRecord {
        hash: SecretHash::of(successor.expose()),
        grant_id: record.grant_id.clone(),
        client_id: client.id.clone(),
        scope: record.scope.clone(),
        created_at: now,
        expires_at: now.plus(client.refresh_token_ttl),
        rotated_at: None,
        // Once bound, always bound: the successor keeps the key.
        jkt: record
            .jkt
            .clone()
            .or_else(|| super::refresh_binding(client, jkt)),
    };
    if !ctx.store.rotate_refresh_token(&hash, now, &next).await? {
        let again = ctx
            .store
            .refresh_token(&hash)
            .await?
            .ok_or(TokenError::RefreshTokenInvalid)?;
        return Err(if again.rotated_at.is_some() {
            reuse(ctx, &again).await
        } else {
            TokenError::RefreshTokenInvalid
        });
    }
    let subject = Subject::User {
        user: grant.user_id.clone(),
        grant: grant.id.clone(),
        profile: grant.profile_id.clone(),
        auth_time: grant.auth_time,
    };
    let (access, expires_in) = access_token(ctx, client, &subject, &scope, jkt)?;
    Ok(Issued {
        access_token: access,
        expires_in,
        refresh_token: Some(successor),
        scope,
        id_token: None,
        user: Some(grant.user_id),
        profile: grant.profile_id,
        client_id: client.id.clone(),
        jkt: jkt.map(str::to_owned),
    })
}

/// A spent refresh token came back: someone holds a copy. Revoke the grant, so both the thief's
/// and the client's tokens stop working.
async fn reuse(ctx: &Context<'_>, record: &RefreshTokenRecord) -> TokenError {
    let actor = format!("client:{}", record.client_id);
    ctx.record(
        ctx.event(AuditKind::RefreshReuse, &actor)
            .client(&record.client_id)
            .failed()
            .detail(serde_json::json!({ "grant": record.grant_id })),
    );
    match ctx
        .store
        .revoke_grant(&record.grant_id, ctx.clock.now())
        .await
    {
        Ok(revoked) => {
            tracing::warn!(client = %record.client_id, grant = %record.grant_id, "refresh token reused; grant revoked");
            if revoked {
                ctx.record(
                    ctx.event(AuditKind::GrantRevoked, "system")
                        .client(&record.client_id)
                        .detail(serde_json::json!({ "grant": record.grant_id, "reason": "refresh_reuse" })),
                );
            }
            TokenError::RefreshTokenReused
        }
        Err(error) => TokenError::Store(error),
    }
}
