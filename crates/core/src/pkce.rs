//! Proof Key for Code Exchange (RFC 7636).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::hash::sha256;

/// A code challenge method (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    /// `BASE64URL(SHA256(verifier))`.
    S256,
    /// The verifier itself; accepted only from clients configured for it.
    Plain,
}

impl ChallengeMethod {
    /// The parameter value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }

    /// Parses `code_challenge_method`; `None` for anything else.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "S256" => Some(Self::S256),
            "plain" => Some(Self::Plain),
            _ => None,
        }
    }
}

/// Whether `value` has the form of a code verifier or challenge: 43 to 128 characters from
/// `A-Z a-z 0-9 - . _ ~` (RFC 7636 §4.1, §4.2).
#[must_use]
pub fn is_well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 challenge for `verifier`.
#[must_use]
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()))
}

/// Whether `verifier` answers `challenge` under `method` (RFC 7636 §4.6), compared in
/// constant time.
#[must_use]
pub fn verify(method: ChallengeMethod, challenge: &str, verifier: &str) -> bool {
    if !is_well_formed(verifier) {
        return false;
    }
    let expected = match method {
        ChallengeMethod::S256 => s256_challenge(verifier),
        ChallengeMethod::Plain => verifier.to_owned(),
    };
    expected.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256_challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(verify(
            ChallengeMethod::S256,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            verifier
        ));
        assert!(!verify(
            ChallengeMethod::S256,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN",
            verifier
        ));
    }

    #[test]
    fn verifier_form() {
        assert!(!is_well_formed(&"a".repeat(42)));
        assert!(is_well_formed(&"a".repeat(43)));
        assert!(is_well_formed(&"a".repeat(128)));
        assert!(!is_well_formed(&"a".repeat(129)));
        assert!(!is_well_formed(&format!("{}+", "a".repeat(43))));
        assert!(!verify(ChallengeMethod::Plain, "short", "short"));
    }

    /// The Monerium guide's verifier: 128 hex characters from `WordArray.random(64)`.
    #[test]
    fn hex_verifiers_from_the_guides_are_accepted() {
        let verifier = "0123456789abcdef".repeat(8);
        assert!(verify(
            ChallengeMethod::S256,
            &s256_challenge(&verifier),
            &verifier
        ));
        assert!(verify(ChallengeMethod::Plain, &verifier, &verifier));
    }
}
