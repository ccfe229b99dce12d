//! The JWK Set (RFC 7517 §5) of an authorization server, fetched, parsed once per key, and
//! cached.
//!
//! Keys are parsed into aws-lc-rs `ParsedPublicKey`s when they are first seen and kept per
//! `kid` across refetches, so verifying a token costs one signature check and no key parsing.
//! An unknown `kid` triggers a refetch (the server rotated its keys), but at most one per
//! `min_refetch_interval`, so that tokens with made-up `kid`s cannot make the verifier hammer
//! the server; concurrent refetches are merged into one.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_proto::jwks::{Jwk, JwkSet};
use tokio::time::Instant;

use super::{Algorithm, VerifyError};
use crate::http;

/// One public key, parsed, with the algorithm it is for.
pub(crate) struct PublicKey {
    pub(crate) alg: Algorithm,
    key: ParsedPublicKey,
    jwk: Jwk,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.jwk.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn b64(value: Option<&String>) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value?).ok()
}

impl PublicKey {
    /// Parses a JWK. The algorithm is the JWK's `alg`, which must agree with its key type;
    /// symmetric (`oct`) keys and unknown algorithms are refused, so `none` and HMAC can never
    /// be selected.
    pub(crate) fn from_jwk(jwk: &Jwk) -> Option<Self> {
        if !jwk.use_.is_empty() && jwk.use_ != "sig" {
            return None;
        }
        let alg = Algorithm::from_name(&jwk.alg)?;
        let key = match (alg, jwk.kty.as_str(), jwk.crv.as_deref()) {
            (Algorithm::Es256, "EC", Some("P-256")) => {
                let (x, y) = (b64(jwk.x.as_ref())?, b64(jwk.y.as_ref())?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point).ok()?
            }
            (Algorithm::EdDsa, "OKP", Some("Ed25519")) => {
                let x = b64(jwk.x.as_ref())?;
                ParsedPublicKey::new(&signature::ED25519, x).ok()?
            }
            (Algorithm::Rs256 | Algorithm::Ps256, "RSA", _) => {
                let (n, e) = (b64(jwk.n.as_ref())?, b64(jwk.e.as_ref())?);
                let params = if alg == Algorithm::Rs256 {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                } else {
                    &signature::RSA_PSS_2048_8192_SHA256
                };
                RsaPublicKeyComponents { n: &n, e: &e }
                    .to_parsed_public_key(params)
                    .ok()?
            }
            _ => return None,
        };
        Some(Self {
            alg,
            key,
            jwk: jwk.clone(),
        })
    }

    /// Whether `signature` is a valid signature of `message` by this key.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

/// The cached keys and when they were last fetched.
#[derive(Default)]
struct KeySet {
    keys: HashMap<String, Arc<PublicKey>>,
    fetched_at: Option<Instant>,
    attempted_at: Option<Instant>,
    generation: u64,
}

impl KeySet {
    fn may_fetch(&self, now: Instant, interval: Duration) -> bool {
        self.attempted_at
            .is_none_or(|t| now.saturating_duration_since(t) >= interval)
    }
}

/// Where the keys come from.
#[derive(Debug)]
enum Source {
    /// Fetched from the server.
    Remote { http: reqwest::Client, uri: String },
    /// Given once; never fetched.
    Static,
}

/// The cache.
pub(crate) struct Jwks {
    source: Source,
    state: RwLock<Arc<KeySet>>,
    gate: tokio::sync::Mutex<()>,
    min_refetch_interval: Duration,
    max_age: Duration,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<String> = self.snapshot().keys.keys().cloned().collect();
        f.debug_struct("Jwks")
            .field("source", &self.source)
            .field("kids", &kids)
            .field("min_refetch_interval", &self.min_refetch_interval)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

/// Parses every usable key of `set`, reusing those of `previous` whose JWK is unchanged.
fn parse_set(set: &JwkSet, previous: &KeySet) -> HashMap<String, Arc<PublicKey>> {
    let mut keys = HashMap::with_capacity(set.keys.len());
    for jwk in &set.keys {
        if let Some(old) = previous.keys.get(&jwk.kid).filter(|k| k.jwk == *jwk) {
            keys.insert(jwk.kid.clone(), Arc::clone(old));
        } else if let Some(key) = PublicKey::from_jwk(jwk) {
            keys.insert(jwk.kid.clone(), Arc::new(key));
        } else {
            tracing::debug!(kid = %jwk.kid, alg = %jwk.alg, "skipping a JWK this verifier cannot use");
        }
    }
    keys
}

impl Jwks {
    /// A cache that fetches from `uri`.
    pub(crate) fn remote(
        http: reqwest::Client,
        uri: String,
        min_refetch_interval: Duration,
        max_age: Duration,
    ) -> Self {
        Self {
            source: Source::Remote { http, uri },
            state: RwLock::new(Arc::new(KeySet::default())),
            gate: tokio::sync::Mutex::new(()),
            min_refetch_interval,
            max_age,
        }
    }

