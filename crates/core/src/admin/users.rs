//! Creating user accounts.

use portcullis_proto::{Secret, UserId};

use crate::random::{RandomError, SecretGenerator, new_uuid};
use crate::store::{StoreError, UserStore};
use crate::time::Clock;
use crate::user::{
    EmailError, PasswordError, User, check_password, hash_password, normalize_email,
};

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum NewUserError {
    /// The email is malformed.
    #[error(transparent)]
    Email(#[from] EmailError),
    /// The password breaks a rule.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Empty or over-long name.
    #[error("enter a name of 1 to 100 characters")]
    Name,
    /// The email is taken.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The hashing threads could not run the work (they are gone); nothing was created.
    #[error("the password could not be hashed right now; try again")]
    Hashing,
}

/// A validated account with its password hashed, ready to store.
#[derive(Debug, Clone)]
pub struct PreparedUser {
    email: String,
    name: String,
    password_hash: String,
}

/// Validates the fields and hashes the password. CPU-heavy (Argon2id): async callers run it
/// on a blocking thread, then call [`create`].
///
/// # Errors
/// See [`NewUserError`].
pub fn prepare(
    random: &dyn SecretGenerator,
    email: &str,
    name: &str,
    password: &Secret,
) -> Result<PreparedUser, NewUserError> {
    let email = normalize_email(email)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(NewUserError::Name);
    }
    check_password(password, &[&email, name])?;
    let password_hash = hash_password(random, password)?;
    Ok(PreparedUser {
        email,
        name: name.to_owned(),
        password_hash,
    })
}

/// Stores a prepared account.
///
/// # Errors
/// [`NewUserError::EmailTaken`] when the email is registered.
pub async fn create(
    store: &dyn UserStore,
    clock: &dyn Clock,
    random: &dyn SecretGenerator,
    prepared: PreparedUser,
) -> Result<User, NewUserError> {
    let now = clock.now();
    let user = User {
        id: UserId::new(new_uuid(random, clock.now_millis())?),
        email: prepared.email,
        name: prepared.name,
        password_hash: Some(prepared.password_hash),
        disabled: false,
        contact: crate::oauth::claims::Contact::default(),
        created_at: now,
        updated_at: now,
    };
    match store.insert_user(&user).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict(_)) => Err(NewUserError::EmailTaken),
        Err(e) => Err(NewUserError::Store(e)),
    }
}

/// Why an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserOpError {
    /// No such user.
    #[error("no user {0:?}")]
    NotFound(String),
    /// No such profile.
    #[error("no profile {0:?}")]
    ProfileNotFound(String),
    /// The banking domain refused.
    #[error(transparent)]
    Bank(#[from] crate::banking::accounts::BankError),
    /// A phone number or address broke a rule.
    #[error(transparent)]
    Contact(#[from] crate::oauth::claims::ContactError),
    /// Empty or over-long name.
    #[error("enter a name of 1 to 100 characters")]
    Name,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The user with this id, or with this email.
///
/// # Errors
/// [`UserOpError::NotFound`], storage failures.
pub async fn find(admin: &super::Admin<'_>, id_or_email: &str) -> Result<User, UserOpError> {
    let by_id = admin.store.user(&UserId::new(id_or_email)).await?;
    let found = match by_id {
        Some(user) => Some(user),
        None => match crate::user::normalize_email(id_or_email) {
            Ok(email) => admin.store.user_by_email(&email).await?,
            Err(_) => None,
        },
    };
    found.ok_or_else(|| UserOpError::NotFound(id_or_email.to_owned()))
}

/// Creates an account from the CLI or admin API and records it.
///
/// # Errors
/// See [`NewUserError`].
pub async fn register(
    admin: &super::Admin<'_>,
    prepared: PreparedUser,
) -> Result<User, NewUserError> {
    let user = create(admin.store, admin.clock, admin.random, prepared).await?;
    admin.audit.record(
        admin
            .event(crate::audit::AuditKind::UserCreated)
            .user(&user.id),
    );
    Ok(user)
}

/// Disables a user: they can no longer log in, their sessions end, and every grant they gave
/// is revoked (refresh fails, access tokens become inactive).
///
/// # Errors
/// [`UserOpError::NotFound`], storage failures.
pub async fn disable(
    admin: &super::Admin<'_>,
    id_or_email: &str,
) -> Result<(User, u64), UserOpError> {
    let mut user = find(admin, id_or_email).await?;
    let now = admin.clock.now();
    // One transaction: the flag, the sessions, unredeemed codes and every grant.
    let ended = admin
        .store
        .end_access(&crate::store::Ending::User(user.id.clone()), now)
        .await?;
    user.disabled = true;
    user.updated_at = now;
    admin.audit.record(
        admin
            .event(crate::audit::AuditKind::UserDisabled)
            .user(&user.id)
            .detail(serde_json::json!({
                "grants_revoked": ended.grants,
                "codes_ended": ended.codes,
                "sessions_ended": ended.sessions,
            })),
    );
    Ok((user, ended.grants))
}

/// What an operator changes about a user (the admin API's merge patch, the CLI's flags):
/// `None` keeps a field; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// The display name.
    pub name: Option<String>,
    /// The phone number, any usual notation of an E.164 number.
    pub phone_number: Option<Option<String>>,
    /// Whether the platform confirmed the number.
    pub phone_number_verified: Option<bool>,
    /// The postal address.
    pub address: Option<Option<crate::oauth::claims::Address>>,
}

/// Changes a user's name, phone number or postal address: what the `profile`, `phone` and
/// `address` scopes release from now on. A new number is unconfirmed unless the same change
/// says otherwise; a cleared one cannot be confirmed.
///
/// # Errors
/// [`UserOpError::NotFound`], [`UserOpError::Name`], [`UserOpError::Contact`], storage failures.
pub async fn update(
    admin: &super::Admin<'_>,
    id_or_email: &str,
    changes: UserChanges,
) -> Result<User, UserOpError> {
    use crate::oauth::claims::{normalize_address, normalize_phone};
    let mut user = find(admin, id_or_email).await?;
    let mut changed = Vec::new();
    if let Some(name) = changes.name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(UserOpError::Name);
        }
        name.clone_into(&mut user.name);
        changed.push("name");
    }
    if let Some(phone) = changes.phone_number {
        let phone = phone.as_deref().map(normalize_phone).transpose()?;
        if phone != user.contact.phone_number {
            user.contact.phone_number_verified = false;
        }
        user.contact.phone_number = phone;
        changed.push("phone_number");
    }
    if let Some(verified) = changes.phone_number_verified {
        user.contact.phone_number_verified = verified && user.contact.phone_number.is_some();
        changed.push("phone_number_verified");
    }
    if let Some(address) = changes.address {
        user.contact.address = address.map(normalize_address).transpose()?;
        changed.push("address");
    }
    // An empty patch changes nothing: no write, no new `updated_at`, no audit event.
    if changed.is_empty() {
        return Ok(user);
    }
    user.updated_at = admin.clock.now();
    if !admin.store.update_user(&user).await? {
        return Err(UserOpError::NotFound(id_or_email.to_owned()));
    }
    // Which fields, not their values: the audit trail holds no personal data it need not.
    admin.audit.record(
        admin
            .event(crate::audit::AuditKind::UserUpdated)
            .user(&user.id)
            .detail(serde_json::json!({ "changed": changed })),
    );
    Ok(user)
}

