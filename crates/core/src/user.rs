//! Users (resource owners) and their passwords.

use std::collections::HashSet;
use std::sync::LazyLock;

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
    /// Phone number and postal address, for the `phone` and `address` scopes.
    pub contact: crate::oauth::claims::Contact,
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
    /// One of the most common passwords ([`COMMON_PASSWORDS`]), whatever its letter case.
    #[error("this password is one of the most common ones; choose another")]
    Common,
    /// One character repeated, or a run such as `0123456789` or `zyxwvutsrq`.
    #[error("a password of one repeated character or a run like 0123456789 is easy to guess")]
    Repetitive,
    /// The account's email, the part before its `@`, or the user's name.
    #[error("a password made of your email or name is easy to guess")]
    Personal,
    /// Hashing failed.
    #[error("the password could not be hashed")]
    Hash,
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// The shortest password accepted (NIST SP 800-63B §3.1.1.2 asks for at least 8 where a
/// password is one factor of several, 15 where it is the only one; 10 is kept from before).
pub const MIN_PASSWORD_LEN: usize = 10;
/// The longest password accepted, in bytes.
pub const MAX_PASSWORD_LEN: usize = 256;

/// The most common passwords, one a line, lower-cased, after a header that ends at the first
/// blank line (source and licence in the file).
pub const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    let list = COMMON_PASSWORDS
        .split_once("\n\n")
        .map_or(COMMON_PASSWORDS, |(_, list)| list);
    list.lines().filter(|line| !line.is_empty()).collect()
});

/// The forms of a password compared with the lists: lower-cased (the list is), trimmed, and
/// with its white space removed, so that `"Pass Word 123"` is `"password123"`.
fn comparable(password: &str) -> [String; 2] {
    let lower = password.to_lowercase();
    let squeezed = lower.chars().filter(|c| !c.is_whitespace()).collect();
    [lower.trim().to_owned(), squeezed]
}

/// Whether every character is the same, or each is the one after (or before) the previous.
fn is_run(password: &str) -> bool {
    let codes: Vec<i64> = password.chars().map(|c| i64::from(u32::from(c))).collect();
    let steps: Vec<i64> = codes.windows(2).map(|w| w[1] - w[0]).collect();
    steps
        .first()
        .is_some_and(|first| (-1..=1).contains(first) && steps.iter().all(|step| step == first))
}

/// The rules of NIST SP 800-63B §3.1.1.2 for a password a user chooses: at least
/// [`MIN_PASSWORD_LEN`] characters (counted as Unicode code points) and at most
/// [`MAX_PASSWORD_LEN`] bytes; not one of the [`COMMON_PASSWORDS`]; not a repeated character
/// or a sequence; not one of `personal` (the email, also by its local part, and the name), compared
/// without regard to case or white space. No composition rules: spaces and any Unicode are
/// welcome.
///
/// # Errors
/// The first rule broken.
pub fn check_password(password: &Secret, personal: &[&str]) -> Result<(), PasswordError> {
    let password = password.expose();
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(PasswordError::TooLong);
    }
    let forms = comparable(password);
    if forms.iter().any(|form| COMMON.contains(form.as_str())) {
        return Err(PasswordError::Common);
    }
    if forms.iter().any(|form| is_run(form)) {
        return Err(PasswordError::Repetitive);
    }
    // An email counts whole and by its local part.
    let personal = personal
        .iter()
        .flat_map(|p| [Some(*p), p.split_once('@').map(|(local, _)| local)])
        .flatten()
        .filter(|p| !p.trim().is_empty())
        .flat_map(comparable);
    for word in personal {
        if forms.contains(&word) {
            return Err(PasswordError::Personal);
        }
    }
    Ok(())
}

/// Hashes a new password with Argon2id (default parameters: 19 MiB, 2 passes) and a 128-bit
/// salt, once it passes [`check_password`] (without personal words: [`crate::admin::users`]
/// checks those). This is CPU-heavy (~10 ms): callers on an async runtime run it on a
/// blocking thread.
///
/// # Errors
/// See [`PasswordError`].
pub fn hash_password(
    generator: &dyn SecretGenerator,
    password: &Secret,
) -> Result<String, PasswordError> {
    check_password(password, &[])?;
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

    fn check(password: &str) -> Result<(), PasswordError> {
        check_password(
            &Secret::new(password),
            &["alice.smith@example.com", "Alice Smith"],
        )
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case_and_spacing() {
        for common in [
            "1234567890",
            "qwertyuiop",
            "Password123",
            "PASSWORD123",
            " password123 ",
            "pass word 123",
            "iloveyou123",
        ] {
            assert_eq!(check(common), Err(PasswordError::Common), "{common:?}");
        }
        assert!(
            COMMON.len() > 19_000,
            "the whole list is read: {}",
            COMMON.len()
        );
        assert!(
            COMMON.contains("#1bitch"),
            "entries starting with # are entries"
        );
        assert!(!COMMON.contains(""));
        assert!(
            !COMMON
                .iter()
                .any(|p| p.contains("Django") || p.contains("Redistribution")),
            "the header is not a password"
        );
    }

    #[test]
    fn runs_and_personal_words_are_refused() {
        for run in [
            "aaaaaaaaaaaa",
            "bcdefghijklm",
            "zyxwvutsrqpo",
            "ééééééééééé",
        ] {
            assert_eq!(check(run), Err(PasswordError::Repetitive), "{run:?}");
        }
        for personal in [
            "alice.smith@example.com",
            "Alice.Smith",
            "alicesmith",
            "ALICE SMITH",
        ] {
            assert_eq!(
                check(personal),
                Err(PasswordError::Personal),
                "{personal:?}"
            );
        }
    }

    #[test]
    fn no_composition_rules_spaces_and_any_unicode_are_welcome() {
        for good in [
            "correct horse battery staple",
            "a long enough password",
            "all lowercase words here",
            "пароль для входа",
            "パスワードはとても長い",
            "🦀🦀🦀 rusty crab 🦀",
            "tab\tseparated words",
        ] {
            assert_eq!(check(good), Ok(()), "{good:?}");
        }
        // Code points, not bytes, are counted towards the minimum: ten of them pass.
        assert_eq!(check("äöüßéèàçñø"), Ok(()));
        assert_eq!(check("äöüßéèàçñ"), Err(PasswordError::TooShort));
    }

    #[test]
    fn hashing_refuses_a_common_password_whoever_sets_it() {
        assert_eq!(
            hash_password(&OsRandom, &Secret::new("Password123")),
            Err(PasswordError::Common)
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