    /// A cache of fixed keys.
    pub(crate) fn fixed(set: &JwkSet) -> Self {
        let keys = parse_set(set, &KeySet::default());
        Self {
            source: Source::Static,
            state: RwLock::new(Arc::new(KeySet {
                keys,
                ..KeySet::default()
            })),
            gate: tokio::sync::Mutex::new(()),
            min_refetch_interval: Duration::MAX,
            max_age: Duration::MAX,
        }
    }

    fn snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.state.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn store(&self, set: KeySet) {
        *self.state.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
    }

    /// Fetches now, whatever the rate limit (used once at start).
    pub(crate) async fn prefetch(&self) -> Result<(), VerifyError> {
        let generation = self.snapshot().generation;
        self.refetch(generation, true).await
    }

    /// The key `kid`, fetching the set when `kid` is unknown or the cache is old (within the
    /// rate limit).
    pub(crate) async fn key(&self, kid: &str) -> Result<Arc<PublicKey>, VerifyError> {
        let now = Instant::now();
        let set = self.snapshot();
        let stale = set
            .fetched_at
            .is_some_and(|t| now.saturating_duration_since(t) >= self.max_age);
        let may_fetch = matches!(self.source, Source::Remote { .. })
            && set.may_fetch(now, self.min_refetch_interval);
        match set.keys.get(kid) {
            Some(key) if !stale || !may_fetch => Ok(Arc::clone(key)),
            Some(key) => {
                // An old cache is refreshed in passing; if the server cannot be reached, the
                // keys it last published still stand.
                if let Err(error) = self.refetch(set.generation, false).await {
                    tracing::warn!(%error, "could not refresh the JWKS; using the cached keys");
                    return Ok(Arc::clone(key));
                }
                self.lookup(kid)
            }
            None if may_fetch => {
                self.refetch(set.generation, false).await?;
                self.lookup(kid)
            }
            None => Err(VerifyError::UnknownKey(kid.to_owned())),
        }
    }

    fn lookup(&self, kid: &str) -> Result<Arc<PublicKey>, VerifyError> {
        self.snapshot()
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| VerifyError::UnknownKey(kid.to_owned()))
    }

    /// Fetches the set unless another task did since `seen` (single flight) or the rate limit
    /// forbids it.
    async fn refetch(&self, seen: u64, force: bool) -> Result<(), VerifyError> {
        let Source::Remote { http, uri } = &self.source else {
            return Ok(());
        };
        let _gate = self.gate.lock().await;
        let current = self.snapshot();
        if current.generation != seen {
            return Ok(());
        }
        let now = Instant::now();
        if !force && !current.may_fetch(now, self.min_refetch_interval) {
            return Ok(());
        }
        let fetched = fetch(http, uri).await;
        let mut next = KeySet {
            keys: current.keys.clone(),
            fetched_at: current.fetched_at,
            attempted_at: Some(now),
            generation: current.generation.wrapping_add(1),
        };
        let result = match fetched {
            Ok(set) => {
                next.keys = parse_set(&set, &current);
                next.fetched_at = Some(now);
                Ok(())
            }
            Err(reason) => Err(VerifyError::KeysUnavailable(reason)),
        };
        self.store(next);
        result
    }
}

/// Reads the JWKS at `uri`. Keys that do not parse as JWKs are skipped, not fatal: a server
/// may publish key types this verifier does not know.
async fn fetch(http: &reqwest::Client, uri: &str) -> Result<JwkSet, String> {
    let response = http
        .get(uri)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("GET {uri}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("GET {uri}: status {status}"));
    }
    let bytes = http::body(uri, response).await.map_err(|e| e.to_string())?;
    #[derive(serde::Deserialize)]
    struct Loose {
        keys: Vec<serde_json::Value>,
    }
    let loose: Loose =
        serde_json::from_slice(&bytes).map_err(|e| format!("GET {uri}: not a JWK Set: {e}"))?;
    Ok(JwkSet {
        keys: loose
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value(k).ok())
            .collect(),
    })
}
