//! Administration: registering and managing clients and users. The CLI and the admin API both
//! call these, so validation is the same whichever way a change arrives.

pub mod clients;
pub mod users;
pub mod views;

use crate::audit::{AuditEvent, AuditKind, AuditSink};
use crate::random::SecretGenerator;
use crate::scopes::ScopeRegistry;
use crate::store::Store;
use crate::time::Clock;

/// What an administrative operation needs, and who performs it (for the audit trail).
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a> {
    /// Storage.
    pub store: &'a dyn Store,
    /// The time.
    pub clock: &'a dyn Clock,
    /// Secrets and ids.
    pub random: &'a dyn SecretGenerator,
    /// The scopes that exist.
    pub scopes: &'a ScopeRegistry,
    /// The longest access-token lifetime a client may have, seconds.
    pub max_access_ttl: i64,
    /// The audit trail.
    pub audit: &'a dyn AuditSink,
    /// Who acts: `cli`, or `client:<id>` for the admin API.
    pub actor: &'a str,
    /// Where the request came from (the admin API's caller); `None` on the command line.
    pub ip: Option<std::net::IpAddr>,
}

impl Admin<'_> {
    /// A successful event of `kind` now, by this actor, from this address.
    #[must_use]
    pub fn event(&self, kind: AuditKind) -> AuditEvent {
        AuditEvent::new(self.clock.now(), kind, self.actor).ip(self.ip.map(|ip| ip.to_string()))
    }
}
