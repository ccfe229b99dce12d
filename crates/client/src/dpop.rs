//! DPoP (RFC 9449): a key that makes proofs for the integrator's requests, and the checks a
//! resource server runs on the proofs it receives.
//!
//! An integrator gives its [`crate::Client`] a [`DpopKey`]
//! ([`crate::ClientBuilder::dpop`]): every token request then carries a proof (answering the
//! server's nonce, §8), the codes it asks for are bound to the key (`dpop_jkt`, §10), and the
//! resource API is called with the `DPoP` scheme and a proof per request (§7). A resource
//! server's [`crate::verifier::Verifier`] refuses a bound token sent as Bearer and checks the
//! proof of one sent as DPoP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::clock::{Clock as _, SystemClock, unix};
use crate::error::Error;
use std::time::SystemTime;

/// The request header that carries a proof.
pub const PROOF_HEADER: &str = "DPoP";
/// The response header that carries a server nonce.
pub const NONCE_HEADER: &str = "DPoP-Nonce";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256_b64(text: &str) -> String {
    b64(digest::digest(&digest::SHA256, text.as_bytes()).as_ref())
}

/// The request URI a proof names (`htu`): without query and fragment (RFC 9449 §4.2).
fn htu(url: &url::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// A P-256 key pair (ES256) that signs DPoP proofs, with the server nonce it last received.
/// Cheap to clone: clones share the key and the nonce.
///
/// Keep one per installation of the app, for as long as its tokens live: a public client's
/// refresh token is bound to it.
#[derive(Clone)]
pub struct DpopKey {
    inner: Arc<KeyInner>,
}

struct KeyInner {
    pair: EcdsaKeyPair,
    jwk: Value,
    thumbprint: String,
    nonce: Mutex<Option<String>>,
    rng: SystemRandom,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("thumbprint", &self.inner.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A new random key.
    ///
    /// # Errors
    /// [`Error::Config`] when the system's random source fails.
    pub fn generate() -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| Error::Config("could not generate a DPoP key".into()))?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// The key of a PKCS #8 document (P-256), as [`DpopKey::to_pkcs8`] wrote it: an app keeps
    /// its key across restarts this way.
    ///
    /// # Errors
    /// [`Error::Config`] when the document is not a P-256 private key.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, Error> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
            .map_err(|_| Error::Config("the DPoP key is not a P-256 PKCS #8 key".into()))?;
        let point = pair.public_key().as_ref();
        let (x, y) = (b64(&point[1..33]), b64(&point[33..65]));
        // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        Ok(Self {
            inner: Arc::new(KeyInner {
                thumbprint: sha256_b64(&canonical),
                jwk: json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
                pair,
                nonce: Mutex::new(None),
                rng: SystemRandom::new(),
            }),
        })
    }

    /// The private key as PKCS #8, to store (encrypted) and reload with
    /// [`DpopKey::from_pkcs8`].
    ///
    /// # Errors
    /// [`Error::Config`] when the key cannot be serialised.
    pub fn to_pkcs8(&self) -> Result<Vec<u8>, Error> {
        self.inner
            .pair
            .to_pkcs8v1()
            .map(|der| der.as_ref().to_vec())
            .map_err(|_| Error::Config("the DPoP key cannot be exported".into()))
    }

    /// The key's JWK SHA-256 thumbprint (RFC 7638): the `jkt` tokens are bound to, and the
    /// `dpop_jkt` authorization parameter.
    #[must_use]
    pub fn thumbprint(&self) -> &str {
        &self.inner.thumbprint
    }

    /// A proof for `method` at `url`, with the hash of `access_token` when calling a resource,
    /// and the last nonce the server sent, made now.
    ///
    /// # Errors
    /// [`Error::Config`] when signing or the random source fails.
    pub fn proof(
        &self,
        method: &str,
        url: &url::Url,
        access_token: Option<&str>,
    ) -> Result<String, Error> {
        self.proof_at(method, url, access_token, SystemClock.now())
    }

    /// [`DpopKey::proof`] as of `now` (its `iat`).
    ///
    /// # Errors
    /// [`Error::Config`] when signing or the random source fails.
    pub fn proof_at(
        &self,
        method: &str,
        url: &url::Url,
        access_token: Option<&str>,
        now: SystemTime,
    ) -> Result<String, Error> {
        let jti = self.random_id()?;
        let iat = unix(now);
        let mut claims = json!({"jti": jti, "htm": method, "htu": htu(url), "iat": iat});
        if let Some(token) = access_token {
            claims["ath"] = json!(sha256_b64(token));
        }
        if let Some(nonce) = self.nonce() {
            claims["nonce"] = json!(nonce);
        }
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.inner.jwk});
        self.sign(&header, &claims)
    }

    /// 128 random bits, base64url: a `jti`.
    pub(crate) fn random_id(&self) -> Result<String, Error> {
        let mut id = [0u8; 16];
        self.inner
            .rng
            .fill(&mut id)
            .map_err(|_| Error::Config("the random source failed".into()))?;
        Ok(b64(&id))
    }

    /// The public JWK, with `kid` when given.
    pub(crate) fn public_jwk(&self, kid: Option<&str>) -> Value {
        let mut jwk = self.inner.jwk.clone();
        if let Some(kid) = kid {
            jwk["kid"] = json!(kid);
        }
        jwk
    }

    /// A compact JWS (ES256) of `claims` under `header`.
    pub(crate) fn sign(&self, header: &Value, claims: &Value) -> Result<String, Error> {
        let failed = || Error::Config("could not sign a JWT".into());
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = self
            .inner
            .pair
            .sign(&self.inner.rng, input.as_bytes())
            .map_err(|_| failed())?;
        Ok(format!("{input}.{}", b64(signature.as_ref())))
    }

    fn nonce(&self) -> Option<String> {
        self.inner
            .nonce
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keeps the nonce of a response's `DPoP-Nonce` header for the next proofs. Returns
    /// whether it changed.
    pub(crate) fn remember_nonce(&self, headers: &reqwest::header::HeaderMap) -> bool {
        let Some(nonce) = headers
            .get(NONCE_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|n| !n.is_empty())
        else {
            return false;
        };
        let mut kept = self
            .inner
            .nonce
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let changed = kept.as_deref() != Some(nonce);
        *kept = Some(nonce.to_owned());
        changed
    }
}

