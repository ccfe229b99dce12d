//! What every handler can reach: the core's services, the client cache, the key ring and
//! settings.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use portcullis_core::client_cache::ClientCache;
use portcullis_core::keys::{KeyEncryptionKey, KeyRing};
use portcullis_core::oauth::{Context, Services};
use portcullis_core::seal::Sealer;
use portcullis_core::throttle::SharedCounters;

use crate::metrics::Metrics;

/// Settings the HTTP layer needs, taken from the validated configuration.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// How long a request may take before it is answered with 503.
    pub request_timeout: Duration,
    /// How long `/readyz` waits for the database.
    pub readiness_timeout: Duration,
    /// Serve the sandbox pages (`/sandbox/callback`).
    pub sandbox: bool,
    /// How long a key rotated in through the admin API is published before it signs, seconds.
    pub key_activation_delay: i64,
    /// The compatibility profiles served.
    pub compat: crate::compat::CompatSettings,
    /// Requests served at once; past it, new ones are answered 503 at once (load shedding).
    pub max_in_flight: usize,
    /// The proxies whose forwarding headers name the client.
    pub trusted_proxies: crate::client_ip::TrustedProxies,
    /// Rate limits of login, sign-up and the token endpoint.
    pub rate_limits: portcullis_core::throttle::RateLimits,
}

/// Shared application state; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

/// The parts of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// Store, clock, randomness and protocol settings.
    pub services: Services,
    /// Clients, cached briefly for the token endpoint.
    pub clients: Arc<ClientCache>,
    /// The signing keys; replaced atomically when a rotation is seen.
    pub keys: Arc<ArcSwap<KeyRing>>,
    /// The key-encryption key, for rotations requested through the admin API.
    pub kek: Option<Arc<KeyEncryptionKey>>,
    /// HTTP settings.
    pub settings: HttpSettings,
    /// Request metrics.
    pub metrics: Metrics,
    /// The token endpoint's rate-limit counters, shared with other nodes by a background
    /// sync (`SharedCounters::sync`).
    pub counters: Arc<SharedCounters>,
    /// Signs and seals what the browser holds for the server (pre-login state, device
    /// cookies); derived from the key-encryption key, so every node opens what another made.
    pub sealer: Arc<Sealer>,
    /// Password checks and hashes, on the hashing threads.
    pub passwords: crate::password::HashingThreads,
}

impl AppState {
    /// Builds the state.
    #[must_use]
    pub fn new(
        services: Services,
        clients: Arc<ClientCache>,
        keys: Arc<ArcSwap<KeyRing>>,
        kek: Option<Arc<KeyEncryptionKey>>,
        settings: HttpSettings,
    ) -> Self {
        let sealer = Arc::clone(&services.sealer);
        let counters = Arc::new(SharedCounters::new(Arc::clone(&services.clock)));
        let passwords = crate::password::HashingThreads(Arc::clone(&services.random));
        Self(Arc::new(Inner {
            counters,
            sealer,
            passwords,
            services,
            clients,
            keys,
            kek,
            settings,
            metrics: Metrics::default(),
        }))
    }

    /// The issuer identifier.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.services.settings.issuer
    }

    /// Whether the issuer is https (cookies are then `Secure` and `__Host-` prefixed).
    #[must_use]
    pub fn secure(&self) -> bool {
        self.issuer().starts_with("https://")
    }

    /// The current key ring, held for one request (a rotation swaps in a new ring; requests
    /// in flight finish with the one they started with).
    #[must_use]
    pub fn keyring(&self) -> Arc<KeyRing> {
        self.keys.load_full()
    }

    /// Records an audit event stamped with the client's IP.
    pub fn record(&self, event: portcullis_core::audit::AuditEvent, ip: Option<std::net::IpAddr>) {
        self.services
            .audit
            .record(event.ip(ip.map(|ip| ip.to_string())));
    }

    /// What logging in and signing up need from the state ([`portcullis_core::account::login`]).
    #[must_use]
    pub fn account_context(&self) -> portcullis_core::account::AccountContext<'_> {
        portcullis_core::account::AccountContext {
            store: self.services.store.as_ref(),
            clock: self.services.clock.as_ref(),
            audit: self.services.audit.as_ref(),
            limits: &self.settings.rate_limits,
            random: self.services.random.as_ref(),
            passwords: &self.passwords,
        }
    }

    /// A new audit event at the current time.
    #[must_use]
    pub fn event(
        &self,
        kind: portcullis_core::audit::AuditKind,
        actor: impl Into<String>,
    ) -> portcullis_core::audit::AuditEvent {
        portcullis_core::audit::AuditEvent::new(self.services.clock.now(), kind, actor)
    }

    /// A protocol context over `keys`.
    #[must_use]
    pub fn context<'a>(&'a self, keys: &'a KeyRing) -> Context<'a> {
        self.services.context(keys)
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}
