//! What a user's account goes through: logging in, and revoking an app, by the user or by an
//! operator.

use portcullis_proto::{ClientId, Secret, UserId};

use crate::admin::users::{self, NewUserError};
use crate::audit::{AuditEvent, AuditKind, AuditSink};
use crate::login::{Attempt, LoginThrottle};
use crate::random::SecretGenerator;
use crate::store::{Ended, Ending, Store, StoreError};
use crate::throttle;
use crate::throttle::{RateLimits, Throttled};
use crate::time::Clock;
use crate::user::{DUMMY_PASSWORD_HASH, User, normalize_email};

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

/// Runs password work where it does not stall the async runtime: Argon2 takes tens of
/// milliseconds and 19 MiB, so core asks for it and the HTTP layer runs it on its hashing
/// threads.
#[async_trait::async_trait]
pub trait Passwords: Send + Sync {
    /// Whether `password` matches the PHC string `hash`; `false` when the check could not run.
    async fn verify(&self, hash: String, password: Secret) -> bool;
    /// Checks a new account's fields and hashes its password ([`users::prepare`]).
    ///
    /// # Errors
    /// The rule broken; [`NewUserError::Random`] when the work could not run.
    async fn prepare(
        &self,
        email: String,
        name: String,
        password: Secret,
    ) -> Result<users::PreparedUser, NewUserError>;
}

/// What the login form sent, and from where.
#[derive(Debug)]
pub struct LoginAttempt<'a> {
    /// The email as typed.
    pub email: &'a str,
    /// The password as typed.
    pub password: Secret,
    /// The client's address.
    pub ip: Option<std::net::IpAddr>,
    /// The trusted-browser cookie the browser holds, if any.
    pub device: Option<&'a crate::login::Device>,
}

/// How a login ended.
#[derive(Debug)]
pub enum LoginOutcome {
    /// The password is right and the account usable.
    LoggedIn {
        /// The user.
        user: Box<User>,
        /// The normalised email (the trusted-browser cookie is made for it).
        email: String,
    },
    /// A wrong email or password, or a disabled account: one answer for all, after the same
    /// work, so the answer says nothing about which accounts exist.
    Refused,
    /// A limit refused the attempt before the password was looked at.
    Throttled(Throttled),
}

/// What logging in and signing up need.
#[derive(Clone, Copy)]
pub struct AccountContext<'a> {
    /// Storage.
    pub store: &'a dyn Store,
    /// The time.
    pub clock: &'a dyn Clock,
    /// The audit trail.
    pub audit: &'a dyn AuditSink,
    /// The login limits.
    pub limits: &'a RateLimits,
    /// Randomness (new ids).
    pub random: &'a dyn SecretGenerator,
    /// Where passwords are checked and hashed.
    pub passwords: &'a dyn Passwords,
}

impl std::fmt::Debug for AccountContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountContext")
            .field("limits", self.limits)
            .finish_non_exhaustive()
    }
}