/// Revokes one app's access to a user, as the user could on their account page: consent,
/// unredeemed codes and grants end in one transaction. Returns what ended.
///
/// # Errors
/// [`UserOpError::NotFound`], storage failures.
pub async fn revoke_app(
    admin: &super::Admin<'_>,
    id_or_email: &str,
    client: &portcullis_proto::ClientId,
) -> Result<(User, crate::store::Ended), UserOpError> {
    let user = find(admin, id_or_email).await?;
    let by = crate::account::Revoker {
        actor: admin.actor,
        reason: "revoked_by_operator",
        ip: admin.ip,
    };
    let ended =
        crate::account::revoke_app(admin.store, admin.clock, admin.audit, &user.id, client, &by)
            .await?;
    Ok((user, ended))
}

/// The profile with this id, or the first profile of the user with this id or email.
async fn profile_of(
    admin: &super::Admin<'_>,
    profile_or_user: &str,
) -> Result<crate::banking::profile::Profile, UserOpError> {
    let missing = || UserOpError::ProfileNotFound(profile_or_user.to_owned());
    let profile = match admin
        .store
        .profile(&portcullis_proto::ProfileId::new(profile_or_user))
        .await?
    {
        Some(profile) => profile,
        None => {
            let user = find(admin, profile_or_user).await.map_err(|_| missing())?;
            admin
                .store
                .profiles_of(&user.id)
                .await?
                .into_iter()
                .next()
                .ok_or_else(missing)?
        }
    };
    Ok(profile)
}

/// Credits a profile (by id, or a user's first profile) as an incoming transfer would: the
/// sandbox's way money arrives, since no app may mint. Off unless `settings.funding`. The
/// same `key` with the same credit answers the first order; without a key each call credits.
///
/// # Errors
/// [`UserOpError::ProfileNotFound`], [`UserOpError::Bank`] (funding off, order rules, KYC not
/// approved, key reused for another credit), storage and randomness failures.
pub async fn fund(
    admin: &super::Admin<'_>,
    settings: crate::banking::accounts::BankingSettings,
    profile_or_user: &str,
    credit: crate::banking::accounts::Credit,
    key: Option<&str>,
) -> Result<
    (
        crate::banking::order::Order,
        crate::banking::accounts::Placement,
    ),
    UserOpError,
> {
    use crate::banking::accounts::{self, BankError, Placement};
    let profile = profile_of(admin, profile_or_user).await?;
    let key = match key {
        Some(key) => key.to_owned(),
        None => format!(
            "fund-{}",
            crate::random::new_uuid(admin.random, admin.clock.now_millis())
                .map_err(BankError::from)?
        ),
    };
    let (order, placement) = accounts::fund(
        admin.store,
        admin.clock,
        admin.random,
        settings,
        &profile,
        credit,
        &key,
    )
    .await?;
    if placement == Placement::Created {
        admin.audit.record(
            admin
                .event(crate::audit::AuditKind::SandboxFunded)
                .user(&profile.user_id)
                .detail(serde_json::json!({
                    "profile": profile.id,
                    "order": order.id,
                    "currency": order.currency.as_str(),
                    "amount": order.amount,
                })),
        );
    }
    Ok((order, placement))
}

/// Sets the KYC state of a profile (a user's id or email selects their first profile).
///
/// # Errors
/// [`UserOpError::ProfileNotFound`], storage failures.
pub async fn set_kyc(
    admin: &super::Admin<'_>,
    profile_or_user: &str,
    state: crate::banking::profile::KycState,
) -> Result<crate::banking::profile::Profile, UserOpError> {
    let profile = profile_of(admin, profile_or_user).await?;
    let now = admin.clock.now();
    admin.store.set_kyc(&profile.id, state, now).await?;
    admin.audit.record(
        admin
            .event(crate::audit::AuditKind::KycChanged)
            .user(&profile.user_id)
            .detail(serde_json::json!({ "profile": profile.id, "kyc": state.as_str() })),
    );
    Ok(crate::banking::profile::Profile {
        kyc: state,
        updated_at: now,
        ..profile
    })
}
