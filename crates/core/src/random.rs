//! Randomness, injected: secrets, codes and identifiers come from a [`SecretGenerator`], so
//! tests can make them predictable and production uses the operating system's CSPRNG.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_proto::Secret;

/// A source of cryptographically secure random bytes.
pub trait SecretGenerator: Send + Sync + std::fmt::Debug {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// When the operating system cannot supply randomness; callers must fail the request
    /// rather than continue with weak values.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError>;
}

/// The operating system refused to supply randomness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomError;

/// The operating system's CSPRNG (`getrandom`).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl SecretGenerator for OsRandom {
    #[allow(clippy::disallowed_methods)] // The one place core reads the system's randomness.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(buf).map_err(|_| RandomError)
    }
}

/// A 256-bit random value, base64url without padding (43 characters, URL-safe, no `:`), used
/// for client secrets, refresh tokens, authorization codes and session ids.
///
/// # Errors
/// See [`SecretGenerator::fill`].
pub fn new_secret(generator: &dyn SecretGenerator) -> Result<Secret, RandomError> {
    let mut bytes = [0u8; 32];
    generator.fill(&mut bytes)?;
    Ok(Secret::new(URL_SAFE_NO_PAD.encode(bytes)))
}

/// A UUID version 7: time-ordered (so lists sort by creation), 74 random bits.
///
/// # Errors
/// See [`SecretGenerator::fill`].
pub fn new_uuid(generator: &dyn SecretGenerator, now_millis: i64) -> Result<String, RandomError> {
    let mut random = [0u8; 10];
    generator.fill(&mut random)?;
    let millis = u64::try_from(now_millis).unwrap_or_default();
    Ok(uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_43_url_safe_characters() {
        let secret = new_secret(&OsRandom).unwrap();
        assert_eq!(secret.expose().len(), 43);
        assert!(
            secret
                .expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(secret, new_secret(&OsRandom).unwrap());
    }

    #[test]
    fn uuids_sort_by_time() {
        let a = new_uuid(&OsRandom, 1_000).unwrap();
        let b = new_uuid(&OsRandom, 2_000).unwrap();
        assert!(a < b);
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 7);
    }
}
