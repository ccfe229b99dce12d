//! The audit trail: every security-relevant event, with time, actor, client, user, client IP
//! and outcome. Never a secret or a token value: details hold ids, scopes and reasons only.
//!
//! Operations report events to an [`AuditSink`]; the server's sink batches them into the
//! database off the request path.

use portcullis_proto::{ClientId, UserId};
use serde::Serialize;

use crate::time::UnixTime;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// An account was created through the sign-up page.
    SignUp,
    /// A login succeeded.
    LoginSucceeded,
    /// A login failed (wrong credentials, disabled account).
    LoginFailed,
    /// A user logged out (from the logout page or at a relying party's request).
    LoggedOut,
    /// A login or sign-up was refused by a rate limit.
    Throttled,
    /// The user approved every requested scope.
    ConsentGiven,
    /// The user approved some of the requested scopes.
    ConsentPartial,
    /// The user denied the request.
    ConsentDenied,
    /// A grant was revoked (by the user, an operator, revocation, or reuse).
    GrantRevoked,
    /// Tokens were issued at the token endpoint.
    TokensIssued,
    /// A token was revoked through the revocation endpoint.
    TokenRevoked,
    /// An authorization code was presented again.
    CodeReuse,
    /// A rotated refresh token was presented again.
    RefreshReuse,
    /// A client was registered.
    ClientCreated,
    /// A client's settings changed.
    ClientUpdated,
    /// A client was deleted.
    ClientDeleted,
    /// A client's secret was rotated.
    ClientSecretRotated,
    /// An operator created a user.
    UserCreated,
    /// A user was disabled (their grants revoked).
    UserDisabled,
    /// An operator changed a user's name, phone number or address.
    UserUpdated,
    /// A profile's KYC state was set.
    KycChanged,
    /// Signing keys were rotated.
    KeysRotated,
    /// An operator credited a profile in the sandbox (an incoming transfer stood in for).
    SandboxFunded,
}

impl AuditKind {
    /// Every kind.
    pub const ALL: [Self; 23] = [
        Self::SignUp,
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::LoggedOut,
        Self::Throttled,
        Self::ConsentGiven,
        Self::ConsentPartial,
        Self::ConsentDenied,
        Self::GrantRevoked,
        Self::TokensIssued,
        Self::TokenRevoked,
        Self::CodeReuse,
        Self::RefreshReuse,
        Self::ClientCreated,
        Self::ClientUpdated,
        Self::ClientDeleted,
        Self::ClientSecretRotated,
        Self::UserCreated,
        Self::UserDisabled,
        Self::UserUpdated,
        Self::KycChanged,
        Self::KeysRotated,
        Self::SandboxFunded,
    ];

    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "sign_up",
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::LoggedOut => "logged_out",
            Self::Throttled => "throttled",
            Self::ConsentGiven => "consent_given",
            Self::ConsentPartial => "consent_partial",
            Self::ConsentDenied => "consent_denied",
            Self::GrantRevoked => "grant_revoked",
            Self::TokensIssued => "tokens_issued",
            Self::TokenRevoked => "token_revoked",
            Self::CodeReuse => "code_reuse",
            Self::RefreshReuse => "refresh_reuse",
            Self::ClientCreated => "client_created",
            Self::ClientUpdated => "client_updated",
            Self::ClientDeleted => "client_deleted",
            Self::ClientSecretRotated => "client_secret_rotated",
            Self::UserCreated => "user_created",
            Self::UserDisabled => "user_disabled",
            Self::UserUpdated => "user_updated",
            Self::KycChanged => "kyc_changed",
            Self::KeysRotated => "keys_rotated",
            Self::SandboxFunded => "sandbox_funded",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Whether the attempt succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It did.
    Success,
    /// It was refused.
    Failure,
}

impl Outcome {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    /// Position in the trail (assigned by the store; 0 before).
    pub seq: i64,
    /// When.
    pub at: UnixTime,
    /// What.
    pub kind: AuditKind,
    /// Who acted: `user:<id>`, `client:<id>`, `cli`, `system`, or `anonymous`.
    pub actor: String,
    /// The client concerned.
    pub client_id: Option<ClientId>,
    /// The user concerned.
    pub user_id: Option<UserId>,
    /// The client IP, when the event came from a request.
    pub ip: Option<String>,
    /// Success or failure.
    pub outcome: Outcome,
    /// Ids, scopes and reasons; never secrets or token values.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// A successful event at `at` by `actor`, with nothing else filled in.
    #[must_use]
    pub fn new(at: UnixTime, kind: AuditKind, actor: impl Into<String>) -> Self {
        Self {
            seq: 0,
            at,
            kind,
            actor: actor.into(),
            client_id: None,
            user_id: None,
            ip: None,
            outcome: Outcome::Success,
            detail: serde_json::Value::Null,
        }
    }

    /// Sets the client.
    #[must_use]
    pub fn client(mut self, client: &ClientId) -> Self {
        self.client_id = Some(client.clone());
        self
    }

    /// Sets the user.
    #[must_use]
    pub fn user(mut self, user: &UserId) -> Self {
        self.user_id = Some(user.clone());
        self
    }

    /// Sets the client IP.
    #[must_use]
    pub fn ip(mut self, ip: Option<String>) -> Self {
        self.ip = ip;
        self
    }

    /// Marks the event a failure.
    #[must_use]
    pub fn failed(mut self) -> Self {
        self.outcome = Outcome::Failure;
        self
    }

    /// Sets the details.
    #[must_use]
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Where events go. Recording never fails the operation that reports it, and never blocks
/// it: a sink buffers and writes in the background.
pub trait AuditSink: Send + Sync + std::fmt::Debug {
    /// Records an event.
    fn record(&self, event: AuditEvent);
}

/// A sink that keeps events in memory, for tests.
#[derive(Debug, Default)]
pub struct MemorySink(std::sync::Mutex<Vec<AuditEvent>>);

impl MemorySink {
    /// The events recorded so far.
    #[must_use]
    pub fn events(&self) -> Vec<AuditEvent> {
        self.0.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl AuditSink for MemorySink {
    fn record(&self, event: AuditEvent) {
        if let Ok(mut events) = self.0.lock() {
            events.push(event);
        }
    }
}

/// Which events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this kind.
    pub kind: Option<AuditKind>,
    /// Only this client.
    pub client_id: Option<ClientId>,
    /// Only this user.
    pub user_id: Option<UserId>,
    /// Only at or after.
    pub since: Option<UnixTime>,
    /// Only before.
    pub until: Option<UnixTime>,
    /// Only after this position (the cursor).
    pub after_seq: Option<i64>,
    /// At most this many (1 to 500).
    pub limit: u32,
}
