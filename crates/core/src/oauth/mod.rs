//! The OAuth 2.0 and OpenID Connect protocol: authorization requests and decisions, client
//! authentication, the grants of the token endpoint, token issuance and verification,
//! introspection and revocation.

pub mod access;
pub mod assertion;
pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod consent;
pub mod dpop;
mod error;
pub mod grant;
pub mod introspection;
pub mod issue;
pub mod journey;
pub mod logout;
pub mod par;
pub mod revocation;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use error::TokenError;

use crate::audit::AuditSink;
use crate::keys::{KeyRing, SigningAlg};
use crate::random::SecretGenerator;
use crate::scopes::ScopeRegistry;
use crate::store::Store;
use crate::time::Clock;

/// Lifetime of an authorization code (RFC 6749 §4.1.2 recommends at most ten minutes; one
/// minute is plenty for a redirect and a token request).
pub const CODE_TTL_SECONDS: i64 = 60;

/// Protocol settings, from the validated configuration.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// The issuer identifier (`iss`).
    pub issuer: String,
    /// The audience of access tokens (`aud`): the resource servers that accept them.
    pub audience: String,
    /// The algorithm access tokens are signed with.
    pub access_token_alg: SigningAlg,
    /// How long a pending authorization request (login, onboarding, consent) may take.
    pub auth_request_ttl: i64,
    /// The scopes that exist.
    pub scopes: ScopeRegistry,
    /// The longest access-token lifetime a client may be given, seconds.
    pub max_access_token_ttl: i64,
    /// How long a pushed authorization request lives, seconds (RFC 9126 §2.2).
    pub pushed_request_ttl: i64,
    /// Every client must push its authorization requests (RFC 9126 §5).
    pub require_pushed_authorization_requests: bool,
}

/// What a protocol operation needs: storage, time, randomness, keys and settings.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Storage.
    pub store: &'a dyn Store,
    /// The time.
    pub clock: &'a dyn Clock,
    /// Secrets and ids.
    pub random: &'a dyn SecretGenerator,
    /// Signing keys.
    pub keys: &'a KeyRing,
    /// Settings.
    pub settings: &'a OAuthSettings,
    /// The audit trail.
    pub audit: &'a dyn AuditSink,
    /// Banking domain settings (whether authorization requests need onboarding).
    pub banking: crate::banking::accounts::BankingSettings,
    /// The client's IP, when the operation serves a request (for the audit trail).
    pub client_ip: Option<std::net::IpAddr>,
    /// Seals what the browser holds for the server (pending authorization requests).
    pub sealer: &'a crate::seal::Sealer,
}

impl Context<'_> {
    /// The same context for a request from `ip`.
    #[must_use]
    pub fn from_ip(mut self, ip: Option<std::net::IpAddr>) -> Self {
        self.client_ip = ip;
        self
    }

    /// Records an event, stamped with the time and the request's IP.
    pub fn record(&self, event: crate::audit::AuditEvent) {
        let ip = event
            .ip
            .clone()
            .or_else(|| self.client_ip.map(|ip| ip.to_string()));
        self.audit.record(event.ip(ip));
    }

    /// A new event at the current time.
    #[must_use]
    pub fn event(
        &self,
        kind: crate::audit::AuditKind,
        actor: impl Into<String>,
    ) -> crate::audit::AuditEvent {
        crate::audit::AuditEvent::new(self.clock.now(), kind, actor)
    }
}

/// Owned handles from which a [`Context`] is borrowed for one request.
#[derive(Debug, Clone)]
pub struct Services {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Secrets and ids.
    pub random: Arc<dyn SecretGenerator>,
    /// Settings.
    pub settings: Arc<OAuthSettings>,
    /// Banking domain settings.
    pub banking: crate::banking::accounts::BankingSettings,
    /// The audit trail.
    pub audit: Arc<dyn AuditSink>,
    /// Signs and seals what the browser holds for the server (pre-login state); derived from
    /// the key-encryption key, so every node opens what another made.
    pub sealer: Arc<crate::seal::Sealer>,
}

impl Services {
    /// A context over `keys`.
    #[must_use]
    pub fn context<'a>(&'a self, keys: &'a KeyRing) -> Context<'a> {
        Context {
            store: self.store.as_ref(),
            clock: self.clock.as_ref(),
            random: self.random.as_ref(),
            keys,
            settings: &self.settings,
            audit: self.audit.as_ref(),
            banking: self.banking,
            client_ip: None,
            sealer: &self.sealer,
        }
    }
}
