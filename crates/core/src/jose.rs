//! Public keys that other parties present, and the compact JWS they sign: a client's registered
//! keys (`private_key_jwt`, RFC 7523) and the key inside a DPoP proof (RFC 9449).
//!
//! Parsing is strict so that one key has exactly one thumbprint (RFC 7638): members must be
//! canonical base64url, fixed-size coordinates must have their size, RSA integers carry no
//! leading zero octet, and a JWK holding any private member is refused. Only the asymmetric
//! algorithms FAPI 2.0 allows are accepted (ES256, PS256, EdDSA with Ed25519): never `none`,
//! never an HMAC, never RSA PKCS#1 v1.5.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ED25519, RSA_PSS_2048_8192_SHA256, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The longest compact JWS accepted from outside (a DPoP proof or a client assertion).
pub const MAX_JWS_LEN: usize = 8 * 1024;

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// A signature algorithm accepted from other parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForeignAlg {
    /// ECDSA with P-256 and SHA-256 (RFC 7518 §3.4).
    Es256,
    /// RSASSA-PSS with SHA-256 (RFC 7518 §3.5).
    Ps256,
    /// Ed25519 (RFC 8037 §3.1).
    EdDsa,
    /// Ed25519 under its fully-specified name (RFC 9864 §2.2), which oauth4webapi and
    /// openid-client use for Ed25519 keys: the same algorithm as [`Self::EdDsa`].
    Ed25519,
}

impl ForeignAlg {
    /// Every accepted algorithm, in the order discovery lists them.
    pub const ALL: [Self; 4] = [Self::Es256, Self::Ps256, Self::EdDsa, Self::Ed25519];

    /// The `alg` value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Ps256 => "PS256",
            Self::EdDsa => "EdDSA",
            Self::Ed25519 => "Ed25519",
        }
    }

    /// The algorithm named by an `alg` header, when it is one we accept (case-sensitive, as
    /// RFC 7515 §4.1.1 says).
    #[must_use]
    pub fn parse(alg: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == alg)
    }
}

/// Why a JWK is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    /// Not a JSON object.
    #[error("the key is not a JSON object")]
    NotAnObject,
    /// A member is missing or not a string.
    #[error("the key has no valid `{0}` member")]
    Member(&'static str),
    /// The key type or curve is not one we accept.
    #[error("the key type is not accepted (EC P-256, RSA of at least 2048 bits, OKP Ed25519)")]
    Unsupported,
    /// It holds private key material (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`).
    #[error("the key contains private key material")]
    Private,
    /// A member is not canonical base64url of the right size.
    #[error("the key's `{0}` member is not canonical base64url of the right size")]
    Encoding(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    /// P-256: the coordinates.
    Ec { x: [u8; 32], y: [u8; 32] },
    /// RSA: modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Ed25519: the public key.
    Ed25519 { x: [u8; 32] },
}

/// A public key presented by another party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    material: Material,
    /// The `kid`, when given.
    pub kid: Option<String>,
    /// The `alg` the key is restricted to, when given.
    pub alg: Option<String>,
    /// The `use`, when given.
    pub use_: Option<String>,
}

/// Members that only a private (or symmetric) key has.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn string<'a>(object: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, JwkError> {
    object
        .get(name)
        .and_then(Value::as_str)
        .ok_or(JwkError::Member(name))
}

fn optional(object: &Map<String, Value>, name: &'static str) -> Result<Option<String>, JwkError> {
    match object.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(JwkError::Member(name)),
    }
}

/// Decodes canonical base64url: no padding, and re-encoding gives the same text (so no stray
/// trailing bits make two spellings of one key).
fn canonical(object: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, JwkError> {
    let text = string(object, name)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JwkError::Encoding(name))?;
    if URL_SAFE_NO_PAD.encode(&bytes) != text {
        return Err(JwkError::Encoding(name));
    }
    Ok(bytes)
}

fn fixed(object: &Map<String, Value>, name: &'static str) -> Result<[u8; 32], JwkError> {
    canonical(object, name)?
        .try_into()
        .map_err(|_| JwkError::Encoding(name))
}