/// What a resource server checks a proof against (RFC 9449 §4.3, §7.1).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    pub(crate) method: &'a str,
    pub(crate) uri: &'a str,
    pub(crate) access_token: &'a str,
    pub(crate) jkt: &'a str,
    pub(crate) now: i64,
}

/// How far a proof's `iat` may be from the resource server's clock.
pub(crate) const MAX_AGE: i64 = 60;
/// How far ahead of the clock a proof's `iat` may be.
pub(crate) const MAX_SKEW: i64 = 5;

/// The `jti`s a resource server has seen, until their proofs could no longer pass.
#[derive(Debug, Default)]
pub(crate) struct SeenProofs {
    seen: Mutex<HashMap<String, i64>>,
}

impl SeenProofs {
    /// The most kept: beyond it, lapsed entries are dropped, and a flood of live ones is
    /// refused rather than grown without bound.
    const MAX: usize = 100_000;

    /// Records `key`, until `until`; `false` when it was seen already (or the cache is full).
    fn spend(&self, key: String, until: i64, now: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= Self::MAX {
            seen.retain(|_, until| *until >= now);
        }
        if seen.len() >= Self::MAX || seen.get(&key).is_some_and(|u| *u >= now) {
            return false;
        }
        seen.insert(key, until);
        true
    }
}

fn normalise(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| htu(&url))
}

/// Checks `proof` against `expected`; `Err` with the reason it was refused.
pub(crate) fn check(
    proof: &str,
    expected: &Expected<'_>,
    seen: &SeenProofs,
) -> Result<(), &'static str> {
    use crate::verifier::Algorithm;
    if proof.len() > 8 * 1024 {
        return Err("the DPoP proof is too long");
    }
    let mut parts = proof.split('.');
    let (Some(head), Some(body), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the DPoP proof is not a compact JWS");
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
    let header: Value = decode(head)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the DPoP proof's header is not JSON")?;
    let claims: Value = decode(body)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the DPoP proof's claims are not JSON")?;
    let signature = decode(sig).ok_or("the DPoP proof's signature is not base64url")?;
    if header["typ"] != "dpop+jwt" {
        return Err("the DPoP proof's typ is not dpop+jwt");
    }
    if header.get("crit").is_some() {
        return Err("the DPoP proof has critical header parameters");
    }
    // `Ed25519` is RFC 9864's fully-specified name for EdDSA with Ed25519.
    let alg = match header["alg"].as_str() {
        Some("Ed25519") => Some(Algorithm::EdDsa),
        other => other.and_then(Algorithm::from_name),
    }
    .filter(|a| *a != Algorithm::Rs256)
    .ok_or("the DPoP proof's alg is not ES256, PS256 or EdDSA")?;
    let jwk = header.get("jwk").ok_or("the DPoP proof has no jwk")?;
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|private| jwk.get(private).is_some())
    {
        return Err("the DPoP proof's jwk contains a private key");
    }
    let member = |name: &str| jwk[name].as_str().map(str::to_owned);
    let parsed = portcullis_proto::jwks::Jwk {
        kty: member("kty").unwrap_or_default(),
        kid: String::new(),
        use_: String::new(),
        alg: alg.as_str().to_owned(),
        crv: member("crv"),
        x: member("x"),
        y: member("y"),
        n: member("n"),
        e: member("e"),
    };
    let key = crate::verifier::jwks::PublicKey::from_jwk(&parsed)
        .ok_or("the DPoP proof's jwk is not a usable public key for its alg")?;
    if !key.verify(format!("{head}.{body}").as_bytes(), &signature) {
        return Err("the DPoP proof's signature does not verify");
    }
    if thumbprint(&parsed).as_deref() != Some(expected.jkt) {
        return Err("the DPoP proof is not signed with the key the token is bound to");
    }
    if claims["htm"] != expected.method {
        return Err("the DPoP proof's htm is not this request's method");
    }
    let htu_matches = claims["htu"]
        .as_str()
        .and_then(normalise)
        .is_some_and(|htu| Some(htu) == normalise(expected.uri));
    if !htu_matches {
        return Err("the DPoP proof's htu is not this request's URI");
    }
    let iat = claims["iat"]
        .as_i64()
        .ok_or("the DPoP proof has no numeric iat")?;
    if iat > expected.now.saturating_add(MAX_SKEW) || iat < expected.now.saturating_sub(MAX_AGE) {
        return Err("the DPoP proof's iat is too far from the resource server's time");
    }
    if claims["ath"].as_str() != Some(sha256_b64(expected.access_token).as_str()) {
        return Err("the DPoP proof's ath is not the access token's hash");
    }
    let jti = claims["jti"]
        .as_str()
        .filter(|j| !j.is_empty() && j.len() <= 128)
        .ok_or("the DPoP proof has no valid jti")?;
    if !seen.spend(
        format!("{}:{jti}", expected.jkt),
        iat.saturating_add(MAX_AGE + 1),
        expected.now,
    ) {
        return Err("the DPoP proof's jti was already used");
    }
    Ok(())
}

