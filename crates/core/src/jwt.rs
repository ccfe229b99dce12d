//! Compact JWS serialisation of tokens the server signs (RFC 7515 §7.1), with keys parsed once
//! (see [`crate::keys::LoadedKey`]).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::keys::{KeyMaterialError, KeyRing, LoadedKey};
use crate::time::UnixTime;

/// What kind of JWT is being signed; decides the `typ` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtKind {
    /// An access token: `typ: at+jwt` (RFC 9068 §2.1).
    AccessToken,
    /// An ID token or other JWT: `typ: JWT`.
    Jwt,
}

/// Signing a JWT failed.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// The claims could not be serialised.
    #[error("claims could not be serialised: {0}")]
    Claims(#[from] serde_json::Error),
    /// The crypto library failed.
    #[error(transparent)]
    Sign(#[from] KeyMaterialError),
}

/// Signs `claims` with `key` and returns the compact serialisation.
///
/// # Errors
/// See [`JwtError`].
pub fn sign<C: Serialize>(key: &LoadedKey, kind: JwtKind, claims: &C) -> Result<String, JwtError> {
    let header = key.encoded_header(kind == JwtKind::AccessToken);
    let claims = serde_json::to_vec(claims)?;
    let mut token = String::with_capacity(header.len() + claims.len() * 4 / 3 + 400);
    token.push_str(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// The longest token accepted for verification; ours are well under 2 KiB.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Why a JWT presented to this server is not one it issued and still honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not three base64url parts with JSON header and claims, or too long.
    #[error("the token is malformed")]
    Malformed,
    /// The `typ` header is not the expected one (RFC 9068 §4: `at+jwt`).
    #[error("the token has the wrong type")]
    WrongType,
    /// No live key has this `kid`, or the header's `alg` is not that key's.
    #[error("the token was not signed by a key of this server")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token signature is invalid")]
    BadSignature,
}

#[derive(serde::Deserialize)]
struct Header {
    alg: String,
    kid: String,
    typ: Option<String>,
}

fn decode_part<T: DeserializeOwned>(part: &str) -> Result<T, VerifyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| VerifyError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| VerifyError::Malformed)
}

/// Verifies a JWT this server signed: the key is a live key of `keys` at `now`, the header's
/// `alg` is that key's (so no algorithm substitution, no `none`), `typ` matches `kind`, and the
/// signature verifies. Returns the claims and the key; checking the claims' meaning (`exp`,
/// `iss`…) is the caller's.
///
/// # Errors
/// See [`VerifyError`].
pub fn verify<C: DeserializeOwned>(
    keys: &KeyRing,
    now: UnixTime,
    kind: JwtKind,
    token: &str,
) -> Result<(C, Arc<LoadedKey>), VerifyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::Malformed);
    }
    let [header, claims, signature] =
        crate::jose::compact_parts(token).ok_or(VerifyError::Malformed)?;
    let parsed: Header = decode_part(header)?;
    let expected_typ = match kind {
        JwtKind::AccessToken => "at+jwt",
        JwtKind::Jwt => "JWT",
    };
    if !parsed
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(expected_typ))
    {
        return Err(VerifyError::WrongType);
    }
    let key = keys
        .verifies(&parsed.kid, now)
        .ok_or(VerifyError::UnknownKey)?;
    if key.alg.as_str() != parsed.alg {
        return Err(VerifyError::UnknownKey);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| VerifyError::Malformed)?;
    let signed = &token[..header.len() + 1 + claims.len()];
    if !key.verify(signed.as_bytes(), &signature) {
        return Err(VerifyError::BadSignature);
    }
    Ok((decode_part(claims)?, Arc::clone(key)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyEncryptionKey, KeyPair, SigningAlg, StoredKey};
    use crate::random::OsRandom;
    use crate::time::UnixTime;
    use portcullis_proto::KeyId;

    /// Tokens verify with an independent JWT library against the published JWK.
    #[test]
    fn tokens_verify_with_jsonwebtoken_for_every_algorithm() {
        let kek =
            KeyEncryptionKey::from_base64(&KeyEncryptionKey::generate_base64(&OsRandom).unwrap())
                .unwrap();
        for alg in SigningAlg::ALL {
            let pkcs8 = KeyPair::generate_pkcs8(alg).unwrap();
            let stored = StoredKey {
                kid: KeyId::new("k"),
                alg,
                created_at: UnixTime(0),
                activates_at: UnixTime(0),
                kek_fingerprint: kek.fingerprint().to_owned(),
                wrapped_private_key: kek.wrap(&OsRandom, "k", &pkcs8).unwrap(),
            };
            let key = LoadedKey::load(&stored, &kek).unwrap();
            let claims = serde_json::json!({"sub": "u1", "exp": 4_000_000_000_i64, "aud": "x"});
            let token = sign(&key, JwtKind::AccessToken, &claims).unwrap();

            let jwk: jsonwebtoken::jwk::Jwk =
                serde_json::from_value(serde_json::to_value(key.jwk()).unwrap()).unwrap();
            let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
            let jalg: jsonwebtoken::Algorithm = alg.as_str().parse().unwrap();
            let mut validation = jsonwebtoken::Validation::new(jalg);
            validation.set_audience(&["x"]);
            let data =
                jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
            assert_eq!(data.claims["sub"], "u1");

            let ring = KeyRing::load(std::slice::from_ref(&stored), &kek, None, 60).unwrap();
            let (claims, _) =
                verify::<serde_json::Value>(&ring, UnixTime(1), JwtKind::AccessToken, &token)
                    .unwrap();
            assert_eq!(claims["aud"], "x");
            assert_eq!(
                verify::<serde_json::Value>(&ring, UnixTime(1), JwtKind::Jwt, &token).unwrap_err(),
                VerifyError::WrongType
            );
            let mut tampered = token.clone();
            tampered.insert_str(token.find('.').unwrap() + 1, "e30");
            assert!(
                verify::<serde_json::Value>(&ring, UnixTime(1), JwtKind::AccessToken, &tampered)
                    .is_err()
            );
            assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
            assert_eq!(data.header.kid.as_deref(), Some("k"));
        }
    }
}