fn unsigned(object: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, JwkError> {
    let bytes = canonical(object, name)?;
    if bytes.first().is_none_or(|b| *b == 0) {
        return Err(JwkError::Encoding(name));
    }
    Ok(bytes)
}

impl PublicJwk {
    /// Parses a public JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).
    ///
    /// # Errors
    /// See [`JwkError`].
    pub fn from_json(value: &Value) -> Result<Self, JwkError> {
        let object = value.as_object().ok_or(JwkError::NotAnObject)?;
        if PRIVATE_MEMBERS.iter().any(|m| object.contains_key(*m)) {
            return Err(JwkError::Private);
        }
        let material = match string(object, "kty")? {
            "EC" => {
                if string(object, "crv")? != "P-256" {
                    return Err(JwkError::Unsupported);
                }
                Material::Ec {
                    x: fixed(object, "x")?,
                    y: fixed(object, "y")?,
                }
            }
            "RSA" => {
                let n = unsigned(object, "n")?;
                if n.len() * 8 < MIN_RSA_BITS {
                    return Err(JwkError::Unsupported);
                }
                Material::Rsa {
                    n,
                    e: unsigned(object, "e")?,
                }
            }
            "OKP" => {
                if string(object, "crv")? != "Ed25519" {
                    return Err(JwkError::Unsupported);
                }
                Material::Ed25519 {
                    x: fixed(object, "x")?,
                }
            }
            _ => return Err(JwkError::Unsupported),
        };
        Ok(Self {
            material,
            kid: optional(object, "kid")?,
            alg: optional(object, "alg")?,
            use_: optional(object, "use")?,
        })
    }

    /// Whether signatures with `alg` may be made by this key: the key type fits and, when the
    /// JWK names an `alg` or a `use`, they allow it.
    #[must_use]
    pub fn suits(&self, alg: ForeignAlg) -> bool {
        let fits = matches!(
            (&self.material, alg),
            (Material::Ec { .. }, ForeignAlg::Es256)
                | (Material::Rsa { .. }, ForeignAlg::Ps256)
                | (
                    Material::Ed25519 { .. },
                    ForeignAlg::EdDsa | ForeignAlg::Ed25519
                )
        );
        fits && self.alg.as_deref().is_none_or(|a| a == alg.as_str())
            && self.use_.as_deref().is_none_or(|u| u == "sig")
    }

    /// Whether `signature` over `message` verifies with this key and `alg` (false when the key
    /// does not suit the algorithm).
    #[must_use]
    pub fn verifies(&self, alg: ForeignAlg, message: &[u8], signature: &[u8]) -> bool {
        if !self.suits(alg) {
            return false;
        }
        match &self.material {
            Material::Ec { x, y } => {
                let mut point = [0u8; 65];
                point[0] = 4;
                point[1..33].copy_from_slice(x);
                point[33..].copy_from_slice(y);
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            Material::Rsa { n, e } => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PSS_2048_8192_SHA256, message, signature)
                .is_ok(),
            Material::Ed25519 { x } => UnparsedPublicKey::new(&ED25519, x)
                .verify(message, signature)
                .is_ok(),
        }
    }

    /// The JWK SHA-256 thumbprint (RFC 7638 §3), base64url: the `jkt` of DPoP (RFC 9449 §6).
    #[must_use]
    pub fn thumbprint(&self) -> String {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        // The required members only, in lexicographic order, without whitespace.
        let canonical = match &self.material {
            Material::Ec { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b64(x),
                b64(y)
            ),
            Material::Rsa { n, e } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(e), b64(n))
            }
            Material::Ed25519 { x } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64(x))
            }
        };
        b64(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    }
}

/// Why a compact JWS is refused before its signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not three base64url parts with a JSON object header and payload, or too long.
    #[error("not a compact JWS with JSON header and claims")]
    Malformed,
    /// The `alg` is absent, `none`, symmetric, or otherwise not accepted.
    #[error("the signature algorithm is not accepted (ES256, PS256, EdDSA)")]
    Algorithm,
}

/// A compact JWS split and decoded, its signature not yet checked.
#[derive(Debug, Clone)]
pub struct CompactJws<'a> {
    /// The protected header.
    pub header: Map<String, Value>,
    /// The payload (claims).
    pub claims: Map<String, Value>,
    /// The header's `alg`.
    pub alg: ForeignAlg,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// Splits and decodes `token`; refuses unknown algorithms at once.
    ///
    /// # Errors
    /// See [`JwsError`].
    pub fn parse(token: &'a str) -> Result<Self, JwsError> {
        if token.len() > MAX_JWS_LEN {
            return Err(JwsError::Malformed);
        }
        let [header, claims, signature] = compact_parts(token).ok_or(JwsError::Malformed)?;
        let object = |part: &str| -> Result<Map<String, Value>, JwsError> {
            let bytes = URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| JwsError::Malformed)?;
            match serde_json::from_slice(&bytes) {
                Ok(Value::Object(map)) => Ok(map),
                _ => Err(JwsError::Malformed),
            }
        };
        let header = object(header)?;
        let claims_map = object(claims)?;
        // RFC 7515 §4.1.11: a `crit` we do not understand must be refused; we understand none.
        if header.contains_key("crit") {
            return Err(JwsError::Malformed);
        }
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .and_then(ForeignAlg::parse)
            .ok_or(JwsError::Algorithm)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| JwsError::Malformed)?;
        Ok(Self {
            header,
            claims: claims_map,
            alg,
            signing_input: &token[..header_len(token)],
            signature,
        })
    }

    /// A header member that is a string.
    #[must_use]
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// Whether the signature verifies with `key`.
    #[must_use]
    pub fn verifies_with(&self, key: &PublicJwk) -> bool {
        key.verifies(self.alg, self.signing_input.as_bytes(), &self.signature)
    }
}

