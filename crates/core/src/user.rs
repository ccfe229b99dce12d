//! Users (resource owners) and their passwords.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use portcullis_proto::{Secret, UserId};

use crate::random::{RandomError, SecretGenerator};
use crate::time::UnixTime;

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user id: the `sub` of the user's tokens.
    pub id: UserId,
    /// The login email, normalised with [`normalize_email`].
    pub email: String,
    /// The display name.
    pub name: String,
    /// Argon2id PHC string; `None` for accounts that cannot log in with a password.
    pub password_hash: Option<String>,
    /// Disabled users cannot log in and their grants are revoked.
    pub disabled: bool,
    /// Creation time.
    pub created_at: UnixTime,
    /// Last change.
    pub updated_at: UnixTime,
}

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Not of the form `local@domain`.
    #[error("enter an email address of the form name@example.com")]
    Invalid,
}

/// Normalises an email for storage and lookup: trimmed and lower-cased, so that logins are
/// case-insensitive and one address cannot register twice.
///
/// # Errors
/// [`EmailError::Invalid`] unless the address has one `@` with text on both sides, no spaces,
/// and at most 254 characters (RFC 5321 §4.5.3.1.3).
pub fn normalize_email(email: &str) -> Result<String, EmailError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@')
                && !domain.starts_with('.') && !domain.ends_with('.'));
    if valid {
        Ok(email)
    } else {
        Err(EmailError::Invalid)
    }
}

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`MIN_PASSWORD_LEN`] characters.
    #[error("choose a password of at least {MIN_PASSWORD_LEN} characters")]
    TooShort,
    /// Longer than [`MAX_PASSWORD_LEN`] bytes; bounds hashing work on hostile input.
    #[error("passwords may be at most {MAX_PASSWORD_LEN} bytes long")]
    TooLong,
    /// Hashing failed.
    #[error("the password could not be hashed")]
    Hash,
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// The shortest password accepted (NIST SP 800-63B §5.1.1.2 asks for at least 8).
pub const MIN_PASSWORD_LEN: usize = 10;
/// The longest password accepted, in bytes.
pub const MAX_PASSWORD_LEN: usize = 256;

/// Hashes a new password with Argon2id (default parameters: 19 MiB, 2 passes) and a 128-bit
/// salt. This is CPU-heavy (~10 ms): callers on an async runtime run it on a blocking thread.
///
/// # Errors
/// See [`PasswordError`].
pub fn hash_password(
    generator: &dyn SecretGenerator,
    password: &Secret,
) -> Result<String, PasswordError> {
    let length = password.expose().chars().count();
    if length < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort);
    }
    if password.expose().len() > MAX_PASSWORD_LEN {
        return Err(PasswordError::TooLong);
    }
    let mut salt = [0u8; 16];
    generator.fill(&mut salt)?;
    Argon2::default()
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| PasswordError::Hash)
}

/// A valid Argon2id hash of a password nobody knows, verified when the account does not exist
/// so that a failed login takes the same time whether or not the email is registered.
pub const DUMMY_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                                       CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";

/// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
/// CPU-heavy like [`hash_password`].
#[must_use]
pub fn verify_password(hash: &str, password: &Secret) -> bool {
    if password.expose().len() > MAX_PASSWORD_LEN {
        return false;
    }
    Argon2::default()
        .verify_password(password.expose().as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::OsRandom;

    #[test]
    fn email_normalisation() {
        assert_eq!(
            normalize_email("  Alice@Example.COM ").unwrap(),
            "alice@example.com"
        );
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "a b@example.com",
            "a@b@c",
            "a@.x",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_hash_round_trip() {
        let hash = hash_password(&OsRandom, &Secret::new("correct horse")).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, &Secret::new("correct horse")));
        assert!(!verify_password(&hash, &Secret::new("correct horsf")));
        assert!(!verify_password(
            "not a hash",
            &Secret::new("correct horse")
        ));
    }

    #[test]
    fn password_length_rules() {
        assert_eq!(
            hash_password(&OsRandom, &Secret::new("short")),
            Err(PasswordError::TooShort)
        );
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(
            hash_password(&OsRandom, &Secret::new(long)),
            Err(PasswordError::TooLong)
        );
    }

    #[test]
    fn dummy_hash_is_well_formed() {
        assert!(argon2::password_hash::phc::PasswordHash::new(DUMMY_PASSWORD_HASH).is_ok());
        assert!(!verify_password(
            DUMMY_PASSWORD_HASH,
            &Secret::new("anything at all")
        ));
    }
}