/// A login: the limits first ([`crate::login`]), then the password, checked against a dummy
/// hash when the account does not exist so that both take as long; a failure counts against
/// the limits, a success clears the account's count. Each outcome is audited
/// (`throttled` once per key and window, `login_failed`, `login_succeeded`). Starting the
/// session is the caller's.
///
/// # Errors
/// Storage failures (nobody is logged in then).
pub async fn login(
    ctx: AccountContext<'_>,
    attempt: LoginAttempt<'_>,
) -> Result<LoginOutcome, StoreError> {
    let email =
        normalize_email(attempt.email).unwrap_or_else(|_| attempt.email.trim().to_lowercase());
    let ip = attempt.ip.map(|ip| ip.to_string());
    let record = |event: AuditEvent| ctx.audit.record(event.ip(ip.clone()));
    let event = |kind, actor: String| AuditEvent::new(ctx.clock.now(), kind, actor);
    let throttle = LoginThrottle {
        store: ctx.store,
        clock: ctx.clock,
        limits: ctx.limits,
    };
    let counted = Attempt::new(&email, attempt.ip, attempt.device);
    let admitted = match throttle.admit(&counted).await? {
        Ok(admitted) => admitted,
        Err(refused) => {
            // Recorded once per key and window: refusals must not become a way to write rows.
            if refused.throttled.first {
                let which = refused.limit.as_str();
                tracing::warn!(limit = %which, "login throttled");
                record(
                    event(AuditKind::Throttled, "anonymous".into())
                        .failed()
                        .detail(serde_json::json!({
                            "action": "login", "limit": which, "email": email
                        })),
                );
            }
            return Ok(LoginOutcome::Throttled(refused.throttled));
        }
    };
    let user = ctx.store.user_by_email(&email).await?;
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_PASSWORD_HASH.to_owned());
    let matches = ctx.passwords.verify(hash, attempt.password).await;
    let known = user.as_ref().map(|u| u.id.clone());
    let Some(user) = user.filter(|u| matches && !u.disabled) else {
        throttle.failed(&counted).await?;
        tracing::info!("login failed");
        let mut failed = event(AuditKind::LoginFailed, "anonymous".into())
            .failed()
            .detail(serde_json::json!({ "email": email }));
        if let Some(known) = &known {
            failed = failed.user(known);
        }
        record(failed);
        return Ok(LoginOutcome::Refused);
    };
    throttle.succeeded(&counted, admitted).await?;
    tracing::info!(user = %user.id, "login succeeded");
    record(event(AuditKind::LoginSucceeded, format!("user:{}", user.id)).user(&user.id));
    Ok(LoginOutcome::LoggedIn {
        user: Box::new(user),
        email,
    })
}

/// What the sign-up form sent, and from where.
#[derive(Debug)]
pub struct SignUpAttempt<'a> {
    /// The email as typed.
    pub email: &'a str,
    /// The name as typed.
    pub name: &'a str,
    /// The password as typed.
    pub password: Secret,
    /// The client's address.
    pub ip: Option<std::net::IpAddr>,
}

/// How a sign-up ended.
#[derive(Debug)]
pub enum SignUpOutcome {
    /// The account exists now.
    Created(Box<User>),
    /// A field breaks a rule (or the email is taken); nothing was written.
    Refused(NewUserError),
    /// The address's sign-up limit refused the attempt before anything was looked at.
    Throttled(Throttled),
}

/// A sign-up: the per-address limit (`signup_per_ip`), the fields' rules and the password's
/// hash (off the runtime), then the account; audited as `sign_up` (and `throttled` once per
/// window). Starting the session is the caller's.
///
/// # Errors
/// Storage or randomness failures (nothing is created then).
pub async fn sign_up(
    ctx: AccountContext<'_>,
    attempt: SignUpAttempt<'_>,
) -> Result<SignUpOutcome, NewUserError> {
    let ip = attempt.ip.map(|ip| ip.to_string());
    let key = format!("signup:ip:{}", throttle::ip_key(attempt.ip));
    if let Err(throttled) = throttle::hit(ctx.store, ctx.clock, &key, ctx.limits.signup_per_ip)
        .await
        .map_err(NewUserError::Store)?
    {
        // Recorded once per window: refusals must not become a way to write rows.
        if throttled.first {
            ctx.audit.record(
                AuditEvent::new(ctx.clock.now(), AuditKind::Throttled, "anonymous")
                    .failed()
                    .detail(serde_json::json!({ "action": "sign_up", "limit": "ip" }))
                    .ip(ip),
            );
        }
        return Ok(SignUpOutcome::Throttled(throttled));
    }
    let prepared = ctx
        .passwords
        .prepare(
            attempt.email.to_owned(),
            attempt.name.to_owned(),
            attempt.password,
        )
        .await;
    let created = match prepared {
        Ok(prepared) => users::create(ctx.store, ctx.clock, ctx.random, prepared).await,
        Err(error) => Err(error),
    };
    let user = match created {
        Ok(user) => user,
        Err(error @ (NewUserError::Store(_) | NewUserError::Random(_) | NewUserError::Hashing)) => {
            return Err(error);
        }
        Err(rule) => return Ok(SignUpOutcome::Refused(rule)),
    };
    tracing::info!(user = %user.id, "account created");
    ctx.audit.record(
        AuditEvent::new(
            ctx.clock.now(),
            AuditKind::SignUp,
            format!("user:{}", user.id),
        )
        .user(&user.id)
        .ip(ip),
    );
    Ok(SignUpOutcome::Created(Box::new(user)))
}