/// The length of `header.payload` in a compact JWS known to have three parts.
fn header_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

/// The three base64url parts of a compact JWS (RFC 7515 §7.1), when there are exactly three.
#[must_use]
pub fn compact_parts(token: &str) -> Option<[&str; 3]> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(claims), Some(signature), None) => Some([header, claims, signature]),
        _ => None,
    }
}

/// base64url(SHA-256(ASCII `value`)): the `ath` of DPoP (RFC 9449 §4.2).
#[must_use]
pub fn sha256_b64(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, value.as_bytes()).as_ref())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
        RSA_PSS_SHA256, RsaKeyPair,
    };
    use serde_json::json;

    /// A key this test holds, its public JWK, and a signer for compact JWS.
    pub(crate) enum TestKey {
        Ec(EcdsaKeyPair),
        Ed(Ed25519KeyPair),
        Rsa(RsaKeyPair),
    }

    impl TestKey {
        pub(crate) fn ec() -> Self {
            Self::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap())
        }
        pub(crate) fn ed() -> Self {
            Self::Ed(Ed25519KeyPair::generate().unwrap())
        }
        pub(crate) fn rsa() -> Self {
            Self::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).unwrap())
        }
        pub(crate) fn alg(&self) -> &'static str {
            match self {
                Self::Ec(_) => "ES256",
                Self::Ed(_) => "EdDSA",
                Self::Rsa(_) => "PS256",
            }
        }
        pub(crate) fn jwk(&self) -> Value {
            let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
            match self {
                Self::Ec(pair) => {
                    let point = pair.public_key().as_ref();
                    json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])})
                }
                Self::Ed(pair) => {
                    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())})
                }
                Self::Rsa(pair) => {
                    let public = pair.public_key();
                    let n = public.modulus().big_endian_without_leading_zero();
                    let e = public.exponent().big_endian_without_leading_zero();
                    json!({"kty": "RSA", "n": b64(n), "e": b64(e)})
                }
            }
        }
        pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
            let rng = SystemRandom::new();
            match self {
                Self::Ec(pair) => pair.sign(&rng, message).unwrap().as_ref().to_vec(),
                Self::Ed(pair) => pair.sign(message).as_ref().to_vec(),
                Self::Rsa(pair) => {
                    let mut out = vec![0; pair.public_modulus_len()];
                    pair.sign(&RSA_PSS_SHA256, &rng, message, &mut out).unwrap();
                    out
                }
            }
        }
        /// A compact JWS of `claims` under `header`.
        pub(crate) fn jws(&self, header: &Value, claims: &Value) -> String {
            let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
            let input = format!("{}.{}", b64(header), b64(claims));
            let signature = URL_SAFE_NO_PAD.encode(self.sign(input.as_bytes()));
            format!("{input}.{signature}")
        }
    }

    #[test]
    fn signatures_verify_for_every_accepted_algorithm_and_only_with_the_right_key() {
        for key in [TestKey::ec(), TestKey::ed(), TestKey::rsa()] {
            let jwk = PublicJwk::from_json(&key.jwk()).unwrap();
            let token = key.jws(&json!({"alg": key.alg()}), &json!({"a": 1}));
            let jws = CompactJws::parse(&token).unwrap();
            assert_eq!(jws.alg.as_str(), key.alg());
            assert!(jws.verifies_with(&jwk));
            let other = PublicJwk::from_json(&TestKey::ec().jwk()).unwrap();
            assert!(!jws.verifies_with(&other), "{}", key.alg());
            // A changed payload no longer verifies.
            let (head, rest) = token.split_once('.').unwrap();
            let (_, signature) = rest.split_once('.').unwrap();
            let forged = format!(
                "{head}.{}.{signature}",
                URL_SAFE_NO_PAD.encode(b"{\"a\":2}")
            );
            assert!(!CompactJws::parse(&forged).unwrap().verifies_with(&jwk));
        }
    }

    #[test]
    fn a_key_signs_only_for_its_own_algorithm_and_restrictions() {
        let ec = TestKey::ec();
        let mut restricted = ec.jwk();
        restricted["alg"] = json!("ES384");
        let jwk = PublicJwk::from_json(&restricted).unwrap();
        assert!(!jwk.suits(ForeignAlg::Es256));
        let mut encryption = ec.jwk();
        encryption["use"] = json!("enc");
        assert!(
            !PublicJwk::from_json(&encryption)
                .unwrap()
                .suits(ForeignAlg::Es256)
        );
        let jwk = PublicJwk::from_json(&ec.jwk()).unwrap();
        assert!(jwk.suits(ForeignAlg::Es256));
        assert!(!jwk.suits(ForeignAlg::EdDsa));
        assert!(!jwk.suits(ForeignAlg::Ps256));
    }

    #[test]
    fn unsafe_algorithms_and_malformed_tokens_are_refused_before_any_signature_check() {
        let key = TestKey::ec();
        for alg in ["none", "HS256", "RS256", "es256", "ES384"] {
            let token = key.jws(&json!({"alg": alg}), &json!({}));
            assert_eq!(
                CompactJws::parse(&token).unwrap_err(),
                JwsError::Algorithm,
                "{alg}"
            );
        }
        let no_alg = key.jws(&json!({"typ": "x"}), &json!({}));
        assert_eq!(CompactJws::parse(&no_alg).unwrap_err(), JwsError::Algorithm);
        let crit = key.jws(&json!({"alg": "ES256", "crit": ["exp"]}), &json!({}));
        assert_eq!(CompactJws::parse(&crit).unwrap_err(), JwsError::Malformed);
        let array = key.jws(&json!({"alg": "ES256"}), &json!([1]));
        assert_eq!(CompactJws::parse(&array).unwrap_err(), JwsError::Malformed);
        for token in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.e30.e30",
            &"a".repeat(MAX_JWS_LEN + 1),
        ] {
            assert_eq!(CompactJws::parse(token).unwrap_err(), JwsError::Malformed);
        }
    }

    #[test]
    fn private_symmetric_weak_and_non_canonical_keys_are_refused() {
        let ec = TestKey::ec().jwk();
        for member in PRIVATE_MEMBERS {
            let mut private = ec.clone();
            private[member] = json!("AQAB");
            assert_eq!(PublicJwk::from_json(&private), Err(JwkError::Private));
        }
        assert_eq!(
            PublicJwk::from_json(&json!({"kty": "oct", "k": "AAAA"})),
            Err(JwkError::Private)
        );
        assert_eq!(
            PublicJwk::from_json(&json!({"kty": "oct"})),
            Err(JwkError::Unsupported)
        );
        let mut p384 = ec.clone();
        p384["crv"] = json!("P-384");
        assert_eq!(PublicJwk::from_json(&p384), Err(JwkError::Unsupported));
        let mut x448 = TestKey::ed().jwk();
        x448["crv"] = json!("X25519");
        assert_eq!(PublicJwk::from_json(&x448), Err(JwkError::Unsupported));
        let small = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xC5u8; 128]), "e": "AQAB"});
        assert_eq!(PublicJwk::from_json(&small), Err(JwkError::Unsupported));
        let mut padded = ec.clone();
        padded["x"] = json!(format!("{}=", ec["x"].as_str().unwrap()));
        assert_eq!(PublicJwk::from_json(&padded), Err(JwkError::Encoding("x")));
        let mut short = ec.clone();
        short["y"] = json!("AQAB");
        assert_eq!(PublicJwk::from_json(&short), Err(JwkError::Encoding("y")));
        let mut rsa = TestKey::rsa().jwk();
        rsa["e"] = json!("AAEAAQ");
        assert_eq!(PublicJwk::from_json(&rsa), Err(JwkError::Encoding("e")));
        let mut missing = ec;
        missing.as_object_mut().unwrap().remove("y");
        assert_eq!(PublicJwk::from_json(&missing), Err(JwkError::Member("y")));
        assert_eq!(
            PublicJwk::from_json(&json!([1])),
            Err(JwkError::NotAnObject)
        );
    }

    /// RFC 7638 §3.1's example key and thumbprint.
    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let key = PublicJwk::from_json(&jwk).unwrap();
        assert_eq!(
            key.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        assert_eq!(key.kid.as_deref(), Some("2011-04-29"));
        // Optional members do not change it.
        let mut bare = jwk.clone();
        bare.as_object_mut()
            .unwrap()
            .retain(|k, _| ["kty", "n", "e"].contains(&k.as_str()));
        assert_eq!(
            PublicJwk::from_json(&bare).unwrap().thumbprint(),
            key.thumbprint()
        );
    }

    /// RFC 9449 §7.1's `ath` example.
    #[test]
    fn ath_is_the_base64url_sha256_of_the_token() {
        assert_eq!(
            sha256_b64("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
            "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
        );
    }
}
