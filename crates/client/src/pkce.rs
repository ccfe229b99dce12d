//! Randomness and PKCE (RFC 7636).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;

/// `bytes` random bytes, base64url without padding.
#[allow(clippy::disallowed_methods)] // The SDK's one source of randomness (state, nonce, PKCE).
pub(crate) fn random_token(bytes: usize) -> Result<String, Error> {
    let mut buffer = vec![0_u8; bytes];
    aws_lc_rs::rand::fill(&mut buffer).map_err(|_| Error::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

/// A code verifier: 32 random bytes, 43 characters of the unreserved set (RFC 7636 §4.1).
pub(crate) fn new_verifier() -> Result<String, Error> {
    random_token(32)
}

/// `BASE64URL(SHA256(ASCII(verifier)))` (RFC 7636 §4.2, method `S256`).
pub(crate) fn s256_challenge(verifier: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_are_43_unreserved_characters_and_differ() {
        let a = new_verifier().unwrap_or_default();
        let b = new_verifier().unwrap_or_default();
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a, b);
    }
}
