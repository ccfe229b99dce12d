//! Redeeming an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).

use portcullis_proto::{GrantId, Secret};

use crate::audit::AuditKind;
use crate::client::{Client, GrantType};
use crate::hash::SecretHash;
use crate::oauth::issue::{Authentication, Issued, Subject, access_token, id_token};
use crate::oauth::{Context, TokenError};
use crate::pkce;
use crate::random::{new_secret, new_uuid};
use crate::store::{CodeRecord, GrantRecord, RefreshTokenRecord};

/// Checks the code's bindings (client, redirect URI, PKCE, DPoP key), consumes it atomically, and issues
/// tokens. A code presented again revokes what its first redemption issued.
///
/// # Errors
/// [`TokenError::CodeInvalid`], [`TokenError::CodeAlreadyRedeemed`],
/// [`TokenError::RedirectUriMismatch`], the PKCE errors, [`TokenError::UserUnavailable`], or
/// a storage or signing failure.
pub async fn redeem(
    ctx: &Context<'_>,
    client: &Client,
    code: &Secret,
    redirect_uri: Option<&str>,
    verifier: Option<&Secret>,
    jkt: Option<&str>,
) -> Result<Issued, TokenError> {
    let hash = SecretHash::of(code.expose());
    let now = ctx.clock.now();
    let record = ctx
        .store
        .code(&hash)
        .await?
        .ok_or(TokenError::CodeInvalid)?;
    if record.client_id != client.id {
        return Err(TokenError::CodeInvalid);
    }
    if record.redeemed_at.is_some() {
        return Err(reuse(ctx, &record).await);
    }
    if record.expires_at <= now {
        return Err(TokenError::CodeInvalid);
    }
    check_redirect_uri(&record, redirect_uri)?;
    check_pkce(&record, verifier)?;
    super::check_binding(record.dpop_jkt.as_deref(), jkt, "authorization code")?;
    let user = ctx
        .store
        .user(&record.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(TokenError::UserUnavailable)?;

    let grant = GrantRecord {
        id: GrantId::new(new_uuid(ctx.random, ctx.clock.now_millis())?),
        user_id: record.user_id.clone(),
        client_id: client.id.clone(),
        scope: record.scope.clone(),
        profile_id: record.profile_id.clone(),
        auth_time: record.auth_time,
        created_at: now,
        revoked_at: None,
    };
    let refresh_secret = if client.allows_grant(GrantType::RefreshToken) {
        Some(new_secret(ctx.random)?)
    } else {
        None
    };
    let refresh = refresh_secret.as_ref().map(|secret| RefreshTokenRecord {
        hash: SecretHash::of(secret.expose()),
        grant_id: grant.id.clone(),
        client_id: client.id.clone(),
        scope: grant.scope.clone(),
        created_at: now,
        expires_at: now.plus(client.refresh_token_ttl),
        rotated_at: None,
        jkt: super::refresh_binding(client, jkt),
    });
    if !ctx
        .store
        .redeem_code(&hash, now, &grant, refresh.as_ref())
        .await?
    {
        // Lost a race, or expired in between: look again to tell reuse from expiry.
        let again = ctx
            .store
            .code(&hash)
            .await?
            .ok_or(TokenError::CodeInvalid)?;
        return Err(if again.redeemed_at.is_some() {
            reuse(ctx, &again).await
        } else {
            TokenError::CodeInvalid
        });
    }

    let subject = Subject::User {
        user: grant.user_id.clone(),
        grant: grant.id.clone(),
        profile: grant.profile_id.clone(),
        auth_time: grant.auth_time,
    };
    let (access, expires_in) = access_token(ctx, client, &subject, &grant.scope, jkt)?;
    let id_token = if grant.scope.contains("openid") {
        Some(id_token(
            ctx,
            client,
            &user,
            Authentication {
                auth_time: grant.auth_time,
                nonce: record.nonce.as_deref(),
                sid: record.sid.as_deref(),
            },
            &grant.scope,
            &access,
        )?)
    } else {
        None
    };
    Ok(Issued {
        access_token: access,
        expires_in,
        refresh_token: refresh_secret,
        scope: grant.scope,
        id_token,
        user: Some(grant.user_id),
        profile: grant.profile_id,
        client_id: client.id.clone(),
        jkt: jkt.map(str::to_owned),
    })
}

/// A second redemption: revoke what the first one issued (RFC 6749 §4.1.2).
async fn reuse(ctx: &Context<'_>, record: &CodeRecord) -> TokenError {
    let actor = format!("client:{}", record.client_id);
    ctx.record(
        ctx.event(AuditKind::CodeReuse, &actor)
            .client(&record.client_id)
            .user(&record.user_id)
            .failed()
            .detail(serde_json::json!({ "grant": record.grant_id })),
    );
    if let Some(grant) = &record.grant_id {
        match ctx.store.revoke_grant(grant, ctx.clock.now()).await {
            Ok(revoked) => {
                tracing::warn!(client = %record.client_id, grant = %grant, "authorization code reused; grant revoked");
                if revoked {
                    ctx.record(
                        ctx.event(AuditKind::GrantRevoked, "system")
                            .client(&record.client_id)
                            .user(&record.user_id)
                            .detail(serde_json::json!({ "grant": grant, "reason": "code_reuse" })),
                    );
                }
            }
            Err(error) => return TokenError::Store(error),
        }
    }
    TokenError::CodeAlreadyRedeemed
}

/// `redirect_uri` is required when the authorization request had it, and must be identical
/// (RFC 6749 §4.1.3); when sent anyway it must match too.
fn check_redirect_uri(record: &CodeRecord, given: Option<&str>) -> Result<(), TokenError> {
    match given {
        Some(uri) if uri == record.redirect_uri => Ok(()),
        None if !record.redirect_uri_given => Ok(()),
        _ => Err(TokenError::RedirectUriMismatch),
    }
}

fn check_pkce(record: &CodeRecord, verifier: Option<&Secret>) -> Result<(), TokenError> {
    match (&record.challenge, verifier) {
        (Some(challenge), Some(verifier)) => {
            if pkce::verify(challenge.method, &challenge.challenge, verifier.expose()) {
                Ok(())
            } else {
                Err(TokenError::PkceVerifierMismatch)
            }
        }
        (Some(_), None) => Err(TokenError::PkceVerifierMissing),
        (None, Some(_)) => Err(TokenError::PkceUnexpectedVerifier),
        (None, None) => Ok(()),
    }
}
