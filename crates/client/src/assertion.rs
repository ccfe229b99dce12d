//! `private_key_jwt` (RFC 7523): the client proves itself with a short JWT signed by a key whose
//! public half it registered, instead of a secret.

use std::time::SystemTime;

use serde_json::{Value, json};

use crate::clock::unix;
use crate::dpop::DpopKey;
use crate::error::Error;

/// The `client_assertion_type` of a JWT assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long an assertion lives: one request's worth.
const LIFETIME: i64 = 60;

/// A P-256 key (ES256) that signs the client's assertions, with the `kid` it was registered
/// under. Register [`ClientKey::public_jwk`] with the client (`--jwks-file` or the admin API's
/// `jwks`).
#[derive(Debug, Clone)]
pub struct ClientKey {
    key: DpopKey,
    kid: String,
}

impl PartialEq for ClientKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid && self.key.thumbprint() == other.key.thumbprint()
    }
}

impl Eq for ClientKey {}

impl ClientKey {
    /// A new random key registered under `kid`.
    ///
    /// # Errors
    /// [`Error::Config`] when the system's random source fails.
    pub fn generate(kid: impl Into<String>) -> Result<Self, Error> {
        Ok(Self {
            key: DpopKey::generate()?,
            kid: kid.into(),
        })
    }

    /// The key of a PKCS #8 document (P-256), registered under `kid`.
    ///
    /// # Errors
    /// [`Error::Config`] when the document is not a P-256 private key.
    pub fn from_pkcs8(pkcs8: &[u8], kid: impl Into<String>) -> Result<Self, Error> {
        Ok(Self {
            key: DpopKey::from_pkcs8(pkcs8)?,
            kid: kid.into(),
        })
    }

    /// The public key as a JWK with its `kid`, to register (inside `{"keys": [...]}`).
    #[must_use]
    pub fn public_jwk(&self) -> Value {
        self.key.public_jwk(Some(&self.kid))
    }

    /// An assertion of `client_id` for `audience` (the issuer identifier), made at `now`.
    pub(crate) fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: SystemTime,
    ) -> Result<String, Error> {
        let now = unix(now);
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": self.key.random_id()?,
            "iat": now,
            "exp": now + LIFETIME,
        });
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        self.key.sign(&header, &claims)
    }
}
