//! What a user's account goes through beyond one read: revoking an app, by the user or by an
//! operator.

use portcullis_proto::{ClientId, UserId};

use crate::audit::{AuditEvent, AuditKind, AuditSink};
use crate::store::{Ended, Ending, Store, StoreError};
use crate::time::Clock;

/// Who revokes, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoker<'a> {
    /// The audit actor: `user:<id>`, `cli` or `client:<id>`.
    pub actor: &'a str,
    /// Why, as the audit detail's `reason`: `revoked_by_user` or `revoked_by_operator`.
    pub reason: &'static str,
    /// The caller's address, when a request asked.
    pub ip: Option<std::net::IpAddr>,
}

/// Ends `client`'s access to `user`: the consent, every code not yet redeemed and every grant
/// (so its refresh tokens and access tokens) in one transaction. A code redeemed at the same
/// moment either finds the consent gone or made a grant this revokes. Recorded in the audit
/// trail as a `grant_revoked` event of `by`.
///
/// # Errors
/// Storage failures; nothing is ended then.
pub async fn revoke_app(
    store: &dyn Store,
    clock: &dyn Clock,
    audit: &dyn AuditSink,
    user: &UserId,
    client: &ClientId,
    by: &Revoker<'_>,
) -> Result<Ended, StoreError> {
    let ending = Ending::App {
        user: user.clone(),
        client: client.clone(),
    };
    let now = clock.now();
    let ended = store.end_access(&ending, now).await?;
    tracing::info!(
        user = %user,
        client = %client,
        grants = ended.grants,
        codes = ended.codes,
        reason = by.reason,
        "app access revoked"
    );
    audit.record(
        AuditEvent::new(now, AuditKind::GrantRevoked, by.actor)
            .user(user)
            .client(client)
            .ip(by.ip.map(|ip| ip.to_string()))
            .detail(serde_json::json!({
                "grants": ended.grants,
                "codes": ended.codes,
                "consent": ended.consents > 0,
                "reason": by.reason,
            })),
    );
    Ok(ended)
}
