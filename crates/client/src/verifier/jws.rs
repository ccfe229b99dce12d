//! Compact JWS (RFC 7515 §7.1) checking: the header's algorithm against an allow-list and the
//! key's own algorithm, the `typ`, and the signature.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::jwks::Jwks;
use super::{Algorithm, VerifyError};

/// The longest token looked at; Portcullis's are under 2 KiB.
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<serde_json::Value>,
}

fn decode(part: &str) -> Result<Vec<u8>, VerifyError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| VerifyError::Malformed("a part is not base64url".into()))
}

/// What the token's `typ` header must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Typ {
    /// `at+jwt` or `application/at+jwt` (RFC 9068 §4).
    AccessToken,
    /// Absent or `JWT`, and never `at+jwt`, so that an access token cannot pass as an ID
    /// token (OpenID Connect Core §2; RFC 8725 §3.11).
    IdToken,
}

impl Typ {
    fn accepts(self, typ: Option<&str>) -> bool {
        let typ = typ.map(str::to_ascii_lowercase);
        let typ = typ
            .as_deref()
            .map(|t| t.strip_prefix("application/").unwrap_or(t));
        match self {
            Self::AccessToken => typ == Some("at+jwt"),
            Self::IdToken => matches!(typ, None | Some("jwt")),
        }
    }
}

/// Checks the header and signature of `token` and returns its payload bytes. The algorithm
/// must be in `allowed` and be the algorithm of the key that `kid` names: the header cannot
/// choose `none`, HMAC, or another algorithm for a key.
pub(crate) async fn verify(
    token: &str,
    jwks: &Jwks,
    allowed: &[Algorithm],
    typ: Typ,
) -> Result<Vec<u8>, VerifyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::Malformed("the token is too long".into()));
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed(
            "a JWS has three dot-separated parts".into(),
        ));
    };
    let header: Header = serde_json::from_slice(&decode(header_b64)?)
        .map_err(|_| VerifyError::Malformed("the header is not a JOSE header".into()))?;
    let alg = Algorithm::from_name(&header.alg)
        .filter(|a| allowed.contains(a))
        .ok_or_else(|| VerifyError::UnsupportedAlgorithm(header.alg.clone()))?;
    if !typ.accepts(header.typ.as_deref()) {
        return Err(VerifyError::WrongType(header.typ));
    }
    // RFC 7515 §4.1.11: extensions marked critical that we do not understand mean reject.
    if header.crit.is_some() {
        return Err(VerifyError::Malformed(
            "the header has critical extensions".into(),
        ));
    }
    let kid = header
        .kid
        .ok_or_else(|| VerifyError::Malformed("the header has no kid".into()))?;
    let key = jwks.key(&kid).await?;
    if key.alg != alg {
        return Err(VerifyError::KeyAlgorithmMismatch {
            kid,
            header: alg,
            key: key.alg,
        });
    }
    let signature = decode(signature_b64)?;
    let signed = &token[..header_b64.len() + 1 + payload_b64.len()];
    if !key.verify(signed.as_bytes(), &signature) {
        return Err(VerifyError::BadSignature);
    }
    decode(payload_b64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_typ_accepts_both_spellings_only() {
        assert!(Typ::AccessToken.accepts(Some("at+jwt")));
        assert!(Typ::AccessToken.accepts(Some("application/AT+JWT")));
        assert!(!Typ::AccessToken.accepts(Some("JWT")));
        assert!(!Typ::AccessToken.accepts(None));
        assert!(Typ::IdToken.accepts(None));
        assert!(Typ::IdToken.accepts(Some("JWT")));
        assert!(!Typ::IdToken.accepts(Some("at+jwt")));
    }
}
