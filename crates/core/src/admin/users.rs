//! Creating user accounts.

use portcullis_proto::{Secret, UserId};

use crate::random::{RandomError, SecretGenerator, new_uuid};
use crate::store::{StoreError, UserStore};
use crate::time::Clock;
use crate::user::{EmailError, PasswordError, User, hash_password, normalize_email};

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
        created_at: now,
        updated_at: now,
    };
    match store.insert_user(&user).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict(_)) => Err(NewUserError::EmailTaken),
        Err(e) => Err(NewUserError::Store(e)),
    }
}
