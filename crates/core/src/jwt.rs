//! Compact JWS serialisation of tokens the server signs (RFC 7515 §7.1), with keys parsed once
//! (see [`crate::keys::LoadedKey`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::keys::{KeyMaterialError, LoadedKey};

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
            assert_eq!(data.header.typ.as_deref(), Some("at+jwt"));
            assert_eq!(data.header.kid.as_deref(), Some("k"));
        }
    }
}