/// The RFC 7638 thumbprint of a public JWK.
fn thumbprint(jwk: &portcullis_proto::jwks::Jwk) -> Option<String> {
    let canonical = match jwk.kty.as_str() {
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk.crv.as_deref()?,
            jwk.x.as_deref()?,
            jwk.y.as_deref()?
        ),
        "OKP" => format!(
            r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
            jwk.crv.as_deref()?,
            jwk.x.as_deref()?
        ),
        "RSA" => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            jwk.e.as_deref()?,
            jwk.n.as_deref()?
        ),
        _ => return None,
    };
    Some(sha256_b64(&canonical))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn expected<'a>(key: &'a DpopKey, token: &'a str, now: i64) -> Expected<'a> {
        Expected {
            method: "GET",
            uri: "https://api.example/v1/things",
            access_token: token,
            jkt: key.thumbprint(),
            now,
        }
    }

    fn now() -> i64 {
        unix(SystemClock.now())
    }

    #[test]
    fn a_proof_of_the_key_passes_once_and_every_mismatch_is_refused() {
        let key = DpopKey::generate().unwrap();
        let url = url::Url::parse("https://api.example/v1/things?page=2").unwrap();
        let seen = SeenProofs::default();
        let proof = key.proof("GET", &url, Some("tok")).unwrap();
        check(&proof, &expected(&key, "tok", now()), &seen).unwrap();
        assert_eq!(
            check(&proof, &expected(&key, "tok", now()), &seen),
            Err("the DPoP proof's jti was already used")
        );
        let fresh = || key.proof("GET", &url, Some("tok")).unwrap();
        let other = DpopKey::generate().unwrap();
        let cases = [
            (
                Expected {
                    method: "POST",
                    ..expected(&key, "tok", now())
                },
                "htm",
            ),
            (
                Expected {
                    uri: "https://api.example/v1/other",
                    ..expected(&key, "tok", now())
                },
                "htu",
            ),
            (expected(&key, "another token", now()), "ath"),
            (expected(&other, "tok", now()), "bound"),
            (expected(&key, "tok", now() + MAX_AGE + 1), "iat"),
            (expected(&key, "tok", now() - MAX_SKEW - 2), "iat"),
        ];
        for (expected, word) in cases {
            let why = check(&fresh(), &expected, &seen).unwrap_err();
            assert!(why.contains(word), "{word}: {why}");
        }
        assert!(check("a.b", &expected(&key, "tok", now()), &seen).is_err());
    }

    #[test]
    fn the_thumbprint_survives_a_round_trip_through_pkcs8_and_the_nonce_is_kept() {
        let key = DpopKey::generate().unwrap();
        let again = DpopKey::from_pkcs8(&key.to_pkcs8().unwrap()).unwrap();
        assert_eq!(key.thumbprint(), again.thumbprint());
        assert_eq!(key.thumbprint().len(), 43);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(NONCE_HEADER, "n-1".parse().unwrap());
        assert!(key.remember_nonce(&headers));
        assert!(!key.remember_nonce(&headers));
        let url = url::Url::parse("https://as.example/oauth/token").unwrap();
        let proof = key.proof("POST", &url, None).unwrap();
        let claims: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(proof.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["nonce"], "n-1");
        assert_eq!(claims["htu"], "https://as.example/oauth/token");
        assert!(claims.get("ath").is_none());
    }
}
